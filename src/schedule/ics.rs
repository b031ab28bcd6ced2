//! iCalendar (`.ics`) schedules.
//!
//! Read by hand, for the parts a conference schedule uses: unfolded content lines, VEVENTs with
//! `TZID` (an IANA name, a Mozilla-style path ending in one, or a VTIMEZONE defined in the file), UTC and
//! floating times (the conference's zone), all-day dates, `DURATION`, recurrence (`RRULE` with
//! FREQ/INTERVAL/COUNT/UNTIL/BYDAY/BYMONTH, `RDATE`, `EXDATE`) and overridden instances (`RECURRENCE-ID`,
//! possibly `STATUS:CANCELLED`). Recurrence rules beyond that subset are refused by name rather than
//! guessed. Each instance gets its own id (UID plus original start), and a UID that several unrelated
//! events share is not merged (the import gives each its own id).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::{Schedule, ScheduleError, Session, Status};

/// Most instances one recurring event may produce.
const MAX_INSTANCES: usize = 1000;

#[derive(Debug, Clone)]
struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
    line: usize,
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default)]
struct Component {
    name: String,
    properties: Vec<Property>,
    children: Vec<Component>,
    line: usize,
}

impl Component {
    fn get(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }
}

fn invalid(line: usize, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Invalid {
        element: format!("line {line}"),
        message: message.into(),
    }
}

/// Unfolds lines (RFC 5545 §3.1) and splits each into name, parameters and value.
fn content_lines(text: &str) -> Result<Vec<Property>, ScheduleError> {
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (n, raw) in text.trim_start_matches('\u{feff}').split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t')) {
            match logical.last_mut() {
                Some((_, last)) => last.push_str(rest),
                None => return Err(invalid(n + 1, "the file starts with a continuation line")),
            }
        } else if !raw.trim().is_empty() {
            logical.push((n + 1, raw.to_owned()));
        }
    }
    logical
        .into_iter()
        .map(|(line, text)| parse_line(line, &text))
        .collect()
}

fn parse_line(line: usize, text: &str) -> Result<Property, ScheduleError> {
    // The value starts at the first ':' outside a quoted parameter value.
    let mut quoted = false;
    let mut split = None;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(at) = split else {
        return Err(invalid(
            line,
            format!(
                "expected NAME:value, found {:?}",
                text.chars().take(40).collect::<String>()
            ),
        ));
    };
    let (head, value) = (&text[..at], &text[at + 1..]);
    let mut parts = head.split(';');
    let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
    if name.is_empty() {
        return Err(invalid(line, "a property without a name"));
    }
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_owned(),
            )
        })
        .collect();
    Ok(Property {
        name,
        params,
        value: value.to_owned(),
        line,
    })
}

