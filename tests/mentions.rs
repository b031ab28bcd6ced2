//! Mentions heard by the listeners: Mastodon by stream and by catch-up, Bluesky by polling; posted to the
//! moderation chat once each; answered, boosted and discarded from Telegram.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{ADA, OWNER, TestApp, code_in, fake_mastodon::FakeMastodon};

const MODERATION: i64 = -100_700;

/// Owner, conference (policy 2), moderation and organisers chats bound, Ada a volunteer.
async fn setup() -> TestApp {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    for (slot, chat) in [("moderation", MODERATION), ("organisers", -100_900)] {
        let code = code_in(&app.say(&OWNER, &format!("/bind {slot}")).await[0]);
        app.say_in(&OWNER, chat, &code).await;
    }
    app.say(&OWNER, "/conference policy 2").await;
    let token = app.invite("volunteer").await;
    app.say(&ADA, &format!("/start {token}")).await;
    app
}

async fn add_mastodon(app: &TestApp) -> FakeMastodon {
    let mastodon = FakeMastodon::start().await;
    app.say(
        &OWNER,
        &format!("/provider add mastodon fosstodon {}", mastodon.url),
    )
    .await;
    app.deliver(&[app.message_update(&OWNER, OWNER.id, FakeMastodon::TOKEN)])
        .await;
    app.say(&OWNER, "/provider on fosstodon").await;
    let replies = app.say(&OWNER, "/switch fosstodon moderation on").await;
    assert!(
        replies[0].contains("Mentions of this account now come to FOSDEM 2027"),
        "{replies:?}"
    );
    mastodon
}

fn moderation_texts(app: &TestApp) -> Vec<String> {
    app.telegram.texts_to(MODERATION)
}

fn count_containing(app: &TestApp, needle: &str) -> usize {
    moderation_texts(app)
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

#[tokio::test]
async fn mastodon_mentions_arrive_by_stream_and_by_catch_up_once_each() {
    let app = setup().await;
    let mastodon = add_mastodon(&app).await;
    // From before Herald listened: not brought up.
    mastodon.mention("old", "an old mention", false);
    let _listening = app.start_listeners();
    app.until("the stream to open", |_| mastodon.open_streams() == 1)
        .await;

    mastodon.mention("alice", "is the schedule out?", true);
    app.until("the streamed mention", |app| {
        count_containing(app, "is the schedule out?") == 1
    })
    .await;
    let shown = moderation_texts(&app)
        .into_iter()
        .find(|t| t.contains("is the schedule out?"))
        .unwrap();
    assert!(
        shown.contains("Mention #1 on Mastodon (fosstodon) from <b>Alice</b> @alice"),
        "{shown}"
    );
    assert!(
        shown.contains("@fosdem is the schedule out?"),
        "clean text: {shown}"
    );
    assert!(shown.contains("https://fake.social/@alice/s"), "{shown}");
    let message = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(MODERATION))
        .unwrap();
    let buttons = &message.body["reply_markup"]["inline_keyboard"][0];
    assert_eq!(buttons[0]["callback_data"], "mention:reply:1");
    assert_eq!(buttons[1]["callback_data"], "mention:discard:1");
    assert_eq!(buttons[2]["callback_data"], "mention:boost:1");

    // Unreadable data on the stream is recorded and skipped; its own statuses are not mentions.
    mastodon.stream_raw("{not json");
    mastodon.mention("fosdem", "talking to myself", true);
    // The connection drops; what is said meanwhile arrives by the catch-up after reconnecting.
    mastodon.cut_streams();
    mastodon.mention("bob", "said while you were away", false);
    app.until("the caught-up mention", |app| {
        count_containing(app, "said while you were away") == 1
    })
    .await;
    mastodon.mention("carol", "and after", true);
    app.until("the mention after reconnecting", |app| {
        count_containing(app, "and after") == 1
    })
    .await;
    assert!(mastodon.stream_connects() >= 2);
    assert_eq!(
        count_containing(&app, "is the schedule out?"),
        1,
        "once each"
    );
    assert_eq!(count_containing(&app, "an old mention"), 0);
    assert_eq!(count_containing(&app, "talking to myself"), 0);
    let events = herald::db::inbox::list(app.db()).await.unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.state == herald::db::inbox::InboxState::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "the malformed one, recorded");
    assert!(failed[0].payload.contains("{not json"));
    assert!(failed[0].last_error.is_some());

    let listed = app.say(&ADA, "/mentions").await.join("\n");
    assert!(
        listed.contains("Open mentions for <b>FOSDEM 2027</b> (3)"),
        "{listed}"
    );
    let status = app.say(&OWNER, "/status").await.join("\n");
    assert!(
        status.contains("fosstodon (Mastodon) ✅ connected"),
        "{status}"
    );
    assert!(status.contains("Open mentions: 3"), "{status}");
}

