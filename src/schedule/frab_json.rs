//! pretalx / frab `schedule.json`: the classic shape (`schedule.conference.days[].rooms{name: [events]}`)
//! and the newer "schema2" shape (`schedule.events[]` with `start`/`end` and `participants`).
//!
//! Every event carries an absolute `date` (classic) or `start`/`end` (schema2) with an offset. When the
//! declared `time_zone_name` disagrees with those offsets (pretalx's demo says UTC and writes +01:00),
//! the offsets win and a note says so.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::{
    Schedule, ScheduleError, Session, Speaker, Status, check_offset, non_empty, parse_duration,
};

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => non_empty(Some(s.clone())),
        Value::Number(n) => Some(n.to_string()),
        // schema2 tracks and rooms are objects with a name (or only a slug).
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("slug"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

fn invalid(element: String, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Invalid {
        element,
        message: message.into(),
    }
}

fn instant(
    v: &Value,
    key: &str,
    label: &str,
    zone: Option<Tz>,
    notes: &mut Vec<String>,
) -> Result<DateTime<Utc>, ScheduleError> {
    let raw = text(v, key).ok_or_else(|| invalid(label.to_owned(), format!("no {key:?}")))?;
    let at = DateTime::<FixedOffset>::parse_from_rfc3339(&raw)
        .map_err(|e| invalid(label.to_owned(), format!("{key} {raw:?}: {e}")))?;
    check_offset(zone, &at, notes, label);
    Ok(at.with_timezone(&Utc))
}

/// Mastodon and Bluesky handles from schema2 person links (`service: MASTODON`, an ActivityPub URL).
fn handles(person: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for link in person
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(service), Some(url)) = (
            link.get("service").and_then(Value::as_str),
            link.get("url").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Ok(parsed) = url::Url::parse(url) else {
            continue;
        };
        match service.to_ascii_uppercase().as_str() {
            "MASTODON" => {
                let user = parsed
                    .path_segments()
                    .and_then(|mut s| s.next())
                    .unwrap_or_default();
                if let (Some(user), Some(host)) = (user.strip_prefix('@'), parsed.host_str()) {
                    out.insert("mastodon".into(), format!("@{user}@{host}"));
                }
            }
            "BLUESKY" => {
                if let Some(handle) = parsed
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .filter(|h| !h.is_empty())
                {
                    out.insert("bluesky".into(), handle.to_owned());
                }
            }
            _ => {}
        }
    }
    out
}

fn speaker(person: &Value, people: &BTreeMap<String, Value>) -> Option<Speaker> {
    let id = text(person, "guid")
        .or_else(|| text(person, "code"))
        .or_else(|| text(person, "id"));
    let full = id.as_ref().and_then(|id| people.get(id)).unwrap_or(person);
    let name = text(person, "public_name")
        .or_else(|| text(person, "name"))
        .or_else(|| text(full, "name"))?;
    Some(Speaker {
        source_id: id,
        name,
        handles: handles(full),
    })
}

pub fn parse(raw: &str, zone: Option<Tz>) -> Result<Schedule, ScheduleError> {
    let doc: Value = serde_json::from_str(raw).map_err(|e| ScheduleError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let schedule = doc.get("schedule").unwrap_or(&doc);
    let conference = schedule
        .get("conference")
        .ok_or_else(|| invalid("schedule".into(), "no \"conference\""))?;
    let mut notes = Vec::new();
    let declared = match text(conference, "time_zone_name") {
        Some(name) => Some(name.parse::<Tz>().map_err(|_| {
            invalid(
                "conference.time_zone_name".into(),
                format!("{name:?} is not an IANA time zone"),
            )
        })?),
        None => None,
    };
    let date = |key: &str| {
        text(conference, key).and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
    };

    let mut sessions = Vec::new();
    if let Some(events) = schedule.get("events").and_then(Value::as_array) {
        // schema2
        let people: BTreeMap<String, Value> = schedule
            .get("persons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((text(p, "guid")?, p.clone())))
            .collect();
        for (n, event) in events.iter().enumerate() {
            let label = format!("events[{n}] {}", text(event, "guid").unwrap_or_default());
            let start = instant(event, "start", &label, declared, &mut notes)?;
            let end = instant(event, "end", &label, declared, &mut notes)?;
            let speakers = event
                .get("participants")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| {
                    p.get("role")
                        .and_then(Value::as_str)
                        .is_none_or(|r| r.eq_ignore_ascii_case("speaker"))
                })
                .filter_map(|p| speaker(p, &people))
                .collect();
            sessions.push(session(event, &label, start, end, speakers)?);
        }
    } else {
        for (d, day) in conference
            .get("days")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let rooms = day
                .get("rooms")
                .and_then(Value::as_object)
                .into_iter()
                .flatten();
            for (room, events) in rooms {
                for (n, event) in events.as_array().into_iter().flatten().enumerate() {
                    let label = format!(
                        "days[{d}].rooms[{room:?}][{n}] {}",
                        text(event, "guid").unwrap_or_default()
                    );
                    let start = instant(event, "date", &label, declared, &mut notes)?;
                    let duration = text(event, "duration")
                        .as_deref()
                        .and_then(parse_duration)
                        .ok_or_else(|| invalid(label.clone(), "duration is not HH:MM"))?;
                    let no_people = BTreeMap::new();
                    let speakers = event
                        .get("persons")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| speaker(p, &no_people))
                        .collect();
                    let mut s = session(event, &label, start, start + duration, speakers)?;
                    s.room = s.room.or_else(|| Some(room.clone()));
                    sessions.push(s);
                }
            }
        }
    }
    Ok(Schedule {
        title: text(conference, "title"),
        acronym: text(conference, "acronym"),
        time_zone: declared.or(zone),
        starts_on: date("start"),
        ends_on: date("end"),
        sessions,
        notes,
    })
}

fn session(
    event: &Value,
    label: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    speakers: Vec<Speaker>,
) -> Result<Session, ScheduleError> {
    let source_id = text(event, "guid")
        .or_else(|| text(event, "id").map(|id| format!("id:{id}")))
        .ok_or_else(|| invalid(label.to_owned(), "neither guid nor id"))?;
    let title = text(event, "title").ok_or_else(|| invalid(label.to_owned(), "no title"))?;
    let cancelled = text(event, "state")
        .or_else(|| text(event, "status"))
        .is_some_and(|s| s.eq_ignore_ascii_case("cancelled") || s.eq_ignore_ascii_case("canceled"));
    Ok(Session {
        source_id,
        title,
        track: text(event, "track"),
        room: text(event, "room"),
        start,
        end,
        speakers,
        status: if cancelled {
            Status::Cancelled
        } else {
            Status::Confirmed
        },
        url: text(event, "url"),
    })
}
