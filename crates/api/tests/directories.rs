//! Directories over HTTP on both store backends: settings checked per
//! server type, secrets never returned, CSV and TWP-users synchronisation
//! with progress, report, cancel and one run at a time, look-up, search,
//! contacts, private contacts with vCard import, and company scope.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{App, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(
    settings_are_checked_and_secrets_never_shown,
    csv_sync_lookup_search_and_report,
    one_run_at_a_time_and_cancel_keeps_contacts,
    connection_tests_name_the_problem,
    twp_users_directory_names_users,
    private_contacts_and_vcard_import,
    directories_can_be_granted,
    users_read_only_the_directories_granted_to_them,
    users_find_their_own_private_contacts,
);

fn temp_csv(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "twp-dir-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn csv_directory(name: &str, path: &Path, priority: u32) -> Value {
    json!({
        "name": name,
        "priority": priority,
        "serverType": "csv",
        "connector": {"path": path.display().to_string()},
        "mapping": {
            "id": "id", "lastName": "sn | u", "firstName": "givenName", "company": "company",
            "workPhone": "phone", "mobilePhone": "mobile", "custom0": "vip",
            "redList.mobilePhone": "private"
        },
        "customNames": {"custom0": "[VIP]"}
    })
}

const CSV: &str = "id;sn;givenName;company;phone;mobile;vip;private\n\
    1;Dupont;Jean;Acme;+33 1 40 00 00 01;;;\n\
    2;Martin;Zoé;Acme;;06 11 22 33 44;Board member;\n\
    3;Secret;Anne;Hidden Inc;;06 99 88 77 66;;yes\n\
    bad;line\n\
    ;NoId;X;;;;;\n\
    4;Durand;Léa;Durand SA;01.44.55.66.77;;;\n";

