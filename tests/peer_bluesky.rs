//! Against the real Bluesky stack, `@atproto/dev-env` 0.6.7 (PLC, PDS and AppView; see .ci/peer-bluesky,
//! which starts it and runs these with `--ignored`). Set PEER_BLUESKY_URL to the PDS's address.
//!
//! Accounts are created fresh per test (handles end in `.test` there). The AppView indexes records
//! asynchronously, so reading back polls.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use herald_bots::bluesky::{BlueskyClient, NewPost};
use serde_json::{Value, json};
use support::{OWNER, TestApp};

/// A 4×4 red PNG.
const PNG: [u8; 73] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x08, 0x02, 0x00, 0x00, 0x00, 0x26, 0x93, 0x09,
    0x29, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x07,
    0x47, 0x0c, 0xc4, 0x71, 0x00, 0xb1, 0x63, 0x10, 0x41, 0x3b, 0x4b, 0x63, 0x82, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn peer() -> String {
    let url = std::env::var("PEER_BLUESKY_URL").expect("PEER_BLUESKY_URL (run .ci/peer-bluesky)");
    if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    }
}

struct Account {
    handle: String,
    password: String,
    did: String,
    jwt: String,
}

/// `com.atproto.server.createAccount` on the PDS (dev-env needs no invite code).
async fn create_account(base: &str, name: &str) -> Account {
    let handle = format!("{name}{}.test", rand::random::<u32>() % 1_000_000);
    let password = format!("pw-{}", rand::random::<u64>());
    let response = reqwest::Client::new()
        .post(format!("{base}xrpc/com.atproto.server.createAccount"))
        .json(&json!({ "handle": handle, "email": format!("{handle}@example.org"), "password": password }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "createAccount: {body}");
    Account {
        handle,
        password,
        did: body["did"].as_str().unwrap().to_owned(),
        jwt: body["accessJwt"].as_str().unwrap().to_owned(),
    }
}

/// `app.bsky.feed.getPostThread` through the PDS (which proxies it to the AppView), polled until the
/// AppView has indexed the post and `replies` replies to it.
async fn thread(base: &str, reader: &Account, uri: &str, replies: usize) -> Value {
    let http = reqwest::Client::new();
    let mut last = Value::Null;
    for _ in 0..60 {
        let response = http
            .get(format!("{base}xrpc/app.bsky.feed.getPostThread"))
            .query(&[("uri", uri), ("depth", "10")])
            .bearer_auth(&reader.jwt)
            .send()
            .await
            .unwrap();
        last = response.json().await.unwrap();
        let found = last["thread"]["post"].is_object();
        let enough = last["thread"]["replies"]
            .as_array()
            .is_some_and(|r| r.len() >= replies);
        if found && (replies == 0 || enough) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{uri} was not indexed with {replies} replies within 15 s: {last}");
}

/// `account` added by the owner as provider `sky`, tested, switched on, with `feature` on.
async fn add_sky(app: &TestApp, base: &str, account: &Account, feature: &str) {
    app.say(&OWNER, &format!("/provider add bluesky sky {base}"))
        .await;
    app.deliver(&[app.message_update(
        &OWNER,
        OWNER.id,
        &format!("{} {}", account.handle, account.password),
    )])
    .await;
    let replies = app.say(&OWNER, "/provider test sky").await;
    assert!(replies[0].contains(&account.did), "{replies:?}");
    app.say(&OWNER, "/provider on sky").await;
    app.say(&OWNER, &format!("/switch sky {feature} on")).await;
}

/// The text each facet covers (byte offsets, as the lexicon says), with its feature.
fn facets(record: &Value) -> Vec<(String, Value)> {
    let text = record["text"].as_str().unwrap();
    record["facets"]
        .as_array()
        .map(|facets| {
            facets
                .iter()
                .map(|f| {
                    let start = f["index"]["byteStart"].as_u64().unwrap() as usize;
                    let end = f["index"]["byteEnd"].as_u64().unwrap() as usize;
                    (text[start..end].to_owned(), f["features"][0].clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs @atproto/dev-env: .ci/peer-bluesky"]
async fn the_driver_posts_records_whose_facets_resolve_on_the_appview() {
    let base = peer();
    let bot = create_account(&base, "herald").await;
    let alice = create_account(&base, "alice").await;
    let client = BlueskyClient::new(
        base.parse().unwrap(),
        bot.handle.clone(),
        bot.password.clone(),
        reqwest::Client::new(),
    );
    assert_eq!(client.did().await.unwrap(), bot.did);

    // Emoji and a long URL before the mention and the tag move every byte offset after them.
    let text = format!(
        "🎉👩‍💻 Rooms: https://fosdem.org/2027/schedule/rooms/janson/and/a/rather/long/path welcome @{} #FOSDEM2027",
        alice.handle
    );
    let posted = client
        .post(&NewPost::text(text.clone(), chrono::Utc::now()))
        .await
        .unwrap();
    assert!(
        posted
            .uri
            .starts_with(&format!("at://{}/app.bsky.feed.post/", bot.did))
    );

    let read = thread(&base, &alice, &posted.uri, 0).await;
    let record = &read["thread"]["post"]["record"];
    assert_eq!(record["text"], text.as_str());
    let found = facets(record);
    assert_eq!(found.len(), 3, "{record}");
    assert_eq!(
        found[0].0,
        "https://fosdem.org/2027/schedule/rooms/janson/and/a/rather/long/path"
    );
    assert_eq!(found[0].1["$type"], "app.bsky.richtext.facet#link");
    assert_eq!(found[1].0, format!("@{}", alice.handle));
    assert_eq!(found[1].1["$type"], "app.bsky.richtext.facet#mention");
    assert_eq!(
        found[1].1["did"],
        alice.did.as_str(),
        "the mention resolves to Alice"
    );
    assert_eq!(found[2].0, "#FOSDEM2027");
    assert_eq!(found[2].1["tag"], "FOSDEM2027");
    assert_eq!(read["thread"]["post"]["author"]["did"], bot.did.as_str());
}

#[tokio::test]
#[ignore = "needs @atproto/dev-env: .ci/peer-bluesky"]
async fn a_post_with_a_picture_from_telegram_reaches_the_appview_as_a_thread() {
    let base = peer();
    let bot = create_account(&base, "conf").await;
    let reader = create_account(&base, "reader").await;
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.say(&OWNER, "/conference policy 1").await;
    add_sky(&app, &base, &bot, "public").await;

    app.telegram.add_file("red", PNG.to_vec());
    let sentence = "Talks in Janson start on time today, so please find a seat early. ";
    let caption = format!(
        "/post {}\nalt: A red square, the colour of the Janson seats",
        sentence.repeat(6).trim_end()
    );
    app.deliver(&[app.photo_update(&OWNER, "red", &caption)])
        .await;

    let rows = herald::db::outbox::list(app.db()).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.kind == "post" && r.platform == "bluesky")
        .unwrap();
    assert_eq!(row.state, herald::db::outbox::OutboxState::Sent, "{row:?}");
    let uri = row.platform_message_id.clone().unwrap();
    let read = thread(&base, &reader, &uri, 1).await;
    let root = &read["thread"]["post"];
    assert_eq!(root["author"]["did"], bot.did.as_str());
    assert_eq!(root["embed"]["$type"], "app.bsky.embed.images#view");
    assert_eq!(
        root["embed"]["images"][0]["alt"],
        "A red square, the colour of the Janson seats"
    );
    // The rest of the text follows as replies, each to the one before.
    let mut texts = vec![root["record"]["text"].as_str().unwrap().to_owned()];
    let mut node = &read["thread"];
    while let Some(next) = node["replies"].as_array().and_then(|r| r.first()) {
        texts.push(next["post"]["record"]["text"].as_str().unwrap().to_owned());
        node = next;
    }
    assert!(texts.len() >= 2, "{texts:?}");
    assert!(texts.iter().all(|t| t.chars().count() <= 300), "{texts:?}");
    assert!(texts[0].starts_with("Talks in Janson"), "{texts:?}");
}

#[tokio::test]
#[ignore = "needs @atproto/dev-env: .ci/peer-bluesky"]
async fn a_mention_reaches_the_moderation_chat_and_the_answer_joins_its_thread() {
    const MODERATION: i64 = -100_700;
    let base = peer();
    let bot = create_account(&base, "listen").await;
    let alice = create_account(&base, "alice").await;
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    app.say(&OWNER, "/conference policy 1").await;
    add_sky(&app, &base, &bot, "moderation").await;
    let _listening = app.start_listeners();
    app.until_listening("sky").await;

    // Alice mentions the conference's account; the AppView indexes it, the poll (every second) hears it.
    let client = BlueskyClient::new(
        base.parse().unwrap(),
        alice.handle.clone(),
        alice.password.clone(),
        reqwest::Client::new(),
    );
    let marker = format!("m{}", rand::random::<u32>());
    let mention = client
        .post(&NewPost::text(
            format!("@{} where is the keynote? {marker}", bot.handle),
            chrono::Utc::now(),
        ))
        .await
        .unwrap();
    let shown = |app: &TestApp| {
        app.telegram
            .calls_of("sendMessage")
            .into_iter()
            .find(|c| c.chat_id() == Some(MODERATION) && c.text().unwrap().contains(&marker))
    };
    app.until("the mention in the moderation chat", |app| {
        shown(app).is_some()
    })
    .await;
    let message = shown(&app).unwrap();
    assert!(
        message
            .text()
            .unwrap()
            .contains(&format!("@{}", alice.handle)),
        "{message:?}"
    );

    let mut answer = app.message_update(&OWNER, MODERATION, "In Janson, at ten.");
    answer["message"]["reply_to_message"] = json!({ "message_id": message.message_id.unwrap() });
    app.deliver(&[answer]).await;
    let read = thread(&base, &alice, &mention.uri, 1).await;
    let reply = &read["thread"]["replies"][0]["post"];
    assert_eq!(reply["author"]["did"], bot.did.as_str());
    assert_eq!(reply["record"]["text"], "In Janson, at ten.");
    assert_eq!(
        reply["record"]["reply"]["parent"]["uri"],
        mention.uri.as_str()
    );
}
