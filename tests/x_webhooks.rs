//! X's webhooks on Herald's web server: the CRC challenge answered with X's documented test vector, a
//! signed mention stored once (however often X delivers it) and posted to the moderation chat like
//! Mastodon's and Bluesky's, and a wrong signature refused with nothing stored.

#![allow(clippy::unwrap_used)]

mod support;

use herald::db::{conferences, inbox, mentions, providers};
use serde_json::json;
use support::TestApp;

const MODERATION: i64 = -100_700;
/// The consumer secret of X's documented CRC example (`crc-and-signature.md` in the shared data).
const SECRET: &str = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu";
const ACCOUNT: &str = "1111111111111111111";

/// The conference with a moderation chat and an X provider routed to it; the provider's number.
async fn setup() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    let mut tx = app.db().begin().await.unwrap();
    let conference = conferences::conference_by_slug(&mut tx, "fosdem-2027")
        .await
        .unwrap()
        .unwrap();
    let id = providers::add_provider(
        &mut tx,
        app.now(),
        conference.series_id,
        "x",
        "fosdem_x",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let credentials = json!({ "consumer_key": "ck", "consumer_secret": SECRET, "token": "t", "token_secret": "ts" });
    providers::set_credentials(&mut tx, app.now(), id, &credentials)
        .await
        .unwrap();
    mentions::set_route(&mut tx, id, Some(conference.id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (app, id)
}

/// An X Activity API delivery of a mention of [`ACCOUNT`] by Dana.
fn mention(id: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "data": {
        "event_uuid": id, "filter": { "user_id": ACCOUNT }, "event_type": "post.mention.create",
        "tag": "mentions",
        "payload": { "id": id, "text": text, "author_id": "2222", "created_at": "2027-02-06T09:30:00.000Z" },
        "includes": { "users": [
            { "id": "2222", "username": "dana", "name": "Dana" },
            { "id": ACCOUNT, "username": "fosdem", "name": "FOSDEM" },
        ] },
    } }))
    .unwrap()
}

