//! Against the real peer mastodon-mock 0.6.1 (a third-party stateful Mastodon API; see .ci/peer-mastodon,
//! which starts it and runs these with `--ignored`). Set PEER_MASTODON_URL to its address.

#![allow(clippy::unwrap_used)]

mod support;

use herald_bots::{
    Disposition,
    mastodon::{MastodonClient, NewStatus, Visibility},
};
use serde_json::{Value, json};
use support::{ADA, OWNER, TestApp};

const TOKEN: &str = "bot_token";

fn peer() -> String {
    let url =
        std::env::var("PEER_MASTODON_URL").expect("PEER_MASTODON_URL (run .ci/peer-mastodon)");
    if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    }
}

async fn inject_503(base: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}api/v1/_mock/faults"))
        .json(&json!({ "match": { "methods": ["POST"], "path": "/api/v1/statuses" }, "effect": { "type": "status", "status": 503 }, "count": 1 }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// Alice writes `status` with `visibility`; returns the status as the server made it.
async fn alice_writes(base: &str, status: &str, visibility: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}api/v1/statuses"))
        .bearer_auth("alice_token")
        .json(&json!({ "status": status, "visibility": visibility }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The owner adds the conference's account on the peer as provider `name` and sends its token.
async fn add_peer_account(app: &TestApp, base: &str, name: &str) {
    app.say(&OWNER, &format!("/provider add mastodon {name} {base}"))
        .await;
    app.deliver(&[app.message_update(&OWNER, OWNER.id, TOKEN)])
        .await;
}

async fn own_statuses(base: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let me: Value = http
        .get(format!("{base}api/v1/accounts/verify_credentials"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap();
    http.get(format!("{base}api/v1/accounts/{id}/statuses?limit=40"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs mastodon-mock: .ci/peer-mastodon"]
async fn the_driver_against_mastodon_mock() {
    let base = peer();
    let client = MastodonClient::new(base.parse().unwrap(), TOKEN, reqwest::Client::new());
    assert_eq!(client.verify_credentials().await.unwrap().acct, "herald");
    assert!(client.character_limit().await.unwrap() >= 500);
    let key = format!("driver-{}", rand::random::<u32>());
    let status = |text: &str, reply: Option<String>, key: &str| NewStatus {
        text: text.into(),
        in_reply_to_id: reply,
        media_ids: Vec::new(),
        visibility: Visibility::Public,
        idempotency_key: key.into(),
    };
    let first = client
        .post_status(&status("Hello from Herald", None, &key))
        .await
        .unwrap();
    let again = client
        .post_status(&status("Hello from Herald", None, &key))
        .await
        .unwrap();
    assert_eq!(
        first.id, again.id,
        "the Idempotency-Key prevents a duplicate"
    );

    inject_503(&base).await;
    let err = client
        .post_status(&status(
            "second",
            Some(first.id.clone()),
            &format!("{key}#2"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.disposition(), Disposition::Transient, "{err}");
    let reply = client
        .post_status(&status(
            "second",
            Some(first.id.clone()),
            &format!("{key}#2"),
        ))
        .await
        .unwrap();
    let fetched: Value = reqwest::Client::new()
        .get(format!("{base}api/v1/statuses/{}", reply.id))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["in_reply_to_id"], json!(first.id));
}

#[tokio::test]
#[ignore = "needs mastodon-mock: .ci/peer-mastodon"]
async fn a_post_approved_in_telegram_reaches_mastodon_mock_once_through_a_503() {
    let base = peer();
    let app = TestApp::spawn_with(|c| c.outbox.backoff_base_ms = 1_000, Default::default()).await;
    app.with_owner_and_conference().await;
    app.say(&OWNER, "/conference policy 1").await;
    add_peer_account(&app, &base, "mock").await;
    let replies = app.say(&OWNER, "/provider test mock").await;
    assert!(replies[0].contains("signed in as @herald"), "{replies:?}");
    app.say(&OWNER, "/provider on mock").await;
    app.say(&OWNER, "/switch mock public on").await;

    let marker = format!("check{}", rand::random::<u32>());
    let text = format!("Herald peer {marker} #fosdem");
    inject_503(&base).await;
    app.say(&OWNER, &format!("/post {text}")).await;
    // The first attempt met the 503; the retry after its backoff went out (the chat helper lets the
    // clock run while deliveries are due within seconds).
    let rows = herald::db::outbox::list(app.db()).await.unwrap();
    let post_row = rows
        .iter()
        .find(|r| r.kind == "post" && r.platform == "mastodon")
        .unwrap();
    assert_eq!(
        post_row.state,
        herald::db::outbox::OutboxState::Sent,
        "{post_row:?}"
    );
    assert!(
        post_row.attempts >= 2,
        "the 503 was met and retried: {post_row:?}"
    );
    // One status on the instance, whatever the retries.
    let statuses = own_statuses(&base).await;
    let matching: Vec<_> = statuses
        .iter()
        .filter(|s| s["content"].as_str().unwrap_or_default().contains(&marker))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{} statuses, none or several with {marker}: {:?}",
        statuses.len(),
        statuses
            .iter()
            .map(|s| s["content"].clone())
            .collect::<Vec<_>>()
    );
    let state = {
        let mut tx = app.db().begin().await.unwrap();
        let post = herald::db::posts::post(&mut tx, 1).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        post.state
    };
    assert_eq!(state, "sent");
}

#[tokio::test]
#[ignore = "needs mastodon-mock: .ci/peer-mastodon"]
async fn a_mention_streams_into_the_moderation_chat_and_the_answer_lands_as_a_reply() {
    const MODERATION: i64 = -100_700;
    let base = peer();
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    app.say(&OWNER, "/conference policy 1").await;
    add_peer_account(&app, &base, "listening").await;
    app.say(&OWNER, "/provider on listening").await;
    app.say(&OWNER, "/switch listening moderation on").await;
    let _listening = app.start_listeners();
    app.until_listening("listening").await;

    // Alice mentions the conference's account.
    let marker = format!("q{}", rand::random::<u32>());
    let written = std::time::Instant::now();
    let alice_status = alice_writes(
        &base,
        &format!("@herald is the schedule out? {marker}"),
        "public",
    )
    .await;
    app.until("the mention in the moderation chat", |app| {
        app.sent_containing(MODERATION, &marker).is_some()
    })
    .await;
    let elapsed = written.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "by streaming, within 2 s: {elapsed:?}"
    );
    let message = app.sent_containing(MODERATION, &marker).unwrap();
    assert!(message.text().unwrap().contains("@alice"), "{message:?}");

    // The answer, a Telegram reply to that message, goes out as a reply to Alice's status.
    let mut answer =
        app.message_update(&OWNER, MODERATION, &format!("Yes, since Monday. {marker}"));
    answer["message"]["reply_to_message"] = json!({ "message_id": message.message_id.unwrap() });
    app.deliver(&[answer]).await;
    let replies: Vec<Value> = own_statuses(&base)
        .await
        .into_iter()
        .filter(|s| s["in_reply_to_id"] == alice_status["id"])
        .collect();
    assert_eq!(replies.len(), 1, "one answer, as a reply");
    let content = replies[0]["content"].as_str().unwrap();
    assert!(content.contains("Yes, since Monday"), "{content}");
    assert!(
        content.contains("@alice"),
        "names whom it answers: {content}"
    );
}

/// Herald's own direct statuses that start a conversation (answering nothing) and contain `needle`.
async fn direct_statuses_with(base: &str, needle: &str) -> Vec<Value> {
    own_statuses(base)
        .await
        .into_iter()
        .filter(|s| s["visibility"] == "direct" && s["in_reply_to_id"].is_null())
        .filter(|s| s["content"].as_str().is_some_and(|c| c.contains(needle)))
        .collect()
}

#[tokio::test]
#[ignore = "needs mastodon-mock: .ci/peer-mastodon"]
async fn someone_linked_by_a_direct_message_gets_announcements_dms_and_reminders_as_direct_statuses()
 {
    let base = peer();
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    add_peer_account(&app, &base, "writing").await;
    app.say(&OWNER, "/provider on writing").await;
    app.say(&OWNER, "/switch writing moderation on").await;
    app.say(&OWNER, "/switch writing private on").await;
    let _listening = app.start_listeners();
    app.until_listening("writing").await;

    // Alice links herself with her invitation, in a direct message to the conference's account.
    let token = app.invite("attendee").await;
    let started = alice_writes(&base, &format!("@herald /start {token}"), "direct").await;
    let mut welcome = Vec::new();
    for _ in 0..100 {
        // One round of handling what the listener heard and sending what that queued.
        app.until("a round", |_| true).await;
        welcome = own_statuses(&base)
            .await
            .into_iter()
            .filter(|s| s["in_reply_to_id"] == started["id"])
            .collect();
        if !welcome.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(welcome.len(), 1, "one answer to the /start");
    assert_eq!(welcome[0]["visibility"], "direct");
    let text = welcome[0]["content"].as_str().unwrap();
    assert!(
        text.contains("Welcome, Alice! You are now attendee at FOSDEM 2027."),
        "{text}"
    );

    // An announcement and a /dm reach her as new direct conversations.
    let marker = format!("m{}", rand::random::<u32>());
    let replies = app
        .say(&OWNER, &format!("/announce Doors open. {marker}"))
        .await;
    assert_eq!(replies, ["Announcement queued for 1 recipient."]);
    let replies = app
        .say(&OWNER, &format!("/dm @alice Booth 12? {marker}"))
        .await;
    assert_eq!(replies, ["Queued a message to Alice."]);
    app.send_everything().await;
    let announced = direct_statuses_with(&base, &format!("Doors open. {marker}")).await;
    assert_eq!(announced.len(), 1, "the announcement, once");
    assert!(
        announced[0]["content"].as_str().unwrap().contains("@alice"),
        "{announced:?}"
    );
    let dm = direct_statuses_with(&base, &format!("Booth 12? {marker}")).await;
    assert_eq!(dm.len(), 1, "the /dm, once");
    assert!(
        dm[0]["content"]
            .as_str()
            .unwrap()
            .contains("Olga (FOSDEM 2027)"),
        "{dm:?}"
    );

    // A session starting in an hour: its reminder reaches her ten minutes before, as a direct status.
    let title = format!("Rust in Space {marker}");
    let start = app.now() + chrono::TimeDelta::hours(1);
    app.import(&support::schedule_json(&[(
        "a",
        &title,
        "K.1.105",
        start,
        45,
        "confirmed",
    )]))
    .await;
    app.advance(chrono::TimeDelta::minutes(50));
    app.send_everything().await;
    let reminded = direct_statuses_with(&base, &title).await;
    assert_eq!(reminded.len(), 1, "the reminder, once");
    assert!(
        reminded[0]["content"]
            .as_str()
            .unwrap()
            .contains("starts in 10 minutes"),
        "{reminded:?}"
    );
}

#[tokio::test]
#[ignore = "needs mastodon-mock: .ci/peer-mastodon"]
async fn busy_moderation_stays_quiet_and_fast_and_a_followers_only_mention_is_answered_followers_only()
 {
    const MODERATION: i64 = -100_700;
    let base = peer();
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    // Volunteers' answers wait for approval.
    app.say(&OWNER, "/conference policy 2").await;
    app.join(&ADA, "volunteer").await;
    add_peer_account(&app, &base, "listening").await;
    app.say(&OWNER, "/provider on listening").await;
    app.say(&OWNER, "/switch listening moderation on").await;
    let _listening = app.start_listeners();
    app.until_listening("listening").await;

    // Ten mentions, each discarded with its button within the same minute.
    let run = format!("r{}", rand::random::<u32>());
    for i in 0..10 {
        alice_writes(&base, &format!("@herald spam {i} {run}"), "public").await;
    }
    let needle = |i: usize| format!("spam {i} {run}");
    app.until("ten mentions in the moderation chat", |app| {
        (0..10).all(|i| app.sent_containing(MODERATION, &needle(i)).is_some())
    })
    .await;
    let posted = |app: &TestApp| {
        app.telegram
            .calls_of("sendMessage")
            .iter()
            .filter(|c| c.chat_id() == Some(MODERATION))
            .count()
    };
    let before = posted(&app);
    for i in 0..10 {
        let message = app.sent_containing(MODERATION, &needle(i)).unwrap();
        let discard = message.body["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
            .find(|d| d.starts_with("mention:discard:"))
            .expect("a Discard button");
        app.deliver(&[app.button_update(
            &OWNER,
            MODERATION,
            message.message_id.unwrap(),
            &discard,
        )])
        .await;
    }
    app.send_everything().await;
    assert_eq!(posted(&app), before, "the presses post nothing new");
    assert_eq!(app.telegram.calls_of("answerCallbackQuery").len(), 10);

    // A followers-only mention now still appears within 2 s, by Herald's clock and by the wall's.
    let marker = format!("q{}", rand::random::<u32>());
    let (clock, wall) = (app.now(), std::time::Instant::now());
    let alice_status = alice_writes(
        &base,
        &format!("@herald is the venue step-free? {marker}"),
        "private",
    )
    .await;
    app.until("the followers-only mention", |app| {
        app.sent_containing(MODERATION, &marker).is_some()
    })
    .await;
    assert!(
        app.now() - clock <= chrono::TimeDelta::seconds(2),
        "held back {} s by rate limits",
        (app.now() - clock).num_seconds()
    );
    assert!(wall.elapsed() < std::time::Duration::from_secs(2));
    let mention = app.sent_containing(MODERATION, &marker).unwrap();
    assert!(
        mention.text().unwrap().contains("for their followers only"),
        "{mention:?}"
    );

    // A rejected answer reopens the mention; the approved one is as private as the mention.
    let answer_with = |text: &str| {
        let mut answer = app.message_update(&ADA, MODERATION, text);
        answer["message"]["reply_to_message"] =
            json!({ "message_id": mention.message_id.unwrap() });
        answer
    };
    app.deliver(&[answer_with(&format!("Yes, mostly. {marker}"))])
        .await;
    app.say(&OWNER, "/reject 1 too vague").await;
    let listed = app.say(&ADA, "/mentions").await.join("\n");
    assert!(listed.contains(&marker), "open again: {listed}");
    app.deliver(&[answer_with(&format!("Ramps at every entrance. {marker}"))])
        .await;
    app.say(&OWNER, "/approve 2").await;
    app.send_everything().await;
    let replies: Vec<Value> = own_statuses(&base)
        .await
        .into_iter()
        .filter(|s| s["in_reply_to_id"] == alice_status["id"])
        .collect();
    assert_eq!(replies.len(), 1, "one answer: {replies:?}");
    assert!(
        replies[0]["content"]
            .as_str()
            .unwrap()
            .contains("Ramps at every entrance"),
        "{replies:?}"
    );
    assert_eq!(replies[0]["visibility"], "private", "followers only");
}
