//! The admin API end to end over real HTTP, on both store backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[macro_use]
mod common;

use std::time::Duration;

use common::{App, Backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use twp_api::ApiSettings;

both_backends!(
    boot_mode_blocks_everything_until_the_password_changes,
    chapter_3_setup_through_the_api,
    validation_errors_name_the_field,
    a_company_scoped_administrator_cannot_reach_another_company,
    repeated_failed_logins_lock_the_account,
    secrets_are_never_returned_nor_audited,
    a_rejected_write_leaves_nothing,
    administrators_are_managed_by_super_users,
    health_metrics_and_reference_page,
    dialing_plan_of_a_domain,
);

async fn boot_mode_blocks_everything_until_the_password_changes(app: &App) {
    let r = app.login("tws", "tws").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["mustChangePassword"], true);
    let t = r.body["token"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/companies", &t).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "password_change_required");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/auth/password")
    );
    let r = app
        .post("/api/v1/companies", &t, json!({"name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // allowed in boot mode: who am I
    let r = app.get("/api/v1/auth/me", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["administrator"]["mustChangePassword"], true);
    // weak passwords are refused
    for weak in ["tws", "short", "TWS", "twstwstws".get(..3).unwrap()] {
        let r = app
            .post(
                "/api/v1/auth/password",
                &t,
                json!({"currentPassword": "tws", "newPassword": weak}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(r.body["field"], "newPassword");
    }
    let r = app
        .post(
            "/api/v1/auth/password",
            &t,
            json!({"currentPassword": "nope", "newPassword": "a much better one"}),
        )
        .await;
    assert_eq!(r.body["field"], "currentPassword");
    let r = app
        .post(
            "/api/v1/auth/password",
            &t,
            json!({"currentPassword": "tws", "newPassword": "a much better one"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // the change ended the session
    assert_eq!(
        app.get("/api/v1/auth/me", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("tws", "tws").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.login("tws", "a much better one").await;
    assert_eq!(r.body["mustChangePassword"], false);
    let t = r.body["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/companies", t).await.status, StatusCode::OK);
    // logout ends the token
    let r = app
        .call(Method::POST, "/api/v1/auth/logout", Some(t), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/companies", t).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/companies", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn chapter_3_setup_through_the_api(app: &App) {
    let t = app.super_token().await;
    let c = app
        .post("/api/v1/companies", &t, json!({"name": "SSDEI"}))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let cid = c.body["id"].as_i64().unwrap();
    let d = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "Paris", "numberingPlanLength": 4}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let did = d.body["id"].as_i64().unwrap();
    let u = app
        .post(
            &format!("/api/v1/companies/{cid}/users"),
            &t,
            json!({
                "domainId": did, "userName": "jdupont", "firstName": "Jean", "lastName": "Dupont",
                "gsm": "+33 6 12 34 56 78", "email": "jean.dupont@ssdei.fr", "enabled": true,
                "password": "secret-pw", "culture": "fr-FR", "vmPassword": "4321",
                "devices": [{"number": "1001", "protocol": "CSTA", "video": false}]
            }),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    assert_eq!(u.body["gsm"], "+33612345678");
    assert_eq!(u.body["devices"][0]["number"], "1001");
    let uid = u.body["id"].as_i64().unwrap();
    let g = app
        .post(
            &format!("/api/v1/companies/{cid}/groups"),
            &t,
            json!({"domainId": did, "name": "All"}),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.text);
    let gid = g.body["id"].as_i64().unwrap();
    let m = app
        .post(
            &format!("/api/v1/companies/{cid}/groups/{gid}/members"),
            &t,
            json!({"userIds": [uid]}),
        )
        .await;
    assert_eq!(m.body["added"], 1, "{}", m.text);
    let members = app
        .get(&format!("/api/v1/companies/{cid}/groups/{gid}/members"), &t)
        .await;
    assert_eq!(members.body["items"][0]["userName"], "jdupont");
    assert_eq!(
        app.get(&format!("/api/v1/companies/{cid}/groups/{gid}"), &t)
            .await
            .body["memberCount"],
        1
    );
    // a second device, then its replacement and removal
    let dev = app
        .post(&format!("/api/v1/companies/{cid}/users/{uid}/devices"), &t, json!({"number": "1002", "protocol": "SIP", "sip": {"port": 5060, "dtmfMethod": "RFC2833", "password": "sip-pw"}}))
        .await;
    assert_eq!(dev.status, StatusCode::CREATED, "{}", dev.text);
    assert_eq!(dev.body["sip"]["hasPassword"], true);
    let dev_id = dev.body["id"].as_i64().unwrap();
    let dev2 = app
        .call(
            Method::PUT,
            &format!("/api/v1/companies/{cid}/users/{uid}/devices/{dev_id}"),
            Some(&t),
            Some(json!({"number": "1003", "protocol": "SIP"})),
        )
        .await;
    assert_eq!(dev2.status, StatusCode::OK, "{}", dev2.text);
    assert_eq!(
        dev2.body["sip"]["hasPassword"], true,
        "absent password is kept"
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/companies/{cid}/users/{uid}/devices/{dev_id}"),
            &t
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // patch: clear a field, keep the others
    let p = app
        .patch(
            &format!("/api/v1/companies/{cid}/users/{uid}"),
            &t,
            json!({"firstName": null, "enabled": false}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(p.body["firstName"], Value::Null);
    assert_eq!(p.body["lastName"], "Dupont");
    assert_eq!(p.body["enabled"], false);
    assert_eq!(p.body["hasPassword"], true);
    // filters
    let l = app
        .get(
            &format!("/api/v1/companies/{cid}/users?q=dup&enabled=false&domainId={did}"),
            &t,
        )
        .await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    let l = app
        .get(&format!("/api/v1/companies/{cid}/users?number=1001"), &t)
        .await;
    assert_eq!(l.body["items"][0]["id"], uid);
    // the audit log has the story, newest first
    let a = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    let actions: Vec<(String, String)> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["objectType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions.last().unwrap(),
        &("create".to_owned(), "company".to_owned())
    );
    assert!(actions.contains(&("update".into(), "user".into())));
    let upd = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "update" && e["objectType"] == "user")
        .unwrap();
    assert_eq!(upd["before"]["firstName"], "Jean");
    assert_eq!(upd["after"]["firstName"], Value::Null);
    assert_eq!(upd["adminName"], "tws");
    // delete group, user, domain, company
    assert_eq!(
        app.delete(
            &format!("/api/v1/companies/{cid}/groups/{gid}/members/{uid}"),
            &t
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{cid}/groups/{gid}"), &t)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{cid}/users/{uid}"), &t)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/companies/{cid}/users/{uid}"), &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{cid}/domains/{did}"), &t)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{cid}"), &t)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

async fn validation_errors_name_the_field(app: &App) {
    let t = app.super_token().await;
    let cid = app
        .post("/api/v1/companies", &t, json!({"name": "A"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "Paris", "numberingPlanLength": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field"], "numberingPlanLength");
    let did = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "Paris", "numberingPlanLength": 4}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "paris", "numberingPlanLength": 4}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["field"], "name");
    let users = format!("/api/v1/companies/{cid}/users");
    let r = app
        .post(
            &users,
            &t,
            json!({"domainId": did, "userName": "x", "email": "not-an-email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["code"], "invalid_email");
    assert_eq!(r.body["field"], "email");
    // several bad fields at once are all reported
    let r = app
        .post(&users, &t, json!({"domainId": did, "userName": "", "culture": "french", "devices": [{"number": "12a"}, {"number": "1001", "protocol": "H323"}]}))
        .await;
    assert_eq!(r.body["code"], "invalid_fields", "{}", r.text);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "userName",
            "culture",
            "devices[0].number",
            "devices[1].protocol"
        ]
    );
    let r = app
        .post(
            &users,
            &t,
            json!({"domainId": did, "userName": "a", "vmPassword": "12ab"}),
        )
        .await;
    assert_eq!(r.body["field"], "vmPassword");
    let r = app
        .post(
            &users,
            &t,
            json!({"domainId": did, "userName": "a", "password": "123"}),
        )
        .await;
    assert_eq!(r.body["field"], "password");
    let r = app
        .post(
            &users,
            &t,
            json!({"domainId": did, "userName": "a", "unknownField": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("unknownField"), "{}", r.text);
    assert!(
        app.post(
            &users,
            &t,
            json!({"domainId": did, "userName": "a", "devices": [{"number": "1001"}]})
        )
        .await
        .status
        .is_success()
    );
    let r = app
        .post(&users, &t, json!({"domainId": did, "userName": "A"}))
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::CONFLICT, Some("userName"))
    );
    let r = app
        .post(
            &users,
            &t,
            json!({"domainId": did, "userName": "b", "devices": [{"number": "1001"}]}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::CONFLICT, Some("devices[0].number"))
    );
    let r = app
        .post(&users, &t, json!({"domainId": 999999, "userName": "c"}))
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("domainId"))
    );
    let r = app
        .get(&format!("/api/v1/companies/{cid}/users/999999"), &t)
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = app.get("/api/v1/nothing-here", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_company_scoped_administrator_cannot_reach_another_company(app: &App) {
    let t = app.super_token().await;
    let mut ids = Vec::new();
    for name in ["A", "B"] {
        let cid = app
            .post("/api/v1/companies", &t, json!({"name": name}))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let did = app
            .post(
                &format!("/api/v1/companies/{cid}/domains"),
                &t,
                json!({"name": "D", "numberingPlanLength": 4}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let uid = app
            .post(
                &format!("/api/v1/companies/{cid}/users"),
                &t,
                json!({"domainId": did, "userName": "u", "devices": [{"number": "100"}]}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let gid = app
            .post(
                &format!("/api/v1/companies/{cid}/groups"),
                &t,
                json!({"domainId": did, "name": "G"}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        ids.push((cid, did, uid, gid));
    }
    let (a, b) = (ids[0], ids[1]);
    let r = app.post("/api/v1/admins", &t, json!({"name": "a-admin", "password": "admin-of-a!", "companyIds": [a.0], "mustChangePassword": false})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ta = app.login("a-admin", "admin-of-a!").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // own company works
    assert_eq!(
        app.get(&format!("/api/v1/companies/{}/users/{}", a.0, a.2), &ta)
            .await
            .status,
        StatusCode::OK
    );
    let list = app.get("/api/v1/companies", &ta).await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A"]);
    // every path into B is not found, whatever the verb
    let (bc, bd, bu, bg) = b;
    let paths = [
        format!("/api/v1/companies/{bc}"),
        format!("/api/v1/companies/{bc}/domains"),
        format!("/api/v1/companies/{bc}/domains/{bd}"),
        format!("/api/v1/companies/{bc}/users"),
        format!("/api/v1/companies/{bc}/users/{bu}"),
        format!("/api/v1/companies/{bc}/groups"),
        format!("/api/v1/companies/{bc}/groups/{bg}"),
        format!("/api/v1/companies/{bc}/groups/{bg}/members"),
    ];
    for p in &paths {
        let r = app.get(p, &ta).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {p}: {}", r.text);
        assert!(!r.text.contains("\"B\""), "{p} leaks: {}", r.text);
    }
    assert_eq!(
        app.patch(
            &format!("/api/v1/companies/{bc}"),
            &ta,
            json!({"name": "pwned"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{bc}/users/{bu}"), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/companies/{bc}/users"),
            &ta,
            json!({"domainId": bd, "userName": "x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // B's ids through A's paths are not found either
    assert_eq!(
        app.get(&format!("/api/v1/companies/{}/users/{bu}", a.0), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/companies/{}/domains/{bd}", a.0), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{}/groups/{bg}", a.0), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            &format!("/api/v1/companies/{}/users", a.0),
            &ta,
            json!({"domainId": bd, "userName": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/companies/{}/groups/{}/members", a.0, a.3),
            &ta,
            json!({"userIds": [bu]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/companies/{}/users/{}", a.0, a.2),
            &ta,
            json!({"domainId": bd}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // B is untouched
    assert_eq!(
        app.get(&format!("/api/v1/companies/{bc}"), &t).await.body["name"],
        "B"
    );
    assert_eq!(
        app.get(&format!("/api/v1/companies/{bc}/groups/{bg}"), &t)
            .await
            .body["memberCount"],
        0
    );
    // no company creation, no administrators, no audit of B
    assert_eq!(
        app.post("/api/v1/companies", &ta, json!({"name": "C"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/admins", &ta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch("/api/v1/admins/1", &ta, json!({"superUser": true}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/api/v1/audit?companyId={bc}"), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let audit = app.get("/api/v1/audit?limit=1000", &ta).await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["companyId"] == a.0),
        "{}",
        audit.text
    );
    assert!(!audit.body["items"].as_array().unwrap().is_empty());
}

async fn repeated_failed_logins_lock_the_account(app: &App) {
    let t = app.super_token().await;
    app.post("/api/v1/admins", &t, json!({"name": "victim", "password": "right-password", "superUser": true, "mustChangePassword": false})).await;
    for _ in 0..2 {
        assert_eq!(
            app.login("victim", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // the third failure (max_failed_logins = 3 here) locks
    assert_eq!(
        app.login("victim", "wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.login("victim", "right-password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.body["code"], "locked");
    assert!(r.retry_after.unwrap().parse::<u64>().unwrap() > 0);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("reset-password")
    );
    // the lock-out and failures are audited
    let a = app.get("/api/v1/audit?adminName=victim", &t).await;
    let actions: Vec<&str> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["lockout", "login_failed", "login_failed"]);
    // a super user's password reset unlocks
    let id = app.get("/api/v1/admins", &t).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "victim")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v1/admins/{id}"),
        &t,
        json!({"password": "new-temporary"}),
    )
    .await;
    let r = app.login("victim", "new-temporary").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["mustChangePassword"], true);
    // unknown names answer like wrong passwords
    let r = app.login("nobody", "x").await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("wrong administrator name or password")
        )
    );
}

async fn secrets_are_never_returned_nor_audited(app: &App) {
    let t = app.super_token().await;
    let cid = app
        .post("/api/v1/companies", &t, json!({"name": "A"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let did = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "D", "numberingPlanLength": 4}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let u = app
        .post(&format!("/api/v1/companies/{cid}/users"), &t, json!({"domainId": did, "userName": "u", "password": "UserSecret-1", "vmPassword": "987654",
            "devices": [{"number": "100", "password": "DevSecret-2", "sip": {"password": "SipSecret-3"}}]}))
        .await;
    let uid = u.body["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/companies/{cid}/users/{uid}"),
        &t,
        json!({"password": "UserSecret-4"}),
    )
    .await;
    let everything = [
        u.text,
        app.get(&format!("/api/v1/companies/{cid}/users/{uid}"), &t)
            .await
            .text,
        app.get(&format!("/api/v1/companies/{cid}/users"), &t)
            .await
            .text,
        app.get("/api/v1/audit?limit=1000", &t).await.text,
        app.get("/api/v1/admins", &t).await.text,
    ]
    .join("\n");
    for secret in [
        "UserSecret-1",
        "987654",
        "DevSecret-2",
        "SipSecret-3",
        "UserSecret-4",
        "correct horse battery",
        "argon2",
        "v1:",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    assert!(
        everything.contains("\"hasPassword\":true")
            && everything.contains("\"hasVmPassword\":true")
    );
    // null clears a secret
    let r = app
        .patch(
            &format!("/api/v1/companies/{cid}/users/{uid}"),
            &t,
            json!({"vmPassword": null}),
        )
        .await;
    assert_eq!(r.body["hasVmPassword"], false);
    assert_eq!(r.body["hasPassword"], true);
}

async fn a_rejected_write_leaves_nothing(app: &App) {
    let t = app.super_token().await;
    let cid = app
        .post("/api/v1/companies", &t, json!({"name": "A"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let did = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "D", "numberingPlanLength": 4}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let users = format!("/api/v1/companies/{cid}/users");
    app.post(
        &users,
        &t,
        json!({"domainId": did, "userName": "first", "devices": [{"number": "100"}]}),
    )
    .await;
    let before = app.get("/api/v1/audit?limit=1000", &t).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    // the second device is taken: neither the user nor its first device may remain
    let r = app.post(&users, &t, json!({"domainId": did, "userName": "second", "devices": [{"number": "101"}, {"number": "100"}]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["field"], "devices[1].number");
    let l = app.get(&format!("{users}?q=second"), &t).await;
    assert!(l.body["items"].as_array().unwrap().is_empty());
    assert!(
        app.post(
            &users,
            &t,
            json!({"domainId": did, "userName": "third", "devices": [{"number": "101"}]})
        )
        .await
        .status
        .is_success()
    );
    let after = app.get("/api/v1/audit?limit=1000", &t).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1, "only the successful create is audited");
}

async fn administrators_are_managed_by_super_users(app: &App) {
    let t = app.super_token().await;
    let me = app.get("/api/v1/auth/me", &t).await.body["administrator"]["id"]
        .as_i64()
        .unwrap();
    // the only super user cannot be removed or demoted
    let r = app.delete(&format!("/api/v1/admins/{me}"), &t).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_super_user"))
    );
    let r = app
        .patch(
            &format!("/api/v1/admins/{me}"),
            &t,
            json!({"superUser": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            "/api/v1/admins",
            &t,
            json!({"name": "x", "password": "short"}),
        )
        .await;
    assert_eq!(r.body["field"], "password");
    let r = app
        .post(
            "/api/v1/admins",
            &t,
            json!({"name": "x", "password": "long enough", "companyIds": [424242]}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("companyIds"))
    );
    let r = app
        .post(
            "/api/v1/admins",
            &t,
            json!({"name": "second", "password": "long enough", "superUser": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["mustChangePassword"], true);
    let r = app
        .post(
            "/api/v1/admins",
            &t,
            json!({"name": "SECOND", "password": "long enough"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        app.delete(&format!("/api/v1/admins/{me}"), &t).await.status,
        StatusCode::NO_CONTENT
    );
    // a deleted administrator's token dies with it
    assert_eq!(
        app.get("/api/v1/companies", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn health_metrics_and_reference_page(app: &App) {
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    let t = app.super_token().await;
    app.get("/api/v1/companies", &t).await;
    let m = app.call(Method::GET, "/metrics", None, None).await;
    assert!(
        m.text.contains(
            "twp_http_requests_total{method=\"GET\",route=\"/api/v1/companies\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(m.text.contains("twp_objects{type=\"administrator\"} 1"));
    assert!(m.text.contains("twp_database_up 1"));
    let r = app.get("/api/v1/telephony/providers", &t).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("telephony_not_configured")
        )
    );
    let r = app
        .post(
            "/api/v1/demo/pbx/calls",
            &t,
            json!({"from": "1", "to": "2"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_simulator"))
    );
    let spec = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let page = app.call(Method::GET, "/api/docs/", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("swagger"),
        "reference page is served by the binary"
    );
    assert!(!page.text.contains("https://"), "no CDN: {}", page.text);
}

async fn dialing_plan_of_a_domain(app: &App) {
    let t = app.super_token().await;
    let cid = app
        .post("/api/v1/companies", &t, json!({"name": "A"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let did = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "Paris", "numberingPlanLength": 5}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let url = format!("/api/v1/companies/{cid}/domains/{did}/dialplan");
    let r = app.get(&url, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["isDefault"], true);
    assert_eq!(
        r.body["plan"]["globalParameters"]["internalLength"], 5,
        "default plan follows the numbering plan length"
    );
    let test_url = format!("{url}/test");
    let test = |body: Value| app.post(&test_url, &t, body);
    let r = test(json!({"numbers": ["+33155171889", "0033155171889"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["results"][0]["dial"]["number"], "00155171889",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["results"][1]["canonical"]["number"], "+33155171889",
        "{}",
        r.text
    );
    assert!(
        !r.body["results"][0]["dial"]["steps"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // a rule that cannot be honoured is refused, naming it, and nothing changes
    let mut plan = app.get(&url, &t).await.body["plan"].clone();
    let n = plan["specificRules"].as_array().unwrap().len();
    plan["specificRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"priority": 5, "pattern": "[(?<a-b>x)]", "value": "1"}));
    let r = app
        .call(Method::PUT, &url, Some(&t), Some(plan.clone()))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["code"], "invalid_plan");
    assert_eq!(r.body["field"], format!("plan.specificRules[{n}]"));
    assert_eq!(app.get(&url, &t).await.body["isDefault"], true);
    // a draft can be tested before it is saved
    plan["specificRules"][n] = json!({"priority": 50, "pattern": "3611", "value": "03611"});
    let r = test(json!({"numbers": ["3611"], "plan": plan})).await;
    assert_eq!(
        r.body["results"][0]["dial"]["number"], "03611",
        "{}",
        r.text
    );
    assert_eq!(
        test(json!({"numbers": ["3611"]})).await.body["results"][0]["dial"]["number"],
        "3611"
    );
    // save it: import then export gives the same document
    let r = app
        .call(Method::PUT, &url, Some(&t), Some(plan.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["isDefault"], false);
    assert_eq!(r.body["plan"], plan);
    assert_eq!(
        test(json!({"numbers": ["3611"]})).await.body["results"][0]["dial"]["number"],
        "03611"
    );
    let audit = app.get("/api/v1/audit?objectType=dialplan", &t).await;
    assert_eq!(
        audit.body["items"][0]["after"]["specificRules"][n]["value"],
        "03611"
    );
    // and back to the default
    assert_eq!(app.delete(&url, &t).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&url, &t).await.body["isDefault"], true);
    assert_eq!(test(json!({"numbers": []})).await.body["field"], "numbers");
    assert_eq!(
        app.get(
            &format!("/api/v1/companies/{cid}/domains/999999/dialplan"),
            &t
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

/// The simulator as the API's scenario interface (as `twp demo` plugs it).
struct SimScenario(twp_pbx_sim::Simulator);

impl twp_api::scenario::PbxScenario for SimScenario {
    fn external_call(&self, from: &str, to: &str) -> Result<String, String> {
        self.0.external_call(from, to).map_err(|e| e.to_string())
    }
    fn answer(&self, device: &str) -> Result<String, String> {
        self.0.answer(device).map_err(|e| e.to_string())
    }
    fn hang_up(&self, device: &str) -> Result<String, String> {
        self.0.hang_up(device).map_err(|e| e.to_string())
    }
    fn drop_links(&self) -> usize {
        self.0.drop_links(None)
    }
}

/// A WebSocket event client of the API.
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

/// The next JSON message of an event stream that satisfies `want`
/// (earlier ones are skipped), within 5 seconds.
async fn ws_until(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> Value {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("event within 5 s")
            .expect("stream open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if want(&v) {
                return v;
            }
        }
    }
}

fn call_state(device: &'static str, state: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "callState" && v["device"] == device && v["call"]["state"] == state
}

async fn until_ok(mut f: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The "done when", through HTTP against the PBX simulator: a link
/// configured through the API, the domain's telephony restarted, an
/// outside call rings a user's phone, the event reaches a WebSocket client,
/// the call is answered, transferred and hung up through the API; link
/// loss and recovery show in the provider states and on the event stream.
#[tokio::test]
async fn telephony_through_the_api() {
    let mut sim = twp_pbx_sim::SimConfig::demo();
    sim.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let running = twp_pbx_sim::run(sim, async move {
        let _ = sim_stopped.await;
    })
    .await
    .unwrap();
    let addr = running.addrs[0];

    let trace_dir = std::env::temp_dir().join(format!("twp-traces-{}", std::process::id()));
    let settings = ApiSettings {
        trace_dir: Some(trace_dir.clone()),
        ..ApiSettings::default()
    };
    let scenario = std::sync::Arc::new(SimScenario(running.simulator.clone()));
    let app = App::spawn_with(Backend::Sqlite, settings, |s| s.with_scenario(scenario)).await;
    let t = app.super_token().await;
    let r = app.get("/api/v1/telephony/providers", &t).await;
    assert_eq!(r.body["code"], "telephony_not_configured", "{}", r.text);

    // chapter 3.3: company, domain, users with devices, a CSTA link
    let cid = app
        .post("/api/v1/companies", &t, json!({"name": "Acme"}))
        .await
        .body["id"]
        .clone();
    let did = app
        .post(
            &format!("/api/v1/companies/{cid}/domains"),
            &t,
            json!({"name": "Paris", "numberingPlanLength": 4}),
        )
        .await
        .body["id"]
        .clone();
    for (user, number) in [("ana", "1000"), ("bob", "1001"), ("cyd", "1002")] {
        let r = app
            .post(
                &format!("/api/v1/companies/{cid}/users"),
                &t,
                json!({"domainId": did, "userName": user, "devices": [{"number": number, "site": "1.1"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["devices"][0]["site"], "1.1");
    }
    let links = format!("/api/v1/companies/{cid}/domains/{did}/links");
    let bad = app
        .post(
            &links,
            &t,
            json!({"host": "", "port": 0, "capacity": 0, "sites": ["x"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["host", "port", "capacity", "sites[0]"],
        "{}",
        bad.text
    );
    let link = app
        .post(
            &links,
            &t,
            json!({"role": "csta", "host": addr.ip().to_string(), "port": addr.port(), "capacity": 100,
                   "sites": ["1.*"], "userName": "cti", "password": "s3cret-link", "callbackDevice": "1009"}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    assert_eq!(link.body["hasPassword"], true);
    assert!(!link.text.contains("s3cret-link"));
    let second = app
        .post(
            &links,
            &t,
            json!({"role": "csta", "host": "192.0.2.1", "port": 3211, "capacity": 10}),
        )
        .await;
    assert_eq!(
        (second.status, second.body["field"].as_str()),
        (StatusCode::CONFLICT, Some("role")),
        "{}",
        second.text
    );
    let audit = app.get("/api/v1/audit?objectType=link", &t).await;
    assert!(!audit.text.contains("s3cret-link"), "{}", audit.text);

    let status = format!("/api/v1/companies/{cid}/domains/{did}/telephony");
    assert_eq!(app.get(&status, &t).await.body["state"], "stopped");
    let r = app.post(&format!("{status}/restart"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["state"].as_str(), r.body["devices"].as_u64()),
        (Some("running"), Some(4)),
        "{}",
        r.text
    );
    assert!(
        until_ok(async || app.get("/api/v1/telephony/providers", &t).await.body[0]["current"] == 4)
            .await,
        "every device monitored, the callback device too"
    );
    let p = app.get("/api/v1/telephony/providers", &t).await;
    assert_eq!(
        (
            p.body[0]["connected"].as_bool(),
            p.body[0]["domainId"].clone()
        ),
        (Some(true), did.clone()),
        "{}",
        p.text
    );

    // a PDU trace of 1000 (guide 10.6) while the call below runs
    let traces = format!("{status}/traces");
    let r = app.post(&traces, &t, json!({"device": "1999"})).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("device")),
        "{}",
        r.text
    );
    let r = app
        .post(&traces, &t, json!({"device": "1000", "maxFiles": 2}))
        .await;
    assert_eq!(
        (r.status, r.body["running"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{}",
        r.text
    );

    // a WebSocket client on 1000 and 1001 gets the states, then the call
    let host = app.base.trim_start_matches("http://");
    let events =
        format!("ws://{host}/api/v1/companies/{cid}/domains/{did}/events/ws?devices=1000,1001");
    assert!(
        ws_connect(&events, None).await.is_err(),
        "no token, no stream"
    );
    let mut ws = ws_connect(&events, Some(&t)).await.unwrap();
    let hello = ws_until(&mut ws, |v| v["type"] == "hello").await;
    assert_eq!(hello["devices"].as_array().unwrap().len(), 2, "{hello}");
    let stream = hello["stream"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/v1/demo/pbx/calls",
            &t,
            json!({"from": "0612345678", "to": "1000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ringing = ws_until(&mut ws, call_state("1000", "alerting")).await;
    assert_eq!(ringing["call"]["calling"], "0612345678", "{ringing}");
    let phone = format!("/api/v1/companies/{cid}/domains/{did}/phones");
    let r = app
        .post(&format!("{phone}/1000/calls/current/answer"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    ws_until(&mut ws, call_state("1000", "connected")).await;
    // blind transfer to 1001 through the API: 1000 leaves, 1001 rings
    let r = app
        .post(
            &format!("{phone}/1000/calls/current/transfer"),
            &t,
            json!({"to": "1001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["dialed"], "1001");
    ws_until(&mut ws, call_state("1000", "null")).await;
    ws_until(&mut ws, call_state("1001", "alerting")).await;
    let r = app
        .post(&format!("{phone}/1001/calls/current/answer"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let connected = ws_until(&mut ws, call_state("1001", "connected")).await;
    let seq_connected = connected["seq"].as_u64().unwrap();
    let r = app
        .post(&format!("{phone}/1001/calls/current/hangup"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    ws_until(&mut ws, call_state("1001", "null")).await;
    let idle = app.get(&format!("{phone}/1001"), &t).await;
    assert_eq!(idle.body["activity"], "idle", "{}", idle.text);

    // the trace holds 1000's PDUs, decodable by `twp csta decode`
    let r = app.delete(&traces, &t).await;
    assert_eq!(
        (r.status, r.body["running"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{}",
        r.text
    );
    let name = r.body["files"][0].as_str().unwrap().to_owned();
    let file = app.get(&format!("{traces}/files/{name}"), &t).await;
    assert_eq!(file.status, StatusCode::OK);
    let report = twp_csta::decode_report(file.text.as_bytes());
    let rendered = format!("{report:?}");
    assert!(
        rendered.contains("AnswerCall") && rendered.contains("SingleStepTransferCall"),
        "{}",
        file.text
    );
    assert!(
        !file.text.contains("1002"),
        "only 1000's PDUs: {}",
        file.text
    );
    assert_eq!(
        app.get(&format!("{traces}/files/..%2Fsecret.key"), &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let _ = std::fs::remove_dir_all(&trace_dir);

    // a call from a phone, through the dialing plan
    let r = app
        .post(&format!("{phone}/1000/calls"), &t, json!({"to": "10 02"}))
        .await;
    assert_eq!(
        (r.status, r.body["dialed"].as_str()),
        (StatusCode::OK, Some("1002")),
        "{}",
        r.text
    );
    ws_until(&mut ws, |v| {
        v["type"] == "callState" && v["device"] == "1000" && v["call"]["called"] == "1002"
    })
    .await;
    // errors say what to do
    let r = app
        .post(&format!("{phone}/1001/calls/current/answer"), &t, json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_such_call")),
        "{}",
        r.text
    );
    let r = app
        .post(&format!("{phone}/9999/calls"), &t, json!({"to": "1000"}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("device_not_supervised")),
        "{}",
        r.text
    );
    let r = app
        .put(
            &format!("{phone}/1001/forwarding"),
            &t,
            json!({"type": "forwardSometimes", "destination": "1002"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type")),
        "{}",
        r.text
    );
    // forwarding and do-not-disturb reach the PBX and come back as events
    let r = app
        .put(
            &format!("{phone}/1001/forwarding"),
            &t,
            json!({"type": "forwardImmediate", "destination": "1002"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    ws_until(&mut ws, |v| {
        v["type"] == "forwarding" && v["device"] == "1001"
    })
    .await;
    let r = app.get(&format!("{phone}/1001/forwarding"), &t).await;
    assert_eq!(r.body[0]["destination"], "1002", "{}", r.text);
    let r = app
        .put(
            &format!("{phone}/1001/do-not-disturb"),
            &t,
            json!({"on": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    ws_until(&mut ws, |v| {
        v["type"] == "deviceState" && v["device"] == "1001" && v["doNotDisturb"] == true
    })
    .await;

    // callback ("double call"): 1009 calls 1000, then 1002, and joins them
    let r = app
        .post(&format!("{phone}/1000/calls/current/hangup"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    ws_until(&mut ws, |v| {
        v["type"] == "deviceState" && v["device"] == "1000" && v["activity"] == "idle"
    })
    .await;
    let callback = {
        let (http, url, t) = (
            app.http.clone(),
            format!("{}{phone}/1000/callback", app.base),
            t.clone(),
        );
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(t)
                .json(&json!({"to": "1002"}))
                .send()
                .await
                .unwrap()
        })
    };
    ws_until(&mut ws, call_state("1000", "alerting")).await;
    let r = app
        .post(&format!("{phone}/1000/calls/current/answer"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(
        until_ok(
            async || app.get(&format!("{phone}/1002"), &t).await.body["activity"] == "ringing"
        )
        .await,
        "the customer rings once the user answered"
    );
    let r = app
        .post(&format!("{phone}/1002/calls/current/answer"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let done = callback.await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let joined = app.get(&format!("{phone}/1000"), &t).await;
    assert_eq!(
        joined.body["calls"][0]["state"], "connected",
        "{}",
        joined.text
    );
    app.post(&format!("{phone}/1000/calls/current/hangup"), &t, json!({}))
        .await;

    // resume after an event: the stream replays from there
    let resume = format!("{events}&after={seq_connected}&stream={stream}");
    let mut again = ws_connect(&resume, Some(&t)).await.unwrap();
    let h = ws_until(&mut again, |v| v["type"] == "hello").await;
    assert!(h["devices"].is_null(), "{h}");
    let next = ws_until(&mut again, |_| true).await;
    assert_eq!(next["seq"].as_u64(), Some(seq_connected + 1), "{next}");
    drop(again);
    let r = app
        .get(
            &format!("/api/v1/companies/{cid}/domains/{did}/events/ws?after=1&stream=other"),
            &t,
        )
        .await;
    assert_ne!(r.status, StatusCode::OK);

    // a browser-style client: a one-time ticket instead of a header, on SSE
    let ticket = app.post("/api/v1/events/tickets", &t, json!({})).await.body["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let sse_url = format!(
        "{}/api/v1/companies/{cid}/domains/{did}/events/sse?devices=1002&ticket={ticket}",
        app.base
    );
    let mut sse = app.http.get(&sse_url).send().await.unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    let first = String::from_utf8(sse.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("event: hello"), "{first}");
    assert_eq!(
        app.http.get(&sse_url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "a ticket is used once"
    );
    drop(sse);

    // a company-scoped administrator of another company sees nothing
    let other = app
        .post("/api/v1/companies", &t, json!({"name": "Other"}))
        .await
        .body["id"]
        .clone();
    let r = app
        .post("/api/v1/admins", &t, json!({"name": "otheradm", "password": "other-admin-pw", "companyIds": [other], "mustChangePassword": false}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let o = app.login("otheradm", "other-admin-pw").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get("/api/v1/telephony/providers", &o).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get(&format!("{phone}/1000"), &o).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("{phone}/1000/calls"), &o, json!({"to": "1001"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(ws_connect(&events, Some(&o)).await.is_err());

    // link loss: visible in the provider state and on the stream; recovery too
    let r = app.post("/api/v1/demo/pbx/drop-links", &t, json!({})).await;
    assert_eq!(r.body["linksDropped"], 1, "{}", r.text);
    ws_until(&mut ws, |v| {
        v["type"] == "linkState" && v["connected"] == false
    })
    .await;
    ws_until(&mut ws, |v| {
        v["type"] == "linkState" && v["connected"] == true
    })
    .await;
    assert!(
        until_ok(async || {
            let p = app.get("/api/v1/telephony/providers", &t).await;
            p.body[0]["connected"] == true && p.body[0]["reconnects"].as_u64() >= Some(1)
        })
        .await
    );

    // a restart ends the stream with its close code
    app.post(&format!("{status}/restart"), &t, json!({})).await;
    use futures_util::StreamExt;
    let mut closed = None;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f))) = m {
            closed = Some(u16::from(f.code));
            break;
        }
    }
    assert_eq!(closed, Some(4009));
    app.stop().await;
    let _ = stop_sim.send(());
}

/// The committed `openapi.json` must be what the code generates. Run with
/// `TWP_UPDATE_OPENAPI=1` to rewrite it after an API change.
#[test]
fn committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let generated = twp_api::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("TWP_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json differs from the code: run `TWP_UPDATE_OPENAPI=1 cargo test -p twp-api --test api committed_openapi` and commit it"
    );
}
