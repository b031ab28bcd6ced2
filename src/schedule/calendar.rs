//! Personal calendar feeds in iCalendar (RFC 5545): followed sessions, one's own talks and shifts; and
//! the iTIP messages (RFC 5546) mailed as invitations, updates and cancellations of one event.
//!
//! Written by hand because the rules that matter are few and easy to get subtly wrong with a generic
//! writer: CRLF line ends, lines folded at 75 octets without splitting a UTF-8 character, TEXT values
//! escaped, a UID and DTSTAMP on every event, and a VTIMEZONE for the conference's zone (its transitions
//! around the conference, found by scanning the zone's offsets) so calendar apps show local times.

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::delivery::email::{CalendarEvent, Method};

/// One event in a feed.
#[derive(Debug, Clone)]
pub struct Entry {
    pub uid: String,
    pub title: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line so no physical line exceeds 75 octets (§3.1), never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string()
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

/// The zone's offset changes between `from` and `to` (scanned hour by hour, then narrowed to the minute).
fn transitions(
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(NaiveDateTime, i32, i32, bool)> {
    let off = |t: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let mut out = Vec::new();
    // Transitions happen on the minute; scan from a whole hour so found times are whole minutes.
    let mut t = chrono::DurationRound::duration_trunc(from, Duration::hours(1)).unwrap_or(from);
    let mut before = off(t);
    while t < to {
        let next = t + Duration::hours(1);
        let after = off(next);
        if after != before {
            let mut at = t;
            while off(at) == before {
                at += Duration::minutes(1);
            }
            // DTSTART of a transition is local time in the offset that was in force before it.
            let local_start = (at + Duration::seconds(i64::from(before))).naive_utc();
            out.push((local_start, before, after, after > before));
            before = after;
        }
        t = next;
    }
    out
}

/// A VTIMEZONE for `tz` covering `from..to`.
fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>, out: &mut String) {
    fold("BEGIN:VTIMEZONE", out);
    fold(&format!("TZID:{}", tz.name()), out);
    let changes = transitions(tz, from, to);
    if changes.is_empty() {
        // No change in range: one STANDARD component with the constant offset.
        let o = tz
            .offset_from_utc_datetime(&from.naive_utc())
            .fix()
            .local_minus_utc();
        fold("BEGIN:STANDARD", out);
        fold(&format!("DTSTART:{}", local(from, tz)), out);
        fold(&format!("TZOFFSETFROM:{}", offset(o)), out);
        fold(&format!("TZOFFSETTO:{}", offset(o)), out);
        fold("END:STANDARD", out);
    }
    for (start, before, after, daylight) in changes {
        let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
        fold(&format!("BEGIN:{kind}"), out);
        fold(&format!("DTSTART:{}", start.format("%Y%m%dT%H%M%S")), out);
        fold(&format!("TZOFFSETFROM:{}", offset(before)), out);
        fold(&format!("TZOFFSETTO:{}", offset(after)), out);
        fold(&format!("END:{kind}"), out);
    }
    fold("END:VTIMEZONE", out);
}

/// A whole calendar.
pub fn feed(name: &str, tz: Tz, entries: &[Entry], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    fold("BEGIN:VCALENDAR", &mut out);
    fold("VERSION:2.0", &mut out);
    fold("PRODID:-//Herald//Conference messaging//EN", &mut out);
    fold("CALSCALE:GREGORIAN", &mut out);
    fold(&format!("X-WR-CALNAME:{}", escape(name)), &mut out);
    fold(&format!("X-WR-TIMEZONE:{}", tz.name()), &mut out);
    let first = entries.iter().map(|e| e.start).min().unwrap_or(stamp);
    let last = entries.iter().map(|e| e.end).max().unwrap_or(stamp);
    vtimezone(
        tz,
        first - Duration::days(200),
        last + Duration::days(200),
        &mut out,
    );
    for e in entries {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", escape(&e.uid)), &mut out);
        fold(
            &format!("DTSTAMP:{}", stamp.format("%Y%m%dT%H%M%SZ")),
            &mut out,
        );
        fold(
            &format!("DTSTART;TZID={}:{}", tz.name(), local(e.start, tz)),
            &mut out,
        );
        fold(
            &format!("DTEND;TZID={}:{}", tz.name(), local(e.end, tz)),
            &mut out,
        );
        fold(&format!("SUMMARY:{}", escape(&e.title)), &mut out);
        if let Some(location) = &e.location {
            fold(&format!("LOCATION:{}", escape(location)), &mut out);
        }
        if let Some(description) = &e.description {
            fold(&format!("DESCRIPTION:{}", escape(description)), &mut out);
        }
        fold(
            if e.cancelled {
                "STATUS:CANCELLED"
            } else {
                "STATUS:CONFIRMED"
            },
            &mut out,
        );
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

/// A property parameter value (RFC 5545 §3.2): quoted, as a name may hold `:`, `;` or `,`; a quoted
/// value cannot hold DQUOTE, so those are dropped.
fn param(value: &str) -> String {
    format!("\"{}\"", value.replace(['"', '\r', '\n'], ""))
}

/// The name and address of a mailbox written `Name <address>` or `address`.
fn mailbox(text: &str) -> (Option<&str>, &str) {
    match text.rsplit_once('<') {
        Some((name, address)) => {
            let name = name.trim().trim_matches('"').trim();
            (
                (!name.is_empty()).then_some(name),
                address.trim_end_matches('>').trim(),
            )
        }
        None => (None, text.trim()),
    }
}

/// An iTIP message for one event, as mailed (iMIP, RFC 6047): `METHOD:REQUEST` invites or updates,
/// `METHOD:CANCEL` takes the event off the attendee's calendar. `organizer` is the sender's mailbox
/// (`Name <address>`); times are in UTC, which needs no VTIMEZONE. A request carries a display alarm
/// before the start; a cancellation has none (RFC 5546 §3.2.5 allows no VALARM there).
pub fn itip(organizer: &str, event: &CalendarEvent) -> String {
    let utc = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::new();
    fold("BEGIN:VCALENDAR", &mut out);
    fold("VERSION:2.0", &mut out);
    fold("PRODID:-//Herald//Conference messaging//EN", &mut out);
    fold("CALSCALE:GREGORIAN", &mut out);
    fold(&format!("METHOD:{}", event.method.as_str()), &mut out);
    fold("BEGIN:VEVENT", &mut out);
    fold(&format!("UID:{}", escape(&event.uid)), &mut out);
    fold(&format!("DTSTAMP:{}", utc(event.stamp)), &mut out);
    fold(&format!("SEQUENCE:{}", event.sequence), &mut out);
    fold(&format!("DTSTART:{}", utc(event.start)), &mut out);
    fold(&format!("DTEND:{}", utc(event.end)), &mut out);
    fold(&format!("SUMMARY:{}", escape(&event.title)), &mut out);
    if let Some(location) = &event.location {
        fold(&format!("LOCATION:{}", escape(location)), &mut out);
    }
    if let Some(description) = &event.description {
        fold(&format!("DESCRIPTION:{}", escape(description)), &mut out);
    }
    let (name, address) = mailbox(organizer);
    let cn = name
        .map(|n| format!(";CN={}", param(n)))
        .unwrap_or_default();
    fold(&format!("ORGANIZER{cn}:mailto:{address}"), &mut out);
    fold(
        &format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}",
            param(&event.attendee_name),
            event.attendee
        ),
        &mut out,
    );
    match event.method {
        Method::Request => {
            fold("STATUS:CONFIRMED", &mut out);
            fold("BEGIN:VALARM", &mut out);
            fold("ACTION:DISPLAY", &mut out);
            fold(&format!("DESCRIPTION:{}", escape(&event.title)), &mut out);
            fold(
                &format!("TRIGGER:-PT{}M", event.alarm_minutes.max(0)),
                &mut out,
            );
            fold("END:VALARM", &mut out);
        }
        Method::Cancel => fold("STATUS:CANCELLED", &mut out),
    }
    fold("END:VEVENT", &mut out);
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters() {
        let entry = Entry {
            uid: "session-1@herald".into(),
            title: format!("Ünïcödé, commas; and \\ {}", "ß".repeat(60)),
            location: Some("Saal 1".into()),
            description: Some("line one\nline two".into()),
            start: at("2027-02-06T09:00:00Z"),
            end: at("2027-02-06T10:00:00Z"),
            cancelled: false,
        };
        let text = feed(
            "FOSDEM 2027",
            chrono_tz::Europe::Brussels,
            &[entry],
            at("2027-01-01T00:00:00Z"),
        );
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
            assert!(!line.contains('\n'));
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(
            unfolded.contains("SUMMARY:Ünïcödé\\, commas\\; and \\\\ ß"),
            "{unfolded}"
        );
        assert!(unfolded.contains("DESCRIPTION:line one\\nline two"));
        assert!(
            unfolded.contains("DTSTART;TZID=Europe/Brussels:20270206T100000"),
            "local time"
        );
        assert!(unfolded.contains("DTSTAMP:20270101T000000Z"));
    }

    #[test]
    fn the_time_zone_carries_its_transitions() {
        let text = feed(
            "x",
            chrono_tz::Europe::Brussels,
            &[],
            at("2027-06-01T00:00:00Z"),
        );
        let unfolded = text.replace("\r\n ", "");
        // Around mid-2027: the October 2026 and 2027 fall-backs and the March 2027 spring-forward.
        assert!(unfolded.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"), "{unfolded}");
        assert!(unfolded.contains("BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"), "{unfolded}");
    }

    #[test]
    fn an_invitation_names_organizer_and_attendee_and_a_cancellation_drops_the_alarm() {
        let event = CalendarEvent {
            method: Method::Request,
            uid: "herald-session-4-person-7@h.example".into(),
            sequence: 2,
            stamp: at("2027-01-01T00:00:00Z"),
            title: "Rust; in space".into(),
            location: Some("Saal 1".into()),
            description: None,
            start: at("2027-02-06T09:00:00Z"),
            end: at("2027-02-06T10:00:00Z"),
            attendee: "ada@example.org".into(),
            attendee_name: "Ada \"The\" Lovelace".into(),
            alarm_minutes: 10,
            answer_token: None,
        };
        let text = itip("FOSDEM <herald@example.org>", &event).replace("\r\n ", "");
        for line in [
            "METHOD:REQUEST",
            "SEQUENCE:2",
            "DTSTART:20270206T090000Z",
            "SUMMARY:Rust\\; in space",
            "ORGANIZER;CN=\"FOSDEM\":mailto:herald@example.org",
            "ATTENDEE;CN=\"Ada The Lovelace\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ada@example.org",
            "TRIGGER:-PT10M",
        ] {
            assert!(
                text.contains(&format!("\r\n{line}\r\n")),
                "{line} in {text}"
            );
        }
        let cancel = itip(
            "herald@example.org",
            &CalendarEvent {
                method: Method::Cancel,
                ..event
            },
        );
        assert!(cancel.contains("METHOD:CANCEL\r\n"), "{cancel}");
        assert!(cancel.contains("STATUS:CANCELLED\r\n"), "{cancel}");
        assert!(
            cancel.contains("ORGANIZER:mailto:herald@example.org\r\n"),
            "{cancel}"
        );
        assert!(!cancel.contains("VALARM"), "{cancel}");
    }
}