/// Nests BEGIN/END into components; every calendar in the file is returned.
fn components(lines: Vec<Property>) -> Result<Vec<Component>, ScheduleError> {
    let mut stack: Vec<Component> = Vec::new();
    let mut done = Vec::new();
    for p in lines {
        match p.name.as_str() {
            "BEGIN" => stack.push(Component {
                name: p.value.trim().to_ascii_uppercase(),
                line: p.line,
                ..Default::default()
            }),
            "END" => {
                let name = p.value.trim().to_ascii_uppercase();
                let Some(open) = stack.pop() else {
                    return Err(invalid(p.line, format!("END:{name} without BEGIN")));
                };
                if open.name != name {
                    return Err(invalid(
                        p.line,
                        format!("END:{name} closes BEGIN:{} (line {})", open.name, open.line),
                    ));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(open),
                    None => done.push(open),
                }
            }
            _ => match stack.last_mut() {
                Some(c) => c.properties.push(p),
                None => {
                    return Err(invalid(
                        p.line,
                        format!("{} outside BEGIN:VCALENDAR", p.name),
                    ));
                }
            },
        }
    }
    if let Some(open) = stack.pop() {
        return Err(invalid(
            open.line,
            format!(
                "BEGIN:{} is never closed; is the file cut short?",
                open.name
            ),
        ));
    }
    if !done.iter().any(|c| c.name == "VCALENDAR") {
        return Err(ScheduleError::UnknownFormat);
    }
    Ok(done)
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// How a TZID turns local times into instants.
#[derive(Debug, Clone)]
enum Zone {
    Iana(Tz),
    /// A VTIMEZONE of the file: (onset rule, offset after it in seconds), latest onset wins.
    Rules(Vec<(Onset, i32)>),
}

#[derive(Debug, Clone)]
struct Onset {
    start: NaiveDateTime,
    /// `FREQ=YEARLY;BYMONTH=m;BYDAY=nWD`: the n-th (or last, n<0) weekday of the month each year.
    yearly: Option<(u32, i8, Weekday)>,
    until: Option<NaiveDateTime>,
}

impl Onset {
    /// The latest onset at or before `t`, if any.
    fn latest_before(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        if t < self.start {
            return None;
        }
        let Some((month, nth, weekday)) = self.yearly else {
            return Some(self.start);
        };
        let time = self.start.time();
        let mut year = t.year();
        loop {
            if year < self.start.year() {
                return None;
            }
            if let Some(day) = nth_weekday(year, month, nth, weekday) {
                let at = day.and_time(time);
                if at <= t && at >= self.start && self.until.is_none_or(|u| at <= u) {
                    return Some(at);
                }
            }
            year -= 1;
        }
    }
}

fn nth_weekday(year: i32, month: u32, nth: i8, weekday: Weekday) -> Option<NaiveDate> {
    if nth > 0 {
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, u8::try_from(nth).ok()?)
    } else {
        let first_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let mut day = first_next.pred_opt()?;
        while day.weekday() != weekday {
            day = day.pred_opt()?;
        }
        let back = i64::from(nth.unsigned_abs().saturating_sub(1)) * 7;
        let day = day - Duration::days(back);
        (day.month() == month).then_some(day)
    }
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    let (sign, digits) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let h: i32 = digits.get(0..2)?.parse().ok()?;
    let m: i32 = digits.get(2..4)?.parse().ok()?;
    let s: i32 = digits.get(4..6).and_then(|s| s.parse().ok()).unwrap_or(0);
    Some(sign * (h * 3600 + m * 60 + s))
}

fn rule_parts(value: &str) -> BTreeMap<String, String> {
    value
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().to_ascii_uppercase()))
        .collect()
}

fn zone_from_vtimezone(c: &Component) -> Option<Zone> {
    if let Some(location) = c
        .get("X-LIC-LOCATION")
        .and_then(|p| p.value.trim().parse::<Tz>().ok())
    {
        return Some(Zone::Iana(location));
    }
    let mut rules = Vec::new();
    for part in c
        .children
        .iter()
        .filter(|p| p.name == "STANDARD" || p.name == "DAYLIGHT")
    {
        let to = parse_offset(&part.get("TZOFFSETTO")?.value)?;
        let start = parse_local(&part.get("DTSTART")?.value)?;
        let yearly = match part.get("RRULE") {
            Some(rule) => {
                let parts = rule_parts(&rule.value);
                let month: u32 = parts.get("BYMONTH")?.parse().ok()?;
                let byday = parts.get("BYDAY")?;
                let (n, wd) = byday.split_at(byday.len().checked_sub(2)?);
                Some((month, n.parse::<i8>().ok()?, weekday(wd)?))
            }
            None => None,
        };
        let until = part.get("RRULE").and_then(|r| {
            rule_parts(&r.value)
                .get("UNTIL")
                .and_then(|u| parse_local(u.trim_end_matches('Z')))
        });
        rules.push((
            Onset {
                start,
                yearly,
                until,
            },
            to,
        ));
    }
    (!rules.is_empty()).then_some(Zone::Rules(rules))
}

fn parse_local(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value.trim(), "%Y%m%dT%H%M%S").ok()
}

/// A DATE or DATE-TIME value, resolved to an instant; `all_day` for DATE values.
struct Instant {
    at: DateTime<Utc>,
    all_day: bool,
}

struct Zones {
    known: HashMap<String, Zone>,
    floating: Option<Tz>,
}

