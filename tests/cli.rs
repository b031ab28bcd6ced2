//! The `herald` command: configuration layering, redaction, startup errors, help.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn herald(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(args).current_dir(dir).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("herald runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn config_shows_defaults_then_file_then_environment_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herald.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\n[outbox]\nbatch_size = 10\n[outbox.rate_limits.telegram]\nper_group_chat = \"10/min\"\n",
    )
    .unwrap();
    let out = herald(
        &["config"],
        &[
            ("HERALD_CONFIG", file.to_str().unwrap()),
            ("HERALD_LISTEN", "127.0.0.1:9100"),
            ("HERALD_TELEGRAM_TOKEN", "123456:SECRET-TOKEN"),
            (
                "HERALD_DATABASE_URL",
                "postgres://herald:hunter2@db.example/herald",
            ),
            ("HERALD_PUBLIC_URL", "https://herald.example.org"),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("listen = \"127.0.0.1:9100\""),
        "environment beats the file:\n{printed}"
    );
    assert!(
        printed.contains("log = \"debug\""),
        "the file beats the defaults:\n{printed}"
    );
    assert!(printed.contains("batch_size = 10"), "{printed}");
    assert!(printed.contains("per_group_chat = \"10/min\""), "{printed}");
    assert!(
        printed.contains("concurrency = 64"),
        "defaults fill the rest:\n{printed}"
    );
    assert!(
        printed.contains("api_url = \"https://api.telegram.org/\""),
        "{printed}"
    );
    assert!(
        printed.contains("public_url = \"https://herald.example.org/\""),
        "{printed}"
    );
    assert!(
        !printed.contains("SECRET-TOKEN") && !printed.contains("hunter2"),
        "secrets leaked:\n{printed}"
    );
    assert!(printed.contains("token = \"[redacted]\""), "{printed}");
}

#[test]
fn a_half_filled_section_is_a_startup_error_naming_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = herald(
        &["run"],
        &[("HERALD_TELEGRAM_API_URL", "http://127.0.0.1:9")],
        dir.path(),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("HERALD_TELEGRAM_TOKEN"), "{err}");
    assert!(
        !dir.path().join("herald.db").exists(),
        "nothing was started"
    );

    let out = herald(
        &["config"],
        &[
            ("HERALD_TELEGRAM_TOKEN", "1:a"),
            ("HERALD_TELEGRAM_MODE", "webhook"),
        ],
        dir.path(),
    );
    assert!(
        text(&out.stderr).contains("HERALD_PUBLIC_URL"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_misspelt_variable_or_bad_value_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let out = herald(&["config"], &[("HERALD_TELEGRAM_TOKN", "1:a")], dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("telegram_tokn") || text(&out.stderr).contains("tokn"),
        "{}",
        text(&out.stderr)
    );

    let out = herald(
        &["config"],
        &[("HERALD_LISTEN", "not an address")],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).to_lowercase().contains("listen"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn migrate_creates_the_sqlite_database_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = herald(
        &["migrate"],
        &[("HERALD_DATABASE_URL", "sqlite://fresh.db")],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("fresh.db").exists());
}

#[test]
fn help_reads_like_a_manual() {
    let dir = tempfile::tempdir().unwrap();
    let out = herald(&["--help"], &[], dir.path());
    let help = text(&out.stdout);
    for needle in ["run", "migrate", "config", "HERALD_CONFIG", "healthz"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let out = herald(&["help", "run"], &[], dir.path());
    assert!(
        text(&out.stdout).contains("SIGTERM"),
        "{}",
        text(&out.stdout)
    );
}
