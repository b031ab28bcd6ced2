//! `herald import schedule|sponsors|slots` and `herald schedule show`.

use std::{io::Read, path::Path};

use anyhow::{Context, bail};
use herald_commands::{LocalDateTime, PersonRef};

use super::open;
use crate::{
    clock::SharedClock,
    config::Config,
    db::{Db, conferences, people},
    schedule::source::check,
};

/// `herald import schedule`.
pub async fn schedule(
    config: &Config,
    conference: &str,
    tz: Option<String>,
    source: &str,
) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    let text = crate::schedule::source::read_source(source).await?;
    let templates = crate::templates::Templates::new();
    let (conference, summary) = crate::schedule::source::import_schedule(
        &db,
        &clock,
        &templates,
        conference,
        &text,
        tz.as_deref(),
    )
    .await?;
    println!(
        "{}: {} added, {} moved, {} changed, {} cancelled, {} removed, {} unchanged; {} reminder(s), {} notice(s)",
        conference.slug,
        summary.added,
        summary.moved,
        summary.changed,
        summary.cancelled,
        summary.removed,
        summary.unchanged,
        summary.reminders,
        summary.notices
    );
    for note in &summary.notes {
        println!("note: {note}");
    }
    Ok(())
}

/// `herald import sponsors`.
pub async fn sponsors(config: &Config, conference: &str, file: &Path) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .with_context(|| format!("Failed to open {}", file.display()))?,
        )
    };
    let n = import_sponsors(&db, &clock, conference, input).await?;
    println!("{n} sponsors imported into {conference}");
    Ok(())
}

/// `herald import slots`.
pub async fn slots(config: &Config, conference: &str, file: &Path) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    let templates = crate::templates::Templates::new();
    let (slots, assigned) = if file.as_os_str() == "-" {
        import_slots(&db, &clock, &templates, conference, std::io::stdin().lock()).await?
    } else {
        let input = std::fs::File::open(file)
            .with_context(|| format!("Failed to open {}", file.display()))?;
        import_slots(&db, &clock, &templates, conference, input).await?
    };
    println!("{conference}: {slots} shift(s) imported, {assigned} assigned");
    Ok(())
}

/// `herald schedule show`.
pub async fn show(config: &Config, conference: &str, json: bool) -> anyhow::Result<()> {
    let (db, _clock) = open(config).await?;
    let rows = schedule_rows(&db, conference).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in rows {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.id,
                r.title,
                r.track.unwrap_or_default(),
                r.room.unwrap_or_default(),
                r.start,
                r.end,
                r.speakers.join(", "),
                r.status
            );
        }
    }
    Ok(())
}

/// One stored session as `herald schedule show` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScheduleRow {
    pub id: String,
    pub title: String,
    pub track: Option<String>,
    pub room: Option<String>,
    /// Local start in the conference's time zone, ISO 8601 with offset.
    pub start: String,
    pub end: String,
    pub speakers: Vec<String>,
    pub status: String,
}

pub async fn schedule_rows(db: &Db, slug: &str) -> anyhow::Result<Vec<ScheduleRow>> {
    let mut tx = db.begin().await?;
    let conference = conferences::conference_by_slug(&mut tx, slug)
        .await?
        .with_context(|| format!("there is no conference {slug}; see `herald conference list`"))?;
    let zone: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let sessions = crate::db::schedule::sessions(&mut tx, conference.id).await?;
    tx.commit().await?;
    Ok(sessions
        .into_iter()
        .map(|s| {
            let speakers: Vec<crate::schedule::Speaker> =
                serde_json::from_str(&s.speakers).unwrap_or_default();
            ScheduleRow {
                id: s.source_id,
                title: s.title,
                track: s.track,
                room: s.room,
                start: s.starts_at.with_timezone(&zone).to_rfc3339(),
                end: s.ends_at.with_timezone(&zone).to_rfc3339(),
                speakers: speakers.into_iter().map(|p| p.name).collect(),
                status: s.status,
            }
        })
        .collect())
}

