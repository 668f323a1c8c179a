//! Server configuration: a TOML file, then `TWP_…` environment variables
//! over it, then command-line flags. Every setting has a default; the
//! commented example is `twp.example.toml` (also `twp config example`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const EXAMPLE: &str = include_str!("../../../twp.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Folder of the SQLite database and the secret key.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub log: LogConfig,
    pub licenses: LicensesConfig,
    pub users: UsersConfig,
}

/// User login for the web apps (guide 6).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsersConfig {
    /// How long a user session lives.
    pub session_hours: u64,
    /// How long it lives when the user ticked "save".
    pub saved_session_days: u64,
    /// Reverse proxies (addresses or CIDR blocks) whose Windows user
    /// header is believed; empty: Windows single sign-on is off.
    pub trusted_proxies: Vec<String>,
    /// The header the proxy puts the authenticated user name in.
    pub sso_header: String,
    /// Connect and bind timeout of the LDAP method.
    pub ldap_timeout_seconds: u64,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            session_hours: 8,
            saved_session_days: 30,
            trusted_proxies: Vec::new(),
            sso_header: "X-Remote-User".into(),
            ldap_timeout_seconds: 5,
        }
    }
}

impl UsersConfig {
    fn proxies(&self) -> Result<twp_access::auth::TrustedProxies, String> {
        twp_access::auth::TrustedProxies::parse(&self.trusted_proxies.join(" "))
            .map_err(|e| format!("users.trusted_proxies: {e}"))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LicensesConfig {
    /// Public keys (the base64 line of `license.pub`) whose signatures
    /// this server accepts on license files.
    pub trusted_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Empty: SQLite file `<data_dir>/twp.db`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Empty: `<data_dir>/secret.key`.
    pub key_file: String,
    pub session_ttl_minutes: u64,
    pub max_failed_logins: u32,
    pub lockout_minutes: u64,
    pub max_failed_logins_per_client: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `twp_api=debug,info`…
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("twp-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            security: SecurityConfig::default(),
            log: LogConfig::default(),
            licenses: LicensesConfig::default(),
            users: UsersConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 8,
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            key_file: String::new(),
            session_ttl_minutes: 480,
            max_failed_logins: 5,
            lockout_minutes: 15,
            max_failed_logins_per_client: 20,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Config {
    /// Reads `file` (if given), then applies `TWP_…` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Invalid {
                        origin: p.display().to_string(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("TWP_") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut table, &path, env_value(&v)).map_err(|message| ConfigError::Invalid {
                origin: format!("environment variable {k}"),
                message,
            })?;
        }
        let origin = file.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string());
        // The path tells which setting is wrong ("server.listen: …").
        let cfg: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
            |e: serde_path_to_error::Error<toml::de::Error>| ConfigError::Invalid {
                origin,
                message: format!("{}: {}", e.path(), e.inner().message()),
            },
        )?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |message: &str| ConfigError::Invalid {
            origin: "configuration".into(),
            message: message.into(),
        };
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(bad("log.format must be \"text\" or \"json\""));
        }
        if self.security.max_failed_logins == 0 || self.security.session_ttl_minutes == 0 {
            return Err(bad(
                "security.max_failed_logins and security.session_ttl_minutes must be at least 1",
            ));
        }
        if !(self.database.url.is_empty()
            || self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            return Err(bad(
                "database.url must be empty (SQLite in data_dir), sqlite://PATH or postgres://USER@HOST/DB",
            ));
        }
        self.users.proxies().map_err(|m| bad(&m))?;
        if self.users.session_hours == 0
            || self.users.saved_session_days == 0
            || self.users.ldap_timeout_seconds == 0
        {
            return Err(bad(
                "users.session_hours, users.saved_session_days and users.ldap_timeout_seconds must be at least 1",
            ));
        }
        if !header_name_ok(&self.users.sso_header) {
            return Err(bad("users.sso_header must be an HTTP header name"));
        }
        for (i, k) in self.licenses.trusted_keys.iter().enumerate() {
            crate::license::trusted_key(k).map_err(|e| ConfigError::Invalid {
                origin: "configuration".into(),
                message: format!("licenses.trusted_keys[{i}]: {e}"),
            })?;
        }
        Ok(())
    }

    /// The trusted license keys (checked by `load`).
    pub fn trusted_keys(&self) -> Vec<twp_access::license::VerifyingKey> {
        self.licenses
            .trusted_keys
            .iter()
            .filter_map(|k| crate::license::trusted_key(k).ok())
            .collect()
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("twp.db").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn key_file(&self) -> PathBuf {
        if self.security.key_file.is_empty() {
            self.data_dir.join("secret.key")
        } else {
            PathBuf::from(&self.security.key_file)
        }
    }

    pub fn api_settings(&self) -> twp_api::ApiSettings {
        twp_api::ApiSettings {
            session_ttl: Duration::from_secs(self.security.session_ttl_minutes * 60),
            max_failed_logins: self.security.max_failed_logins,
            lockout: Duration::from_secs(self.security.lockout_minutes * 60),
            max_failed_logins_per_client: self.security.max_failed_logins_per_client,
            trace_dir: Some(self.data_dir.join("traces")),
            user_session_ttl: Duration::from_secs(self.users.session_hours * 3600),
            user_saved_session_ttl: Duration::from_secs(self.users.saved_session_days * 86_400),
            trusted_proxies: self.users.proxies().unwrap_or_default(),
            sso_header: self.users.sso_header.clone(),
            ldap_timeout: Duration::from_secs(self.users.ldap_timeout_seconds),
            ..Default::default()
        }
    }
}

