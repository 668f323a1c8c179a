#![allow(clippy::unwrap_used)]
//! User login (guide 6) over HTTP: TWS, LDAP against a real slapd, None,
//! Windows single sign-on through a trusted proxy header; lock-out,
//! disabled users, token expiry and revocation.

#[macro_use]
mod common;
// The slapd starter of the connectors' tests, shared by every LDAP test.
#[path = "../../connectors/tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use std::time::Duration;

use common::{App, Backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use twp_access::auth::TrustedProxies;
use twp_api::ApiSettings;

both_backends!(
    tws_login_whoami_logout,
    none_allowed_only_by_auth_methods,
    lockout_and_disabled_user,
    sessions_listed_and_revoked_by_admin,
    ambiguous_domain_needs_company,
    remembered_sessions_follow_every_change,
    users_change_their_own_password,
);

fn settings() -> ApiSettings {
    ApiSettings {
        max_failed_logins: 3,
        failure_delay: Duration::from_millis(1),
        ..Default::default()
    }
}

async fn user_login(app: &App, body: Value) -> common::Resp {
    app.call(Method::POST, "/api/v1/user-auth/login", None, Some(body))
        .await
}

/// A user with a TWP password.
async fn user_with_password(app: &App, t: &str, cid: i64, did: i64, name: &str, pw: &str) -> i64 {
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/users"),
            t,
            json!({"domainId": did, "userName": name, "password": pw}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn set_param(app: &App, t: &str, cid: i64, level: &str, id: i64, key: &str, value: &str) {
    let r = app
        .put(
            &format!("/api/v1/companies/{cid}/parameters/{level}/{id}/{key}"),
            t,
            json!({"value": value}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{key}={value}: {}", r.text);
}

async fn tws_login_whoami_logout(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    let alice = user_with_password(app, &t, cid, d[0], "alice", "alice-pass-1").await;
    let g = app.group(&t, cid, d[0], "All", &[alice]).await;
    // License and grant: whoami lists the application.
    app.install_license(&t, 5).await;
    app.grant_application(&t, cid, ("group", g), "caller").await;

    // Wrong password, unknown user, unknown domain: the same refusal.
    for body in [
        json!({"domain": "Paris", "userName": "alice", "password": "nope"}),
        json!({"domain": "Paris", "userName": "nobody", "password": "alice-pass-1"}),
        json!({"domain": "Lyon", "userName": "alice", "password": "alice-pass-1"}),
    ] {
        let r = user_login(app, body).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert_eq!(r.body["message"], "wrong domain, user name or password");
    }
    // Missing domain is named.
    let r = user_login(app, json!({"domain": " ", "userName": "alice"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "domain");

    // Names are case-insensitive, as everywhere in TWP.
    let r = user_login(
        app,
        json!({"domain": "paris", "userName": "ALICE", "password": "alice-pass-1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["method"], "TWS");
    assert_eq!(r.body["insecure"], false);
    assert_eq!(r.body["saved"], false);
    let token = r.body["token"].as_str().unwrap().to_owned();

    let w = app.get("/api/v1/user-auth/whoami", &token).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    assert_eq!(w.body["user"]["userName"], "alice");
    assert_eq!(w.body["user"]["hasPassword"], true);
    assert!(w.body["user"].get("password").is_none());
    assert_eq!(w.body["domain"]["name"], "Paris");
    assert_eq!(w.body["company"]["name"], "ACME");
    assert_eq!(w.body["groups"][0]["name"], "All");
    assert_eq!(w.body["applications"], json!(["caller"]));
    assert_eq!(w.body["authMethods"], "TWS");
    assert!(w.body.get("warning").is_none());

    // A user token is not an administrator token, nor the reverse.
    let r = app.get("/api/v1/companies", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.get("/api/v1/user-auth/whoami", &t).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let r = app
        .call(Method::POST, "/api/v1/user-auth/logout", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get("/api/v1/user-auth/whoami", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

async fn none_allowed_only_by_auth_methods(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    let bob = app.user(&t, cid, d[0], "bob").await;
    let carl = app.user(&t, cid, d[0], "carl").await;
    let kiosk = app.group(&t, cid, d[0], "Kiosk", &[bob]).await;

    // Default AuthMethods is TWS: a name alone is refused.
    let r = user_login(app, json!({"domain": "Paris", "userName": "bob"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // None for the group: its member gets in by name, flagged insecure.
    set_param(app, &t, cid, "groups", kiosk, "AuthMethods", "None").await;
    let r = user_login(app, json!({"domain": "Paris", "userName": "bob"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["method"], "None");
    assert_eq!(r.body["insecure"], true);
    let token = r.body["token"].as_str().unwrap();
    let w = app.get("/api/v1/user-auth/whoami", token).await;
    assert_eq!(w.body["session"]["insecure"], true, "{}", w.text);
    assert!(
        w.body["warning"].as_str().unwrap().contains("insecure"),
        "{}",
        w.text
    );
    // The parameter's resolution carries the warning too.
    let r = app
        .get(
            &format!("/api/v1/companies/{cid}/users/{bob}/parameters?app=server"),
            &t,
        )
        .await;
    let auth = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "AuthMethods")
        .unwrap()
        .clone();
    assert_eq!(auth["value"], "None");
    assert_eq!(auth["source"], "group");
    assert!(auth["warning"].as_str().unwrap().contains("insecure"));

    // Not for a user outside the group.
    let r = user_login(app, json!({"domain": "Paris", "userName": "carl"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // A user-level value wins over the group's.
    set_param(app, &t, cid, "users", bob, "AuthMethods", "TWS").await;
    let r = user_login(app, json!({"domain": "Paris", "userName": "bob"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let _ = carl;
}

async fn lockout_and_disabled_user(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    let dan = user_with_password(app, &t, cid, d[0], "dan", "dan-pass-12").await;
    let eve = user_with_password(app, &t, cid, d[0], "eve", "eve-pass-12").await;
    let right = json!({"domain": "Paris", "userName": "dan", "password": "dan-pass-12"});
    let wrong = json!({"domain": "Paris", "userName": "dan", "password": "guess"});

    // Two failures then a success: the count starts again.
    for _ in 0..2 {
        assert_eq!(
            user_login(app, wrong.clone()).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(user_login(app, right.clone()).await.status, StatusCode::OK);
    // Three in a row lock the user, even with the right password then.
    for _ in 0..3 {
        assert_eq!(
            user_login(app, wrong.clone()).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = user_login(app, right.clone()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.body["code"], "locked");
    assert!(r.retry_after.is_some());
    // Other users are not locked.
    let r = user_login(
        app,
        json!({"domain": "Paris", "userName": "eve", "password": "eve-pass-12"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let eve_token = r.body["token"].as_str().unwrap().to_owned();
    // used once, so that the server remembers the session
    let r = app.get("/api/v1/user-auth/whoami", &eve_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The lock-out is audited in the company's log.
    let r = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    assert!(r.text.contains("user_lockout"), "{}", r.text);
    assert!(r.text.contains("\"user dan\""), "{}", r.text);
    let _ = dan;

    // A disabled user is refused, and its live session stops at once.
    let r = app
        .patch(
            &format!("/api/v1/companies/{cid}/users/{eve}"),
            &t,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get("/api/v1/user-auth/whoami", &eve_token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = user_login(
        app,
        json!({"domain": "Paris", "userName": "eve", "password": "eve-pass-12"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["code"], "user_disabled");
}

/// The server remembers sessions between requests (`sessions.rs`): every
/// change that ends a session or narrows what it reaches takes effect on
/// the very next request of a session already used.
async fn remembered_sessions_follow_every_change(app: &App) {
    let t = app.super_token().await;
    let (a, ad) = app.company(&t, "ACME", &["Paris"]).await;
    let (b, _) = app.company(&t, "Globex", &["Rome"]).await;
    let scoped = app.scoped_admin(&t, "ann", a).await;
    assert_eq!(
        app.get(&format!("/api/v1/companies/{a}"), &scoped)
            .await
            .status,
        StatusCode::OK
    );
    let r = app.get("/api/v1/admins", &t).await;
    let ann = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "ann")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    // The scope moves from ACME to Globex: ACME is gone at once.
    let r = app
        .patch(
            &format!("/api/v1/admins/{ann}"),
            &t,
            json!({"companyIds": [b]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/companies/{a}"), &scoped)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/companies/{b}"), &scoped)
            .await
            .status,
        StatusCode::OK
    );
    // Deleted: its session ends at once.
    let r = app.delete(&format!("/api/v1/admins/{ann}"), &t).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/companies/{b}"), &scoped)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A user deleted: its session ends at once.
    let zoe = user_with_password(app, &t, a, ad[0], "zoe", "zoe-pass-12").await;
    let r = user_login(
        app,
        json!({"domain": "Paris", "userName": "zoe", "password": "zoe-pass-12"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let zt = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &zt).await.status,
        StatusCode::OK
    );
    let r = app
        .delete(&format!("/api/v1/companies/{a}/users/{zoe}"), &t)
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &zt).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The super user logs out: the token is dead at once.
    assert_eq!(app.get("/api/v1/admins", &t).await.status, StatusCode::OK);
    let r = app.post("/api/v1/auth/logout", &t, json!({})).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        app.get("/api/v1/admins", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn sessions_listed_and_revoked_by_admin(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    let (other, _) = app.company(&t, "Other", &["Nice"]).await;
    let fay = user_with_password(app, &t, cid, d[0], "fay", "fay-pass-123").await;
    let login = |save: bool| json!({"domain": "Paris", "userName": "fay", "password": "fay-pass-123", "save": save});
    let r1 = user_login(app, login(false)).await;
    let r2 = user_login(app, login(true)).await;
    assert_eq!(r2.body["saved"], true);
    // "save" keeps the login longer (30 days against 8 hours).
    assert!(r2.body["expiresAt"].as_str().unwrap() > r1.body["expiresAt"].as_str().unwrap());
    let t1 = r1.body["token"].as_str().unwrap().to_owned();
    let t2 = r2.body["token"].as_str().unwrap().to_owned();

    let sessions = format!("/api/v1/companies/{cid}/users/{fay}/sessions");
    let r = app.get(&sessions, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", r.text);
    assert!(!r.text.contains(&t1) && !r.text.contains("token"));
    let newest = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["saved"], true);

    // Another company's administrator finds nothing.
    let to = app.scoped_admin(&t, "other-admin", other).await;
    assert_eq!(app.get(&sessions, &to).await.status, StatusCode::NOT_FOUND);
    let r = app
        .delete(
            &format!("/api/v1/companies/{other}/users/{fay}/sessions"),
            &to,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t2).await.status,
        StatusCode::OK
    );

    // Revoke one: that token stops, the other lives.
    let r = app.delete(&format!("{sessions}/{newest}"), &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["revoked"], 1);
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t2).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t1).await.status,
        StatusCode::OK
    );
    let r = app.delete(&format!("{sessions}/{newest}"), &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Revoke all.
    let r = app.delete(&sessions, &t).await;
    assert_eq!(r.body["revoked"], 1, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t1).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    assert!(r.text.contains("revoke_sessions"), "{}", r.text);
}

async fn ambiguous_domain_needs_company(app: &App) {
    let t = app.super_token().await;
    let (a, da) = app.company(&t, "ACME", &["Paris"]).await;
    let (b, db) = app.company(&t, "Globex", &["Paris"]).await;
    user_with_password(app, &t, a, da[0], "gus", "gus-pass-acme").await;
    user_with_password(app, &t, b, db[0], "gus", "gus-pass-globex").await;
    let r = user_login(
        app,
        json!({"domain": "Paris", "userName": "gus", "password": "gus-pass-acme"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "company");
    // With the company, each gus has its own password.
    let r = user_login(
        app,
        json!({"company": "globex", "domain": "Paris", "userName": "gus", "password": "gus-pass-acme"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = user_login(
        app,
        json!({"company": "Globex", "domain": "Paris", "userName": "gus", "password": "gus-pass-globex"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["companyId"], b);
}

#[tokio::test]
async fn user_token_expires() {
    let s = ApiSettings {
        user_session_ttl: Duration::from_millis(1500),
        ..settings()
    };
    let app = App::spawn_with(Backend::Sqlite, s, |s| s).await;
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    user_with_password(&app, &t, cid, d[0], "hal", "hal-pass-123").await;
    let r = user_login(
        &app,
        json!({"domain": "Paris", "userName": "hal", "password": "hal-pass-123"}),
    )
    .await;
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &token).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let r = app.get("/api/v1/user-auth/whoami", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    app.stop().await;
}

/// Windows single sign-on: the header counts only from a trusted proxy,
/// and only for users whose AuthMethods lists Windows.
#[tokio::test]
async fn windows_header_from_trusted_and_untrusted_proxy() {
    let trusted = ApiSettings {
        trusted_proxies: TrustedProxies::parse("127.0.0.1").unwrap(),
        ..settings()
    };
    let app = App::spawn_with(Backend::Sqlite, trusted, |s| s).await;
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    app.user(&t, cid, d[0], "ivan").await;
    app.user(&t, cid, d[0], "jane").await;
    let sso = |who: &str, body: Value| {
        let req = app
            .http
            .post(format!("{}/api/v1/user-auth/login", app.base))
            .header("X-Remote-User", who)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Windows not in AuthMethods (default TWS): the header alone is not enough.
    let (s, b) = sso("CORP\\ivan", json!({"domain": "Paris"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    set_param(
        &app,
        &t,
        cid,
        "domains",
        d[0],
        "AuthMethods",
        "WindowsSecurity|TWS",
    )
    .await;
    let (s, b) = sso("CORP\\ivan", json!({"domain": "Paris"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["method"], "Windows");
    assert_eq!(b["userName"], "ivan");
    // user@REALM too; the body cannot name someone else than the header.
    let (s, b) = sso("jane@CORP.LOCAL", json!({"domain": "Paris"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = sso(
        "jane@CORP.LOCAL",
        json!({"domain": "Paris", "userName": "ivan"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    // Without the header, Windows cannot apply and ivan has no password.
    let r = user_login(&app, json!({"domain": "Paris", "userName": "ivan"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    app.stop().await;

    // The same request from an address that is not a trusted proxy.
    let untrusted = ApiSettings {
        trusted_proxies: TrustedProxies::parse("10.9.9.9").unwrap(),
        ..settings()
    };
    let app = App::spawn_with(Backend::Sqlite, untrusted, |s| s).await;
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    app.user(&t, cid, d[0], "ivan").await;
    set_param(&app, &t, cid, "domains", d[0], "AuthMethods", "Windows").await;
    let r = app
        .http
        .post(format!("{}/api/v1/user-auth/login", app.base))
        .header("X-Remote-User", "CORP\\ivan")
        .json(&json!({"domain": "Paris"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "untrusted_proxy", "{b}");
    app.stop().await;
}

const LDAP_DN: &str = "cn=?,ou=people,dc=example,dc=com";

fn ldap_entries(out: &mut dyn std::io::Write) {
    for (dn, cn, pw) in [
        ("cn=kim,ou=people,dc=example,dc=com", "kim", "kim-ldap-pw"),
        (
            // A user name with RFC 4514 specials: comma, plus, quote.
            "cn=Dupont\\, Jean\\+\\\"JJ\\\",ou=people,dc=example,dc=com",
            "Dupont, Jean+\"JJ\"",
            "jean-ldap-pw",
        ),
        ("cn=lea,ou=people,dc=example,dc=com", "lea", "lea-ldap-pw"),
    ] {
        write!(
            out,
            "dn: {dn}\nobjectClass: inetOrgPerson\ncn: {cn}\nsn: {cn}\nuserPassword: {pw}\n\n"
        )
        .unwrap();
    }
}

/// LDAP against a real slapd: right and wrong passwords, special
/// characters in the DN, an injection attempt, StartTLS and LDAPS, the
/// methods' order, and the server down.
#[tokio::test]
async fn ldap_against_slapd() {
    let server = tokio::task::spawn_blocking(|| slapd::Slapd::start_with(true, ldap_entries))
        .await
        .unwrap();
    let app = App::spawn_with(Backend::Sqlite, settings(), |s| s).await;
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    let dom = d[0];
    for name in [
        "kim",
        "Dupont, Jean+\"JJ\"",
        "cn=admin,dc=example,dc=com",
        "*",
    ] {
        app.user(&t, cid, dom, name).await;
    }
    let lea = user_with_password(&app, &t, cid, dom, "lea", "lea-tws-pw").await;
    set_param(&app, &t, cid, "domains", dom, "AuthMethods", "LDAP").await;
    set_param(&app, &t, cid, "domains", dom, "AuthLdapServer", "127.0.0.1").await;
    let port = server.port.to_string();
    set_param(&app, &t, cid, "domains", dom, "AuthLdapPort", &port).await;
    set_param(&app, &t, cid, "domains", dom, "AuthLdapDn", LDAP_DN).await;
    let login = |user: &str, pw: &str| json!({"domain": "Paris", "userName": user, "password": pw});

    let r = user_login(&app, login("kim", "kim-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["method"], "LDAP");
    let r = user_login(&app, login("kim", "wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // Never an anonymous bind with an empty password.
    let r = user_login(&app, login("kim", "")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // Special characters are escaped into the right DN.
    let r = user_login(&app, login("Dupont, Jean+\"JJ\"", "jean-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Injection: a user name that would be the root DN if pasted raw into
    // the template "?" binds as an escaped, harmless value.
    set_param(&app, &t, cid, "domains", dom, "AuthLdapDn", "?").await;
    let r = user_login(
        &app,
        login("cn=admin,dc=example,dc=com", slapd::ADMIN_PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    set_param(&app, &t, cid, "domains", dom, "AuthLdapDn", LDAP_DN).await;
    let r = user_login(&app, login("*", "kim-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // Methods in order: LDAP refuses lea's TWP password, TWS accepts it.
    set_param(&app, &t, cid, "users", lea, "AuthMethods", "LDAP|TWS").await;
    let r = user_login(&app, login("lea", "lea-tws-pw")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["method"], "TWS");
    let r = user_login(&app, login("lea", "lea-ldap-pw")).await;
    assert_eq!(r.body["method"], "LDAP", "{}", r.text);

    // StartTLS, then LDAPS (self-signed test certificate).
    set_param(
        &app,
        &t,
        cid,
        "domains",
        dom,
        "AuthLdapCheckCertificate",
        "No",
    )
    .await;
    set_param(
        &app,
        &t,
        cid,
        "domains",
        dom,
        "AuthLdapSecurity",
        "StartTLS",
    )
    .await;
    let r = user_login(&app, login("kim", "kim-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::OK, "StartTLS: {}", r.text);
    set_param(&app, &t, cid, "domains", dom, "AuthLdapSecurity", "LDAPS").await;
    let tls_port = server.tls_port.unwrap().to_string();
    set_param(&app, &t, cid, "domains", dom, "AuthLdapPort", &tls_port).await;
    let r = user_login(&app, login("kim", "kim-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::OK, "LDAPS: {}", r.text);
    // With certificate checking on, the self-signed certificate is refused.
    set_param(
        &app,
        &t,
        cid,
        "domains",
        dom,
        "AuthLdapCheckCertificate",
        "Yes",
    )
    .await;
    let r = user_login(&app, login("kim", "kim-ldap-pw")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);

    // The server down: a clear 503, and no lock-out of the user for it.
    set_param(&app, &t, cid, "domains", dom, "AuthLdapSecurity", "None").await;
    set_param(&app, &t, cid, "domains", dom, "AuthLdapPort", &port).await;
    drop(server);
    for _ in 0..4 {
        let r = user_login(&app, login("kim", "kim-ldap-pw")).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert_eq!(r.body["code"], "ldap_unavailable");
        assert!(
            r.body["message"].as_str().unwrap().contains("127.0.0.1"),
            "{}",
            r.text
        );
    }
    app.stop().await;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(
    url: &str,
    token: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn ws_hello(ws: &mut Ws) -> Value {
    use futures_util::StreamExt;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("hello within 5 s")
            .expect("stream open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "hello" {
                return v;
            }
        }
    }
}

/// A logged-in user controls and watches its own phone through the same
/// endpoints as administrators, and never another user's.
#[tokio::test]
async fn users_reach_only_their_own_phones() {
    let mut sim = twp_pbx_sim::SimConfig::demo();
    sim.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let running = twp_pbx_sim::run(sim, async move {
        let _ = sim_stopped.await;
    })
    .await
    .unwrap();
    let addr = running.addrs[0];
    let app = App::spawn_with(Backend::Sqlite, settings(), |s| s).await;
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "Acme", &["Paris"]).await;
    let did = d[0];
    let (other, od) = app.company(&t, "Other", &["Nice"]).await;
    let mut ids = Vec::new();
    for (user, number) in [("ana", "1000"), ("bob", "1001")] {
        let r = app
            .post(
                &format!("/api/v1/companies/{cid}/users"),
                &t,
                json!({"domainId": did, "userName": user, "password": "phone-pass-1",
                       "devices": [{"number": number, "site": "1.1"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains/{did}/links"),
            &t,
            json!({"role": "csta", "host": addr.ip().to_string(), "port": addr.port(), "capacity": 100,
                   "sites": ["1.*"], "userName": "cti", "password": "s3cret-link"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains/{did}/telephony/restart"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = user_login(
        &app,
        json!({"domain": "Paris", "userName": "ana", "password": "phone-pass-1"}),
    )
    .await;
    let ana = r.body["token"].as_str().unwrap().to_owned();
    let phones = format!("/api/v1/companies/{cid}/domains/{did}/phones");

    // Without TWP Caller, Alerter or Toolkit (guide 7.4.1) her own phone
    // and her events are refused, saying what to grant.
    for (m, path) in [
        (Method::GET, format!("{phones}/1000")),
        (Method::POST, "/api/v1/events/tickets".to_owned()),
    ] {
        let r = app.call(m, &path, Some(&ana), Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert_eq!(r.body["code"], "application_not_authorized", "{}", r.text);
    }
    let host = app.base.trim_start_matches("http://");
    let events = format!("ws://{host}/api/v1/companies/{cid}/domains/{did}/events/ws");
    assert!(ws_connect(&events, Some(&ana)).await.is_err());
    // A license, then TWP Caller granted to her (not to bob).
    app.install_license(&t, 5).await;
    app.grant_application(&t, cid, ("user", ids[0]), "caller")
        .await;

    // Her own phone: state and a call.
    let mut ok = false;
    for _ in 0..100 {
        let r = app.get(&format!("{phones}/1000"), &ana).await;
        if r.status == StatusCode::OK && r.body["supervised"] == true {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "1000 supervised and reachable by its user");
    let r = app
        .post(&format!("{phones}/1000/calls"), &ana, json!({"to": "1001"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Bob's phone is not found for her, whatever the action.
    for (m, path, body) in [
        (Method::GET, format!("{phones}/1001"), None),
        (
            Method::POST,
            format!("{phones}/1001/calls"),
            Some(json!({"to": "1000"})),
        ),
        (
            Method::POST,
            format!("{phones}/1001/calls/current/answer"),
            None,
        ),
        (
            Method::PUT,
            format!("{phones}/1001/do-not-disturb"),
            Some(json!({"on": true})),
        ),
    ] {
        let r = app.call(m, &path, Some(&ana), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    // Nor another company's domain.
    let r = app
        .get(
            &format!("/api/v1/companies/{other}/domains/{}/phones/1000", od[0]),
            &ana,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Administration stays closed to a user token.
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains/{did}/telephony/restart"),
            &ana,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // Events: "all" means her devices; asking for bob's is not found.
    let mut ws = ws_connect(&events, Some(&ana)).await.unwrap();
    let hello = ws_hello(&mut ws).await;
    let devices: Vec<&str> = hello["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    assert_eq!(devices, ["1000"], "{hello}");
    assert!(
        ws_connect(&format!("{events}?devices=1000,1001"), Some(&ana))
            .await
            .is_err()
    );
    // A ticket from a user token opens her stream only.
    let r = app.post("/api/v1/events/tickets", &ana, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ticket = r.body["ticket"].as_str().unwrap();
    let mut ws = ws_connect(&format!("{events}?ticket={ticket}"), None)
        .await
        .unwrap();
    let hello = ws_hello(&mut ws).await;
    assert_eq!(hello["devices"].as_array().unwrap().len(), 1, "{hello}");
    app.stop().await;
    let _ = stop_sim.send(());
}

/// A user changes its own TWS password: the current one is checked (wrong
/// ones count towards the lock-out), the new one follows the same rules as
/// an administrator's, the other sessions end and this one stays; a user
/// without a TWS password has none to change.
async fn users_change_their_own_password(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "ACME", &["Paris"]).await;
    user_with_password(app, &t, cid, d[0], "dan", "dan-pass-12").await;
    let t1 = app.user_token("Paris", "dan", "dan-pass-12").await;
    let t2 = app.user_token("Paris", "dan", "dan-pass-12").await;
    let change = |current: &str, new: &str| json!({"currentPassword": current, "newPassword": new});
    let r = app
        .post(
            "/api/v1/user-auth/password",
            &t1,
            change("guess", "new-pass-34"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "currentPassword");
    let r = app
        .post(
            "/api/v1/user-auth/password",
            &t1,
            change("dan-pass-12", "abc"),
        )
        .await;
    assert_eq!(r.body["field"], "newPassword", "{}", r.text);
    let r = app
        .post(
            "/api/v1/user-auth/password",
            &t1,
            change("dan-pass-12", "new-pass-34"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // this session stays, the other one ended
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t1).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t2).await.status,
        StatusCode::UNAUTHORIZED
    );
    let old = json!({"domain": "Paris", "userName": "dan", "password": "dan-pass-12"});
    assert_eq!(user_login(app, old).await.status, StatusCode::UNAUTHORIZED);
    app.user_token("Paris", "dan", "new-pass-34").await;

    // Three wrong current passwords (max_failed_logins 3): locked, and
    // the guessing session ends.
    for _ in 0..3 {
        let r = app
            .post(
                "/api/v1/user-auth/password",
                &t1,
                change("guess", "x-pass-56"),
            )
            .await;
        assert_eq!(r.body["code"], "wrong_password", "{}", r.text);
    }
    assert_eq!(
        app.get("/api/v1/user-auth/whoami", &t1).await.status,
        StatusCode::UNAUTHORIZED
    );
    let new = json!({"domain": "Paris", "userName": "dan", "password": "new-pass-34"});
    assert_eq!(
        user_login(app, new).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let r = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    assert!(r.text.contains("wrong current passwords"), "{}", r.text);

    // No TWS password (AuthMethods None): nothing to change.
    let eve = app.user(&t, cid, d[0], "eve").await;
    set_param(app, &t, cid, "users", eve, "AuthMethods", "None").await;
    let r = user_login(app, json!({"domain": "Paris", "userName": "eve"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let te = r.body["token"].as_str().unwrap().to_owned();
    let r = app
        .post("/api/v1/user-auth/password", &te, change("", "eve-pass-78"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["code"], "no_tws_password");
}
