//! The outbox worker: every outgoing message leaves Herald through here.
//!
//! ```text
//!   any change ──(same transaction)──► outbox row (pending, due_at, expires_at, idempotency_key)
//!                                            │  commit wakes the worker (Notify; on PostgreSQL also every
//!                                            │  other process's, by NOTIFY); polling is the fallback
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

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use herald_bots::{Disposition, Rate, RateLimits};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::{OutboxSection, RateLimitOverrides},
    db::{
        Backend, Db, contacts,
        outbox::{self, Lane, OutboxRow, Outcome},
    },
    health::Reporter,
    metrics::{Delivered, Metrics},
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
            Outcome::Deferred { .. } | Outcome::Retarget { .. } | Outcome::Throttled { .. } => {
                self.deferred += 1;
            }
            Outcome::Retry { .. } => self.retried += 1,
            Outcome::GivenUp { .. } | Outcome::Gone { .. } => self.given_up += 1,
            Outcome::Expired { .. } => self.expired += 1,
        }
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Outcomes gathered for one transaction at most this long, and at most this many.
const RECORD_GATHER: Duration = Duration::from_millis(50);
const RECORD_BATCH: usize = 500;
/// How often the running worker forgets rate-limit logs of quiet chats.
const PRUNE_EVERY: Duration = Duration::from_secs(30);
/// How often 429 answers are summed up in the log.
const THROTTLE_REPORT: Duration = Duration::from_secs(10);

/// The row kind of reminders, whose lateness is measured.
const REMINDER_KIND: &str = "reminder";

/// Whether a row of `kind` puts a new message in its chat (what a chat's rate limit counts).
fn is_new_message(kind: &str) -> bool {
    !matches!(kind, "edit" | "delete" | "callback_answer")
}

/// A chat on a provider account: its messages go one at a time, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ChatKey {
    provider: String,
    target: String,
}

impl ChatKey {
    fn of(row: &OutboxRow) -> Self {
        Self {
            provider: row.provider.clone(),
            target: row.target.clone(),
        }
    }
}

/// What to do with a claimed row now.
#[derive(Debug)]
enum Plan {
    /// Nothing to send: this is its outcome (expired, no driver).
    Done(Outcome),
    /// The limits let it go at `at` (the keys that hold it, with their rates).
    Wait {
        at: DateTime<Utc>,
        keys: [(Key, herald_bots::Rate); 2],
    },
    /// Send it now (the limiter has counted it).
    Go,
}

/// A row's outcome with what recording it needs.
#[derive(Debug, Clone)]
struct Finished {
    id: i64,
    outcome: Outcome,
    platform: String,
    target: String,
    kind: String,
    key: String,
}

impl Finished {
    fn of(row: &OutboxRow, outcome: Outcome) -> Self {
        Self {
            id: row.id,
            outcome,
            platform: row.platform.clone(),
            target: row.target.clone(),
            kind: row.kind.clone(),
            key: row.idempotency_key.clone(),
        }
    }
}

