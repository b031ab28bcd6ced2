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

/// Ada's queued personal reminders of one kind (`personal` or `early`): each one's due time, in order.
async fn queued_for_ada(app: &TestApp, kind: &str) -> Vec<chrono::DateTime<chrono::Utc>> {
    let mut due: Vec<_> = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.idempotency_key.starts_with(&format!("{kind}:"))
                && r.target == ADA.id.to_string()
                && r.state == outbox::OutboxState::Pending
        })
        .map(|r| r.due_at)
        .collect();
    due.sort();
    due
}

/// Ada, an attendee who wants no announcements (nor the "starting soon" reminders that come with them),
/// following "Zig on Mars" (two hours from the start).
async fn ada_follows_zig() -> (TestApp, Vec<support::TestSession<'static>>) {
    let (app, sessions) = setup().await;
    app.join(&ADA, "attendee").await;
    app.say(&ADA, "/settings announcements off").await;
    let today = app.say(&ADA, "/today").await.join("\n");
    let zig = number_of(&today, "Zig on Mars");
    app.say(&ADA, &format!("/follow {zig}")).await;
    (app, sessions)
}

#[tokio::test]
async fn an_earlier_reminder_comes_before_the_usual_one_of_each_followed_session() {
    let (app, sessions) = ada_follows_zig().await;
    let zig = sessions[1].3;
    let replies = app.say(&ADA, "/settings early 60").await;
    assert_eq!(
        replies,
        [
            "⏰ You will also be reminded <b>60 minutes</b> before each session you follow at FOSDEM 2027, \
             besides the reminder 10 minutes before."
        ]
    );
    assert_eq!(
        queued_for_ada(&app, "personal").await,
        [zig - TimeDelta::minutes(10)]
    );
    assert_eq!(
        queued_for_ada(&app, "early").await,
        [zig - TimeDelta::minutes(60)]
    );

    // Each is sent at its own time, saying how long is left.
    app.clock
        .set(zig - TimeDelta::minutes(60) - TimeDelta::microseconds(1));
    app.drain_outbox().await;
    assert!(
        !app.telegram
            .texts_to(ADA.id)
            .iter()
            .any(|t| t.contains("🔔 <b>Zig on Mars"))
    );
    app.clock.set(zig - TimeDelta::minutes(60));
    app.drain_outbox().await;
    assert_eq!(
        app.telegram.texts_to(ADA.id).pop().unwrap(),
        "🔔 <b>Zig on Mars</b> in H.2215 — starts in 60 minutes (12:00)."
    );
    app.clock.set(zig - TimeDelta::minutes(10));
    app.drain_outbox().await;
    assert_eq!(
        app.telegram.texts_to(ADA.id).pop().unwrap(),
        "🔔 <b>Zig on Mars</b> in H.2215 — starts in 10 minutes (12:00)."
    );
    let zig_reminders = app
        .telegram
        .texts_to(ADA.id)
        .iter()
        .filter(|t| t.starts_with("🔔 <b>Zig on Mars"))
        .count();
    assert_eq!(zig_reminders, 2);
}

#[tokio::test]
async fn a_moved_session_moves_both_reminders_and_a_cancelled_one_cancels_both() {
    let (app, mut sessions) = ada_follows_zig().await;
    app.say(&ADA, "/settings early 90").await;
    sessions[1].3 += TimeDelta::minutes(30);
    let zig = sessions[1].3;
    assert_eq!(import(&app, &sessions).await.moved, 1);
    assert_eq!(
        queued_for_ada(&app, "personal").await,
        [zig - TimeDelta::minutes(10)]
    );
    assert_eq!(
        queued_for_ada(&app, "early").await,
        [zig - TimeDelta::minutes(90)]
    );

    sessions[1].5 = "cancelled";
    assert_eq!(import(&app, &sessions).await.cancelled, 1);
    assert!(queued_for_ada(&app, "personal").await.is_empty());
    assert!(queued_for_ada(&app, "early").await.is_empty());
}

#[tokio::test]
async fn unfollowing_switching_it_off_or_reminders_off_cancels_the_earlier_reminder() {
    let (app, _) = ada_follows_zig().await;
    let today = app.say(&ADA, "/today").await.join("\n");
    let zig = number_of(&today, "Zig on Mars");
    app.say(&ADA, "/settings early 60").await;
    assert_eq!(queued_for_ada(&app, "early").await.len(), 1);

    app.say(&ADA, &format!("/unfollow {zig}")).await;
    assert!(queued_for_ada(&app, "early").await.is_empty());
    app.say(&ADA, &format!("/follow {zig}")).await;
    assert_eq!(queued_for_ada(&app, "early").await.len(), 1);

    let replies = app.say(&ADA, "/settings early off").await;
    assert_eq!(
        replies,
        [
            "No earlier reminder: you will be reminded 10 minutes before each session you follow at \
             FOSDEM 2027."
        ]
    );
    assert!(queued_for_ada(&app, "early").await.is_empty());
    assert_eq!(queued_for_ada(&app, "personal").await.len(), 1);

    app.say(&ADA, "/settings early 60").await;
    app.say(&ADA, "/settings reminders off").await;
    assert!(queued_for_ada(&app, "early").await.is_empty());
    assert!(queued_for_ada(&app, "personal").await.is_empty());
    // Switched on again: both come back.
    app.say(&ADA, "/settings reminders on").await;
    assert_eq!(queued_for_ada(&app, "early").await.len(), 1);
    assert_eq!(queued_for_ada(&app, "personal").await.len(), 1);
}

