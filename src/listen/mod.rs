//! Listeners: one per active provider that routes its incoming messages to a conference (`/switch <provider>
//! moderation on`). Mastodon listens on the streaming API and catches up through the notifications list after
//! every (re)connect; Bluesky polls its notifications. Both store what they hear through the inbox, with their
//! checkpoint in the same transaction, so a restart resumes where it stopped and nothing is stored twice.
//!
//! A supervisor brings the set of running listeners in line with the providers every few seconds: new or
//! changed providers (credentials, address, route) get a fresh listener, removed or deactivated ones stop.
//! Each listener reports to `/healthz` (`listener:<name>`) and keeps its state in the database for `/status`;
//! one failing for longer than `notify_after_secs` posts one notice to the organisers, and one on recovery.

pub(crate) mod bluesky;
pub(crate) mod mastodon;
pub(crate) mod x;

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::ListenSection,
    db::{
        Db,
        inbox::{self, NewEvent},
        mentions as store,
        providers::{self, Provider},
    },
    health::{Health, Reporter},
    mentions::Heard,
    templates::Templates,
};

/// Runs the listeners.
#[derive(Debug, Clone)]
pub struct Listeners {
    db: Db,
    clock: SharedClock,
    health: Health,
    templates: Arc<Templates>,
    settings: ListenSection,
    http: reqwest::Client,
    /// Herald's public address: where a network's webhook reaches it (X).
    public_url: Option<url::Url>,
    /// What the drivers take from the configuration (the apps that renew tokens).
    networks: crate::social::Settings,
}

struct Running {
    stamp: String,
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

impl Listeners {
    pub fn new(
        db: Db,
        clock: SharedClock,
        health: Health,
        templates: Arc<Templates>,
        settings: ListenSection,
        public_url: Option<url::Url>,
        networks: crate::social::Settings,
    ) -> anyhow::Result<Self> {
        // No overall timeout: streams stay open; each listener bounds its own reads.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            db,
            clock,
            health,
            templates,
            settings,
            http,
            public_url,
            networks,
        })
    }

    /// Supervises until `shutdown`, then stops every listener.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut running: HashMap<i64, Running> = HashMap::new();
        let every = Duration::from_secs(self.settings.supervise_secs.max(1));
        loop {
            if let Err(err) = self.supervise(&mut running).await {
                tracing::warn!("listener supervisor: {err:#}");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        for (_, listener) in running.drain() {
            listener.cancel.cancel();
            let _ = listener.handle.await;
        }
    }

    /// Starts, restarts and stops listeners to match the providers; returns how many run.
    async fn supervise(&self, running: &mut HashMap<i64, Running>) -> anyhow::Result<usize> {
        let mut wanted = HashMap::new();
        {
            let mut tx = self.db.begin().await?;
            // The networks with a mentions inbox (what `/switch … moderation on` may route).
            let listens = |kind: &str| {
                crate::delivery::networks::network(kind)
                    .is_some_and(|n| n.can(herald_commands::Feature::SocialManagement))
            };
            for (id, conference, kind) in store::routed_providers(&mut tx).await? {
                if !listens(&kind) {
                    continue;
                }
                let Some(provider) = providers::provider_by_id(&mut tx, id).await? else {
                    continue;
                };
                let credentials = providers::credentials(&mut tx, id).await?;
                // A digest: what the listener was started with, to notice changes.
                let stamp = crate::token::hash(&format!(
                    "{}|{:?}|{credentials}|{conference}",
                    provider.kind, provider.base_url
                ));
                wanted.insert(id, (provider, credentials, conference, stamp));
            }
            tx.commit().await?;
        }
        running.retain(|id, listener| {
            let keep = wanted
                .get(id)
                .is_some_and(|(.., stamp)| *stamp == listener.stamp)
                && !listener.handle.is_finished();
            if !keep {
                listener.cancel.cancel();
            }
            keep
        });
        for (id, (provider, credentials, conference, stamp)) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            let cancel = CancellationToken::new();
            let listener = Listener {
                db: self.db.clone(),
                clock: self.clock.clone(),
                templates: self.templates.clone(),
                settings: self.settings.clone(),
                http: self.http.clone(),
                report: self
                    .health
                    .register(&format!("listener:{}", provider.internal_name)),
                conference,
                provider,
                public_url: self.public_url.clone(),
                networks: self.networks.clone(),
            };
            let token = cancel.clone();
            let handle = tokio::spawn(async move {
                if let Some(driver) = crate::social::driver(&listener.provider.kind) {
                    driver.listen(&listener, &credentials, token).await;
                }
                listener.report.stopped();
            });
            running.insert(
                id,
                Running {
                    stamp,
                    cancel,
                    handle,
                },
            );
        }
        Ok(running.len())
    }
}

