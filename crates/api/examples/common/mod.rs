//! What the API benchmarks share: leaving boot mode and logging in as the
//! `tws` super user, and a POST that must succeed.

// Each benchmark uses part of it.
#![allow(dead_code)]

use reqwest::Client;
use serde_json::{Value, json};

/// Leaves boot mode (`tws` gets a real password) and returns a token.
pub async fn login(http: &Client, base: &str) -> String {
    let r: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"name": "tws", "password": "tws"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = r["token"].as_str().unwrap().to_owned();
    let s = http
        .post(format!("{base}/api/v1/auth/password"))
        .bearer_auth(&t)
        .json(&json!({"currentPassword": "tws", "newPassword": "benchmark-password"}))
        .send()
        .await
        .unwrap();
    assert!(s.status().is_success());
    let r: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"name": "tws", "password": "benchmark-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

/// POSTs `body`; panics with the answer unless it succeeds.
pub async fn post(http: &Client, base: &str, path: &str, auth: &str, body: Value) -> Value {
    let r = http
        .post(format!("{base}{path}"))
        .header("authorization", auth)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let bytes = r.bytes().await.unwrap();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap()
}
