//! Each user's private contacts (`[TwsPrivate]`, guide 9.1.1) in look-ups
//! and searches: visible to their owner only, through the domain's
//! `private` directory — its name and priority — and only when the user
//! may read that directory (guide: "verify that the user does have rights
//! to the directory [TwsPrivate]").
//!
//! A user's contacts make a small engine of their own (the domain's
//! dialing plan, one directory), built from the store at the user's first
//! query and dropped when the user's contacts change (`forget_user`), or
//! the domain's directories or dialing plan change (`forget_domain`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use twp_directory::{
    ContactField, DirectoryEngine, DirectoryId, Mapping, MemoryPersistence, Target,
};
use twp_domain::{CompanyId, DomainId, UserId};
use twp_store::directories::{self, private};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Books kept at most; past it the map starts again empty.
const CAPACITY: usize = 50_000;

/// A user's private contacts as an engine.
pub struct Book {
    /// The domain's `[TwsPrivate]` directory and the engine over the
    /// user's contacts; `None` when the domain has no enabled one.
    pub inner: Option<(DirectoryId, DirectoryEngine)>,
}

/// Every user's book that has been asked for.
#[derive(Default)]
pub struct PrivateBooks {
    books: Mutex<HashMap<UserId, (DomainId, Arc<Book>)>>,
}

impl PrivateBooks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (DomainId, Arc<Book>)>> {
        // entries are inserted whole: a panic elsewhere leaves them valid
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The user's contacts changed.
    pub fn forget_user(&self, user: UserId) {
        self.lock().remove(&user);
    }

    /// A directory or the dialing plan of the domain changed.
    pub fn forget_domain(&self, domain: DomainId) {
        self.lock().retain(|_, (d, _)| *d != domain);
    }

    /// Forgets every book (a company was deleted).
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    /// The user's book, built from the store on first use.
    pub async fn book(
        &self,
        st: &AppState,
        company: CompanyId,
        domain: DomainId,
        user: UserId,
    ) -> ApiResult<Arc<Book>> {
        if let Some((_, b)) = self.lock().get(&user).filter(|(d, _)| *d == domain) {
            return Ok(Arc::clone(b));
        }
        let book = Arc::new(build(st, company, domain, user).await?);
        let mut books = self.lock();
        if books.len() >= CAPACITY {
            books.clear();
        }
        books.insert(user, (domain, Arc::clone(&book)));
        Ok(book)
    }
}

/// Every TWP contact field, read from the stored JSON by its own name.
fn mapping() -> ApiResult<Mapping> {
    Mapping::new(
        ContactField::ALL
            .iter()
            .map(|f| (Target::Field(*f), f.name())),
        [],
    )
    .map_err(ApiError::internal)
}

async fn build(
    st: &AppState,
    company: CompanyId,
    domain: DomainId,
    user: UserId,
) -> ApiResult<Book> {
    let plan = st.telephony.plan(&st.store, company, domain).await?;
    let mut c = st.store.read().await?;
    let stored = directories::list(&mut c, company, domain).await?;
    let Some(d) = stored
        .iter()
        .find(|d| d.data.server_type == "private" && d.data.kind != "draft")
    else {
        return Ok(Book { inner: None });
    };
    let contacts = private::list(&mut c, company, user).await?;
    drop(c);
    let mut directory = super::settings::engine_directory(d)?;
    directory.mapping = mapping()?;
    let id = directory.id;
    let columns: Vec<String> = ContactField::ALL
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    let rows: Vec<Vec<String>> = contacts
        .iter()
        .map(|p| {
            let fields: Map<String, Value> = serde_json::from_str(&p.fields).unwrap_or_default();
            ContactField::ALL
                .iter()
                .map(|f| match f {
                    // the store's id names the contact, whatever the fields say
                    ContactField::Id => p.id.to_string(),
                    f => fields
                        .get(f.name())
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .collect();
    let plan = (*plan).clone();
    tokio::task::spawn_blocking(move || -> ApiResult<Book> {
        let engine = DirectoryEngine::new(domain, plan, Arc::new(MemoryPersistence::new()));
        engine
            .upsert_directory(directory)
            .map_err(ApiError::internal)?;
        let mut source = twp_import::ListConnector::new(columns, rows);
        engine
            .synchronise(id, &mut source)
            .map_err(ApiError::internal)?;
        Ok(Book {
            inner: Some((id, engine)),
        })
    })
    .await
    .map_err(ApiError::internal)?
}
