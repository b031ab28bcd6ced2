//! Command-line administration: the same setup as in chat, scriptable for first runs and automation.
//! Arguments are checked with the chat grammar's own types, so both surfaces accept the same values.

use std::io::{Read, Write};

use anyhow::{Context, bail};
use chrono::NaiveTime;
use herald_bots::telegram::TelegramClient;
use herald_commands::{
    LocalDate, LocalDateTime, LocalTime, PersonRef, PostingPolicy, Role, Slug, TimeZoneName,
};

use crate::{
    chat::{BotInfo, telegram::USERNAME_KEY},
    clock::SharedClock,
    db::{
        Db,
        chat::{self, Conference, NewConference},
    },
    links::{self, NewLinkTokenSpec},
    schedule::source::check,
};

/// How links made on the command line open Herald: the Telegram bot when it is configured (its username
/// learnt as [`bot_username`] does), the web chat at `web` otherwise.
pub async fn links_to(
    db: &Db,
    clock: &SharedClock,
    telegram: Option<&TelegramClient>,
    web: url::Url,
) -> anyhow::Result<BotInfo> {
    let username = match telegram {
        Some(client) => Some(bot_username(db, clock, Some(client)).await?),
        None => None,
    };
    Ok(BotInfo::new(username, None, web))
}

/// The bot's username: as learnt by a running Herald, or asked from Telegram now.
pub async fn bot_username(
    db: &Db,
    clock: &SharedClock,
    telegram: Option<&TelegramClient>,
) -> anyhow::Result<String> {
    let mut tx = db.begin().await?;
    let known = chat::get_system(&mut tx, USERNAME_KEY).await?;
    tx.commit().await?;
    if let Some(name) = known {
        return Ok(name);
    }
    let Some(client) = telegram else {
        bail!(
            "the bot's username is unknown: set HERALD_TELEGRAM_TOKEN (and run `herald run` once, or let this command ask Telegram)"
        );
    };
    let me = client
        .get_me()
        .await
        .context("Failed to ask Telegram who the bot is (getMe)")?;
    let mut tx = db.begin().await?;
    chat::set_system(&mut tx, clock.now(), USERNAME_KEY, &me.username).await?;
    tx.commit().await?;
    Ok(me.username)
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
    let Some(id) = chat::create_conference(&mut tx, clock.now(), &new).await? else {
        bail!(
            "a conference with the slug {} already exists",
            slug.as_str()
        );
    };
    let conference = chat::conference_by_id(&mut tx, id)
        .await?
        .context("conference vanished")?;
    tx.commit().await?;
    Ok(conference)
}

pub async fn conference_list(db: &Db) -> anyhow::Result<Vec<Conference>> {
    let mut tx = db.begin().await?;
    let all = chat::conferences(&mut tx).await?;
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
    let conference = chat::conference_by_slug(&mut tx, slug)
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
    chat::set_conference_fields(
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
        chat::set_policy(
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
        chat::set_window(&mut tx, clock.now(), conference.id, window).await?;
    }
    let updated = chat::conference_by_id(&mut tx, conference.id)
        .await?
        .context("conference vanished")?;
    tx.commit().await?;
    Ok(updated)
}

/// One invitee from a CSV: a name and, optionally, an e-mail address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invitee {
    pub name: String,
    pub email: String,
}

/// Reads `name,email` rows; a header row naming the columns is skipped.
pub fn read_invitees(input: impl Read) -> anyhow::Result<Vec<Invitee>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("CSV row {} is unreadable", n + 1))?;
        let name = record.get(0).unwrap_or_default().to_owned();
        let email = record.get(1).unwrap_or_default().to_owned();
        if n == 0 && name.eq_ignore_ascii_case("name") {
            continue;
        }
        if name.is_empty() && email.is_empty() {
            continue;
        }
        out.push(Invitee { name, email });
    }
    Ok(out)
}

