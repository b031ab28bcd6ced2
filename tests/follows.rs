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
