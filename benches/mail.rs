//! Mailing registration links: `herald invite --csv people.csv --send` queues one invitation per person
//! (half of them in German, by the CSV's language column) while `herald run`, a process of its own, sends
//! them through the outbox to a local SMTP server. Both are the release binary, run as an organiser runs
//! them.
//!
//! cargo bench --bench mail                        # 1,000 people, the default cap (10 mails a second)
//! MAIL_N=5000 cargo bench --bench mail            # more people
//! MAIL_RATE=unlimited cargo bench --bench mail    # the server's cap raised (`[outbox.rate_limits.email]`)
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench mail   # on PostgreSQL (a fresh schema)
//!
//! Reported: mails per second (first `herald invite` to the last mail received) against the cap, the
//! time `herald invite` took to queue them, the peak resident memory of each process, and that each
//! person got exactly one mail — also after running the same command again.

#[path = "../tests/support/fake_smtp.rs"]
mod fake_smtp;

mod support;

use std::{
    collections::HashMap,
    io::Write as _,
    path::Path,
    time::{Duration, Instant},
};

use fake_smtp::FakeSmtp;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The peak resident set of process `pid` so far (`VmHWM`), in MB.
fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn herald(dir: &Path, url: &str, config: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .current_dir(dir)
        .env("HERALD_CONFIG", config)
        .env("HERALD_DATABASE_URL", url)
        .env("HERALD_LOG", "warn")
        .env_remove("HERALD_TELEGRAM_TOKEN")
        .kill_on_drop(true);
    command
}

async fn succeed(mut command: tokio::process::Command, what: &str) {
    let output = command.output().await.expect(what);
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `herald invite … --send` to the end, sampling its peak memory; (seconds until it said every
/// invitation was queued, peak MB).
async fn invite(dir: &Path, url: &str, config: &Path, csv: &Path) -> (f64, f64) {
    use tokio::io::AsyncBufReadExt as _;
    let started = Instant::now();
    let mut child = herald(dir, url, config)
        .args([
            "invite",
            "--conference",
            "bench",
            "--role",
            "attendee",
            "--send",
            "--csv",
        ])
        .arg(csv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("herald invite");
    let pid = child.id().expect("pid");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let queued = tokio::spawn(async move {
        let mut at = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("invitation(s) queued") {
                at = Some(started.elapsed().as_secs_f64());
            }
        }
        at
    });
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(mb) = peak_mb(pid) {
            peak = peak.max(mb);
        }
        match tokio::time::timeout(Duration::from_millis(50), child.wait()).await {
            Ok(status) => break status.expect("wait"),
            Err(_) => continue,
        }
    };
    assert!(status.success(), "herald invite failed");
    let queued = queued
        .await
        .expect("reader")
        .expect("herald invite said what it queued");
    (queued, peak)
}

#[tokio::main]
async fn main() {
    let n: usize = env("MAIL_N").unwrap_or(1000);
    let rate: String = env("MAIL_RATE").unwrap_or_else(|| "10/s".into());
    let smtp = FakeSmtp::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(base) => support::postgres_schema(&base).await,
        Err(_) => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("herald.db").display()
        ),
    };
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[email]\nsmtp_url = \"{}\"\nfrom = \"FOSDEM <herald@example.org>\"\n\
             [outbox.rate_limits.email]\nper_provider = \"{rate}\"\n",
            smtp.url
        ),
    )
    .expect("config");
    let csv = dir.path().join("people.csv");
    let mut file = std::fs::File::create(&csv).expect("csv");
    writeln!(file, "name,email,language").expect("csv");
    for i in 0..n {
        let language = if i % 2 == 0 { "de" } else { "en" };
        writeln!(file, "Person {i},person{i}@example.org,{language}").expect("csv");
    }
    drop(file);

    let mut add = herald(dir.path(), &url, &config);
    add.args([
        "conference",
        "add",
        "--slug",
        "bench",
        "--name",
        "Bench 2027",
        "--tz",
        "Europe/Brussels",
        "--start",
        "2027-02-06",
        "--end",
        "2027-02-07",
    ]);
    succeed(add, "herald conference add").await;

    let mut run = herald(dir.path(), &url, &config)
        .arg("run")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("herald run");
    let run_pid = run.id().expect("pid");
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let sampler = tokio::spawn(async move {
        let mut peak: f64 = 0.0;
        loop {
            if let Some(mb) = peak_mb(run_pid) {
                peak = peak.max(mb);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if started.elapsed() > Duration::from_secs(3600) {
                return peak;
            }
        }
    });
    let (queueing, invite_peak) = invite(dir.path(), &url, &config, &csv).await;
    let deadline = Instant::now() + Duration::from_secs(30 + 2 * n as u64);
    while smtp.received().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let first_received = smtp.received().len();

    // The same command again: every address was invited to this role already.
    let (_, _) = invite(dir.path(), &url, &config, &csv).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let run_peak = peak_mb(run_pid).unwrap_or(0.0);
    sampler.abort();
    run.kill().await.ok();

    let received = smtp.received();
    let mut per_address: HashMap<String, usize> = HashMap::new();
    let mut german = 0;
    for mail in &received {
        for to in &mail.to {
            *per_address.entry(to.clone()).or_default() += 1;
        }
        if fake_smtp::readable(&mail.data).contains("<html lang=\"de\">") {
            german += 1;
        }
    }
    let duplicated: usize = per_address.values().map(|c| c - 1).sum();
    let cap = rate.strip_suffix("/s").and_then(|c| c.parse::<f64>().ok());
    println!(
        "mail: {n} registration links on {}, cap {rate}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
    );
    println!(
        "  {first_received} of {n} received in {elapsed:.1} s: {:.1} mails/s{}",
        first_received as f64 / elapsed,
        cap.map(|c| format!(" ({:.3} of the cap)", first_received as f64 / elapsed / c))
            .unwrap_or_default(),
    );
    println!(
        "  herald invite queued them in {queueing:.1} s ({:.0}/s), then followed the sending",
        n as f64 / queueing
    );
    println!("  peak memory: herald run {run_peak:.1} MB, herald invite {invite_peak:.1} MB");
    println!(
        "  {} addresses, {duplicated} duplicated after a rerun, {} mails in all, {german} in German",
        per_address.len(),
        received.len()
    );
    assert_eq!(first_received, n, "every person got their mail");
    assert_eq!(duplicated, 0, "nobody got two");
}