/// Issues one invite per invitee and writes `name,email,link` rows.
pub async fn invite(
    db: &Db,
    clock: &SharedClock,
    bot: &BotInfo,
    conference: &str,
    role: &str,
    invitees: &[Invitee],
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let role: Role = role.parse().map_err(|_| {
        anyhow::anyhow!("role {role:?} is not attendee, speaker, volunteer or admin")
    })?;
    if !role.is_conference_role() {
        bail!("role {role} cannot be invited: choose attendee, speaker, volunteer or admin");
    }
    let mut tx = db.begin().await?;
    let conference = chat::conference_by_slug(&mut tx, conference)
        .await?
        .with_context(|| {
            format!("there is no conference {conference}; see `herald conference list`")
        })?;
    let mut rows = Vec::new();
    for invitee in invitees {
        let label = (!invitee.name.is_empty()).then_some(invitee.name.as_str());
        let token = links::issue(
            &mut tx,
            clock.now(),
            NewLinkTokenSpec {
                purpose: "invite",
                conference_id: Some(conference.id),
                role: Some(role.as_str()),
                slot: None,
                label,
                created_by: None,
                ttl: links::INVITE_TTL,
            },
        )
        .await?;
        rows.push((invitee, bot.start_link(&token)));
    }
    // Links are printed only after they are stored: a failure prints nothing that would not work.
    tx.commit().await?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["name", "email", "link"])?;
    for (invitee, link) in &rows {
        writer.write_record([invitee.name.as_str(), invitee.email.as_str(), link.as_str()])?;
    }
    writer.flush()?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitees_are_read_with_or_without_a_header() {
        let rows = read_invitees("name,email\nAda Lovelace, ada@example.org\n\nBob,\n".as_bytes())
            .expect("csv");
        assert_eq!(
            rows,
            [
                Invitee {
                    name: "Ada Lovelace".into(),
                    email: "ada@example.org".into()
                },
                Invitee {
                    name: "Bob".into(),
                    email: String::new()
                }
            ]
        );
        assert_eq!(
            read_invitees("Carla,c@x.org".as_bytes())
                .expect("csv")
                .len(),
            1
        );
    }
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
    let conference = chat::conference_by_slug(&mut tx, slug)
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

/// Imports volunteer shifts from CSV rows `title,start,end[,volunteer]` (local `YYYY-MM-DDTHH:MM`; the
/// volunteer as `@username` or numeric Telegram id, optional). All rows or none; an error names the row.
/// What `herald campaign` was asked for.
#[derive(Debug, Clone)]
pub struct CampaignArgs<'a> {
    pub slug: &'a str,
    /// `sessions` or `sponsors`.
    pub kind: &'a str,
    pub template: &'a str,
    /// Tracks or levels; empty: all.
    pub filters: &'a [String],
    /// Local `YYYY-MM-DDTHH:MM`; `None`: the next full hour.
    pub start: Option<&'a str>,
    pub every: &'a str,
    pub jitter: &'a str,
    /// Provider names; empty: every provider broadcasting.
    pub to: &'a [String],
    pub shuffled: bool,
    /// Create the posts (otherwise only preview).
    pub create: bool,
}

