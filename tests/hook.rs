//! The inbound notify hook: `/hook` hands out a secret, other systems post to `/hooks/notify/<slug>` with
//! it, and the message arrives in the organisers chat. Every refusal is JSON and queues nothing.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{ADA, OWNER, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SLUG: &str = "fosdem-2027";
const ORGANISERS: i64 = -100_700;

/// The secret in the bot's answer to `/hook` (the first `<code>…</code>`).
fn secret_in(reply: &str) -> String {
    let start = reply.find("<code>").expect("a secret") + "<code>".len();
    let end = start + reply[start..].find("</code>").expect("closed");
    reply[start..end].to_owned()
}

/// The owner sends `/hook`; returns the secret.
async fn new_secret(app: &TestApp) -> String {
    let replies = app.say(&OWNER, "/hook").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    secret_in(&replies[0])
}

/// Owner, conference, organisers chat bound, and a hook secret.
async fn hooked() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("organisers", ORGANISERS).await;
    let secret = new_secret(&app).await;
    (app, secret)
}

/// Posts `body` to the hook of `slug` with `Authorization: Bearer <secret>` when given.
async fn call(
    app: &TestApp,
    slug: &str,
    secret: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/hooks/notify/{slug}", app.base_url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

async fn outbox_len(app: &TestApp) -> usize {
    herald::db::outbox::list(app.db()).await.unwrap().len()
}

fn notice(title: &str, text: &str, level: &str) -> String {
    json!({ "title": title, "text": text, "level": level }).to_string()
}

#[tokio::test]
async fn a_valid_call_is_accepted_and_arrives_in_the_organisers_chat() {
    let (app, secret) = hooked().await;
    let before = app.telegram.texts_to(ORGANISERS).len();

    let (status, body) = call(
        &app,
        SLUG,
        Some(&secret),
        notice(
            "Tickets <sold out>",
            "The last ticket went at 10:02 & the waiting list is open.",
            "warning",
        ),
    )
    .await;
    assert_eq!((status, body), (202, json!({ "queued": true })));
    app.send_everything().await;
    let texts = app.telegram.texts_to(ORGANISERS).split_off(before);
    assert_eq!(texts.len(), 1, "{texts:?}");
    let text = &texts[0];
    assert!(
        text.starts_with("⚠️ <b>Tickets &lt;sold out&gt;</b>"),
        "{text}"
    );
    assert!(
        text.contains("The last ticket went at 10:02 &amp; the waiting list is open."),
        "{text}"
    );
    assert!(text.contains("Warning notice for FOSDEM 2027"), "{text}");
    assert!(text.contains("notify hook"), "{text}");

    // Each accepted call is its own message, even with the same content; level defaults to info.
    for _ in 0..2 {
        let body = json!({ "title": "Doors open", "text": "Hall A is open." }).to_string();
        let (status, _) = call(&app, SLUG, Some(&secret), body).await;
        assert_eq!(status, 202);
    }
    let (status, _) = call(
        &app,
        SLUG,
        Some(&secret),
        notice("Fire alarm", "Evacuate K.", "urgent"),
    )
    .await;
    assert_eq!(status, 202);
    app.send_everything().await;
    let texts = app.telegram.texts_to(ORGANISERS).split_off(before + 1);
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[0].starts_with("ℹ️ <b>Doors open</b>\nHall A is open."),
        "{texts:?}"
    );
    assert!(texts[0].contains("Info notice"), "{texts:?}");
    assert_eq!(texts[0], texts[1]);
    assert!(texts[2].starts_with("🚨 <b>Fire alarm</b>"), "{texts:?}");
    assert!(texts[2].contains("Urgent notice"), "{texts:?}");
}

#[tokio::test]
async fn a_missing_or_wrong_secret_or_unknown_conference_is_401_with_one_answer() {
    let (app, secret) = hooked().await;
    let body = notice("t", "x", "info");

    let (status, missing) = call(&app, SLUG, None, body.clone()).await;
    assert_eq!(status, 401);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{missing}"
    );
    let (status, wrong) = call(&app, SLUG, Some("not-the-secret"), body.clone()).await;
    assert_eq!((status, &wrong), (401, &missing));
    let (status, unknown) = call(&app, "no-such-conf", Some(&secret), body.clone()).await;
    assert_eq!(
        (status, &unknown),
        (401, &missing),
        "the conference's existence is not told"
    );
    // Another scheme carrying the right secret is not accepted either.
    let response = app
        .http
        .post(format!("{}/hooks/notify/{SLUG}", app.base_url))
        .header("authorization", format!("Basic {secret}"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));

    // `/hook` again: the old secret stops working at once, the new one works.
    let replies = app.say(&OWNER, "/hook").await;
    assert!(
        replies[0].contains("previous one no longer works"),
        "{replies:?}"
    );
    let fresh = secret_in(&replies[0]);
    assert_ne!(fresh, secret);
    let queued = outbox_len(&app).await;
    let (status, old) = call(&app, SLUG, Some(&secret), body.clone()).await;
    assert_eq!((status, &old), (401, &missing));
    assert_eq!(
        outbox_len(&app).await,
        queued,
        "a refused call queues nothing"
    );
    let (status, _) = call(&app, SLUG, Some(&fresh), body).await;
    assert_eq!(status, 202);
    assert_eq!(outbox_len(&app).await, queued + 1);
}

