//! Values set by the administrator, and their resolution for one user.
//!
//! Precedence: user, then group, then domain, then the default (the
//! administrator's if set, else the catalogue's).
//!
//! **A user in several groups.** Groups have an optional *rank* set by the
//! administrator (1 first). Among the user's groups that set the parameter,
//! the best-ranked wins; unranked groups come after ranked ones, in
//! ascending group id (oldest first). We chose an explicit order over
//! "lowest id" alone because the administrator can see and change it, and
//! over refusing conflicts because a login must always resolve. The result
//! names the winning group and the groups it shadowed, so the console can
//! show the conflict.

use std::collections::HashMap;

use thiserror::Error;

use super::catalogue::{CATALOGUE, ParamApp, ParamDef};
use super::value::{Value, ValueError, parse_value};
use crate::fxhash::FxHashMap;
use twp_domain::{DomainId, GroupId, UserId};

/// Where a value is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Default,
    Domain(DomainId),
    Group(GroupId),
    User(UserId),
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The catalogue's default (nothing set).
    Catalogue,
    /// The default set by the administrator.
    Default,
    Domain(DomainId),
    /// A group; `shadowed` lists the user's other groups that also set it.
    Group {
        group: GroupId,
        shadowed: Vec<GroupId>,
    },
    User(UserId),
}

/// A resolved parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    pub def: &'static ParamDef,
    pub value: &'a Value,
    pub source: Source,
}

/// The user a value is resolved for.
#[derive(Debug, Clone, Copy)]
pub struct UserScope<'a> {
    pub user: UserId,
    pub domain: DomainId,
    pub groups: &'a [GroupId],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    #[error("unknown parameter {0:?}")]
    UnknownKey(String),
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// The catalogue with parsed defaults, and the values set.
#[derive(Debug, Clone)]
pub struct ParamStore {
    defaults: Vec<Value>,
    by_key: HashMap<String, usize>,
    values: FxHashMap<(u16, Level), Value>,
    ranks: FxHashMap<GroupId, u32>,
}

impl ParamStore {
    /// Parses the catalogue's defaults; an error means the catalogue itself
    /// is wrong (a test checks it never is).
    pub fn new() -> Result<ParamStore, ValueError> {
        let mut defaults = Vec::with_capacity(CATALOGUE.len());
        let mut by_key = HashMap::new();
        for (i, def) in CATALOGUE.iter().enumerate() {
            defaults.push(parse_value(def.key, def.ty, def.default)?);
            by_key.insert(def.key.to_ascii_lowercase(), i);
            if let Some(alias) = def.alias {
                by_key.insert(alias.to_ascii_lowercase(), i);
            }
        }
        Ok(ParamStore {
            defaults,
            by_key,
            values: FxHashMap::default(),
            ranks: FxHashMap::default(),
        })
    }

    /// Finds a parameter by key or guide spelling, any case.
    pub fn def(&self, key: &str) -> Result<&'static ParamDef, ParamError> {
        self.index(key).map(|i| &CATALOGUE[i])
    }

    fn index(&self, key: &str) -> Result<usize, ParamError> {
        self.by_key
            .get(&key.to_ascii_lowercase())
            .copied()
            .ok_or_else(|| ParamError::UnknownKey(key.to_owned()))
    }

    /// Validates and sets a value; returns the canonical value stored.
    pub fn set(&mut self, key: &str, level: Level, input: &str) -> Result<&Value, ParamError> {
        let i = self.index(key)?;
        let def = &CATALOGUE[i];
        let value = parse_value(def.key, def.ty, input)?;
        let slot = self
            .values
            .entry((slot_index(i), level))
            .or_insert(value.clone());
        *slot = value;
        Ok(slot)
    }

    /// Removes a value; returns whether one was set.
    pub fn unset(&mut self, key: &str, level: Level) -> Result<bool, ParamError> {
        let i = self.index(key)?;
        Ok(self.values.remove(&(slot_index(i), level)).is_some())
    }

    /// Sets (or clears) a group's rank for the multi-group rule.
    pub fn set_group_rank(&mut self, group: GroupId, rank: Option<u32>) {
        match rank {
            Some(r) => self.ranks.insert(group, r),
            None => self.ranks.remove(&group),
        };
    }

    /// Resolves one parameter for a user.
    pub fn resolve(&self, key: &str, scope: &UserScope<'_>) -> Result<Resolved<'_>, ParamError> {
        let i = self.index(key)?;
        Ok(self.resolve_index(i, scope))
    }

    /// Resolves every parameter of an application for a user (Expert ones
    /// included: the applications need them all).
    pub fn resolve_all(&self, app: ParamApp, scope: &UserScope<'_>) -> Vec<Resolved<'_>> {
        CATALOGUE
            .iter()
            .enumerate()
            .filter(|(_, d)| d.app == app)
            .map(|(i, _)| self.resolve_index(i, scope))
            .collect()
    }

    fn resolve_index(&self, i: usize, scope: &UserScope<'_>) -> Resolved<'_> {
        let def = &CATALOGUE[i];
        let k = slot_index(i);
        let get = |level| self.values.get(&(k, level));
        if let Some(value) = get(Level::User(scope.user)) {
            return Resolved {
                def,
                value,
                source: Source::User(scope.user),
            };
        }
        let mut best: Option<(GroupId, &Value)> = None;
        let mut setters = Vec::new();
        for &g in scope.groups {
            if let Some(value) = get(Level::Group(g)) {
                setters.push(g);
                if best.is_none_or(|(b, _)| self.group_order(g) < self.group_order(b)) {
                    best = Some((g, value));
                }
            }
        }
        if let Some((group, value)) = best {
            setters.retain(|g| *g != group);
            setters.sort();
            return Resolved {
                def,
                value,
                source: Source::Group {
                    group,
                    shadowed: setters,
                },
            };
        }
        if let Some(value) = get(Level::Domain(scope.domain)) {
            return Resolved {
                def,
                value,
                source: Source::Domain(scope.domain),
            };
        }
        if let Some(value) = get(Level::Default) {
            return Resolved {
                def,
                value,
                source: Source::Default,
            };
        }
        Resolved {
            def,
            value: &self.defaults[i],
            source: Source::Catalogue,
        }
    }

    /// Ranked groups first (by rank), then unranked, each by ascending id.
    fn group_order(&self, g: GroupId) -> (u32, GroupId) {
        (self.ranks.get(&g).copied().unwrap_or(u32::MAX), g)
    }

    /// The console's search: parameters whose key (or guide spelling)
    /// contains `text`, any case, optionally limited to one application;
    /// Expert parameters only when `expert` is set.
    pub fn search(
        &self,
        app: Option<ParamApp>,
        text: &str,
        expert: bool,
    ) -> Vec<&'static ParamDef> {
        let needle = text.to_ascii_lowercase();
        CATALOGUE
            .iter()
            .filter(|d| app.is_none_or(|a| d.app == a))
            .filter(|d| expert || !d.expert)
            .filter(|d| {
                d.key.to_ascii_lowercase().contains(&needle)
                    || d.alias
                        .is_some_and(|a| a.to_ascii_lowercase().contains(&needle))
            })
            .collect()
    }
}

fn slot_index(i: usize) -> u16 {
    // The catalogue has well under 65,536 entries.
    u16::try_from(i).unwrap_or(u16::MAX)
}
