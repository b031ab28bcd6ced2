//! Attendees ask the bot about the schedule: /now, /next, /today, /session, /room.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;

use support::{ADA, TestApp, schedule_json};

async fn app_with_schedule() -> TestApp {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let t0 = app.now();
    let sessions = [
        (
            "a",
            "Opening",
            "Janson",
            t0 - TimeDelta::minutes(30),
            60,
            "confirmed",
        ),
        (
            "b",
            "Rust in Space",
            "K.1.105",
            t0 + TimeDelta::hours(1),
            45,
            "confirmed",
        ),
        (
            "c",
            "Zig on Mars",
            "H.2215",
            t0 + TimeDelta::hours(1),
            45,
            "confirmed",
        ),
        (
            "d",
            "Closing",
            "Janson",
            t0 + TimeDelta::hours(6),
            30,
            "confirmed",
        ),
    ];
    app.import(&schedule_json(&sessions)).await;
    app.join(&ADA, "attendee").await;
    app
}

#[tokio::test]
async fn now_next_today_room_and_session_answer_in_local_time() {
    let app = app_with_schedule().await;
    // The clock reads 09:00 UTC: 10:00 in Brussels.
    let now = app.say(&ADA, "/now").await.join("\n");
    assert!(
        now.contains("<b>Opening</b> — Janson (until 10:30)"),
        "{now}"
    );

    let next = app.say(&ADA, "/next").await.join("\n");
    assert!(
        next.contains("at 11:00") && next.contains("Rust in Space") && next.contains("Zig on Mars"),
        "{next}"
    );
    assert!(!next.contains("Closing"), "{next}");

    let today = app.say(&ADA, "/today").await.join("\n");
    for line in [
        "09:30–10:30 <b>Opening</b>",
        "11:00–11:45 <b>Rust in Space</b>",
        "16:00–16:30 <b>Closing</b>",
    ] {
        assert!(today.contains(line), "{line} missing from {today}");
    }

    let room = app.say(&ADA, "/room janson").await.join("\n");
    assert!(
        room.contains("<b>Janson</b> today") && room.contains("Closing"),
        "{room}"
    );
    let unknown = app.say(&ADA, "/room Atlantis").await.join("\n");
    assert!(
        unknown.contains("Rooms: H.2215, Janson, K.1.105"),
        "{unknown}"
    );

    let number = today
        .split("<b>Rust in Space</b>")
        .nth(1)
        .unwrap()
        .split("(#")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_owned();
    let detail = app
        .say(&ADA, &format!("/session {number}"))
        .await
        .join("\n");
    assert!(
        detail.contains("11:00–11:45 · K.1.105 · Main") && detail.contains("with Ada"),
        "{detail}"
    );
    let missing = app.say(&ADA, "/session 99999").await.join("\n");
    assert!(missing.contains("no session #99999"), "{missing}");
}

#[tokio::test]
async fn a_guest_is_told_which_role_the_schedule_needs() {
    let app = app_with_schedule().await;
    let replies = app.say(&support::BOB, "/today").await;
    assert!(
        replies[0].contains("needs the <b>attendee</b> role"),
        "{replies:?}"
    );
}
