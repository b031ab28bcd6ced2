//! Schedules from the tools conferences already use: frab/Pentabarf `schedule.xml`, pretalx/frab
//! `schedule.json` (classic and "schema2") and iCalendar, read into one platform-neutral [`Schedule`].
//!
//! Parsing is pure: no database, no clock. Times are resolved to UTC here, with the conference's time
//! zone for files that give only local times (Pentabarf), so everything after this module compares
//! instants. Problems that do not stop an import (a declared time zone that disagrees with the offsets)
//! are collected as notes for the import summary.

pub mod calendar;
pub mod feeds;
pub mod frab_json;
pub mod frab_xml;
pub mod ics;
pub mod import;
pub mod invitations;
pub mod source;
pub mod sync;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A schedule as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub title: Option<String>,
    pub acronym: Option<String>,
    /// The IANA zone the file declares (or the one the import was told to use).
    pub time_zone: Option<Tz>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub sessions: Vec<Session>,
    /// Things the import should tell the organisers about.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Confirmed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Speaker {
    /// The source's stable id for the person (guid, code or numeric id), if any.
    pub source_id: Option<String>,
    pub name: String,
    /// Handles per network ("mastodon" → "@alice@example.org").
    pub handles: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Session {
    /// The source's stable id (guid, or uid); what a re-import matches on.
    pub source_id: String,
    pub title: String,
    pub track: Option<String>,
    pub room: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub speakers: Vec<Speaker>,
    pub status: Status,
    pub url: Option<String>,
}

/// A file that cannot be imported; says where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("not well-formed XML at line {line}: {message}")]
    Xml { line: usize, message: String },
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{element}: {message}")]
    Invalid { element: String, message: String },
    #[error(
        "the file has no time zone and none was given: pass --tz (for example --tz Europe/Brussels)"
    )]
    NoTimeZone,
    #[error(
        "unrecognised schedule format: expected frab/Pentabarf XML, pretalx/frab JSON or iCalendar"
    )]
    UnknownFormat,
}

/// Most sessions one schedule file may hold (recurring events counted by their instances): a large
/// conference has a thousand or two.
pub const MAX_SESSIONS: usize = 100_000;

/// The error of a file with more than [`MAX_SESSIONS`] sessions.
pub(crate) fn too_many_sessions() -> ScheduleError {
    ScheduleError::Invalid {
        element: "schedule".into(),
        message: format!(
            "more than {MAX_SESSIONS} sessions (counting each instance of a recurring event); \
             split the file or shorten its recurring series"
        ),
    }
}

/// Reads a schedule, recognising the format from its content. `zone` is used where the file gives no
/// time zone of its own.
pub fn parse(text: &str, zone: Option<Tz>) -> Result<Schedule, ScheduleError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let schedule = if trimmed.starts_with('<') {
        frab_xml::parse(trimmed, zone)
    } else if trimmed.starts_with('{') {
        frab_json::parse(trimmed, zone)
    } else if trimmed
        .get(..15)
        .is_some_and(|head| head.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        ics::parse(trimmed, zone)
    } else {
        Err(ScheduleError::UnknownFormat)
    }?;
    if schedule.sessions.len() > MAX_SESSIONS {
        return Err(too_many_sessions());
    }
    Ok(schedule)
}

/// `HH:MM` or `HH:MM:SS` (or `D:HH:MM`? no — frab never writes days) as a duration.
pub(crate) fn parse_duration(text: &str) -> Option<chrono::TimeDelta> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let numbers: Option<Vec<i64>> = parts
        .iter()
        .map(|p| p.parse::<i64>().ok().filter(|n| *n >= 0))
        .collect();
    match numbers?.as_slice() {
        [h, m] => Some(chrono::TimeDelta::hours(*h) + chrono::TimeDelta::minutes(*m)),
        [h, m, s] => Some(
            chrono::TimeDelta::hours(*h)
                + chrono::TimeDelta::minutes(*m)
                + chrono::TimeDelta::seconds(*s),
        ),
        _ => None,
    }
}

/// A local wall-clock time in `zone` as an instant. In the hour a DST change repeats, the earlier
/// reading wins; in the hour it skips, the time is moved forward by the gap (what a clock on the wall
/// would show).
pub fn local_to_utc(zone: Tz, local: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::{LocalResult, TimeZone};
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => zone
            .from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
            .earliest()
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

pub(crate) fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Checks an offset-carrying time against the declared zone; a disagreement becomes one note.
pub(crate) fn check_offset(
    zone: Option<Tz>,
    at: &DateTime<chrono::FixedOffset>,
    notes: &mut Vec<String>,
    what: &str,
) {
    use chrono::Offset;
    let Some(zone) = zone else { return };
    let expected = at.with_timezone(&zone).offset().fix();
    if expected != *at.offset() && !notes.iter().any(|n| n.starts_with("time zone")) {
        notes.push(format!(
            "time zone: the file declares {zone}, but {what} is given as {at} (offset {}); the offsets win",
            at.offset()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_come_in_two_shapes() {
        assert_eq!(
            parse_duration("01:30"),
            Some(chrono::TimeDelta::minutes(90))
        );
        assert_eq!(
            parse_duration("00:05:30"),
            Some(chrono::TimeDelta::seconds(330))
        );
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-1:00"), None);
    }

    #[test]
    fn local_times_across_dst_changes_resolve_sensibly() {
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        let at =
            |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
        // 02:30 does not exist on 2025-03-30 in Berlin: it becomes 03:30 CEST = 01:30 UTC.
        assert_eq!(
            local_to_utc(berlin, at("2025-03-30 02:30")).to_rfc3339(),
            "2025-03-30T01:30:00+00:00"
        );
        // 02:30 happens twice on 2025-10-26: the first (CEST) wins.
        assert_eq!(
            local_to_utc(berlin, at("2025-10-26 02:30")).to_rfc3339(),
            "2025-10-26T00:30:00+00:00"
        );
    }

    #[test]
    fn unknown_content_is_refused_plainly() {
        assert_eq!(
            parse("BEGIN:NOTHING", None),
            Err(ScheduleError::UnknownFormat)
        );
    }
}
