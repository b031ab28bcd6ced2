//! frab `schedule.xml` and its older Pentabarf dialect.
//!
//! The shape (c3voc `schedule.xml.xsd`): `schedule > conference`, then `day[@date] > room[@name] > event`.
//! frab writes each event's absolute `<date>` with an offset; Pentabarf (FOSDEM) writes only `<start>`
//! as local `HH:MM` on the day's date, in a time zone the file does not name. Elements are read by
//! structure, so a `<title>` inside `<links>` or `<attachments>` is never taken for the event's title.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{
    Schedule, ScheduleError, Session, Speaker, Status, check_offset, local_to_utc, non_empty,
    parse_duration,
};

#[derive(Debug, Deserialize)]
struct XSchedule {
    conference: Option<XConference>,
    #[serde(rename = "day", default)]
    days: Vec<XDay>,
}

#[derive(Debug, Deserialize)]
struct XConference {
    title: Option<String>,
    acronym: Option<String>,
    start: Option<String>,
    end: Option<String>,
    time_zone_name: Option<String>,
    day_change: Option<String>,
}

#[derive(Debug, Deserialize)]
struct XDay {
    #[serde(rename = "@date")]
    date: Option<String>,
    #[serde(rename = "room", default)]
    rooms: Vec<XRoom>,
}

#[derive(Debug, Deserialize)]
struct XRoom {
    #[serde(rename = "@name")]
    name: Option<String>,
    #[serde(rename = "event", default)]
    events: Vec<XEvent>,
}

#[derive(Debug, Deserialize)]
struct XEvent {
    #[serde(rename = "@id")]
    id: Option<String>,
    #[serde(rename = "@guid")]
    guid: Option<String>,
    date: Option<String>,
    start: Option<String>,
    duration: Option<String>,
    room: Option<String>,
    title: Option<String>,
    track: Option<String>,
    url: Option<String>,
    persons: Option<XPersons>,
}

#[derive(Debug, Deserialize)]
struct XPersons {
    #[serde(rename = "person", default)]
    people: Vec<XPerson>,
}

#[derive(Debug, Deserialize)]
struct XPerson {
    #[serde(rename = "@id")]
    id: Option<String>,
    #[serde(rename = "@guid")]
    guid: Option<String>,
    #[serde(rename = "$text")]
    name: Option<String>,
}

/// The line of the first syntax error, found by reading the document event by event; a document that
/// ends with elements still open (a truncated download) is an error too.
fn syntax_error(text: &str) -> Option<ScheduleError> {
    let line_at = |position: usize| text[..position.min(text.len())].matches('\n').count() + 1;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<(String, usize)> = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(start)) => {
                open.push((
                    String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                    before,
                ));
            }
            Ok(quick_xml::events::Event::End(_)) => {
                open.pop();
            }
            Ok(quick_xml::events::Event::Eof) => {
                let (name, at) = open.pop()?;
                return Some(ScheduleError::Xml {
                    line: line_at(text.len()),
                    message: format!(
                        "the document ends inside <{name}> (opened at line {}); is the file cut short?",
                        line_at(at)
                    ),
                });
            }
            Ok(_) => {}
            Err(err) => {
                let position = usize::try_from(reader.error_position()).unwrap_or(0);
                return Some(ScheduleError::Xml {
                    line: line_at(position),
                    message: err.to_string(),
                });
            }
        }
    }
}

fn invalid(element: String, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Invalid {
        element,
        message: message.into(),
    }
}

