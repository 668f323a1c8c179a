//! Where the LDAP method binds (guide 6.3): the user's resolved
//! AuthLdapServer, AuthLdapPort and AuthLdapSecurity as a URL. Pure, so
//! that it is tested and fuzzed without the network part.

use std::time::Duration;

use thiserror::Error;

/// How the connection to the LDAP server is secured (AuthLdapSecurity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapSecurity {
    None,
    StartTls,
    Ldaps,
}

impl LdapSecurity {
    /// The parameter's words: None, StartTLS, LDAPS (any case).
    pub fn parse(word: &str) -> Option<LdapSecurity> {
        match word.to_ascii_lowercase().as_str() {
            "none" | "" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "ldaps" => Some(Self::Ldaps),
            _ => None,
        }
    }
}

/// A user's resolved LDAP parameters.
#[derive(Debug, Clone)]
pub struct LdapBindSettings {
    pub server: String,
    pub port: u16,
    pub dn_template: String,
    pub security: LdapSecurity,
    pub check_certificate: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerError {
    #[error("AuthLdapServer is not set for this user")]
    NoServer,
    #[error("AuthLdapServer {0:?} is not a host name or IP address")]
    BadServer(String),
}

impl LdapBindSettings {
    /// The server's URL; the host is checked so that nothing but a host
    /// name or address reaches the URL parser.
    pub fn url(&self) -> Result<String, ServerError> {
        let host = self.server.trim();
        if host.is_empty() {
            return Err(ServerError::NoServer);
        }
        let ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
        if !ok {
            return Err(ServerError::BadServer(host.to_owned()));
        }
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let scheme = if self.security == LdapSecurity::Ldaps {
            "ldaps"
        } else {
            "ldap"
        };
        Ok(format!("{scheme}://{host}:{}", self.port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(server: &str, security: LdapSecurity) -> Result<String, ServerError> {
        LdapBindSettings {
            server: server.into(),
            port: 636,
            dn_template: "?".into(),
            security,
            check_certificate: true,
            timeout: Duration::from_secs(1),
        }
        .url()
    }

    #[test]
    fn urls_name_scheme_host_and_port() {
        assert_eq!(
            at("ldap.corp", LdapSecurity::Ldaps).unwrap(),
            "ldaps://ldap.corp:636"
        );
        assert_eq!(
            at(" 10.0.0.5 ", LdapSecurity::StartTls).unwrap(),
            "ldap://10.0.0.5:636"
        );
        assert_eq!(at("::1", LdapSecurity::None).unwrap(), "ldap://[::1]:636");
        assert_eq!(at("", LdapSecurity::None), Err(ServerError::NoServer));
        for bad in ["evil/x", "a b", "user@host", "h?x=1", "h#f"] {
            assert!(
                matches!(at(bad, LdapSecurity::None), Err(ServerError::BadServer(_))),
                "{bad}"
            );
        }
        assert_eq!(
            LdapSecurity::parse("starttls"),
            Some(LdapSecurity::StartTls)
        );
        assert_eq!(LdapSecurity::parse("TLS"), None);
    }

    proptest::proptest! {
        /// Whatever the parameter holds, the URL is scheme://host:port with
        /// nothing that a URL parser would read as a path, user or query.
        #[test]
        fn any_server_gives_a_bare_url_or_an_error(server in "\\PC{0,40}") {
            if let Ok(url) = at(&server, LdapSecurity::None) {
                let rest = url.strip_prefix("ldap://").unwrap();
                proptest::prop_assert!(!rest.contains(['/', '@', '?', '#', ' ']));
                proptest::prop_assert!(rest.ends_with(":636"));
            }
        }
    }
}
