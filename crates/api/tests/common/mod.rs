//! The HTTP harness shared by the API's integration tests: a server on a
//! fresh database of either backend, a client, and set-up helpers.

// Each test binary uses part of the harness.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use twp_access::license::{SigningKey, keygen, sign};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
pub use twp_store::Backend;
use twp_store::testing::TestDb;

pub struct App {
    pub base: String,
    pub http: Client,
    db: Option<TestDb>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Signs licenses; its public half is trusted by the server.
    pub key: SigningKey,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<String>,
    pub text: String,
}

impl App {
    /// A server with the test settings (3 failures lock, 1 ms slow-down).
    pub async fn spawn(backend: Backend) -> Self {
        let settings = ApiSettings {
            max_failed_logins: 3,
            failure_delay: Duration::from_millis(1),
            ..Default::default()
        };
        Self::spawn_with(backend, settings, |s| s).await
    }

    /// A server with these settings, its state adjusted by `configure`.
    pub async fn spawn_with(
        backend: Backend,
        settings: ApiSettings,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let db = TestDb::new(backend).await;
        bootstrap::ensure_boot_admin(&db.store).await.unwrap();
        let key = keygen().unwrap();
        let state = AppState::new(
            db.store.clone(),
            SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
            settings,
        )
        .with_trusted_keys(vec![key.verifying_key()]);
        let state = configure(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(twp_api::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Self {
            base: format!("http://{addr}"),
            http: Client::new(),
            db: Some(db),
            shutdown: Some(tx),
            key,
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            retry_after,
            text,
        }
    }

    pub async fn get(&self, path: &str, t: &str) -> Resp {
        self.call(Method::GET, path, Some(t), None).await
    }
    pub async fn post(&self, path: &str, t: &str, b: Value) -> Resp {
        self.call(Method::POST, path, Some(t), Some(b)).await
    }
    pub async fn patch(&self, path: &str, t: &str, b: Value) -> Resp {
        self.call(Method::PATCH, path, Some(t), Some(b)).await
    }
    pub async fn put(&self, path: &str, t: &str, b: Value) -> Resp {
        self.call(Method::PUT, path, Some(t), Some(b)).await
    }
    pub async fn delete(&self, path: &str, t: &str) -> Resp {
        self.call(Method::DELETE, path, Some(t), None).await
    }

    pub async fn login(&self, name: &str, password: &str) -> Resp {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"name": name, "password": password})),
        )
        .await
    }

    /// Leaves boot mode: `tws` gets a real password; returns a token.
    pub async fn super_token(&self) -> String {
        let r = self.login("tws", "tws").await;
        let t = r.body["token"].as_str().unwrap().to_owned();
        let r = self
            .post(
                "/api/v1/auth/password",
                &t,
                json!({"currentPassword": "tws", "newPassword": "correct horse battery"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let r = self.login("tws", "correct horse battery").await;
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Logs a user in (`POST /api/v1/user-auth/login`) and returns the token.
    pub async fn user_token(&self, domain: &str, name: &str, password: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/v1/user-auth/login",
                None,
                Some(json!({"domain": domain, "userName": name, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn token(&self, name: &str, password: &str) -> String {
        let r = self.login(name, password).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// A company with one domain per name given; returns (company, domains).
    pub async fn company(&self, t: &str, name: &str, domains: &[&str]) -> (i64, Vec<i64>) {
        let cid = self
            .post("/api/v1/companies", t, json!({"name": name}))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let mut ds = Vec::new();
        for d in domains {
            let r = self
                .post(
                    &format!("/api/v1/companies/{cid}/domains"),
                    t,
                    json!({"name": d, "numberingPlanLength": 4}),
                )
                .await;
            ds.push(r.body["id"].as_i64().unwrap());
        }
        (cid, ds)
    }

    pub async fn user(&self, t: &str, cid: i64, did: i64, name: &str) -> i64 {
        let r = self
            .post(
                &format!("/api/v1/companies/{cid}/users"),
                t,
                json!({"domainId": did, "userName": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_i64().unwrap()
    }

    pub async fn group(&self, t: &str, cid: i64, did: i64, name: &str, members: &[i64]) -> i64 {
        let gid = self
            .post(
                &format!("/api/v1/companies/{cid}/groups"),
                t,
                json!({"domainId": did, "name": name}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let r = self
            .post(
                &format!("/api/v1/companies/{cid}/groups/{gid}/members"),
                t,
                json!({"userIds": members}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        gid
    }

    pub async fn scoped_admin(&self, t: &str, name: &str, cid: i64) -> String {
        let r = self
            .post("/api/v1/admins", t, json!({"name": name, "password": "scoped-admin-pw", "companyIds": [cid], "mustChangePassword": false}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        self.token(name, "scoped-admin-pw").await
    }

    /// Installs a license for this installation with `caller` TWP Caller
    /// seats (`PUT /api/v1/license`).
    pub async fn install_license(&self, t: &str, caller: u32) {
        let id = self.get("/api/v1/license", t).await.body["installationId"]
            .as_str()
            .unwrap()
            .to_owned();
        let text = self.license(&self.key, &id, "2099-12-31", caller);
        let r = self.put("/api/v1/license", t, json!({"text": text})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    /// Grants application `app` to a `user` or `group` (`subject`).
    pub async fn grant_application(&self, t: &str, cid: i64, subject: (&str, i64), app: &str) {
        let (kind, id) = subject;
        let r = self
            .post(
                &format!("/api/v1/companies/{cid}/grants"),
                t,
                json!({"subject": {"type": kind, "id": id}, "objectType": "application", "application": app}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    pub fn license(
        &self,
        key: &SigningKey,
        installation: &str,
        expires: &str,
        caller: u32,
    ) -> String {
        let body = format!(
            "TWP LICENSE 1\ncustomer: ACME SA\ninstallation: {installation}\nexpires: {expires}\n\
             seats.caller: {caller}\nseats.alerter: 1\n"
        );
        sign(&body, key).unwrap()
    }
}

/// Runs each named `async fn(&App)` as a test on SQLite and on PostgreSQL.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { let app = super::App::spawn(super::Backend::Sqlite).await; super::$name(&app).await; app.stop().await; } )* }
        mod postgres { $( #[tokio::test] async fn $name() { let app = super::App::spawn(super::Backend::Postgres).await; super::$name(&app).await; app.stop().await; } )* }
    };
}
