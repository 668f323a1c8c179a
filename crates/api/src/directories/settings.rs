//! A directory as the API receives it: the server type, its connector
//! settings checked per type, the field mapping and the synchronisation
//! schedule; and the reverse: a stored directory as the engine's
//! [`Directory`] and as a [`Connector`] ready to read its source.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};
use twp_connectors::{
    AdId, LdapConnector, LdapSettings, OdbcConnector, OdbcSettings, SqlConnector, SqlSettings,
    SqlSource, XlsxConnector, XlsxSettings, active_directory_mapping, quote_table, validate_filter,
};
use twp_directory::{
    Connector, ContactField, CsvConnector, CsvOptions, CsvSource, Directory, DirectoryId,
    DirectoryType, Encoding, Mapping, Target,
};
use twp_store::directories::{DirectoryData, StoredDirectory};

use crate::error::{ApiError, ApiResult};

/// Active Directory's people (the AD preset's filter).
const AD_PEOPLE: &str = "(&(objectCategory=person)(objectClass=user))";

/// The server types of guide 8.1 this version reads.
pub const SERVER_TYPES: &[&str] = &[
    "csv",
    "xlsx",
    "ldap",
    "ad",
    "sql",
    "odbc",
    "twp-users",
    "private",
];

/// The stored form of a mapping.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StoredMapping {
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    #[serde(default)]
    pub custom_names: BTreeMap<String, String>,
}

/// The validated parts of a directory input.
pub struct Checked {
    pub data: DirectoryData,
    /// The connector's password, when one was given (`""` clears it).
    pub password: Option<String>,
}

fn bad(field: &str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(field, code, message)
}

/// `bindName` → `bind_name` (the connectors' settings use snake case).
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn snake_object(settings: &Map<String, Value>) -> Value {
    Value::Object(
        settings
            .iter()
            .map(|(k, v)| (snake(k), v.clone()))
            .collect(),
    )
}

fn with_password(settings: &Map<String, Value>, password: Option<&str>) -> Value {
    let mut v = snake_object(settings);
    if let (Some(p), Value::Object(o)) = (password, &mut v) {
        o.insert("password".into(), Value::String(p.to_owned()));
    }
    v
}

fn decode<T: serde::de::DeserializeOwned>(server_type: &str, v: Value) -> ApiResult<T> {
    serde_json::from_value(v).map_err(|e| {
        bad(
            "connector",
            "invalid_connector",
            format!("connector ({server_type}): {e}"),
        )
    })
}

fn csv_options(settings: &Map<String, Value>) -> ApiResult<(PathBuf, CsvOptions)> {
    let mut options = CsvOptions::default();
    let mut path = None;
    for (k, v) in settings {
        let text = v.as_str().map(str::trim);
        match (k.as_str(), text) {
            ("path", Some(p)) if !p.is_empty() => path = Some(PathBuf::from(p)),
            ("delimiter", Some("tab")) => options.delimiter = Some(b'\t'),
            ("delimiter", Some(d)) if d.len() == 1 && d.is_ascii() => {
                options.delimiter = d.bytes().next();
            }
            ("delimiter", _) => {
                return Err(bad(
                    "connector.delimiter",
                    "invalid_delimiter",
                    "connector.delimiter: one ASCII character, or \"tab\"",
                ));
            }
            ("encoding", Some(e)) => {
                options.encoding = Some(match e.to_ascii_lowercase().as_str() {
                    "utf-8" | "utf8" => Encoding::Utf8,
                    "windows-1252" | "cp1252" | "ansi" => Encoding::Windows1252,
                    "latin-1" | "iso-8859-1" | "latin1" => Encoding::Latin1,
                    _ => {
                        return Err(bad(
                            "connector.encoding",
                            "invalid_encoding",
                            "connector.encoding: utf-8, windows-1252 or latin-1 (absent: detected)",
                        ));
                    }
                })
            }
            (other, _) if other != "path" => {
                return Err(bad(
                    &format!("connector.{other}"),
                    "unknown_setting",
                    format!("connector.{other}: a CSV directory has path, delimiter and encoding"),
                ));
            }
            _ => {}
        }
    }
    let path = path.ok_or_else(|| {
        bad(
            "connector.path",
            "required",
            "connector.path: the CSV file on the server is required",
        )
    })?;
    Ok((path, options))
}

