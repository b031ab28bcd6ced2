//! Every .ics file in tests/fixtures/ical (real calendars with their edge cases; see SOURCES.md there)
//! either reads or is refused with a message that says why — as the table below states.

#![allow(clippy::unwrap_used)]

use chrono_tz::Tz;
use herald::schedule::{self, Status};

fn read(name: &str) -> String {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/ical/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// (file, Ok(number of sessions) or Err(part of the message)), read with Europe/Berlin for floating times.
const TABLE: &[(&str, Result<usize, &str>)] = &[
    ("ical-js/blank_line_mid.ics", Ok(0)),
    ("ical-js/google_birthday.ics", Ok(6)),
    ("ical-js/recur_instances.ics", Ok(38)),
    ("ical-js/utc_negative_zero.ics", Ok(1)),
    ("ical4j/blankTzid.ics", Ok(1)),
    ("ical4j/dst-only-vtimezone.ics", Ok(1)),
    ("ical4j/incoming.ics", Ok(4)),
    ("ical4j/twinkle-invalid.ics", Ok(172)),
    ("moca-2024-schedule-malformed.ics", Ok(88)),
    ("pyconuk-2015-schedule.ics", Ok(162)),
    ("python-icalendar/america_new_york.ics", Ok(1)),
    ("python-icalendar/bom_calendar.ics", Ok(0)),
    ("python-icalendar/broken_ical.ics", Ok(1)),
    (
        "python-icalendar/created_calendar_with_unicode_fields.ics",
        Ok(2),
    ),
    (
        "python-icalendar/issue_156_RDATE_with_PERIOD_TZID_khal_2.ics",
        Ok(1),
    ),
    ("python-icalendar/issue_165_missing_event.ics", Ok(20)),
    (
        "python-icalendar/issue_218_bad_tzid.ics",
        Err("unknown time zone \"UTC+11\" (not an IANA "),
    ),
    (
        "python-icalendar/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics",
        Ok(1),
    ),
    (
        "python-icalendar/issue_722_timezone_transition_ambiguity.ics",
        Ok(4),
    ),
    (
        "python-icalendar/multiple_timezones.ics",
        Err("RDATE: \"083000\" is not a date-time"),
    ),
    ("python-icalendar/pacific_fiji.ics", Ok(1)),
    ("python-icalendar/period_with_timezone.ics", Ok(9)),
    (
        "python-icalendar/rfc_7265_appendix_example_2_ical.ics",
        Ok(6),
    ),
    ("python-icalendar/x_location.ics", Ok(786)),
    ("recurring-ical-events/daylight_saving_time.ics", Ok(1103)),
    ("recurring-ical-events/discourse_no_dtend.ics", Ok(4)),
    ("recurring-ical-events/duration_edited.ics", Ok(3)),
    ("recurring-ical-events/each_week_but_one_deleted.ics", Ok(7)),
    ("recurring-ical-events/each_week_but_two_deleted.ics", Ok(6)),
    ("recurring-ical-events/end_before_start_event.ics", Ok(1)),
    ("recurring-ical-events/fablab_cottbus.ics", Ok(64)),
    (
        "recurring-ical-events/issue_163_deleted_modification.ics",
        Ok(105),
    ),
    ("recurring-ical-events/issue_18_cancel_status.ics", Ok(3)),
    (
        "recurring-ical-events/issue_201_mixed_datetime_and_date.ics",
        Ok(1),
    ),
    ("recurring-ical-events/issue_20_exdate_ignored.ics", Ok(7)),
    ("recurring-ical-events/issue_48_dst.ics", Ok(2191)),
    ("recurring-ical-events/issue_62_moved_event.ics", Ok(36)),
    (
        "recurring-ical-events/issue_75_range_parameter.ics",
        Ok(194),
    ),
    (
        "recurring-ical-events/issue_86_x_wr_timezone_without_time_zone_in_dt.ics",
        Ok(1),
    ),
    (
        "recurring-ical-events/one_day_event_repeat_every_day.ics",
        Ok(1000),
    ),
    ("recurring-ical-events/rdate_hackerpublicradio.ics", Ok(12)),
    (
        "recurring-ical-events/recurring_events_changed_duration.ics",
        Ok(7),
    ),
    ("recurring-ical-events/recurring_events_moved.ics", Ok(7)),
    (
        "recurring-ical-events/x_wr_timezone_simple_events_issue_59.ics",
        Ok(2),
    ),
];

#[test]
fn every_ics_file_reads_or_is_refused_as_the_table_says() {
    let zone: Option<Tz> = Some(chrono_tz::Europe::Berlin);
    let mut files: Vec<String> = Vec::new();
    let root = format!("{}/tests/fixtures/ical", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            for f in std::fs::read_dir(&path).unwrap().flatten() {
                files.push(format!(
                    "{}/{}",
                    path.file_name().unwrap().to_string_lossy(),
                    f.file_name().to_string_lossy()
                ));
            }
        } else if path.extension().is_some_and(|e| e == "ics") {
            files.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    files.sort();
    let mut seen = Vec::new();
    for file in &files {
        let result = schedule::parse(&read(file), zone);
        let Some((_, expected)) = TABLE.iter().find(|(name, _)| name == file) else {
            panic!(
                "{file} is not in the table: {:?}",
                result.map(|s| s.sessions.len())
            );
        };
        match (expected, &result) {
            (Ok(n), Ok(s)) => assert_eq!(s.sessions.len(), *n, "{file}"),
            (Err(part), Err(e)) => assert!(e.to_string().contains(part), "{file}: {e}"),
            _ => panic!(
                "{file}: expected {expected:?}, got {:?}",
                result.map(|s| s.sessions.len())
            ),
        }
        seen.push(file.clone());
    }
    assert_eq!(seen.len(), TABLE.len(), "every table row names a file");
}

#[test]
fn a_real_conference_ics_reads_with_utc_times() {
    let s = schedule::parse(&read("pyconuk-2015-schedule.ics"), None).unwrap();
    assert_eq!(s.sessions.len(), 162);
    assert!(s.sessions.iter().all(|x| x.end >= x.start));
}

#[test]
fn a_uid_shared_by_many_events_does_not_merge_them() {
    let s = schedule::parse(
        &read("moca-2024-schedule-malformed.ics"),
        Some(chrono_tz::Europe::Rome),
    )
    .unwrap();
    assert_eq!(s.sessions.len(), 88);
    let titles: std::collections::HashSet<_> =
        s.sessions.iter().map(|x| x.title.as_str()).collect();
    assert!(
        titles.len() > 60,
        "distinct events stay distinct: {}",
        titles.len()
    );
}

#[test]
fn one_cancelled_instance_of_a_series_is_cancelled() {
    let s = schedule::parse(
        &read("recurring-ical-events/issue_18_cancel_status.ics"),
        None,
    )
    .unwrap();
    let statuses: Vec<_> = s.sessions.iter().map(|x| x.status).collect();
    assert_eq!(
        statuses,
        [Status::Confirmed, Status::Cancelled, Status::Confirmed]
    );
    // 22:00 in Berlin in January is 21:00 UTC.
    assert_eq!(
        s.sessions[0].start.to_rfc3339(),
        "2020-01-28T21:00:00+00:00"
    );
}

#[test]
fn a_non_ascii_tzid_defined_in_the_file_gives_its_offsets() {
    let s = schedule::parse(
        &read("python-icalendar/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics"),
        None,
    )
    .unwrap();
    assert!(!s.sessions.is_empty());
}

#[test]
fn a_weekly_series_keeps_its_local_time_across_daylight_saving() {
    let s = schedule::parse(&read("recurring-ical-events/issue_48_dst.ics"), None).unwrap();
    // The 08:15 Monday/Tuesday/Thursday/Friday series starts in November (CST, UTC-6) and runs through
    // March (CDT, UTC-5): the wall-clock time stays 08:15, so the UTC time moves.
    let series: Vec<_> = s
        .sessions
        .iter()
        .filter(|x| {
            x.start
                .with_timezone(&chrono_tz::America::Chicago)
                .format("%H:%M")
                .to_string()
                == "08:15"
        })
        .collect();
    assert!(series.len() > 100, "{}", series.len());
    let utc_hours: std::collections::BTreeSet<_> = series
        .iter()
        .map(|x| x.start.format("%H:%M").to_string())
        .collect();
    assert_eq!(
        utc_hours.into_iter().collect::<Vec<_>>(),
        ["13:15", "14:15"]
    );
    // The two EXDATEs (26 and 27 November 2020) are not there.
    assert!(!series.iter().any(|x| {
        x.start
            .with_timezone(&chrono_tz::America::Chicago)
            .format("%Y-%m-%d")
            .to_string()
            == "2020-11-26"
    }));
}

/// A calendar of `events`, each `rule`d, starting 2027-02-01 10:00 UTC.
fn calendar(events: usize, rule: &str, uid: impl Fn(usize) -> String) -> String {
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for i in 0..events {
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{}\r\nDTSTART:20270201T100000Z\r\nDTEND:20270201T110000Z\r\n\
             SUMMARY:Talk {i}\r\n{rule}END:VEVENT\r\n",
            uid(i)
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    ics
}

#[test]
fn a_recurrence_interval_must_be_positive() {
    for interval in ["-1", "0", "x"] {
        let ics = calendar(
            1,
            &format!("RRULE:FREQ=DAILY;INTERVAL={interval};COUNT=5\r\n"),
            |i| format!("e{i}"),
        );
        let err = schedule::parse(&ics, None).unwrap_err().to_string();
        assert_eq!(
            err, "line 9: RRULE INTERVAL must be a whole number of 1 or more",
            "INTERVAL={interval}"
        );
    }
}

#[test]
fn a_huge_interval_ends_the_series_instead_of_overflowing() {
    let ics = calendar(
        1,
        "RRULE:FREQ=DAILY;INTERVAL=9223372036854775807;COUNT=3\r\n",
        |i| format!("e{i}"),
    );
    assert_eq!(schedule::parse(&ics, None).unwrap().sessions.len(), 1);
    let ics = calendar(
        1,
        "RRULE:FREQ=YEARLY;INTERVAL=4000000000;COUNT=3\r\n",
        |i| format!("e{i}"),
    );
    assert_eq!(schedule::parse(&ics, None).unwrap().sessions.len(), 1);
}

#[test]
fn a_file_may_not_expand_into_more_sessions_than_the_cap() {
    let ics = calendar(200, "RRULE:FREQ=DAILY;COUNT=2000000000\r\n", |i| {
        format!("e{i}")
    });
    let err = schedule::parse(&ics, None).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "schedule: more than {} sessions (counting each instance of a recurring event); \
             split the file or shorten its recurring series",
            schedule::MAX_SESSIONS
        )
    );
    // Under the cap, the same series read as far as each may go.
    let ics = calendar(2, "RRULE:FREQ=DAILY;COUNT=2000000000\r\n", |i| {
        format!("e{i}")
    });
    assert_eq!(schedule::parse(&ics, None).unwrap().sessions.len(), 2_000);
}
