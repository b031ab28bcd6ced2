//! The Telegram bot, driven through the fake Bot API: linking, roles, conference setup, binding,
//! confirmations, escaping and splitting.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use serde_json::json;
use support::{ADA, BOB, OWNER, TestApp, token_of};

#[tokio::test]
async fn the_owner_link_makes_its_first_user_owner_and_works_once() {
    let app = TestApp::spawn().await;
    let link = app.owner_link().await;
    assert!(
        link.starts_with("https://t.me/herald_test_bot?start="),
        "{link}"
    );
    let token = token_of(&link);
    assert!(token.len() >= 22, "at least 128 bits");

    let replies = app.say(&OWNER, &format!("/start {token}")).await;
    assert!(
        replies[0].contains("you are now the <b>owner</b>"),
        "{replies:?}"
    );

    let replies = app.say(&ADA, &format!("/start {token}")).await;
    assert!(replies[0].contains("already been used"), "{replies:?}");
    let replies = app.say(&ADA, "/whoami").await;
    assert!(replies[0].contains("not linked"), "{replies:?}");
}

#[tokio::test]
async fn an_owner_sets_up_a_conference_from_chat() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;

    let replies = app.say(&OWNER, "/conference policy 2").await;
    assert!(
        replies[0].contains("volunteers post, admins approve"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/conference window 09:00 18:30").await;
    assert!(
        replies[0].contains("09:00–18:30 (Europe/Brussels)"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/conference status").await;
    let status = &replies[0];
    assert!(
        status.contains("FOSDEM 2027") && status.contains("Posting policy: 2"),
        "{status}"
    );
    // The test clock says 09:00 UTC on 27 December: 10:00 in Brussels.
    assert!(status.contains("2026-12-27 10:00 CET"), "{status}");

    let replies = app
        .say(
            &OWNER,
            "/conference new fosdem-2027 Europe/Brussels 2027-02-06 2027-02-07 Again",
        )
        .await;
    assert!(replies[0].contains("already exists"), "{replies:?}");
    let replies = app.say(&OWNER, "/conference list").await;
    assert!(replies[0].contains("▶ <b>FOSDEM 2027</b>"), "{replies:?}");
}

#[tokio::test]
async fn an_invite_links_one_person_with_one_role_once() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = app.invite("attendee").await;

    let replies = app.say(&ADA, &format!("/start {token}")).await;
    assert!(
        replies[0].contains("You are now <b>attendee</b> at <b>FOSDEM 2027</b>"),
        "{replies:?}"
    );
    assert!(
        replies[0].contains("announcements"),
        "says what she will receive: {replies:?}"
    );

    let replies = app.say(&BOB, &format!("/start {token}")).await;
    assert!(replies[0].contains("already been used"), "{replies:?}");

    let replies = app.say(&ADA, "/whoami").await;
    assert!(replies[0].contains("<b>attendee</b>"), "{replies:?}");
}

#[tokio::test]
async fn an_expired_or_unknown_link_gets_a_clear_answer() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = app.invite("attendee").await;
    app.advance(TimeDelta::days(61));
    let replies = app.say(&ADA, &format!("/start {token}")).await;
    assert!(replies[0].contains("expired"), "{replies:?}");
    let replies = app
        .say(&ADA, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert!(replies[0].contains("don't recognise"), "{replies:?}");
    let replies = app.say(&ADA, "/start").await;
    assert!(
        replies[0].contains("registration"),
        "explains how to join: {replies:?}"
    );
}

#[tokio::test]
async fn a_command_above_the_senders_role_is_refused_naming_the_role() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;

    let replies = app.say(&ADA, "/invite attendee").await;
    assert!(
        replies[0].contains("needs the <b>admin</b> role"),
        "{replies:?}"
    );
    assert!(
        replies[0].contains("You are <b>attendee</b>"),
        "{replies:?}"
    );

    let replies = app.say(&BOB, "/announce hello").await;
    assert!(
        replies[0].contains("needs the <b>admin</b> role") && replies[0].contains("not linked"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn admins_are_granted_listed_and_revoked_in_chat() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;

    let replies = app.say(&OWNER, "/grant @ada admin").await;
    assert!(
        replies[0].contains("Ada is now <b>admin</b>"),
        "{replies:?}"
    );
    let replies = app.say(&ADA, "/admins").await;
    assert!(
        replies[0].contains("Ada (@ada)") && replies[0].contains("Olga (@olga) — owner"),
        "{replies:?}"
    );
    let replies = app.say(&ADA, "/invite volunteer Carla").await;
    assert!(
        replies[0].contains("https://t.me/herald_test_bot?start="),
        "an admin now: {replies:?}"
    );

    let replies = app.say(&OWNER, "/revoke @ada admin").await;
    assert!(replies[0].contains("no longer <b>admin</b>"), "{replies:?}");
    let replies = app.say(&ADA, "/invite volunteer").await;
    assert!(
        replies[0].contains("needs the <b>admin</b> role"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/grant @nobody admin").await;
    assert!(replies[0].contains("I don't know @nobody"), "{replies:?}");
}

#[tokio::test]
async fn mistakes_get_answers_that_say_what_was_expected() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app.say(&OWNER, "/conference new x").await;
    assert!(replies[0].contains("<code>/conference new"), "{replies:?}");
    let replies = app.say(&OWNER, "/conference policy 9").await;
    assert!(replies[0].contains("“9”"), "{replies:?}");
    let replies = app.say(&OWNER, "/anounce hi").await;
    assert!(
        replies[0].contains("Did you mean <code>/announce</code>?"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "hello there").await;
    assert!(replies[0].contains("/help"), "{replies:?}");
    // In a group, another bot's command is not ours to answer.
    let replies = app.say_in(&OWNER, -10_042, "/weather Berlin").await;
    assert!(replies.is_empty(), "{replies:?}");
}

#[tokio::test]
async fn help_lists_what_the_sender_may_do() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let owner_help = app.say(&OWNER, "/help").await.join("\n");
    assert!(
        owner_help.contains("/invite") && owner_help.contains("/announce"),
        "{owner_help}"
    );
    let guest_help = app.say(&BOB, "/help").await.join("\n");
    assert!(
        guest_help.contains("/start") && !guest_help.contains("/announce"),
        "{guest_help}"
    );
}

#[tokio::test]
async fn binding_a_group_deletes_the_token_and_confirms_there() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = bind_code(&app, "organisers").await;

    let group = -100_777;
    let update = app.message_update(&OWNER, group, &token);
    let message_id = update["message"]["message_id"].as_i64().unwrap();
    app.deliver(&[update]).await;

    let confirmations = app.telegram.texts_to(group);
    assert!(
        confirmations[0].contains("organisers</b> chat of FOSDEM 2027"),
        "{confirmations:?}"
    );
    let deletes = app.telegram.calls_of("deleteMessage");
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        (
            deletes[0].body["chat_id"].as_i64(),
            deletes[0].body["message_id"].as_i64()
        ),
        (Some(group), Some(message_id))
    );

    // Organisers now hear about new volunteers.
    app.join(&ADA, "volunteer").await;
    let notices = app.telegram.texts_to(group);
    assert!(
        notices
            .last()
            .unwrap()
            .contains("Ada (@ada) joined <b>FOSDEM 2027</b> as <b>volunteer</b>"),
        "{notices:?}"
    );

    // The code works once: posting it again elsewhere binds nothing.
    let replies = app.say_in(&OWNER, -100_888, &token).await;
    assert!(replies[0].contains("already been used"), "{replies:?}");
}

async fn bind_code(app: &TestApp, slot: &str) -> String {
    let replies = app.say(&OWNER, &format!("/bind {slot}")).await;
    support::code_in(&replies[0])
}

#[tokio::test]
async fn the_add_to_group_link_binds_the_group_it_adds_the_bot_to() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app.say(&OWNER, "/bind moderation").await;
    let token = support::code_in(&replies[0]);
    assert!(
        replies[0].contains(&format!(
            "<a href=\"https://t.me/{}?startgroup={token}\">add me to it with this link</a>",
            support::BOT_USERNAME
        )),
        "{replies:?}"
    );
    // What Telegram sends in the group when the link added the bot there: a command, which the bot
    // sees whatever the group's privacy mode.
    let group = -100_321;
    let confirmations = app
        .say_in(
            &OWNER,
            group,
            &format!("/start@{} {token}", support::BOT_USERNAME),
        )
        .await;
    assert!(
        confirmations[0].contains("moderation</b> chat of FOSDEM 2027"),
        "{confirmations:?}"
    );
}

#[tokio::test]
async fn a_leaked_bind_code_binds_nothing_for_someone_else() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let code = bind_code(&app, "organisers").await;

    let replies = app.say(&BOB, &code).await;
    assert!(
        replies[0].contains("not here"),
        "in a private chat: {replies:?}"
    );
    let replies = app.say_in(&BOB, -100_999, &code).await;
    assert!(replies[0].contains("only they can bind"), "{replies:?}");
    assert_eq!(
        app.telegram.calls_of("deleteMessage").len(),
        1,
        "the leaked code is deleted from the group"
    );
    let status = app.say(&OWNER, "/status").await;
    assert!(status[0].contains("organisers — not bound"), "{status:?}");
    // The code was not used up by the refusal: its owner can still bind.
    let replies = app.say_in(&OWNER, -100_999, &code).await;
    assert!(replies[0].contains("organisers</b> chat"), "{replies:?}");
}