/// Checks the connector settings of `server_type` (a placeholder password
/// stands for the sealed one).
fn check_connector(server_type: &str, settings: &Map<String, Value>) -> ApiResult<()> {
    let probe = Some("x");
    match server_type {
        "csv" => csv_options(settings).map(|_| ()),
        "xlsx" => decode::<XlsxSettings>(server_type, snake_object(settings)).map(|_| ()),
        "ldap" | "ad" => {
            let s: LdapSettings = decode(server_type, with_password(settings, probe))?;
            if s.host.trim().is_empty() {
                return Err(bad(
                    "connector.host",
                    "required",
                    "connector.host: the server is required",
                ));
            }
            if s.base_dn.trim().is_empty() {
                return Err(bad(
                    "connector.baseDn",
                    "required",
                    "connector.baseDn: the base DN is required",
                ));
            }
            if let Some(f) = s.filter.as_deref().filter(|f| !f.trim().is_empty()) {
                validate_filter(f).map_err(|e| {
                    bad(
                        "connector.filter",
                        "invalid_filter",
                        format!("connector.filter: {e}"),
                    )
                })?;
            }
            Ok(())
        }
        "sql" => {
            let s: SqlSettings = decode(server_type, with_password(settings, probe))?;
            match &s.source {
                SqlSource::Table(t) => quote_table(s.engine, t).map(|_| ()).map_err(|e| {
                    bad(
                        "connector.source",
                        "invalid_source",
                        format!("connector.source: {e}"),
                    )
                }),
                SqlSource::Query(q) if q.trim().is_empty() => Err(bad(
                    "connector.source",
                    "invalid_source",
                    "connector.source: the query is empty",
                )),
                SqlSource::Query(_) => Ok(()),
            }
        }
        "odbc" => {
            let s: OdbcSettings = decode(server_type, with_password(settings, probe))?;
            if s.connection_string.trim().is_empty() && s.database.trim().is_empty() {
                return Err(bad(
                    "connector.connectionString",
                    "required",
                    "connector.connectionString: a connection string or a DSN (database) is required",
                ));
            }
            Ok(())
        }
        "twp-users" => {
            for (key, value) in settings {
                if key != "importId" {
                    return Err(bad(
                        &format!("connector.{key}"),
                        "unknown_setting",
                        format!("connector.{key}: a twp-users directory has only importId"),
                    ));
                }
                if value.as_i64().is_none_or(|i| i <= 0) {
                    return Err(bad(
                        "connector.importId",
                        "invalid_import",
                        "connector.importId: the id of a users import (a positive integer)",
                    ));
                }
            }
            Ok(())
        }
        "private" if settings.is_empty() => Ok(()),
        "private" => Err(bad(
            "connector",
            "unknown_setting",
            "connector: a private directory has no connector settings",
        )),
        other => Err(bad(
            "serverType",
            "invalid_server_type",
            format!(
                "serverType: {other:?} is not one of {}",
                SERVER_TYPES.join(", ")
            ),
        )),
    }
}

/// The TWP-users directory's mapping (source fields of [`super::users`]).
pub fn twp_users_mapping() -> Result<Mapping, twp_directory::MappingError> {
    use ContactField as F;
    Mapping::new(
        [
            (Target::Field(F::Id), "id"),
            (Target::Field(F::LastName), "lastName"),
            (Target::Field(F::FirstName), "firstName"),
            (Target::Field(F::DisplayName), "displayName"),
            (Target::Field(F::Email1), "email"),
            (Target::Field(F::Work), "number"),
            (Target::Field(F::Mobile), "gsm"),
            (Target::Field(F::Home), "number2"),
        ],
        [],
    )
}

