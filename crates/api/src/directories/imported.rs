//! The directory of a users import (guide 7.2.4): a `twp-users` directory
//! limited to the users the import created (`connector.importId`), made
//! with the import, synchronised after each of its successful runs and
//! deleted with it. Granting it (7.4.2) shows the imported users' contact
//! cards; users made by hand are not in it.

use serde_json::{Map, Value, json};
use twp_domain::{Administrator, CompanyId, DomainId, UserImport};
use twp_store::Tx;
use twp_store::directories::{self, DirectoryData, StoredDirectory};

use super::settings::{StoredMapping, import_of};
use crate::AppState;
use crate::audit::{Change, record};
use crate::error::{ApiError, ApiResult};
use crate::routes::directories::DirectoryDto;

/// The name it is given; the import's id is added if another directory of
/// the domain already has it.
fn name(import: &UserImport, taken: &[StoredDirectory]) -> String {
    let mut base: String = format!("Imported users: {}", import.data.description);
    // directory names are 1 to 100 characters
    if base.chars().count() > 80 {
        base = base.chars().take(80).collect();
    }
    let free = |n: &str| {
        !taken
            .iter()
            .any(|d| twp_store::name_key(&d.data.name) == twp_store::name_key(n))
    };
    if free(&base) {
        base
    } else {
        format!("{base} (import {})", import.id)
    }
}

/// The import's directory, if it has one (an administrator may delete it).
pub async fn find(
    c: &mut twp_store::AnyConnection,
    company: CompanyId,
    domain: DomainId,
    import: i64,
) -> ApiResult<Option<StoredDirectory>> {
    let all = directories::list(c, company, domain).await?;
    Ok(all.into_iter().find(|d| import_of(d) == Some(import)))
}

/// Makes the import's directory, in the import's transaction, audited.
pub async fn create(
    tx: &mut Tx,
    who: &Administrator,
    import: &UserImport,
) -> ApiResult<StoredDirectory> {
    let (company, domain) = (import.company_id, import.data.domain_id);
    let taken = directories::list(tx, company, domain).await?;
    let mut settings = Map::new();
    settings.insert("importId".into(), json!(import.id));
    let data = DirectoryData {
        name: name(import, &taken),
        kind: "public".into(),
        priority: 100,
        server_type: "twp-users".into(),
        settings: Value::Object(settings).to_string(),
        mapping: serde_json::to_string(&StoredMapping::default()).map_err(ApiError::internal)?,
        sync_mode: "manual".into(),
        sync_every_minutes: None,
        merge_contacts: false,
    };
    let d = directories::create(tx, company, domain, &data, None).await?;
    let dto = DirectoryDto::from(d.clone());
    record(
        tx,
        who,
        Change::new("create", "directory", d.id)
            .company(company)
            .name(&dto.name)
            .after(&dto),
    )
    .await?;
    Ok(d)
}

/// Deletes the import's directory (and its grants), in the import's
/// transaction, audited; returns it so the caller can drop it from the
/// engine once committed.
pub async fn delete(
    tx: &mut Tx,
    who: &Administrator,
    company: CompanyId,
    domain: DomainId,
    import: i64,
) -> ApiResult<Option<StoredDirectory>> {
    let Some(d) = find(tx, company, domain, import).await? else {
        return Ok(None);
    };
    directories::delete(tx, company, domain, d.id).await?;
    let dto = DirectoryDto::from(d.clone());
    record(
        tx,
        who,
        Change::new("delete", "directory", d.id)
            .company(company)
            .name(&dto.name)
            .before(&dto),
    )
    .await?;
    Ok(Some(d))
}

/// Synchronises the import's directory after a successful run and waits
/// for it; a failure is logged (the run itself stands).
pub async fn synchronise(st: &AppState, import: &UserImport) {
    let (company, domain) = (import.company_id, import.data.domain_id);
    let found = async {
        let mut c = st.store.read().await?;
        find(&mut c, company, domain, import.id).await
    }
    .await;
    let d = match found {
        Ok(Some(d)) => d,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(import = import.id, error = %e.body.message, "the import's directory is not synchronised");
            return;
        }
    };
    match super::run::start(st, company, domain, d.id, "import").await {
        Ok(handle) => {
            if let Err(e) = handle.await {
                tracing::warn!(import = import.id, directory = d.id, error = %e, "the import's directory synchronisation stopped");
            }
        }
        Err(e) => {
            tracing::warn!(import = import.id, directory = d.id, error = %e.body.message, "the import's directory is not synchronised");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twp_domain::{
        ImportMapping, ImportSchedule, ImportSecurity, ImportType, SyncType, UserImportData,
    };

    fn import(description: &str) -> UserImport {
        UserImport {
            id: 7,
            company_id: CompanyId(1),
            data: UserImportData {
                description: description.into(),
                import_type: ImportType::Ldap,
                domain_id: DomainId(1),
                group_id: None,
                host: "h".into(),
                port: 389,
                security: ImportSecurity::None,
                bind_name: String::new(),
                base_dn: "dc=x".into(),
                filter: String::new(),
                page_size: 500,
                mapping: ImportMapping::ldap(true),
                sync_type: SyncType::InsertUpdate,
                schedule: ImportSchedule::Manual,
                delete_share_percent: 20,
            },
            has_password: false,
            last_run_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn dir(name: &str) -> StoredDirectory {
        StoredDirectory {
            id: 1,
            company_id: CompanyId(1),
            domain_id: DomainId(1),
            data: DirectoryData {
                name: name.into(),
                kind: "public".into(),
                priority: 100,
                server_type: "csv".into(),
                settings: "{}".into(),
                mapping: "{}".into(),
                sync_mode: "manual".into(),
                sync_every_minutes: None,
                merge_contacts: false,
            },
            has_password: false,
            contacts: 0,
            synced_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn named_after_the_import_and_never_taken() {
        assert_eq!(name(&import("LDAP"), &[]), "Imported users: LDAP");
        assert_eq!(
            name(&import("LDAP"), &[dir("imported users: ldap")]),
            "Imported users: LDAP (import 7)"
        );
        let long = name(&import(&"é".repeat(200)), &[]);
        assert!(long.chars().count() <= 100, "{long}");
    }

    #[test]
    fn only_twp_users_directories_name_an_import() {
        let mut d = dir("x");
        d.data.settings = r#"{"importId": 7}"#.into();
        assert_eq!(import_of(&d), None);
        d.data.server_type = "twp-users".into();
        assert_eq!(import_of(&d), Some(7));
        d.data.settings = "{}".into();
        assert_eq!(import_of(&d), None);
    }
}
