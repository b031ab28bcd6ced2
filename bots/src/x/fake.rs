//! A small in-process stand-in for X for the unit tests: it records every request and answers what the test
//! scripted for its method and path, or a 404 problem.

#![allow(clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use reqwest::Url;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: String,
    pub content_type: String,
    pub body: String,
}

#[derive(Default)]
pub struct Fake {
    answers: HashMap<(String, String), (u16, String)>,
    pub seen: Vec<Seen>,
}

pub type Shared = Arc<Mutex<Fake>>;

async fn answer(
    axum::extract::State(fake): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let mut fake = fake.lock().unwrap();
    fake.seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    match fake
        .answers
        .get(&(method.to_string(), uri.path().to_owned()))
    {
        Some((status, body)) => (
            StatusCode::from_u16(*status).unwrap(),
            [("content-type", "application/json")],
            body.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            r#"{"title":"Not Found Error","detail":"no such route in the fake","type":"https://api.twitter.com/2/problems/resource-not-found"}"#,
        )
            .into_response(),
    }
}

/// Serves `answers` (method, path, status, JSON body); the fake's base URL and what it saw.
pub async fn serve(answers: &[(&str, &str, u16, &str)]) -> (Url, Shared) {
    let fake = Shared::default();
    fake.lock().unwrap().answers = answers
        .iter()
        .map(|(method, path, status, body)| {
            (
                ((*method).to_owned(), (*path).to_owned()),
                (*status, (*body).to_owned()),
            )
        })
        .collect();
    let app = Router::new().fallback(answer).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Url::parse(&base).unwrap(), fake)
}
