//! The Bluesky driver against an in-process fake PDS.

#![allow(clippy::unwrap_used)]

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use herald_bots::{
    Disposition,
    bluesky::{
        BlueskyClient, BlueskyError, ExternalCard, Image, NewPost, Posted, ReplyRef, StrongRef,
    },
};
use reqwest::Url;
use serde_json::{Value, json};

const DID: &str = "did:plc:heraldbot";
const HANDLE: &str = "herald.test";
const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// What the fake answers to the next `createRecord` calls instead of creating the record.
enum Scripted {
    ExpiredToken,
    RateLimited { reset: i64 },
    Status(u16, &'static str),
}

#[derive(Debug, Clone)]
struct Recorded {
    nsid: String,
    bearer: Option<String>,
    content_type: Option<String>,
    query: Option<String>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Pds {
    requests: Vec<Recorded>,
    issued: u32,
    /// Lifetimes in seconds of the next access tokens issued; two hours once empty.
    access_lifetimes: VecDeque<i64>,
    refuse_refresh: bool,
    valid_access: HashSet<String>,
    valid_refresh: HashSet<String>,
    create_record: VecDeque<Scripted>,
    records: Vec<Value>,
}

impl Pds {
    fn calls(&self, nsid: &str) -> Vec<Recorded> {
        self.requests
            .iter()
            .filter(|r| r.nsid == nsid)
            .cloned()
            .collect()
    }

    fn count(&self, nsid: &str) -> usize {
        self.calls(nsid).len()
    }

    fn issue_session(&mut self) -> Response {
        self.issued += 1;
        let now = Utc::now().timestamp();
        let lifetime = self.access_lifetimes.pop_front().unwrap_or(2 * 3600);
        let access = jwt(json!({
            "scope": "com.atproto.appPass",
            "sub": DID,
            "iat": now,
            "exp": now + lifetime,
            "jti": format!("access-{}", self.issued),
        }));
        let refresh = jwt(json!({
            "scope": "com.atproto.refresh",
            "sub": DID,
            "exp": now + 90 * 24 * 3600,
            "jti": format!("refresh-{}", self.issued),
        }));
        self.valid_access.insert(access.clone());
        self.valid_refresh.insert(refresh.clone());
        Json(json!({
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": HANDLE,
            "did": DID,
            "active": true,
        }))
        .into_response()
    }

    /// The answer to a call without a valid access token, if it has none.
    fn refusal(&self, bearer: Option<&str>) -> Option<Response> {
        match bearer {
            None => Some(xrpc_error(401, "AuthMissing", "Authentication Required")),
            Some(token) if self.valid_access.contains(token) => None,
            Some(_) => Some(xrpc_error(400, "ExpiredToken", "Token has expired")),
        }
    }
}

type Shared = Arc<Mutex<Pds>>;

fn jwt(claims: Value) -> String {
    let encode = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(r#"{"typ":"at+jwt","alg":"ES256K"}"#),
        encode(&claims.to_string())
    )
}

fn xrpc_error(status: u16, error: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({ "error": error, "message": message })),
    )
        .into_response()
}

