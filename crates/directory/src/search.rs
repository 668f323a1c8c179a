//! Search (simple and advanced), paged with a keyset cursor.
//!
//! Results come directory by directory in priority order, and within a
//! directory in the generation's sort order (last name, first name). The
//! cursor names the last result (directory, sort key, id), so a page costs
//! the same at any depth and stays coherent when a synchronisation swaps
//! the generation between pages.
//!
//! Simple search scans one folded text per directory (names, company, the
//! digits of visible numbers as typed and in canonical form) with a SIMD
//! substring search: *prefix* looks for the query at the start of a word,
//! *contains* anywhere. A contact merged with a contact of an earlier
//! directory that also matches is returned once, at its first match.

use std::cmp::Ordering;

use memchr::memmem::Finder;

use crate::contact::Contact;
use crate::engine::{Allowed, DirectoryEngine, View};
use crate::fold::{fold, fold_words_into};
use crate::index::{Generation, prefix_key, sort_key};
use crate::model::{ContactField, DirectoryId};
use crate::profile::Profile;

/// Largest page.
pub const MAX_LIMIT: usize = 500;

/// Where a page ends; give it back to get the next page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Directory of the last result.
    pub directory: DirectoryId,
    /// Its sort key.
    pub key: String,
    /// Its source id.
    pub id: String,
}

/// One page of results.
#[derive(Clone, Debug)]
pub struct SearchPage {
    /// The profiles found.
    pub hits: Vec<Profile>,
    /// The cursor of the next page, when the page is full.
    pub next: Option<Cursor>,
}

/// Simple search mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextMatch {
    /// A word begins with the query.
    Prefix,
    /// The query appears anywhere.
    Contains,
}

/// A simple search.
#[derive(Clone, Copy, Debug)]
pub struct SimpleQuery<'a> {
    /// The text typed (names, company or a number).
    pub text: &'a str,
    /// Prefix or contains.
    pub mode: TextMatch,
    /// Page size (at most [`MAX_LIMIT`]).
    pub limit: usize,
    /// Continue after this cursor.
    pub after: Option<&'a Cursor>,
}

/// Advanced search condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The field begins with the value.
    Begins,
    /// The field contains the value.
    Contains,
    /// The field differs from the value (an empty field differs).
    Different,
    /// The field equals the value.
    Equals,
    /// The field ends with the value.
    Ends,
}

/// An advanced search: one directory, one field, one condition.
#[derive(Clone, Copy, Debug)]
pub struct AdvancedQuery<'a> {
    /// The directory.
    pub directory: DirectoryId,
    /// The field.
    pub field: ContactField,
    /// The condition.
    pub condition: Condition,
    /// The value compared (case- and accent-insensitive; digits only for
    /// phone fields).
    pub value: &'a str,
    /// Page size (at most [`MAX_LIMIT`]).
    pub limit: usize,
    /// Continue after this cursor.
    pub after: Option<&'a Cursor>,
}