#[tokio::test]
async fn a_mention_is_answered_boosted_or_discarded_from_telegram() {
    let app = setup().await;
    let mastodon = add_mastodon(&app).await;
    let _listening = app.start_listeners();
    app.until("the stream to open", |_| mastodon.open_streams() == 1)
        .await;
    let first = mastodon.mention("alice", "where is the keynote?", true);
    mastodon.mention("bob", "great talk!", true);
    mastodon.mention("spam", "buy followers", true);
    app.until("three mentions", |app| {
        count_containing(app, "Mention #") >= 3
    })
    .await;
    let message_of = |needle: &str| {
        app.telegram
            .calls_of("sendMessage")
            .into_iter()
            .find(|c| c.chat_id() == Some(MODERATION) && c.text().unwrap().contains(needle))
            .unwrap()
    };

    // The Reply button says how; the answer is a Telegram reply to the mention's message.
    let press = |data: &str, message: i64| {
        json!({ "update_id": 900 + message, "callback_query": { "id": format!("cb{message}"), "chat_instance": "x", "data": data,
            "from": { "id": OWNER.id, "is_bot": false, "first_name": "Olga", "username": "olga" },
            "message": { "message_id": message, "date": 1_798_000_000,
                         "chat": { "id": MODERATION, "type": "supergroup", "title": "Moderation" }, "text": "Mention" } } })
    };
    let alice = message_of("where is the keynote?").message_id.unwrap();
    app.deliver(&[press("mention:reply:1", alice)]).await;
    assert!(
        moderation_texts(&app)
            .last()
            .unwrap()
            .contains("answer @alice by replying to the message of mention #1")
    );
    let mut answer = app.message_update(&ADA, MODERATION, "In Janson, at 10:00.");
    answer["message"]["reply_to_message"] = json!({ "message_id": alice });
    app.deliver(&[answer]).await;
    // A volunteer's answer waits for approval like any post, and says what it answers.
    let waiting = moderation_texts(&app)
        .into_iter()
        .rfind(|t| t.contains("by Ada is waiting for approval"))
        .unwrap();
    assert!(
        waiting.contains("It answers mention #1 from @alice on Mastodon"),
        "{waiting}"
    );
    assert!(
        waiting.contains("@alice In Janson, at 10:00."),
        "named: {waiting}"
    );
    assert!(
        waiting.contains("fosstodon 27/500"),
        "only its network: {waiting}"
    );
    assert!(!waiting.contains("telegram"), "{waiting}");
    app.say(&OWNER, "/approve 1").await;
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["status"], "@alice In Janson, at 10:00.");
    assert_eq!(
        statuses[0]["in_reply_to_id"], first["status"]["id"],
        "a reply to the mention"
    );
    let edited = app.telegram.calls_of("editMessageText");
    assert!(
        edited
            .iter()
            .any(|c| c.body["message_id"].as_i64() == Some(alice)
                && c.body["text"].as_str().unwrap().contains("Answered by Ada")),
        "the mention's message shows who answered"
    );

    // Boost: only those who may approve; the volunteer is refused, the owner's press boosts.
    let replies = app.say(&ADA, "/boost 2").await;
    assert!(replies[0].contains("may not"), "{replies:?}");
    let bob = message_of("great talk!").message_id.unwrap();
    app.deliver(&[press("mention:boost:2", bob)]).await;
    assert_eq!(mastodon.reblogs().len(), 1);
    assert!(mastodon.reblogs()[0].starts_with('s'));
    let replies = app.say(&ADA, "/discard 3").await;
    assert!(replies[0].contains("Mention #3 discarded"), "{replies:?}");
    let replies = app.say(&ADA, "/discard 3").await;
    assert!(replies[0].contains("already discarded"), "{replies:?}");
    let listed = app.say(&ADA, "/mentions").await.join("\n");
    assert!(listed.contains("No open mentions"), "{listed}");
}
