//! The LDAP method's URL from any AuthLdapServer/AuthLdapSecurity text:
//! never panics, and an accepted server yields a bare scheme://host:port;
//! the AuthLdapDn template with any user name escapes it.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use twp_access::auth::{LdapBindSettings, LdapSecurity, bind_dn, unescape_dn_value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (server, rest) = text.split_once('\n').unwrap_or((text, ""));
    let security = LdapSecurity::parse(rest).unwrap_or(LdapSecurity::None);
    let s = LdapBindSettings {
        server: server.to_owned(),
        port: 389,
        dn_template: "cn=?,dc=x".into(),
        security,
        check_certificate: true,
        timeout: Duration::from_secs(1),
    };
    if let Ok(url) = s.url() {
        let (_, host) = url.split_once("://").unwrap();
        assert!(!host.contains(['/', '@', '?', '#']));
    }
    if let Ok(dn) = bind_dn("?", rest) {
        assert_eq!(unescape_dn_value(&dn).ok().as_deref(), Some(rest));
    }
});
