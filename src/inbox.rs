//! The inbox: every inbound event is stored before anything acts on it, then handled once.
//!
//! Listeners and webhooks call [`receive`]; it stores the event with its (provider, platform event id)
//! unique, so a redelivered event is recognised and dropped. The [`Inbox`] worker claims stored events in
//! arrival order and hands each to the handler registered for its kind. A handler does its work inside the
//! transaction it is given — domain changes and outbox rows alike — and the event is marked done in that
//! same transaction: either all of it happens, once, or none of it does. A handler that fails (or panics)
//! leaves the event `failed` with its error, and the next event goes on. Under load a few events share one
//! transaction (one commit for the group); when one of them fails the group is rolled back and each of
//! its events is handled again alone, so the others keep their effects and the bad one is failed alone.

use std::{collections::HashMap, fmt, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use chrono::TimeDelta;
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::InboxSection,
    db::{
        Backend, Db, Tx,
        inbox::{self, InboxEvent, NewEvent},
    },
    health::Reporter,
};

/// Events handled in one transaction when all goes well: enough that a burst costs one commit per
/// group, few enough that the group holds the SQLite write lock only for milliseconds.
const TOGETHER: usize = 16;

/// Lanes of conversations handled side by side on PostgreSQL.
const SIDE_BY_SIDE: usize = 8;