async fn wait_done(app: &App, t: &str, base: &str) -> Value {
    for _ in 0..600 {
        let p = app.get(&format!("{base}/sync"), t).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        if p.body["running"] == false {
            let r = app.get(&format!("{base}/report"), t).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the synchronisation did not end");
}

async fn create(app: &App, t: &str, dirs: &str, body: Value) -> i64 {
    let r = app.post(dirs, t, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn settings_are_checked_and_secrets_never_shown(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let (other, od) = app.company(&t, "B", &["Lyon"]).await;
    let dirs = format!("/api/v1/companies/{cid}/domains/{}/directories", d[0]);
    let path = temp_csv("a.csv", CSV);

    // bad field option: the error names the mapping line
    let mut bad = csv_directory("X", &path, 1);
    bad["mapping"]["lastName"] = json!("sn | p::x{0}::(");
    let r = app.post(&dirs, &t, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "mapping.lastName", "{}", r.text);
    // the id must be mapped
    let mut bad = csv_directory("X", &path, 1);
    bad["mapping"].as_object_mut().unwrap().remove("id");
    let r = app.post(&dirs, &t, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id must be mapped"), "{}", r.text);
    // unknown server type, missing CSV path, bad LDAP filter
    let r = app
        .post(
            &dirs,
            &t,
            json!({"name": "X", "serverType": "lotus", "mapping": {"id": "id"}}),
        )
        .await;
    assert_eq!(r.body["field"], "serverType", "{}", r.text);
    let r = app
        .post(
            &dirs,
            &t,
            json!({"name": "X", "serverType": "csv", "mapping": {"id": "id"}}),
        )
        .await;
    assert_eq!(r.body["field"], "connector.path", "{}", r.text);
    let ldap = |filter: &str| {
        json!({"name": "Corp LDAP", "serverType": "ldap", "priority": 5,
            "connector": {"host": "127.0.0.1", "port": 1, "baseDn": "dc=example,dc=com",
                "bindName": "cn=admin,dc=example,dc=com", "password": "s3cr3t-pw", "filter": filter},
            "mapping": {"id": "uid", "lastName": "sn"},
            "sync": {"mode": "every", "everyHours": 2}})
    };
    let r = app.post(&dirs, &t, ldap("(objectClass=person")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field"], "connector.filter", "{}", r.text);

    // created: the password is sealed, flagged, never returned nor audited
    let r = app.post(&dirs, &t, ldap("(objectClass=person)")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["hasPassword"], true);
    assert_eq!(r.body["sync"]["everyMinutes"], 120);
    assert!(!r.text.contains("s3cr3t-pw"));
    let id = r.body["id"].as_i64().unwrap();
    let audit = app.get("/api/v1/audit?limit=100", &t).await;
    assert!(audit.text.contains("Corp LDAP"), "{}", audit.text);
    assert!(!audit.text.contains("s3cr3t-pw"));
    // same name in the domain: conflict
    let r = app.post(&dirs, &t, ldap("(objectClass=person)")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // replace keeps the password when absent
    let mut input = ldap("(uid=*)");
    input["connector"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    let r = app.put(&format!("{dirs}/{id}"), &t, input).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["hasPassword"], true);
    assert_eq!(r.body["connector"]["filter"], "(uid=*)");

    // another company's administrator and paths: not found
    let scoped = app.scoped_admin(&t, "b-admin", other).await;
    let r = app.get(&format!("{dirs}/{id}"), &scoped).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .get(
            &format!(
                "/api/v1/companies/{other}/domains/{}/directories/{id}",
                od[0]
            ),
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .post(
            &format!(
                "/api/v1/companies/{other}/domains/{}/directories/{id}/sync",
                od[0]
            ),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let r = app.delete(&format!("{dirs}/{id}"), &t).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&dirs, &t).await.body.as_array().unwrap().len(), 0);
}

async fn csv_sync_lookup_search_and_report(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let domain = format!("/api/v1/companies/{cid}/domains/{}", d[0]);
    let path = temp_csv("a.csv", CSV);
    let r = app
        .post(
            &format!("{domain}/directories"),
            &t,
            csv_directory("Main", &path, 10),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let base = format!("{domain}/directories/{id}");
    // never synchronised: no report
    assert_eq!(
        app.get(&format!("{base}/report"), &t).await.status,
        StatusCode::NOT_FOUND
    );

    let r = app.post(&format!("{base}/sync"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let report = wait_done(app, &t, &base).await;
    assert_eq!(report["outcome"], "completed", "{report}");
    assert_eq!(
        (report["rowsRead"].as_u64(), report["created"].as_u64()),
        (Some(6), Some(4))
    );
    assert_eq!(report["ignoredTotal"], 2);
    let ignored = report["ignored"].to_string();
    assert!(
        ignored.contains("line 5") && ignored.contains("line 6"),
        "{ignored}"
    );
    assert_eq!(app.get(&base, &t).await.body["contacts"], 4);

    // look-up in another format than stored: named, with the matching field
    let r = app
        .get(&format!("{domain}/lookup?number=0140000001"), &t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["found"], true, "{}", r.text);
    assert_eq!(r.body["directoryId"], id);
    assert_eq!(r.body["field"], "workPhone");
    assert_eq!(r.body["match"], "exact");
    assert_eq!(r.body["contact"]["name"], "Jean DUPONT");
    // VIP
    let r = app
        .get(&format!("{domain}/lookup?number=%2B33611223344"), &t)
        .await;
    assert_eq!(r.body["vip"], "Board member", "{}", r.text);
    // red list: the name, not the number
    let r = app
        .get(&format!("{domain}/lookup?number=0699887766"), &t)
        .await;
    assert_eq!(r.body["found"], true, "{}", r.text);
    assert_eq!(r.body["numberHidden"], true);
    assert!(!r.text.contains("99 88 77 66"), "{}", r.text);
    assert_eq!(r.body["contact"]["hiddenNumbers"], json!(["mobilePhone"]));
    // unknown number
    let r = app
        .get(&format!("{domain}/lookup?number=0123123123"), &t)
        .await;
    assert_eq!(
        (r.status, r.body["found"].clone()),
        (StatusCode::OK, json!(false))
    );

    // search: prefix, accent-insensitive, paged
    let r = app.get(&format!("{domain}/search?q=zoe"), &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"][0]["name"], "Zoé MARTIN");
    let r = app
        .get(&format!("{domain}/search?q=acme&limit=1"), &t)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let next = r.body["next"].as_str().unwrap().to_owned();
    let r2 = app
        .get(&format!("{domain}/search?q=acme&limit=1&after={next}"), &t)
        .await;
    assert_eq!(r2.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(r.body["items"][0]["name"], r2.body["items"][0]["name"]);
    let r = app
        .get(&format!("{domain}/search?q=acme&mode=fuzzy"), &t)
        .await;
    assert_eq!(r.body["field"], "mode", "{}", r.text);
    let r = app
        .get(&format!("{domain}/search?q=acme&after=garbage"), &t)
        .await;
    assert_eq!(r.body["field"], "after", "{}", r.text);
    // advanced: one directory, one field, one condition
    let adv = |field: &str, cond: &str, value: &str| {
        format!(
            "{domain}/search/advanced?directoryId={id}&field={field}&condition={cond}&value={value}"
        )
    };
    let r = app.get(&adv("company", "equals", "durand%20sa"), &t).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
    let r = app.get(&adv("company", "different", "Acme"), &t).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = app.get(&adv("lastName", "ends", "ND"), &t).await;
    assert_eq!(r.body["items"][0]["name"], "Léa DURAND", "{}", r.text);
    let r = app.get(&adv("colour", "equals", "x"), &t).await;
    assert_eq!(r.body["field"], "field", "{}", r.text);

    // contacts, paged
    let r = app.get(&format!("{base}/contacts?limit=3"), &t).await;
    assert_eq!(r.body["total"], 4, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let r = app
        .get(&format!("{base}/contacts?limit=3&after=3"), &t)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(r.body.get("next").is_none());

    // a second sync: updates and deletions are counted
    std::fs::write(&path, "id;sn;givenName;company;phone;mobile;vip;private\n1;Dupont;Jean;Acme Corp;+33 1 40 00 00 01;;;\n4;Durand;Léa;Durand SA;01.44.55.66.77;;;\n").unwrap();
    app.post(&format!("{base}/sync"), &t, json!({})).await;
    let report = wait_done(app, &t, &base).await;
    assert_eq!(
        (
            report["updated"].as_u64(),
            report["deleted"].as_u64(),
            report["unchanged"].as_u64()
        ),
        (Some(1), Some(2), Some(1)),
        "{report}"
    );
    let r = app
        .get(&format!("{domain}/lookup?number=0611223344"), &t)
        .await;
    assert_eq!(r.body["found"], false);
}

async fn one_run_at_a_time_and_cancel_keeps_contacts(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let domain = format!("/api/v1/companies/{cid}/domains/{}", d[0]);
    let path = temp_csv("small.csv", CSV);
    let r = app
        .post(
            &format!("{domain}/directories"),
            &t,
            csv_directory("Main", &path, 10),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let base = format!("{domain}/directories/{id}");
    app.post(&format!("{base}/sync"), &t, json!({})).await;
    assert_eq!(wait_done(app, &t, &base).await["created"], 4);

    // a big source: the run is still going when the next requests come
    let mut big = String::from("id;sn;givenName;company;phone;mobile;vip;private\n");
    for i in 0..300_000 {
        big.push_str(&format!(
            "{i};Name{i};First;Company {};01 {:08};;;\n",
            i % 97,
            i
        ));
    }
    std::fs::write(&path, big).unwrap();
    let r = app.post(&format!("{base}/sync"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = app.post(&format!("{base}/sync"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["code"], "sync_running");
    // progress is visible, then cancel
    let mut cancelled = false;
    for _ in 0..200 {
        let p = app.get(&format!("{base}/sync"), &t).await;
        assert_eq!(p.body["running"], true, "{}", p.text);
        if p.body["phase"] == "reading" && p.body["rowsRead"].as_u64().unwrap() > 0 {
            assert!(p.body["rate"].as_f64().unwrap() > 0.0, "{}", p.text);
            let c = app.delete(&format!("{base}/sync"), &t).await;
            assert_eq!(c.status, StatusCode::ACCEPTED, "{}", c.text);
            cancelled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cancelled, "the run was never seen reading");
    let report = wait_done(app, &t, &base).await;
    assert_eq!(report["outcome"], "cancelled", "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("previous contacts are kept")
    );
    // the previous contacts still answer
    let r = app
        .get(&format!("{domain}/lookup?number=0144556677"), &t)
        .await;
    assert_eq!(r.body["contact"]["name"], "Léa DURAND", "{}", r.text);
    assert_eq!(app.get(&base, &t).await.body["contacts"], 4);
    // nothing running: cancel is refused
    assert_eq!(
        app.delete(&format!("{base}/sync"), &t).await.status,
        StatusCode::CONFLICT
    );
}

async fn connection_tests_name_the_problem(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let dirs = format!("/api/v1/companies/{cid}/domains/{}/directories", d[0]);
    let create = |body: Value| create(app, &t, &dirs, body);
    let path = temp_csv("ok.csv", CSV);
    let ok = create(csv_directory("OK", &path, 1)).await;
    let r = app.post(&format!("{dirs}/{ok}/test"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.body["fields"].to_string().contains("givenName"),
        "{}",
        r.text
    );

    let missing = create(csv_directory(
        "Missing",
        &PathBuf::from("/nonexistent/x.csv"),
        2,
    ))
    .await;
    let r = app
        .post(&format!("{dirs}/{missing}/test"), &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["code"], "connection_failed");
    assert!(r.text.contains("/nonexistent/x.csv"), "{}", r.text);
    // a failed synchronisation says why in its report
    app.post(&format!("{dirs}/{missing}/sync"), &t, json!({}))
        .await;
    let report = wait_done(app, &t, &format!("{dirs}/{missing}")).await;
    assert_eq!(report["outcome"], "failed");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/x.csv"),
        "{report}"
    );

    // nothing listens on port 1: unreachable server
    let ldap = create(json!({"name": "LDAP", "serverType": "ldap",
        "connector": {"host": "127.0.0.1", "port": 1, "baseDn": "dc=x", "timeoutSecs": 5},
        "mapping": {"id": "uid"}}))
    .await;
    let r = app
        .post(&format!("{dirs}/{ldap}/test"), &t, json!({}))
        .await;
    assert_eq!(r.body["code"], "connection_failed", "{}", r.text);
    assert!(r.text.contains("127.0.0.1"), "{}", r.text);

    // MariaDB with a wrong password
    let sql = create(json!({"name": "SQL", "serverType": "sql",
        "connector": {"engine": "mysql", "host": "127.0.0.1", "database": "mysql", "user": "root",
            "password": "certainly-wrong", "source": {"table": "user"}},
        "mapping": {"id": "User"}}))
    .await;
    let r = app.post(&format!("{dirs}/{sql}/test"), &t, json!({})).await;
    assert_eq!(r.body["code"], "connection_failed", "{}", r.text);
    assert!(!r.text.contains("certainly-wrong"), "{}", r.text);

    // private directories are kept per user: nothing to synchronise
    let p =
        create(json!({"name": "[TwsPrivate]", "type": "private", "serverType": "private"})).await;
    let r = app.post(&format!("{dirs}/{p}/sync"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["code"], "nothing_to_synchronise");
    // sample/draft directories are not synchronised
    let mut draft = csv_directory("Draft", &path, 3);
    draft["type"] = json!("draft");
    let dr = create(draft).await;
    let r = app.post(&format!("{dirs}/{dr}/sync"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].clone()),
        (StatusCode::CONFLICT, json!("disabled"))
    );
}

async fn twp_users_directory_names_users(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/users"),
            &t,
            json!({"domainId": d[0], "userName": "jdupont", "firstName": "Jean", "lastName": "Dupont",
                "gsm": "+33612345678", "email": "jean@example.com",
                "devices": [{"number": "1000"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let domain = format!("/api/v1/companies/{cid}/domains/{}", d[0]);
    let r = app
        .post(
            &format!("{domain}/directories"),
            &t,
            json!({"name": "Users", "serverType": "twp-users"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let base = format!("{domain}/directories/{}", r.body["id"]);
    // the fixed mapping cannot be changed
    let r = app
        .post(
            &format!("{domain}/directories"),
            &t,
            json!({"name": "U2", "serverType": "twp-users", "mapping": {"id": "x"}}),
        )
        .await;
    assert_eq!(r.body["field"], "mapping", "{}", r.text);
    app.post(&format!("{base}/sync"), &t, json!({})).await;
    assert_eq!(wait_done(app, &t, &base).await["created"], 1);
    let r = app
        .get(&format!("{domain}/lookup?number=0612345678"), &t)
        .await;
    assert_eq!(r.body["contact"]["name"], "Jean Dupont", "{}", r.text);
    assert_eq!(r.body["field"], "mobilePhone");
    let r = app.get(&format!("{domain}/lookup?number=1000"), &t).await;
    assert_eq!(r.body["field"], "workPhone", "{}", r.text);
    assert_eq!(r.body["contact"]["fields"]["email1"], "jean@example.com");
}

const VCARDS: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Fontaine;Claire;;;\r\nORG:Fontaine Conseil\r\n\
    TEL;TYPE=CELL:06 12 34 56 78\r\nEMAIL:claire@fontaine.fr\r\nEND:VCARD\r\n\
    BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Plombier Dupuis\r\nTEL;VALUE=uri;TYPE=work:tel:+33-1-40-00-00-09\r\nEND:VCARD\r\n";

async fn private_contacts_and_vcard_import(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let (other, _) = app.company(&t, "B", &["Lyon"]).await;
    let u = app.user(&t, cid, d[0], "jdupont").await;
    let base = format!("/api/v1/companies/{cid}/users/{u}/private-contacts");
    let r = app
        .post(
            &base,
            &t,
            json!({"fields": {"lastName": "Garage Martin", "workPhone": "0140000010"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(&base, &t, json!({"fields": {"colour": "red"}}))
        .await;
    assert_eq!(r.body["field"], "fields.colour", "{}", r.text);
    let r = app
        .post(&base, &t, json!({"fields": {"email1": "x@y.z"}}))
        .await;
    assert_eq!(r.body["code"], "empty_contact", "{}", r.text);
    let r = app
        .put(
            &format!("{base}/{id}"),
            &t,
            json!({"fields": {"lastName": "Garage Martin & Fils"}}),
        )
        .await;
    assert_eq!(
        r.body["fields"]["lastName"], "Garage Martin & Fils",
        "{}",
        r.text
    );

    // vCards: all imported
    let r = app
        .http
        .post(format!("{}{base}/vcard", app.base))
        .bearer_auth(&t)
        .header("content-type", "text/vcard")
        .body(VCARDS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    assert_eq!(made[0]["fields"]["mobilePhone"], "06 12 34 56 78");
    assert_eq!(made[1]["fields"]["workPhone"], "+33-1-40-00-00-09");
    // a broken card: the line is named and nothing is imported
    let broken = format!("{VCARDS}BEGIN:VCARD\nVERSION:4.0\nFN:x\nBEGIN:VCARD\n");
    let r = app
        .http
        .post(format!("{}{base}/vcard", app.base))
        .bearer_auth(&t)
        .body(broken)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("line 16"),
        "{body}"
    );
    assert_eq!(app.get(&base, &t).await.body.as_array().unwrap().len(), 3);

    // another company: the user is not found
    let r = app
        .get(
            &format!("/api/v1/companies/{other}/users/{u}/private-contacts"),
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let scoped = app.scoped_admin(&t, "b-admin", other).await;
    assert_eq!(app.get(&base, &scoped).await.status, StatusCode::NOT_FOUND);
    let r = app.delete(&format!("{base}/{id}"), &t).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("{base}/{id}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn directories_can_be_granted(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let (other, od) = app.company(&t, "B", &["Lyon"]).await;
    let u = app.user(&t, cid, d[0], "jdupont").await;
    let path = temp_csv("a.csv", CSV);
    let dirs = |c: i64, dom: i64| format!("/api/v1/companies/{c}/domains/{dom}/directories");
    let mine = create(app, &t, &dirs(cid, d[0]), csv_directory("Main", &path, 1)).await;
    let theirs = create(
        app,
        &t,
        &dirs(other, od[0]),
        csv_directory("Main", &path, 1),
    )
    .await;
    let grants = format!("/api/v1/companies/{cid}/grants");
    let grant = |dir: Option<i64>| json!({"subject": {"type": "user", "id": u}, "objectType": "directory", "directoryId": dir});
    let r = app.post(&grants, &t, grant(None)).await;
    assert_eq!(r.body["field"], "directoryId", "{}", r.text);
    // another company's directory, or none at all: not found
    let r = app.post(&grants, &t, grant(Some(theirs))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.post(&grants, &t, grant(Some(999_999))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.post(&grants, &t, grant(Some(mine))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["directoryId"], mine);
    let r = app
        .get(
            &format!("{grants}?objectType=directory&directoryId={mine}"),
            &t,
        )
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    // deleting the directory removes its grants
    app.delete(
        &format!(
            "/api/v1/companies/{cid}/domains/{}/directories/{mine}",
            d[0]
        ),
        &t,
    )
    .await;
    let r = app.get(&format!("{grants}?objectType=directory"), &t).await;
    assert_eq!(r.body.as_array().unwrap().len(), 0, "{}", r.text);
}

/// Guide 7.4.2: a logged-in user names callers and searches only in the
/// directories granted to them or their groups, also those of another
/// domain of the company; an administrator reads every directory.
async fn users_read_only_the_directories_granted_to_them(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris", "Nice"]).await;
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/users"),
            &t,
            json!({"domainId": d[0], "userName": "alice", "password": "alice-pass-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let alice = r.body["id"].as_i64().unwrap();
    let all = app.group(&t, cid, d[0], "All", &[alice]).await;
    let path = temp_csv("granted.csv", CSV);
    let domain = |i: usize| format!("/api/v1/companies/{cid}/domains/{}", d[i]);
    let paris = create(
        app,
        &t,
        &format!("{}/directories", domain(0)),
        csv_directory("Paris CSV", &path, 1),
    )
    .await;
    let nice = create(
        app,
        &t,
        &format!("{}/directories", domain(1)),
        csv_directory("Public", &path, 1),
    )
    .await;
    for (i, id) in [(0, paris), (1, nice)] {
        let base = format!("{}/directories/{id}", domain(i));
        app.post(&format!("{base}/sync"), &t, json!({})).await;
        assert_eq!(wait_done(app, &t, &base).await["created"], 4);
    }
    let u = app.user_token("Paris", "alice", "alice-pass-1").await;
    let lookup = |i: usize| format!("{}/lookup?number=0140000001", domain(i));
    let search = |i: usize| format!("{}/search?q=dur", domain(i));

    // nothing granted: the user names nobody, finds nothing; the administrator does
    assert_eq!(app.get(&lookup(0), &t).await.body["found"], true);
    let r = app.get(&lookup(0), &u).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["found"], false, "{}", r.text);
    let r = app.get(&search(0), &u).await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.text
    );

    // the group "All" of Paris may see the Nice directory (shared between domains)
    let grants = format!("/api/v1/companies/{cid}/grants");
    let r = app
        .post(&grants, &t, json!({"subject": {"type": "group", "id": all}, "objectType": "directory", "directoryId": nice}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.get(&lookup(1), &u).await;
    assert_eq!(r.body["directoryId"], nice, "{}", r.text);
    assert_eq!(app.get(&lookup(0), &u).await.body["found"], false);

    // then alice herself the Paris one
    let r = app
        .post(&grants, &t, json!({"subject": {"type": "user", "id": alice}, "objectType": "directory", "directoryId": paris}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.get(&lookup(0), &u).await;
    assert_eq!(r.body["directoryId"], paris, "{}", r.text);
    let r = app.get(&search(0), &u).await;
    assert_eq!(
        r.body["items"][0]["members"][0]["directoryId"], paris,
        "{}",
        r.text
    );

    // another company stays out of reach
    let (other, od) = app.company(&t, "B", &["Lyon"]).await;
    let r = app
        .get(
            &format!(
                "/api/v1/companies/{other}/domains/{}/lookup?number=1",
                od[0]
            ),
            &u,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

/// Guide 9.1.1: users create their own private contacts, visible only in
/// their own look-ups and searches, when they may read the domain's
/// [TwsPrivate] directory; its priority places them among the others.
async fn users_find_their_own_private_contacts(app: &App) {
    let t = app.super_token().await;
    let (cid, d) = app.company(&t, "A", &["Paris"]).await;
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let r = app
            .post(
                &format!("/api/v1/companies/{cid}/users"),
                &t,
                json!({"domainId": d[0], "userName": name, "password": format!("{name}-pass-1")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    let (alice, bob) = (ids[0], ids[1]);
    let domain = format!("/api/v1/companies/{cid}/domains/{}", d[0]);
    let dirs = format!("{domain}/directories");
    let path = temp_csv("public.csv", CSV);
    let public = create(app, &t, &dirs, csv_directory("Public", &path, 5)).await;
    app.post(&format!("{dirs}/{public}/sync"), &t, json!({}))
        .await;
    wait_done(app, &t, &format!("{dirs}/{public}")).await;
    let private = create(
        app,
        &t,
        &dirs,
        json!({"name": "[TwsPrivate]", "serverType": "private", "priority": 1}),
    )
    .await;
    let grants = format!("/api/v1/companies/{cid}/grants");
    for (user, dir) in [(alice, public), (alice, private), (bob, public)] {
        let r = app
            .post(&grants, &t, json!({"subject": {"type": "user", "id": user}, "objectType": "directory", "directoryId": dir}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let (ta, tb) = (
        app.user_token("Paris", "alice", "alice-pass-1").await,
        app.user_token("Paris", "bob", "bob-pass-1").await,
    );
    let lookup = |n: &str| format!("{domain}/lookup?number={n}");

    // Alice creates her own contact; the number of Dupont (Public) too.
    let mine = format!("/api/v1/companies/{cid}/users/{alice}/private-contacts");
    let r = app
        .post(
            &mine,
            &ta,
            json!({"fields": {"lastName": "Plombier", "mobilePhone": "06 12 12 12 12", "workPhone": "0140000001"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let contact = r.body["id"].as_i64().unwrap();
    let r = app.get(&lookup("0612121212"), &ta).await;
    assert_eq!(r.body["found"], true, "{}", r.text);
    assert_eq!(r.body["directoryName"], "[TwsPrivate]", "{}", r.text);
    assert_eq!(r.body["contact"]["fields"]["lastName"], "Plombier");
    // priority 1 before the public directory's 5
    let r = app.get(&lookup("0140000001"), &ta).await;
    assert_eq!(
        r.body["contact"]["fields"]["lastName"], "Plombier",
        "{}",
        r.text
    );
    let r = app.get(&format!("{domain}/search?q=plomb"), &ta).await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    let r = app
        .get(
            &format!("{domain}/search/advanced?directoryId={private}&field=lastName&condition=equals&value=plombier"),
            &ta,
        )
        .await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    // paging runs through the public directory, then the private one
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{domain}/search?q=e&mode=contains&limit=1");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let r = app.get(&url, &ta).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for i in r.body["items"].as_array().unwrap() {
            names.push(i["name"].as_str().unwrap().to_owned());
        }
        match r.body["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
        assert!(names.len() < 20, "{names:?}");
    }
    assert!(names.iter().any(|n| n.contains("Plombier")), "{names:?}");
    assert_eq!(
        names.first().map(|n| n.contains("Plombier")),
        Some(true),
        "{names:?}"
    );
    assert!(names.len() >= 3, "{names:?}");

    // Bob, an administrator: not Alice's contacts.
    let r = app.get(&lookup("0612121212"), &tb).await;
    assert_eq!(r.body["found"], false, "{}", r.text);
    let r = app.get(&lookup("0612121212"), &t).await;
    assert_eq!(r.body["found"], false, "{}", r.text);
    let r = app.get(&lookup("0140000001"), &tb).await;
    assert_eq!(
        r.body["contact"]["fields"]["lastName"], "DUPONT",
        "{}",
        r.text
    );
    assert_eq!(app.get(&mine, &tb).await.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&mine, &tb, json!({"fields": {"lastName": "Intrus"}}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // The administrator sees and edits them (audited).
    let r = app.get(&mine, &t).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{}", r.text);

    // AuthorizeContactFavorite = No: Bob may not create his own.
    let r = app
        .put(
            &format!("/api/v1/companies/{cid}/parameters/users/{bob}/AuthorizeContactFavorite"),
            &t,
            json!({"value": "No"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/users/{bob}/private-contacts"),
            &tb,
            json!({"fields": {"lastName": "Garage"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // Deleted: gone from Alice's look-ups at once; Dupont is back.
    let r = app.delete(&format!("{mine}/{contact}"), &ta).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get(&lookup("0612121212"), &ta).await;
    assert_eq!(r.body["found"], false, "{}", r.text);
    let r = app.get(&lookup("0140000001"), &ta).await;
    assert_eq!(
        r.body["contact"]["fields"]["lastName"], "DUPONT",
        "{}",
        r.text
    );
}