#[tokio::test]
async fn links_and_codes_are_not_handed_out_in_groups_and_not_kept_once_sent() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app.say_in(&OWNER, -100_999, "/invite admin").await;
    assert!(replies[0].contains("in a private chat"), "{replies:?}");
    assert!(!replies[0].contains("start="), "{replies:?}");

    app.invite("attendee").await;
    let rows = herald::db::outbox::list(app.db()).await.unwrap();
    let secret: Vec<_> = rows.iter().filter(|r| r.kind == "secret").collect();
    assert_eq!(secret.len(), 1);
    assert_eq!(secret[0].state, herald::db::outbox::OutboxState::Sent);
    assert!(
        !secret[0].body.contains("start="),
        "the delivered link is not kept: {}",
        secret[0].body
    );
}

#[tokio::test]
async fn an_admin_creates_conferences_only_in_their_own_series() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "admin").await;
    let replies = app
        .say(
            &ADA,
            "/conference new pgconf-2027 Europe/Berlin 2027-10-01 2027-10-03 PGConf",
        )
        .await;
    assert!(
        replies[0].contains("Only the owner, or an admin of an earlier pgconf conference"),
        "{replies:?}"
    );
    let replies = app
        .say(
            &ADA,
            "/conference new fosdem-2028 Europe/Brussels 2028-02-05 2028-02-06 FOSDEM 2028",
        )
        .await;
    assert!(
        replies[0].contains("Created <b>FOSDEM 2028</b>"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn a_renamed_username_follows_its_new_owner_and_dm_respects_the_conference_and_stop() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;

    // Ada renames herself; Bob takes @ada.
    let renamed = support::TgUser {
        username: "ada_l",
        ..ADA
    };
    app.say(&renamed, "/whoami").await;
    let bob_as_ada = support::TgUser {
        username: "ada",
        ..BOB
    };
    app.say(&bob_as_ada, "/whoami").await;
    let replies = app.say(&OWNER, "/dm @ada hello").await;
    assert!(
        replies[0].contains("I don't know @ada"),
        "@ada no longer means Ada: {replies:?}"
    );
    let replies = app.say(&OWNER, "/dm @ada_l hello").await;
    assert!(
        replies[0].contains("Queued a message to Ada"),
        "{replies:?}"
    );

    app.say(&renamed, "/stop").await;
    let ask = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .last()
        .unwrap();
    let renamed = support::TgUser {
        username: "ada_l",
        ..ADA
    };
    let press = app.button_update(&renamed, ADA.id, ask.message_id.unwrap(), "stop:yes");
    app.deliver(&[press]).await;
    let replies = app.say(&OWNER, "/dm @ada_l hello again").await;
    assert!(replies[0].contains("stopped all messages"), "{replies:?}");
}

#[tokio::test]
async fn removing_the_bot_unbinds_the_chat_and_tells_the_organisers() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let organisers = -1_001;
    let moderation = -1_002;
    for (slot, chat) in [("organisers", organisers), ("moderation", moderation)] {
        let replies = app.say(&OWNER, &format!("/bind {slot}")).await;
        let token = support::code_in(&replies[0]);
        app.say_in(&OWNER, chat, &token).await;
    }
    let kicked = json!({ "update_id": 900, "my_chat_member": {
        "chat": { "id": moderation, "type": "supergroup", "title": "Moderation" },
        "from": { "id": OWNER.id, "is_bot": false, "first_name": "Olga" }, "date": 1_798_000_000,
        "old_chat_member": { "user": { "id": 666, "is_bot": true, "first_name": "Herald" }, "status": "administrator" },
        "new_chat_member": { "user": { "id": 666, "is_bot": true, "first_name": "Herald" }, "status": "left" } } });
    app.deliver(&[kicked]).await;

    let notices = app.telegram.texts_to(organisers);
    assert!(
        notices
            .last()
            .unwrap()
            .contains("removed from “Organisers”")
            && notices.last().unwrap().contains("<b>moderation</b> chat"),
        "{notices:?}"
    );
    let status = app.say(&OWNER, "/status").await;
    assert!(status[0].contains("moderation — not bound"), "{status:?}");
}

