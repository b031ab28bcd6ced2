//! Moderated posts from Telegram, delivered to Mastodon and the attendee channel.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{ADA, BOB, OWNER, TestApp, fake_mastodon::FakeMastodon};

/// Owner, conference with policy 2, moderation and attendee chats bound, a Mastodon provider broadcasting,
/// and Ada as volunteer.
async fn setup() -> (TestApp, FakeMastodon) {
    let app = TestApp::spawn().await;
    let mastodon = FakeMastodon::start().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", -100_700).await;
    app.bind("attendees", -100_800).await;
    app.say(&OWNER, "/conference policy 2").await;

    let replies = app
        .say(
            &OWNER,
            &format!("/provider add mastodon fosstodon {}", mastodon.url),
        )
        .await;
    assert!(replies[0].contains("send its credentials"), "{replies:?}");
    let token_message = app.message_update(&OWNER, OWNER.id, FakeMastodon::TOKEN);
    let token_message_id = token_message["message"]["message_id"].as_i64().unwrap();
    app.deliver(&[token_message]).await;
    assert!(
        app.telegram
            .texts_to(OWNER.id)
            .last()
            .unwrap()
            .contains("Credentials for <code>fosstodon</code> saved")
    );
    assert!(
        app.telegram
            .calls_of("deleteMessage")
            .iter()
            .any(|c| c.body["message_id"].as_i64() == Some(token_message_id)),
        "the secret is deleted"
    );
    let stored = herald::db::inbox::list(app.db()).await.unwrap();
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|e| !e.payload.contains(FakeMastodon::TOKEN)),
        "nor kept in the inbox"
    );

    let replies = app.say(&OWNER, "/provider test fosstodon").await;
    assert!(
        replies[0].contains("signed in as @fosdem; posts of up to 200 characters"),
        "{replies:?}"
    );
    app.say(&OWNER, "/provider on fosstodon").await;
    let replies = app.say(&OWNER, "/switch fosstodon attendees on").await;
    assert!(replies[0].contains("cannot do “attendees”"), "{replies:?}");
    let replies = app.say(&OWNER, "/switch fosstodon public on").await;
    assert!(replies[0].contains("public is on"), "{replies:?}");

    app.join(&ADA, "volunteer").await;
    (app, mastodon)
}

/// The last message the bot sent to the moderation group.
fn last_in_moderation(app: &TestApp) -> support::fake_telegram::Call {
    app.telegram
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(-100_700))
        .unwrap()
}

/// A fake Bluesky account added as provider `sky`, tested, active and broadcasting.
async fn add_bluesky(app: &TestApp) -> support::fake_bluesky::FakeBluesky {
    app.add_fake_bluesky("public").await
}

/// The last message edit the bot made (the moderation message after a change).
fn last_edit(app: &TestApp) -> serde_json::Value {
    app.telegram
        .calls_of("editMessageText")
        .last()
        .expect("an edit")
        .body
        .clone()
}

#[tokio::test]
async fn a_volunteers_post_waits_for_an_admin_and_then_reaches_every_network() {
    let (app, mastodon) = setup().await;
    let replies = app
        .say(&ADA, "/post Doors open at 09:00 in building K! #fosdem")
        .await;
    assert!(
        replies[0].contains("waiting for approval in the moderation chat"),
        "{replies:?}"
    );
    // Measured on each network it goes to, with the instance's own limit.
    assert!(
        replies[0].contains("fosstodon 42/200 · telegram 42/4096"),
        "{replies:?}"
    );

    let moderation = last_in_moderation(&app);
    assert!(moderation.text().unwrap().contains("Doors open at 09:00"));
    let buttons = &moderation.body["reply_markup"]["inline_keyboard"][0];
    assert_eq!(buttons[0]["callback_data"], "post:approve:1");

    // Nobody approves their own post.
    let replies = app.say(&ADA, "/approve 1").await;
    assert!(replies[0].contains("your own"), "{replies:?}");

    let press = app.button_update(
        &OWNER,
        -100_700,
        moderation.message_id.unwrap(),
        "post:approve:1",
    );
    app.deliver(&[press]).await;

    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        statuses[0]["status"],
        "Doors open at 09:00 in building K! #fosdem"
    );
    assert!(
        statuses[0]["idempotency_key"]
            .as_str()
            .unwrap()
            .contains(":post:1:mastodon:")
    );
    assert!(
        app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("Doors open at 09:00")),
        "attendee channel"
    );
    let edit = app
        .telegram
        .calls_of("editMessageText")
        .into_iter()
        .last()
        .unwrap();
    assert!(
        edit.body["text"]
            .as_str()
            .unwrap()
            .contains("Post #1 approved by Olga"),
        "{edit:?}"
    );
    assert_eq!(app.telegram.calls_of("answerCallbackQuery").len(), 1);
    let queue = app.say(&OWNER, "/queue").await.join("\n");
    assert!(
        queue.contains("Nothing waiting"),
        "sent posts leave the queue: {queue}"
    );
}