/// `herald campaign`: the preview of a campaign (every post, its time and its length per network) and, with
/// `create`, the posts themselves, pending approval, all in one transaction.
pub async fn campaign(
    db: &Db,
    clock: &SharedClock,
    templates: &crate::templates::Templates,
    args: &CampaignArgs<'_>,
    out: &mut impl std::io::Write,
) -> anyhow::Result<usize> {
    use crate::campaign as c;
    let mut tx = db.begin().await?;
    let conference = chat::conference_by_slug(&mut tx, args.slug)
        .await?
        .with_context(|| {
            format!(
                "there is no conference {}; see `herald conference list`",
                args.slug
            )
        })?;
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let now = clock.now();
    let start = match args.start {
        Some(text) => {
            let local = herald_commands::LocalDateTime::parse(text)
                .map_err(|_| anyhow::anyhow!("--start {text}: expected YYYY-MM-DDTHH:MM"))?;
            chrono::TimeZone::from_local_datetime(&tz, &local.date_time())
                .earliest()
                .with_context(|| format!("--start {text} does not exist in {tz}"))?
                .with_timezone(&chrono::Utc)
        }
        None => {
            let next = now + chrono::TimeDelta::hours(1);
            chrono::DurationRound::duration_trunc(next, chrono::TimeDelta::hours(1))?
        }
    };
    let secs = |name: &str, text: &str| {
        herald_commands::args::duration_secs(text).map_err(|_| {
            anyhow::anyhow!("--{name} {text}: expected a duration such as 90m, 2h or 1d")
        })
    };
    let options = c::Options {
        start,
        every_secs: secs("every", args.every)?,
        jitter_secs: secs("jitter", args.jitter)?,
        providers: args.to.to_vec(),
        shuffled: args.shuffled,
    };
    let providers: Vec<_> = crate::db::posts::broadcasting_providers(&mut tx, conference.id)
        .await?
        .into_iter()
        .filter(|p| options.providers.is_empty() || options.providers.contains(&p.internal_name))
        .collect();
    if providers.is_empty() {
        anyhow::bail!("no chosen provider broadcasts for {}", args.slug);
    }
    let seed = u64::from(rand::random::<u32>());
    let contexts: Vec<(String, serde_json::Value)> = match args.kind {
        "sessions" => c::choose_sessions(
            crate::db::schedule::sessions(&mut tx, conference.id).await?,
            args.filters,
            args.shuffled,
            seed,
        )
        .iter()
        .map(|s| (s.title.clone(), c::session_context(&conference, s)))
        .collect(),
        "sponsors" => c::choose_sponsors(
            crate::db::sponsors::sponsors(&mut tx, conference.id).await?,
            args.filters,
            args.shuffled,
            seed,
        )
        .iter()
        .map(|s| (s.name.clone(), c::sponsor_context(&conference, s)))
        .collect(),
        other => anyhow::bail!("a campaign is over sessions or sponsors, not {other}"),
    };
    let planned = c::plan(
        &conference,
        args.template,
        &contexts,
        &providers,
        &options,
        seed,
    )?;
    for post in &planned {
        writeln!(
            out,
            "{}{}",
            post.due.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            if post.moved {
                " (moved into the posting window)"
            } else {
                ""
            }
        )?;
        for t in &post.texts {
            let flag = if t.fits() { "" } else { " TOO LONG: a thread" };
            writeln!(
                out,
                "  {} {}/{}{flag}: {}",
                t.provider,
                t.length,
                t.limit,
                t.text.replace('\n', "\n    ")
            )?;
        }
    }
    if !args.create {
        writeln!(
            out,
            "{} posts previewed; nothing created (add --create)",
            planned.len()
        )?;
        return Ok(planned.len());
    }
    let filters = serde_json::to_string(args.filters)?;
    let encoded = serde_json::to_string(&options)?;
    let id = crate::db::campaigns::create(
        &mut tx,
        now,
        &crate::db::campaigns::NewCampaign {
            conference: conference.id,
            kind: args.kind,
            filters: &filters,
            options: &encoded,
            seed: i64::try_from(seed).unwrap_or(0),
            by: None,
        },
    )
    .await?;
    crate::db::campaigns::set_template(&mut tx, now, id, args.template).await?;
    let created = c::create(&mut tx, now, &conference, id, None, &planned).await?;
    for post_id in &created {
        if let Some(post) = crate::db::posts::post(&mut tx, *post_id).await? {
            crate::posts::send_to_moderation(
                &mut tx,
                templates,
                now,
                &post,
                &format!("campaign #{id}"),
            )
            .await?;
        }
    }
    crate::db::campaigns::finish(&mut tx, now, id, "created", i64::try_from(created.len())?)
        .await?;
    tx.commit().await?;
    writeln!(
        out,
        "campaign #{id}: {} posts created, waiting for approval",
        created.len()
    )?;
    Ok(created.len())
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
    let conference = chat::conference_by_slug(&mut tx, slug)
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

pub async fn import_slots(
    db: &Db,
    clock: &SharedClock,
    templates: &crate::templates::Templates,
    slug: &str,
    input: impl Read,
) -> anyhow::Result<(usize, usize)> {
    let mut tx = db.begin().await?;
    let conference = chat::conference_by_slug(&mut tx, slug)
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
                PersonRef::Username(name) => chat::people_by_username(&mut tx, "telegram", name)
                    .await?
                    .into_iter()
                    .next(),
                PersonRef::Id(id) => {
                    chat::person_by_user_id(&mut tx, "telegram", &id.to_string()).await?
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
