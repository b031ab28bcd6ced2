//! The `herald` command: configuration layering, redaction, startup errors, help.

#![allow(clippy::unwrap_used)]

mod support;

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
            ("HERALD_ROLES", "web,jobs"),
            (
                "HERALD_EMAIL_SMTP_URL",
                "smtps://herald:mailpass@mail.example.org:465",
            ),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("smtp_url = \"smtps://herald:redacted@mail.example.org:465\""),
        "{printed}"
    );
    assert!(!printed.contains("mailpass"), "secrets leaked:\n{printed}");
    assert!(
        printed.contains("listen = \"127.0.0.1:9100\""),
        "environment beats the file:\n{printed}"
    );
    assert!(
        printed.contains("log = \"debug\""),
        "the file beats the defaults:\n{printed}"
    );
    assert!(printed.contains("batch_size = 10"), "{printed}");
    assert!(printed.contains("roles = \"web,jobs\""), "{printed}");
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
        text(&out.stderr).contains("TELEGRAM.TOKN"),
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

#[test]
fn conferences_are_scriptable_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = [("HERALD_DATABASE_URL", "sqlite://herald.db")];
    let add = [
        "conference",
        "add",
        "--slug",
        "fosdem-2027",
        "--name",
        "FOSDEM 2027",
        "--tz",
        "Europe/Brussels",
    ];
    let out = herald(
        &[&add[..], &["--start", "2027-02-06", "--end", "2027-02-07"]].concat(),
        &db,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("fosdem-2027\tFOSDEM 2027\tEurope/Brussels\t2027-02-06 to 2027-02-07")
    );

    let out = herald(
        &[&add[..], &["--start", "2027-02-06", "--end", "2027-02-07"]].concat(),
        &db,
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );

    let out = herald(
        &[
            "conference",
            "add",
            "--slug",
            "x",
            "--name",
            "X",
            "--tz",
            "Mars/Olympus",
            "--start",
            "2027-01-01",
            "--end",
            "2027-01-02",
        ],
        &db,
        dir.path(),
    );
    assert!(
        text(&out.stderr).contains("slug \"x\" is not"),
        "{}",
        text(&out.stderr)
    );

    let out = herald(
        &[
            "conference",
            "set",
            "fosdem-2027",
            "--policy",
            "3",
            "--window",
            "08:00-20:00",
        ],
        &db,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("policy 3\twindow 08:00-20:00"),
        "{}",
        text(&out.stdout)
    );

    let out = herald(
        &["conference", "set", "fosdem-2027", "--tz", "Europe/Nowhere"],
        &db,
        dir.path(),
    );
    assert!(
        text(&out.stderr).contains("time zone \"Europe/Nowhere\" is not"),
        "{}",
        text(&out.stderr)
    );

    let out = herald(&["conference", "list"], &db, dir.path());
    assert_eq!(text(&out.stdout).lines().count(), 1);
}

/// `herald conference add` for the conference the invitation tests use.
const ADD_CONFERENCE: &[&str] = &[
    "conference",
    "add",
    "--slug",
    "conf-2027",
    "--name",
    "Conf",
    "--tz",
    "UTC",
    "--start",
    "2027-01-01",
    "--end",
    "2027-01-02",
];

