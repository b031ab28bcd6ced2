//! People reached on the channels they linked: someone linked only through Mastodon (a direct message
//! `/start <token>` to the conference's account) gets announcements, `/dm`s and reminders as direct
//! statuses from the account whose private messages are switched on, rendered from the same templates.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;

use serde_json::Value;
use support::{ADA, OWNER, TestApp, fake_mastodon::FakeMastodon, schedule_json};

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

/// Mastodon has no buttons: the answer names the commands they stand for, and typing one does the same.
#[tokio::test]
async fn on_mastodon_the_settings_buttons_become_commands_to_send() {
    let (app, mastodon, _listening) = carol_on_mastodon_only().await;
    mastodon.mention_as("carol", "/settings", true, "direct");
    let before = mastodon.statuses().len();
    app.until("the settings", |_| mastodon.statuses().len() > before)
        .await;
    app.send_everything().await;
    let settings = last_status(&mastodon);
    let text = settings["status"].as_str().unwrap();
    assert!(
        text.ends_with(
            "🔕 Announcements off: send /settings announcements off\n\
             🔕 Reminders off: send /settings reminders off\n\
             ⏰ Also remind me 60 min before: send /settings early 60"
        ),
        "{text}"
    );
    mastodon.mention_as("carol", "/settings reminders off", true, "direct");
    let before = mastodon.statuses().len();
    app.until("the change", |_| mastodon.statuses().len() > before)
        .await;
    app.send_everything().await;
    let text = last_status(&mastodon)["status"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.ends_with("🔔 Reminders on: send /settings reminders on"),
        "{text}"
    );
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

/// Ada, an attendee on Telegram, who also opened the web chat (a second channel); the browser stays
/// signed in.
async fn ada_on_telegram_and_the_web(app: &TestApp) -> (support::browser::Browser<'_>, String) {
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;
    let replies = app.say(&ADA, "/web").await;
    let text = replies.join("\n");
    let start = text.find("http://herald.test/login/").unwrap();
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '<' && *c != '"')
        .collect();
    let mut browser = support::browser::Browser::new(app);
    browser.sign_in(&link).await;
    let web = browser.my_chat().await;
    (browser, web)
}

#[tokio::test]
async fn settings_choose_which_channel_gets_announcements_reminders_and_direct_messages() {
    let app = TestApp::spawn_with(
        |c| c.public_url = Some("http://herald.test/".parse().unwrap()),
        Default::default(),
    )
    .await;
    let (browser, web) = ada_on_telegram_and_the_web(&app).await;
    // Opening the web chat does not double what Telegram brings: there, only direct messages at first.
    let replies = app.say(&ADA, "/settings").await;
    assert!(
        replies[0].contains("• web: announcements ❌ · reminders ❌ · direct messages ✅"),
        "{replies:?}"
    );
    app.say(&ADA, "/settings announcements web on").await;
    let replies = app.say(&ADA, "/settings reminders web off").await;
    assert_eq!(
        replies,
        ["<b>Your messages from FOSDEM 2027</b>\n\
          Announcements: ✅ on\n\
          Reminders: ✅ on\n\
          Earlier reminder of the sessions you follow: none (/settings early &lt;minutes&gt; sets one)\n\
          Where they reach you:\n\
          • telegram (ada): announcements ✅ · reminders ✅ · direct messages ✅\n\
          • web: announcements ✅ · reminders ❌ · direct messages ✅\n\
          Change one with /settings &lt;announcements|reminders|direct&gt; &lt;channel&gt; &lt;on|off&gt;."]
    );
    let replies = app.say(&ADA, "/settings direct email off").await;
    assert_eq!(
        replies,
        ["You have no channel called <b>email</b>. Your channels: telegram, web."]
    );

    // An announcement reaches both channels.
    app.say(&OWNER, "/announce Lunch is served.").await;
    app.send_everything().await;
    assert!(app.sent_containing(ADA.id, "Lunch is served.").is_some());
    let shown = browser.messages(&web).await;
    assert!(
        shown
            .iter()
            .any(|m| m.text == "📣 FOSDEM 2027\nLunch is served."),
        "{shown:?}"
    );

    // Reminders (of followed sessions) and announcements (which include the "starting soon" of every
    // session) now reach Ada on Telegram only.
    app.say(&ADA, "/settings announcements web off").await;
    app.say(&ADA, "/follow /rust/").await;
    let start = app.now() + TimeDelta::hours(1);
    app.import(&schedule_json(&[(
        "a",
        "Rust in Space",
        "K.1.105",
        start,
        45,
        "confirmed",
    )]))
    .await;
    app.advance(TimeDelta::minutes(50));
    app.send_everything().await;
    let on_telegram: Vec<String> = app
        .telegram
        .texts_to(ADA.id)
        .into_iter()
        .filter(|t| t.contains("Rust in Space"))
        .collect();
    assert_eq!(
        on_telegram.len(),
        2,
        "the session's and Ada's own: {on_telegram:?}"
    );
    let shown = browser.messages(&web).await;
    assert!(
        shown.iter().all(|m| !m.text.contains("Rust in Space")),
        "{shown:?}"
    );

    // Direct messages only on the web.
    app.say(&ADA, "/settings direct telegram off").await;
    let replies = app.say(&OWNER, "/dm @ada Your badge is at the desk.").await;
    assert_eq!(replies, ["Queued a message to Ada."]);
    app.send_everything().await;
    assert!(app.sent_containing(ADA.id, "Your badge").is_none());
    let shown = browser.messages(&web).await;
    assert!(
        shown
            .iter()
            .any(|m| m.text == "✉️ Olga (FOSDEM 2027):\nYour badge is at the desk."),
        "{shown:?}"
    );
}
