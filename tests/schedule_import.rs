//! Importing schedules into a conference, and the reminders that follow the schedule.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::{
    clock::SharedClock,
    db::{bindings, conferences, outbox, outbox::OutboxState, people, schedule, subscriptions},
    templates::Templates,
};
use support::{TestApp, schedule_json};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/schedules/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn import(
    app: &TestApp,
    slug: &str,
    text: &str,
    tz: Option<&str>,
) -> anyhow::Result<admin_summary::Result> {
    let clock: SharedClock = app.clock.clone();
    herald::schedule::source::import_schedule(app.db(), &clock, &Templates::new(), slug, text, tz)
        .await
}

mod admin_summary {
    pub type Result = (
        herald::db::conferences::Conference,
        herald::schedule::import::Summary,
    );
}

#[tokio::test]
async fn the_39c3_schedule_creates_its_conference_and_reimports_as_unchanged() {
    let app = TestApp::spawn().await;
    let file = fixture("39c3-schedule-20251206.xml");
    let (conference, summary) = import(&app, "39c3", &file, None).await.unwrap();
    assert_eq!(conference.name, "39th Chaos Communications Congress");
    assert_eq!(conference.time_zone, "Europe/Berlin");
    assert_eq!(summary.added, 215);

    let (_, again) = import(&app, "39c3", &file, None).await.unwrap();
    assert_eq!(
        (again.added, again.unchanged, again.moved, again.removed),
        (0, 215, 0, 0)
    );

    let rows = herald::cli::import::schedule_rows(app.db(), "39c3")
        .await
        .unwrap();
    let talk = rows
        .iter()
        .find(|r| r.title.starts_with("All my Deutschlandtickets"))
        .unwrap();
    assert_eq!(talk.start, "2025-12-27T16:00:00+01:00");
    assert_eq!(talk.room.as_deref(), Some("One"));
}

#[tokio::test]
async fn fosdem_needs_a_time_zone_and_a_broken_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let file = fixture("fosdem-2024-schedule.xml");
    let err = import(&app, "fosdem-2024", &file, None).await.unwrap_err();
    assert!(format!("{err:#}").contains("--tz"), "{err:#}");
    let (_, summary) = import(&app, "fosdem-2024", &file, Some("Europe/Brussels"))
        .await
        .unwrap();
    assert_eq!(summary.added, 674);

    let broken = &file[..file.len() / 3];
    let err = import(&app, "fosdem-2024", broken, None).await.unwrap_err();
    assert!(format!("{err:#}").contains("line"), "{err:#}");
    let rows = herald::cli::import::schedule_rows(app.db(), "fosdem-2024")
        .await
        .unwrap();
    assert_eq!(rows.len(), 674);
    assert!(
        rows.iter().all(|r| r.status == "confirmed"),
        "nothing removed by the broken file"
    );
}

/// A conference with the attendee channel bound and one attendee who wants announcements.
async fn audience(app: &TestApp, slug: &str) -> (i64, i64) {
    let mut tx = app.db().begin().await.unwrap();
    let conference = conferences::conference_by_slug(&mut tx, slug)
        .await
        .unwrap()
        .unwrap();
    let channel = -100_555;
    bindings::bind(
        &mut tx,
        app.now(),
        conference.id,
        "attendees",
        "telegram",
        &channel.to_string(),
        Some("Attendees"),
        None,
    )
    .await
    .unwrap();
    let person = people::person_for_account(
        &mut tx,
        app.now(),
        "telegram",
        "4242",
        Some("attendee"),
        "Attendee",
        None,
    )
    .await
    .unwrap();
    subscriptions::subscribe(&mut tx, app.now(), person, conference.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (channel, 4242)
}

async fn reimport(app: &TestApp, text: &str) -> herald::schedule::import::Summary {
    let clock: SharedClock = app.clock.clone();
    herald::schedule::source::import_schedule(
        app.db(),
        &clock,
        &Templates::new(),
        "test",
        text,
        None,
    )
    .await
    .unwrap()
    .1
}

#[tokio::test]
async fn reminders_are_due_exactly_ten_minutes_before_and_parallel_sessions_share_a_message() {
    let app = TestApp::spawn().await;
    let t0 = app.now();
    let ten = t0 + TimeDelta::hours(1);
    let eleven = t0 + TimeDelta::hours(2);
    let sessions = [
        ("a", "Rust in Space", "Room A", ten, 30, "confirmed"),
        ("b", "Zig on Mars", "Room B", ten, 30, "confirmed"),
        ("c", "Lunch", "Hall", eleven, 60, "confirmed"),
    ];
    reimport(&app, &schedule_json(&sessions)).await;
    let (channel, attendee) = audience(&app, "test").await;
    // The audience changed: recompute (an import does this too).
    let summary = reimport(&app, &schedule_json(&sessions)).await;
    assert_eq!(summary.reminders, 4, "two slots × two chats");

    let rows = outbox::list(app.db()).await.unwrap();
    let reminders: Vec<_> = rows.iter().filter(|r| r.kind == "reminder").collect();
    assert_eq!(reminders.len(), 4);
    for r in &reminders {
        let start = if r.body.contains("Lunch") {
            eleven
        } else {
            ten
        };
        assert_eq!(r.due_at, start - TimeDelta::minutes(10));
        assert_eq!(r.expires_at, Some(start));
    }

    app.clock
        .set(ten - TimeDelta::minutes(10) - TimeDelta::microseconds(1));
    assert_eq!(app.drain_outbox().await.sent, 0);
    app.clock.set(ten - TimeDelta::minutes(10));
    assert_eq!(
        app.drain_outbox().await.sent,
        2,
        "one message per chat for the 10:00 slot"
    );
    for chat in [channel, attendee] {
        let text = app.telegram.texts_to(chat).pop().unwrap();
        assert!(
            text.contains("Rust in Space") && text.contains("Zig on Mars"),
            "{text}"
        );
        assert!(
            text.contains("in 10 minutes") && text.contains("(11:00)"),
            "local time in Berlin: {text}"
        );
    }
}

#[tokio::test]
async fn a_moved_session_moves_its_reminder_and_tells_the_audience() {
    let app = TestApp::spawn().await;
    let t0 = app.now();
    let eleven = t0 + TimeDelta::hours(2);
    reimport(
        &app,
        &schedule_json(&[("c", "Keynote", "Hall", eleven, 60, "confirmed")]),
    )
    .await;
    let (channel, _) = audience(&app, "test").await;
    reimport(
        &app,
        &schedule_json(&[("c", "Keynote", "Hall", eleven, 60, "confirmed")]),
    )
    .await;

    let later = eleven + TimeDelta::minutes(30);
    let summary = reimport(
        &app,
        &schedule_json(&[("c", "Keynote", "Room B", later, 60, "confirmed")]),
    )
    .await;
    assert_eq!((summary.moved, summary.notices), (1, 2));

    let rows = outbox::list(app.db()).await.unwrap();
    let pending: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "reminder" && r.state == OutboxState::Pending)
        .collect();
    assert!(!pending.is_empty(), "the moved session keeps its reminders");
    assert!(
        pending
            .iter()
            .all(|r| r.due_at == later - TimeDelta::minutes(10)),
        "moved with the session"
    );
    assert!(
        rows.iter()
            .any(|r| r.kind == "reminder" && r.state == OutboxState::Cancelled),
        "the old slot's reminder is cancelled"
    );

    app.drain_outbox().await;
    let notice = app.telegram.texts_to(channel).pop().unwrap();
    assert!(
        notice.contains("<b>Keynote</b> has moved")
            && notice.contains("12:30 in Room B")
            && notice.contains("was 12:00 in Hall"),
        "{notice}"
    );
}