#[tokio::test]
async fn bulk_invites_print_one_working_link_per_person() {
    let fake = support::FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let api = fake.url.to_string();
    let output = tokio::task::spawn_blocking(move || {
        let env = [
            ("HERALD_DATABASE_URL", "sqlite://herald.db"),
            ("HERALD_TELEGRAM_TOKEN", support::TOKEN),
            ("HERALD_TELEGRAM_API_URL", api.as_str()),
        ];
        assert!(herald(ADD_CONFERENCE, &env, &path).status.success());
        std::fs::write(
            path.join("people.csv"),
            "name,email\nAda Lovelace,ada@example.org\nBob,bob@example.org\n",
        )
        .unwrap();
        let invite = herald(
            &[
                "invite",
                "--conference",
                "conf-2027",
                "--role",
                "speaker",
                "--csv",
                "people.csv",
            ],
            &env,
            &path,
        );
        let owner = herald(&["owner-link"], &env, &path);
        let bad_role = herald(
            &[
                "invite",
                "--conference",
                "conf-2027",
                "--role",
                "owner",
                "--count",
                "1",
            ],
            &env,
            &path,
        );
        (invite, owner, bad_role)
    })
    .await
    .unwrap();
    let (invite, owner, bad_role) = output;
    assert!(invite.status.success(), "{}", text(&invite.stderr));
    let csv = text(&invite.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,email,link");
    assert!(
        lines[1].starts_with("Ada Lovelace,ada@example.org,https://t.me/herald_test_bot?start="),
        "{csv}"
    );
    assert_eq!(lines.len(), 3);
    assert_ne!(
        lines[1].rsplit('/').next(),
        lines[2].rsplit('/').next(),
        "every link differs"
    );
    assert!(
        text(&owner.stdout).starts_with("https://t.me/herald_test_bot?start="),
        "{}",
        text(&owner.stderr)
    );
    assert!(!bad_role.status.success());
    assert!(
        text(&bad_role.stderr).contains("cannot be invited"),
        "{}",
        text(&bad_role.stderr)
    );
}

/// `herald invite --send` queues one mail per address and follows a running Herald sending them; a rerun
/// sends nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_send_mails_each_person_and_follows_the_sending() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let database = format!("sqlite://{}", path.join("herald.db").display());
    let folder = path.join("outgoing");
    // The Herald that sends (its outbox driven here), on the same database as the command.
    let mut config = herald::config::Config::default();
    config.database_url = herald::config::SecretUrl::new(database.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.email.folder = folder.clone();
    let app = herald::Application::build(config).await.unwrap();
    let env = vec![
        ("HERALD_DATABASE_URL".to_owned(), database),
        (
            "HERALD_EMAIL_FOLDER".to_owned(),
            folder.display().to_string(),
        ),
    ];
    let run = move |args: &'static [&'static str]| {
        let (path, env) = (path.clone(), env.clone());
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            herald(args, &env, &path)
        })
    };
    assert!(run(ADD_CONFERENCE).await.unwrap().status.success());
    std::fs::write(
        dir.path().join("people.csv"),
        "name,email\nAda Lovelace,ada@example.org\nBob,bob@example.org\nCarla,\n",
    )
    .unwrap();
    const SEND: &[&str] = &[
        "invite",
        "--conference",
        "conf-2027",
        "--role",
        "speaker",
        "--csv",
        "people.csv",
        "--send",
    ];
    let command = run(SEND);
    while !command.is_finished() {
        app.outbox.run_once().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let out = command.await.unwrap();
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("2 invitation(s) queued"), "{said}");
    assert!(said.contains("sent 2 of 2, 0 failed"), "{said}");
    // Carla has no address: her link is printed instead.
    assert!(
        text(&out.stdout).contains("Carla,,http"),
        "{}",
        text(&out.stdout)
    );
    let mails = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(mails, 2);
    let again = run(SEND).await.unwrap();
    let said = text(&again.stderr);
    assert!(
        said.contains("0 invitation(s) queued") && said.contains("2 already invited"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        2,
        "nothing sent twice"
    );
}

#[test]
fn a_schedule_imports_from_the_command_line_and_shows_in_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = [("HERALD_DATABASE_URL", "sqlite://herald.db")];
    let file = format!(
        "{}/tests/fixtures/schedules/frab-camp2019-schedule.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = herald(
        &["import", "schedule", "--conference", "camp-2019", &file],
        &db,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("camp-2019: 79 added, 0 moved"),
        "{}",
        text(&out.stdout)
    );

    let out = herald(
        &["schedule", "show", "--conference", "camp-2019", "--json"],
        &db,
        dir.path(),
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 79);
    let late = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["start"] == "2019-08-22T23:00:00+02:00")
        .unwrap();
    assert_eq!(
        late["end"], "2019-08-23T00:30:00+02:00",
        "crosses midnight in local time"
    );

    let out = herald(
        &[
            "import",
            "schedule",
            "--conference",
            "camp-2019",
            "/nonexistent.xml",
        ],
        &db,
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Failed to read /nonexistent.xml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn template_render_prints_what_a_campaign_would_post_and_names_the_broken_line() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
    let dir = tempfile::tempdir().unwrap();
    let context = fixtures.join("context.json");
    let out = herald(
        &[
            "template",
            "render",
            fixtures.join("speaker-session.j2").to_str().unwrap(),
            "--context",
            context.to_str().unwrap(),
            "--network",
            "bluesky",
        ],
        &[],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(fixtures.join("expected/speaker-session.bluesky.txt")).unwrap()
    );

    let broken = dir.path().join("broken.j2");
    std::fs::write(
        &broken,
        "Thanks {{ sponsor.displayname }}!\n{% if sponsor|social %}\n",
    )
    .unwrap();
    let out = herald(
        &[
            "template",
            "render",
            broken.to_str().unwrap(),
            "--context",
            context.to_str().unwrap(),
        ],
        &[],
        dir.path(),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("broken.j2 does not render: line 2: syntax error"),
        "{err}"
    );
}

#[test]
fn web_link_says_why_it_cannot_make_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = [("HERALD_DATABASE_URL", "sqlite://herald.db")];
    let out = herald(&["web-link"], &db, dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no owner yet: run `herald owner-link` first"),
        "{}",
        text(&out.stderr)
    );
    let out = herald(&["web-link", "--user", "@nobody"], &db, dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nobody with Telegram user id or username @nobody"),
        "{}",
        text(&out.stderr)
    );
}
