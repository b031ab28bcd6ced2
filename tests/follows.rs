//! Personal reminders: followed sessions and patterns, and speakers' own sessions.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::db::outbox;
use support::{ADA, BOB, OWNER, TestApp, schedule_json};

async fn setup() -> (TestApp, Vec<support::TestSession<'static>>) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let t0 = app.now();
    let sessions = vec![
        (
            "a",
            "Rust in Space",
            "K.1.105",
            t0 + TimeDelta::hours(1),
            45,
            "confirmed",
        ),
        (
            "b",
            "Zig on Mars",
            "H.2215",
            t0 + TimeDelta::hours(2),
            45,
            "confirmed",
        ),
        (
            "c",
            "Rust for Embedded",
            "K.1.105",
            t0 + TimeDelta::hours(3),
            45,
            "confirmed",
        ),
    ];
    import(&app, &sessions).await;
    (app, sessions)
}

async fn import(
    app: &TestApp,
    sessions: &[support::TestSession<'_>],
) -> herald::schedule::import::Summary {
    app.import(&schedule_json(sessions)).await
}

fn number_of(app_today: &str, title: &str) -> String {
    app_today
        .split(&format!("<b>{title}</b>"))
        .nth(1)
        .unwrap()
        .split("(#")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_followed_session_and_a_pattern_bring_personal_reminders_on_time() {
    let (app, sessions) = setup().await;
    app.join(&ADA, "attendee").await;
    app.say(&ADA, "/settings announcements off").await;

    let today = app.say(&ADA, "/today").await.join("\n");
    let zig = number_of(&today, "Zig on Mars");
    let replies = app.say(&ADA, &format!("/follow {zig}")).await;
    assert!(
        replies[0].contains("Following <b>Zig on Mars</b>"),
        "{replies:?}"
    );
    let replies = app.say(&ADA, "/follow /^rust/").await;
    assert!(replies[0].contains("2 sessions match now"), "{replies:?}");
    let replies = app.say(&ADA, "/follow /([/").await;
    assert!(
        replies[0].contains("not a pattern I can use"),
        "{replies:?}"
    );
    let listed = app.say(&ADA, "/following").await.join("\n");
    assert!(
        listed.contains("Zig on Mars") && listed.contains("/^rust/"),
        "{listed}"
    );

    // Each followed session's reminder is due exactly 10 minutes before it.
    let rust = sessions[0].3;
    app.clock
        .set(rust - TimeDelta::minutes(10) - TimeDelta::microseconds(1));
    app.drain_outbox().await;
    assert!(
        !app.telegram
            .texts_to(ADA.id)
            .iter()
            .any(|t| t.contains("🔔 <b>Rust in Space"))
    );
    app.clock.set(rust - TimeDelta::minutes(10));
    app.drain_outbox().await;
    let last = app.telegram.texts_to(ADA.id).pop().unwrap();
    assert!(
        last.contains("🔔 <b>Rust in Space</b> in K.1.105 — starts in 10 minutes"),
        "{last}"
    );

    // A session added later that matches the pattern is followed too.
    let mut more = sessions.clone();
    more.push((
        "d",
        "Rust at Scale",
        "Janson",
        app.now() + TimeDelta::hours(4),
        30,
        "confirmed",
    ));
    import(&app, &more).await;
    let pending: Vec<_> = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.kind == "reminder"
                && r.target == ADA.id.to_string()
                && r.state == outbox::OutboxState::Pending
        })
        .collect();
    assert_eq!(
        pending.len(),
        3,
        "Zig, Rust for Embedded and the new Rust at Scale"
    );

    // Unfollowing the pattern cancels its reminders.
    let replies = app.say(&ADA, "/unfollow /^rust/").await;
    assert!(replies[0].contains("No more reminders"), "{replies:?}");
    let pending = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.kind == "reminder"
                && r.target == ADA.id.to_string()
                && r.state == outbox::OutboxState::Pending
        })
        .count();
    assert_eq!(pending, 1);
}

#[tokio::test]
async fn a_speaker_linked_by_invite_gets_a_dm_fifteen_minutes_before() {
    let (app, sessions) = setup().await;
    // The schedule lists "Ada" as the speaker of every session (see schedule_json).
    let replies = app.say(&OWNER, "/invite speaker Ada").await;
    let token = support::token_of(replies.last().unwrap());
    app.say(&BOB, &format!("/start {token}")).await;

    let first = sessions[0].3;
    app.clock.set(first - TimeDelta::minutes(15));
    app.drain_outbox().await;
    let dm = app.telegram.texts_to(BOB.id).pop().unwrap();
    assert!(
        dm.contains("🎤 Your session <b>Rust in Space</b> in K.1.105 starts in 15 minutes"),
        "{dm}"
    );
}

