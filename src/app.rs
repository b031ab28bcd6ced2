//! Building and running the application. `main` and the tests both go through [`Application::build`].

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use herald_bots::{email::Mailer, telegram::TelegramClient};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    chat::{
        Core,
        telegram::{TelegramChat, UPDATE_KIND},
        web::WebChat,
    },
    clock::{SharedClock, SystemClock},
    config::Config,
    config::TelegramMode,
    db::Db,
    email::EmailSender,
    health::Health,
    inbox::{Handlers, Inbox},
    metrics::Metrics,
    outbox::{Outbox, Senders},
    singleton::{Job, Singletons, process_name},
    telegram::{self, TelegramSender},
    templates::Templates,
    web::{self, AppState},
};

/// What differs between production and a test run, besides the configuration: the clock, and extra
/// inbound handlers (the chat core registers its own).
#[derive(Debug, Clone)]
pub struct Extras {
    pub clock: SharedClock,
    pub handlers: Handlers,
}

impl Default for Extras {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            handlers: Handlers::default(),
        }
    }
}

/// The outbox's sender for e-mail: the configured SMTP server, or the `.eml` folder (the embedded
/// default, so nothing is lost before a server is configured). The log says which.
fn mail_sender(
    config: &Config,
    web: url::Url,
    templates: Arc<Templates>,
) -> anyhow::Result<Arc<EmailSender>> {
    let from = config.email_from()?;
    let mailer = match &config.email.smtp_url {
        Some(url) => Mailer::smtp(url.expose(), config.outbox.send_timeout())
            .with_context(|| format!("email.smtp_url {} is not usable", url.redacted()))?,
        None => {
            let folder = std::path::absolute(&config.email.folder)
                .unwrap_or_else(|_| config.email.folder.clone());
            Mailer::folder(folder)
        }
    };
    let sender = EmailSender::new(mailer, from, web, templates);
    match &config.email.smtp_url {
        Some(_) => tracing::info!(server = %sender.describe(), "e-mail goes to the SMTP server"),
        None => tracing::info!(
            folder = %sender.describe(),
            "HERALD_EMAIL_SMTP_URL is not set: e-mail is written to this folder as .eml files"
        ),
    }
    Ok(sender)
}

