//! The users import API (issue 7, guide 7.2): import links CRUD with
//! validation naming the field, the sealed bind password, company scoping,
//! a run against a real slapd with its progress and report, 409 while a
//! run is in progress, 409 for the PBX subscriber list while the domain's
//! telephony does not run (the PBX import itself: `user_imports_pbx.rs`);
//! the directory of an import's users (7.2.4), granted and read by a
//! logged-in user.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

#[path = "../../connectors/tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use std::time::Duration;

use common::{App, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(
    import_links_crud_validation_and_secrets,
    import_links_are_company_scoped,
    run_report_and_progress_against_slapd,
    second_run_refused_while_one_runs_and_pbx_needs_telephony,
    the_directory_of_an_import_shows_its_users_once_granted,
);

fn ldap_link(did: i64, port: u16) -> Value {
    json!({
        "description": "OpenLDAP people",
        "type": "ldap",
        "domainId": did,
        "host": "127.0.0.1",
        "port": port,
        "bindName": slapd::ADMIN,
        "password": slapd::ADMIN_PASSWORD,
        "baseDn": slapd::PEOPLE,
        "filter": "(objectClass=inetOrgPerson)",
        "syncType": "full",
        "schedule": {"kind": "daily", "at": "06:30"}
    })
}

async fn import_links_crud_validation_and_secrets(app: &App) {
    let t = app.super_token().await;
    let (cid, ds) = app.company(&t, "Exemple", &["Paris"]).await;
    let base = format!("/api/v1/companies/{cid}/user-imports");

    let r = app.post(&base, &t, ldap_link(ds[0], 389)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["hasPassword"], true);
    assert!(!r.text.contains(slapd::ADMIN_PASSWORD), "{}", r.text);
    assert_eq!(r.body["mapping"]["externalKey"], "entryUUID");
    assert_eq!(r.body["mapping"]["deviceNumber"], "telephoneNumber");
    assert_eq!(r.body["schedule"], json!({"kind": "daily", "at": "06:30"}));
    assert_eq!(r.body["deleteSharePercent"], 20);

    // Active Directory preset
    let r = app
        .post(
            &base,
            &t,
            json!({"description": "AD", "type": "active-directory", "domainId": ds[0],
                   "host": "dc1.corp", "baseDn": "dc=corp", "security": "ldaps"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["port"], 636);
    assert_eq!(r.body["mapping"]["userName"], "sAMAccountName");
    assert_eq!(r.body["mapping"]["externalKey"], "objectGUID");
    assert_eq!(r.body["hasPassword"], false);

    // each bad field named
    let mut bad = ldap_link(ds[0], 389);
    bad["filter"] = json!("(&(a=1)");
    let r = app.post(&base, &t, bad).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("filter")),
        "{}",
        r.text
    );
    let mut bad = ldap_link(ds[0], 389);
    bad["mapping"] = json!({"userName": "uid", "externalKey": "uid"});
    let r = app.post(&base, &t, bad).await;
    assert_eq!(r.body["field"], "mapping.deviceNumber", "{}", r.text);
    let mut bad = ldap_link(ds[0], 389);
    bad["syncType"] = json!("mirror");
    bad["schedule"] = json!({"kind": "daily", "at": "25:00"});
    bad["deleteSharePercent"] = json!(120);
    let r = app.post(&base, &t, bad).await;
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["syncType", "schedule.at", "deleteSharePercent"],
        "{}",
        r.text
    );
    let mut bad = ldap_link(ds[0], 389);
    bad["groupId"] = json!(999_999);
    let r = app.post(&base, &t, bad).await;
    assert_eq!(r.body["field"], "groupId", "{}", r.text);

    // replace keeps the password when absent, clears it with ""
    let mut put = ldap_link(ds[0], 1389);
    put.as_object_mut().unwrap().remove("password");
    let r = app.put(&format!("{base}/{id}"), &t, put.clone()).await;
    assert_eq!(
        (
            r.status,
            r.body["hasPassword"].as_bool(),
            r.body["port"].as_i64()
        ),
        (StatusCode::OK, Some(true), Some(1389)),
        "{}",
        r.text
    );
    put["password"] = json!("");
    let r = app.put(&format!("{base}/{id}"), &t, put).await;
    assert_eq!(r.body["hasPassword"], false);

    // the audit log never holds the password
    let r = app
        .get(
            &format!("/api/v1/audit?companyId={cid}&objectType=user_import"),
            &t,
        )
        .await;
    assert!(r.body["items"].as_array().unwrap().len() >= 3, "{}", r.text);
    assert!(!r.text.contains(slapd::ADMIN_PASSWORD));

    let r = app.get(&base, &t).await;
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert_eq!(
        app.delete(&format!("{base}/{id}"), &t).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("{base}/{id}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn import_links_are_company_scoped(app: &App) {
    let t = app.super_token().await;
    let (a, da) = app.company(&t, "A", &["Paris"]).await;
    let (b, db) = app.company(&t, "B", &["Lyon"]).await;
    let r = app
        .post(
            &format!("/api/v1/companies/{a}/user-imports"),
            &t,
            ldap_link(da[0], 389),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    // a domain of another company is refused
    let r = app
        .post(
            &format!("/api/v1/companies/{b}/user-imports"),
            &t,
            ldap_link(da[0], 389),
        )
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("domainId")),
        "{}",
        r.text
    );
    let scoped = app.scoped_admin(&t, "b-admin", b).await;
    // another company's import is not found, through any path
    for path in [
        format!("/api/v1/companies/{b}/user-imports/{id}"),
        format!("/api/v1/companies/{b}/user-imports/{id}/run"),
        format!("/api/v1/companies/{b}/user-imports/{id}/runs"),
        format!("/api/v1/companies/{a}/user-imports/{id}"),
    ] {
        assert_eq!(
            app.get(&path, &scoped).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .post(
            &format!("/api/v1/companies/{b}/user-imports/{id}/run"),
            &scoped,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&format!("/api/v1/companies/{b}/user-imports/{id}"), &scoped)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.put(
            &format!("/api/v1/companies/{b}/user-imports/{id}"),
            &scoped,
            ldap_link(db[0], 389)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get(&format!("/api/v1/companies/{b}/user-imports"), &scoped)
        .await;
    assert_eq!(r.body, json!([]));
}

async fn wait_for_run(app: &App, t: &str, path: &str) -> Value {
    for _ in 0..600 {
        let r = app.get(path, t).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if r.body["running"] == false && r.body["lastRun"].is_object() {
            return r.body["lastRun"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not end");
}

async fn run_report_and_progress_against_slapd(app: &App) {
    let server = slapd::Slapd::start(|out| {
        for i in 0..40 {
            let phone = if i == 7 {
                String::new()
            } else {
                format!("telephoneNumber: 40{i:02}\n")
            };
            write!(
                out,
                "dn: uid=r{i},{p}\nobjectClass: inetOrgPerson\nuid: r{i}\ncn: R {i}\nsn: Run {i}\n{phone}\n",
                p = slapd::PEOPLE
            )
            .unwrap();
        }
    });
    let t = app.super_token().await;
    let (cid, ds) = app.company(&t, "Exemple", &["Paris"]).await;
    let gid = app.group(&t, cid, ds[0], "LDAP", &[]).await;
    let mut link = ldap_link(ds[0], server.port);
    link["groupId"] = json!(gid);
    let base = format!("/api/v1/companies/{cid}/user-imports");
    let id = app.post(&base, &t, link).await.body["id"].as_i64().unwrap();
    // the import's group may see a calendar: imported users must hold it
    let owner = app.user(&t, cid, ds[0], "owner").await;
    let grant = json!({"subject": {"type": "group", "id": gid}, "objectType": "calendar",
        "owner": {"type": "user", "id": owner}});
    let r = app
        .post(&format!("/api/v1/companies/{cid}/grants"), &t, grant)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let access =
        |user: i64| format!("/api/v1/companies/{cid}/users/{user}/access?objectType=calendar");

    let r = app.post(&format!("{base}/{id}/run"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["running"], true);
    // the access engine is read (and cached) while the run goes on
    assert_eq!(app.get(&access(owner), &t).await.status, StatusCode::OK);
    let last = wait_for_run(app, &t, &format!("{base}/{id}/run")).await;
    assert_eq!(last["status"], "succeeded", "{last}");
    assert_eq!(
        (
            last["entriesRead"].as_i64(),
            last["created"].as_i64(),
            last["ignored"].as_i64()
        ),
        (Some(40), Some(39), Some(1))
    );
    let run_id = last["id"].as_i64().unwrap();

    let r = app.get(&format!("{base}/{id}/runs"), &t).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = app.get(&format!("{base}/{id}/runs/{run_id}"), &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["durationMs"].as_i64().unwrap() >= 0);
    let ignored = &r.body["details"]["ignored"][0];
    assert_eq!(ignored["dn"], format!("uid=r7,{}", slapd::PEOPLE));
    assert_eq!(ignored["field"], "deviceNumber");
    assert_eq!(r.body["details"]["created"].as_array().unwrap().len(), 39);

    // the users are there, in the group, with their device
    let r = app
        .get(
            &format!("/api/v1/companies/{cid}/users?groupId={gid}&limit=100"),
            &t,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 39, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/companies/{cid}/users?number=4003"), &t)
        .await;
    assert_eq!(r.body["items"][0]["userName"], "r3");
    assert!(r.body["items"][0]["externalKey"].as_str().unwrap().len() >= 36);
    let r3 = r.body["items"][0]["id"].as_i64().unwrap();
    let r = app.get(&access(r3), &t).await;
    assert_eq!(
        r.body.as_array().map(Vec::len),
        Some(1),
        "an imported member of the group sees the group's calendar: {}",
        r.text
    );

    // a Full run with an empty result stops and asks for confirmation
    let mut empty = ldap_link(ds[0], server.port);
    empty["filter"] = json!("(uid=nobody)");
    assert_eq!(
        app.put(&format!("{base}/{id}"), &t, empty).await.status,
        StatusCode::OK
    );
    app.post(&format!("{base}/{id}/run"), &t, json!({})).await;
    let last = wait_for_run(app, &t, &format!("{base}/{id}/run")).await;
    assert_eq!(last["status"], "confirmation_required", "{last}");
    assert_eq!(last["deleted"], 39);
    let r = app
        .get(
            &format!("/api/v1/companies/{cid}/users?domainId={}&limit=100", ds[0]),
            &t,
        )
        .await;
    // the 39 imported users and the hand-made owner: nothing deleted yet
    assert_eq!(r.body["items"].as_array().unwrap().len(), 40);
    app.post(&format!("{base}/{id}/run?confirm=true"), &t, json!({}))
        .await;
    let last = wait_for_run(app, &t, &format!("{base}/{id}/run")).await;
    assert_eq!(
        (last["status"].as_str(), last["deleted"].as_i64()),
        (Some("succeeded"), Some(39)),
        "{last}"
    );
}

async fn second_run_refused_while_one_runs_and_pbx_needs_telephony(app: &App) {
    // a "server" that accepts and never answers: the first run waits on it
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let t = app.super_token().await;
    let (cid, ds) = app.company(&t, "Exemple", &["Paris"]).await;
    let base = format!("/api/v1/companies/{cid}/user-imports");
    let id = app.post(&base, &t, ldap_link(ds[0], port)).await.body["id"]
        .as_i64()
        .unwrap();
    let r = app.post(&format!("{base}/{id}/run"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = app.post(&format!("{base}/{id}/run"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_running")),
        "{}",
        r.text
    );
    let r = app.get(&format!("{base}/{id}/run"), &t).await;
    assert_eq!(
        (r.body["running"].as_bool(), r.body["phase"].as_str()),
        (Some(true), Some("reading")),
        "{}",
        r.text
    );

    let r = app
        .post(
            &base,
            &t,
            json!({"description": "A5000 INT", "type": "pbx", "domainId": ds[0]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["mapping"]["deviceNumber"], "number");
    assert_eq!(r.body["port"], 3211);
    let pbx = r.body["id"].as_i64().unwrap();
    let r = app.post(&format!("{base}/{pbx}/run"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("telephony_not_running")),
        "{}",
        r.text
    );
    drop(silent);
}

/// Guide 7.2.4: an import feeds a directory of its users; granting it
/// shows their contact cards to a logged-in user, and only theirs.
async fn the_directory_of_an_import_shows_its_users_once_granted(app: &App) {
    let server = slapd::Slapd::start(|out| {
        for i in 1..=3 {
            write!(
                out,
                "dn: uid=p{i},{p}\nobjectClass: inetOrgPerson\nuid: p{i}\ncn: Claire Imported{i}\n\
                 givenName: Claire\nsn: Imported{i}\ntelephoneNumber: 410{i}\n\n",
                p = slapd::PEOPLE
            )
            .unwrap();
        }
    });
    let t = app.super_token().await;
    let (cid, ds) = app.company(&t, "Exemple", &["Paris"]).await;
    // a user made by hand, with a device: never in the import's directory
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/users"),
            &t,
            json!({"domainId": ds[0], "userName": "alice", "password": "alice-pass-1",
                   "firstName": "Alice", "lastName": "Byhand", "devices": [{"number": "4200"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let alice = r.body["id"].as_i64().unwrap();
    let readers = app.group(&t, cid, ds[0], "Readers", &[alice]).await;

    let base = format!("/api/v1/companies/{cid}/user-imports");
    let r = app.post(&base, &t, ldap_link(ds[0], server.port)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let dir = r.body["directoryId"]
        .as_i64()
        .expect("the import's directory");
    let domain = format!("/api/v1/companies/{cid}/domains/{}", ds[0]);
    let r = app.get(&format!("{domain}/directories/{dir}"), &t).await;
    assert_eq!(
        (
            r.body["name"].as_str(),
            r.body["serverType"].as_str(),
            r.body["connector"]["importId"].as_i64()
        ),
        (
            Some("Imported users: OpenLDAP people"),
            Some("twp-users"),
            Some(id)
        ),
        "{}",
        r.text
    );
    assert_eq!(
        app.get(&format!("{base}/{id}"), &t).await.body["directoryId"],
        dir
    );
    // a twp-users directory takes only an import's id
    let r = app
        .post(
            &format!("{domain}/directories"),
            &t,
            json!({"name": "Bad", "serverType": "twp-users", "connector": {"importId": "x"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("connector.importId")),
        "{}",
        r.text
    );

    app.post(&format!("{base}/{id}/run"), &t, json!({})).await;
    let last = wait_for_run(app, &t, &format!("{base}/{id}/run")).await;
    assert_eq!(
        (last["status"].as_str(), last["created"].as_i64()),
        (Some("succeeded"), Some(3)),
        "{last}"
    );
    // the run ends with its directory synchronised: its users only
    let r = app.get(&format!("{domain}/directories/{dir}"), &t).await;
    assert_eq!(r.body["contacts"], 3, "{}", r.text);

    let u = app.user_token("Paris", "alice", "alice-pass-1").await;
    let lookup = |n: &str| format!("{domain}/lookup?number={n}");
    // not granted yet: alice names nobody
    let r = app.get(&lookup("4102"), &u).await;
    assert_eq!(
        (r.status, r.body["found"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{}",
        r.text
    );
    let grants = format!("/api/v1/companies/{cid}/grants");
    let r = app
        .post(&grants, &t, json!({"subject": {"type": "group", "id": readers}, "objectType": "directory", "directoryId": dir}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.get(&lookup("4102"), &u).await;
    assert_eq!(
        (
            r.body["directoryId"].as_i64(),
            r.body["contact"]["name"].as_str()
        ),
        (Some(dir), Some("Claire Imported2")),
        "{}",
        r.text
    );
    let r = app.get(&format!("{domain}/search?q=imported"), &u).await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(3),
        "{}",
        r.text
    );
    // the user made by hand is not in the import's directory
    let r = app.get(&lookup("4200"), &u).await;
    assert_eq!(r.body["found"], false, "{}", r.text);

    // deleting the import deletes its directory and the grant on it
    assert_eq!(
        app.delete(&format!("{base}/{id}"), &t).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("{domain}/directories/{dir}"), &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app.get(&format!("{grants}?objectType=directory"), &t).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(0), "{}", r.text);
    assert_eq!(app.get(&lookup("4102"), &u).await.body["found"], false);
}
