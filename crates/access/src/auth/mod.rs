//! User authentication, the pure part (guide 6): which methods a user may
//! use, the LDAP bind DN, and whom to trust for Windows single sign-on.

#[cfg(feature = "ldap")]
mod bind;
mod ldap;
mod ldap_target;
mod methods;
mod proxy;

#[cfg(feature = "ldap")]
pub use bind::{BindError, ldap_bind};
pub use ldap::{
    EscapeError, bind_dn, escape_dn_value, escape_filter_value, unescape_dn_value,
    unescape_filter_value,
};
pub use ldap_target::{LdapBindSettings, LdapSecurity, ServerError};
pub use methods::{AuthMethod, AuthMethods, AuthMethodsError, MethodRefused};
pub use proxy::{Cidr, ProxyListError, SsoError, TrustedProxies, windows_user};
