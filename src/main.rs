//! The `herald` command.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use herald::{
    Application, admin,
    clock::{SharedClock, SystemClock},
    config::Config,
    db::{Db, chat::Conference},
};
use tokio_util::sync::CancellationToken;

/// Herald — chat-bot-first messaging for conferences.
///
/// Organisers moderate and broadcast from Telegram; attendees subscribe through the bot and get
/// announcements and reminders; posts fan out to social networks. Configuration comes from built-in
/// defaults, then a TOML file (--config or HERALD_CONFIG), then HERALD_* environment variables; run
/// `herald config` to see the result. With no configuration at all Herald runs on SQLite (./herald.db)
/// and serves http://127.0.0.1:8080/healthz.
#[derive(Debug, Parser)]
#[command(name = "herald", version, propagate_version = true)]
struct Cli {
    /// A TOML configuration file. Environment variables override what it says.
    #[arg(long, global = true, env = "HERALD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// too. Needs the bot's username: known once `herald run` has started, or asked from Telegram.
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
    Campaign {
        /// sessions or sponsors.
        kind: String,
        #[arg(long)]
        conference: String,
        /// The template file.
        #[arg(long, value_name = "FILE")]
        template: PathBuf,
        /// Tracks (sessions) or levels (sponsors) to cover; repeat for several. All without.
        #[arg(long = "only")]
        filters: Vec<String>,
        /// The first post, local time YYYY-MM-DDTHH:MM (default: the next full hour).
        #[arg(long)]
        start: Option<String>,
        /// Between posts.
        #[arg(long, default_value = "2h")]
        every: String,
        /// Each post moves at most this far from its slot.
        #[arg(long, default_value = "0m")]
        jitter: String,
        /// Provider names (repeat); default every provider broadcasting.
        #[arg(long = "to")]
        to: Vec<String>,
        #[arg(long)]
        shuffled: bool,
        /// Create the posts; without it, only the preview is printed.
        #[arg(long)]
        create: bool,
    },
    /// Try post templates before a campaign.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Print registration links, one per person, as CSV (name,email,link) for a mail merge.
    ///
    /// Each link works once, for one person, with the given role, for 60 days. Read names and e-mail
    /// addresses from --csv (a file with name,email rows, or - for standard input), or make --count
    /// anonymous links.
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
        /// A CSV of name,email rows (a header row is allowed); - reads standard input.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
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
enum ImportCommand {
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
enum ScheduleCommand {
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
enum ConferenceCommand {
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
        /// Posting policy 0–4 (0 nobody posts … 4 everyone posts without approval).
        #[arg(long)]
        policy: Option<String>,
        /// Posting window HH:MM-HH:MM in the conference's time zone, or off.
        #[arg(long)]
        window: Option<String>,
    },
}

fn init_tracing(filter: &str) {
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain on one line reads as a story; a backtrace helps nobody running Herald.
            eprintln!("herald: {err:#}");
            tracing::error!(error = %format!("{err:#}"), "herald stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        // No database: a template and a context are all it needs.
        Command::Template(TemplateCommand::Render {
            file,
            context,
            network,
        }) => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("Failed to read {}", file.display()))?;
            let raw = std::fs::read_to_string(&context)
                .with_context(|| format!("Failed to read {}", context.display()))?;
            let context: serde_json::Value = serde_json::from_str(&raw)
                .with_context(|| format!("{} is not JSON", context.display()))?;
            let text = herald::campaign::template::render(&source, &context, &network)
                .with_context(|| format!("{} does not render", file.display()))?;
            print!("{text}");
            Ok(())
        }
        Command::Campaign {
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
        } => {
            let (db, clock) = open(&config).await?;
            let source = std::fs::read_to_string(&template)
                .with_context(|| format!("Failed to read {}", template.display()))?;
            let templates = herald::templates::Templates::new();
            let mut out = std::io::stdout().lock();
            admin::campaign(
                &db,
                &clock,
                &templates,
                &admin::CampaignArgs {
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
        Command::OwnerLink => {
            let (db, clock) = open(&config).await?;
            let client = telegram_client(&config)?;
            let bot = admin::links_to(&db, &clock, client.as_ref(), web_base(&config)?).await?;
            match herald::links::owner_token_if_needed(&db, clock.now()).await? {
                Some(token) => println!("{}", bot.start_link(&token)),
                None => anyhow::bail!(
                    "this Herald already has an owner; the owner can grant roles in chat"
                ),
            }
            Ok(())
        }
        Command::WebLink { user, mobile } => {
            let (db, clock) = open(&config).await?;
            let base = web_base(&config)?;
            let next = if mobile {
                herald::links::MOBILE_PATH
            } else {
                herald::links::CONFIG_PATH
            };
            let mut tx = db.begin().await?;
            let person = match &user {
                Some(who) => herald::db::web::find_person(&mut tx, who)
                    .await?
                    .with_context(|| {
                        format!(
                            "nobody with Telegram user id or username {who} has talked to the bot"
                        )
                    })?,
                None => herald::db::web::owner(&mut tx)
                    .await?
                    .context("this Herald has no owner yet: run `herald owner-link` first")?,
            };
            let link =
                herald::links::issue_login(&mut tx, clock.now(), &base, person, next).await?;
            tx.commit().await?;
            println!("{link}");
            Ok(())
        }
        Command::Conference(command) => {
            let (db, clock) = open(&config).await?;
            match command {
                ConferenceCommand::Add {
                    slug,
                    name,
                    tz,
                    start,
                    end,
                } => {
                    let args = admin::ConferenceArgs {
                        slug,
                        name,
                        time_zone: tz,
                        starts_on: start,
                        ends_on: end,
                    };
                    print_conference(&admin::conference_add(&db, &clock, &args).await?);
                }
                ConferenceCommand::List => {
                    for c in admin::conference_list(&db).await? {
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
                    let changes = admin::ConferenceChanges {
                        name,
                        time_zone: tz,
                        starts_on: start,
                        ends_on: end,
                        policy,
                        window,
                    };
                    print_conference(&admin::conference_set(&db, &clock, &slug, &changes).await?);
                }
            }
            Ok(())
        }
        Command::Invite {
            conference,
            role,
            count,
            csv,
        } => {
            let invitees = match (csv, count) {
                (Some(path), None) if path.as_os_str() == "-" => {
                    admin::read_invitees(std::io::stdin().lock())?
                }
                (Some(path), None) => admin::read_invitees(
                    std::fs::File::open(&path)
                        .with_context(|| format!("Failed to open {}", path.display()))?,
                )?,
                (None, Some(n)) => vec![admin::Invitee::default(); n],
                (None, None) => vec![admin::Invitee::default()],
                (Some(_), Some(_)) => anyhow::bail!("give either --csv or --count, not both"),
            };
            let (db, clock) = open(&config).await?;
            let client = telegram_client(&config)?;
            let bot = admin::links_to(&db, &clock, client.as_ref(), web_base(&config)?).await?;
            let mut out = std::io::stdout().lock();
            let n =
                admin::invite(&db, &clock, &bot, &conference, &role, &invitees, &mut out).await?;
            eprintln!("{n} link(s) for {role}s of {conference}; each works once, for 60 days");
            Ok(())
        }
        Command::Import(ImportCommand::Schedule {
            conference,
            tz,
            source,
        }) => {
            let (db, clock) = open(&config).await?;
            let text = herald::schedule::source::read_source(&source).await?;
            let templates = herald::templates::Templates::new();
            let (conference, summary) = herald::schedule::source::import_schedule(
                &db,
                &clock,
                &templates,
                &conference,
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
        Command::Import(ImportCommand::Sponsors { conference, file }) => {
            let (db, clock) = open(&config).await?;
            let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(
                    std::fs::File::open(&file)
                        .with_context(|| format!("Failed to open {}", file.display()))?,
                )
            };
            let n = admin::import_sponsors(&db, &clock, &conference, input).await?;
            println!("{n} sponsors imported into {conference}");
            Ok(())
        }
        Command::Import(ImportCommand::Slots { conference, file }) => {
            let (db, clock) = open(&config).await?;
            let templates = herald::templates::Templates::new();
            let (slots, assigned) = if file.as_os_str() == "-" {
                admin::import_slots(
                    &db,
                    &clock,
                    &templates,
                    &conference,
                    std::io::stdin().lock(),
                )
                .await?
            } else {
                let input = std::fs::File::open(&file)
                    .with_context(|| format!("Failed to open {}", file.display()))?;
                admin::import_slots(&db, &clock, &templates, &conference, input).await?
            };
            println!("{conference}: {slots} shift(s) imported, {assigned} assigned");
            Ok(())
        }
        Command::Schedule(ScheduleCommand::Show { conference, json }) => {
            let (db, _clock) = open(&config).await?;
            let rows = admin::schedule_rows(&db, &conference).await?;
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
        Command::Run => {
            init_tracing(&config.log);
            let app = Application::build(config)
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

async fn open(config: &Config) -> anyhow::Result<(Db, SharedClock)> {
    let db = Db::connect(config.database_url.expose()).await?;
    db.migrate().await?;
    Ok((db, std::sync::Arc::new(SystemClock)))
}

/// Where people reach Herald's pages and web chat: the public address, or the local one.
fn web_base(config: &Config) -> anyhow::Result<url::Url> {
    Ok(match &config.public_url {
        Some(url) => url.clone(),
        None => url::Url::parse(&format!("http://{}/", config.listen))?,
    })
}

fn telegram_client(
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