/// The engine's mapping of a stored mapping; errors name `mapping.<key>`.
pub fn mapping(server_type: &str, m: &StoredMapping) -> ApiResult<Mapping> {
    let preset = match server_type {
        "twp-users" | "private" => Some(twp_users_mapping()),
        "ad" if m.fields.is_empty() => Some(active_directory_mapping(AdId::ObjectGuid)),
        _ => None,
    };
    if let Some(p) = preset {
        if server_type == "twp-users" && !m.fields.is_empty() {
            return Err(bad(
                "mapping",
                "fixed_mapping",
                "mapping: the TWP users directory has a fixed mapping; leave it empty",
            ));
        }
        return p.map_err(ApiError::internal);
    }
    let mut lines = Vec::new();
    for (key, text) in &m.fields {
        let target = match key.strip_prefix("redList.") {
            Some(f) => ContactField::from_name(f).map(Target::RedList),
            None => ContactField::from_name(key).map(Target::Field),
        }
        .ok_or_else(|| {
            bad(
                &format!("mapping.{key}"),
                "unknown_field",
                format!("mapping.{key}: not a TWP contact field (or redList.<phone field>)"),
            )
        })?;
        lines.push((target, text.as_str()));
    }
    let mut names = Vec::new();
    for (key, name) in &m.custom_names {
        let field = ContactField::from_name(key).ok_or_else(|| {
            bad(
                &format!("customNames.{key}"),
                "unknown_field",
                format!("customNames.{key}: not a TWP contact field"),
            )
        })?;
        names.push((field, name.clone()));
    }
    Mapping::new(lines, names).map_err(|e| {
        let field = match &e {
            twp_directory::MappingError::Option { target, .. } => format!("mapping.{target}"),
            twp_directory::MappingError::NameOnNonCustom(_) => "customNames".to_owned(),
            _ => "mapping".to_owned(),
        };
        bad(&field, "invalid_mapping", format!("{field}: {e}"))
    })
}

/// The input, validated into what the store keeps.
#[allow(clippy::too_many_arguments)]
pub fn check(
    name: &str,
    kind: Option<&str>,
    priority: Option<u32>,
    server_type: &str,
    mut connector: Map<String, Value>,
    fields: BTreeMap<String, String>,
    custom_names: BTreeMap<String, String>,
    sync: Option<&super::SyncInput>,
    merge_contacts: bool,
) -> ApiResult<Checked> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad("name", "invalid_name", "name: 1 to 100 characters"));
    }
    let kind = match kind.map(str::trim).unwrap_or("public") {
        k @ ("draft" | "public" | "private") => k,
        other => {
            return Err(bad(
                "type",
                "invalid_type",
                format!("type: {other:?} is not one of draft (sample), public (TWP), private"),
            ));
        }
    };
    let password = match connector.remove("password") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p),
        Some(_) => {
            return Err(bad(
                "connector.password",
                "invalid_password",
                "connector.password: a string",
            ));
        }
    };
    check_connector(server_type, &connector)?;
    let stored = StoredMapping {
        fields,
        custom_names,
    };
    mapping(server_type, &stored)?;
    let (sync_mode, every) = match sync {
        None => ("manual", None),
        Some(s) => match (s.mode.as_str(), s.every_minutes, s.every_hours) {
            ("manual" | "daily", None, None) => (s.mode.as_str(), None),
            ("every", Some(m), None) if (1..=10_080).contains(&m) => ("every", Some(i64::from(m))),
            ("every", None, Some(h)) if (1..=168).contains(&h) => {
                ("every", Some(i64::from(h) * 60))
            }
            ("manual" | "daily" | "every", _, _) => {
                return Err(bad(
                    "sync",
                    "invalid_schedule",
                    "sync: mode every needs everyMinutes (1-10080) or everyHours (1-168), and only it",
                ));
            }
            (other, _, _) => {
                return Err(bad(
                    "sync.mode",
                    "invalid_schedule",
                    format!("sync.mode: {other:?} is not one of manual, daily, every"),
                ));
            }
        },
    };
    Ok(Checked {
        data: DirectoryData {
            name: name.to_owned(),
            kind: kind.to_owned(),
            priority: i64::from(priority.unwrap_or(100)),
            server_type: server_type.to_owned(),
            settings: Value::Object(connector).to_string(),
            mapping: serde_json::to_string(&stored).map_err(ApiError::internal)?,
            sync_mode: sync_mode.to_owned(),
            sync_every_minutes: every,
            merge_contacts,
        },
        password,
    })
}