#[tokio::test]
async fn a_follower_who_turned_announcements_off_still_hears_that_their_session_moved() {
    let (app, mut sessions) = setup().await;
    app.join(&ADA, "attendee").await;
    app.say(&ADA, "/settings announcements off").await;
    app.say(&ADA, "/follow /zig/").await;
    sessions[1].3 += TimeDelta::minutes(30);
    let summary = import(&app, &sessions).await;
    assert_eq!(summary.moved, 1);
    app.send_everything().await;
    let last = app.telegram.texts_to(ADA.id).pop().unwrap();
    assert!(last.contains("<b>Zig on Mars</b> has moved"), "{last}");
}

/// Presses the button labelled by `data` under the last message to Ada.
async fn press_last(app: &TestApp, data: &str) {
    let ask = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(ADA.id))
        .unwrap();
    let press = app.button_update(&ADA, ADA.id, ask.message_id.unwrap(), data);
    app.deliver(&[press]).await;
}

#[tokio::test]
async fn stopping_cancels_the_reminders_already_queued_and_start_brings_them_back() {
    let (app, sessions) = setup().await;
    app.join(&ADA, "attendee").await;
    let today = app.say(&ADA, "/today").await.join("\n");
    let rust = number_of(&today, "Rust in Space");
    app.say(&ADA, &format!("/follow {rust}")).await;
    let queued = |state: outbox::OutboxState| {
        let app = &app;
        async move {
            outbox::list(app.db())
                .await
                .unwrap()
                .iter()
                .filter(|r| {
                    r.kind == "reminder" && r.target == ADA.id.to_string() && r.state == state
                })
                .count()
        }
    };
    // The sessions starting soon (she joined after the import) and the one she follows.
    let before = queued(outbox::OutboxState::Pending).await;
    assert_eq!(before, 4);

    app.say(&ADA, "/stop").await;
    press_last(&app, "stop:yes").await;
    let edit = app.telegram.calls_of("editMessageText").pop().unwrap();
    assert_eq!(
        edit.body["text"],
        "Done. You will receive nothing more from me (4 queued messages cancelled). \
         Send /start here whenever you want messages again."
    );
    assert_eq!(queued(outbox::OutboxState::Pending).await, 0);
    assert_eq!(queued(outbox::OutboxState::Cancelled).await, before);
    app.clock.set(sessions[0].3 - TimeDelta::minutes(10));
    app.drain_outbox().await;
    assert!(
        !app.telegram
            .texts_to(ADA.id)
            .iter()
            .any(|t| t.contains("Rust in Space</b> in K.1.105 — starts")),
        "nothing is sent after /stop"
    );

    let replies = app.say(&ADA, "/start").await;
    assert!(
        replies[0].contains("Welcome back: you receive messages again."),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "/announce Lunch!").await;
    assert_eq!(replies, ["Announcement queued for 1 recipient."]);
}

#[tokio::test]
async fn someone_who_joins_after_the_import_gets_the_reminders_due_from_then_on() {
    let (app, sessions) = setup().await;
    app.join(&BOB, "attendee").await;
    app.clock.set(sessions[0].3 - TimeDelta::minutes(10));
    app.drain_outbox().await;
    let last = app.telegram.texts_to(BOB.id).pop().unwrap();
    assert_eq!(
        last,
        "⏰ <b>Rust in Space</b> starts in 10 minutes (11:00) in K.1.105."
    );
}

#[tokio::test]
async fn an_admin_sets_how_long_before_a_start_reminders_go_out() {
    let (app, sessions) = setup().await;
    app.join(&BOB, "attendee").await;
    let replies = app.say(&OWNER, "/conference reminders 30 20 45").await;
    assert_eq!(
        replies,
        [
            "⏰ Reminders for <b>FOSDEM 2027</b>: 30 minutes before a session (followers and attendees), \
          20 before a talk (its speakers), 45 before a shift (its volunteer). What was queued moved to match."
        ]
    );
    app.clock.set(sessions[0].3 - TimeDelta::minutes(30));
    app.drain_outbox().await;
    let last = app.telegram.texts_to(BOB.id).pop().unwrap();
    assert!(
        last.starts_with("⏰ <b>Rust in Space</b> starts in 30 minutes"),
        "{last}"
    );
    let replies = app.say(&OWNER, "/conference reminders 0 20 45").await;
    assert!(
        replies[0].contains("a number of minutes from 1 to 1440"),
        "{replies:?}"
    );
}
