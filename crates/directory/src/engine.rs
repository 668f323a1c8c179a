//! The directory engine of one domain: its directories, their current
//! generations, and the synchronisation slots. Queries (look-up, search)
//! take a snapshot of `Arc`s, so they never wait for a synchronisation and
//! see either the old or the new generation of a directory, whole.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use thiserror::Error;
use twp_dialplan::CompiledPlan;
use twp_domain::DomainId;

use crate::directory::Directory;
use crate::index::Generation;
use crate::model::DirectoryId;
use crate::persist::{PersistError, Persistence};
use crate::sync::SyncProgress;

/// The directories a query may read (the caller's authorizations).
#[derive(Clone, Copy, Debug)]
pub enum Allowed<'a> {
    /// Every enabled directory of the domain.
    All,
    /// Only these.
    Only(&'a [DirectoryId]),
}

impl Allowed<'_> {
    /// Whether `id` may be read.
    pub fn contains(&self, id: DirectoryId) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.contains(&id),
        }
    }
}

/// An engine-level refusal.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The directory belongs to another domain.
    #[error(
        "directory {directory} belongs to domain {found}, not to this engine's domain {expected}"
    )]
    WrongDomain {
        /// The directory.
        directory: DirectoryId,
        /// Its domain.
        found: DomainId,
        /// The engine's domain.
        expected: DomainId,
    },
    /// Unknown directory.
    #[error("unknown directory {0}")]
    UnknownDirectory(DirectoryId),
    /// Loading the persisted contacts failed.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

pub(crate) struct Running {
    pub progress: Arc<SyncProgress>,
    pub cancel: Arc<AtomicBool>,
}

pub(crate) struct Slot {
    pub directory: RwLock<Arc<Directory>>,
    pub current: RwLock<Arc<Generation>>,
    pub running: Mutex<Option<Running>>,
}

impl Slot {
    pub fn directory(&self) -> Arc<Directory> {
        match self.directory.read() {
            Ok(d) => Arc::clone(&d),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    pub fn generation(&self) -> Arc<Generation> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    pub fn swap(&self, generation: Arc<Generation>) {
        match self.current.write() {
            Ok(mut g) => *g = generation,
            Err(p) => *p.into_inner() = generation,
        }
    }
}

/// A directory and its generation, as seen by one query.
pub(crate) type View = (Arc<Directory>, Arc<Generation>);

/// The directory engine of one domain.
pub struct DirectoryEngine {
    domain: DomainId,
    plan: Arc<CompiledPlan>,
    persistence: Arc<dyn Persistence>,
    /// Slots in priority order (lowest number first, then id).
    slots: RwLock<Arc<Vec<Arc<Slot>>>>,
    /// Serialises changes of the directory list.
    changes: Mutex<()>,
}

impl DirectoryEngine {
    /// An engine for `domain`, whose dialing plan makes numbers canonical.
    pub fn new(domain: DomainId, plan: CompiledPlan, persistence: Arc<dyn Persistence>) -> Self {
        Self {
            domain,
            plan: Arc::new(plan),
            persistence,
            slots: RwLock::new(Arc::new(Vec::new())),
            changes: Mutex::new(()),
        }
    }

    /// The dialing plan.
    pub fn plan(&self) -> &CompiledPlan {
        &self.plan
    }

    /// Adds a directory, or replaces the settings of a known one (its
    /// contacts stay until the next synchronisation). A new directory's
    /// persisted contacts are loaded and indexed; returns the time it took.
    pub fn upsert_directory(&self, directory: Directory) -> Result<Duration, EngineError> {
        if directory.domain != self.domain {
            return Err(EngineError::WrongDomain {
                directory: directory.id,
                found: directory.domain,
                expected: self.domain,
            });
        }
        let started = Instant::now();
        let _changing = self.changes.lock();
        if let Some(slot) = self.slot(directory.id) {
            match slot.directory.write() {
                Ok(mut d) => *d = Arc::new(directory),
                Err(p) => *p.into_inner() = Arc::new(directory),
            }
        } else {
            let contacts = self.persistence.load(directory.id)?;
            // Derived keys that do not fit (other plan, other contacts,
            // unreadable) are ignored: the generation is rebuilt.
            let generation = match self.persistence.load_derived(directory.id)? {
                Some(bytes) => Generation::restore(contacts, &bytes, &self.plan).0,
                None => Generation::build(contacts, &self.plan),
            };
            let slot = Arc::new(Slot {
                directory: RwLock::new(Arc::new(directory)),
                current: RwLock::new(Arc::new(generation)),
                running: Mutex::new(None),
            });
            let mut all: Vec<Arc<Slot>> = self.slot_list().iter().cloned().collect();
            all.push(slot);
            self.set_slots(all);
        }
        // Re-sort: the priority may have changed.
        let mut all: Vec<Arc<Slot>> = self.slot_list().iter().cloned().collect();
        all.sort_by_key(|s| {
            let d = s.directory();
            (d.priority, d.id)
        });
        self.set_slots(all);
        Ok(started.elapsed())
    }

    /// Removes a directory from queries (its persisted contacts are the
    /// store's business). Returns whether it was known.
    pub fn remove_directory(&self, id: DirectoryId) -> bool {
        let _changing = self.changes.lock();
        let all: Vec<Arc<Slot>> = self.slot_list().iter().cloned().collect();
        let before = all.len();
        let kept: Vec<Arc<Slot>> = all.into_iter().filter(|s| s.directory().id != id).collect();
        let removed = kept.len() != before;
        self.set_slots(kept);
        removed
    }

    /// The settings of every directory, in priority order.
    pub fn directories(&self) -> Vec<Arc<Directory>> {
        self.slot_list().iter().map(|s| s.directory()).collect()
    }

    /// The current generation of a directory.
    pub fn generation(&self, id: DirectoryId) -> Option<Arc<Generation>> {
        self.slot(id).map(|s| s.generation())
    }

    pub(crate) fn persistence(&self) -> &dyn Persistence {
        &*self.persistence
    }

    pub(crate) fn slot(&self, id: DirectoryId) -> Option<Arc<Slot>> {
        self.slot_list()
            .iter()
            .find(|s| s.directory().id == id)
            .cloned()
    }

    fn slot_list(&self) -> Arc<Vec<Arc<Slot>>> {
        match self.slots.read() {
            Ok(s) => Arc::clone(&s),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    fn set_slots(&self, slots: Vec<Arc<Slot>>) {
        match self.slots.write() {
            Ok(mut s) => *s = Arc::new(slots),
            Err(p) => *p.into_inner() = Arc::new(slots),
        }
    }

    /// Enabled, allowed directories with their generations, priority order.
    pub(crate) fn views(&self, allowed: Allowed<'_>) -> Vec<View> {
        self.slot_list()
            .iter()
            .filter_map(|s| {
                let d = s.directory();
                (d.kind.is_enabled() && allowed.contains(d.id)).then(|| (d, s.generation()))
            })
            .collect()
    }
}
