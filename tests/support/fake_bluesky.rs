//! An in-process fake PDS: createSession, resolveHandle and createRecord, recording the records.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct FakeBluesky {
    pub url: String,
    records: Arc<Mutex<Vec<Value>>>,
}

fn jwt(exp: i64) -> String {
    let encode = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2ln",
        encode(r#"{"typ":"at+jwt","alg":"ES256K"}"#),
        encode(&json!({ "exp": exp }).to_string())
    )
}

async fn session(Json(body): Json<Value>) -> Json<Value> {
    let exp = chrono::Utc::now().timestamp() + 7200;
    Json(
        json!({ "accessJwt": jwt(exp), "refreshJwt": jwt(exp + 86400), "did": "did:plc:herald", "handle": body["identifier"] }),
    )
}

async fn create(
    State(records): State<Arc<Mutex<Vec<Value>>>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut records = records.lock().unwrap();
    records.push(body["record"].clone());
    let n = records.len();
    Json(
        json!({ "uri": format!("at://did:plc:herald/app.bsky.feed.post/{n}"), "cid": format!("cid{n}") }),
    )
}

impl FakeBluesky {
    pub async fn start() -> Self {
        let records: Arc<Mutex<Vec<Value>>> = Arc::default();
        let app = Router::new()
            .route("/xrpc/com.atproto.server.createSession", post(session))
            .route("/xrpc/com.atproto.repo.createRecord", post(create))
            .route(
                "/xrpc/com.atproto.identity.resolveHandle",
                get(|| async { Json(json!({ "did": "did:plc:alice" })) }),
            )
            .with_state(records.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, records }
    }

    /// The `app.bsky.feed.post` records created so far.
    pub fn records(&self) -> Vec<Value> {
        self.records.lock().unwrap().clone()
    }
}
