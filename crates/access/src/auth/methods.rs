//! AuthMethods (guide 6.1): the methods tried, in order, for a user.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Password checked by TWP (6.4).
    Tws,
    /// Bind to the LDAP server with the user's DN (6.3).
    Ldap,
    /// The user name alone (6.5).
    None,
    /// Windows session, from a trusted proxy's header (6.2).
    Windows,
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tws => "TWS",
            Self::Ldap => "LDAP",
            Self::None => "None",
            Self::Windows => "Windows",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthMethodsError {
    #[error("AuthMethods: unknown method(s) {}; expected TWS, LDAP, None or Windows separated by |", .0.join(", "))]
    Unknown(Vec<String>),
    #[error("AuthMethods: empty (or an empty item between |)")]
    Empty,
}

/// The methods a user may authenticate with, in the order tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMethods(Vec<AuthMethod>);

impl AuthMethods {
    /// Parses `TWS|LDAP`…; any case; `WindowsSecurity` (the guide's value)
    /// is Windows. Repeats are dropped; every unknown word is named.
    pub fn parse(input: &str) -> Result<AuthMethods, AuthMethodsError> {
        let mut methods = Vec::new();
        let mut unknown = Vec::new();
        for item in input.split('|') {
            let item = item.trim();
            if item.is_empty() {
                return Err(AuthMethodsError::Empty);
            }
            let m = match item.to_ascii_lowercase().as_str() {
                "tws" => AuthMethod::Tws,
                "ldap" => AuthMethod::Ldap,
                "none" => AuthMethod::None,
                "windows" | "windowssecurity" => AuthMethod::Windows,
                _ => {
                    unknown.push(item.to_owned());
                    continue;
                }
            };
            if !methods.contains(&m) {
                methods.push(m);
            }
        }
        if !unknown.is_empty() {
            return Err(AuthMethodsError::Unknown(unknown));
        }
        Ok(AuthMethods(methods))
    }

    pub fn methods(&self) -> &[AuthMethod] {
        &self.0
    }

    pub fn allows(&self, m: AuthMethod) -> bool {
        self.0.contains(&m)
    }

    /// The "None" policy: a log-in by user name alone is accepted only if the
    /// user's resolved AuthMethods lists None.
    pub fn permit(&self, attempted: AuthMethod) -> Result<(), MethodRefused> {
        if self.allows(attempted) {
            Ok(())
        } else {
            Err(MethodRefused {
                attempted,
                allowed: self.to_string(),
            })
        }
    }
}

impl fmt::Display for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            m.fmt(f)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("authentication method {attempted} is not allowed for this user (AuthMethods = {allowed})")]
pub struct MethodRefused {
    pub attempted: AuthMethod,
    pub allowed: String,
}
