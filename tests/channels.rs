//! People reached on the channels they linked: someone linked only through Mastodon (a direct message
//! `/start <token>` to the conference's account) gets announcements, `/dm`s and reminders as direct
//! statuses from the account whose private messages are switched on, rendered from the same templates.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;

use serde_json::Value;
use support::{OWNER, TestApp, fake_mastodon::FakeMastodon, schedule_json};

/// The conference's Mastodon account routes to it and writes private messages; Carol linked herself by
/// a direct message with her invitation.
async fn carol_on_mastodon_only() -> (TestApp, FakeMastodon, tokio_util::sync::DropGuard) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let (mastodon, _) = app.add_fake_mastodon("moderation").await;
    app.say(&OWNER, "/switch fosstodon private on").await;
    let token = app.invite("attendee").await;
    let listening = app.start_listeners();
    app.until_listening("fosstodon").await;
    mastodon.mention_as("carol", &format!("/start {token}"), true, "direct");
    app.until("Carol's welcome", |_| !mastodon.statuses().is_empty())
        .await;
    let welcome = last_status(&mastodon);
    assert_eq!(
        welcome["status"],
        "@carol Welcome, carol! You are now attendee at FOSDEM 2027.\n\
         You will receive:\n\
         • announcements from the organisers\n\
         • reminders before sessions you follow\n\
         Change this any time with /settings; /stop stops everything."
    );
    (app, mastodon, listening)
}

fn last_status(mastodon: &FakeMastodon) -> Value {
    mastodon.statuses().into_iter().last().unwrap()
}

/// A direct status that starts a conversation: private, answering nothing.
fn assert_direct(status: &Value) {
    assert_eq!(status["visibility"], "direct", "{status}");
    assert!(status["in_reply_to_id"].is_null(), "{status}");
}

#[tokio::test]
async fn a_person_linked_only_through_mastodon_gets_announcements_as_direct_statuses() {
    let (app, mastodon, _listening) = carol_on_mastodon_only().await;
    let replies = app.say(&OWNER, "/announce Doors open at 9.").await;
    assert_eq!(replies, ["Announcement queued for 1 recipient."]);
    app.send_everything().await;
    let status = last_status(&mastodon);
    assert_eq!(status["status"], "@carol 📣 FOSDEM 2027\nDoors open at 9.");
    assert_direct(&status);
}

#[tokio::test]
async fn a_dm_to_someone_on_mastodon_goes_out_as_a_direct_status() {
    let (app, mastodon, _listening) = carol_on_mastodon_only().await;
    let replies = app.say(&OWNER, "/dm @carol See you at the booth!").await;
    assert_eq!(replies, ["Queued a message to carol."]);
    app.send_everything().await;
    let status = last_status(&mastodon);
    assert_eq!(
        status["status"],
        "@carol ✉️ Olga (FOSDEM 2027):\nSee you at the booth!"
    );
    assert_direct(&status);
}

#[tokio::test]
async fn a_reminder_reaches_someone_on_mastodon_before_the_session_and_not_after() {
    let (app, mastodon, _listening) = carol_on_mastodon_only().await;
    let start = app.now() + TimeDelta::hours(1);
    let sessions = [("a", "Rust in Space", "K.1.105", start, 45, "confirmed")];
    app.import(&schedule_json(&sessions)).await;
    let before = mastodon.statuses().len();
    app.advance(TimeDelta::minutes(49));
    app.send_everything().await;
    assert_eq!(mastodon.statuses().len(), before, "not due yet");
    app.advance(TimeDelta::minutes(1));
    app.send_everything().await;
    let status = last_status(&mastodon);
    let local = start.with_timezone(&chrono_tz::Europe::Brussels);
    assert_eq!(
        status["status"],
        format!(
            "@carol ⏰ Rust in Space starts in 10 minutes ({}) in K.1.105.",
            local.format("%H:%M")
        )
    );
    assert_direct(&status);
}

#[tokio::test]
async fn without_an_account_for_private_messages_a_dm_says_nothing_was_sent() {
    let (app, mastodon, _listening) = carol_on_mastodon_only().await;
    app.say(&OWNER, "/switch fosstodon private off").await;
    let before = mastodon.statuses().len();
    let replies = app.say(&OWNER, "/dm @carol Are you there?").await;
    assert_eq!(
        replies,
        ["carol has no channel Herald can write to, so nothing was sent."]
    );
    app.send_everything().await;
    assert_eq!(mastodon.statuses().len(), before);
}