/// One provider's listener: what it needs and how it reports.
#[derive(Debug)]
pub struct Listener {
    db: Db,
    clock: SharedClock,
    templates: Arc<Templates>,
    settings: ListenSection,
    http: reqwest::Client,
    report: Reporter,
    conference: i64,
    provider: Provider,
    public_url: Option<url::Url>,
    networks: crate::social::Settings,
}

/// One notification to store: its platform id and what to keep.
struct Item {
    event_id: String,
    heard: Heard,
}

impl Listener {
    fn backoff(&self, failures: u32) -> Duration {
        let base = self.settings.backoff_base_ms.max(1);
        let ms = base.saturating_mul(1 << failures.min(16));
        Duration::from_millis(ms).min(Duration::from_secs(self.settings.backoff_max_secs.max(1)))
    }

    /// The stored cursor, if any.
    async fn cursor(&self) -> anyhow::Result<Option<String>> {
        let mut tx = self.db.begin().await?;
        let checkpoint = store::checkpoint(&mut tx, self.provider.id).await?;
        tx.commit().await?;
        Ok(checkpoint.and_then(|c| c.cursor))
    }

    /// Stores `items` through the inbox and the new cursor with them, in one transaction; returns how many
    /// were new.
    async fn store(
        &self,
        kind: &str,
        items: Vec<Item>,
        cursor: Option<&str>,
        state: &str,
    ) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let mut stored = 0;
        for item in &items {
            let event = NewEvent {
                provider: format!("{}:{}", self.provider.kind, self.provider.id),
                event_id: item.event_id.clone(),
                kind: kind.into(),
                payload: serde_json::to_string(&item.heard)?,
            };
            if inbox::insert(&mut tx, now, &event).await?.is_some() {
                stored += 1;
            }
        }
        let last_event = (!items.is_empty()).then_some(now);
        store::save_checkpoint(&mut tx, now, self.provider.id, cursor, state, last_event).await?;
        tx.commit().await?;
        if stored > 0 {
            tracing::info!(provider = %self.provider.internal_name, stored, "notifications heard");
        }
        Ok(stored)
    }

    /// The listener works (again): healthy, its state saved, and a recovery notice if the organisers
    /// were told it was failing.
    async fn working(&self, state: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        self.report.ok(now);
        self.report.detail(state.replace('_', " "));
        let mut tx = self.db.begin().await?;
        store::save_checkpoint(&mut tx, now, self.provider.id, None, state, None).await?;
        if store::clear_failure(&mut tx, self.provider.id).await? {
            crate::delivery::organisers::notify(
                &mut tx,
                &self.templates,
                now,
                self.conference,
                "notify_listener_recovered",
                &format!(
                    "listener-recovered:{}:{}",
                    self.provider.id,
                    now.timestamp()
                ),
                json!({ "provider": self.provider.internal_name, "network": self.provider.kind }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failure; past `notify_after_secs` of failing, tells the organisers once.
    async fn failed(&self, err: &anyhow::Error) {
        let now = self.clock.now();
        self.report.failing(now, err);
        tracing::warn!(provider = %self.provider.internal_name, "listener failing: {err:#}");
        if let Err(db_err) = self.record_failure(now, &format!("{err:#}")).await {
            tracing::warn!(provider = %self.provider.internal_name, "could not record the failure: {db_err:#}");
        }
    }

    async fn record_failure(&self, now: DateTime<Utc>, error: &str) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        let checkpoint = store::record_failure(&mut tx, now, self.provider.id, error).await?;
        let since = checkpoint.failing_since.unwrap_or(now);
        let limit = chrono::TimeDelta::seconds(
            i64::try_from(self.settings.notify_after_secs).unwrap_or(i64::MAX),
        );
        if !checkpoint.failure_notified && now - since >= limit {
            crate::delivery::organisers::notify(
                &mut tx,
                &self.templates,
                now,
                self.conference,
                "notify_listener_failing",
                &format!(
                    "listener-failing:{}:{}",
                    self.provider.id,
                    since.timestamp()
                ),
                json!({ "provider": self.provider.internal_name, "network": self.provider.kind,
                        "error": error, "minutes": (now - since).num_minutes() }),
            )
            .await?;
            store::mark_failure_notified(&mut tx, self.provider.id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Waits `d`, or returns false when the listener is stopped meanwhile.
    /// Runs `poll` every `every` until `cancel`, waiting longer (the backoff) while it fails, each failure
    /// reported.
    async fn poll_every<F, Fut>(&self, every: Duration, cancel: &CancellationToken, mut poll: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let mut failures = 0u32;
        loop {
            let wait = match poll().await {
                Ok(()) => {
                    failures = 0;
                    every
                }
                Err(err) => {
                    self.failed(&err).await;
                    failures += 1;
                    self.backoff(failures - 1).max(every)
                }
            };
            if !self.pause(wait, cancel).await {
                return;
            }
        }
    }

    async fn pause(&self, d: Duration, cancel: &CancellationToken) -> bool {
        tokio::select! {
            () = cancel.cancelled() => false,
            () = tokio::time::sleep(d) => true,
        }
    }
}