#[tokio::test]
async fn a_cancelled_or_removed_session_cancels_its_reminder_with_a_notice() {
    let app = TestApp::spawn().await;
    let t0 = app.now();
    let s = |state| {
        [
            ("c", "Workshop", "Hall", t0 + TimeDelta::hours(3), 60, state),
            (
                "d",
                "Talk",
                "Hall",
                t0 + TimeDelta::hours(5),
                60,
                "confirmed",
            ),
        ]
    };
    reimport(&app, &schedule_json(&s("confirmed"))).await;
    let (channel, _) = audience(&app, "test").await;
    reimport(&app, &schedule_json(&s("confirmed"))).await;

    let summary = reimport(&app, &schedule_json(&s("cancelled"))).await;
    assert_eq!(summary.cancelled, 1);
    let summary = reimport(&app, &schedule_json(&s("cancelled")[..1])).await;
    assert_eq!(summary.removed, 1);

    app.drain_outbox().await;
    let texts = app.telegram.texts_to(channel);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("<b>Workshop</b> (13:00, Hall) is cancelled")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("<b>Talk</b> (15:00, Hall) is cancelled")),
        "{texts:?}"
    );
    let rows = outbox::list(app.db()).await.unwrap();
    let reminders: Vec<_> = rows.iter().filter(|r| r.kind == "reminder").collect();
    assert!(!reminders.is_empty());
    assert!(reminders.iter().all(|r| r.state == OutboxState::Cancelled));
    let mut tx = app.db().begin().await.unwrap();
    let conference = conferences::conference_by_slug(&mut tx, "test")
        .await
        .unwrap()
        .unwrap();
    let statuses: Vec<String> = schedule::sessions(&mut tx, conference.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.status)
        .collect();
    tx.commit().await.unwrap();
    assert_eq!(statuses, ["cancelled", "removed"]);
}

#[tokio::test]
async fn a_reminder_that_cannot_go_before_the_start_is_expired_not_sent_late() {
    let app = TestApp::spawn().await;
    let start = app.now() + TimeDelta::hours(1);
    reimport(
        &app,
        &schedule_json(&[("c", "Keynote", "Hall", start, 60, "confirmed")]),
    )
    .await;
    let (channel, _) = audience(&app, "test").await;
    reimport(
        &app,
        &schedule_json(&[("c", "Keynote", "Hall", start, 60, "confirmed")]),
    )
    .await;
    // Herald was down from before the reminder was due until after the start.
    app.clock.set(start + TimeDelta::minutes(1));
    let report = app.drain_outbox().await;
    assert_eq!((report.sent, report.expired), (0, 2));
    assert!(app.telegram.texts_to(channel).is_empty());
}

#[tokio::test]
async fn an_ics_schedule_imports_without_merging_events_that_share_a_uid() {
    let app = TestApp::spawn().await;
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/ical/moca-2024-schedule-malformed.ics",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (conference, summary) = import(&app, "moca-2024", &text, Some("Europe/Rome"))
        .await
        .unwrap();
    assert_eq!(summary.added, 88);
    assert_eq!(conference.time_zone, "Europe/Rome");
    let (_, again) = import(&app, "moca-2024", &text, None).await.unwrap();
    assert_eq!(
        (again.added, again.unchanged),
        (0, 88),
        "a re-import matches every event to itself"
    );
}
