//! Creating users over HTTP: the response, the stored user, the list page
//! and the audit entry agree, and a refused creation leaves nothing, on
//! both store backends (SQLite writes the whole creation as one script).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[macro_use]
mod common;

use common::{App, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(
    created_user_is_what_is_listed_and_audited,
    refused_creation_leaves_no_trace,
);

fn audit_of_users(a: &Value) -> Vec<Value> {
    a["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["objectType"] == "user")
        .cloned()
        .collect()
}

async fn created_user_is_what_is_listed_and_audited(app: &App) {
    let t = app.super_token().await;
    let (cid, dids) = app.company(&t, "A", &["Paris"]).await;
    let body = json!({"domainId": dids[0], "userName": "zoe", "firstName": "Zoé", "lastName": "L'Hôpital \"Q\"",
        "email": "zoe@example.fr", "vmPassword": "1234",
        "devices": [{"number": "1001", "password": "pw"}, {"number": "1002", "protocol": "SIP", "sip": {"port": 5060}}]});
    let r = app
        .post(&format!("/api/v1/companies/{cid}/users"), &t, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.body;
    let uid = created["id"].as_i64().unwrap();
    assert!(uid > 0);
    assert_eq!(created["hasVmPassword"], true);
    assert!(created["devices"][0]["id"].as_i64().unwrap() > 0);
    assert!(
        created["devices"][1]["id"].as_i64().unwrap()
            > created["devices"][0]["id"].as_i64().unwrap()
    );
    // the stored user and the list page say the same
    let got = app
        .get(&format!("/api/v1/companies/{cid}/users/{uid}"), &t)
        .await;
    assert_eq!(got.body, created);
    let page = app.get(&format!("/api/v1/companies/{cid}/users"), &t).await;
    assert_eq!(page.body["items"], json!([created.clone()]));
    // the audit entry holds the created user with the ids the database gave
    let a = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    let entries = audit_of_users(&a.body);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[0]["objectId"], uid.to_string());
    assert_eq!(entries[0]["objectName"], "zoe");
    assert_eq!(entries[0]["after"], created);
    assert!(!entries[0].to_string().contains("1234"));
}

async fn refused_creation_leaves_no_trace(app: &App) {
    let t = app.super_token().await;
    let (cid, dids) = app.company(&t, "A", &["Paris"]).await;
    let (_, other) = app.company(&t, "B", &["Lyon"]).await;
    let path = format!("/api/v1/companies/{cid}/users");
    let ok = app
        .post(
            &path,
            &t,
            json!({"domainId": dids[0], "userName": "first", "devices": [{"number": "1001"}]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    // the second device's number is taken
    let r = app
        .post(&path, &t, json!({"domainId": dids[0], "userName": "second", "devices": [{"number": "1002"}, {"number": "1001"}]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["field"], "devices[1].number");
    // the name is taken
    let r = app
        .post(&path, &t, json!({"domainId": dids[0], "userName": "FIRST"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["field"], "userName");
    // a domain of another company
    let r = app
        .post(
            &path,
            &t,
            json!({"domainId": other[0], "userName": "third"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "domainId");
    // more devices than one creation takes
    let many: Vec<_> = (0..65)
        .map(|i| json!({"number": format!("{}", 5000 + i)}))
        .collect();
    let r = app
        .post(
            &path,
            &t,
            json!({"domainId": dids[0], "userName": "fourth", "devices": many}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "devices");
    // nothing of them is stored or audited
    let page = app.get(&path, &t).await;
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first"]);
    assert_eq!(
        page.body["items"][0]["devices"].as_array().unwrap().len(),
        1
    );
    let a = app.get(&format!("/api/v1/audit?companyId={cid}"), &t).await;
    assert_eq!(audit_of_users(&a.body).len(), 1);
    // and the next creation goes through, with the refused number now free
    let r = app
        .post(
            &path,
            &t,
            json!({"domainId": dids[0], "userName": "second", "devices": [{"number": "1002"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
