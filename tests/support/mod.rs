//! The test harness: [`TestApp`] builds the real application through [`Application::build_with`] — the
//! same function `main` uses — with a fresh database, port 0, Telegram pointed at [`FakeTelegram`], and a
//! clock the test moves by hand. Tests drain the outbox and inbox explicitly and never sleep.
//!
//! The database is a temporary SQLite file, or a fresh schema in the PostgreSQL database named by
//! `TEST_DATABASE_URL` when that is set.

#![allow(dead_code, clippy::unwrap_used)]

pub mod fake_telegram;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use herald::{
    Application, Extras,
    clock::ManualClock,
    config::{Config, Secret},
    db::{
        Db,
        outbox::{self, Enqueued, OutboxRow},
    },
    inbox::Handlers,
    outbox::RunReport,
    telegram,
};
use herald_bots::telegram::OutgoingMessage;
use sqlx::Connection;

#[allow(unused_imports)]
pub use fake_telegram::{FakeTelegram, Fault};

pub const TOKEN: &str = "123456:TEST-TOKEN";

/// When every test starts: a conference morning.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 27, 9, 0, 0)
        .single()
        .expect("valid time")
}

/// A fresh database URL, and the temporary directory that holds it (keep it alive).
pub async fn fresh_database() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("test_{:016x}", rand::random::<u64>());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await
                .expect("create schema");
            let separator = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{separator}options=-c%20search_path%3D{schema}"),
                dir,
            )
        }
        _ => {
            let path = dir.path().join("herald.db");
            (format!("sqlite://{}", path.display()), dir)
        }
    }
}

/// The configuration tests start from: a fresh database, port 0, Telegram pointed at `telegram`.
pub async fn test_config(telegram: &FakeTelegram) -> (Config, tempfile::TempDir) {
    let (database_url, dir) = fresh_database().await;
    let mut config = Config::default();
    config.database_url = herald::config::DatabaseUrl::new(database_url);
    config.listen = "127.0.0.1:0".parse().expect("addr");
    config.telegram.token = Some(Secret::new(TOKEN));
    config.telegram.api_url = Some(telegram.url.clone());
    config.outbox.send_timeout_ms = 500;
    (config, dir)
}

pub struct TestApp {
    pub app: Application,
    pub telegram: FakeTelegram,
    pub clock: Arc<ManualClock>,
    pub base_url: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, Handlers::default()).await
    }

    /// `adjust` changes the test configuration before the application is built.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config), handlers: Handlers) -> Self {
        let telegram = FakeTelegram::start().await;
        let (mut config, dir) = test_config(&telegram).await;
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut app = Application::build_with(
            config,
            Extras {
                clock: clock.clone(),
                handlers,
            },
        )
        .await
        .expect("the application builds");
        app.spawn_web().expect("web server");
        let base_url = format!("http://{}", app.local_addr());
        Self {
            app,
            telegram,
            clock,
            base_url,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        herald::clock::Clock::now(self.clock.as_ref())
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    /// Writes a Telegram text message to the outbox, due now unless `due` says otherwise.
    pub async fn enqueue(&self, chat: i64, text: &str, key: &str) -> i64 {
        self.enqueue_at(chat, text, key, self.now(), None).await
    }

    pub async fn enqueue_at(
        &self,
        chat: i64,
        text: &str,
        key: &str,
        due: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> i64 {
        let message = telegram::message(
            chat,
            "test",
            key,
            &OutgoingMessage::html(text),
            due,
            expires,
        )
        .expect("message");
        let mut tx = self.db().begin().await.expect("begin");
        let id = outbox::enqueue(&mut tx, self.now(), &message)
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
        match id {
            Enqueued::New(id) | Enqueued::Existing(id) => id,
        }
    }

    /// One outbox round at the current time.
    pub async fn outbox_round(&self) -> RunReport {
        self.app.outbox.run_once().await.expect("outbox round")
    }

    /// Rounds until a round claims nothing (at the current time; the clock does not move).
    pub async fn drain_outbox(&self) -> RunReport {
        let mut total = RunReport::default();
        loop {
            let r = self.outbox_round().await;
            if r.claimed == 0 {
                return total;
            }
            total.claimed += r.claimed;
            total.sent += r.sent;
            total.deferred += r.deferred;
            total.retried += r.retried;
            total.given_up += r.given_up;
            total.expired += r.expired;
        }
    }

    pub async fn row(&self, id: i64) -> OutboxRow {
        outbox::get(self.db(), id)
            .await
            .expect("query")
            .expect("row exists")
    }
}
