//! The engine's [`Persistence`] over the store. The trait is synchronous
//! (the engine synchronises on a blocking thread): each call runs its async
//! store work with [`tokio::runtime::Handle::block_on`], so it must be
//! called from a blocking thread (`spawn_blocking`), never from a runtime
//! worker.

use std::sync::Arc;

use tokio::runtime::Handle;
use twp_directory::{ChangeSet, Contact, DirectoryId, Generation, PersistError, Persistence};
use twp_domain::CompanyId;

use super::{CHUNK, codec};
use crate::{Store, StoreError};

/// Directories' contacts kept in the store, for one company's engines: a
/// directory of another company is refused like a missing one.
pub struct StorePersistence {
    store: Store,
    company: CompanyId,
    runtime: Handle,
}

impl StorePersistence {
    /// Persistence for the engines of `company`'s domains; `runtime` runs
    /// the store calls.
    pub fn new(store: Store, company: CompanyId, runtime: Handle) -> Self {
        Self {
            store,
            company,
            runtime,
        }
    }
}

fn failed(directory: DirectoryId, e: impl std::fmt::Display) -> PersistError {
    PersistError {
        directory,
        message: e.to_string(),
    }
}

impl Persistence for StorePersistence {
    fn load(&self, directory: DirectoryId) -> Result<Vec<Contact>, PersistError> {
        let chunks = self
            .runtime
            .block_on(async {
                let mut c = self.store.read().await?;
                super::contact_chunks(&mut c, self.company, directory.0).await
            })
            .map_err(|e| failed(directory, e))?;
        let mut all = Vec::new();
        for chunk in chunks {
            all.extend(codec::decode_chunk(&chunk).map_err(|e| failed(directory, e))?);
        }
        Ok(all)
    }

    fn commit(
        &self,
        directory: DirectoryId,
        generation: &Arc<Generation>,
        _changes: &ChangeSet,
    ) -> Result<(), PersistError> {
        let contacts = generation.contacts();
        let chunks: Vec<Vec<u8>> = contacts.chunks(CHUNK).map(codec::encode_chunk).collect();
        let derived = generation.derived();
        let count = i64::try_from(contacts.len()).unwrap_or(i64::MAX);
        self.runtime
            .block_on(async {
                let mut tx = self.store.begin().await?;
                super::replace_contacts(
                    &mut tx,
                    self.company,
                    directory.0,
                    &chunks,
                    count,
                    &derived,
                )
                .await?;
                tx.commit().await?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| failed(directory, e))
    }

    fn load_derived(&self, directory: DirectoryId) -> Result<Option<Vec<u8>>, PersistError> {
        self.runtime
            .block_on(async {
                let mut c = self.store.read().await?;
                super::derived(&mut c, self.company, directory.0).await
            })
            .map_err(|e| failed(directory, e))
    }
}