/// Imports sponsors from CSV with a header row: `name`, `level`, `url`, and any other column is a network
/// whose handle the sponsor has there (`mastodon`, `bluesky`, …; empty cells are no handle). A sponsor of the
/// same name is updated. All rows or none; a bad row is named by its line.
pub async fn import_sponsors(
    db: &Db,
    clock: &SharedClock,
    slug: &str,
    input: impl Read,
) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let conference = conferences::conference_by_slug(&mut tx, slug)
        .await?
        .with_context(|| format!("there is no conference {slug}; see `herald conference list`"))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .context("the sponsors file has no header row (name,level,url,…)")?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(name_at), Some(level_at)) = (column("name"), column("level")) else {
        anyhow::bail!(
            "the sponsors file needs name and level columns; it has {}",
            headers.join(",")
        );
    };
    let url_at = column("url");
    let mut count = 0;
    for (n, row) in reader.records().enumerate() {
        let line = n + 2;
        let row = row.with_context(|| format!("line {line} is not CSV"))?;
        let field = |i: usize| row.get(i).filter(|v| !v.is_empty());
        let (Some(name), Some(level)) = (field(name_at), field(level_at)) else {
            anyhow::bail!("line {line}: a sponsor needs a name and a level");
        };
        let url = url_at.and_then(field);
        if let Some(url) = url {
            herald_commands::args::http_url(url)
                .map_err(|_| anyhow::anyhow!("line {line}: {url} is not an http(s) address"))?;
        }
        let handles: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .enumerate()
            .filter(|(i, h)| *i != name_at && *i != level_at && Some(*i) != url_at && !h.is_empty())
            .filter_map(|(i, h)| field(i).map(|v| (h.clone(), serde_json::Value::from(v))))
            .collect();
        crate::db::sponsors::upsert(
            &mut tx,
            clock.now(),
            conference.id,
            name,
            level,
            url,
            &serde_json::Value::Object(handles),
        )
        .await?;
        count += 1;
    }
    tx.commit().await?;
    Ok(count)
}

/// Imports volunteer shifts from CSV rows `title,start,end[,volunteer]` (local `YYYY-MM-DDTHH:MM`; the
/// volunteer as `@username` or numeric Telegram id, optional). All rows or none; an error names the row.
pub async fn import_slots(
    db: &Db,
    clock: &SharedClock,
    templates: &crate::templates::Templates,
    slug: &str,
    input: impl Read,
) -> anyhow::Result<(usize, usize)> {
    let mut tx = db.begin().await?;
    let conference = conferences::conference_by_slug(&mut tx, slug)
        .await?
        .with_context(|| format!("there is no conference {slug}; see `herald conference list`"))?;
    let zone: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let mut text = String::new();
    let mut input = input;
    input
        .read_to_string(&mut text)
        .context("Failed to read the shifts")?;
    // An iCalendar file: each (non-cancelled) event is a shift; volunteers are given them in chat.
    if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with("BEGIN:VCALENDAR")
    {
        let schedule = crate::schedule::ics::parse(&text, Some(zone))?;
        let mut slots = 0;
        for s in schedule
            .sessions
            .iter()
            .filter(|s| s.status == crate::schedule::Status::Confirmed && s.end > s.start)
        {
            crate::db::schedule::add_slot(
                &mut tx,
                clock.now(),
                conference.id,
                &s.title,
                s.start,
                s.end,
            )
            .await?;
            slots += 1;
        }
        tx.commit().await?;
        return Ok((slots, 0));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let (mut slots, mut assigned) = (0, 0);
    for (n, record) in reader.records().enumerate() {
        let row = n + 1;
        let record = record.with_context(|| format!("CSV row {row} is unreadable"))?;
        let field = |i: usize| record.get(i).unwrap_or_default();
        if row == 1 && field(0).eq_ignore_ascii_case("title") {
            continue;
        }
        if field(0).is_empty() {
            continue;
        }
        let start = check(
            &format!("row {row}: start"),
            field(1),
            LocalDateTime::parse(field(1)),
        )?;
        let end = check(
            &format!("row {row}: end"),
            field(2),
            LocalDateTime::parse(field(2)),
        )?;
        if end <= start {
            bail!("row {row}: the shift ends before it starts");
        }
        let (starts_at, ends_at) = (
            crate::schedule::local_to_utc(zone, start.date_time()),
            crate::schedule::local_to_utc(zone, end.date_time()),
        );
        let id = crate::db::schedule::add_slot(
            &mut tx,
            clock.now(),
            conference.id,
            field(0),
            starts_at,
            ends_at,
        )
        .await?;
        slots += 1;
        if !field(3).is_empty() {
            let who = check(
                &format!("row {row}: volunteer"),
                field(3),
                PersonRef::parse(field(3)),
            )?;
            let person = match &who {
                PersonRef::Username(name) => people::people_by_username(&mut tx, "telegram", name)
                    .await?
                    .into_iter()
                    .next(),
                PersonRef::Id(id) => {
                    people::person_by_user_id(&mut tx, "telegram", &id.to_string()).await?
                }
            };
            let person = person.with_context(|| {
                format!(
                    "row {row}: nobody called {} has linked their Telegram",
                    field(3)
                )
            })?;
            crate::db::schedule::assign_slot(&mut tx, clock.now(), id, person.id).await?;
            assigned += 1;
        }
    }
    crate::schedule::import::recompute_personal(&mut tx, templates, clock.now(), &conference, None)
        .await?;
    tx.commit().await?;
    Ok((slots, assigned))
}
