//! Personal calendar feeds: what a person follows, speaks in and staffs, as valid iCalendar.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;

use support::{ADA, TestApp, schedule_json};

#[tokio::test]
async fn a_calendar_link_serves_followed_sessions_and_shifts_and_is_replaced_on_request() {
    let app = TestApp::spawn_with(
        |c| c.public_url = Some("https://herald.example.org/".parse().unwrap()),
        Default::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    let t0 = support::start_time();
    let sessions = [(
        "a",
        "Rust in Space",
        "K.1.105",
        t0 + TimeDelta::hours(1),
        45,
        "confirmed",
    )];
    app.import(&schedule_json(&sessions)).await;
    app.join(&ADA, "volunteer").await;
    app.say(&ADA, "/follow /rust/").await;
    app.say(
        &support::OWNER,
        "/slot add 2026-12-27T15:00 2026-12-27T16:00 Cloakroom",
    )
    .await;
    app.say(&support::OWNER, "/slot assign 1 @ada").await;

    let reply = app.say(&ADA, "/calendar").await.join("\n");
    let url = reply
        .split_whitespace()
        .find(|w| w.starts_with("https://herald.example.org/calendar/"))
        .unwrap()
        .to_owned();
    let path = url.trim_start_matches("https://herald.example.org");
    let response = app
        .http
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    if let Ok(path) = std::env::var("DUMP_ICS_TO") {
        std::fs::write(path, &body).unwrap();
    }
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
    let unfolded = body.replace("\r\n ", "");
    assert!(unfolded.contains("SUMMARY:Rust in Space"), "{unfolded}");
    assert!(
        unfolded.contains("DTSTART;TZID=Europe/Brussels:20261227T110000"),
        "{unfolded}"
    );
    assert!(unfolded.contains("SUMMARY:🙋 Cloakroom"), "{unfolded}");
    assert!(unfolded.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Brussels"));
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
    assert_eq!(unfolded.matches("UID:").count(), 2);
    assert!(body.split("\r\n").all(|l| l.len() <= 75));

    // Asking again replaces the link.
    app.say(&ADA, "/calendar").await;
    let response = app
        .http
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn without_a_public_address_the_bot_says_calendars_are_off() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "attendee").await;
    let reply = app.say(&ADA, "/calendar").await.join("\n");
    assert!(reply.contains("HERALD_PUBLIC_URL"), "{reply}");
}