#[tokio::test]
async fn a_group_that_becomes_a_supergroup_keeps_its_binding() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let old = -42;
    let replies = app.say(&OWNER, "/bind attendees").await;
    let token = support::code_in(&replies[0]);
    app.say_in(&OWNER, old, &token).await;

    let migrated = json!({ "update_id": 901, "message": { "message_id": 5, "date": 1_798_000_000,
        "chat": { "id": old, "type": "group", "title": "Attendees" },
        "from": { "id": OWNER.id, "is_bot": false, "first_name": "Olga" }, "migrate_to_chat_id": -100_4242 } });
    app.deliver(&[migrated]).await;

    let replies = app.say(&OWNER, "/announce Doors open at 9").await;
    assert!(replies[0].contains("queued for 1 recipient"), "{replies:?}");
    assert!(
        app.telegram
            .texts_to(-100_4242)
            .iter()
            .any(|t| t.contains("Doors open at 9"))
    );
}

#[tokio::test]
async fn stop_asks_first_and_then_silences_everything() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;

    app.say(&ADA, "/stop").await;
    let ask = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .last()
        .unwrap();
    let buttons = &ask.body["reply_markup"]["inline_keyboard"][0];
    assert_eq!(buttons[0]["callback_data"], "stop:yes");
    let asked_message = ask.message_id.unwrap();

    let press = app.button_update(&ADA, ADA.id, asked_message, "stop:yes");
    let callback = press["callback_query"]["id"].clone();
    app.deliver(&[press]).await;

    assert_eq!(
        app.telegram.calls_of("answerCallbackQuery")[0].body["callback_query_id"],
        callback
    );
    let edit = &app.telegram.calls_of("editMessageText")[0];
    assert_eq!(edit.body["message_id"].as_i64(), Some(asked_message));
    assert!(
        edit.body["text"]
            .as_str()
            .unwrap()
            .contains("You will receive nothing more")
    );

    let replies = app.say(&OWNER, "/announce Lunch!").await;
    assert!(
        replies[0].contains("queued for 0 recipients"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn settings_toggle_what_a_person_receives() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;
    let replies = app.say(&ADA, "/settings announcements off").await;
    assert!(
        replies[0].contains("Announcements: ❌ off") && replies[0].contains("Reminders: ✅ on"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/announce Lunch!").await;
    assert!(
        replies[0].contains("queued for 0 recipients"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn user_text_is_escaped_and_emoji_survive() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;
    let replies = app.say(&OWNER, "/dm @ada Room <b> & \"C\" 🎉 moved").await;
    assert!(
        replies[0].contains("Queued a message to Ada"),
        "{replies:?}"
    );
    let dm = app.telegram.texts_to(ADA.id).pop().unwrap();
    assert!(
        dm.contains("Room &lt;b&gt; &amp; &quot;C&quot; 🎉 moved"),
        "{dm}"
    );
}

#[tokio::test]
async fn a_long_announcement_is_split_at_telegrams_limit() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;
    let paragraph = "The keynote moves to the main hall because of the crowd. ".repeat(20);
    let long = [paragraph.as_str(); 5].join("\n");
    app.say(&OWNER, &format!("/announce {long}")).await;
    let parts = app.telegram.texts_to(ADA.id);
    let announcement: Vec<_> = parts.iter().filter(|t| t.contains("keynote")).collect();
    assert!(
        announcement.len() >= 2,
        "split into {} parts",
        announcement.len()
    );
    for part in announcement {
        assert!(herald_bots::telegram::visible_len(part) <= 4096);
    }
}

#[tokio::test]
async fn an_unexpected_failure_gets_a_short_apology_and_is_recorded() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    // Break the store under the bot: the follows table disappears.
    match app.db().pool() {
        herald::db::Pool::Sqlite(pool) => sqlx::query("DROP TABLE follows")
            .execute(pool)
            .await
            .map(drop),
        herald::db::Pool::Postgres(pool) => sqlx::query("DROP TABLE follows")
            .execute(pool)
            .await
            .map(drop),
    }
    .unwrap();
    let update = app.message_update(&OWNER, OWNER.id, "/following");
    let clock: herald::clock::SharedClock = app.clock.clone();
    herald::telegram::updates::store_updates(app.db(), &clock, &[update])
        .await
        .unwrap();
    let report = app.app.inbox.drain().await.unwrap();
    assert_eq!(report.failed, 1);
    app.send_everything().await;
    let last = app.telegram.texts_to(OWNER.id).pop().unwrap();
    assert!(
        last.starts_with("Sorry — something went wrong on my side"),
        "{last}"
    );
    let events = herald::db::inbox::list(app.db()).await.unwrap();
    assert!(
        events
            .last()
            .unwrap()
            .last_error
            .as_deref()
            .unwrap()
            .contains("follows"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_bind_code_typed_as_a_command_binds_a_group_in_privacy_mode() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = bind_code(&app, "attendees").await;
    let group = -100_654;
    let confirmations = app
        .say_in(
            &OWNER,
            group,
            &format!("/bind@{} {token}", support::BOT_USERNAME),
        )
        .await;
    assert!(
        confirmations[0].contains("attendees</b> chat of FOSDEM 2027"),
        "{confirmations:?}"
    );
    let replies = app.say(&OWNER, "/announce Doors open").await;
    assert_eq!(replies, ["Announcement queued for 1 recipient."]);
}
