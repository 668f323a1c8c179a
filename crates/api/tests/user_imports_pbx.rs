//! The PBX's subscriber list as a users import (issue 7, guide 7.2
//! "A5000 INT"), through HTTP against the PBX simulator: a CSTA link and
//! the domain's telephony configured through the API, an import of type
//! `pbx` read with ECMA-269 Get Switching Function Devices (250 stations
//! in segments of 100), users with their device created, a second run
//! that changes nothing, subscribers removed from the PBX deleted or
//! disabled per synchronisation type; the link down, an unknown link and
//! a PBX that does not offer the service each give a clear error.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use common::{App, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use twp_pbx_sim::{DeviceConfig, SimConfig, Simulator};

both_backends!(pbx_subscriber_list_import);

/// A simulator with extensions 1000-1249, a hunt group and voicemail
/// (not subscribers); `device_list: false` refuses the listing.
async fn simulator(device_list: bool) -> (Simulator, std::net::SocketAddr) {
    let cfg = SimConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        external_answer_after: None,
        device_list,
        devices_per_segment: 100,
        ..SimConfig::default()
    }
    .with_extensions(1000, 250, "1.1")
    .with_device(DeviceConfig::hunt_group("1900", vec!["1001".into()]))
    .with_device(DeviceConfig::voicemail_server("1999"));
    let running = twp_pbx_sim::run(cfg, std::future::pending()).await.unwrap();
    (running.simulator, running.addrs[0])
}

