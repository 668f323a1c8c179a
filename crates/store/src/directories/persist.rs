//! The engine's [`Persistence`] over the store. The trait is synchronous
//! (the engine synchronises on a blocking thread): each call runs its async
//! store work with [`tokio::runtime::Handle::block_on`], so it must be
//! called from a blocking thread (`spawn_blocking`), never from a runtime
//! worker.

use std::sync::Arc;

use tokio::runtime::Handle;
use twp_directory::{ChangeSet, Contact, DirectoryId, Generation, PersistError, Persistence};
use twp_domain::CompanyId;

use super::CHUNK;
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
            all.extend(super::read_stored_chunk(&chunk).map_err(|e| failed(directory, e))?);
        }
        Ok(all)
    }

    /// Writes the contacts chunk by chunk while the next chunks are
    /// encoded and compressed and the derived keys computed on blocking
    /// threads, so that encoding overlaps SQLite's writing (BENCHMARKS.md).
    fn commit(
        &self,
        directory: DirectoryId,
        generation: &Arc<Generation>,
        _changes: &ChangeSet,
    ) -> Result<(), PersistError> {
        let count = i64::try_from(generation.contacts().len()).unwrap_or(i64::MAX);
        self.runtime.block_on(async {
            let (chunk_tx, mut chunks) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
            let g = Arc::clone(generation);
            let encoder = tokio::task::spawn_blocking(move || {
                for contacts in g.contacts().chunks(CHUNK) {
                    if chunk_tx
                        .blocking_send(super::stored_chunk(contacts))
                        .is_err()
                    {
                        return; // the writer failed: it says why
                    }
                }
            });
            let g = Arc::clone(generation);
            let derived = tokio::task::spawn_blocking(move || super::stored_derived(&g.derived()));
            let mut tx = self.store.begin().await.map_err(|e| failed(directory, e))?;
            let written: Result<(), StoreError> = async {
                super::clear_contacts(&mut tx, self.company, directory.0).await?;
                let mut n = 0;
                while let Some(chunk) = chunks.recv().await {
                    super::insert_contact_chunk(&mut tx, directory.0, n, &chunk).await?;
                    n += 1;
                }
                Ok(())
            }
            .await;
            drop(chunks);
            written.map_err(|e| failed(directory, e))?;
            encoder.await.map_err(|e| failed(directory, e))?;
            let derived = derived.await.map_err(|e| failed(directory, e))?;
            super::save_derived(&mut tx, directory.0, count, &derived)
                .await
                .map_err(|e| failed(directory, e))?;
            tx.commit().await.map_err(|e| failed(directory, e))
        })
    }

    fn load_derived(&self, directory: DirectoryId) -> Result<Option<Vec<u8>>, PersistError> {
        self.runtime
            .block_on(async {
                let mut c = self.store.read().await?;
                super::derived(&mut c, self.company, directory.0).await
            })
            .map_err(|e| failed(directory, e))
            .map(|stored| {
                // damaged derived keys are not an error: the engine
                // rebuilds them from the contacts, as for any it rejects
                stored.and_then(|b| match super::read_stored_derived(b) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        tracing::warn!(directory = directory.0, error = %e, "stored derived keys unreadable: rebuilding them");
                        None
                    }
                })
            })
    }
}