async fn post(app: &TestApp, provider: i64, body: &[u8], signature: Option<&str>) -> (u16, String) {
    let mut request = app
        .http
        .post(format!("{}/hooks/x/{provider}", app.base_url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-twitter-webhooks-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_crc_challenge_is_answered_as_x_documents_it() {
    let (app, provider) = setup().await;
    let url = format!(
        "{}/hooks/x/{provider}?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553",
        app.base_url
    );
    let response = app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=" })
    );
    let missing = app
        .http
        .get(format!("{}/hooks/x/{provider}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let unknown = app
        .http
        .get(format!("{}/hooks/x/999?crc_token=x", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_signed_mention_reaches_the_moderation_chat_once_and_a_wrong_signature_stores_nothing() {
    let (app, provider) = setup().await;
    let body = mention("555", "@fosdem is the Rust devroom streamed?");
    let signature = herald_bots::x::webhook::sign(SECRET, &body);

    // A wrong signature, a tampered body and no signature: refused, nothing stored.
    let (status, _) = post(&app, provider, &body, Some("sha256=AAAA")).await;
    assert_eq!(status, 401);
    let tampered = mention("555", "@fosdem send me your password");
    let (status, _) = post(&app, provider, &tampered, Some(&signature)).await;
    assert_eq!(status, 401);
    let (status, answer) = post(&app, provider, &body, None).await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        inbox::list(app.db())
            .await
            .unwrap()
            .iter()
            .all(|e| e.kind != herald::mentions::X_KIND)
    );

    // Delivered twice (X retries): stored once, shown once.
    let (status, answer) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":1}"#));
    let (status, answer) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":0}"#));
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
    let shown: Vec<String> = app
        .telegram
        .texts_to(MODERATION)
        .into_iter()
        .filter(|t| t.contains("is the Rust devroom streamed?"))
        .collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].contains("Dana") && shown[0].contains("@dana"),
        "{}",
        shown[0]
    );
    assert!(
        shown[0].contains("https://x.com/dana/status/555"),
        "{}",
        shown[0]
    );

    // A signed body that is no delivery: a clear 400, nothing stored.
    let junk = b"{\"hello\": 1}";
    let (status, answer) = post(
        &app,
        provider,
        junk,
        Some(&herald_bots::x::webhook::sign(SECRET, junk)),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("neither an Account Activity nor an X Activity"),
        "{answer}"
    );
}

/// An X account added from chat against a fake X, its mentions routed to the conference's moderation
/// chat (policy 2, Ada a volunteer); the fake and the provider's number.
async fn with_x(app: &TestApp) -> (support::fake_x::FakeX, i64) {
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    app.say(&support::OWNER, "/conference policy 2").await;
    app.join(&support::ADA, "volunteer").await;
    let x = support::fake_x::FakeX::start().await;
    app.say(&support::OWNER, &format!("/provider add x xconf {}", x.url))
        .await;
    app.deliver(&[app.message_update(
        &support::OWNER,
        support::OWNER.id,
        support::fake_x::CREDENTIALS,
    )])
    .await;
    app.say(&support::OWNER, "/provider on xconf").await;
    let replies = app
        .say(&support::OWNER, "/switch xconf moderation on")
        .await;
    assert!(replies[0].contains("moderation is on"), "{replies:?}");
    let provider = {
        let mut tx = app.db().begin().await.unwrap();
        let conference = conferences::conference_by_slug(&mut tx, "fosdem-2027")
            .await
            .unwrap()
            .unwrap();
        let found = providers::provider_by_name(&mut tx, conference.series_id, "xconf")
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        found.id
    };
    (x, provider)
}

#[tokio::test]
async fn a_mention_delivered_by_webhook_is_answered_from_telegram_as_a_reply_on_x() {
    let app = TestApp::spawn().await;
    let (x, provider) = with_x(&app).await;
    let body = mention("777", "@fosdem which room is the Rust devroom in?");
    let signature = herald_bots::x::webhook::sign("x-consumer-secret", &body);
    let (status, answer) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":1}"#));
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
    let shown = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| {
            c.chat_id() == Some(MODERATION)
                && c.text()
                    .unwrap()
                    .contains("which room is the Rust devroom in?")
        })
        .expect("the mention in the moderation chat");

    // Ada answers by replying to it; the answer waits for approval, then goes out as a reply on X.
    let mut reply = app.message_update(&support::ADA, MODERATION, "K.1.105, from 10:00.");
    reply["message"]["reply_to_message"] = json!({ "message_id": shown.message_id.unwrap() });
    app.deliver(&[reply]).await;
    app.say(&support::OWNER, "/approve 1").await;
    app.send_everything().await;
    let posts = x.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["text"], "K.1.105, from 10:00.");
    assert_eq!(
        posts[0]["reply"]["in_reply_to_tweet_id"], "777",
        "{posts:?}"
    );
}

#[tokio::test]
async fn without_a_public_https_address_mentions_are_read_from_the_timeline_and_stored_once() {
    let app = TestApp::spawn().await;
    let (x, provider) = with_x(&app).await;
    // Written before Herald listened: not brought up. The app may not read direct messages: the
    // mentions are heard all the same.
    x.mention(100, "old", "@fosdem an old one");
    x.forbid_dms(true);
    let _listening = app.start_listeners();
    app.until("the first read of the mentions", |_| x.mention_reads() >= 1)
        .await;
    let status = app.say(&support::OWNER, "/status").await.join("\n");
    assert!(status.contains("polling"), "{status}");
    x.mention(101, "dana", "@fosdem is there a Rust devroom?");
    app.until("the mention in the moderation chat", |app| {
        app.telegram
            .texts_to(MODERATION)
            .iter()
            .any(|t| t.contains("is there a Rust devroom?"))
    })
    .await;
    // The same post delivered by a webhook as well: already stored.
    let body = serde_json::to_vec(&json!({ "data": {
        "event_uuid": "101", "filter": { "user_id": support::fake_x::USER_ID },
        "event_type": "post.mention.create",
        "payload": { "id": "101", "text": "@fosdem is there a Rust devroom?", "author_id": "9101" },
        "includes": { "users": [{ "id": "9101", "username": "dana", "name": "DANA" }] },
    } }))
    .unwrap();
    let signature = herald_bots::x::webhook::sign("x-consumer-secret", &body);
    let (status, answer) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":0}"#));
    let reads = x.mention_reads();
    app.until("two more reads", |_| x.mention_reads() >= reads + 2)
        .await;
    let texts = app.telegram.texts_to(MODERATION);
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("is there a Rust devroom?"))
            .count(),
        1,
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("an old one")), "{texts:?}");
}

/// An Account Activity delivery of a direct message to the fake X's account from Carol (user 3333).
fn direct_message(id: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "for_user_id": support::fake_x::USER_ID,
        "direct_message_events": [{
            "type": "message_create", "id": id, "created_timestamp": "1802000000000",
            "message_create": {
                "target": { "recipient_id": support::fake_x::USER_ID },
                "sender_id": "3333",
                "message_data": { "text": text, "entities": {} },
            },
        }],
        "users": {
            "3333": { "id": "3333", "screen_name": "carol", "name": "Carol" },
            support::fake_x::USER_ID: { "id": support::fake_x::USER_ID, "screen_name": "fosdem", "name": "FOSDEM" },
        },
    }))
    .unwrap()
}