/// Told about rows that reached an end (sent, given up, expired) — in the transaction that records it,
/// so what depends on a delivery (a post's overall state) changes with it.
#[async_trait]
pub trait Observer: Send + Sync + fmt::Debug {
    /// The row kinds this observer cares about.
    fn kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// Told about the rows of [`Self::kinds`] that reached an end.
    async fn finished(
        &self,
        _tx: &mut crate::db::Tx,
        _now: DateTime<Utc>,
        _rows: &[(&str, &Outcome)],
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// Told about a recipient the platform said is gone (`target` on `platform`), as it is first marked
    /// unreachable.
    async fn gone(
        &self,
        _tx: &mut crate::db::Tx,
        _now: DateTime<Utc>,
        _platform: &str,
        _target: &str,
        _error: &str,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// Told what the sends since the last record showed of each provider account's credentials:
    /// `Some(error)` when the platform refused them, `None` when a send with them went through.
    async fn credentials(
        &self,
        _tx: &mut crate::db::Tx,
        _now: DateTime<Utc>,
        _accounts: &[(&str, Option<&str>)],
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// What sends showed of each provider account's credentials since the outcomes were last recorded
/// (the last word per account).
type CredentialsSeen = Arc<std::sync::Mutex<HashMap<String, Option<String>>>>;

/// The outbox worker. Cheap to clone; clones share the rate limiter.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    clock: SharedClock,
    senders: Senders,
    settings: OutboxSection,
    limiter: Arc<Mutex<Limiter>>,
    /// How many outbox workers share the database (this one included; see `singleton::heartbeat`): each
    /// sends its share of an account's limit, so together they keep to it.
    peers: Arc<AtomicU32>,
    /// Identifies this process's leases.
    owner: String,
    /// 429 answers since they were last reported.
    throttled: Arc<AtomicU64>,
    credentials: CredentialsSeen,
    observers: Vec<Arc<dyn Observer>>,
    /// Where outcomes, sends and 429 answers are counted.
    metrics: Metrics,
}

impl Outbox {
    pub fn new(
        db: Db,
        clock: SharedClock,
        senders: Senders,
        settings: OutboxSection,
        metrics: Metrics,
    ) -> Self {
        let owner = format!(
            "{}{}-{:016x}",
            crate::singleton::Queue::Outbox.prefix(),
            std::process::id(),
            rand::random::<u64>()
        );
        Self {
            db,
            clock,
            senders,
            settings,
            limiter: Arc::default(),
            peers: Arc::new(AtomicU32::new(1)),
            owner,
            throttled: Arc::default(),
            credentials: Arc::default(),
            observers: Vec::new(),
            metrics,
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
        share(
            overrides.apply(sender.limits()),
            self.peers.load(Ordering::Relaxed),
        )
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

    /// One round: claim what is due, send what the limits allow now, wait for every send, record every
    /// outcome. Tests and one-shot tools drive the outbox this way; the running worker ([`Self::run`])
    /// sends continuously instead.
    #[tracing::instrument(skip_all, fields(owner = %self.owner))]
    pub async fn run_once(&self) -> anyhow::Result<RunReport> {
        let now = self.clock.now();
        let rows = self
            .claim(now, self.settings.batch_size, &Lane::ALL)
            .await?;
        let mut report = RunReport {
            claimed: rows.len(),
            ..RunReport::default()
        };
        let mut done: Vec<Finished> = Vec::with_capacity(rows.len());
        // Messages to send now, grouped per chat in order.
        let mut chats: Vec<Vec<OutboxRow>> = Vec::new();
        let mut chat_index: HashMap<ChatKey, usize> = HashMap::new();
        {
            let mut limiter = self.limiter.lock().await;
            // How many rows each key has already pushed back this round, to spread them out.
            let mut pushed_back: HashMap<Key, usize> = HashMap::new();
            for row in rows {
                match self.plan(&mut limiter, &row, now, false) {
                    Plan::Done(outcome) => done.push(Finished::of(&row, outcome)),
                    Plan::Wait { at, keys } => {
                        // The k-th row held back on a key goes in the k-th free slot, so the next claim
                        // does not take every held-back row again at once.
                        let mut at = at;
                        for (key, rate) in keys {
                            let k = pushed_back.entry(key.clone()).or_insert(0);
                            at = at.max(limiter.earliest_nth(&key, rate, now, *k));
                            *k += 1;
                        }
                        let outcome = self.deferred(&row, at);
                        done.push(Finished::of(&row, outcome));
                    }
                    Plan::Go => {
                        let index = *chat_index.entry(ChatKey::of(&row)).or_insert_with(|| {
                            chats.push(Vec::new());
                            chats.len() - 1
                        });
                        chats[index].push(row);
                    }
                }
            }
            limiter.prune(now, TimeDelta::hours(1));
        }
        let concurrency = self.settings.concurrency as usize;
        let sent: Vec<Vec<Finished>> =
            futures::stream::iter(chats.into_iter().map(|rows| self.send_chat(rows)))
                .buffer_unordered(concurrency)
                .collect()
                .await;
        done.extend(sent.into_iter().flatten());
        self.record(&done).await?;
        for finished in &done {
            report.count(&finished.outcome);
        }
        Ok(report)
    }

    /// Claims due rows of `lanes`, interactive first, leased to this worker.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lanes: &[Lane],
    ) -> anyhow::Result<Vec<OutboxRow>> {
        let lease_until = now + delta(self.settings.lease());
        outbox::claim(&self.db, now, &self.owner, lease_until, limit, lanes)
            .await
            .context("Failed to claim outbox rows")
    }

    /// What to do with a claimed row now. `Go` records the send in the limiter: the caller sends it at
    /// once. `paced` spreads a provider's budget evenly over its window instead of in bursts.
    fn plan(
        &self,
        limiter: &mut Limiter,
        row: &OutboxRow,
        now: DateTime<Utc>,
        paced: bool,
    ) -> Plan {
        if row.expires_at.is_some_and(|deadline| deadline <= now) {
            return Plan::Done(Outcome::Expired {
                reason: "deadline passed before it could be sent".into(),
            });
        }
        let Some(sender) = self.senders.get(&row.platform) else {
            let error = format!("no driver is configured for platform {:?}", row.platform);
            return Plan::Done(self.after_failure(row, now + self.backoff(row.attempts), error));
        };
        let limits = self.limits_for(&row.platform, sender.as_ref());
        // A chat's limit counts new messages; edits, deletions and answers to button presses are not
        // charged against it (a busy moderation group must still get its buttons answered at once).
        let chat_rate = match (sender.chat_class(&row.target), is_new_message(&row.kind)) {
            (_, false) => herald_bots::Rate::Unlimited,
            (ChatClass::Private, true) => limits.per_private_chat,
            (ChatClass::Group, true) => limits.per_group_chat,
        };
        let provider_key = Key::Provider(row.provider.clone());
        let chat_key = Key::Chat {
            provider: row.provider.clone(),
            target: row.target.clone(),
        };
        let provider_ready = if paced {
            limiter.earliest_paced(&provider_key, limits.per_provider, now)
        } else {
            limiter.earliest(&provider_key, limits.per_provider, now)
        };
        let ready = provider_ready.max(limiter.earliest(&chat_key, chat_rate, now));
        if ready > now {
            return Plan::Wait {
                at: ready,
                keys: [(provider_key, limits.per_provider), (chat_key, chat_rate)],
            };
        }
        limiter.record(&provider_key, limits.per_provider, now);
        limiter.record(&chat_key, chat_rate, now);
        Plan::Go
    }

    /// Records outcomes in one transaction, with what follows from them: a chat that moved takes its
    /// queued messages along, a recipient who is gone is marked unreachable, observers learn of rows
    /// that reached an end.
    async fn record(&self, done: &[Finished]) -> anyhow::Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        let finished = self.clock.now();
        let outcomes: Vec<(i64, Outcome)> =
            done.iter().map(|f| (f.id, f.outcome.clone())).collect();
        let mut tx = self.db.begin().await?;
        outbox::record(&mut tx, finished, &self.owner, &outcomes)
            .await
            .context("Failed to record outbox outcomes")?;
        for f in done {
            match &f.outcome {
                Outcome::Retarget { target } => {
                    outbox::retarget_pending(&mut tx, finished, &f.platform, &f.target, target)
                        .await?;
                }
                Outcome::Gone { error } => {
                    let marked = contacts::mark_unreachable(
                        &mut tx,
                        finished,
                        &f.platform,
                        &f.target,
                        error,
                    )
                    .await?;
                    if marked > 0 {
                        for observer in &self.observers {
                            observer
                                .gone(&mut tx, finished, &f.platform, &f.target, error)
                                .await?;
                        }
                    }
                }
                _ => {}
            }
        }
        for observer in &self.observers {
            let finished_rows: Vec<(&str, &Outcome)> = done
                .iter()
                .filter(|f| f.outcome.is_final() && observer.kinds().contains(&f.kind.as_str()))
                .map(|f| (f.key.as_str(), &f.outcome))
                .collect();
            if !finished_rows.is_empty() {
                observer.finished(&mut tx, finished, &finished_rows).await?;
            }
        }
        let seen = std::mem::take(
            &mut *self
                .credentials
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !seen.is_empty() {
            let accounts: Vec<(&str, Option<&str>)> = seen
                .iter()
                .map(|(provider, refused)| (provider.as_str(), refused.as_deref()))
                .collect();
            for observer in &self.observers {
                observer.credentials(&mut tx, finished, &accounts).await?;
            }
        }
        tx.commit().await?;
        for f in done {
            let counted = match f.outcome {
                Outcome::Sent { .. } => Delivered::Sent,
                Outcome::Retry { .. } => Delivered::Failed,
                Outcome::GivenUp { .. } | Outcome::Gone { .. } => Delivered::GivenUp,
                Outcome::Expired { .. } => Delivered::Expired,
                Outcome::Deferred { .. } | Outcome::Throttled { .. } | Outcome::Retarget { .. } => {
                    continue;
                }
            };
            self.metrics
                .delivered(&f.platform, Lane::of_kind(&f.kind).as_str(), counted);
        }
        Ok(())
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
    fn after_failure(&self, row: &OutboxRow, at: DateTime<Utc>, error: String) -> Outcome {
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
    async fn send_chat(&self, rows: Vec<OutboxRow>) -> Vec<Finished> {
        let mut done = Vec::with_capacity(rows.len());
        let mut held: Option<Outcome> = None;
        for row in rows {
            let outcome = match &held {
                Some(hold) => self.behind(&row, hold),
                None => {
                    let outcome = self.send_one(&row).await;
                    if outcome.holds_the_chat() {
                        held = Some(outcome.clone());
                    }
                    outcome
                }
            };
            done.push(Finished::of(&row, outcome));
        }
        done
    }

    /// The outcome of a row queued behind one of its chat's that failed with `hold`.
    fn behind(&self, row: &OutboxRow, hold: &Outcome) -> Outcome {
        match hold {
            Outcome::Retarget { target } => Outcome::Retarget {
                target: target.clone(),
            },
            Outcome::Retry { at, .. } | Outcome::Throttled { at, .. } => self.deferred(row, *at),
            _ => self.deferred(row, self.clock.now()),
        }
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
        let started = Instant::now();
        let result = sender.send(delivery).await;
        self.metrics
            .send_took(&row.platform, started.elapsed().as_secs_f64());
        let now = self.clock.now();
        if result.is_ok() && row.kind == REMINDER_KIND {
            self.metrics
                .reminder_late((now - row.due_at).as_seconds_f64());
        }
        {
            let refused = match &result {
                Ok(_) => None,
                Err(err) if err.disposition == Disposition::Refused => Some(err.message.clone()),
                Err(_) => return self.outcome_of(row, result, now).await,
            };
            self.credentials
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(row.provider.clone(), refused);
        }
        self.outcome_of(row, result, now).await
    }

    /// The outcome of a send's result.
    async fn outcome_of(
        &self,
        row: &OutboxRow,
        result: Result<String, SendError>,
        now: DateTime<Utc>,
    ) -> Outcome {
        let err = match result {
            Ok(platform_message_id) => {
                return Outcome::Sent {
                    platform_message_id,
                };
            }
            Err(err) => err,
        };
        if let Some(target) = err.moved_to {
            tracing::info!(new_target = %target, "chat moved; following it");
            return Outcome::Retarget { target };
        }
        let chat_key = Key::Chat {
            provider: row.provider.clone(),
            target: row.target.clone(),
        };
        match err.disposition {
            Disposition::RetryAfter(after) => {
                // The platform said exactly when. Flood control is the account's as a whole: the
                // provider pauses, not only this chat. Not a failed attempt, and counted rather than
                // logged one by one.
                let at = now + delta(after);
                {
                    let mut limiter = self.limiter.lock().await;
                    limiter.block(&chat_key, at);
                    limiter.block(&Key::Provider(row.provider.clone()), at);
                }
                self.throttled.fetch_add(1, Ordering::Relaxed);
                self.metrics.rate_limited(&row.platform);
                match row.expires_at {
                    Some(deadline) if at >= deadline => Outcome::Expired {
                        reason: format!("rate limited past the deadline: {}", err.message),
                    },
                    _ => Outcome::Throttled {
                        at,
                        error: err.message,
                    },
                }
            }
            Disposition::Gone => {
                tracing::info!(error = %err.message, "recipient gone; not writing to them again");
                Outcome::Gone { error: err.message }
            }
            Disposition::Permanent => {
                tracing::warn!(error = %err.message, "send refused");
                Outcome::GivenUp { error: err.message }
            }
            Disposition::Refused => {
                // Nothing sent with these credentials works until they are fixed: the account pauses
                // for the backoff, and the messages wait for the fix.
                tracing::warn!(error = %err.message, "credentials refused; will retry");
                let at = now + self.backoff(row.attempts);
                {
                    let mut limiter = self.limiter.lock().await;
                    limiter.block(&chat_key, at);
                    limiter.block(&Key::Provider(row.provider.clone()), at);
                }
                self.after_failure(row, at, err.message)
            }
            Disposition::Transient => {
                tracing::warn!(error = %err.message, "send failed; will retry");
                // Hold the chat's later messages until this one's retry, to keep their order.
                let at = now + self.backoff(row.attempts);
                self.limiter.lock().await.block(&chat_key, at);
                self.after_failure(row, at, err.message)
            }
        }
    }

    /// Sends continuously until `shutdown`, without rounds: rows are claimed a little ahead of what the
    /// limits let out (interactive lanes first, and at once when a commit wakes the worker), each send
    /// leaves when its provider's paced budget and its chat's limit allow, a slow send holds only its own
    /// chat, and outcomes are recorded as they arrive, a few at a time.
    pub async fn run(self, shutdown: CancellationToken, health: Reporter) {
        if self.db.backend() == Backend::Sqlite {
            // One process runs on SQLite: rows still held were its dead predecessor's.
            match outbox::release_all(&self.db, self.clock.now(), "held by a process that stopped")
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "took back rows a stopped process held"),
                Err(err) => tracing::warn!(error = ?err, "could not take back held rows"),
            }
        }
        // Beats while this worker runs; rows of workers whose beat stopped are taken back at once.
        let _heartbeat = crate::singleton::heartbeat(
            self.db.clone(),
            self.clock.clone(),
            self.owner.clone(),
            crate::singleton::Queue::Outbox,
            self.peers.clone(),
        );
        let (record_tx, record_rx) = mpsc::unbounded_channel::<Finished>();
        let recorder = tokio::spawn(self.clone().record_continuously(record_rx, health.clone()));
        let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<(ChatKey, Finished)>();
        let wake = self.db.outbox_signal();
        let poll = self.settings.poll_interval();
        let high = self.settings.concurrency.max(2);
        let mut held: Vec<OutboxRow> = Vec::new();
        let mut busy: HashSet<ChatKey> = HashSet::new();
        let mut woken = true;
        let mut failures: u32 = 0;
        let mut last_report = Instant::now();
        let mut last_prune = Instant::now();
        while !shutdown.is_cancelled() {
            let now = self.clock.now();
            // Claim: a little ahead of what can go, and the interactive lanes whenever woken.
            let room = high.saturating_sub(u32::try_from(held.len()).unwrap_or(u32::MAX));
            let lanes: &[Lane] = if room >= high / 2 {
                &Lane::ALL
            } else if woken {
                &[Lane::Interactive, Lane::Timely]
            } else {
                &[]
            };
            if !lanes.is_empty() {
                match self.claim(now, room.max(high / 2), lanes).await {
                    Ok(rows) => {
                        failures = 0;
                        health.ok(now);
                        held.extend(rows);
                        held.sort_by_key(|r| (Lane::of_kind(&r.kind), r.due_at, r.id));
                    }
                    Err(err) => {
                        failures += 1;
                        tracing::error!(error = ?err, "outbox claim failed");
                        health.failing(now, &err);
                    }
                }
            }
            woken = false;
            // Dispatch what may leave now; hand back what would wait long.
            let horizon = now + TimeDelta::seconds(2);
            let mut next: Option<DateTime<Utc>> = None;
            {
                let mut limiter = self.limiter.lock().await;
                let mut waiting: HashSet<ChatKey> = HashSet::new();
                let mut keep = Vec::with_capacity(held.len());
                for row in held.drain(..) {
                    let chat = ChatKey::of(&row);
                    // A chat's messages go one at a time, in order.
                    if busy.contains(&chat) || waiting.contains(&chat) {
                        keep.push(row);
                        continue;
                    }
                    match self.plan(&mut limiter, &row, now, true) {
                        Plan::Done(outcome) => {
                            let _ = record_tx.send(Finished::of(&row, outcome));
                        }
                        Plan::Wait { at, .. } if at > horizon => {
                            waiting.insert(chat);
                            let _ = record_tx.send(Finished::of(&row, self.deferred(&row, at)));
                        }
                        Plan::Wait { at, .. } => {
                            waiting.insert(chat);
                            next = Some(next.map_or(at, |n| n.min(at)));
                            keep.push(row);
                        }
                        Plan::Go => {
                            busy.insert(chat.clone());
                            let this = self.clone();
                            let sent_tx = sent_tx.clone();
                            tokio::spawn(async move {
                                let outcome = this.send_one(&row).await;
                                let _ = sent_tx.send((chat, Finished::of(&row, outcome)));
                            });
                        }
                    }
                }
                held = keep;
                // Forgetting quiet chats walks every key: now and then, not at every send.
                if last_prune.elapsed() >= PRUNE_EVERY {
                    limiter.prune(now, TimeDelta::hours(1));
                    last_prune = Instant::now();
                }
            }
            if last_report.elapsed() >= THROTTLE_REPORT {
                self.report_throttling(last_report.elapsed());
                last_report = Instant::now();
            }
            // Wait for a send to end, a commit, the next slot, or the poll.
            let wait = if failures > 0 {
                poll.saturating_mul(failures.min(30))
            } else {
                match next {
                    Some(at) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
                    None if held.is_empty() && busy.is_empty() => self.until_next_due(poll).await,
                    None => poll,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some((chat, finished)) = sent_rx.recv() => {
                    busy.remove(&chat);
                    self.after_send(&chat, &finished, &mut held, &record_tx);
                    let _ = record_tx.send(finished);
                    // Take every other send that ended meanwhile before dispatching again.
                    while let Ok((chat, finished)) = sent_rx.try_recv() {
                        busy.remove(&chat);
                        self.after_send(&chat, &finished, &mut held, &record_tx);
                        let _ = record_tx.send(finished);
                    }
                }
                () = wake.notified() => woken = true,
                () = tokio::time::sleep(wait) => woken = next.is_none(),
            }
        }
        // Hand back what was not sent; wait for the sends in flight (the app stops waiting after its
        // grace period and releases what is left).
        let now = self.clock.now();
        for row in held.drain(..) {
            let _ = record_tx.send(Finished::of(&row, Outcome::Deferred { at: now }));
        }
        drop(sent_tx);
        while !busy.is_empty() {
            let Some((chat, finished)) = sent_rx.recv().await else {
                break;
            };
            busy.remove(&chat);
            let _ = record_tx.send(finished);
        }
        drop(record_tx);
        if let Err(err) = recorder.await {
            tracing::error!(error = %err, "the outbox recorder stopped");
        }
        self.report_throttling(last_report.elapsed());
        health.stopped();
    }

    /// After one of `chat`'s sends ended: a chat that moved takes its held messages along.
    fn after_send(
        &self,
        chat: &ChatKey,
        finished: &Finished,
        held: &mut Vec<OutboxRow>,
        record_tx: &mpsc::UnboundedSender<Finished>,
    ) {
        if let Outcome::Retarget { .. } = finished.outcome {
            let (along, stay): (Vec<OutboxRow>, Vec<OutboxRow>) =
                held.drain(..).partition(|r| ChatKey::of(r) == *chat);
            *held = stay;
            for row in along {
                let _ = record_tx.send(Finished::of(&row, self.behind(&row, &finished.outcome)));
            }
        }
    }

    /// Records outcomes as they come, those that came together in one transaction; a batch that cannot
    /// be recorded is tried again (its rows stay leased meanwhile).
    async fn record_continuously(
        self,
        mut rx: mpsc::UnboundedReceiver<Finished>,
        health: Reporter,
    ) {
        let mut failures: u32 = 0;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            // Let the sends that end together be recorded together.
            let gather = tokio::time::sleep(RECORD_GATHER);
            tokio::pin!(gather);
            loop {
                tokio::select! {
                    () = &mut gather => break,
                    more = rx.recv() => match more {
                        Some(f) => {
                            batch.push(f);
                            if batch.len() >= RECORD_BATCH {
                                break;
                            }
                        }
                        None => break,
                    },
                }
            }
            loop {
                match self.record(&batch).await {
                    Ok(()) => {
                        failures = 0;
                        let given_up = batch
                            .iter()
                            .filter(|f| matches!(f.outcome, Outcome::GivenUp { .. }))
                            .count();
                        if given_up > 0 {
                            health.noted_error(
                                self.clock.now(),
                                &format!("{given_up} message(s) given up"),
                            );
                        }
                        break;
                    }
                    Err(err) => {
                        failures += 1;
                        tracing::error!(error = ?err, "recording outbox outcomes failed; retrying");
                        health.failing(self.clock.now(), &err);
                        tokio::time::sleep(
                            self.settings
                                .poll_interval()
                                .saturating_mul(failures.min(30)),
                        )
                        .await;
                    }
                }
            }
        }
    }

    /// Logs how many requests were answered "slow down" since the last report, if any.
    fn report_throttling(&self, over: Duration) {
        let n = self.throttled.swap(0, Ordering::Relaxed);
        if n > 0 {
            tracing::warn!(
                requests = n,
                seconds = over.as_secs(),
                "platforms answered 429 (rate limited); their accounts paused as asked"
            );
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

/// Deletes finished outbox rows and handled inbox events older than their retention (`0` days keeps
/// them), a thousand at a time so no transaction grows large; returns how many went.
pub async fn prune_queues(
    db: &Db,
    now: DateTime<Utc>,
    outbox_days: u32,
    inbox_days: u32,
) -> anyhow::Result<u64> {
    const CHUNK: i64 = 1_000;
    let mut pruned = 0;
    if outbox_days > 0 {
        let before = now - TimeDelta::days(i64::from(outbox_days));
        loop {
            let n = outbox::prune(db, before, CHUNK).await?;
            pruned += n;
            if n < CHUNK as u64 {
                break;
            }
        }
        // A network's progress on a delivery goes with the delivery's row.
        pruned += crate::db::system::forget_progress_before(db, before).await?;
    }
    if inbox_days > 0 {
        let before = now - TimeDelta::days(i64::from(inbox_days));
        loop {
            let n = crate::db::inbox::prune(db, before, CHUNK).await?;
            pruned += n;
            if n < CHUNK as u64 {
                break;
            }
        }
    }
    if pruned > 0 {
        tracing::info!(
            rows = pruned,
            "pruned finished queue rows past their retention"
        );
    }
    Ok(pruned)
}

/// One worker's share of an account's limits when `peers` workers send for it: a `peers`-th of the count
/// in the same window (30/s becomes 15/s each for two), so that in any window the workers together keep
/// to the account's limit; a count smaller than `peers` is spread over `peers` windows instead. Chats'
/// limits stay whole: a chat's messages are sent by one worker at a time.
fn share(limits: RateLimits, peers: u32) -> RateLimits {
    let per_provider = match (peers, limits.per_provider) {
        (0 | 1, rate) | (_, rate @ Rate::Unlimited) => rate,
        (peers, Rate::Limited { count, per }) if count >= peers => Rate::Limited {
            count: count / peers,
            per,
        },
        (peers, Rate::Limited { count, per }) => Rate::Limited {
            count,
            per: per.saturating_mul(peers),
        },
    };
    RateLimits {
        per_provider,
        ..limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_sharing_an_account_split_its_limit_and_not_the_chats() {
        let limits = RateLimits {
            per_provider: Rate::per_second(30),
            per_private_chat: Rate::per_second(1),
            per_group_chat: Rate::per_minute(20),
        };
        assert_eq!(share(limits, 1), limits);
        let two = share(limits, 2);
        assert_eq!(two.per_provider, Rate::per_second(15));
        assert_eq!(
            share(limits, 7).per_provider,
            Rate::per_second(4),
            "rounded down: never more than the account's limit together"
        );
        let few = RateLimits {
            per_provider: Rate::per_minute(2),
            ..limits
        };
        assert_eq!(
            share(few, 3).per_provider,
            Rate::Limited {
                count: 2,
                per: std::time::Duration::from_secs(180)
            }
        );
        assert_eq!(two.per_private_chat, limits.per_private_chat);
        assert_eq!(two.per_group_chat, limits.per_group_chat);
        assert_eq!(
            share(RateLimits::UNLIMITED, 3),
            RateLimits::UNLIMITED,
            "no limit is no limit"
        );
    }
}