/// Handles one kind of inbound event.
#[async_trait]
pub trait InboxHandler: Send + Sync + fmt::Debug {
    /// Acts on `event`, writing through `tx` only, and hands the transaction back; the event is then
    /// marked done in it and it commits. Returning an error drops the transaction, which rolls back
    /// everything written.
    async fn handle(&self, tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx>;

    /// The conversation `event` belongs to (a chat), when the handler can tell: events of one
    /// conversation are handled in arrival order, those of different ones may be handled side by side.
    /// `None` puts the event in one sequence with every other event without a conversation.
    fn conversation(&self, _event: &InboxEvent) -> Option<String> {
        None
    }

    /// Called after `handle` failed (its transaction is rolled back), in a transaction of its own: the
    /// place to tell the sender something went wrong. Errors here are only logged.
    async fn failed(
        &self,
        _tx: &mut Tx,
        _event: &InboxEvent,
        _error: &anyhow::Error,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Handlers by event kind (`telegram.update`, `mastodon.notification`, …).
#[derive(Debug, Clone, Default)]
pub struct Handlers(HashMap<String, Arc<dyn InboxHandler>>);

impl Handlers {
    pub fn insert(&mut self, kind: &str, handler: Arc<dyn InboxHandler>) {
        self.0.insert(kind.to_owned(), handler);
    }
}

/// Whether [`receive`] stored the event or had seen it before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Stored(i64),
    Duplicate,
}

/// Stores an inbound event durably (committed when this returns). Call it before acknowledging the
/// event to the platform.
pub async fn receive(db: &Db, clock: &SharedClock, event: &NewEvent) -> anyhow::Result<Received> {
    let mut tx = db.begin().await?;
    let id = inbox::insert(&mut tx, clock.now(), event)
        .await
        .context("Failed to store an inbound event")?;
    tx.commit().await?;
    Ok(id.map_or(Received::Duplicate, Received::Stored))
}

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub done: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct Inbox {
    db: Db,
    clock: SharedClock,
    handlers: Handlers,
    settings: InboxSection,
    owner: String,
}

impl Inbox {
    pub fn new(db: Db, clock: SharedClock, handlers: Handlers, settings: InboxSection) -> Self {
        let owner = format!(
            "{}{}-{:016x}",
            crate::singleton::Queue::Inbox.prefix(),
            std::process::id(),
            rand::random::<u64>()
        );
        Self {
            db,
            clock,
            handlers,
            settings,
            owner,
        }
    }

    /// Processes one claimed batch.
    pub async fn run_once(&self) -> anyhow::Result<(usize, DrainReport)> {
        let now = self.clock.now();
        let lease_until =
            now + TimeDelta::seconds(i64::try_from(self.settings.lease_secs).unwrap_or(60));
        let events = inbox::claim(
            &self.db,
            now,
            &self.owner,
            lease_until,
            self.settings.batch_size,
        )
        .await?;
        let claimed = events.len();
        let mut report = DrainReport::default();
        // On PostgreSQL, events of different conversations are handled side by side (each conversation's
        // in order, in one lane); SQLite has one writer, so there they go one group after the other.
        let sequences = match self.db.backend() {
            Backend::Postgres => self.lanes(events),
            Backend::Sqlite => vec![events],
        };
        let outcomes: Vec<(usize, Vec<InboxEvent>)> = futures::stream::iter(sequences)
            .map(|events| self.process_sequence(events))
            .buffer_unordered(SIDE_BY_SIDE)
            .collect()
            .await;
        let mut alone = Vec::new();
        for (done, failed) in outcomes {
            report.done += done;
            alone.extend(failed);
        }
        // What failed in a group is handled again alone, one event after the other: a bad event fails on
        // its own, and one that only collided with another handled side by side goes through now.
        alone.sort_by_key(|e| e.id);
        for event in alone {
            match self.process(&event).await {
                Ok(()) => report.done += 1,
                Err(err) => {
                    report.failed += 1;
                    let text = format!("{err:#}");
                    tracing::warn!(id = event.id, kind = %event.kind, error = %text, "inbound event failed");
                    inbox::mark_failed(&self.db, self.clock.now(), event.id, &self.owner, &text)
                        .await?;
                    self.report_failure(&event, &err).await;
                }
            }
        }
        Ok((claimed, report))
    }

    /// Splits `events` (in arrival order) into [`SIDE_BY_SIDE`] lanes, each conversation's events all in
    /// one lane, in arrival order; a lane's events then share transactions, [`TOGETHER`] at a time, so
    /// many small conversations still commit in groups. Events of no conversation share the first lane,
    /// in arrival order.
    fn lanes(&self, events: Vec<InboxEvent>) -> Vec<Vec<InboxEvent>> {
        use std::hash::BuildHasher as _;
        let hashing = std::collections::hash_map::RandomState::new();
        let mut lanes: Vec<Vec<InboxEvent>> = (0..SIDE_BY_SIDE).map(|_| Vec::new()).collect();
        for event in events {
            let lane = match self
                .handlers
                .0
                .get(&event.kind)
                .and_then(|h| h.conversation(&event))
            {
                Some(conversation) => {
                    hashing.hash_one((&event.kind, conversation)) as usize % SIDE_BY_SIDE
                }
                None => 0,
            };
            lanes[lane].push(event);
        }
        lanes.retain(|lane| !lane.is_empty());
        lanes
    }

    /// Handles `events` in order, [`TOGETHER`] to a transaction; returns how many were done and the
    /// events of the groups that failed.
    async fn process_sequence(&self, events: Vec<InboxEvent>) -> (usize, Vec<InboxEvent>) {
        let mut done = 0;
        let mut failed = Vec::new();
        for group in events.chunks(TOGETHER) {
            match self.process_together(group).await {
                Ok(()) => done += group.len(),
                Err(err) => {
                    tracing::debug!(error = %format!("{err:#}"), "a group of events failed; handling each alone");
                    failed.extend_from_slice(group);
                }
            }
        }
        (done, failed)
    }

    /// Processes until nothing is left; for tests and one-shot commands.
    pub async fn drain(&self) -> anyhow::Result<DrainReport> {
        let mut total = DrainReport::default();
        loop {
            let (claimed, report) = self.run_once().await?;
            total.done += report.done;
            total.failed += report.failed;
            if claimed == 0 {
                return Ok(total);
            }
        }
    }

    async fn report_failure(&self, event: &InboxEvent, error: &anyhow::Error) {
        let Some(handler) = self.handlers.0.get(&event.kind) else {
            return;
        };
        let outcome = async {
            let mut tx = self.db.begin().await?;
            handler.failed(&mut tx, event, error).await?;
            tx.commit().await
        };
        if let Err(err) = outcome.await {
            tracing::warn!(id = event.id, error = %format!("{err:#}"), "could not report a failed event");
        }
    }

    /// Handles `events` one after the other in one transaction, each marked done in it: under load one
    /// commit carries many events. Any failure (an error, a panic, a lost lease) rolls the whole group
    /// back, and the caller handles each of its events alone, so one bad event costs the others only a
    /// second try and never their effects.
    async fn process_together(&self, events: &[InboxEvent]) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        for event in events {
            tx = self.handle(tx, event).await?;
        }
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        let done = inbox::mark_all_done(&mut tx, self.clock.now(), &ids, &self.owner).await?;
        if done != ids.len() as u64 {
            anyhow::bail!(
                "lease lost on {} of the group's events",
                ids.len() as u64 - done
            );
        }
        tx.commit().await
    }

    /// Runs the event's handler in `tx`, a panic turned into an error.
    async fn handle(&self, tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx> {
        let handler =
            self.handlers.0.get(&event.kind).with_context(|| {
                format!("no handler for inbound events of kind {:?}", event.kind)
            })?;
        let handled = AssertUnwindSafe(handler.handle(tx, event))
            .catch_unwind()
            .await;
        // On error or panic the transaction was dropped with the handler's future, rolling it back.
        match handled {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                anyhow::bail!("handler panicked: {what}");
            }
        }
    }

    #[tracing::instrument(skip_all, fields(id = event.id, kind = %event.kind))]
    async fn process(&self, event: &InboxEvent) -> anyhow::Result<()> {
        let tx = self.db.begin().await?;
        let mut tx = self.handle(tx, event).await?;
        if !inbox::mark_done(&mut tx, self.clock.now(), event.id, &self.owner).await? {
            // Our lease ran out and another worker took the event: let its run count, not ours.
            tx.rollback().await?;
            tracing::warn!("lease lost while handling; left to the other worker");
            return Ok(());
        }
        tx.commit().await
    }

    pub async fn run(self, shutdown: CancellationToken, health: Reporter) {
        let _heartbeat = crate::singleton::heartbeat(
            self.db.clone(),
            self.clock.clone(),
            self.owner.clone(),
            crate::singleton::Queue::Inbox,
            Arc::default(),
        );
        let wake = self.db.inbox_signal();
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let wait = match self.run_once().await {
                Ok((claimed, report)) => {
                    health.ok(self.clock.now());
                    if report.failed > 0 {
                        health.noted_error(
                            self.clock.now(),
                            &format!("{} inbound event(s) failed", report.failed),
                        );
                    }
                    if claimed > 0 {
                        continue;
                    }
                    match inbox::next_wake(&self.db).await {
                        Ok(Some(next)) => (next - self.clock.now())
                            .to_std()
                            .unwrap_or(Duration::ZERO)
                            .min(poll),
                        _ => poll,
                    }
                }
                Err(err) => {
                    tracing::error!(error = ?err, "inbox round failed");
                    health.failing(self.clock.now(), &err);
                    poll
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        health.stopped();
    }
}
