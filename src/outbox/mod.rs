//! The outbox worker: every outgoing message leaves Herald through here.
//!
//! ```text
//!   any change ──(same transaction)──► outbox row (pending, due_at, expires_at, idempotency_key)
//!                                            │  commit wakes the worker (Notify); polling is the fallback
//!                                            ▼
//!   run_once:  claim due rows with a lease ──► expired? ──────────────► expired (recorded, never sent late)
//!                                            │ rate limits (per provider, per chat) say wait?
//!                                            │                 └──────► pending again at the estimated time
//!                                            ▼
//!              one task per chat, chats in parallel ──► Sender (bots/<platform>)
//!                                            │
//!              ok ─► sent (platform id)      │ retry_after ─► pending at exactly now + retry_after
//!              permanent ─► given_up         │ transient ─► pending at now + backoff (doubling, capped)
//!              chat moved ─► retargeted      │ out of attempts, or past the deadline ─► given_up / expired
//!                                            ▼
//!              all outcomes of a round are recorded in one transaction
//! ```
//!
//! Delivery is at-least-once: if the process dies after the platform accepted a message but before the
//! outcome is recorded, the lease runs out and the row is sent again. The idempotency key is passed to
//! platforms that deduplicate (Mastodon's `Idempotency-Key`), which makes the second send harmless there.
//!
//! Within one chat, messages go in order: a chat's messages are sent one after another by one task, and a
//! failure defers the rest of that chat's messages behind it.

pub mod limiter;

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use herald_bots::{Disposition, RateLimits};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::{OutboxSection, RateLimitOverrides},
    db::{
        Db,
        outbox::{self, OutboxRow, Outcome},
    },
    health::Reporter,
};
use limiter::{Key, Limiter};

/// How a platform classes a target for its per-chat limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatClass {
    Private,
    Group,
}

/// One message handed to a driver.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub provider: &'a str,
    pub target: &'a str,
    pub body: &'a str,
    pub idempotency_key: &'a str,
    /// When the row was written: stable across retries, for platform keys derived from it.
    pub created_at: DateTime<Utc>,
}

/// A failed send, as the outbox needs to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub disposition: Disposition,
    pub message: String,
    /// The platform moved the chat to a new id (Telegram's `migrate_to_chat_id`).
    pub moved_to: Option<String>,
}

impl SendError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            disposition: Disposition::Permanent,
            message: message.into(),
            moved_to: None,
        }
    }
}

/// A platform driver, as the outbox sees it. One per platform; later platforms plug in by implementing it.
#[async_trait]
pub trait Sender: Send + Sync + fmt::Debug {
    /// The platform's documented limits (configuration may override them).
    fn limits(&self) -> RateLimits;
    fn chat_class(&self, target: &str) -> ChatClass;
    /// Sends one message; returns the platform's id for it.
    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError>;
}

/// The drivers by platform name.
#[derive(Debug, Clone, Default)]
pub struct Senders(HashMap<String, Arc<dyn Sender>>);

impl Senders {
    pub fn insert(&mut self, platform: &str, sender: Arc<dyn Sender>) {
        self.0.insert(platform.to_owned(), sender);
    }

    pub fn get(&self, platform: &str) -> Option<&Arc<dyn Sender>> {
        self.0.get(platform)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub claimed: usize,
    pub sent: usize,
    pub deferred: usize,
    pub retried: usize,
    pub given_up: usize,
    pub expired: usize,
}

impl RunReport {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Sent { .. } => self.sent += 1,
            Outcome::Deferred { .. } | Outcome::Retarget { .. } => self.deferred += 1,
            Outcome::Retry { .. } => self.retried += 1,
            Outcome::GivenUp { .. } => self.given_up += 1,
            Outcome::Expired { .. } => self.expired += 1,
        }
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn joined(
    result: Result<anyhow::Result<RunReport>, tokio::task::JoinError>,
) -> anyhow::Result<RunReport> {
    result.unwrap_or_else(|err| Err(anyhow::anyhow!("recording a round failed: {err}")))
}

/// A round whose sends are done and whose outcomes are not yet recorded.
#[derive(Debug)]
struct Round {
    report: RunReport,
    outcomes: Vec<(i64, Outcome)>,
    /// (platform, target) of each sent row, to follow chats that moved.
    origin: HashMap<i64, (String, String)>,
    /// (kind, idempotency key) of every claimed row, for the observers.
    keys: HashMap<i64, (String, String)>,
}

/// Told about rows that reached an end (sent, given up, expired) — in the transaction that records it,
/// so what depends on a delivery (a post's overall state) changes with it.
#[async_trait]
pub trait Observer: Send + Sync + fmt::Debug {
    /// The row kinds this observer cares about.
    fn kinds(&self) -> &'static [&'static str];
    async fn finished(
        &self,
        tx: &mut crate::db::Tx,
        now: DateTime<Utc>,
        rows: &[(&str, &Outcome)],
    ) -> anyhow::Result<()>;
}

