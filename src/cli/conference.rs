//! `herald conference add|list|set`: the same as /conference in chat.

use anyhow::{Context, bail};
use chrono::NaiveTime;
use herald_commands::{LocalDate, LocalTime, PostingPolicy, Slug, TimeZoneName};

use super::{ConferenceCommand, open};
use crate::{
    clock::SharedClock,
    config::Config,
    db::{
        Db,
        conferences::{self, Conference, NewConference},
    },
    schedule::source::check,
};

/// Runs one `herald conference` command.
pub async fn command(config: &Config, command: ConferenceCommand) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    match command {
        ConferenceCommand::Add {
            slug,
            name,
            tz,
            start,
            end,
        } => {
            let args = ConferenceArgs {
                slug,
                name,
                time_zone: tz,
                starts_on: start,
                ends_on: end,
            };
            print_conference(&conference_add(&db, &clock, &args).await?);
        }
        ConferenceCommand::List => {
            for c in conference_list(&db).await? {
                print_conference(&c);
            }
        }
        ConferenceCommand::Set {
            slug,
            name,
            tz,
            start,
            end,
            policy,
            window,
        } => {
            let changes = ConferenceChanges {
                name,
                time_zone: tz,
                starts_on: start,
                ends_on: end,
                policy,
                window,
            };
            print_conference(&conference_set(&db, &clock, &slug, &changes).await?);
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ConferenceArgs {
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub starts_on: String,
    pub ends_on: String,
}

pub async fn conference_add(
    db: &Db,
    clock: &SharedClock,
    args: &ConferenceArgs,
) -> anyhow::Result<Conference> {
    let slug = check("slug", &args.slug, Slug::parse(&args.slug))?;
    let tz = check(
        "time zone",
        &args.time_zone,
        TimeZoneName::parse(&args.time_zone),
    )?;
    let starts = check(
        "start date",
        &args.starts_on,
        LocalDate::parse(&args.starts_on),
    )?;
    let ends = check("end date", &args.ends_on, LocalDate::parse(&args.ends_on))?;
    if ends.date() < starts.date() {
        bail!(
            "the end date {} is before the start date {}",
            args.ends_on,
            args.starts_on
        );
    }
    if args.name.trim().is_empty() {
        bail!("the conference needs a name");
    }
    let mut tx = db.begin().await?;
    let new = NewConference {
        slug: slug.as_str(),
        name: args.name.trim(),
        time_zone: tz.name(),
        starts_on: starts.date(),
        ends_on: ends.date(),
    };
    let Some(id) = conferences::create_conference(&mut tx, clock.now(), &new).await? else {
        bail!(
            "a conference with the slug {} already exists",
            slug.as_str()
        );
    };
    let conference = conferences::conference_by_id(&mut tx, id)
        .await?
        .context("conference vanished")?;
    tx.commit().await?;
    Ok(conference)
}

pub async fn conference_list(db: &Db) -> anyhow::Result<Vec<Conference>> {
    let mut tx = db.begin().await?;
    let all = conferences::conferences(&mut tx).await?;
    tx.commit().await?;
    Ok(all)
}

#[derive(Debug, Clone, Default)]
pub struct ConferenceChanges {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub policy: Option<String>,
    /// `HH:MM-HH:MM` or `off`.
    pub window: Option<String>,
}

pub async fn conference_set(
    db: &Db,
    clock: &SharedClock,
    slug: &str,
    c: &ConferenceChanges,
) -> anyhow::Result<Conference> {
    let mut tx = db.begin().await?;
    let conference = conferences::conference_by_slug(&mut tx, slug)
        .await?
        .with_context(|| format!("there is no conference {slug}; see `herald conference list`"))?;
    let tz = match &c.time_zone {
        Some(t) => Some(check("time zone", t, TimeZoneName::parse(t))?.name()),
        None => None,
    };
    let dates = match (&c.starts_on, &c.ends_on) {
        (None, None) => None,
        (s, e) => {
            let s = match s {
                Some(s) => check("start date", s, LocalDate::parse(s))?.date(),
                None => conference
                    .starts_on
                    .context("the conference has no start date; give --start too")?,
            };
            let e = match e {
                Some(e) => check("end date", e, LocalDate::parse(e))?.date(),
                None => conference
                    .ends_on
                    .context("the conference has no end date; give --end too")?,
            };
            if e < s {
                bail!("the end date {e} is before the start date {s}");
            }
            Some((s, e))
        }
    };
    conferences::set_conference_fields(
        &mut tx,
        clock.now(),
        conference.id,
        c.name.as_deref(),
        tz,
        dates,
    )
    .await?;
    if let Some(p) = &c.policy {
        let policy = check("posting policy", p, PostingPolicy::parse(p))?;
        conferences::set_policy(
            &mut tx,
            clock.now(),
            conference.id,
            i64::from(policy.level()),
        )
        .await?;
    }
    if let Some(w) = &c.window {
        let window: Option<(NaiveTime, NaiveTime)> = if w.eq_ignore_ascii_case("off") {
            None
        } else {
            let (a, b) = w
                .split_once('-')
                .with_context(|| format!("window {w:?} is not HH:MM-HH:MM or off"))?;
            let a = check("window start", a, LocalTime::parse(a.trim()))?;
            let b = check("window end", b, LocalTime::parse(b.trim()))?;
            if a == b {
                bail!("the window must not start and end at the same time");
            }
            Some((a.time(), b.time()))
        };
        conferences::set_window(&mut tx, clock.now(), conference.id, window).await?;
    }
    let updated = conferences::conference_by_id(&mut tx, conference.id)
        .await?
        .context("conference vanished")?;
    tx.commit().await?;
    Ok(updated)
}

fn print_conference(c: &Conference) {
    let window = match (c.posting_window_start, c.posting_window_end) {
        (Some(a), Some(b)) => format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")),
        _ => "off".into(),
    };
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
    println!(
        "{}\t{}\t{}\t{} to {}\tpolicy {}\twindow {}",
        c.slug,
        c.name,
        c.time_zone,
        day(c.starts_on),
        day(c.ends_on),
        c.posting_policy,
        window
    );
}