/// A built application: database migrated, drivers configured, web socket bound, nothing running yet.
#[derive(Debug)]
pub struct Application {
    pub config: Config,
    pub db: Db,
    pub clock: SharedClock,
    pub health: Health,
    /// What `/metrics` serves; the outbox and the webhooks count into it.
    pub metrics: Metrics,
    pub outbox: Outbox,
    pub inbox: Inbox,
    pub telegram: Option<TelegramClient>,
    pub templates: Arc<Templates>,
    /// Where Telegram posts updates in webhook mode, and the secret it must present.
    webhook: Option<(String, String)>,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    /// Where people reach the web chat.
    pub web_base: url::Url,
    web_chat: Arc<WebChat>,
    /// This process's name in the leases it holds.
    process: Arc<str>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Extras::default()).await
    }

    pub async fn build_with(config: Config, extras: Extras) -> anyhow::Result<Self> {
        let Extras {
            clock,
            mut handlers,
        } = extras;
        let templates = Arc::new(Templates::new());
        tracing::info!(database = %config.database_url.redacted(), "opening the database");
        let db = Db::connect(config.database_url.expose()).await?;
        db.migrate().await?;

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        // Where people reach the web chat: the public address, or this machine's.
        let web_base = match &config.public_url {
            Some(url) => url.clone(),
            None => format!("http://{local_addr}/").parse()?,
        };

        let health = Health::default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(config.outbox.concurrency as usize)
            .build()
            .context("Failed to build the HTTP client")?;

        // The chat core, as each adapter runs it.
        let telegram_on = config.telegram()?.is_some();
        let networks = Arc::new(crate::social::Settings::of(&config));
        let core = || {
            Core::new(
                templates.clone(),
                config.public_url.clone(),
                web_base.clone(),
                telegram_on,
                networks.clone(),
            )
        };
        let mut senders = Senders::default();
        let telegram = match config.telegram()? {
            Some(tg) => {
                let client = TelegramClient::new(
                    tg.api_url.clone(),
                    tg.token.expose(),
                    http.clone(),
                    config.outbox.send_timeout(),
                );
                senders.insert(
                    crate::delivery::telegram::PLATFORM,
                    TelegramSender::new(client.clone(), db.clone()),
                );
                handlers.insert(UPDATE_KIND, TelegramChat::new(core()));
                tracing::info!(api_url = %tg.api_url, mode = ?tg.mode, "Telegram is on");
                Some(client)
            }
            None => {
                let why = "HERALD_TELEGRAM_TOKEN is not set";
                tracing::info!("Telegram is off: {why}");
                health.disabled("telegram", why);
                None
            }
        };
        if config.public_url.is_none() {
            tracing::info!(
                "HERALD_PUBLIC_URL is not set: webhooks and links to Herald's pages are off"
            );
        }

        let webhook = match (config.telegram()?, &config.public_url) {
            (Some(tg), Some(public)) if tg.mode == TelegramMode::Webhook => {
                let url = public.join(telegram::webhook::PATH.trim_start_matches('/'))?;
                let secret = telegram::updates::webhook_secret(&db, &clock).await?;
                Some((url.to_string(), secret))
            }
            _ => None,
        };

        let pictures = crate::social::Pictures::new(
            telegram
                .clone()
                .map(|c| Arc::new(c) as Arc<dyn crate::social::PictureSource>),
        );
        let mentions = crate::chat::direct::MentionHandler::new(core());
        // The web chat is always there: Herald's own surface, and the only one when Telegram is off.
        let web_chat = WebChat::new(core());
        handlers.insert(crate::chat::web::EVENT_KIND, web_chat.clone());
        senders.insert(
            crate::db::web_chat::PLATFORM,
            web::chat::WebSender::new(db.clone(), clock.clone()),
        );
        senders.insert(
            crate::db::email::PLATFORM,
            mail_sender(&config, web_base.clone(), templates.clone())?,
        );
        handlers.insert(crate::mentions::MASTODON_KIND, mentions.clone());
        handlers.insert(crate::mentions::BLUESKY_KIND, mentions.clone());
        handlers.insert(crate::mentions::X_KIND, mentions);
        handlers.insert(
            crate::social::x::REVOKED_KIND,
            Arc::new(crate::social::x::RevokedHandler {
                templates: templates.clone(),
            }),
        );
        for driver in crate::social::DRIVERS {
            senders.insert(
                driver.network().name(),
                driver.sender(db.clone(), pictures.clone(), &networks),
            );
        }
        let metrics = Metrics::new();
        let mut outbox = Outbox::new(
            db.clone(),
            clock.clone(),
            senders,
            config.outbox.clone(),
            metrics.clone(),
        );
        outbox.observe(Arc::new(crate::posts::PostObserver {
            templates: templates.clone(),
        }));
        outbox.observe(Arc::new(crate::delivery::organisers::Losses {
            templates: templates.clone(),
        }));
        outbox.observe(Arc::new(crate::delivery::social::CredentialsWatch {
            templates: templates.clone(),
        }));
        outbox.observe(Arc::new(crate::delivery::email::Undeliverable {
            templates: templates.clone(),
        }));
        let inbox = Inbox::new(db.clone(), clock.clone(), handlers, config.inbox.clone());
        Ok(Self {
            config,
            db,
            clock,
            health,
            metrics,
            outbox,
            inbox,
            telegram,
            templates,
            webhook,
            listener: Some(listener),
            local_addr,
            web_base,
            web_chat,
            process: process_name().into(),
        })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    fn state(&self) -> AppState {
        AppState {
            db: self.db.clone(),
            clock: self.clock.clone(),
            health: self.health.clone(),
            metrics: self.metrics.clone(),
            metrics_token: self
                .config
                .metrics_token
                .as_ref()
                .map(|t| Arc::from(t.expose())),
            telegram_secret: self
                .webhook
                .as_ref()
                .map(|(_, secret)| Arc::from(secret.as_str())),
            telegram_ingest: self
                .webhook
                .as_ref()
                .map(|_| telegram::webhook::Ingest::start(self.db.clone(), self.clock.clone())),
            templates: self.templates.clone(),
            schema: Arc::new(web::ChatCore(crate::chat::schema())),
            public_url: self.config.public_url.clone(),
            web: self.web_base.clone(),
            web_chat: self.web_chat.clone(),
            process: self.process.clone(),
            connect: Arc::new(crate::social::Settings::of(&self.config)),
        }
    }

    /// Starts only the web server, in the background; tests drive the workers themselves.
    pub fn spawn_web(&mut self) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let listener = self
            .listener
            .take()
            .context("the web server is already running")?;
        let router = web::router(self.state());
        Ok(tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "web server stopped with an error");
            }
        }))
    }

    /// Runs the web server and every worker until `shutdown`, then stops them in order: the web server
    /// stops taking requests, the workers finish the round in hand (in-flight sends complete and are
    /// recorded), and whatever could not finish within the grace period is handed back to the queue and
    /// logged.
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let addr = self.local_addr;
        let state = self.state();
        let mut tasks = JoinSet::new();

        let web_shutdown = shutdown.clone();
        let listener = self
            .listener
            .take()
            .context("the web server is already running")?;
        // What this process runs (`roles`); a part it does not run is left to other processes.
        let roles = self.config.roles;
        if roles.web {
            tasks.spawn(async move {
                let server = axum::serve(listener, web::router(state))
                    .with_graceful_shutdown(web_shutdown.cancelled_owned());
                if let Err(err) = server.await {
                    tracing::error!(error = %err, "web server stopped with an error");
                }
            });
        } else {
            drop(listener);
        }
        if roles.workers {
            tasks.spawn(
                self.outbox
                    .clone()
                    .run(shutdown.clone(), self.health.register("outbox")),
            );
            tasks.spawn(
                self.inbox
                    .clone()
                    .run(shutdown.clone(), self.health.register("inbox")),
            );
            if self.db.backend() == crate::db::Backend::Postgres {
                tasks.spawn(self.db.clone().relay_wakeups(
                    self.clock.clone(),
                    self.health.register("wakeups"),
                    shutdown.clone(),
                ));
            }
        }
        // The jobs that must run in one process at a time, however many share the database.
        let singletons = Singletons::new(self.db.clone(), self.clock.clone(), &self.process);
        let mut singleton = |name: &'static str, mut job: Job| {
            let (singletons, shutdown) = (singletons.clone(), shutdown.clone());
            let health = self.health.register(name);
            tasks.spawn(async move {
                singletons
                    .run(name, &health, &shutdown, |stop| job(health.clone(), stop))
                    .await;
            });
        };
        if roles.web {
            // The queue gauges of `/metrics` come from one process of the cluster: the one holding this.
            let clock = self.clock.clone();
            singleton(
                crate::singleton::QUEUE_GAUGES,
                Box::new(move |health, stop| {
                    let clock = clock.clone();
                    Box::pin(async move {
                        health.ok(clock.now());
                        health.detail("this process reports the queues in /metrics");
                        stop.cancelled().await;
                        health.stopped();
                    })
                }),
            );
        }
        if roles.jobs {
            {
                let (db, clock) = (self.db.clone(), self.clock.clone());
                let (outbox_days, inbox_days) = (
                    self.config.outbox.retention_days,
                    self.config.inbox.retention_days,
                );
                singleton(
                    "retention",
                    Box::new(move |health, stop| {
                        let (db, clock) = (db.clone(), clock.clone());
                        Box::pin(async move {
                            crate::health::repeat(
                                &clock,
                                &health,
                                &stop,
                                std::time::Duration::from_secs(3_600),
                                || {
                                    crate::outbox::prune_queues(
                                        &db,
                                        clock.now(),
                                        outbox_days,
                                        inbox_days,
                                    )
                                },
                            )
                            .await;
                        })
                    }),
                );
            }
            {
                let (db, clock, templates) =
                    (self.db.clone(), self.clock.clone(), self.templates.clone());
                let settings = crate::social::Settings::of(&self.config);
                singleton(
                    "tokens",
                    Box::new(move |health, stop| {
                        let (db, clock, templates, settings) = (
                            db.clone(),
                            clock.clone(),
                            templates.clone(),
                            settings.clone(),
                        );
                        Box::pin(async move {
                            crate::health::repeat(
                                &clock,
                                &health,
                                &stop,
                                std::time::Duration::from_secs(3_600),
                                || {
                                    crate::social::tokens::check(
                                        &db,
                                        &templates,
                                        &settings,
                                        clock.now(),
                                    )
                                },
                            )
                            .await;
                        })
                    }),
                );
            }
            {
                let (db, clock, templates) =
                    (self.db.clone(), self.clock.clone(), self.templates.clone());
                singleton(
                    "schedule-sync",
                    Box::new(move |health, stop| {
                        Box::pin(crate::schedule::sync::run(
                            db.clone(),
                            clock.clone(),
                            templates.clone(),
                            health,
                            stop,
                        ))
                    }),
                );
            }
            if let Some(client) = self.telegram.clone() {
                let (db, clock, templates) =
                    (self.db.clone(), self.clock.clone(), self.templates.clone());
                singleton(
                    "documents",
                    Box::new(move |health, stop| {
                        Box::pin(telegram::documents::run(
                            client.clone(),
                            db.clone(),
                            clock.clone(),
                            templates.clone(),
                            health,
                            stop,
                        ))
                    }),
                );
            }
            if let (Some(client), Some(tg)) = (self.telegram.clone(), self.config.telegram()?) {
                let (db, clock, webhook) =
                    (self.db.clone(), self.clock.clone(), self.webhook.clone());
                singleton(
                    "telegram",
                    Box::new(move |health, stop| {
                        Box::pin(telegram::updates::run(
                            client.clone(),
                            db.clone(),
                            clock.clone(),
                            tg.mode,
                            webhook.clone(),
                            health,
                            stop,
                        ))
                    }),
                );
            }
            {
                let (db, clock) = (self.db.clone(), self.clock.clone());
                singleton(
                    "news",
                    Box::new(move |health, stop| {
                        Box::pin(crate::news::run(db.clone(), clock.clone(), health, stop))
                    }),
                );
            }
            {
                let listeners = crate::listen::Listeners::new(
                    self.db.clone(),
                    self.clock.clone(),
                    self.health.clone(),
                    self.templates.clone(),
                    self.config.listeners.clone(),
                    self.config.public_url.clone(),
                    crate::social::Settings::of(&self.config),
                )?;
                singleton(
                    "listeners",
                    Box::new(move |_, stop| Box::pin(listeners.clone().run(stop))),
                );
            }
        }
        tracing::info!(%addr, %roles, "Herald is running; GET /healthz for its state");
        if self.telegram.is_none() {
            // Without Telegram the web chat is the way in: the owner link opens it.
            match crate::links::owner_token_if_needed(&self.db, self.clock.now()).await {
                Ok(Some(token)) => {
                    let link = crate::links::web_start_link(&self.web_base, &token);
                    tracing::warn!(
                        "no owner yet: open this link in a browser to become the owner (works once, 7 days): {link}"
                    );
                }
                Ok(None) => {}
                Err(err) => tracing::error!(error = ?err, "could not create the owner link"),
            }
        }

        shutdown.cancelled().await;
        tracing::info!("shutting down: finishing in-flight work");
        let grace = self.config.outbox.shutdown_grace();
        let finished =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            tasks.abort_all();
            let released = self
                .outbox
                .release_held("interrupted by shutdown before the send finished; will be retried")
                .await?;
            tracing::warn!(
                released,
                grace_secs = grace.as_secs(),
                "sends still in flight after the grace period were handed back to the queue"
            );
        }
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