async fn xrpc(
    State(pds): State<Shared>,
    Path(nsid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut pds = pds.lock().unwrap();
    let header = |name| {
        headers
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let bearer =
        header(header::AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned));
    pds.requests.push(Recorded {
        nsid: nsid.clone(),
        bearer: bearer.clone(),
        content_type: header(header::CONTENT_TYPE),
        query: query.clone(),
        body: body.to_vec(),
    });
    match nsid.as_str() {
        "com.atproto.server.createSession" => {
            let input: Value = serde_json::from_slice(&body).unwrap();
            if input["identifier"] != HANDLE || input["password"] != APP_PASSWORD {
                return xrpc_error(
                    401,
                    "AuthenticationRequired",
                    "Invalid identifier or password",
                );
            }
            pds.issue_session()
        }
        "com.atproto.server.refreshSession" => {
            let refuse = pds.refuse_refresh;
            match bearer.filter(|t| !refuse && pds.valid_refresh.contains(t)) {
                Some(token) => {
                    pds.valid_refresh.remove(&token);
                    pds.issue_session()
                }
                None => xrpc_error(400, "ExpiredToken", "Token has been revoked"),
            }
        }
        "com.atproto.identity.resolveHandle" => {
            let did = match query.as_deref() {
                Some("handle=alice.test") => "did:plc:alice",
                Some("handle=atproto.com") => "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                _ => return xrpc_error(400, "InvalidRequest", "Unable to resolve handle"),
            };
            Json(json!({ "did": did })).into_response()
        }
        "com.atproto.repo.uploadBlob" => {
            if let Some(refused) = pds.refusal(bearer.as_deref()) {
                return refused;
            }
            let n = pds.count("com.atproto.repo.uploadBlob");
            Json(json!({
                "blob": {
                    "$type": "blob",
                    "ref": { "$link": format!("bafkreiblob{n}") },
                    "mimeType": header(header::CONTENT_TYPE),
                    "size": body.len(),
                }
            }))
            .into_response()
        }
        "com.atproto.repo.createRecord" => {
            if let Some(refused) = pds.refusal(bearer.as_deref()) {
                return refused;
            }
            match pds.create_record.pop_front() {
                Some(Scripted::ExpiredToken) => {
                    pds.valid_access.clear();
                    return xrpc_error(400, "ExpiredToken", "Token has expired");
                }
                Some(Scripted::RateLimited { reset }) => {
                    let mut response = xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded");
                    let headers = response.headers_mut();
                    headers.insert("ratelimit-limit", "5000".parse().unwrap());
                    headers.insert("ratelimit-remaining", "0".parse().unwrap());
                    headers.insert("ratelimit-reset", reset.to_string().parse().unwrap());
                    headers.insert("ratelimit-policy", "5000;w=3600".parse().unwrap());
                    return response;
                }
                Some(Scripted::Status(status, body)) => {
                    return (StatusCode::from_u16(status).unwrap(), body).into_response();
                }
                None => {}
            }
            let input: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(input["repo"], DID);
            assert_eq!(input["collection"], "app.bsky.feed.post");
            pds.records.push(input["record"].clone());
            let n = pds.records.len();
            Json(json!({
                "uri": format!("at://{DID}/app.bsky.feed.post/3k4post{n}"),
                "cid": format!("bafyreirecord{n}"),
                "commit": { "cid": format!("bafyreicommit{n}"), "rev": format!("3k4rev{n}") },
                "validationStatus": "valid",
            }))
            .into_response()
        }
        _ => xrpc_error(501, "MethodNotImplemented", "Method Not Implemented"),
    }
}

async fn start_with(pds: Pds, password: &str) -> (BlueskyClient, Shared) {
    let pds: Shared = Arc::new(Mutex::new(pds));
    let app = Router::new()
        .route("/xrpc/{nsid}", any(xrpc))
        .with_state(pds.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = BlueskyClient::new(
        Url::parse(&format!("http://{addr}/")).unwrap(),
        HANDLE.into(),
        password.into(),
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    );
    (client, pds)
}

async fn start() -> (BlueskyClient, Shared) {
    start_with(Pds::default(), APP_PASSWORD).await
}

fn created_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-09-12T09:30:00.250Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn image(bytes: &[u8], mime: &str, alt: &str) -> Image {
    Image {
        bytes: bytes.to_vec(),
        mime: mime.into(),
        alt: alt.into(),
    }
}

/// The substrings of `text` the record's facets point at, with their features.
fn facet_slices(record: &Value) -> Vec<(String, Value)> {
    let text = record["text"].as_str().unwrap().as_bytes();
    record["facets"]
        .as_array()
        .map(|facets| {
            facets
                .iter()
                .map(|f| {
                    let start = f["index"]["byteStart"].as_u64().unwrap() as usize;
                    let end = f["index"]["byteEnd"].as_u64().unwrap() as usize;
                    (
                        String::from_utf8(text[start..end].to_vec()).unwrap(),
                        f["features"][0].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_post_gets_facets_for_its_mention_link_and_hashtag() {
    let (client, pds) = start().await;
    let mut post = NewPost::text(
        "✨ Talk by @alice.test: slides at https://example.org/talk?id=42&lang=en. 🎉 #tag",
        created_at(),
    );
    post.langs = vec!["en".into()];
    let posted = client.post(&post).await.unwrap();
    assert_eq!(
        posted,
        Posted {
            uri: format!("at://{DID}/app.bsky.feed.post/3k4post1"),
            cid: "bafyreirecord1".into(),
        }
    );

    let pds = pds.lock().unwrap();
    let record = &pds.records[0];
    assert_eq!(record["$type"], "app.bsky.feed.post");
    assert_eq!(record["text"], post.text);
    assert_eq!(record["createdAt"], "2025-09-12T09:30:00.250Z");
    assert_eq!(record["langs"], json!(["en"]));
    assert!(record.get("reply").is_none() && record.get("embed").is_none());
    assert_eq!(
        facet_slices(record),
        [
            (
                "@alice.test".to_owned(),
                json!({ "$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice" })
            ),
            (
                "https://example.org/talk?id=42&lang=en".to_owned(),
                json!({ "$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/talk?id=42&lang=en" })
            ),
            (
                "#tag".to_owned(),
                json!({ "$type": "app.bsky.richtext.facet#tag", "tag": "tag" })
            ),
        ]
    );
    let resolved = pds.calls("com.atproto.identity.resolveHandle");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].query.as_deref(), Some("handle=alice.test"));
}

#[tokio::test]
async fn the_docs_sample_post_comes_out_byte_for_byte() {
    // shared/data/bluesky/bsky-docs-post-examples/post-facets-mention-link-emoji.json
    let (client, pds) = start().await;
    let text = "✨ example mentioning @atproto.com to share the URL 👨\u{200D}❤\u{FE0F}\u{200D}👨 https://en.wikipedia.org/wiki/CBOR.";
    client
        .post(&NewPost::text(text, created_at()))
        .await
        .unwrap();
    let pds = pds.lock().unwrap();
    assert_eq!(
        pds.records[0]["facets"],
        json!([
            {
                "index": { "byteStart": 23, "byteEnd": 35 },
                "features": [{ "$type": "app.bsky.richtext.facet#mention", "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz" }]
            },
            {
                "index": { "byteStart": 74, "byteEnd": 108 },
                "features": [{ "$type": "app.bsky.richtext.facet#link", "uri": "https://en.wikipedia.org/wiki/CBOR" }]
            }
        ])
    );
}

#[tokio::test]
async fn the_session_is_created_once_and_reused() {
    let (client, pds) = start().await;
    for i in 0..3 {
        client
            .post(&NewPost::text(format!("post {i}"), created_at()))
            .await
            .unwrap();
    }
    assert_eq!(client.did().await.unwrap(), DID);
    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.server.createSession"), 1);
    assert_eq!(pds.count("com.atproto.server.refreshSession"), 0);
    let login: Value =
        serde_json::from_slice(&pds.calls("com.atproto.server.createSession")[0].body).unwrap();
    assert_eq!(
        login,
        json!({ "identifier": HANDLE, "password": APP_PASSWORD })
    );
    let bearers: HashSet<_> = pds
        .calls("com.atproto.repo.createRecord")
        .into_iter()
        .map(|r| r.bearer.unwrap())
        .collect();
    assert_eq!(bearers.len(), 1);
    assert_eq!(pds.records.len(), 3);
}

#[tokio::test]
async fn a_mention_that_does_not_resolve_stays_plain_text() {
    let (client, pds) = start().await;
    let text = "Thanks @nobody.test and @alice.test and @nobody.test again #thanks";
    client
        .post(&NewPost::text(text, created_at()))
        .await
        .unwrap();
    let pds = pds.lock().unwrap();
    let slices: Vec<String> = facet_slices(&pds.records[0])
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(slices, ["@alice.test", "#thanks"]);
    assert_eq!(pds.records[0]["text"], text);
    // Each handle is looked up once per post.
    assert_eq!(pds.count("com.atproto.identity.resolveHandle"), 2);
}

#[tokio::test]
async fn images_are_uploaded_then_referenced_with_their_alt_texts() {
    let (client, pds) = start().await;
    let mut post = NewPost::text("Today's room plan", created_at());
    post.images = vec![
        image(
            b"\x89PNG\r\n\x1a\nfirst",
            "image/png",
            "Floor plan of hall A",
        ),
        image(
            b"\xff\xd8\xffsecond",
            "image/jpeg",
            "Hall B, seen from the stage",
        ),
    ];
    // Images win over the link card.
    post.link_card = Some(ExternalCard {
        uri: "https://example.org".into(),
        title: "Example".into(),
        description: "Ignored".into(),
    });
    client.post(&post).await.unwrap();

    let pds = pds.lock().unwrap();
    let uploads = pds.calls("com.atproto.repo.uploadBlob");
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].body, post.images[0].bytes);
    assert_eq!(uploads[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(uploads[1].body, post.images[1].bytes);
    assert_eq!(uploads[1].content_type.as_deref(), Some("image/jpeg"));
    let order: Vec<&str> = pds.requests.iter().map(|r| r.nsid.as_str()).collect();
    assert_eq!(
        order,
        [
            "com.atproto.server.createSession",
            "com.atproto.repo.uploadBlob",
            "com.atproto.repo.uploadBlob",
            "com.atproto.repo.createRecord",
        ]
    );
    assert_eq!(
        pds.records[0]["embed"],
        json!({
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": "Floor plan of hall A",
                    "image": { "$type": "blob", "ref": { "$link": "bafkreiblob1" }, "mimeType": "image/png", "size": 13 }
                },
                {
                    "alt": "Hall B, seen from the stage",
                    "image": { "$type": "blob", "ref": { "$link": "bafkreiblob2" }, "mimeType": "image/jpeg", "size": 9 }
                }
            ]
        })
    );
}

#[tokio::test]
async fn a_link_card_is_embedded_when_there_are_no_images() {
    let (client, pds) = start().await;
    let mut post = NewPost::text("Schedule is out", created_at());
    post.link_card = Some(ExternalCard {
        uri: "https://conf.example.org/schedule".into(),
        title: "Schedule".into(),
        description: "Three days, four tracks".into(),
    });
    client.post(&post).await.unwrap();
    let pds = pds.lock().unwrap();
    assert_eq!(
        pds.records[0]["embed"],
        json!({
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://conf.example.org/schedule",
                "title": "Schedule",
                "description": "Three days, four tracks",
            }
        })
    );
    assert_eq!(pds.count("com.atproto.repo.uploadBlob"), 0);
}

#[tokio::test]
async fn an_expired_token_triggers_one_new_login_and_the_retry_succeeds() {
    let (client, pds) = start().await;
    client
        .post(&NewPost::text("first", created_at()))
        .await
        .unwrap();
    pds.lock()
        .unwrap()
        .create_record
        .push_back(Scripted::ExpiredToken);
    let posted = client
        .post(&NewPost::text("second", created_at()))
        .await
        .unwrap();
    assert_eq!(posted.cid, "bafyreirecord2");

    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.server.createSession"), 2);
    let attempts = pds.calls("com.atproto.repo.createRecord");
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0].bearer, attempts[1].bearer);
    assert_ne!(attempts[1].bearer, attempts[2].bearer);
    assert_eq!(attempts[1].body, attempts[2].body);
    assert_eq!(pds.records.len(), 2);
}

#[tokio::test]
async fn a_token_refused_again_after_the_new_login_is_not_retried_forever() {
    let (client, pds) = start().await;
    {
        let mut pds = pds.lock().unwrap();
        for _ in 0..5 {
            pds.create_record.push_back(Scripted::ExpiredToken);
        }
    }
    let err = client
        .post(&NewPost::text("doomed", created_at()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BlueskyError::Unauthorized { error, .. } if error == "ExpiredToken"),
        "{err:?}"
    );
    assert_eq!(err.disposition(), Disposition::Refused);
    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.server.createSession"), 2);
    assert_eq!(pds.count("com.atproto.repo.createRecord"), 2);
}

#[tokio::test]
async fn an_access_token_close_to_expiry_is_refreshed_first() {
    let pds = Pds {
        access_lifetimes: VecDeque::from([120]),
        ..Pds::default()
    };
    let (client, pds) = start_with(pds, APP_PASSWORD).await;
    for text in ["one", "two", "three"] {
        client
            .post(&NewPost::text(text, created_at()))
            .await
            .unwrap();
    }
    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.server.createSession"), 1);
    let refreshes = pds.calls("com.atproto.server.refreshSession");
    assert_eq!(refreshes.len(), 1);
    // refreshSession is authorised with the refresh token, and what it returns is used from then on.
    let refresh_claims = claims(refreshes[0].bearer.as_deref().unwrap());
    assert_eq!(refresh_claims["scope"], "com.atproto.refresh");
    assert_eq!(refresh_claims["jti"], "refresh-1");
    let bearers: Vec<Value> = pds
        .calls("com.atproto.repo.createRecord")
        .iter()
        .map(|r| claims(r.bearer.as_deref().unwrap())["jti"].clone())
        .collect();
    assert_eq!(bearers, ["access-2", "access-2", "access-2"]);
    assert_eq!(pds.records.len(), 3);
}

#[tokio::test]
async fn a_refused_refresh_token_means_logging_in_again() {
    let pds = Pds {
        access_lifetimes: VecDeque::from([120]),
        refuse_refresh: true,
        ..Pds::default()
    };
    let (client, pds) = start_with(pds, APP_PASSWORD).await;
    client
        .post(&NewPost::text("one", created_at()))
        .await
        .unwrap();
    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.server.refreshSession"), 1);
    assert_eq!(pds.count("com.atproto.server.createSession"), 2);
    let record = &pds.calls("com.atproto.repo.createRecord")[0];
    assert_eq!(claims(record.bearer.as_deref().unwrap())["jti"], "access-2");
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_rate_limit_says_when_to_retry() {
    let (client, pds) = start().await;
    let reset = Utc::now().timestamp() + 120;
    pds.lock()
        .unwrap()
        .create_record
        .push_back(Scripted::RateLimited { reset });
    let err = client
        .post(&NewPost::text("too many", created_at()))
        .await
        .unwrap_err();
    let BlueskyError::RetryAfter(delay) = err else {
        panic!("not a rate limit: {err:?}");
    };
    assert!(
        (Duration::from_secs(118)..=Duration::from_secs(120)).contains(&delay),
        "{delay:?}"
    );
    assert_eq!(err.disposition(), Disposition::RetryAfter(delay));
}

#[tokio::test]
async fn server_errors_are_transient_and_bad_requests_permanent() {
    let (client, pds) = start().await;
    {
        let mut pds = pds.lock().unwrap();
        pds.create_record
            .push_back(Scripted::Status(502, "<html>Bad Gateway</html>"));
        pds.create_record.push_back(Scripted::Status(
            400,
            r#"{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: Record/reply/parent must be an object"}"#,
        ));
    }
    let err = client
        .post(&NewPost::text("x", created_at()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlueskyError::Server { status: 502, .. }),
        "{err:?}"
    );
    assert_eq!(err.disposition(), Disposition::Transient);
    let err = client
        .post(&NewPost::text("x", created_at()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BlueskyError::BadRequest {
            status: 400,
            error: "InvalidRequest".into(),
            message: "Invalid app.bsky.feed.post record: Record/reply/parent must be an object"
                .into(),
        }
    );
    assert_eq!(err.disposition(), Disposition::Permanent);
}

#[tokio::test]
async fn replies_carry_root_and_parent() {
    let (client, pds) = start().await;
    let first = client
        .post(&NewPost::text("Thread 1/3", created_at()))
        .await
        .unwrap();
    let mut second = NewPost::text("Thread 2/3", created_at());
    second.reply_to = Some(ReplyRef {
        root: (&first).into(),
        parent: (&first).into(),
    });
    let second = client.post(&second).await.unwrap();
    let mut third = NewPost::text("Thread 3/3", created_at());
    third.reply_to = Some(ReplyRef {
        root: StrongRef::from(&first),
        parent: StrongRef::from(&second),
    });
    client.post(&third).await.unwrap();

    let pds = pds.lock().unwrap();
    assert!(pds.records[0].get("reply").is_none());
    let reference = |posted: &Posted| json!({ "uri": posted.uri, "cid": posted.cid });
    assert_eq!(
        pds.records[1]["reply"],
        json!({ "root": reference(&first), "parent": reference(&first) })
    );
    assert_eq!(
        pds.records[2]["reply"],
        json!({ "root": reference(&first), "parent": reference(&second) })
    );
}

#[tokio::test]
async fn bad_credentials_are_reported_and_nothing_is_posted() {
    let (client, pds) = start_with(Pds::default(), "wrong-password").await;
    let err = client
        .post(&NewPost::text("hello", created_at()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BlueskyError::Unauthorized {
            error: "AuthenticationRequired".into(),
            message: "Invalid identifier or password".into(),
        }
    );
    assert_eq!(err.disposition(), Disposition::Refused);
    assert!(!err.to_string().contains("wrong-password"));
    let pds = pds.lock().unwrap();
    assert_eq!(pds.count("com.atproto.repo.createRecord"), 0);
}

#[tokio::test]
async fn posts_over_the_limits_are_refused_before_any_request() {
    let (client, pds) = start().await;
    let err = client
        .post(&NewPost::text(
            "👨\u{200D}👩\u{200D}👧".repeat(301),
            created_at(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err, BlueskyError::TooLong { graphemes: 301 });
    assert_eq!(err.disposition(), Disposition::Permanent);

    let mut post = NewPost::text("five pictures", created_at());
    post.images = vec![image(b"x", "image/png", "x"); 5];
    let err = client.post(&post).await.unwrap_err();
    assert_eq!(err, BlueskyError::TooManyImages { count: 5 });
    assert_eq!(err.disposition(), Disposition::Permanent);

    assert!(pds.lock().unwrap().requests.is_empty());
}

#[tokio::test]
async fn handles_resolve_to_dids() {
    let (client, pds) = start().await;
    assert_eq!(
        client.resolve_handle("@alice.test").await.unwrap(),
        "did:plc:alice"
    );
    let err = client.resolve_handle("nobody.test").await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Permanent);
    // Resolving a handle needs no session.
    assert_eq!(
        pds.lock()
            .unwrap()
            .count("com.atproto.server.createSession"),
        0
    );
}
