//! Wake-ups across processes on PostgreSQL: two applications on one database, as two Herald processes
//! would be; a row one of them commits is sent by the other's worker at once, not at its next poll.
//!
//! PostgreSQL only (`TEST_DATABASE_URL`): on SQLite one process runs and the commit's own wake-up is all
//! there is; these tests then say so and pass.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use herald::{Application, db::outbox, delivery::telegram, health::State};
use herald_bots::telegram::OutgoingMessage;
use support::FakeTelegram;
use tokio_util::sync::CancellationToken;

fn on_postgres() -> bool {
    let on = std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    if !on {
        eprintln!("skipped: wake-ups across processes need PostgreSQL (TEST_DATABASE_URL)");
    }
    on
}

/// Two applications on one fresh database; the second runs its outbox worker and the wake-up relay,
/// polling only once a minute, so what it sends within seconds it was woken for. Their connections carry
/// `name` as PostgreSQL's `application_name`, so a test can find its own among other tests'.
struct Pair {
    writer: Application,
    sender: Application,
    telegram: FakeTelegram,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start(name: &str) -> Self {
        let telegram = FakeTelegram::start().await;
        let (mut config, dir) = support::test_config(&telegram).await;
        config.outbox.poll_interval_ms = 60_000;
        config.database_url = herald::config::SecretUrl::new(format!(
            "{}&application_name={name}",
            config.database_url.expose()
        ));
        let writer = Application::build(config.clone()).await.unwrap();
        let sender = Application::build(config).await.unwrap();
        let shutdown = CancellationToken::new();
        tokio::spawn(
            sender
                .outbox
                .clone()
                .run(shutdown.clone(), sender.health.register("outbox")),
        );
        tokio::spawn(sender.db.clone().relay_wakeups(
            sender.clock.clone(),
            sender.health.register("wakeups"),
            shutdown.clone(),
        ));
        let pair = Self {
            writer,
            sender,
            telegram,
            shutdown,
            _dir: dir,
        };
        pair.until_running().await;
        pair
    }

    /// Until the sender's worker and relay both report running.
    async fn until_running(&self) {
        for _ in 0..500 {
            let components = self.sender.health.snapshot();
            if ["outbox", "wakeups"].iter().all(|c| {
                components
                    .get(*c)
                    .is_some_and(|c| c.state == State::Running)
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the sender's worker and relay did not start");
    }

    /// Writes a message through the writer's database handle.
    async fn write(&self, chat: i64, key: &str) {
        let db = &self.writer.db;
        let now = herald::clock::Clock::now(self.writer.clock.as_ref());
        let message = telegram::message(
            chat,
            "test",
            key,
            &OutgoingMessage::html("from the other process"),
            now,
            None,
        )
        .unwrap();
        let mut tx = db.begin().await.unwrap();
        outbox::enqueue(&mut tx, now, &message).await.unwrap();
        tx.commit().await.unwrap();
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[tokio::test]
async fn a_row_committed_by_one_process_is_sent_by_the_other_without_waiting_for_its_poll() {
    if !on_postgres() {
        return;
    }
    let pair = Pair::start("herald_wake_send").await;
    for n in 1..=3 {
        pair.write(500 + n, &format!("w{n}")).await;
        assert!(
            pair.telegram
                .wait_for_delivered(n as usize, Duration::from_secs(5))
                .await,
            "message {n} was not sent by the other process within 5 s (its poll is 60 s)"
        );
    }
}

#[tokio::test]
async fn a_relay_whose_connection_was_cut_listens_again_and_catches_up() {
    if !on_postgres() {
        return;
    }
    let pair = Pair::start("herald_wake_cut").await;
    // Cut the relay's connection, as a network failure or a restarted pooler would.
    let cut: i64 = {
        let herald::db::Pool::Postgres(pool) = pair.writer.db.pool() else {
            unreachable!("on PostgreSQL")
        };
        sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'herald_wake_cut' AND query LIKE 'LISTEN %'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    assert!(cut >= 1, "the relay's connection was found");
    // Written while the relay may still be reconnecting: its notice can be lost, the catch-up is not.
    pair.write(601, "after-cut").await;
    assert!(
        pair.telegram
            .wait_for_delivered(1, Duration::from_secs(5))
            .await,
        "the row written across the cut was not sent within 5 s (the poll is 60 s)"
    );
    pair.write(602, "after-reconnect").await;
    assert!(
        pair.telegram
            .wait_for_delivered(2, Duration::from_secs(5))
            .await,
        "the relay listens again after the cut"
    );
}