/// The outbox worker. Cheap to clone; clones share the rate limiter.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    clock: SharedClock,
    senders: Senders,
    settings: OutboxSection,
    limiter: Arc<Mutex<Limiter>>,
    /// Identifies this process's leases.
    owner: String,
    observers: Vec<Arc<dyn Observer>>,
}

impl Outbox {
    pub fn new(db: Db, clock: SharedClock, senders: Senders, settings: OutboxSection) -> Self {
        let owner = format!(
            "outbox-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        Self {
            db,
            clock,
            senders,
            settings,
            limiter: Arc::default(),
            owner,
            observers: Vec::new(),
        }
    }

    /// Adds an observer of finished rows.
    pub fn observe(&mut self, observer: Arc<dyn Observer>) {
        self.observers.push(observer);
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn limits_for(&self, platform: &str, sender: &dyn Sender) -> RateLimits {
        let overrides = self
            .settings
            .rate_limits
            .get(platform)
            .copied()
            .unwrap_or(RateLimitOverrides::default());
        overrides.apply(sender.limits())
    }

    /// Delay before retrying after the `attempts`-th attempt failed: base · 2^(attempts-1), capped.
    fn backoff(&self, attempts: i64) -> TimeDelta {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let delay = self
            .settings
            .backoff_base()
            .saturating_mul(2u32.saturating_pow(exp));
        delta(delay.min(self.settings.backoff_cap()))
    }

    /// One round: claim what is due, send what the limits allow, record every outcome.
    #[tracing::instrument(skip_all, fields(owner = %self.owner))]
    pub async fn run_once(&self) -> anyhow::Result<RunReport> {
        let round = self.claim_and_send().await?;
        self.record(round).await
    }

    /// The first half of a round: claim, check limits, send. Nothing is recorded yet.
    async fn claim_and_send(&self) -> anyhow::Result<Round> {
        let now = self.clock.now();
        let lease_until = now + delta(self.settings.lease());
        let rows = outbox::claim(
            &self.db,
            now,
            &self.owner,
            lease_until,
            self.settings.batch_size,
        )
        .await
        .context("Failed to claim outbox rows")?;
        let report = RunReport {
            claimed: rows.len(),
            ..RunReport::default()
        };
        if rows.is_empty() {
            return Ok(Round {
                report,
                outcomes: Vec::new(),
                origin: HashMap::new(),
                keys: HashMap::new(),
            });
        }
        let keys: HashMap<i64, (String, String)> = rows
            .iter()
            .map(|r| (r.id, (r.kind.clone(), r.idempotency_key.clone())))
            .collect();

        let mut outcomes: Vec<(i64, Outcome)> = Vec::with_capacity(rows.len());
        // Messages to send now, grouped per (provider, target) in order.
        let mut chats: Vec<Vec<OutboxRow>> = Vec::new();
        let mut chat_index: HashMap<(String, String), usize> = HashMap::new();
        {
            let mut limiter = self.limiter.lock().await;
            // How many rows each key has already pushed back this round, to spread them out.
            let mut pushed_back: HashMap<Key, usize> = HashMap::new();
            for row in rows {
                if row.expires_at.is_some_and(|deadline| deadline <= now) {
                    outcomes.push((
                        row.id,
                        Outcome::Expired {
                            reason: "deadline passed before it could be sent".into(),
                        },
                    ));
                    continue;
                }
                let Some(sender) = self.senders.get(&row.platform) else {
                    let error = format!("no driver is configured for platform {:?}", row.platform);
                    outcomes.push((
                        row.id,
                        self.after_failure(&row, now, now + self.backoff(row.attempts), error),
                    ));
                    continue;
                };
                let limits = self.limits_for(&row.platform, sender.as_ref());
                let chat_rate = match sender.chat_class(&row.target) {
                    ChatClass::Private => limits.per_private_chat,
                    ChatClass::Group => limits.per_group_chat,
                };
                let provider_key = Key::Provider(row.provider.clone());
                let chat_key = Key::Chat {
                    provider: row.provider.clone(),
                    target: row.target.clone(),
                };
                let ready = limiter
                    .earliest(&provider_key, limits.per_provider, now)
                    .max(limiter.earliest(&chat_key, chat_rate, now));
                if ready > now {
                    // When this row's turn comes if the window frees up as it should: the k-th row held
                    // back on a key goes in the k-th free slot, so the next claim does not take every
                    // held-back row again at once.
                    let mut at = ready;
                    for (key, rate) in [(provider_key, limits.per_provider), (chat_key, chat_rate)]
                    {
                        let k = pushed_back.entry(key.clone()).or_insert(0);
                        at = at.max(limiter.earliest_nth(&key, rate, now, *k));
                        *k += 1;
                    }
                    outcomes.push((row.id, self.deferred(&row, at)));
                    continue;
                }
                limiter.record(&provider_key, limits.per_provider, now);
                limiter.record(&chat_key, chat_rate, now);
                let key = (row.provider.clone(), row.target.clone());
                let index = *chat_index.entry(key).or_insert_with(|| {
                    chats.push(Vec::new());
                    chats.len() - 1
                });
                chats[index].push(row);
            }
            limiter.prune(now, TimeDelta::hours(1));
        }

        let origin: HashMap<i64, (String, String)> = chats
            .iter()
            .flatten()
            .map(|r| (r.id, (r.platform.clone(), r.target.clone())))
            .collect();
        let concurrency = self.settings.concurrency as usize;
        let sent: Vec<Vec<(i64, Outcome)>> =
            futures::stream::iter(chats.into_iter().map(|rows| self.send_chat(rows)))
                .buffer_unordered(concurrency)
                .collect()
                .await;
        outcomes.extend(sent.into_iter().flatten());

        Ok(Round {
            report,
            outcomes,
            origin,
            keys,
        })
    }

    /// The second half of a round: record every outcome in one transaction.
    async fn record(&self, round: Round) -> anyhow::Result<RunReport> {
        let Round {
            mut report,
            outcomes,
            origin,
            keys,
        } = round;
        if outcomes.is_empty() {
            return Ok(report);
        }
        let finished = self.clock.now();
        let mut tx = self.db.begin().await?;
        outbox::record(&mut tx, finished, &self.owner, &outcomes)
            .await
            .context("Failed to record outbox outcomes")?;
        // A chat that moved takes every message still queued for it along.
        for (id, outcome) in &outcomes {
            if let (Outcome::Retarget { target }, Some((platform, from))) =
                (outcome, origin.get(id))
            {
                outbox::retarget_pending(&mut tx, finished, platform, from, target).await?;
            }
        }
        for observer in &self.observers {
            let finished_rows: Vec<(&str, &Outcome)> = outcomes
                .iter()
                .filter(|(_, o)| {
                    matches!(
                        o,
                        Outcome::Sent { .. } | Outcome::GivenUp { .. } | Outcome::Expired { .. }
                    )
                })
                .filter_map(|(id, o)| {
                    keys.get(id)
                        .map(|(kind, key)| (kind.as_str(), key.as_str(), o))
                })
                .filter(|(kind, _, _)| observer.kinds().contains(kind))
                .map(|(_, key, o)| (key, o))
                .collect();
            if !finished_rows.is_empty() {
                observer.finished(&mut tx, finished, &finished_rows).await?;
            }
        }
        tx.commit().await?;
        for (_, outcome) in &outcomes {
            report.count(outcome);
        }
        Ok(report)
    }

    /// A row not attempted now; expires instead if `at` is past its deadline.
    fn deferred(&self, row: &OutboxRow, at: DateTime<Utc>) -> Outcome {
        match row.expires_at {
            Some(deadline) if at >= deadline => Outcome::Expired {
                reason: "rate limits would delay it past its deadline".into(),
            },
            _ => Outcome::Deferred { at },
        }
    }

    /// A failed attempt that may be retried at `at`: retried, given up, or expired.
    fn after_failure(
        &self,
        row: &OutboxRow,
        _now: DateTime<Utc>,
        at: DateTime<Utc>,
        error: String,
    ) -> Outcome {
        if row.attempts >= i64::from(self.settings.max_attempts) {
            return Outcome::GivenUp {
                error: format!("gave up after {} attempts: {error}", row.attempts),
            };
        }
        match row.expires_at {
            Some(deadline) if at >= deadline => Outcome::Expired {
                reason: format!("the next attempt would be past the deadline; last error: {error}"),
            },
            _ => Outcome::Retry { at, error },
        }
    }

    /// Sends one chat's messages in order; the first failure holds back the rest.
    async fn send_chat(&self, rows: Vec<OutboxRow>) -> Vec<(i64, Outcome)> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut held: Option<Outcome> = None;
        for row in rows {
            if let Some(hold) = &held {
                let outcome = match hold {
                    Outcome::Retarget { target } => Outcome::Retarget {
                        target: target.clone(),
                    },
                    Outcome::Retry { at, .. } => self.deferred(&row, *at),
                    _ => self.deferred(&row, self.clock.now()),
                };
                outcomes.push((row.id, outcome));
                continue;
            }
            let outcome = self.send_one(&row).await;
            if matches!(outcome, Outcome::Retry { .. } | Outcome::Retarget { .. }) {
                held = Some(outcome.clone());
            }
            outcomes.push((row.id, outcome));
        }
        outcomes
    }

