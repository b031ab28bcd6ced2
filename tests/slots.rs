//! Volunteer shifts: created and given in chat or imported from CSV; a reminder before each.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::{clock::SharedClock, templates::Templates};
use support::{ADA, BOB, OWNER, TestApp};

#[tokio::test]
async fn a_shift_given_in_chat_reminds_its_volunteer_fifteen_minutes_before() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = app.invite("volunteer").await;
    app.say(&ADA, &format!("/start {token}")).await;

    // The clock reads 10:00 in Brussels on 2026-12-27.
    let replies = app
        .say(
            &OWNER,
            "/slot add 2026-12-27T12:00 2026-12-27T14:00 Info desk",
        )
        .await;
    assert!(
        replies[0].contains("<b>Info desk</b>: Sun 27 Dec 12:00–14:00"),
        "{replies:?}"
    );
    let number = replies[0]
        .split("Shift #")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();

    app.join(&BOB, "attendee").await;
    let replies = app
        .say(&OWNER, &format!("/slot assign {number} @bob"))
        .await;
    assert!(replies[0].contains("Bob is not a volunteer"), "{replies:?}");
    let replies = app
        .say(&OWNER, &format!("/slot assign {number} @ada"))
        .await;
    assert!(
        replies[0].contains("Ada has the shift <b>Info desk</b>"),
        "{replies:?}"
    );

    let mine = app.say(&ADA, "/myslots").await.join("\n");
    assert!(
        mine.contains("Info desk") && mine.contains("12:00–14:00"),
        "{mine}"
    );
    let all = app.say(&ADA, "/slot list").await.join("\n");
    assert!(all.contains("— Ada"), "{all}");

    // 12:00 Brussels is 11:00 UTC; the reminder is due at 10:45 UTC, never after 11:00.
    let start = support::start_time() + TimeDelta::hours(2);
    app.clock
        .set(start - TimeDelta::minutes(15) - TimeDelta::microseconds(1));
    app.drain_outbox().await;
    assert!(
        !app.telegram
            .texts_to(ADA.id)
            .iter()
            .any(|t| t.contains("🙋"))
    );
    app.clock.set(start - TimeDelta::minutes(15));
    app.drain_outbox().await;
    let last = app.telegram.texts_to(ADA.id).pop().unwrap();
    assert!(
        last.contains("🙋 Your shift <b>Info desk</b> starts in 15 minutes (12:00–14:00)"),
        "{last}"
    );
}

#[tokio::test]
async fn shifts_import_from_csv_all_or_nothing() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&ADA, "volunteer").await;
    let clock: SharedClock = app.clock.clone();
    let templates = Templates::new();

    let broken = "title,start,end,volunteer\nDoor,2026-12-27T12:00,2026-12-27T13:00,@ada\nBar,tomorrow,2026-12-28T13:00,\n";
    let err = herald::cli::import::import_slots(
        app.db(),
        &clock,
        &templates,
        "fosdem-2027",
        broken.as_bytes(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("row 3: start \"tomorrow\""),
        "{err:#}"
    );
    let none = app.say(&OWNER, "/slot list").await.join("\n");
    assert!(
        none.contains("No shifts yet"),
        "nothing from the broken file: {none}"
    );

    let good = "title,start,end,volunteer\nDoor,2026-12-27T12:00,2026-12-27T13:00,@ada\nBar,2026-12-28T12:00,2026-12-28T13:00,\n";
    let (slots, assigned) = herald::cli::import::import_slots(
        app.db(),
        &clock,
        &templates,
        "fosdem-2027",
        good.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!((slots, assigned), (2, 1));
    let mine = app.say(&ADA, "/myslots").await.join("\n");
    assert!(mine.contains("Door") && !mine.contains("Bar"), "{mine}");
}

#[tokio::test]
async fn shifts_import_from_an_ics_file() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let clock: SharedClock = app.clock.clone();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:s1\r\nSUMMARY:Door\\, morning\r\nDTSTART;TZID=Europe/Brussels:20261227T090000\r\nDTEND;TZID=Europe/Brussels:20261227T120000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:s2\r\nSUMMARY:Door\\, cancelled\r\nSTATUS:CANCELLED\r\nDTSTART;TZID=Europe/Brussels:20261227T120000\r\nDTEND;TZID=Europe/Brussels:20261227T150000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let (slots, _) = herald::cli::import::import_slots(
        app.db(),
        &clock,
        &Templates::new(),
        "fosdem-2027",
        ics.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(slots, 1);
    let list = app.say(&OWNER, "/slot list").await.join("\n");
    assert!(
        list.contains("Sun 27 Dec 09:00–12:00 <b>Door, morning</b>"),
        "{list}"
    );
}