fn date_only(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

pub fn parse(text: &str, zone: Option<Tz>) -> Result<Schedule, ScheduleError> {
    if let Some(err) = syntax_error(text) {
        return Err(err);
    }
    let doc: XSchedule = quick_xml::de::from_str(text)
        .map_err(|e| invalid("schedule".into(), format!("unexpected structure: {e}")))?;
    let conference = doc
        .conference
        .ok_or_else(|| invalid("schedule".into(), "no <conference> element"))?;
    let mut notes = Vec::new();
    let declared = match non_empty(conference.time_zone_name.clone()) {
        Some(name) => Some(name.parse::<Tz>().map_err(|_| {
            invalid(
                "conference/time_zone_name".into(),
                format!("{name:?} is not an IANA time zone"),
            )
        })?),
        None => None,
    };
    let time_zone = declared.or(zone);
    let day_change = conference.day_change.as_deref().and_then(|t| {
        NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()
    });

    let mut sessions = Vec::new();
    for day in &doc.days {
        let day_date = day.date.as_deref().and_then(date_only);
        for room in &day.rooms {
            for event in &room.events {
                let label = format!(
                    "event {}",
                    event
                        .guid
                        .as_deref()
                        .or(event.id.as_deref())
                        .unwrap_or("without id")
                );
                let title = non_empty(event.title.clone())
                    .ok_or_else(|| invalid(label.clone(), "no <title>"))?;
                let duration = event
                    .duration
                    .as_deref()
                    .and_then(parse_duration)
                    .ok_or_else(|| {
                        invalid(
                            label.clone(),
                            format!("<duration> {:?} is not HH:MM or HH:MM:SS", event.duration),
                        )
                    })?;
                let start: DateTime<Utc> = match non_empty(event.date.clone()) {
                    Some(date) => {
                        let at = DateTime::<FixedOffset>::parse_from_rfc3339(&date)
                            .map_err(|e| invalid(label.clone(), format!("<date> {date:?}: {e}")))?;
                        check_offset(declared, &at, &mut notes, &label);
                        at.with_timezone(&Utc)
                    }
                    None => {
                        // Pentabarf: local HH:MM on the day's date; before the day change it is the next
                        // calendar day (a 00:30 session belongs to the evening before).
                        let zone = time_zone.ok_or(ScheduleError::NoTimeZone)?;
                        let date = day_date
                            .ok_or_else(|| invalid(label.clone(), "no <date> and no day date"))?;
                        let start = event.start.as_deref().unwrap_or_default();
                        let time = NaiveTime::parse_from_str(start, "%H:%M")
                            .or_else(|_| NaiveTime::parse_from_str(start, "%H:%M:%S"))
                            .map_err(|_| {
                                invalid(label.clone(), format!("<start> {start:?} is not HH:MM"))
                            })?;
                        let date = match day_change {
                            Some(change) if time < change => date.succ_opt().unwrap_or(date),
                            _ => date,
                        };
                        local_to_utc(zone, date.and_time(time))
                    }
                };
                let source_id = non_empty(event.guid.clone())
                    .or_else(|| non_empty(event.id.clone()).map(|id| format!("id:{id}")))
                    .ok_or_else(|| invalid(label.clone(), "neither guid nor id"))?;
                let speakers = event
                    .persons
                    .as_ref()
                    .map(|p| {
                        p.people
                            .iter()
                            .filter_map(|person| {
                                let name = non_empty(person.name.clone())?;
                                Some(Speaker {
                                    source_id: non_empty(person.guid.clone())
                                        .or_else(|| non_empty(person.id.clone())),
                                    name,
                                    handles: Default::default(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                sessions.push(Session {
                    source_id,
                    title,
                    track: non_empty(event.track.clone()),
                    room: non_empty(event.room.clone()).or_else(|| non_empty(room.name.clone())),
                    start,
                    end: start + duration,
                    speakers,
                    status: Status::Confirmed,
                    url: non_empty(event.url.clone()),
                });
            }
        }
    }
    let first = doc
        .days
        .iter()
        .filter_map(|d| d.date.as_deref().and_then(date_only))
        .min();
    let last = doc
        .days
        .iter()
        .filter_map(|d| d.date.as_deref().and_then(date_only))
        .max();
    Ok(Schedule {
        title: non_empty(conference.title),
        acronym: non_empty(conference.acronym),
        time_zone,
        starts_on: conference.start.as_deref().and_then(date_only).or(first),
        ends_on: conference.end.as_deref().and_then(date_only).or(last),
        sessions,
        notes,
    })
}