/// The folded needle of a simple query: digits only when it looks like a
/// number, folded words otherwise.
fn needle(text: &str, mode: TextMatch) -> Option<Vec<u8>> {
    let looks_numeric = text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-/()".contains(c));
    let mut out = String::from(if mode == TextMatch::Prefix { " " } else { "" });
    if looks_numeric {
        out.extend(text.chars().filter(char::is_ascii_digit));
    } else {
        let mut words = String::new();
        fold_words_into(text, &mut words);
        out.push_str(&words.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    (out.trim() != "").then(|| out.into_bytes())
}

/// First contact position after the cursor in a generation.
fn resume(generation: &Generation, cursor: &Cursor) -> usize {
    generation
        .contacts()
        .partition_point(|c| match sort_key(c).cmp(&cursor.key) {
            Ordering::Less => true,
            Ordering::Equal => c.id() <= cursor.id.as_str(),
            Ordering::Greater => false,
        })
}

fn cursor_of(directory: DirectoryId, c: &Contact) -> Cursor {
    Cursor {
        directory,
        key: sort_key(c),
        id: c.id().to_owned(),
    }
}

/// Where to start in `views`: (view position, contact position).
fn start(views: &[View], after: Option<&Cursor>) -> Option<(usize, usize)> {
    match after {
        None => Some((0, 0)),
        Some(c) => {
            let at = views.iter().position(|(d, _)| d.id == c.directory)?;
            Some((at, resume(&views[at].1, c)))
        }
    }
}

impl DirectoryEngine {
    /// Simple search over names, company and numbers of the allowed directories.
    pub fn search(&self, query: SimpleQuery<'_>, allowed: Allowed<'_>) -> SearchPage {
        let limit = query.limit.clamp(1, MAX_LIMIT);
        let mut page = SearchPage {
            hits: Vec::new(),
            next: None,
        };
        let Some(needle) = needle(query.text, query.mode) else {
            return page;
        };
        let views = self.views(allowed);
        let Some((first_view, mut from)) = start(&views, query.after) else {
            return page;
        };
        let finder = Finder::new(&needle);
        // A prefix query whose first word has 3 bytes or more reads the
        // word-prefix index; anything else scans the text.
        let key = match query.mode {
            TextMatch::Prefix => needle
                .get(1..)
                .and_then(|n| n.split(|b| *b == b' ').next())
                .and_then(prefix_key),
            TextMatch::Contains => None,
        };
        for at in first_view..views.len() {
            let (dir, generation) = &views[at];
            let mut candidates = Candidates::new(generation, &finder, key, from);
            while let Some(index) = candidates.next() {
                let profile = Profile::build(&views, at, index as u32);
                let earlier = profile
                    .positions(&views)
                    .any(|(p, i)| p < at && contact_matches(&views[p].1, i, &finder));
                if earlier {
                    continue;
                }
                page.hits.push(profile);
                if page.hits.len() == limit {
                    if let Some(c) = generation.contact(index as u32) {
                        page.next = Some(cursor_of(dir.id, c));
                    }
                    return page;
                }
            }
            from = 0;
        }
        page
    }

    /// Advanced search: one directory, one field, one condition.
    pub fn search_advanced(&self, query: AdvancedQuery<'_>, allowed: Allowed<'_>) -> SearchPage {
        let limit = query.limit.clamp(1, MAX_LIMIT);
        let mut page = SearchPage {
            hits: Vec::new(),
            next: None,
        };
        let views = self.views(allowed);
        let Some(at) = views.iter().position(|(d, _)| d.id == query.directory) else {
            return page;
        };
        let generation = &views[at].1;
        let from = match query.after {
            Some(c) if c.directory == query.directory => resume(generation, c),
            Some(_) => return page,
            None => 0,
        };
        let phone = query.field.is_phone();
        let normalise = |s: &str| {
            if phone {
                s.chars().filter(char::is_ascii_digit).collect()
            } else {
                fold(s)
            }
        };
        let value = normalise(query.value);
        for (i, c) in generation.contacts().iter().enumerate().skip(from) {
            let field = c
                .get(query.field)
                .filter(|_| !c.is_red_listed(query.field))
                .map(normalise)
                .unwrap_or_default();
            let ok = match query.condition {
                Condition::Begins => !field.is_empty() && field.starts_with(&value),
                Condition::Contains => !field.is_empty() && field.contains(&value),
                Condition::Ends => !field.is_empty() && field.ends_with(&value),
                Condition::Equals => field == value,
                Condition::Different => field != value,
            };
            if !ok {
                continue;
            }
            page.hits.push(Profile::build(&views, at, i as u32));
            if page.hits.len() == limit {
                page.next = Some(cursor_of(query.directory, c));
                break;
            }
        }
        page
    }
}

/// The contacts of one generation matching a simple query, from a position.
struct Candidates<'a> {
    generation: &'a Generation,
    finder: &'a Finder<'a>,
    /// With the prefix index: the postings left.
    postings: Option<&'a [u32]>,
    /// Without: the text offset to scan from.
    offset: usize,
}

impl<'a> Candidates<'a> {
    fn new(
        generation: &'a Generation,
        finder: &'a Finder<'a>,
        key: Option<u32>,
        from: usize,
    ) -> Self {
        let (text, starts) = generation.text();
        let postings = key.map(|k| {
            let list = generation.prefix_postings(k);
            &list[list.partition_point(|i| (*i as usize) < from)..]
        });
        Self {
            generation,
            finder,
            postings,
            offset: starts.get(from).map_or(text.len(), |s| *s as usize),
        }
    }

    fn next(&mut self) -> Option<usize> {
        if let Some(list) = &mut self.postings {
            while let Some((&index, rest)) = list.split_first() {
                *list = rest;
                if contact_matches(self.generation, index, self.finder) {
                    return Some(index as usize);
                }
            }
            return None;
        }
        let (text, starts) = self.generation.text();
        let found = self.finder.find(text.get(self.offset..)?)?;
        let pos = self.offset + found;
        // The contact whose text holds `pos`; continue after it.
        let index = starts.partition_point(|s| (*s as usize) <= pos) - 1;
        self.offset = starts.get(index + 1).map_or(text.len(), |s| *s as usize);
        Some(index)
    }
}

/// Whether contact `index` of `generation` matches the simple query.
fn contact_matches(generation: &Generation, index: u32, finder: &Finder<'_>) -> bool {
    let (text, starts) = generation.text();
    let (Some(&a), Some(&b)) = (starts.get(index as usize), starts.get(index as usize + 1)) else {
        return false;
    };
    text.get(a as usize..b as usize)
        .is_some_and(|t| finder.find(t).is_some())
}
