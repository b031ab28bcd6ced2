//! The `herald` command line: the same setup as in chat, scriptable for first runs and automation. One
//! module per verb family; arguments are checked with the chat grammar's own types, so both surfaces accept
//! the same values.

pub mod campaign;
pub mod conference;
pub mod import;
pub mod links;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    Application,
    clock::{SharedClock, SystemClock},
    config::Config,
    db::Db,
};

/// Herald — chat-bot-first messaging for conferences.
///
/// Organisers moderate and broadcast from Telegram; attendees subscribe through the bot and get
/// announcements and reminders; posts fan out to social networks. Configuration comes from built-in
/// defaults, then a TOML file (--config or HERALD_CONFIG), then HERALD_* environment variables; run
/// `herald config` to see the result. With no configuration at all Herald runs on SQLite (./herald.db)
/// and serves http://127.0.0.1:8080/healthz.
#[derive(Debug, Parser)]
#[command(name = "herald", version, propagate_version = true)]
pub struct Cli {
    /// A TOML configuration file. Environment variables override what it says.
    #[arg(long, global = true, env = "HERALD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Herald: the web server, the outbox and inbox workers and the platform listeners.
    ///
    /// Migrates the database first. Stops on SIGINT or SIGTERM: the web server stops taking requests,
    /// in-flight sends finish (up to outbox.shutdown_grace_secs), and anything that could not finish is
    /// put back in the queue and logged, to be sent on the next start.
    Run,
    /// Apply pending database migrations and exit.
    ///
    /// `herald run` does this itself; use this to migrate ahead of a deploy.
    Migrate,
    /// Print the effective configuration as TOML, secrets redacted, and exit.
    ///
    /// Shows the result of defaults, the file and the environment together, so you can check what a
    /// setting resolves to before starting.
    Config,
    /// Print a one-time link that makes whoever opens it the owner of this Herald.
    ///
    /// Only while nobody owns it yet; each new link retires the previous ones. `herald run` logs one
    /// too. With Telegram it opens the bot (its username is known once `herald run` has started, or asked
    /// from Telegram); without, the web chat.
    OwnerLink,
    /// Print a one-time sign-in link to the web pages (what /web gives in chat), for scripting and recovery.
    ///
    /// The link works once, for 10 minutes. Without --user it signs in the owner. The address is
    /// HERALD_PUBLIC_URL, or the listen address when that is not set.
    WebLink {
        /// Whom it signs in: their user id on any channel (Telegram id, web chat account) or @username.
        #[arg(long)]
        user: Option<String>,
        /// Open the moderation page for phones instead of the config page.
        #[arg(long)]
        mobile: bool,
    },
    /// Create, list and change conferences (the same as /conference in chat).
    #[command(subcommand)]
    Conference(ConferenceCommand),
    /// Import a schedule (frab/Pentabarf XML or pretalx/frab JSON) from a file or URL.
    ///
    /// One transaction: a broken file changes nothing and the error names the line or element. A new
    /// slug creates the conference from the file's title, dates and time zone (--tz where the file has
    /// none). Prints what was added, moved, changed, cancelled and removed; reminders follow the changes.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Show the stored schedule of a conference.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// One post per session (or sponsor) from a template: a preview, and with --create the posts themselves,
    /// pending approval in the moderation chat. The same as /campaign in chat.
    Campaign(campaign::Options),
    /// Try post templates before a campaign.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Print registration links, one per person, as CSV (name,email,link) for a mail merge — or mail them.
    ///
    /// Each link works once, for one person, with the given role, for 60 days. Read names and e-mail
    /// addresses from --csv (a file with name,email rows, or - for standard input), or make --count
    /// anonymous links. With --send, each person with an address gets their link by mail (through the
    /// outbox: `herald run` sends it), and the command follows the sending; an address already invited
    /// to this role is not mailed again, so a rerun sends nothing twice.
    Invite {
        /// The conference's slug.
        #[arg(long)]
        conference: String,
        /// attendee, speaker, volunteer or admin.
        #[arg(long, default_value = "attendee")]
        role: String,
        /// How many anonymous links to make (without --csv).
        #[arg(long)]
        count: Option<usize>,
        /// A CSV of name,email[,language] rows (a header row is allowed; the language, such as de, is the
        /// invitation's and the person's once they join); - reads standard input.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Mail each person their link instead of printing it.
        #[arg(long)]
        send: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Print what a post template gives for a context, as campaigns render it.
    ///
    /// The same environment and filters as campaigns (social, applymacro, slugify, truncate, and
    /// minijinja-contrib's). The context is JSON in the campaign shape: `conference`, `session` (with
    /// `speakers`: name, company, social), `sponsor`. Errors name the line.
    Render {
        /// The template file.
        file: PathBuf,
        /// A JSON file with the context.
        #[arg(long, value_name = "CONTEXT.json")]
        context: PathBuf,
        /// The network rendered for (what `social` looks up), such as mastodon or bluesky.
        #[arg(long, default_value = "mastodon")]
        network: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import sponsors from a CSV with a header row: name, level, url, and one column per network for the
    /// sponsor's handle there (mastodon, bluesky, …). Updates sponsors of the same name; all rows or none.
    Sponsors {
        #[arg(long)]
        conference: String,
        /// The CSV file, or - for standard input.
        file: PathBuf,
    },
    /// Import volunteer shifts from a CSV of title,start,end[,volunteer] rows, or from an .ics file.
    ///
    /// CSV times are local (the conference's time zone) as YYYY-MM-DDTHH:MM; the volunteer, if given, is a
    /// @username or numeric Telegram id of someone who has linked their chat. In an .ics file every event
    /// is a shift (give them out with /slot assign). All rows or none.
    Slots {
        #[arg(long)]
        conference: String,
        /// The CSV file, or - for standard input.
        file: PathBuf,
    },
    /// Import a schedule file or URL into a conference.
    Schedule {
        /// The conference's slug (created from the file if new).
        #[arg(long)]
        conference: String,
        /// IANA time zone for files that have none (Pentabarf).
        #[arg(long)]
        tz: Option<String>,
        /// A path, or an http(s) URL.
        source: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// List sessions: id, title, track, room, local start and end (ISO 8601 with offset), speakers, status.
    Show {
        #[arg(long)]
        conference: String,
        /// One JSON document instead of tab-separated lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConferenceCommand {
    /// Create a conference.
    Add {
        /// Short name used in commands and links: lowercase letters, digits, hyphens (fosdem-2027).
        #[arg(long)]
        slug: String,
        /// The name people read.
        #[arg(long)]
        name: String,
        /// IANA time zone of the venue, such as Europe/Brussels.
        #[arg(long)]
        tz: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        start: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        end: String,
    },
    /// List conferences.
    List,
    /// Change a conference; only the options given change.
    Set {
        /// The conference's slug.
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        tz: Option<String>,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        /// Posting policy 0–4 (0 nobody posts … 4 admins and volunteers post without approval).
        #[arg(long)]
        policy: Option<String>,
        /// Posting window HH:MM-HH:MM in the conference's time zone, or off.
        #[arg(long)]
        window: Option<String>,
    },
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let config = &config;
    match cli.command {
        // No database: a template and a context are all it needs.
        Command::Template(TemplateCommand::Render {
            file,
            context,
            network,
        }) => campaign::render_template(&file, &context, &network),
        Command::Campaign(options) => campaign::run(config, options).await,
        Command::Config => {
            print!("{}", config.to_redacted_toml()?);
            Ok(())
        }
        Command::Migrate => {
            init_tracing(&config.log);
            let db = Db::connect(config.database_url.expose()).await?;
            db.migrate().await?;
            tracing::info!(database = %config.database_url.redacted(), "migrations applied");
            Ok(())
        }
        Command::OwnerLink => links::owner_link(config).await,
        Command::WebLink { user, mobile } => links::web_link(config, user, mobile).await,
        Command::Invite {
            conference,
            role,
            count,
            csv,
            send,
        } => links::invite_command(config, &conference, &role, count, csv, send).await,
        Command::Conference(command) => conference::command(config, command).await,
        Command::Import(ImportCommand::Schedule {
            conference,
            tz,
            source,
        }) => import::schedule(config, &conference, tz, &source).await,
        Command::Import(ImportCommand::Sponsors { conference, file }) => {
            import::sponsors(config, &conference, &file).await
        }
        Command::Import(ImportCommand::Slots { conference, file }) => {
            import::slots(config, &conference, &file).await
        }
        Command::Schedule(ScheduleCommand::Show { conference, json }) => {
            import::show(config, &conference, json).await
        }
        Command::Run => {
            init_tracing(&config.log);
            let app = Application::build(config.clone())
                .await
                .context("Herald could not start")?;
            let shutdown = CancellationToken::new();
            let trigger = shutdown.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                trigger.cancel();
            });
            app.run(shutdown).await
        }
    }
}

pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|err| {
        eprintln!("HERALD_LOG: invalid filter {filter:?} ({err}); using \"info\"");
        tracing_subscriber::EnvFilter::new("info")
    });
    // `try_init` also bridges the `log` crate (teloxide logs through it).
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

pub(crate) async fn open(config: &Config) -> anyhow::Result<(Db, SharedClock)> {
    let db = Db::connect(config.database_url.expose()).await?;
    db.migrate().await?;
    Ok((db, std::sync::Arc::new(SystemClock)))
}

/// Where people reach Herald's pages and web chat: the public address, or the local one.
pub(crate) fn web_base(config: &Config) -> anyhow::Result<url::Url> {
    Ok(match &config.public_url {
        Some(url) => url.clone(),
        None => url::Url::parse(&format!("http://{}/", config.listen))?,
    })
}

pub(crate) fn telegram_client(
    config: &Config,
) -> anyhow::Result<Option<herald_bots::telegram::TelegramClient>> {
    Ok(config.telegram()?.map(|tg| {
        herald_bots::telegram::TelegramClient::new(
            tg.api_url,
            tg.token.expose(),
            reqwest::Client::new(),
            std::time::Duration::from_secs(20),
        )
    }))
}
