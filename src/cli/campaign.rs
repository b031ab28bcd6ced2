//! `herald campaign` and `herald template render`: campaigns planned from the command line.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::open;
use crate::{
    clock::SharedClock,
    config::Config,
    db::{Db, conferences},
};

/// What `herald campaign` was given on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// sessions or sponsors.
    pub kind: String,
    #[arg(long)]
    pub conference: String,
    /// The template file.
    #[arg(long, value_name = "FILE")]
    pub template: PathBuf,
    /// Tracks (sessions) or levels (sponsors) to cover; repeat for several. All without.
    #[arg(long = "only")]
    pub filters: Vec<String>,
    /// The first post, local time YYYY-MM-DDTHH:MM (default: the next full hour).
    #[arg(long)]
    pub start: Option<String>,
    /// Between posts.
    #[arg(long, default_value = "2h")]
    pub every: String,
    /// Each post moves at most this far from its slot.
    #[arg(long, default_value = "0m")]
    pub jitter: String,
    /// Provider names (repeat); default every provider broadcasting.
    #[arg(long = "to")]
    pub to: Vec<String>,
    #[arg(long)]
    pub shuffled: bool,
    /// Create the posts; without it, only the preview is printed.
    #[arg(long)]
    pub create: bool,
}

/// `herald template render`.
pub fn render_template(file: &Path, context: &Path, network: &str) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(file)
        .with_context(|| format!("Failed to read {}", file.display()))?;
    let raw = std::fs::read_to_string(context)
        .with_context(|| format!("Failed to read {}", context.display()))?;
    let context: serde_json::Value =
        serde_json::from_str(&raw).with_context(|| format!("{} is not JSON", context.display()))?;
    let text = crate::campaign::template::render(&source, &context, network)
        .with_context(|| format!("{} does not render", file.display()))?;
    print!("{text}");
    Ok(())
}

/// `herald campaign`.
pub async fn run(config: &Config, options: Options) -> anyhow::Result<()> {
    let Options {
        kind,
        conference,
        template,
        filters,
        start,
        every,
        jitter,
        to,
        shuffled,
        create,
    } = options;
    let (db, clock) = open(config).await?;
    let source = std::fs::read_to_string(&template)
        .with_context(|| format!("Failed to read {}", template.display()))?;
    let templates = crate::templates::Templates::new();
    let mut out = std::io::stdout().lock();
    campaign(
        &db,
        &clock,
        &templates,
        &CampaignArgs {
            slug: &conference,
            kind: &kind,
            template: &source,
            filters: &filters,
            start: start.as_deref(),
            every: &every,
            jitter: &jitter,
            to: &to,
            shuffled,
            create,
        },
        &mut out,
    )
    .await?;
    Ok(())
}

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
    let conference = conferences::conference_by_slug(&mut tx, args.slug)
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
    let providers: Vec<_> = crate::db::providers::broadcasting_providers(&mut tx, conference.id)
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
    let campaign = crate::db::campaigns::campaign(&mut tx, id)
        .await?
        .context("Failed to read the campaign just made")?;
    c::digest::send(&mut tx, templates, now, &campaign).await?;
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
