//! The store: one home for every query.
//!
//! Herald runs on SQLite (the embedded default) or PostgreSQL (several processes sharing one database),
//! chosen at run time from the URL scheme. [`Db`] holds one pool of either kind, and the [`on_db!`] /
//! [`on_tx!`] macros expand the same runtime query once per backend, so each arm is type-checked against
//! its own driver and timestamps, booleans and JSON keep their native encodings. Where the SQL itself must
//! differ (`FOR UPDATE SKIP LOCKED`), the query functions `match` on the backend.
//!
//! Writes go through a [`Tx`]; committing it wakes the outbox worker when the transaction wrote outbox
//! rows, so a message written by any part of the application is picked up at once. On PostgreSQL the
//! workers of every other process sharing the database are woken too: the transaction sends a `NOTIFY`
//! (delivered only if it commits), and [`Db::relay_wakeups`] listens on a connection of its own and wakes
//! this process's workers. A notice sent while that connection is down is lost, so every (re)connection
//! wakes the workers once to catch up, and the workers' slow poll stays as the last safety net.

pub mod bindings;
pub mod campaigns;
pub mod chat;
pub mod conferences;
pub mod contacts;
pub mod documents;
pub mod email;
pub mod hashtags;
pub mod inbox;
pub mod invitations;
pub mod leases;
pub mod links;
pub mod mentions;
pub mod news;
pub mod outbox;
pub mod people;
pub mod post_images;
pub mod posts;
pub mod providers;
pub mod schedule;
pub mod sponsors;
pub mod subscriptions;
pub mod system;
pub mod web;
pub mod web_chat;

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};
use tokio_util::sync::CancellationToken;

use crate::{clock::SharedClock, health::Reporter};

/// The PostgreSQL channel committed transactions notify on; the payload names the queue they wrote.
const WAKE_CHANNEL: &str = "herald_wake";
const WAKE_OUTBOX: &str = "outbox";
const WAKE_INBOX: &str = "inbox";

/// Runs `$body` with `$pool` bound to the backend's pool.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx.inner_mut() {
            $crate::db::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {on_db, on_tx};

