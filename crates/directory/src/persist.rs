//! The persistence boundary: the store implements [`Persistence`] (contacts
//! table, one transaction per completed synchronisation); the engine loads a
//! directory's contacts at start and commits each completed generation.
//! [`MemoryPersistence`] keeps them in memory, for tests and benchmarks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use thiserror::Error;

use crate::contact::Contact;
use crate::index::Generation;
use crate::model::DirectoryId;

/// What changed in a synchronisation, for an incremental write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Indexes (in the new generation) of created contacts.
    pub created: Vec<u32>,
    /// Indexes (in the new generation) of updated contacts.
    pub updated: Vec<u32>,
    /// Source ids of deleted contacts.
    pub deleted: Vec<String>,
}

/// A persistence failure; the synchronisation that hit it keeps the old data.
#[derive(Debug, Error)]
#[error("directory {directory}: {message}")]
pub struct PersistError {
    /// The directory.
    pub directory: DirectoryId,
    /// What went wrong.
    pub message: String,
}

/// Where directories' contacts are kept between restarts.
pub trait Persistence: Send + Sync {
    /// The contacts of a directory as last committed (empty if never).
    fn load(&self, directory: DirectoryId) -> Result<Vec<Contact>, PersistError>;

    /// Commits a completed synchronisation: after success, `load` returns
    /// `generation.contacts()`. Must be atomic (all or nothing).
    fn commit(
        &self,
        directory: DirectoryId,
        generation: &Arc<Generation>,
        changes: &ChangeSet,
    ) -> Result<(), PersistError>;

    /// The [`Generation::derived`] bytes saved by the last commit, if the
    /// store keeps them: a restart then skips the dialing plan, folding and
    /// sorting ([`Generation::restore`]). A store that does not keep them
    /// leaves the default (`None`: rebuilt from the contacts).
    fn load_derived(&self, directory: DirectoryId) -> Result<Option<Vec<u8>>, PersistError> {
        let _ = directory;
        Ok(None)
    }
}

/// In-memory persistence; it can be told to fail the next commit (tests).
#[derive(Default)]
pub struct MemoryPersistence {
    saved: Mutex<HashMap<DirectoryId, Saved>>,
    fail_next: AtomicBool,
}

enum Saved {
    /// A committed generation and its derived bytes, as a store keeps them.
    Generation(Arc<Generation>, Vec<u8>),
    Contacts(Vec<Contact>),
}

impl MemoryPersistence {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores contacts as if committed earlier (a server's previous run).
    pub fn preload(&self, directory: DirectoryId, contacts: Vec<Contact>) {
        if let Ok(mut saved) = self.saved.lock() {
            saved.insert(directory, Saved::Contacts(contacts));
        }
    }

    /// The next commit fails (once).
    pub fn fail_next_commit(&self) {
        self.fail_next.store(true, Ordering::SeqCst);
    }
}

impl Persistence for MemoryPersistence {
    fn load(&self, directory: DirectoryId) -> Result<Vec<Contact>, PersistError> {
        let saved = self.saved.lock().map_err(|_| PersistError {
            directory,
            message: "lock poisoned".into(),
        })?;
        Ok(match saved.get(&directory) {
            Some(Saved::Generation(g, _)) => g.contacts().to_vec(),
            Some(Saved::Contacts(c)) => c.clone(),
            None => Vec::new(),
        })
    }

    fn commit(
        &self,
        directory: DirectoryId,
        generation: &Arc<Generation>,
        _changes: &ChangeSet,
    ) -> Result<(), PersistError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(PersistError {
                directory,
                message: "simulated write failure".into(),
            });
        }
        let derived = generation.derived();
        let mut saved = self.saved.lock().map_err(|_| PersistError {
            directory,
            message: "lock poisoned".into(),
        })?;
        saved.insert(
            directory,
            Saved::Generation(Arc::clone(generation), derived),
        );
        Ok(())
    }

    fn load_derived(&self, directory: DirectoryId) -> Result<Option<Vec<u8>>, PersistError> {
        let saved = self.saved.lock().map_err(|_| PersistError {
            directory,
            message: "lock poisoned".into(),
        })?;
        Ok(match saved.get(&directory) {
            Some(Saved::Generation(_, d)) => Some(d.clone()),
            _ => None,
        })
    }
}
