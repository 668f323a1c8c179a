//! The LDAP method's network part (guide 6.3): a simple bind to
//! AuthLdapServer:AuthLdapPort as AuthLdapDn with `?` replaced by the
//! escaped user name. Behind the `ldap` feature so that the pure engine
//! does not pull `ldap3` and TLS into every crate that uses it.

use ldap3::{LdapConnAsync, LdapConnSettings};
use thiserror::Error;

use super::ldap::{EscapeError, bind_dn};
use super::ldap_target::{LdapBindSettings, LdapSecurity, ServerError};

#[derive(Debug, Error)]
pub enum BindError {
    #[error("wrong user name or password for the LDAP server")]
    InvalidCredentials,
    #[error("an empty password is never sent to the LDAP server (it would be an anonymous bind)")]
    EmptyPassword,
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("bind DN: {0}")]
    Dn(#[from] EscapeError),
    #[error("cannot reach the LDAP server {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the LDAP server {url} refused the bind (result code {rc}{text})")]
    Refused { url: String, rc: u32, text: String },
}

/// Binds as the user; `Ok` means the server accepted the password.
pub async fn ldap_bind(
    settings: &LdapBindSettings,
    user_name: &str,
    password: &str,
) -> Result<(), BindError> {
    if password.is_empty() {
        return Err(BindError::EmptyPassword);
    }
    let dn = bind_dn(&settings.dn_template, user_name)?;
    let url = settings.url()?;
    let unreachable = |e: ldap3::LdapError| BindError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    let conn = LdapConnSettings::new()
        .set_conn_timeout(settings.timeout)
        .set_starttls(settings.security == LdapSecurity::StartTls)
        .set_no_tls_verify(!settings.check_certificate);
    let (conn, mut ldap) = LdapConnAsync::with_settings(conn, &url)
        .await
        .map_err(unreachable)?;
    ldap3::drive!(conn);
    let result = ldap
        .with_timeout(settings.timeout)
        .simple_bind(&dn, password)
        .await
        .map_err(unreachable)?;
    // The connection was only for this check.
    let _ = ldap.unbind().await;
    match result.rc {
        0 => Ok(()),
        49 => Err(BindError::InvalidCredentials),
        rc => Err(BindError::Refused {
            url,
            rc,
            text: if result.text.is_empty() {
                String::new()
            } else {
                format!(": {}", result.text)
            },
        }),
    }
}