/// Delivers a signed direct message and runs what it starts.
async fn dm(app: &TestApp, provider: i64, id: &str, text: &str) {
    let body = direct_message(id, text);
    let signature = herald_bots::x::webhook::sign("x-consumer-secret", &body);
    let (status, answer) = post(app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":1}"#));
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
}

/// The direct messages X was asked to send to Carol.
fn to_carol(x: &support::fake_x::FakeX) -> Vec<String> {
    x.dms()
        .into_iter()
        .filter(|(to, _)| to == "3333")
        .map(|(_, text)| text)
        .collect()
}

#[tokio::test]
async fn a_person_links_their_x_account_by_direct_message_and_is_reached_there() {
    let app = TestApp::spawn().await;
    let (x, provider) = with_x(&app).await;
    let replies = app.say(&support::OWNER, "/switch xconf private on").await;
    assert!(replies[0].contains("private"), "{replies:?}");
    let token = app.invite("attendee").await;
    dm(&app, provider, "8001", &format!("/start {token}")).await;
    let welcome = to_carol(&x);
    assert_eq!(welcome.len(), 1, "{welcome:?}");
    assert!(
        welcome[0].starts_with("Welcome, Carol! You are now attendee at FOSDEM 2027."),
        "{welcome:?}"
    );
    assert!(x.posts().is_empty(), "nothing public: {:?}", x.posts());

    // Announcements and messages to her go out as direct messages.
    let replies = app.say(&support::OWNER, "/announce Doors open at 9.").await;
    // Carol, and Ada (a volunteer, on Telegram).
    assert_eq!(replies, ["Announcement queued for 2 recipients."]);
    app.send_everything().await;
    assert_eq!(
        to_carol(&x).last().unwrap(),
        "📣 FOSDEM 2027\nDoors open at 9."
    );

    // A command by direct message is answered by one.
    dm(&app, provider, "8002", "/settings announcements off").await;
    assert!(
        to_carol(&x).last().unwrap().contains("announcements"),
        "{:?}",
        to_carol(&x)
    );

    // X loses the answer to a message it sent: a minute later Herald finds it in the conversation
    // and does not send it twice.
    x.lose_dm(1);
    let replies = app
        .say(&support::OWNER, "/dm @carol See you at the booth!")
        .await;
    assert_eq!(replies, ["Queued a message to Carol."]);
    app.send_everything().await;
    app.advance(chrono::TimeDelta::seconds(61));
    app.send_everything().await;
    let sent: Vec<String> = to_carol(&x)
        .into_iter()
        .filter(|t| t.contains("See you at the booth!"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
}

#[tokio::test]
async fn a_direct_message_without_a_command_is_answered_privately_from_telegram() {
    let app = TestApp::spawn().await;
    let (x, provider) = with_x(&app).await;
    dm(&app, provider, "8101", "is there a quiet room?").await;
    let shown = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| {
            c.chat_id() == Some(MODERATION) && c.text().unwrap().contains("is there a quiet room?")
        })
        .expect("the direct message in the moderation chat");
    let text = shown.text().unwrap();
    assert!(text.contains("Direct message #1 on X"), "{text}");
    assert!(
        !text.contains("x.com/"),
        "a direct message has no address: {text}"
    );

    let mut reply = app.message_update(&support::ADA, MODERATION, "Yes: H.1302, all day.");
    reply["message"]["reply_to_message"] = json!({ "message_id": shown.message_id.unwrap() });
    app.deliver(&[reply]).await;
    app.say(&support::OWNER, "/approve 1").await;
    app.send_everything().await;
    assert_eq!(to_carol(&x), ["Yes: H.1302, all day."]);
    assert!(x.posts().is_empty(), "not a public reply: {:?}", x.posts());
}

#[tokio::test]
async fn without_a_public_https_address_direct_messages_are_read_too_and_answered() {
    let app = TestApp::spawn().await;
    let (x, _provider) = with_x(&app).await;
    // Written before Herald listened: not brought up.
    x.receive_dm(1, "old", "/whoami");
    let _listening = app.start_listeners();
    app.until("the first read of the messages", |_| x.dm_reads() >= 1)
        .await;
    x.receive_dm(2, "erin", "/whoami");
    x.receive_dm(3, "erin", "is the cloakroom open?");
    app.until("the answer to Erin", |_| {
        x.dms().iter().any(|(to, _)| to == "9002")
    })
    .await;
    app.until("the question in the moderation chat", |app| {
        app.telegram
            .texts_to(MODERATION)
            .iter()
            .any(|t| t.contains("is the cloakroom open?"))
    })
    .await;
    let reads = x.dm_reads();
    app.until("two more reads", |_| x.dm_reads() >= reads + 2)
        .await;
    let dms = x.dms();
    let to_erin: Vec<&String> = dms
        .iter()
        .filter(|(to, _)| to == "9002")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(to_erin.len(), 1, "{dms:?}");
    assert!(to_erin[0].contains("9002"), "{to_erin:?}");
    assert!(
        dms.iter().all(|(to, _)| to != "9001"),
        "the old one: {dms:?}"
    );
}

#[tokio::test]
async fn an_account_revoking_the_apps_access_is_told_to_the_organisers_at_once() {
    let app = TestApp::spawn().await;
    let (_x, provider) = with_x(&app).await;
    const ORGANISERS: i64 = -100_600;
    app.bind("organisers", ORGANISERS).await;
    // X's documented X Activity sample of `oauth.revoke` (`xaa-docs/oauth.revoke.json`), by `user`.
    let revoke = |uuid: &str, user: &str| {
        serde_json::to_vec(&json!({ "data": {
            "event_uuid": uuid, "filter": {}, "event_type": "oauth.revoke",
            "payload": { "date_time": "2026-07-23T21:44:05+00:00", "user_id": user, "app_id": "29820954" },
        } }))
        .unwrap()
    };
    let told = |app: &TestApp| {
        app.telegram
            .texts_to(ORGANISERS)
            .into_iter()
            .filter(|t| t.contains("took back the app's access"))
            .count()
    };
    // Another account of the same app: not this provider's news.
    let body = revoke("5934540941047412904", "2222");
    let signature = herald_bots::x::webhook::sign("x-consumer-secret", &body);
    let (status, _) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!(status, 200);
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
    assert_eq!(told(&app), 0);

    let body = revoke("5934540941047412905", support::fake_x::USER_ID);
    let signature = herald_bots::x::webhook::sign("x-consumer-secret", &body);
    let (status, answer) = post(&app, provider, &body, Some(&signature)).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"stored":1}"#));
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
    assert_eq!(told(&app), 1, "{:?}", app.telegram.texts_to(ORGANISERS));
    let text = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        text.contains("refuses the credentials of <b>xconf</b>"),
        "{text}"
    );
}

