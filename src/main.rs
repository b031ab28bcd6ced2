//! The `herald` command: parses the command line and hands it to [`herald::cli`].

use std::process::ExitCode;

use clap::Parser;
use herald::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match herald::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain on one line reads as a story; a backtrace helps nobody running Herald.
            eprintln!("herald: {err:#}");
            tracing::error!(error = %format!("{err:#}"), "herald stopped with an error");
            ExitCode::FAILURE
        }
    }
}