/// The stored mapping of a directory.
pub fn stored_mapping(d: &StoredDirectory) -> StoredMapping {
    serde_json::from_str(&d.data.mapping).unwrap_or_default()
}

/// The stored connector settings (no password).
pub fn stored_settings(d: &StoredDirectory) -> Map<String, Value> {
    match serde_json::from_str(&d.data.settings) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    }
}

/// The users import whose users a twp-users directory lists (guide
/// 7.2.4); `None`: every user of the domain.
pub fn import_of(d: &StoredDirectory) -> Option<i64> {
    if d.data.server_type != "twp-users" {
        return None;
    }
    stored_settings(d).get("importId").and_then(Value::as_i64)
}

/// The engine's view of a stored directory.
pub fn engine_directory(d: &StoredDirectory) -> ApiResult<Directory> {
    Ok(Directory {
        id: DirectoryId(d.id),
        domain: d.domain_id,
        name: d.data.name.clone(),
        kind: match d.data.kind.as_str() {
            "public" => DirectoryType::Public,
            "private" => DirectoryType::Private,
            _ => DirectoryType::Draft,
        },
        priority: u32::try_from(d.data.priority).unwrap_or(u32::MAX),
        merge_contacts: d.data.merge_contacts,
        mapping: mapping(&d.data.server_type, &stored_mapping(d))?,
    })
}

/// A connector reading the directory's source. `password` is the opened
/// secret; `users` the domain's users for a TWP-users directory.
pub fn connector(
    d: &StoredDirectory,
    password: Option<String>,
    users: Vec<twp_store::directories::private::DirectoryUser>,
) -> ApiResult<Box<dyn Connector>> {
    let settings = stored_settings(d);
    let st = d.data.server_type.as_str();
    Ok(match st {
        "csv" => {
            let (path, options) = csv_options(&settings)?;
            Box::new(CsvConnector::new(CsvSource::File(path), options))
        }
        "xlsx" => Box::new(XlsxConnector::new(decode(st, snake_object(&settings))?)),
        "ldap" => Box::new(LdapConnector::new(decode(
            st,
            with_password(&settings, password.as_deref()),
        )?)),
        "ad" => {
            let mut s: LdapSettings = decode(st, with_password(&settings, password.as_deref()))?;
            if s.filter.as_deref().is_none_or(|f| f.trim().is_empty()) {
                s.filter = Some(AD_PEOPLE.to_owned());
            }
            Box::new(LdapConnector::new(s))
        }
        "sql" => Box::new(SqlConnector::new(decode(
            st,
            with_password(&settings, password.as_deref()),
        )?)),
        "odbc" => Box::new(OdbcConnector::new(decode(
            st,
            with_password(&settings, password.as_deref()),
        )?)),
        "twp-users" => Box::new(super::users::UsersConnector::new(Arc::new(users))),
        "private" => {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_synchronise",
                "a [TwsPrivate] directory has nothing to synchronise: its contacts are each \
                 user's own private contacts (…/users/{userId}/private-contacts), always current",
            ));
        }
        other => {
            return Err(ApiError::internal(format!(
                "stored server type {other:?} is unknown"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_keys_become_snake() {
        assert_eq!(snake("bindName"), "bind_name");
        assert_eq!(
            snake("acceptInvalidCertificates"),
            "accept_invalid_certificates"
        );
        assert_eq!(snake("host"), "host");
    }
}