impl Zones {
    fn resolve(&self, tzid: &str) -> Option<Zone> {
        if let Some(z) = self.known.get(tzid) {
            return Some(z.clone());
        }
        if let Ok(tz) = tzid.parse::<Tz>() {
            return Some(Zone::Iana(tz));
        }
        // Mozilla writes "/mozilla.org/20050126_1/Europe/Berlin"; keep the Area/Location tail.
        let tail: Vec<&str> = tzid.rsplitn(3, '/').collect();
        if tail.len() >= 2
            && let Ok(tz) = format!("{}/{}", tail[1], tail[0]).parse::<Tz>()
        {
            return Some(Zone::Iana(tz));
        }
        None
    }

    fn instant(&self, p: &Property) -> Result<Instant, ScheduleError> {
        let value = p.value.trim();
        if p.param("VALUE")
            .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
            || value.trim_end_matches('Z').len() == 8
        {
            // Some writers (Google) put a stray 'Z' after a DATE value.
            let date = NaiveDate::parse_from_str(value.trim_end_matches('Z'), "%Y%m%d")
                .map_err(|_| invalid(p.line, format!("{}: {value:?} is not a date", p.name)))?;
            let zone = self.floating.ok_or(ScheduleError::NoTimeZone)?;
            return Ok(Instant {
                at: super::local_to_utc(zone, date.and_time(NaiveTime::MIN)),
                all_day: true,
            });
        }
        if let Some(utc) = value.strip_suffix('Z') {
            let local = parse_local(utc).ok_or_else(|| {
                invalid(p.line, format!("{}: {value:?} is not a date-time", p.name))
            })?;
            return Ok(Instant {
                at: local.and_utc(),
                all_day: false,
            });
        }
        let local = parse_local(value)
            .ok_or_else(|| invalid(p.line, format!("{}: {value:?} is not a date-time", p.name)))?;
        let zone = match p.param("TZID").filter(|t| !t.trim().is_empty()) {
            Some(tzid) => self.resolve(tzid).ok_or_else(|| {
                invalid(
                    p.line,
                    format!(
                        "unknown time zone {tzid:?} (not an IANA name and not defined in the file)"
                    ),
                )
            })?,
            None => Zone::Iana(self.floating.ok_or(ScheduleError::NoTimeZone)?),
        };
        let at = match zone {
            Zone::Iana(tz) => super::local_to_utc(tz, local),
            Zone::Rules(rules) => {
                let offset = rules
                    .iter()
                    .filter_map(|(onset, to)| onset.latest_before(local).map(|at| (at, *to)))
                    .max_by_key(|(at, _)| *at)
                    .or_else(|| {
                        rules
                            .iter()
                            .map(|(o, to)| (o.start, *to))
                            .min_by_key(|(at, _)| *at)
                    })
                    .map_or(0, |(_, to)| to);
                (local - Duration::seconds(i64::from(offset))).and_utc()
            }
        };
        Ok(Instant { at, all_day: false })
    }
}

/// `PT1H30M`, `P1D`, `-PT15M`, `P1W`.
fn parse_duration(text: &str, line: usize) -> Result<Duration, ScheduleError> {
    let bad = || {
        invalid(
            line,
            format!("DURATION {text:?} is not an ISO 8601 duration"),
        )
    };
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = t.strip_prefix('P').ok_or_else(bad)?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    for c in t.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => number.push(c),
            unit => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return Err(bad()),
                };
            }
        }
    }
    Ok(if negative { -total } else { total })
}

/// `at` moved by `n` steps of `days` days; `None` off the calendar.
fn shift(at: NaiveDateTime, n: i64, days: i64) -> Option<NaiveDateTime> {
    n.checked_mul(days)
        .and_then(Duration::try_days)
        .and_then(|d| at.checked_add_signed(d))
}

