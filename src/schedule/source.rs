//! Where a schedule comes from: a file or an address, read as text, and imported into a conference —
//! created from the file's own title, dates and time zone when its slug is new. Used by
//! `herald import schedule`, `/import` and the periodic sync alike.

use anyhow::{Context, bail};
use herald_commands::{Slug, TimeZoneName};

use crate::{
    clock::SharedClock,
    db::{
        Db,
        conferences::{self, Conference, NewConference},
    },
};

/// A value checked with the chat grammar's own type, or an error naming what was expected.
pub fn check<T>(
    what: &str,
    value: &str,
    parsed: Result<T, herald_commands::InvalidValue>,
) -> anyhow::Result<T> {
    parsed.map_err(|e| anyhow::anyhow!("{what} {value:?} is not {}", e.expected))
}

/// Reads a schedule from a file path or an http(s) URL.
/// Errors name the address with its credentials redacted.
pub async fn read_source(source: &str) -> anyhow::Result<String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let shown = crate::token::redact_url(source);
        let response = reqwest::get(source)
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("Failed to fetch {shown}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("fetching {shown} answered {status}");
        }
        return response
            .text()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("Failed to read {shown}"));
    }
    std::fs::read_to_string(source).with_context(|| format!("Failed to read {source}"))
}

/// Imports a schedule into the conference `slug`, creating it from the file's own metadata (title,
/// dates, time zone) when the slug is new. A file that cannot be read changes nothing.
pub async fn import_schedule(
    db: &Db,
    clock: &SharedClock,
    templates: &crate::templates::Templates,
    slug: &str,
    text: &str,
    tz: Option<&str>,
) -> anyhow::Result<(Conference, crate::schedule::import::Summary)> {
    let slug = check("slug", slug, Slug::parse(slug))?;
    let given = match tz {
        Some(t) => Some(check("time zone", t, TimeZoneName::parse(t))?.tz()),
        None => None,
    };
    // Parsing can take seconds for a large file: it happens outside any transaction, so the database
    // stays free for everything else meanwhile; the time zone comes from a short read before.
    let known_zone = {
        let mut tx = db.begin().await?;
        let existing = conferences::conference_by_slug(&mut tx, slug.as_str()).await?;
        tx.commit().await?;
        existing.and_then(|c| c.time_zone.parse().ok())
    };
    let zone = given.or(known_zone);
    let text = text.to_owned();
    let schedule = tokio::task::spawn_blocking(move || crate::schedule::parse(&text, zone))
        .await
        .context("reading the schedule stopped")??;
    let mut tx = db.begin().await?;
    let existing = conferences::conference_by_slug(&mut tx, slug.as_str()).await?;
    let conference = match existing {
        Some(c) => c,
        None => {
            let zone = schedule
                .time_zone
                .context("the file has no time zone: pass --tz")?;
            let first = schedule
                .sessions
                .iter()
                .map(|s| s.start.with_timezone(&zone).date_naive())
                .min();
            let last = schedule
                .sessions
                .iter()
                .map(|s| s.end.with_timezone(&zone).date_naive())
                .max();
            let starts_on = schedule
                .starts_on
                .or(first)
                .context("the file says nothing about dates")?;
            let ends_on = schedule.ends_on.or(last).unwrap_or(starts_on);
            let name = schedule
                .title
                .clone()
                .unwrap_or_else(|| slug.as_str().to_owned());
            let new = NewConference {
                slug: slug.as_str(),
                name: &name,
                time_zone: zone.name(),
                starts_on,
                ends_on,
            };
            let id = conferences::create_conference(&mut tx, clock.now(), &new)
                .await?
                .context("conference slug taken")?;
            conferences::conference_by_id(&mut tx, id)
                .await?
                .context("conference vanished")?
        }
    };
    tx.commit().await?;
    let summary =
        crate::schedule::import::import(db, templates, clock.now(), &conference, &schedule).await?;
    Ok((conference, summary))
}