#[tokio::test]
async fn a_conference_without_a_hook_refuses_every_secret() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("organisers", ORGANISERS).await;
    let queued = outbox_len(&app).await;
    let (status, body) = call(&app, SLUG, Some("anything"), notice("t", "x", "info")).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("secret"), "{body}");
    let (status, _) = call(&app, SLUG, Some(""), notice("t", "x", "info")).await;
    assert_eq!(status, 401);
    assert_eq!(outbox_len(&app).await, queued);
}

#[tokio::test]
async fn a_body_that_is_not_a_notice_is_400_naming_the_problem() {
    let (app, secret) = hooked().await;
    let queued = outbox_len(&app).await;
    let cases = [
        ("{\"title\": \"t\", ".to_owned(), "not valid JSON"),
        (
            json!({ "text": "x", "level": "info" }).to_string(),
            "title is missing",
        ),
        (
            json!({ "title": "t", "level": "info" }).to_string(),
            "text is missing",
        ),
        (
            json!({ "title": 7, "text": "x" }).to_string(),
            "title must be a string, not a number",
        ),
        (
            json!({ "title": " ", "text": "x" }).to_string(),
            "title is empty",
        ),
        (
            notice("t", "x", "critical"),
            "level must be info, warning or urgent, not \"critical\"",
        ),
        (
            json!({ "title": "t", "text": "x", "severity": "high" }).to_string(),
            "unknown field \"severity\"",
        ),
        (
            notice(&"t".repeat(201), "x", "info"),
            "title is 201 characters long; at most 200",
        ),
        (
            notice("t", &"x".repeat(4001), "info"),
            "text is 4001 characters long; at most 4000",
        ),
        ("[]".to_owned(), "not an object"),
        (String::new(), "the body is empty"),
    ];
    for (body, expected) in cases {
        let (status, answer) = call(&app, SLUG, Some(&secret), body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(expected), "{body}: {error}");
    }
    // Unauthenticated callers learn nothing about the body.
    let (status, _) = call(&app, SLUG, Some("wrong"), "{".to_owned()).await;
    assert_eq!(status, 401);
    assert_eq!(
        outbox_len(&app).await,
        queued,
        "a refused call queues nothing"
    );
}

#[tokio::test]
async fn a_body_over_64_kb_is_413() {
    let (app, secret) = hooked().await;
    let queued = outbox_len(&app).await;
    let big = notice("Big", &"x".repeat(70 * 1024), "info");
    let (status, body) = call(&app, SLUG, Some(&secret), big).await;
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap().contains("at most 65536"),
        "{body}"
    );
    // A Content-Length saying more is refused before any of the body is read.
    let mut stream = tokio::net::TcpStream::connect(app.base_url.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(
            format!(
                "POST /hooks/notify/{SLUG} HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer {secret}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("answered without waiting for the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("the body is 100000 bytes"), "{answer}");
    // Exactly 64 KB passes the size check (and is then judged on its content).
    let padding = 64 * 1024 - notice("Edge", "", "info").len();
    let (status, body) = call(
        &app,
        SLUG,
        Some(&secret),
        notice("Edge", &" ".repeat(padding), "info"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "text is empty");
    assert_eq!(outbox_len(&app).await, queued);
}

#[tokio::test]
async fn without_an_organisers_chat_the_call_is_409_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let secret = new_secret(&app).await;
    let queued = outbox_len(&app).await;
    let (status, body) = call(&app, SLUG, Some(&secret), notice("t", "x", "urgent")).await;
    assert_eq!(status, 409);
    assert!(
        body["error"].as_str().unwrap().contains("/bind organisers"),
        "{body}"
    );
    assert_eq!(outbox_len(&app).await, queued);

    // Once bound, the same call goes through.
    app.bind("organisers", ORGANISERS).await;
    let (status, _) = call(&app, SLUG, Some(&secret), notice("t", "x", "urgent")).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn hook_is_for_admins_only() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("organisers", ORGANISERS).await;
    app.join(&ADA, "volunteer").await;

    let replies = app.say(&ADA, "/hook").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0].contains("needs the <b>admin</b> role"),
        "{replies:?}"
    );
    // No hook was made: any secret is refused.
    let (status, _) = call(&app, SLUG, Some("guess"), notice("t", "x", "info")).await;
    assert_eq!(status, 401);
}