#[tokio::test]
async fn the_webhook_is_registered_from_chat_checked_again_after_a_restart_and_taken_back() {
    let app = TestApp::spawn_with(
        |config| config.public_url = Some("https://herald.fosdem.org/".parse().unwrap()),
        herald::inbox::Handlers::default(),
    )
    .await;
    let (x, provider) = with_x(&app).await;
    // X reaches the public address; a proxy hands it to Herald.
    x.route_to(&app.base_url);
    let url = format!("https://herald.fosdem.org/hooks/x/{provider}");
    let status = app
        .say(&support::OWNER, "/provider webhook xconf status")
        .await
        .join("\n");
    assert!(
        status.contains("No X webhook for <code>xconf</code>"),
        "{status}"
    );

    // Registered: X checked the address by CRC against Herald before it answered.
    let on = app
        .say(&support::OWNER, "/provider webhook xconf on")
        .await
        .join("\n");
    assert!(on.contains(&url), "{on}");
    assert!(on.contains("✅ X checked the address"), "{on}");
    assert!(on.contains("✅ the account is subscribed"), "{on}");
    assert_eq!(x.webhooks(), [(url.clone(), true)]);
    assert!(x.subscribed());
    let again = app
        .say(&support::OWNER, "/provider webhook xconf status")
        .await
        .join("\n");
    assert!(again.contains("✅ the account is subscribed"), "{again}");

    // The listener leaves the mentions to the webhook.
    let listening = app.start_listeners();
    app.until("the listener to say so", |app| {
        app.app
            .health
            .snapshot()
            .get("listener:xconf")
            .is_some_and(|c| c.detail.as_deref() == Some("by webhook"))
    })
    .await;
    let status = app.say(&support::OWNER, "/status").await.join("\n");
    assert!(status.contains("by webhook"), "{status}");
    assert_eq!(x.mention_reads(), 0);
    drop(listening);

    // A deploy: X's hourly check found Herald down. The restarted listener has X check again.
    x.missed_crc();
    let checks = x.crc_checks();
    let _listening = app.start_listeners();
    app.until("X to check the webhook again", |_| {
        x.webhooks().first().is_some_and(|(_, valid)| *valid)
    })
    .await;
    assert_eq!(x.crc_checks(), checks + 1);

    // Taken back: unsubscribed, the webhook gone, and the listener polls again.
    let off = app
        .say(&support::OWNER, "/provider webhook xconf off")
        .await
        .join("\n");
    assert!(off.contains("is taken back"), "{off}");
    assert!(x.webhooks().is_empty() && !x.subscribed());
    app.until("the mentions timeline read again", |_| {
        x.mention_reads() >= 1
    })
    .await;

    // Without a public address there is nothing X could call.
    let plain = TestApp::spawn().await;
    let (_x, _) = with_x(&plain).await;
    let refused = plain
        .say(&support::OWNER, "/provider webhook xconf on")
        .await
        .join("\n");
    assert!(refused.contains("has no public address"), "{refused}");
}