#[tokio::test]
async fn stop_cancels_the_earlier_reminder_and_start_brings_it_back() {
    let (app, sessions) = ada_follows_zig().await;
    app.say(&ADA, "/settings early 60").await;
    app.say(&ADA, "/stop").await;
    press_last(&app, "stop:yes").await;
    assert!(queued_for_ada(&app, "early").await.is_empty());

    app.say(&ADA, "/start").await;
    assert_eq!(
        queued_for_ada(&app, "early").await,
        [sessions[1].3 - TimeDelta::minutes(60)]
    );
}

#[tokio::test]
async fn an_earlier_reminder_chosen_after_following_catches_up_while_the_usual_one_is_to_come() {
    let (app, sessions) = ada_follows_zig().await;
    app.say(&ADA, "/follow /^rust/").await;
    // Rust in Space starts in 5 minutes (its usual reminder is due), Zig on Mars in 65, Rust for Embedded
    // in 185.
    app.clock.set(sessions[0].3 - TimeDelta::minutes(5));
    let replies = app.say(&ADA, "/settings early 120").await;
    // Zig on Mars is closer than two hours: its earlier reminder goes out at once, saying how close.
    assert!(
        replies
            .iter()
            .any(|t| t == "🔔 <b>Zig on Mars</b> in H.2215 — starts in 65 minutes (12:00)."),
        "{replies:?}"
    );
    assert_eq!(
        queued_for_ada(&app, "early").await,
        [sessions[2].3 - TimeDelta::minutes(120)]
    );
    // Rust in Space gets its usual reminder only: an earlier one now would say the same thing twice.
    let rust_in_space: Vec<_> = app
        .telegram
        .texts_to(ADA.id)
        .into_iter()
        .filter(|t| t.starts_with("🔔 <b>Rust in Space"))
        .collect();
    assert_eq!(
        rust_in_space,
        ["🔔 <b>Rust in Space</b> in K.1.105 — starts in 5 minutes (11:00)."]
    );
}

#[tokio::test]
async fn an_earlier_reminder_must_come_before_the_usual_one_and_within_a_day() {
    let (app, _) = ada_follows_zig().await;
    let replies = app.say(&ADA, "/settings early 10").await;
    assert_eq!(
        replies,
        [
            "An earlier reminder has to come before the usual one, which goes out 10 minutes before a \
             session: 10 minutes is not earlier. Try /settings early 60."
        ]
    );
    let replies = app.say(&ADA, "/settings early 1441").await;
    assert_eq!(
        replies,
        [
            "<b>minutes</b>: “1441” is not a number of minutes from 1 to 1440, or off. \
             Usage: <code>/settings early &lt;minutes&gt; | /settings early off</code>"
        ]
    );
    let replies = app.say(&ADA, "/settings early soon").await;
    assert!(replies[0].contains("“soon” is not a number"), "{replies:?}");
    assert!(queued_for_ada(&app, "early").await.is_empty());

    // A conference that reminds earlier than someone's choice makes it unnecessary.
    app.say(&ADA, "/settings early 60").await;
    app.say(&OWNER, "/conference reminders 60 15 30").await;
    assert!(queued_for_ada(&app, "early").await.is_empty());
    let replies = app.say(&ADA, "/settings").await;
    assert!(
        replies[0].contains(
            "Earlier reminder of the sessions you follow: ⏰ 60 minutes before (not sent: the usual \
             reminder already comes 60 minutes before)"
        ),
        "{replies:?}"
    );
}

#[tokio::test]
async fn the_settings_buttons_choose_an_earlier_reminder_and_take_it_away() {
    let (app, sessions) = ada_follows_zig().await;
    app.say(&ADA, "/settings").await;
    let shown = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(ADA.id))
        .unwrap();
    let early = &shown.body["reply_markup"]["inline_keyboard"][1][0];
    assert_eq!(early["text"], "⏰ Also remind me 60 min before");
    assert_eq!(early["callback_data"], "settings:early:60");

    press_last(&app, "settings:early:60").await;
    let edit = app.telegram.calls_of("editMessageText").pop().unwrap();
    assert!(
        edit.body["text"]
            .as_str()
            .unwrap()
            .contains("Earlier reminder of the sessions you follow: ⏰ 60 minutes before"),
        "{}",
        edit.body["text"]
    );
    let off = &edit.body["reply_markup"]["inline_keyboard"][1][0];
    assert_eq!(off["text"], "⏰ No earlier reminder");
    assert_eq!(off["callback_data"], "settings:early:off");
    assert_eq!(
        queued_for_ada(&app, "early").await,
        [sessions[1].3 - TimeDelta::minutes(60)]
    );

    press_last(&app, "settings:early:off").await;
    assert!(queued_for_ada(&app, "early").await.is_empty());
}