    #[tracing::instrument(skip_all, fields(id = row.id, platform = %row.platform, attempt = row.attempts))]
    async fn send_one(&self, row: &OutboxRow) -> Outcome {
        let Some(sender) = self.senders.get(&row.platform) else {
            return Outcome::GivenUp {
                error: "driver vanished".into(),
            };
        };
        let delivery = Delivery {
            provider: &row.provider,
            target: &row.target,
            body: &row.body,
            idempotency_key: &row.idempotency_key,
            created_at: row.created_at,
        };
        let result = sender.send(delivery).await;
        let now = self.clock.now();
        match result {
            Ok(platform_message_id) => Outcome::Sent {
                platform_message_id,
            },
            Err(SendError {
                moved_to: Some(target),
                ..
            }) => {
                tracing::info!(new_target = %target, "chat moved; following it");
                Outcome::Retarget { target }
            }
            Err(err) => {
                tracing::warn!(error = %err.message, disposition = ?err.disposition, "send failed");
                match err.disposition {
                    Disposition::Permanent => Outcome::GivenUp { error: err.message },
                    Disposition::RetryAfter(after) => {
                        // The platform said exactly when; hold every message to this chat until then.
                        let at = now + delta(after);
                        let chat_key = Key::Chat {
                            provider: row.provider.clone(),
                            target: row.target.clone(),
                        };
                        self.limiter.lock().await.block(&chat_key, at);
                        self.after_failure(row, now, at, err.message)
                    }
                    Disposition::Transient => {
                        // Hold the chat's later messages until this one's retry, to keep their order.
                        let at = now + self.backoff(row.attempts);
                        let chat_key = Key::Chat {
                            provider: row.provider.clone(),
                            target: row.target.clone(),
                        };
                        self.limiter.lock().await.block(&chat_key, at);
                        self.after_failure(row, now, at, err.message)
                    }
                }
            }
        }
    }

