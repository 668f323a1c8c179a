//! Grants, parameters and licenses over HTTP, on both store backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[macro_use]
mod common;

use common::{App, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use twp_access::license::keygen;

both_backends!(
    licenses_are_verified_and_seats_enforced,
    grants_follow_the_sharing_rules_and_company_scope,
    parameters_per_level_and_resolution,
);

async fn licenses_are_verified_and_seats_enforced(app: &App) {
    let t = app.super_token().await;
    let r = app.get("/api/v1/license", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "none");
    let id = r.body["installationId"].as_str().unwrap().to_owned();
    // Stable across calls: the seed is stored once.
    assert_eq!(
        app.get("/api/v1/license", &t).await.body["installationId"],
        id.as_str()
    );

    let (cid, ds) = app.company(&t, "A", &["Paris"]).await;
    let u: Vec<i64> = [
        app.user(&t, cid, ds[0], "u1").await,
        app.user(&t, cid, ds[0], "u2").await,
        app.user(&t, cid, ds[0], "u3").await,
    ]
    .to_vec();
    let all = app.group(&t, cid, ds[0], "All", &u).await;
    let grants = format!("/api/v1/companies/{cid}/grants");
    let caller_to = |kind: &str, id: i64| json!({"subject": {"type": kind, "id": id}, "objectType": "application", "application": "caller"});

    // No license: no seat.
    let r = app.post(&grants, &t, caller_to("user", u[0])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["code"], "seats_exceeded");
    assert!(r.text.contains("0 licensed"), "{}", r.text);

    // Refused files, with the library's reasons.
    let other = keygen().unwrap();
    let cases = [
        (app.license(&other, &id, "2099-12-31", 2), "bad_signature"),
        (
            app.license(&app.key, "000000-000000-000000-000000", "2099-12-31", 2),
            "foreign_installation",
        ),
        (
            app.license(&app.key, &id, "2001-01-01", 2),
            "license_expired",
        ),
        ("TWP LICENSE 1\ncustomer: x\n".to_owned(), "invalid_license"),
    ];
    for (text, code) in cases {
        let r = app.put("/api/v1/license", &t, json!({"text": text})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["code"], code, "{}", r.text);
    }
    assert_eq!(app.get("/api/v1/license", &t).await.body["state"], "none");

    let r = app
        .put(
            "/api/v1/license",
            &t,
            json!({"text": app.license(&app.key, &id, "2099-12-31", 2)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "valid");
    assert_eq!(r.body["license"]["customer"], "ACME SA");

    // The group has 3 users and there are 2 seats: refused, naming the numbers.
    let r = app.post(&grants, &t, caller_to("group", all)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.contains("0 in use + 3 new > 2 licensed"), "{msg}");
    let r = app.post(&grants, &t, caller_to("user", u[0])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let g1 = r.body["id"].as_i64().unwrap();
    // Twice: conflict.
    let r = app.post(&grants, &t, caller_to("user", u[0])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = app.post(&grants, &t, caller_to("user", u[1])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.post(&grants, &t, caller_to("user", u[2])).await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("2 in use + 1 new > 2 licensed"),
        "{}",
        r.text
    );

    let usage = app.get("/api/v1/license/usage", &t).await;
    let caller = usage
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["application"] == "caller")
        .unwrap();
    assert_eq!(
        (caller["inUse"].as_u64(), caller["licensed"].as_u64()),
        (Some(2), Some(2))
    );

    // Explain: u1 has TWP Caller through its own grant.
    let r = app
        .get(
            &format!(
                "/api/v1/companies/{cid}/users/{}/access?objectType=application",
                u[0]
            ),
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["grantId"], g1);
    assert_eq!(r.body[0]["via"]["type"], "user");

    // Freeing a seat lets the third one in.
    assert_eq!(
        app.delete(&format!("{grants}/{g1}"), &t).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&grants, &t, caller_to("user", u[2])).await.status,
        StatusCode::CREATED
    );

    // Audited.
    let audit = app.get("/api/v1/audit?objectType=grant", &t).await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        4,
        "{}",
        audit.text
    );
    let audit = app.get("/api/v1/audit?objectType=license", &t).await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );

    // Licenses are the super user's.
    let ta = app.scoped_admin(&t, "a-admin", cid).await;
    assert_eq!(
        app.get("/api/v1/license", &ta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put("/api/v1/license", &ta, json!({"text": ""}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn grants_follow_the_sharing_rules_and_company_scope(app: &App) {
    let t = app.super_token().await;
    let (a, da) = app.company(&t, "A", &["Paris", "Lyon"]).await;
    let (b, db) = app.company(&t, "B", &["Nice"]).await;
    let p1 = app.user(&t, a, da[0], "p1").await;
    let p2 = app.user(&t, a, da[0], "p2").await;
    let l1 = app.user(&t, a, da[1], "l1").await;
    let n1 = app.user(&t, b, db[0], "n1").await;
    let gp = app.group(&t, a, da[0], "Paris team", &[p1, p2]).await;
    let ta = app.scoped_admin(&t, "a-admin", a).await;
    let grants = format!("/api/v1/companies/{a}/grants");

    // Calendars may be shared between domains (7.4.3).
    let r = app
        .post(&grants, &ta, json!({"subject": {"type": "user", "id": l1}, "objectType": "calendar", "owner": {"type": "group", "id": gp}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let cal = r.body["id"].as_i64().unwrap();
    // Call logs may not (7.4.6).
    let r = app
        .post(&grants, &ta, json!({"subject": {"type": "user", "id": l1}, "objectType": "call_log", "owner": {"type": "user", "id": p1}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["code"], "sharing_rule");
    assert!(r.text.contains("7.4.6"), "{}", r.text);
    // Statistics are given to a user, not a group.
    let r = app
        .post(&grants, &ta, json!({"subject": {"type": "group", "id": gp}, "objectType": "statistics", "owner": {"type": "user", "id": p1}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // Bad input names the field.
    let r = app
        .post(
            &grants,
            &ta,
            json!({"subject": {"type": "robot", "id": 1}, "objectType": "calendar"}),
        )
        .await;
    assert_eq!(r.body["field"], "subject", "{}", r.text);
    let r = app
        .post(&grants, &ta, json!({"subject": {"type": "user", "id": p1}, "objectType": "application", "application": "nope"}))
        .await;
    assert_eq!(r.body["field"], "application", "{}", r.text);
    // Another company's user is not found, through either company path.
    let r = app
        .post(&grants, &ta, json!({"subject": {"type": "user", "id": p1}, "objectType": "calendar", "owner": {"type": "user", "id": n1}}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .post(&format!("/api/v1/companies/{b}/grants"), &ta, json!({"subject": {"type": "user", "id": n1}, "objectType": "calendar", "owner": {"type": "user", "id": n1}}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/companies/{b}/grants"), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{b}/grants/{cal}"), &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/companies/{a}/users/{n1}/access?objectType=calendar"),
            &ta
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Lists per subject and per object.
    let r = app
        .get(&format!("{grants}?subjectType=user&subjectId={l1}"), &ta)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    let r = app
        .get(
            &format!("{grants}?objectType=calendar&ownerType=group&ownerId={gp}"),
            &ta,
        )
        .await;
    assert_eq!(r.body[0]["id"], cal, "{}", r.text);
    let r = app
        .get(&format!("{grants}?subjectType=user&subjectId={p1}"), &ta)
        .await;
    assert!(r.body.as_array().unwrap().is_empty());

    // Explain: l1 sees the calendars of the Paris team through grant `cal`.
    let r = app
        .get(
            &format!("/api/v1/companies/{a}/users/{l1}/access?objectType=calendar"),
            &ta,
        )
        .await;
    assert_eq!(r.body[0]["grantId"], cal, "{}", r.text);
    assert_eq!(r.body[0]["owner"]["id"], gp);
}

async fn parameters_per_level_and_resolution(app: &App) {
    let t = app.super_token().await;
    let (a, da) = app.company(&t, "A", &["Paris"]).await;
    let (b, _) = app.company(&t, "B", &["Nice"]).await;
    let u = app.user(&t, a, da[0], "u").await;
    let g1 = app.group(&t, a, da[0], "G1", &[u]).await;
    let g2 = app.group(&t, a, da[0], "G2", &[u]).await;
    let ta = app.scoped_admin(&t, "a-admin", a).await;
    let key = "DisplayCalendarPrivate";

    // Catalogue: search, Expert hidden unless asked.
    let r = app
        .get("/api/v1/parameters?q=timesynchronization", &ta)
        .await;
    assert!(r.body.as_array().unwrap().is_empty(), "{}", r.text);
    let r = app
        .get("/api/v1/parameters?q=timesynchronization&expert=true", &ta)
        .await;
    assert_eq!(
        r.body[0]["key"], "timeSynchronizationDirectories",
        "{}",
        r.text
    );
    assert_eq!(r.body[0]["expert"], true);
    let r = app.get("/api/v1/parameters?app=nope", &ta).await;
    assert_eq!(r.body["field"], "app");

    // Defaults are the super user's.
    let r = app
        .put(
            &format!("/api/v1/parameters/defaults/{key}"),
            &ta,
            json!({"value": "Yes"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .put(
            &format!("/api/v1/parameters/defaults/{key}"),
            &t,
            json!({"value": "yes"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["value"], "Yes");

    // Values are checked by type; the error names key and type.
    let vals = format!("/api/v1/companies/{a}/parameters");
    let r = app
        .put(
            &format!("{vals}/domains/{}/{key}", da[0]),
            &ta,
            json!({"value": "maybe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.contains(key) && msg.contains("Yes/No"), "{msg}");
    let r = app
        .put(
            &format!("{vals}/domains/{}/NoSuchKey", da[0]),
            &ta,
            json!({"value": "1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.body["field"], "key");

    let resolved = |body: &Value| {
        body.as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == key)
            .unwrap()
            .clone()
    };
    let res = format!("/api/v1/companies/{a}/users/{u}/parameters?app=system-settings");
    assert_eq!(
        resolved(&app.get(&res, &ta).await.body)["source"],
        "default"
    );

    for (level, id, value) in [
        ("domains", da[0], "No"),
        ("groups", g2, "Yes"),
        ("groups", g1, "No"),
    ] {
        let r = app
            .put(
                &format!("{vals}/{level}/{id}/{key}"),
                &ta,
                json!({"value": value}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // Two groups, no ranks: the oldest (g1) wins and g2 is shadowed.
    let p = resolved(&app.get(&res, &ta).await.body);
    assert_eq!(
        (
            p["source"].as_str(),
            p["sourceId"].as_i64(),
            p["value"].as_str()
        ),
        (Some("group"), Some(g1), Some("No"))
    );
    assert_eq!(p["shadowedGroups"], json!([g2]));
    // Rank g2 first.
    let r = app
        .put(
            &format!("/api/v1/companies/{a}/groups/{g2}/parameter-rank"),
            &ta,
            json!({"rank": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let p = resolved(&app.get(&res, &ta).await.body);
    assert_eq!(
        (p["sourceId"].as_i64(), p["value"].as_str()),
        (Some(g2), Some("Yes"))
    );
    // The user's own value beats everything; unset goes back.
    app.put(
        &format!("{vals}/users/{u}/{key}"),
        &ta,
        json!({"value": "No"}),
    )
    .await;
    assert_eq!(resolved(&app.get(&res, &ta).await.body)["source"], "user");
    let r = app.get(&format!("{vals}/users/{u}"), &ta).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(
        app.delete(&format!("{vals}/users/{u}/{key}"), &ta)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("{vals}/users/{u}/{key}"), &ta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(resolved(&app.get(&res, &ta).await.body)["source"], "group");

    // Scope: company B is out of reach, and A's domain is not found under B.
    let r = app
        .put(
            &format!("/api/v1/companies/{b}/parameters/domains/{}/{key}", da[0]),
            &ta,
            json!({"value": "No"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .put(
            &format!("/api/v1/companies/{b}/parameters/domains/{}/{key}", da[0]),
            &t,
            json!({"value": "No"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/v1/companies/{b}/users/{u}/parameters"), &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Audited.
    let audit = app.get("/api/v1/audit?objectType=parameter", &t).await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        6,
        "{}",
        audit.text
    );
}
