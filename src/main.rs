//! The `herald` command.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use herald::{Application, config::Config, db::Db};
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