    /// Runs rounds until `shutdown`: at once while there is a backlog, otherwise when a commit wakes it,
    /// when the next row falls due, or after the poll interval, whichever is first.
    ///
    /// While there is a backlog, a round's outcomes are recorded while the next round is claimed and
    /// sent (at most one recording in flight). Ordering within a chat does not depend on the recording:
    /// a failed send blocks its chat in the limiter until its retry time.
    pub async fn run(self, shutdown: CancellationToken, health: Reporter) {
        let wake = self.db.outbox_signal();
        let poll = self.settings.poll_interval();
        let batch = self.settings.batch_size as usize;
        let mut failures: u32 = 0;
        let mut recording: Option<tokio::task::JoinHandle<anyhow::Result<RunReport>>> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let round = self.claim_and_send().await;
            if let Some(previous) = recording.take() {
                self.settle(joined(previous.await), &health, &mut failures);
            }
            let healthy = match round {
                Ok(round) if round.report.claimed >= batch => {
                    let this = self.clone();
                    recording = Some(tokio::spawn(async move { this.record(round).await }));
                    continue;
                }
                Ok(round) => {
                    let recorded = self.record(round).await;
                    self.settle(recorded, &health, &mut failures)
                }
                Err(err) => self.settle(Err(err), &health, &mut failures),
            };
            let wait = if healthy {
                self.until_next_due(poll).await
            } else {
                poll.saturating_mul(failures.min(30))
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        if let Some(previous) = recording.take() {
            self.settle(joined(previous.await), &health, &mut failures);
        }
        health.stopped();
    }

    /// Reports a round's result to the health registry; `false` if it failed.
    fn settle(
        &self,
        result: anyhow::Result<RunReport>,
        health: &Reporter,
        failures: &mut u32,
    ) -> bool {
        match result {
            Ok(report) => {
                *failures = 0;
                health.ok(self.clock.now());
                if report.given_up > 0 {
                    health.noted_error(
                        self.clock.now(),
                        &format!("{} message(s) given up", report.given_up),
                    );
                }
                true
            }
            Err(err) => {
                *failures += 1;
                tracing::error!(error = ?err, "outbox round failed");
                health.failing(self.clock.now(), &err);
                false
            }
        }
    }

    async fn until_next_due(&self, poll: Duration) -> Duration {
        match outbox::next_wake(&self.db).await {
            Ok(Some(next)) => (next - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(poll),
            Ok(None) => poll,
            Err(err) => {
                tracing::warn!(error = ?err, "could not read the next due time");
                poll
            }
        }
    }

    /// Hands back rows this worker still holds (shutdown could not wait for their sends).
    pub async fn release_held(&self, reason: &str) -> anyhow::Result<u64> {
        outbox::release(&self.db, self.clock.now(), &self.owner, reason).await
    }
}
