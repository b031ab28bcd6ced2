//! Mentions heard by the listeners: Mastodon by stream and by catch-up, Bluesky by polling; posted to the
//! moderation chat once each; answered, boosted and discarded from Telegram.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{ADA, OWNER, TestApp, fake_mastodon::FakeMastodon};

const MODERATION: i64 = -100_700;

/// Owner, conference (policy 2), moderation and organisers chats bound, Ada a volunteer.
async fn setup() -> TestApp {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", MODERATION).await;
    app.bind("organisers", -100_900).await;
    app.say(&OWNER, "/conference policy 2").await;
    app.join(&ADA, "volunteer").await;
    app
}

async fn add_mastodon(app: &TestApp) -> FakeMastodon {
    let (mastodon, replies) = app.add_fake_mastodon("moderation").await;
    assert!(
        replies[0].contains("Mentions of this account now come to FOSDEM 2027"),
        "{replies:?}"
    );
    mastodon
}

fn moderation_texts(app: &TestApp) -> Vec<String> {
    app.telegram.texts_to(MODERATION)
}

/// The id of the bot's message in the moderation chat that contains `needle`.
fn message_id_of(app: &TestApp, needle: &str) -> i64 {
    app.telegram
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| c.chat_id() == Some(MODERATION) && c.text().unwrap().contains(needle))
        .unwrap()
        .message_id
        .unwrap()
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
    let message_of = |needle: &str| message_id_of(&app, needle);

    // The Reply button says how; the answer is a Telegram reply to the mention's message.
    let press = |data: &str, message: i64| app.button_update(&OWNER, MODERATION, message, data);
    let alice = message_of("where is the keynote?");
    let posted = moderation_texts(&app).len();
    app.deliver(&[press("mention:reply:1", alice)]).await;
    // The group stays quiet: the answer to the press tells the one who pressed.
    assert_eq!(
        moderation_texts(&app).len(),
        posted,
        "nothing new in the group"
    );
    let answered = app.telegram.calls_of("answerCallbackQuery").pop().unwrap();
    assert!(
        answered.body["text"]
            .as_str()
            .unwrap()
            .contains("answer @alice by replying to the message of mention #1"),
        "{answered:?}"
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
    let bob = message_of("great talk!");
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

async fn add_bluesky(app: &TestApp) -> support::fake_bluesky::FakeBluesky {
    app.add_fake_bluesky("moderation").await
}

#[tokio::test]
async fn bluesky_mentions_replies_and_quotes_are_polled_and_answered_in_their_thread() {
    let app = setup().await;
    let bluesky = add_bluesky(&app).await;
    bluesky.notify("mention", "old", "from before", None);
    let _listening = app.start_listeners();
    // The first poll learns where "now" is; the second reads from there.
    app.until("two polls", |_| bluesky.list_requests() >= 2)
        .await;

    let dan = bluesky.notify("mention", "dan", "@fosdem.test when do doors open?", None);
    let root = "at://did:plc:herald/app.bsky.feed.post/1";
    let erin = bluesky.notify("reply", "erin", "Thanks for the post!", Some(root));
    bluesky.notify("quote", "finn", "Look at this", None);
    bluesky.notify("like", "gus", "", None);
    bluesky.notify("follow", "hal", "", None);
    app.until("three mentions", |app| {
        count_containing(app, "on Bluesky (sky)") == 3
    })
    .await;
    assert_eq!(count_containing(&app, "from before"), 0);
    assert!(bluesky.seen_at().is_some(), "marked seen");
    let shown = moderation_texts(&app);
    assert!(
        shown
            .iter()
            .any(|t| t.contains("Reply #2 on Bluesky (sky) from <b>erin</b> @erin.test")),
        "{shown:?}"
    );

    let message_of = |needle: &str| message_id_of(&app, needle);
    // An admin's answers go out at once (policy 2), each as a reply in its thread.
    for (needle, answer) in [
        ("when do doors open?", "At nine."),
        ("Thanks for the post", "You're welcome!"),
    ] {
        let mut update = app.message_update(&OWNER, MODERATION, answer);
        update["message"]["reply_to_message"] = json!({ "message_id": message_of(needle) });
        app.deliver(&[update]).await;
    }
    let records = bluesky.records();
    let to_dan = records.iter().find(|r| r["text"] == "At nine.").unwrap();
    assert_eq!(to_dan["reply"]["parent"]["uri"], dan.as_str());
    assert_eq!(
        to_dan["reply"]["root"]["uri"],
        dan.as_str(),
        "a mention is its own root"
    );
    let to_erin = records
        .iter()
        .find(|r| r["text"] == "You're welcome!")
        .unwrap();
    assert_eq!(to_erin["reply"]["parent"]["uri"], erin.as_str());
    assert_eq!(to_erin["reply"]["root"]["uri"], root, "the thread's root");

    app.say(&OWNER, "/boost 3").await;
    let repost = bluesky
        .records()
        .into_iter()
        .find(|r| r["$type"] == "app.bsky.feed.repost")
        .unwrap();
    assert!(
        repost["subject"]["uri"]
            .as_str()
            .unwrap()
            .contains("did:plc:finn")
    );
    let listed = app.say(&OWNER, "/mentions").await.join("\n");
    assert!(listed.contains("No open mentions"), "{listed}");
}

#[tokio::test]
async fn a_listener_failing_for_five_minutes_tells_the_organisers_once_and_again_when_it_recovers()
{
    const ORGANISERS: i64 = -100_900;
    let app = setup().await;
    let bluesky = add_bluesky(&app).await;
    bluesky.set_failing(true);
    let _listening = app.start_listeners();
    // Counted by the server before the listener has read the answer: wait for the listener's own word.
    app.until("a failed poll", |app| {
        app.app
            .health
            .snapshot()
            .get("listener:sky")
            .is_some_and(|c| c.state == herald::health::State::Failing)
    })
    .await;
    let failing = |app: &TestApp| {
        app.telegram
            .texts_to(ORGANISERS)
            .iter()
            .filter(|t| t.contains("has not heard from"))
            .count()
    };
    assert_eq!(failing(&app), 0, "a blip is not news");
    let health = app.app.health.snapshot();
    assert_eq!(
        health["listener:sky"].state,
        herald::health::State::Failing,
        "{health:?}"
    );
    assert!(
        health["listener:sky"]
            .last_error
            .as_deref()
            .unwrap()
            .contains("down for maintenance")
    );

    app.advance(chrono::TimeDelta::minutes(6));
    app.until("the failure notice", |app| failing(app) == 1)
        .await;
    let notice = app.telegram.texts_to(ORGANISERS).last().unwrap().clone();
    assert!(
        notice.contains("<b>sky</b> (Bluesky) for 6 minutes"),
        "{notice}"
    );
    let polls = bluesky.list_requests();
    app.until("more failed polls", |_| {
        bluesky.list_requests() >= polls + 2
    })
    .await;
    assert_eq!(failing(&app), 1, "one notice per outage");
    let status = app.say(&OWNER, "/status").await.join("\n");
    assert!(
        status.contains("sky (Bluesky) ⚠️ failing since"),
        "{status}"
    );

    bluesky.set_failing(false);
    app.until("the recovery notice", |app| {
        app.telegram
            .texts_to(ORGANISERS)
            .iter()
            .any(|t| t.contains("is heard again"))
    })
    .await;
    assert_eq!(
        app.app.health.snapshot()["listener:sky"].state,
        herald::health::State::Running
    );
}

#[tokio::test]
async fn a_direct_message_with_a_command_is_answered_privately_and_one_without_is_a_mention() {
    let app = setup().await;
    let mastodon = add_mastodon(&app).await;
    let _listening = app.start_listeners();
    app.until_listening("fosstodon").await;

    let command = mastodon.mention_as("alice", "/whoami", true, "direct");
    app.until("the private answer", |_| !mastodon.statuses().is_empty())
        .await;
    let answer = &mastodon.statuses()[0];
    assert_eq!(answer["visibility"], "direct", "{answer}");
    assert_eq!(answer["in_reply_to_id"], command["status"]["id"]);
    let text = answer["status"].as_str().unwrap();
    assert!(
        text.starts_with("@alice You are not linked yet (Mastodon id "),
        "{text}"
    );
    assert!(text.contains(".\nThis chat:"), "{text}");
    assert!(!text.contains('<'), "plain text, not Telegram HTML: {text}");
    assert_eq!(count_containing(&app, "/whoami"), 0, "not a mention");

    mastodon.mention_as("bob", "is there a quiet room?", true, "direct");
    app.until("the private question", |app| {
        count_containing(app, "is there a quiet room?") == 1
    })
    .await;
    let shown = app.sent_containing(MODERATION, "quiet room").unwrap();
    assert!(
        shown.text().unwrap().contains("Direct message #1"),
        "{shown:?}"
    );
    let mut reply = app.message_update(&OWNER, MODERATION, "Room H.1309, all day.");
    reply["message"]["reply_to_message"] = json!({ "message_id": shown.message_id.unwrap() });
    app.deliver(&[reply]).await;
    let answered = mastodon.statuses().into_iter().last().unwrap();
    assert_eq!(answered["status"], "@bob Room H.1309, all day.");
    assert_eq!(
        answered["visibility"], "direct",
        "answered as privately as it came"
    );
}

#[tokio::test]
async fn an_answer_is_as_private_as_the_mention_and_a_rejected_one_reopens_it() {
    let app = setup().await;
    let mastodon = add_mastodon(&app).await;
    let _listening = app.start_listeners();
    app.until("the stream to open", |_| mastodon.open_streams() == 1)
        .await;
    mastodon.mention_as("carol", "is the venue step-free?", true, "private");
    app.until("the mention", |app| count_containing(app, "Mention #") >= 1)
        .await;
    let carol = message_id_of(&app, "is the venue step-free?");
    assert!(
        moderation_texts(&app)
            .iter()
            .any(|t| t.contains("@carol, for their followers only:")),
        "the moderators see who could read it"
    );
    let answer_with = |text: &str| {
        let mut answer = app.message_update(&ADA, MODERATION, text);
        answer["message"]["reply_to_message"] = json!({ "message_id": carol });
        answer
    };

    // A rejected answer leaves the mention open for another.
    app.deliver(&[answer_with("Yes, mostly.")]).await;
    app.say(&OWNER, "/reject 1 too vague").await;
    let listed = app.say(&ADA, "/mentions").await.join("\n");
    assert!(listed.contains("is the venue step-free?"), "{listed}");

    app.deliver(&[answer_with("Yes: ramps at every entrance, lifts to K.")])
        .await;
    app.say(&OWNER, "/approve 2").await;
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(
        statuses[0]["status"],
        "@carol Yes: ramps at every entrance, lifts to K."
    );
    assert_eq!(
        statuses[0]["visibility"], "private",
        "followers only, like the mention"
    );
}