/// A header name is a non-empty token of letters, digits and `-`.
fn header_name_ok(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An environment value is read as a TOML value when it is one (numbers,
/// booleans, quoted strings), else as a plain string.
fn env_value(v: &str) -> toml::Value {
    format!("x = {v}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("x"))
        .unwrap_or_else(|| toml::Value::String(v.to_owned()))
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty setting name".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("'{first}' is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn trusted_license_keys_are_checked() {
        let key = twp_access::license::keygen().unwrap();
        let text = twp_access::license::public_key_text(&key.verifying_key());
        let line = text.lines().nth(1).unwrap();
        let c = Config::load(
            None,
            env(&[("TWP_LICENSES__TRUSTED_KEYS", &format!("[\"{line}\"]"))]),
        )
        .unwrap();
        assert_eq!(c.trusted_keys(), vec![key.verifying_key()]);
        let e = Config::load(
            None,
            env(&[("TWP_LICENSES__TRUSTED_KEYS", "[\"not a key\"]")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("licenses.trusted_keys[0]"), "{e}");
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(c.database_url(), "sqlite://twp-data/twp.db");
        assert_eq!(c.key_file(), PathBuf::from("twp-data/secret.key"));
    }

    #[test]
    fn the_example_file_is_valid_and_matches_the_defaults() {
        let dir = std::env::temp_dir().join(format!("twp-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("twp.toml");
        std::fs::write(&p, EXAMPLE).unwrap();
        let c = Config::load(Some(&p), env(&[])).unwrap();
        let d = Config::default();
        assert_eq!(c.server.listen, d.server.listen);
        assert_eq!(c.database_url(), d.database_url());
        assert_eq!(c.security.max_failed_logins, d.security.max_failed_logins);
        assert_eq!(c.log.level, d.log.level);
    }

    #[test]
    fn environment_overrides_with_double_underscores() {
        let c = Config::load(
            None,
            env(&[
                ("TWP_SERVER__LISTEN", "0.0.0.0:9000"),
                ("TWP_DATABASE__URL", "postgres://twp@127.0.0.1/twp"),
                ("TWP_SECURITY__MAX_FAILED_LOGINS", "3"),
                ("TWP_DATA_DIR", "/var/lib/twp"),
                ("PATH", "/usr/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.database_url(), "postgres://twp@127.0.0.1/twp");
        assert_eq!(c.security.max_failed_logins, 3);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/twp"));
    }

    #[test]
    fn errors_name_the_setting() {
        let e = Config::load(None, env(&[("TWP_SERVER__LISTEN", "nowhere")])).unwrap_err();
        assert!(e.to_string().contains("listen"), "{e}");
        let e = Config::load(None, env(&[("TWP_SERVER__PORTT", "1")])).unwrap_err();
        assert!(e.to_string().contains("portt"), "{e}");
        let e = Config::load(None, env(&[("TWP_DATABASE__URL", "mysql://x")])).unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
    }
}
