use std::net::IpAddr;

use proptest::prelude::*;
use twp_access::auth::*;

#[test]
fn auth_methods_parse_in_order_and_name_unknowns() {
    let m = AuthMethods::parse("WindowsSecurity|TWS").unwrap();
    assert_eq!(m.methods(), &[AuthMethod::Windows, AuthMethod::Tws]);
    assert_eq!(m.to_string(), "Windows|TWS");
    let m = AuthMethods::parse(" ldap | none | LDAP ").unwrap();
    assert_eq!(m.methods(), &[AuthMethod::Ldap, AuthMethod::None]);
    let err = AuthMethods::parse("TWS|Kerberos|NTLM").unwrap_err();
    assert_eq!(
        err,
        AuthMethodsError::Unknown(vec!["Kerberos".into(), "NTLM".into()])
    );
    assert!(err.to_string().contains("Kerberos, NTLM"));
    assert_eq!(AuthMethods::parse("").unwrap_err(), AuthMethodsError::Empty);
    assert_eq!(
        AuthMethods::parse("TWS|").unwrap_err(),
        AuthMethodsError::Empty
    );
}

#[test]
fn none_is_allowed_only_when_resolved_methods_list_it() {
    let tws = AuthMethods::parse("TWS").unwrap();
    let err = tws.permit(AuthMethod::None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "authentication method None is not allowed for this user (AuthMethods = TWS)"
    );
    AuthMethods::parse("TWS|None")
        .unwrap()
        .permit(AuthMethod::None)
        .unwrap();
}

#[test]
fn bind_dn_escapes_the_user_name() {
    let t = "CN=?,OU=PARIS,DC=SSDEI,DC=local";
    assert_eq!(
        bind_dn(t, "ban").unwrap(),
        "CN=ban,OU=PARIS,DC=SSDEI,DC=local"
    );
    assert_eq!(bind_dn("?", "ban").unwrap(), "ban");
    // Injection attempts stay inside the CN value.
    assert_eq!(
        bind_dn(t, "x,OU=Admins").unwrap(),
        "CN=x\\,OU\\=Admins,OU=PARIS,DC=SSDEI,DC=local"
    );
    assert_eq!(
        bind_dn(t, "*)(uid=*").unwrap(),
        "CN=\\2a\\29\\28uid\\=\\2a,OU=PARIS,DC=SSDEI,DC=local"
    );
    assert_eq!(bind_dn(t, "").unwrap_err(), EscapeError::EmptyUserName);
    let cases = [
        ("a+b", "a\\+b"),
        ("\"q\"", "\\\"q\\\""),
        ("back\\slash", "back\\\\slash"),
        ("<tag>", "\\<tag\\>"),
        ("a;b", "a\\;b"),
        ("#hash", "\\#hash"),
        ("mid#hash", "mid#hash"),
        (" lead", "\\ lead"),
        ("trail ", "trail\\ "),
        ("in side", "in side"),
        ("nul\0", "nul\\00"),
        ("é", "é"),
    ];
    for (raw, escaped) in cases {
        assert_eq!(escape_dn_value(raw), escaped, "{raw:?}");
        assert_eq!(unescape_dn_value(escaped).unwrap(), raw);
    }
    assert_eq!(
        unescape_dn_value("\\").unwrap_err(),
        EscapeError::Truncated(0)
    );
    assert_eq!(
        unescape_dn_value("a\\zz").unwrap_err(),
        EscapeError::BadEscape(1)
    );
    assert_eq!(unescape_dn_value("\\ff").unwrap_err(), EscapeError::NotUtf8);
}

#[test]
fn filter_values_are_escaped() {
    assert_eq!(escape_filter_value("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
    assert_eq!(escape_filter_value("a\\b\0"), "a\\5cb\\00");
    assert_eq!(unescape_filter_value("\\2a\\29").unwrap(), "*)");
}

#[test]
fn trusted_proxies_and_windows_header() {
    let proxies = TrustedProxies::parse("10.0.0.0/8 | 192.168.1.5, fd00::/8").unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(proxies.trusts(ip("10.200.3.4")));
    assert!(proxies.trusts(ip("::ffff:10.1.1.1")));
    assert!(proxies.trusts(ip("192.168.1.5")));
    assert!(!proxies.trusts(ip("192.168.1.6")));
    assert!(proxies.trusts(ip("fd12::1")));
    assert!(!proxies.trusts(ip("fe80::1")));
    assert!(TrustedProxies::parse("").unwrap() == TrustedProxies::default());
    assert!(
        TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .trusts(ip("8.8.8.8"))
    );
    for bad in [
        "10.0.0.0/33",
        "10.0.0/8",
        "host.example",
        "10.0.0.0/",
        "::/129",
        "1.2.3.4/+8",
    ] {
        let err = TrustedProxies::parse(bad).unwrap_err();
        assert!(err.to_string().contains(bad), "{err}");
    }
    let win = AuthMethods::parse("Windows|TWS").unwrap();
    let tws = AuthMethods::parse("TWS").unwrap();
    let proxy = ip("10.0.0.1");
    assert_eq!(
        windows_user(proxy, Some("SSDEI\\ban"), &proxies, &win).unwrap(),
        Some("ban".into())
    );
    assert_eq!(
        windows_user(proxy, Some("ban@SSDEI.LOCAL"), &proxies, &win).unwrap(),
        Some("ban".into())
    );
    assert_eq!(windows_user(proxy, None, &proxies, &win).unwrap(), None);
    assert_eq!(
        windows_user(ip("8.8.8.8"), Some("ban"), &proxies, &win).unwrap_err(),
        SsoError::UntrustedPeer(ip("8.8.8.8"))
    );
    assert!(matches!(
        windows_user(proxy, Some("ban"), &proxies, &tws),
        Err(SsoError::Refused(_))
    ));
    assert_eq!(
        windows_user(proxy, Some("DOM\\"), &proxies, &win).unwrap_err(),
        SsoError::BadHeader
    );
}

/// True when `s` has no DN special character outside an escape sequence,
/// no leading `#` or space and no trailing space unescaped.
fn only_escaped_specials(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let Some(&n) = b.get(i + 1) else { return false };
                i += if n.is_ascii_hexdigit() { 3 } else { 2 };
            }
            b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'=' | b'*' | b'(' | b')' | 0 => {
                return false;
            }
            b'#' | b' ' if i == 0 => return false,
            b' ' if i == b.len() - 1 => return false,
            _ => i += 1,
        }
    }
    true
}

proptest! {
    #[test]
    fn dn_escape_round_trips_and_leaves_no_special(x in "\\PC{0,40}|[ #,+\"\\\\<>;=*()\0a-z]{0,20}") {
        let e = escape_dn_value(&x);
        prop_assert!(only_escaped_specials(&e), "{:?} -> {:?}", x, e);
        prop_assert_eq!(unescape_dn_value(&e).unwrap(), x);
    }

    #[test]
    fn filter_escape_round_trips(x in "\\PC{0,40}|[*()\\\\\0a-z]{0,20}") {
        let e = escape_filter_value(&x);
        prop_assert!(!e.contains(['*', '(', ')', '\0']));
        prop_assert_eq!(unescape_filter_value(&e).unwrap(), x);
    }

    #[test]
    fn unescape_never_panics(x in "\\PC{0,40}") {
        let _ = unescape_dn_value(&x);
        let _ = AuthMethods::parse(&x);
        let _ = TrustedProxies::parse(&x);
    }
}