#[tokio::test]
async fn guards_refuse_duplicates_posts_outside_the_window_and_other_roles() {
    let (app, _mastodon) = setup().await;
    app.say(&ADA, "/post Lunch is served").await;
    let replies = app.say(&ADA, "/post Lunch is served").await;
    assert!(
        replies[0].contains("exactly this a few minutes ago"),
        "{replies:?}"
    );

    app.join(&BOB, "attendee").await;
    let replies = app.say(&BOB, "/post hello").await;
    assert!(
        replies[0].contains("As attendee you cannot post"),
        "{replies:?}"
    );

    // The clock reads 10:00 in Brussels; a window from 12:00 keeps manual posts out.
    app.say(&OWNER, "/conference window 12:00 18:00").await;
    let replies = app.say(&ADA, "/post Coffee!").await;
    assert!(
        replies[0].contains("only between 12:00–18:00 (Europe/Brussels)"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn a_long_post_goes_out_as_a_thread_and_a_rejection_is_recorded() {
    let (app, mastodon) = setup().await;
    let long = "The keynote moves to Janson because of the crowd. ".repeat(14);
    let replies = app.say(&ADA, &format!("/post {long}")).await;
    assert!(
        replies[0].contains("fosstodon 699/200 → thread of 5 · telegram 699/4096"),
        "the thread is announced before anything is sent: {replies:?}"
    );
    app.say(&OWNER, "/approve 1").await;
    let statuses = mastodon.statuses();
    assert!(statuses.len() >= 2, "{}", statuses.len());
    for status in &statuses {
        assert!(
            herald_bots::mastodon::text_len(status["status"].as_str().unwrap()) <= 200,
            "the instance's own limit"
        );
    }
    for pair in statuses.windows(2) {
        assert_eq!(
            pair[1]["in_reply_to_id"], pair[0]["id"],
            "each part replies to the one before"
        );
    }
    assert!(
        statuses[0]["status"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(1/{})", statuses.len()))
    );

    app.say(&ADA, "/post Free beer at the bar").await;
    let replies = app.say(&OWNER, "/reject 2 not true").await;
    assert!(
        replies[0].contains("Post #2 rejected: not true"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/approve 2").await;
    assert!(replies[0].contains("is rejected"), "{replies:?}");
}

#[tokio::test]
async fn a_post_goes_to_bluesky_with_facets_and_long_ones_as_a_reply_chain() {
    let (app, _mastodon) = setup().await;
    let bluesky = add_bluesky(&app).await;

    app.say(
        &OWNER,
        "/post 🎉 Welcome @alice.test! Schedule: https://fosdem.org/2027/schedule #fosdem",
    )
    .await;
    let records = bluesky.records();
    assert_eq!(records.len(), 1);
    let text = records[0]["text"].as_str().unwrap();
    let facets = records[0]["facets"].as_array().unwrap();
    let sliced: Vec<&str> = facets
        .iter()
        .map(|f| {
            &text[f["index"]["byteStart"].as_u64().unwrap() as usize
                ..f["index"]["byteEnd"].as_u64().unwrap() as usize]
        })
        .collect();
    assert_eq!(
        sliced,
        ["@alice.test", "https://fosdem.org/2027/schedule", "#fosdem"]
    );
    assert_eq!(facets[0]["features"][0]["did"], "did:plc:alice");

    let long = "Sessions in Janson run late today, so please check the screens. ".repeat(12);
    app.say(&OWNER, &format!("/post {long}")).await;
    let records = bluesky.records();
    assert!(records.len() >= 4, "{}", records.len());
    let thread = &records[1..];
    assert!(thread[0].get("reply").is_none());
    for part in &thread[1..] {
        assert_eq!(
            part["reply"]["root"]["uri"],
            "at://did:plc:herald/app.bsky.feed.post/2"
        );
    }
    assert_eq!(
        thread[2]["reply"]["parent"]["uri"],
        "at://did:plc:herald/app.bsky.feed.post/3"
    );
}

#[tokio::test]
async fn hashtags_are_kept_per_conference_and_offered_to_writers() {
    let (app, _mastodon) = setup().await;
    app.say(&OWNER, "/hashtag add fosdem2027 auto 2").await;
    let listed = app
        .say(&OWNER, "/hashtag add fosdem auto 1")
        .await
        .join("\n");
    let first = listed
        .find("#fosdem (added")
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(
        first < listed.find("#fosdem2027").unwrap(),
        "sort order: {listed}"
    );
    let offered = app.say(&ADA, "/post").await.join("\n");
    assert!(
        offered.contains("<code>/post … #fosdem #fosdem2027</code>"),
        "{offered}"
    );
    let replies = app.say(&OWNER, "/hashtag remove rust").await;
    assert!(
        replies[0].contains("not one of this conference's hashtags"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn a_bluesky_post_whose_answer_was_lost_is_not_posted_twice() {
    let (app, _mastodon) = setup().await;
    app.say(&OWNER, "/switch fosstodon public off").await;
    let bluesky = add_bluesky(&app).await;

    bluesky.lose_next_answer();
    app.say(&OWNER, "/post Keynote at 10:00 in Janson").await;
    // The first attempt stored the record but got a 502; the retry (after its backoff) finds it there.
    app.advance(chrono::TimeDelta::minutes(1));
    app.drain_outbox().await;
    assert_eq!(bluesky.records().len(), 1, "posted once");
    let rows = herald::db::outbox::list(app.db()).await.unwrap();
    let row = rows.iter().find(|r| r.platform == "bluesky").unwrap();
    assert_eq!(row.state, herald::db::outbox::OutboxState::Sent, "{row:?}");
    assert_eq!(
        row.platform_message_id.as_deref(),
        Some("at://did:plc:herald/app.bsky.feed.post/1")
    );
}

#[tokio::test]
async fn an_automatic_post_outside_the_window_waits_for_its_opening() {
    let (app, mastodon) = setup().await;
    // The clock reads 10:00 in Brussels; the window opens at 12:00 (11:00 UTC).
    app.say(&OWNER, "/conference window 12:00 18:00").await;
    let id = {
        let mut tx = app.db().begin().await.unwrap();
        let conference = herald::db::conferences::conference_by_slug(&mut tx, "fosdem-2027")
            .await
            .unwrap()
            .unwrap();
        let id = herald::db::posts::create_post(
            &mut tx,
            app.now(),
            conference.id,
            None,
            "campaign",
            "pending",
            "Next up: Rust in Space, Room A",
        )
        .await
        .unwrap();
        let post = herald::db::posts::post(&mut tx, id).await.unwrap().unwrap();
        herald::posts::send_to_moderation(
            &mut tx,
            &herald::templates::Templates::new(),
            app.now(),
            &post,
            "the sessions campaign",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    };
    app.send_everything().await;
    let moderation = app.telegram.texts_to(-100_700).last().unwrap().clone();
    assert!(
        moderation.contains("Goes out Sun 27 Dec 12:00 CET once approved"),
        "the moderators see when it will go out: {moderation}"
    );
    let replies = app.say(&OWNER, &format!("/approve {id}")).await;
    assert!(replies[0].contains("approved"), "{replies:?}");
    app.drain_outbox().await;
    assert!(
        mastodon.statuses().is_empty(),
        "not before the window opens"
    );
    assert!(
        !app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("Rust in Space")),
        "nor in the attendee channel"
    );

    app.advance(chrono::TimeDelta::minutes(119));
    app.drain_outbox().await;
    assert!(mastodon.statuses().is_empty(), "one minute early");
    app.advance(chrono::TimeDelta::minutes(1));
    app.drain_outbox().await;
    assert_eq!(mastodon.statuses().len(), 1);
    assert!(
        app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("Rust in Space"))
    );
}

#[tokio::test]
async fn a_post_that_asks_not_to_be_split_is_refused_at_approval_while_too_long() {
    let (app, mastodon) = setup().await;
    let long = "The keynote moves to Janson because of the crowd. ".repeat(6);
    app.say(&ADA, &format!("/post {long}")).await;

    let replies = app.say(&ADA, "/split 1 maybe").await;
    assert!(
        replies[0].contains("maybe") && replies[0].contains("on or off"),
        "{replies:?}"
    );
    let replies = app.say(&ADA, "/split 1 off").await;
    assert!(replies[0].contains("whole or not at all"), "{replies:?}");

    let replies = app.say(&OWNER, "/approve 1").await;
    assert!(
        replies[0].contains("too long for <code>fosstodon</code> (")
            && replies[0].contains("of 200)"),
        "{replies:?}"
    );
    app.drain_outbox().await;
    assert!(mastodon.statuses().is_empty());

    app.say(&ADA, "/split 1 on").await;
    let replies = app.say(&OWNER, "/approve 1").await;
    assert!(replies[0].contains("approved"), "{replies:?}");
    assert!(mastodon.statuses().len() >= 2, "a thread");
}

#[tokio::test]
async fn a_variant_replaces_the_text_on_its_provider_only() {
    let (app, mastodon) = setup().await;
    let long = "The keynote moves to Janson because of the crowd. ".repeat(6);
    app.say(&ADA, &format!("/post {long}")).await;

    let replies = app.say(&ADA, "/variant 1 nowhere Short").await;
    assert!(replies[0].contains("no provider"), "{replies:?}");
    let replies = app
        .say(&ADA, "/variant 1 fosstodon Keynote now in Janson.")
        .await;
    assert!(
        replies[0].contains("own text for <code>fosstodon</code> (22 of 200)"),
        "{replies:?}"
    );
    // The moderation message now shows what goes to each network.
    let refreshed = last_edit(&app);
    let shown = refreshed["text"].as_str().unwrap();
    assert!(
        shown.contains("<b>For fosstodon</b> (22/200):\nKeynote now in Janson."),
        "{shown}"
    );
    assert!(shown.contains("because of the crowd"), "{shown}");
    // Asking not to be split is judged on the variant, which fits.
    app.say(&ADA, "/split 1 off").await;
    let replies = app.say(&OWNER, "/approve 1").await;
    assert!(replies[0].contains("approved"), "{replies:?}");

    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["status"], "Keynote now in Janson.");
    assert!(
        app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("because of the crowd")),
        "the attendee channel gets the main text"
    );
}

#[tokio::test]
async fn pictures_need_alt_text_reach_moderators_and_go_out_with_the_post_everywhere() {
    let (app, mastodon) = setup().await;
    let bluesky = add_bluesky(&app).await;
    for (id, size) in [("desk", 150_000), ("hall", 90_000), ("c", 10), ("d", 10)] {
        app.telegram.add_file(id, vec![7; size]);
    }
    let app = &app;
    let photo = |file: &str, caption: &str| {
        let update = app.photo_update(&ADA, file, caption);
        async move {
            let before = app.telegram.texts_to(ADA.id).len();
            app.deliver(&[update]).await;
            app.telegram.texts_to(ADA.id).split_off(before)
        }
    };

    // Without a description the picture is refused, and nothing is created.
    let replies = photo("desk", "/post Doors open at nine!").await;
    assert!(replies[0].contains("no description"), "{replies:?}");
    assert!(app.say(&OWNER, "/queue").await[0].contains("Nothing waiting"));

    let replies = photo(
        "desk",
        "/post Doors open at nine!\nalt: The registration desk with a queue",
    )
    .await;
    assert!(replies[0].contains("Post #1 is waiting"), "{replies:?}");
    let shown = app.telegram.calls_of("sendPhoto");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].chat_id(), Some(-100_700));
    assert_eq!(shown[0].body["photo"], "desk", "the largest size");
    assert_eq!(
        shown[0].body["caption"],
        "#1 · picture 1/1 · alt text: The registration desk with a queue"
    );
    let moderation = app.telegram.texts_to(-100_700).last().unwrap().clone();
    assert!(moderation.contains("Doors open at nine!"), "{moderation}");
    assert!(!moderation.contains("alt:"), "{moderation}");
    assert!(
        moderation.contains("1. The registration desk with a queue"),
        "{moderation}"
    );

    // More pictures join with /image as their caption; the moderation message follows.
    let replies = app.say(&ADA, "/image 1 A hall").await;
    assert!(replies[0].contains("caption of a picture"), "{replies:?}");
    let replies = photo("hall", "/image 1 Janson, the big hall, filling up").await;
    assert!(replies[0].contains("Picture 2 of at most 4"), "{replies:?}");
    assert_eq!(app.telegram.calls_of("sendPhoto").len(), 2);
    let refreshed = last_edit(app);
    let refreshed_text = refreshed["text"].as_str().unwrap();
    assert!(
        refreshed_text.contains("2. Janson, the big hall, filling up"),
        "{refreshed_text}"
    );
    assert_eq!(
        refreshed["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "post:approve:1",
        "the buttons stay"
    );
    photo("c", "/image 1 third").await;
    photo("d", "/image 1 fourth").await;
    let replies = photo("c", "/image 1 fifth").await;
    assert!(replies[0].contains("already has 4 pictures"), "{replies:?}");

    assert_eq!(
        app.telegram.downloads(),
        0,
        "nothing downloaded before approval"
    );
    app.say(&OWNER, "/approve 1").await;

    // Mastodon: each picture uploaded with its description, attached to the status.
    let media = mastodon.media();
    assert_eq!(
        media,
        [
            ("The registration desk with a queue".to_owned(), 150_000),
            ("Janson, the big hall, filling up".to_owned(), 90_000),
            ("third".to_owned(), 10),
            ("fourth".to_owned(), 10),
        ]
    );
    assert_eq!(
        mastodon.statuses()[0]["media_ids"],
        json!(["m1", "m2", "m3", "m4"])
    );
    // Bluesky: blobs and an images embed with the alt texts.
    assert_eq!(bluesky.blobs(), [150_000, 90_000, 10, 10]);
    let record = &bluesky.records()[0];
    assert_eq!(record["embed"]["$type"], "app.bsky.embed.images");
    assert_eq!(
        record["embed"]["images"][1]["alt"],
        "Janson, the big hall, filling up"
    );
    // Each picture downloaded from Telegram once, though two networks needed it.
    assert_eq!(app.telegram.downloads(), 4);
    // The attendee channel: an album captioned with the post.
    let album = app
        .telegram
        .calls_of("sendMediaGroup")
        .into_iter()
        .find(|c| c.chat_id() == Some(-100_800))
        .expect("an album in the channel");
    assert_eq!(album.body["media"][0]["media"], "desk");
    assert_eq!(album.body["media"][0]["caption"], "Doors open at nine!");
    assert_eq!(album.body["media"].as_array().unwrap().len(), 4);
    assert!(
        !app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("Doors open at nine!")),
        "the caption carries the text: no second message"
    );
}

#[tokio::test]
async fn a_provider_of_a_network_herald_does_not_know_is_refused_naming_the_ones_it_does() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app
        .say(&OWNER, "/provider add myspace page https://myspace.example")
        .await;
    assert_eq!(
        replies,
        ["Herald does not post to <b>myspace</b> (yet). It knows: mastodon, bluesky, x, linkedin."]
    );
    let replies = app.say(&OWNER, "/provider add mastodon fosstodon").await;
    assert_eq!(
        replies,
        ["A Mastodon account lives on an instance: \
          <code>/provider add mastodon fosstodon https://your.instance</code>."]
    );
}

#[tokio::test]
async fn under_policy_four_volunteers_post_at_once_and_attendees_not_at_all() {
    let (app, mastodon) = setup().await;
    let replies = app.say(&OWNER, "/conference policy 4").await;
    assert_eq!(
        replies,
        [
            "Posting policy of <b>FOSDEM 2027</b> is now 4: admins and volunteers post without approval; \
          attendees and speakers do not post."
        ]
    );
    app.join(&BOB, "attendee").await;
    let replies = app.say(&BOB, "/post free beer at booth 12!").await;
    assert_eq!(
        replies,
        [
            "This conference's posting policy: admins and volunteers post. As attendee you cannot post here."
        ]
    );
    app.say(&ADA, "/post Doors open in five minutes").await;
    app.send_everything().await;
    let posted: Vec<String> = mastodon
        .statuses()
        .iter()
        .map(|s| s["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(posted, ["Doors open in five minutes"], "no approval needed");
    assert!(
        !app.telegram
            .texts_to(-100_800)
            .iter()
            .any(|t| t.contains("free beer")),
        "nothing of the attendee's reached the attendee channel"
    );
}

#[tokio::test]
async fn moderating_with_buttons_answers_the_press_and_posts_nothing_new_in_the_group() {
    let (app, _mastodon) = setup().await;
    app.say(&OWNER, "/conference policy 3").await;
    app.join(&BOB, "volunteer").await;
    app.say(&ADA, "/post Coffee in the hallway").await;
    let moderation = last_in_moderation(&app);
    let message = moderation.message_id.unwrap();
    let posted = app.telegram.texts_to(-100_700).len();

    // What the one who pressed Approve is shown, and whether as an alert.
    let approve_as = |who: &'static support::TgUser| {
        let app = &app;
        async move {
            app.deliver(&[app.button_update(who, -100_700, message, "post:approve:1")])
                .await;
            let answer = app.telegram.calls_of("answerCallbackQuery").pop().unwrap();
            (
                answer.body["text"].clone(),
                answer.body["show_alert"].clone(),
            )
        }
    };
    // Her own post: refused, as an alert to Ada alone.
    assert_eq!(
        approve_as(&ADA).await,
        (
            json!("Post #1 is your own: someone else has to approve it."),
            json!(true)
        )
    );
    assert_eq!(
        approve_as(&BOB).await,
        (
            json!("✅ Post #1 approved; going out to 2 destinations."),
            json!(false)
        )
    );
    assert_eq!(
        app.telegram.texts_to(-100_700).len(),
        posted,
        "nothing new in the moderation group"
    );
    let edited = app.telegram.calls_of("editMessageText");
    assert!(
        edited
            .iter()
            .any(|c| c.body["message_id"].as_i64() == Some(message)),
        "the moderation message shows the decision"
    );
}

#[tokio::test]
async fn the_edit_button_says_how_and_a_cancelled_post_loses_its_buttons() {
    let (app, _mastodon) = setup().await;
    app.say(&ADA, "/post Coffee in the hallway").await;
    let moderation = last_in_moderation(&app);
    let buttons: Vec<&str> = moderation.body["reply_markup"]["inline_keyboard"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(buttons, ["✅ Approve", "🚫 Reject", "✏️ Edit"]);
    let message = moderation.message_id.unwrap();
    app.deliver(&[app.button_update(&OWNER, -100_700, message, "post:edit:1")])
        .await;
    let answer = app.telegram.calls_of("answerCallbackQuery").pop().unwrap();
    assert_eq!(
        answer.body["text"],
        "To change post #1, send /edit 1 followed by the new text (here or in a private chat with me)."
    );

    app.say(&ADA, "/cancel 1").await;
    let edit = app
        .telegram
        .calls_of("editMessageText")
        .into_iter()
        .rfind(|c| c.body["message_id"].as_i64() == Some(message))
        .unwrap();
    assert_eq!(
        edit.body["text"],
        "🚫 Post #1 cancelled by Ada\n\nCoffee in the hallway"
    );
    assert!(edit.body["reply_markup"].is_null(), "{edit:?}");
}

#[tokio::test]
async fn a_failed_post_stays_visible_is_told_to_the_organisers_and_can_be_sent_again() {
    let (app, mastodon) = setup().await;
    app.bind("organisers", -100_600).await;
    // Mastodon refuses the status for good.
    mastodon.fail_next(422);
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    app.send_everything().await;
    let told = app.telegram.texts_to(-100_600).join("\n");
    assert!(
        told.contains(
            "⚠️ Post #1 went out only in part: Keynote in Janson at 10:00\n• mastodon: given up"
        ),
        "{told}"
    );
    let queue = app.say(&OWNER, "/queue").await.join("\n");
    assert!(
        queue.contains("#1 [partial] Keynote in Janson at 10:00\n  mastodon: given up"),
        "{queue}"
    );

    let replies = app.say(&OWNER, "/retry 1").await;
    assert_eq!(replies, ["🔁 Post #1 goes out again to 1 network."]);
    app.send_everything().await;
    let statuses = mastodon.statuses();
    assert_eq!(
        statuses.last().unwrap()["status"],
        "Keynote in Janson at 10:00"
    );
    let queue = app.say(&OWNER, "/queue").await.join("\n");
    assert_eq!(queue, "Nothing waiting or scheduled.");
    let history = app.say(&OWNER, "/history 1").await.join("\n");
    assert!(history.starts_with("<b>Post #1</b> (sent)\n"), "{history}");
    assert!(
        history.contains(" · retried by Olga (telegram)"),
        "{history}"
    );
}

#[tokio::test]
async fn the_organisers_hear_once_when_a_network_refuses_the_accounts_credentials() {
    let (app, mastodon) = setup().await;
    app.bind("organisers", -100_600).await;
    let refusals = |app: &TestApp| {
        app.telegram
            .texts_to(-100_600)
            .iter()
            .filter(|t| t.contains("refuses the credentials of <b>fosstodon</b>"))
            .count()
    };
    mastodon.revoke(true);
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    app.send_everything().await;
    assert_eq!(refusals(&app), 1, "{:?}", app.telegram.texts_to(-100_600));
    app.say(&OWNER, "/post Lunch is served").await;
    app.send_everything().await;
    assert_eq!(refusals(&app), 1, "told once, not per post or attempt");
    let list = app.say(&OWNER, "/provider list").await.join("\n");
    assert!(
        list.contains("credentials refused: the access token was refused (401)"),
        "{list}"
    );
    assert!(mastodon.statuses().is_empty());

    // Fixed on the server: the waiting posts go out with their retries, and the refusal is forgotten.
    mastodon.revoke(false);
    app.advance(chrono::TimeDelta::minutes(10));
    app.send_everything().await;
    let sent: Vec<_> = mastodon
        .statuses()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Keynote in Janson at 10:00", "Lunch is served"]);
    let list = app.say(&OWNER, "/provider list").await.join("\n");
    assert!(!list.contains("refused"), "{list}");

    // Refused again later: news again.
    mastodon.revoke(true);
    app.say(&OWNER, "/post Closing talk at 17:00").await;
    app.send_everything().await;
    assert_eq!(refusals(&app), 2);
}
