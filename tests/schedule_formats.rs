//! Every schedule file in tests/fixtures/schedules (real exports; see SOURCES.md there) reads, with spot
//! checks of times, rooms and speakers against the source.

#![allow(clippy::unwrap_used)]

use chrono_tz::Tz;
use herald::schedule::{self, Schedule, ScheduleError};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/schedules/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn read(name: &str, zone: Option<&str>) -> Schedule {
    let zone: Option<Tz> = zone.map(|z| z.parse().unwrap());
    schedule::parse(&fixture(name), zone).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn find<'a>(s: &'a Schedule, title: &str) -> &'a schedule::Session {
    s.sessions
        .iter()
        .find(|x| x.title.starts_with(title))
        .unwrap_or_else(|| panic!("no session {title:?}"))
}

#[test]
fn the_39c3_frab_xml_reads_with_its_own_time_zone() {
    let s = read("39c3-schedule-20251206.xml", None);
    assert_eq!(s.sessions.len(), 215);
    assert_eq!(s.time_zone, Some(chrono_tz::Europe::Berlin));
    assert_eq!(
        s.title.as_deref(),
        Some("39th Chaos Communications Congress")
    );
    let talk = find(&s, "All my Deutschlandtickets gone");
    assert_eq!(talk.start.to_rfc3339(), "2025-12-27T15:00:00+00:00");
    assert_eq!(talk.end - talk.start, chrono::TimeDelta::hours(1));
    assert_eq!(talk.room.as_deref(), Some("One"));
    assert_eq!(talk.track.as_deref(), Some("Security"));
    assert_eq!(talk.source_id, "a2dd3dc7-ecae-50b3-82d9-266ad02f7a40");
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn pentabarf_xml_needs_a_time_zone_and_then_reads_local_times() {
    assert_eq!(
        schedule::parse(&fixture("fosdem-2024-schedule.xml"), None),
        Err(ScheduleError::NoTimeZone)
    );
    let s = read("fosdem-2024-schedule.xml", Some("Europe/Brussels"));
    assert_eq!(s.sessions.len(), 674);
    let talk = find(&s, "Creative Coding with TurtleStitch");
    assert_eq!(
        talk.start.to_rfc3339(),
        "2024-02-03T09:30:00+00:00",
        "10:30 in Brussels in February"
    );
    assert_eq!(talk.room.as_deref(), Some("J.1.106"));
    assert_eq!(talk.speakers[0].name, "Pauline Maas");
    assert_eq!(talk.source_id, "id:10528");
    assert_eq!(s.starts_on.unwrap().to_string(), "2024-02-03");
}

#[test]
fn the_2014_frab_dialect_reads() {
    let s = read("31c3-schedule.xml", Some("Europe/Berlin"));
    assert_eq!(s.sessions.len(), 138);
    assert!(s.sessions.iter().all(|x| x.end > x.start));
}

#[test]
fn a_session_crossing_midnight_keeps_its_local_times() {
    let s = read("frab-camp2019-schedule.json", None);
    assert_eq!(s.sessions.len(), 79);
    let late = s
        .sessions
        .iter()
        .find(|x| {
            x.start.to_rfc3339() == "2019-08-22T21:00:00+00:00"
                && x.end - x.start == chrono::TimeDelta::minutes(90)
        })
        .unwrap();
    let local_end = late.end.with_timezone(&chrono_tz::Europe::Berlin);
    assert_eq!(
        local_end.format("%Y-%m-%d %H:%M").to_string(),
        "2019-08-23 00:30"
    );
    assert!(
        s.sessions.iter().any(|x| x.speakers.is_empty()),
        "one event has no persons"
    );
}

#[test]
fn a_declared_time_zone_that_disagrees_with_the_offsets_loses_and_is_reported() {
    let s = read("pretalx-democon-schedule.json", None);
    assert!(!s.sessions.is_empty());
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("the offsets win"), "{:?}", s.notes);
    let first = &s.sessions[0];
    assert_eq!(
        first.start.to_rfc3339(),
        "2020-12-14T08:00:00+00:00",
        "09:00+01:00 as written"
    );
}

#[test]
fn pretalx_without_a_time_zone_name_reads_by_offsets() {
    let s = read("pretalx-rc3-channels-2020-schedule.json", None);
    assert_eq!(s.sessions.len(), 48);
    assert!(s.sessions.iter().any(|x| {
        x.room
            .as_deref()
            .is_some_and(|r| r.contains("Gängeviertel"))
    }));
}

#[test]
fn the_schema2_shape_reads_with_speakers_and_their_handles() {
    let s = read("hub-38c3-schedule2-excerpt.json", None);
    let opening = find(&s, "38C3: Opening Ceremony");
    assert_eq!(opening.start.to_rfc3339(), "2024-12-27T09:30:00+00:00");
    assert_eq!(opening.room.as_deref(), Some("Saal 1"));
    let names: Vec<_> = opening.speakers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["Gabriela Bogk", "Aline Blankertz"],
        "contributors are not speakers"
    );
    assert_eq!(
        opening.speakers[0]
            .handles
            .get("mastodon")
            .map(String::as_str),
        Some("@handle@example.net")
    );
}

#[test]
fn a_broken_file_is_refused_naming_the_line() {
    let text = fixture("31c3-schedule.xml");
    let cut = &text[..text.len() / 2];
    let broken = format!("{cut}</oops>");
    match schedule::parse(&broken, None) {
        Err(ScheduleError::Xml { line, .. }) => assert!(line > 100, "line {line}"),
        other => panic!("{other:?}"),
    }
    match schedule::parse("{\"schedule\": {\"conference\": [1, }", None) {
        Err(ScheduleError::Json { line: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
}