/// How far `/healthz` counts a queue's unfinished rows (beyond that, the exact number does not matter).
pub const BACKLOG_CAP: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database, and the signal that new outbox and inbox work was committed.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
    wake_outbox: Arc<Notify>,
    wake_inbox: Arc<Notify>,
    /// SQLite has one writer at a time. Left to SQLite, writers that find the lock taken sleep and retry
    /// (up to 100 ms a time), and a writer that commits and begins again at once can take the lock
    /// over and over while the others sleep. So this process's writers queue here first, in arrival order,
    /// and each finds the lock free when its turn comes. Unused on PostgreSQL.
    writers: Arc<Mutex<()>>,
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). SQLite files are created if missing and run
    /// with WAL, foreign keys and a busy timeout, so readers never block the writer and a briefly busy
    /// database waits instead of failing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("Failed to parse the SQLite database URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("Failed to open the SQLite database")?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .context("Failed to parse the PostgreSQL database URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("Failed to connect to PostgreSQL")?;
            Pool::Postgres(pool)
        } else {
            bail!("unsupported database URL scheme: expected sqlite://… or postgres://…");
        };
        Ok(Self {
            pool,
            wake_outbox: Arc::default(),
            wake_inbox: Arc::default(),
            writers: Arc::default(),
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations for this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
        .context("Failed to apply database migrations")
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> anyhow::Result<()> {
        on_db!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
        .context("Failed to reach the database")
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes can fail with SQLITE_BUSY without waiting.
    /// On SQLite the transaction first waits for this process's earlier writers, in order.
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        let turn = self.write_turn().await;
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            db: self.clone(),
            wrote_outbox: false,
            wrote_inbox: false,
            _turn: turn,
        })
    }

    /// On SQLite, this process's turn to write, held until dropped (see `writers`); for a single write
    /// statement run on the pool outside a [`Tx`]. Nothing on PostgreSQL.
    pub async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.writers.clone().lock_owned().await),
            Pool::Postgres(_) => None,
        }
    }

    /// Notified after a commit that wrote outbox rows.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.wake_outbox.clone()
    }

    /// Notified after a commit that wrote inbox events.
    pub fn inbox_signal(&self) -> Arc<Notify> {
        self.wake_inbox.clone()
    }

    /// Wakes the workers of every queue, as if each had a commit of its own.
    fn wake_all(&self) {
        self.wake_outbox.notify_one();
        self.wake_inbox.notify_one();
    }

    /// On PostgreSQL, until `shutdown`: listens on a dedicated connection for the notices that commits of
    /// any process sharing the database send, and wakes this process's workers of the queue each names.
    /// After every (re)connection it wakes them all once, for what was committed while nobody listened.
    /// On SQLite (one process) it returns at once: the commit's own wake-up is enough.
    pub async fn relay_wakeups(
        self,
        clock: SharedClock,
        health: Reporter,
        shutdown: CancellationToken,
    ) {
        let Pool::Postgres(pool) = &self.pool else {
            return;
        };
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            let mut listener = match listen(pool).await {
                Ok(listener) => listener,
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = ?err, "could not listen for wake-ups; retrying");
                    health.failing(clock.now(), &err);
                    let pause = Duration::from_millis(200).saturating_mul(1 << failures.min(6));
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(pause) => continue,
                    }
                }
            };
            failures = 0;
            health.ok(clock.now());
            self.wake_all();
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => break,
                    received = listener.try_recv() => received,
                };
                match received {
                    Ok(Some(notice)) => match notice.payload() {
                        WAKE_OUTBOX => self.wake_outbox.notify_one(),
                        WAKE_INBOX => self.wake_inbox.notify_one(),
                        _ => self.wake_all(),
                    },
                    // The connection was lost and is back, listening again: catch up.
                    Ok(None) => {
                        tracing::info!("wake-up listener reconnected; catching up");
                        health.ok(clock.now());
                        self.wake_all();
                    }
                    Err(err) => {
                        let err = anyhow::Error::new(err).context("the wake-up listener failed");
                        tracing::warn!(error = ?err, "reconnecting the wake-up listener");
                        health.failing(clock.now(), &err);
                        break;
                    }
                }
            }
        }
        health.stopped();
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// A listener for wake-up notices on a connection it keeps to itself (taken from the pool for good; a lost
/// one is replaced, listening again, before [`PgListener::try_recv`] says it was lost).
async fn listen(pool: &PgPool) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .context("Failed to open the wake-up listener's connection")?;
    listener
        .listen(WAKE_CHANNEL)
        .await
        .context("Failed to LISTEN for wake-ups")?;
    Ok(listener)
}

#[derive(Debug)]
pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A write transaction on either backend.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
    db: Db,
    wrote_outbox: bool,
    wrote_inbox: bool,
    /// This process's turn to write on SQLite, given back when the transaction ends.
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub fn inner_mut(&mut self) -> &mut TxInner {
        &mut self.inner
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub(crate) fn mark_outbox_written(&mut self) {
        self.wrote_outbox = true;
    }

    pub(crate) fn mark_inbox_written(&mut self) {
        self.wrote_inbox = true;
    }

    /// Commits, then wakes the workers whose tables this transaction wrote. On PostgreSQL the transaction
    /// also notifies the other processes' [`Db::relay_wakeups`] (PostgreSQL delivers a notice on commit,
    /// and never for a transaction rolled back).
    pub async fn commit(self) -> anyhow::Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await,
            TxInner::Postgres(mut t) => {
                for (wrote, queue) in [
                    (self.wrote_outbox, WAKE_OUTBOX),
                    (self.wrote_inbox, WAKE_INBOX),
                ] {
                    if wrote {
                        sqlx::query("SELECT pg_notify($1, $2)")
                            .bind(WAKE_CHANNEL)
                            .bind(queue)
                            .execute(&mut *t)
                            .await
                            .context("Failed to notify the other processes")?;
                    }
                }
                t.commit().await
            }
        }
        .context("Failed to commit a transaction")?;
        if self.wrote_outbox {
            self.db.wake_outbox.notify_one();
        }
        if self.wrote_inbox {
            self.db.wake_inbox.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> anyhow::Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await,
            TxInner::Postgres(t) => t.rollback().await,
        }
        .context("Failed to roll back a transaction")
    }
}