/// Adds a CSTA link to the simulator and starts the domain's telephony;
/// waits for the link to be up.
async fn telephony(app: &App, t: &str, cid: i64, did: i64, addr: std::net::SocketAddr) {
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains/{did}/links"),
            t,
            json!({"role": "csta", "host": addr.ip().to_string(), "port": addr.port(),
                   "capacity": 10, "sites": ["1.*"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/companies/{cid}/domains/{did}/telephony/restart"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(link_is(app, t, did, true).await, "the link comes up");
}

async fn link_is(app: &App, t: &str, did: i64, up: bool) -> bool {
    for _ in 0..200 {
        let r = app.get("/api/v1/telephony/providers", t).await;
        let found =
            r.body.as_array().into_iter().flatten().any(|p| {
                p["domainId"].as_i64() == Some(did) && p["connected"].as_bool() == Some(up)
            });
        if found {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn run(app: &App, t: &str, path: &str) -> Value {
    let r = app.post(&format!("{path}/run"), t, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    for _ in 0..600 {
        let r = app.get(&format!("{path}/run"), t).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if r.body["running"] == false && r.body["lastRun"].is_object() {
            return r.body["lastRun"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not end");
}

fn counts(run: &Value) -> [Option<i64>; 5] {
    ["entriesRead", "created", "updated", "disabled", "deleted"].map(|k| run[k].as_i64())
}

async fn user(app: &App, t: &str, cid: i64, number: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/companies/{cid}/users?number={number}"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"][0].clone()
}

async fn pbx_subscriber_list_import(app: &App) {
    let (sim, addr) = simulator(true).await;
    let t = app.super_token().await;
    let (cid, ds) = app.company(&t, "Exemple", &["Paris", "Lyon"]).await;
    let base = format!("/api/v1/companies/{cid}/user-imports");
    let r = app
        .post(
            &base,
            &t,
            json!({"description": "A5000 INT", "type": "pbx", "domainId": ds[0], "syncType": "full"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["mapping"]["externalKey"], "number");
    let import = format!("{base}/{}", r.body["id"].as_i64().unwrap());

    // no telephony yet: nothing to read the PBX through
    let r = app.post(&format!("{import}/run"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("telephony_not_running")),
        "{}",
        r.text
    );
    assert!(r.text.contains("telephony/restart"), "{}", r.text);

    telephony(app, &t, cid, ds[0], addr).await;
    let first = run(app, &t, &import).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    // 250 stations in 3 segments; the hunt group and voicemail are no users
    assert_eq!(
        counts(&first),
        [Some(250), Some(250), Some(0), Some(0), Some(0)],
        "{first}"
    );
    let u = user(app, &t, cid, "1042").await;
    assert_eq!(
        (
            u["userName"].as_str(),
            u["externalKey"].as_str(),
            u["domainId"].as_i64(),
            u["enabled"].as_bool()
        ),
        (Some("1042"), Some("1042"), Some(ds[0]), Some(true)),
        "{u}"
    );
    assert_eq!(u["devices"][0]["number"], "1042", "{u}");
    assert_eq!(u["devices"][0]["protocol"], "CSTA", "{u}");
    assert_eq!(user(app, &t, cid, "1900").await, Value::Null);

    // the same list again changes nothing
    let second = run(app, &t, &import).await;
    assert_eq!(
        (second["status"].as_str(), counts(&second)),
        (
            Some("succeeded"),
            [Some(250), Some(0), Some(0), Some(0), Some(0)]
        ),
        "{second}"
    );

    // a subscriber leaves the PBX: Full deletes its user
    sim.remove_device("1249").unwrap();
    let third = run(app, &t, &import).await;
    assert_eq!(
        counts(&third),
        [Some(249), Some(0), Some(0), Some(0), Some(1)],
        "{third}"
    );
    assert_eq!(user(app, &t, cid, "1249").await, Value::Null);

    // another leaves, new one comes: insert-update-disable disables
    let r = app
        .put(
            &import,
            &t,
            json!({"description": "A5000 INT", "type": "pbx", "domainId": ds[0],
                   "syncType": "insert-update-disable"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    sim.remove_device("1248").unwrap();
    sim.add_device(&DeviceConfig::extension("1300", "1.1"));
    let fourth = run(app, &t, &import).await;
    assert_eq!(
        counts(&fourth),
        [Some(249), Some(1), Some(0), Some(1), Some(0)],
        "{fourth}"
    );
    assert_eq!(user(app, &t, cid, "1248").await["enabled"], false);
    assert_eq!(user(app, &t, cid, "1300").await["userName"], "1300");

    // a host that is none of the domain's links
    let r = app
        .post(
            &base,
            &t,
            json!({"description": "other PBX", "type": "pbx", "domainId": ds[0], "host": "192.0.2.1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let other = format!("{base}/{}", r.body["id"].as_i64().unwrap());
    let r = app.post(&format!("{other}/run"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str(), r.body["field"].as_str()),
        (StatusCode::CONFLICT, Some("pbx_link_unknown"), Some("host")),
        "{}",
        r.text
    );

    // the link down: 503 saying what to do, nothing run
    sim.refuse_links(true);
    sim.drop_links(None);
    assert!(link_is(app, &t, ds[0], false).await, "the link goes down");
    let r = app.post(&format!("{import}/run"), &t, json!({})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("pbx_link_down")),
        "{}",
        r.text
    );
    assert!(r.text.contains(&addr.port().to_string()), "{}", r.text);
    sim.refuse_links(false);

    // a PBX without the service: the run fails with the reason, no change
    let (_refusing, refusing_addr) = simulator(false).await;
    telephony(app, &t, cid, ds[1], refusing_addr).await;
    let r = app
        .post(
            &base,
            &t,
            json!({"description": "A5000 INT Lyon", "type": "pbx", "domainId": ds[1]}),
        )
        .await;
    let lyon = format!("{base}/{}", r.body["id"].as_i64().unwrap());
    let failed = run(app, &t, &lyon).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("does not offer GetSwitchingFunctionDevices"),
        "{failed}"
    );
    let r = app
        .get(
            &format!("/api/v1/companies/{cid}/users?domainId={}", ds[1]),
            &t,
        )
        .await;
    assert_eq!(r.body["items"], json!([]), "{}", r.text);
}