/// Start times of a recurring event, in the event's own local time arithmetic (so a weekly 10:00
/// stays at 10:00 across a DST change).
fn expand(
    rule: &Property,
    first: DateTime<Utc>,
    zone: Tz,
) -> Result<(Vec<DateTime<Utc>>, bool), ScheduleError> {
    let parts = rule_parts(&rule.value);
    for key in parts.keys() {
        if !matches!(
            key.as_str(),
            "FREQ" | "INTERVAL" | "COUNT" | "UNTIL" | "BYDAY" | "BYMONTH" | "WKST"
        ) {
            return Err(invalid(
                rule.line,
                format!("RRULE part {key} is not supported; split the series into single events"),
            ));
        }
    }
    let interval: i64 = parts
        .get("INTERVAL")
        .map_or(Ok(1), |v| v.parse())
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            invalid(
                rule.line,
                "RRULE INTERVAL must be a whole number of 1 or more",
            )
        })?;
    let count: Option<usize> = match parts.get("COUNT") {
        Some(v) => Some(
            v.parse()
                .map_err(|_| invalid(rule.line, "RRULE COUNT is not a number"))?,
        ),
        None => None,
    };
    let until = match parts.get("UNTIL") {
        Some(v) if v.len() == 8 => NaiveDate::parse_from_str(v, "%Y%m%d").ok().map(|d| {
            d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
                .and_utc()
        }),
        Some(v) => parse_local(v.trim_end_matches('Z')).map(|l| {
            if v.ends_with('Z') {
                l.and_utc()
            } else {
                super::local_to_utc(zone, l)
            }
        }),
        None => None,
    };
    // BYDAY items: an optional ordinal (2TU: the second Tuesday; -1FR: the last Friday) and a weekday.
    let by_day: Vec<(Option<i8>, Weekday)> = match parts.get("BYDAY") {
        Some(v) => {
            v.split(',')
                .map(|item| {
                    let item = item.trim();
                    let (ordinal, code) = item.split_at(item.len().saturating_sub(2));
                    let day = weekday(code).ok_or_else(|| {
                        invalid(rule.line, format!("RRULE BYDAY {item:?} is not a weekday"))
                    })?;
                    let ordinal =
                        match ordinal.trim() {
                            "" => None,
                            n => Some(n.trim_start_matches('+').parse::<i8>().map_err(|_| {
                                invalid(rule.line, format!("RRULE BYDAY {item:?}"))
                            })?),
                        };
                    Ok((ordinal, day))
                })
                .collect::<Result<_, ScheduleError>>()?
        }
        None => Vec::new(),
    };
    let by_month: Vec<u32> = match parts.get("BYMONTH") {
        Some(v) => v
            .split(',')
            .map(|m| {
                m.trim()
                    .parse()
                    .map_err(|_| invalid(rule.line, format!("RRULE BYMONTH {m:?}")))
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    // The days of one month that BYDAY selects (all when empty: the start's day of the month).
    let days_in = |year: i32, month: u32, day: u32| -> Vec<NaiveDate> {
        if by_day.is_empty() {
            return NaiveDate::from_ymd_opt(year, month, day)
                .into_iter()
                .collect();
        }
        let mut out: Vec<NaiveDate> = Vec::new();
        for (ordinal, wd) in &by_day {
            match ordinal {
                Some(n) => out.extend(nth_weekday(year, month, *n, *wd)),
                None => out.extend(
                    (1..=5)
                        .filter_map(|n| NaiveDate::from_weekday_of_month_opt(year, month, *wd, n)),
                ),
            }
        }
        out.sort();
        out.dedup();
        out
    };
    let local_first = first.with_timezone(&zone).naive_local();
    let horizon = shift(local_first, 3 * 366, 1).unwrap_or(NaiveDateTime::MAX);
    let mut out = Vec::new();
    let push = |local: NaiveDateTime, out: &mut Vec<DateTime<Utc>>| {
        let at = super::local_to_utc(zone, local);
        if at >= first && until.is_none_or(|u| at <= u) {
            out.push(at);
        }
    };
    let freq = parts.get("FREQ").map(String::as_str).unwrap_or_default();
    let mut period = 0i64;
    // Every step is checked: a series that runs off the calendar ends there instead of overflowing.
    while let Some(step) = period.checked_mul(interval) {
        let candidates: Vec<NaiveDateTime> = match freq {
            "DAILY" => match shift(local_first, step, 1) {
                Some(at) => vec![at],
                None => break,
            },
            "WEEKLY" if by_day.is_empty() => match shift(local_first, step, 7) {
                Some(at) => vec![at],
                None => break,
            },
            "WEEKLY" => {
                let week_start = local_first
                    - Duration::days(i64::from(local_first.weekday().num_days_from_monday()));
                let Some(week) = shift(week_start, step, 7) else {
                    break;
                };
                let mut days: Vec<NaiveDateTime> = by_day
                    .iter()
                    .filter_map(|(_, d)| shift(week, i64::from(d.num_days_from_monday()), 1))
                    .collect();
                days.sort();
                days
            }
            "MONTHLY" => {
                let Some(months) = i64::from(local_first.month0()).checked_add(step) else {
                    break;
                };
                let Some(year) = i32::try_from(months / 12)
                    .ok()
                    .and_then(|y| local_first.year().checked_add(y))
                else {
                    break;
                };
                let (year, month) = (year, (months % 12) as u32 + 1);
                if !by_month.is_empty() && !by_month.contains(&month) {
                    Vec::new()
                } else {
                    days_in(year, month, local_first.day())
                        .into_iter()
                        .map(|d| d.and_time(local_first.time()))
                        .collect()
                }
            }
            "YEARLY" => {
                let Some(year) = i32::try_from(step)
                    .ok()
                    .and_then(|y| local_first.year().checked_add(y))
                else {
                    break;
                };
                let months = if by_month.is_empty() {
                    vec![local_first.month()]
                } else {
                    by_month.clone()
                };
                months
                    .into_iter()
                    .flat_map(|m| days_in(year, m, local_first.day()))
                    .map(|d| d.and_time(local_first.time()))
                    .collect()
            }
            other => {
                return Err(invalid(
                    rule.line,
                    format!("RRULE FREQ={other} is not supported"),
                ));
            }
        };
        if candidates.iter().all(|c| *c > horizon) || out.len() >= MAX_INSTANCES {
            break;
        }
        for c in candidates {
            if count.is_some_and(|n| out.len() >= n) {
                break;
            }
            push(c, &mut out);
        }
        if count.is_some_and(|n| out.len() >= n)
            || until.is_some_and(|u| out.last().is_some_and(|l| *l >= u))
        {
            break;
        }
        if until.is_some_and(|u| {
            shift(local_first, step, 1).is_none_or(|at| super::local_to_utc(zone, at) > u)
        }) {
            break;
        }
        period += 1;
    }
    let capped = out.len() >= MAX_INSTANCES || (count.is_none() && until.is_none());
    Ok((out, capped))
}

pub fn parse(text: &str, zone: Option<Tz>) -> Result<Schedule, ScheduleError> {
    let calendars = components(content_lines(text)?)?;
    let declared = calendars
        .iter()
        .find_map(|c| c.get("X-WR-TIMEZONE"))
        .and_then(|p| p.value.trim().parse::<Tz>().ok());
    let floating = zone.or(declared);
    let mut known = HashMap::new();
    for cal in &calendars {
        for tz in cal.children.iter().filter(|c| c.name == "VTIMEZONE") {
            if let (Some(id), Some(z)) = (tz.get("TZID"), zone_from_vtimezone(tz)) {
                // An IANA name wins over the file's own rules for it: the tz database is the better source.
                let z = match id.value.trim().parse::<Tz>() {
                    Ok(iana) => Zone::Iana(iana),
                    Err(_) => z,
                };
                known.insert(id.value.trim().to_owned(), z);
            }
        }
    }
    let zones = Zones { known, floating };

    // Overrides (RECURRENCE-ID) by (UID, original start); masters and single events in order.
    let mut overrides: HashMap<(String, DateTime<Utc>), (&Component, bool)> = HashMap::new();
    let mut masters: Vec<(&Component, bool)> = Vec::new();
    for cal in &calendars {
        let cancel_all = cal
            .get("METHOD")
            .is_some_and(|m| m.value.trim().eq_ignore_ascii_case("CANCEL"));
        for ev in cal.children.iter().filter(|c| c.name == "VEVENT") {
            match ev.get("RECURRENCE-ID") {
                Some(rid) => {
                    let uid = ev
                        .get("UID")
                        .map(|p| p.value.trim().to_owned())
                        .unwrap_or_default();
                    overrides.insert((uid, zones.instant(rid)?.at), (ev, cancel_all));
                }
                None => masters.push((ev, cancel_all)),
            }
        }
    }

    // iTIP cancellations (METHOD:CANCEL, or STATUS:CANCELLED without a time) cancel every instance of
    // their UID, wherever the event itself was defined.
    let cancelled_uids: std::collections::HashSet<String> = masters
        .iter()
        .filter(|(ev, method)| {
            *method
                || (ev.get("DTSTART").is_none()
                    && ev
                        .get("STATUS")
                        .is_some_and(|s| s.value.trim().eq_ignore_ascii_case("CANCELLED")))
        })
        .filter_map(|(ev, _)| ev.get("UID").map(|u| u.value.trim().to_owned()))
        .collect();
    let mut sessions = Vec::new();
    let mut notes = Vec::new();
    for (ev, cancel_all) in masters {
        let cancel_all = cancel_all
            || ev
                .get("UID")
                .is_some_and(|u| cancelled_uids.contains(u.value.trim()));
        let uid = ev
            .get("UID")
            .map(|p| p.value.trim().to_owned())
            .filter(|u| !u.is_empty());
        let Some(dtstart) = ev.get("DTSTART") else {
            if !cancelled_uids.contains(ev.get("UID").map(|u| u.value.trim()).unwrap_or_default()) {
                notes.push(format!(
                    "line {}: an event without DTSTART was skipped",
                    ev.line
                ));
            }
            continue;
        };
        let start = zones.instant(dtstart)?;
        let length = match (ev.get("DTEND"), ev.get("DURATION")) {
            (Some(end), _) => zones.instant(end)?.at - start.at,
            (None, Some(d)) => parse_duration(&d.value, d.line)?,
            (None, None) if start.all_day => Duration::days(1),
            (None, None) => Duration::zero(),
        };
        if length < Duration::zero() {
            notes.push(format!(
                "line {}: an event ends before it starts; its end was set to its start",
                ev.line
            ));
        }
        let length = length.max(Duration::zero());
        let mut starts = vec![start.at];
        if let Some(rule) = ev.get("RRULE") {
            let tz = match dtstart.param("TZID").and_then(|t| zones.resolve(t)) {
                Some(Zone::Iana(tz)) => tz,
                _ => zones.floating.unwrap_or(chrono_tz::UTC),
            };
            let (instances, capped) = expand(rule, start.at, tz)?;
            if capped {
                notes.push(format!(
                    "line {}: a series without an end was read for three years ({} instances)",
                    rule.line,
                    instances.len()
                ));
            }
            starts = instances;
        }
        for rdate in ev.all("RDATE") {
            for value in rdate.value.split(',') {
                // RDATE;VALUE=PERIOD gives start/end; the start is what counts here.
                let single = Property {
                    value: value.split('/').next().unwrap_or(value).to_owned(),
                    ..rdate.clone()
                };
                let at = zones.instant(&single)?.at;
                if !starts.contains(&at) {
                    starts.push(at);
                }
            }
        }
        for exdate in ev.all("EXDATE") {
            for value in exdate.value.split(',') {
                let single = Property {
                    value: value.to_owned(),
                    ..exdate.clone()
                };
                let at = zones.instant(&single)?.at;
                starts.retain(|s| *s != at);
            }
        }
        starts.sort();
        if sessions.len() + starts.len() > super::MAX_SESSIONS {
            return Err(super::too_many_sessions());
        }
        let recurring = starts.len() > 1 || ev.get("RRULE").is_some();
        for original in starts {
            let key = (uid.clone().unwrap_or_default(), original);
            let (source, cancelled_by_method, instance_start, instance_length) =
                match overrides.remove(&key) {
                    Some((o, method)) => {
                        let s = match o.get("DTSTART") {
                            Some(p) => zones.instant(p)?.at,
                            None => original,
                        };
                        let l = match (o.get("DTEND"), o.get("DURATION")) {
                            (Some(e), _) => zones.instant(e)?.at - s,
                            (None, Some(d)) => parse_duration(&d.value, d.line)?,
                            _ => length,
                        };
                        (o, method, s, l.max(Duration::zero()))
                    }
                    None => (ev, cancel_all, original, length),
                };
            let text = |name: &str| {
                source
                    .get(name)
                    .or_else(|| ev.get(name))
                    .map(|p| unescape(p.value.trim()))
                    .filter(|s| !s.is_empty())
            };
            let status_cancelled = source
                .get("STATUS")
                .is_some_and(|s| s.value.trim().eq_ignore_ascii_case("CANCELLED"));
            let source_id = match (&uid, recurring) {
                (Some(uid), true) => format!("{uid}#{}", original.format("%Y%m%dT%H%M%SZ")),
                (Some(uid), false) => uid.clone(),
                (None, _) => format!("line-{}#{}", ev.line, original.timestamp()),
            };
            sessions.push(Session {
                source_id,
                title: text("SUMMARY").unwrap_or_else(|| "(untitled)".into()),
                track: text("CATEGORIES")
                    .map(|c| c.split(',').next().unwrap_or_default().trim().to_owned()),
                room: text("LOCATION"),
                start: instance_start,
                end: instance_start + instance_length,
                speakers: Vec::new(),
                status: if status_cancelled || cancelled_by_method {
                    Status::Cancelled
                } else {
                    Status::Confirmed
                },
                url: text("URL"),
            });
        }
    }
    // Overrides whose original instance the rule did not produce (moved beyond the rule, or of events
    // whose master is missing) stand on their own.
    let mut orphans: Vec<_> = overrides.into_iter().collect();
    orphans.sort_by_key(|((uid, at), _)| (uid.clone(), *at));
    for ((uid, original), (o, method)) in orphans {
        let Some(dtstart) = o.get("DTSTART") else {
            continue;
        };
        let start = zones.instant(dtstart)?.at;
        let end = match o.get("DTEND") {
            Some(e) => zones.instant(e)?.at,
            None => start,
        };
        let cancelled = method
            || o.get("STATUS")
                .is_some_and(|s| s.value.trim().eq_ignore_ascii_case("CANCELLED"));
        sessions.push(Session {
            source_id: format!("{uid}#{}", original.format("%Y%m%dT%H%M%SZ")),
            title: o
                .get("SUMMARY")
                .map(|p| unescape(p.value.trim()))
                .unwrap_or_else(|| "(untitled)".into()),
            track: None,
            room: o
                .get("LOCATION")
                .map(|p| unescape(p.value.trim()))
                .filter(|s| !s.is_empty()),
            start,
            end: end.max(start),
            speakers: Vec::new(),
            status: if cancelled {
                Status::Cancelled
            } else {
                Status::Confirmed
            },
            url: None,
        });
    }
    sessions.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.source_id.cmp(&b.source_id))
    });
    let title = calendars
        .iter()
        .find_map(|c| c.get("X-WR-CALNAME"))
        .map(|p| unescape(p.value.trim()));
    let tz_for_dates = floating.unwrap_or(chrono_tz::UTC);
    Ok(Schedule {
        title,
        acronym: None,
        time_zone: floating,
        starts_on: sessions
            .iter()
            .map(|s| s.start.with_timezone(&tz_for_dates).date_naive())
            .min(),
        ends_on: sessions
            .iter()
            .map(|s| s.end.with_timezone(&tz_for_dates).date_naive())
            .max(),
        sessions,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_and_escapes_are_read() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270206T090000Z\r\nDTEND:20270206T100000Z\r\nSUMMARY:Rust\\, Zig\r\n  and more\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let s = parse(text, None).expect("parses");
        assert_eq!(s.sessions[0].title, "Rust, Zig and more");
    }

    #[test]
    fn nth_weekdays_follow_the_rule() {
        assert_eq!(
            nth_weekday(2027, 3, -1, Weekday::Sun),
            NaiveDate::from_ymd_opt(2027, 3, 28)
        );
        assert_eq!(
            nth_weekday(2027, 3, 2, Weekday::Sun),
            NaiveDate::from_ymd_opt(2027, 3, 14)
        );
    }

    #[test]
    fn durations_read() {
        assert_eq!(
            parse_duration("PT1H30M", 1).expect("ok"),
            Duration::minutes(90)
        );
        assert_eq!(parse_duration("P1W", 1).expect("ok"), Duration::weeks(1));
        assert!(parse_duration("1H", 1).is_err());
    }
}
