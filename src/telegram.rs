//! Telegram, as the application uses it: the outbox's sender for the configured bot, receiving updates,
//! and reading files sent to the bot. (Writing Telegram messages is the delivery layer's:
//! [`crate::delivery::telegram`].)

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    RateLimits,
    telegram::{self, Request, TelegramClient, TelegramError},
};

use crate::{
    db::Db,
    outbox::{ChatClass, Delivery, SendError, Sender},
    social::{Pictures, load_images},
};

#[derive(Debug)]
pub struct TelegramSender {
    client: TelegramClient,
    /// Where pictures to upload are read from.
    db: Db,
    /// Pictures to upload are those Herald holds: none is fetched from Telegram.
    held: Arc<Pictures>,
}

impl TelegramSender {
    pub fn new(client: TelegramClient, db: Db) -> Arc<Self> {
        Arc::new(Self {
            client,
            db,
            held: Pictures::new(None),
        })
    }

    /// Puts the bytes of the pictures Telegram does not have yet (those Herald stores, such as the
    /// phone page's) into the request, each scaled down to what Telegram takes.
    async fn attach_uploads(&self, request: &mut Request) -> Result<(), SendError> {
        let Request::SendPhotos { photos } = request else {
            return Ok(());
        };
        for photo in photos.iter_mut() {
            let (Some(id), None) = (photo.stored, &photo.upload) else {
                continue;
            };
            let loaded =
                load_images(&self.db, &self.held, &[id], telegram::MAX_PHOTO_BYTES).await?;
            photo.upload = loaded.into_iter().next().map(|picture| telegram::Upload {
                bytes: picture.bytes,
                mime: picture.mime,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Sender for TelegramSender {
    fn limits(&self) -> RateLimits {
        telegram::LIMITS
    }

    fn chat_class(&self, target: &str) -> ChatClass {
        match target.parse::<i64>() {
            Ok(id) if telegram::is_private_chat(id) => ChatClass::Private,
            _ => ChatClass::Group,
        }
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError> {
        let chat_id: i64 = delivery.target.parse().map_err(|_| {
            SendError::permanent(format!("not a Telegram chat id: {:?}", delivery.target))
        })?;
        let mut request: Request = serde_json::from_str(delivery.body).map_err(|e| {
            SendError::permanent(format!("unreadable Telegram request in the outbox: {e}"))
        })?;
        self.attach_uploads(&mut request).await?;
        match self.client.perform(chat_id, &request).await {
            Ok(id) => Ok(id),
            Err(err) => {
                let moved_to = match &err {
                    TelegramError::MigratedTo(chat) => Some(chat.to_string()),
                    _ => None,
                };
                Err(SendError {
                    disposition: err.disposition(),
                    message: err.to_string(),
                    moved_to,
                })
            }
        }
    }
}

/// Receiving updates: long polling and the webhook secret; the bot's start-up chores.
/// Files sent to be read as text (a template sent as a file): downloaded outside any request or
/// transaction, then stored in the inbox as the sender's text message, so the chat core handles them like
/// text. Only small UTF-8 files are read.
/// Bots may download files up to 20 MB.
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

#[async_trait::async_trait]
impl crate::social::PictureSource for herald_bots::telegram::TelegramClient {
    async fn fetch(&self, file_id: &str) -> Result<Vec<u8>, crate::outbox::SendError> {
        self.download_file(file_id, MAX_DOWNLOAD)
            .await
            .map_err(|e| crate::outbox::SendError {
                disposition: e.disposition(),
                message: format!("downloading a picture from Telegram: {e}"),
                moved_to: None,
            })
    }
}

pub mod documents {
    use std::time::Duration;

    use herald_bots::telegram::TelegramClient;
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use crate::{
        chat::telegram::UPDATE_KIND,
        clock::SharedClock,
        db::{
            Db, documents as store,
            inbox::{self, NewEvent},
        },
        health::Reporter,
        templates::Templates,
    };

    /// The largest file read (a template is a few kilobytes).
    pub const MAX_BYTES: u64 = 64 * 1024;

    /// Reads the files waiting; returns how many were read.
    pub async fn read_once(
        client: &TelegramClient,
        db: &Db,
        clock: &SharedClock,
        templates: &Templates,
    ) -> anyhow::Result<usize> {
        let pending = {
            let mut tx = db.begin().await?;
            let pending = store::pending(&mut tx).await?;
            tx.commit().await?;
            pending
        };
        let mut read = 0;
        for request in pending {
            // Why a file could not be read: a reason the template words, and the driver's detail.
            let text = match client.download_file(&request.file_id, MAX_BYTES).await {
                Ok(bytes) => String::from_utf8(bytes).map_err(|_| ("not_text", String::new())),
                Err(err) => Err(("download", err.to_string())),
            };
            let mut tx = db.begin().await?;
            let now = clock.now();
            match text {
                Ok(text) => {
                    let chat: i64 = request.chat_id.parse()?;
                    let user: i64 = request.user_id.parse()?;
                    // The sender's message, as if typed: negative ids never collide with Telegram's.
                    let update = json!({ "update_id": -request.id, "message": {
                        "message_id": 0, "date": now.timestamp(),
                        "chat": { "id": chat, "type": if chat > 0 { "private" } else { "supergroup" } },
                        "from": { "id": user, "is_bot": false, "first_name": request.user_name },
                        "text": text.trim_start_matches('\u{feff}') } });
                    let event = NewEvent {
                        provider: crate::delivery::telegram::BOT_PROVIDER.into(),
                        event_id: format!("document:{}", request.id),
                        kind: UPDATE_KIND.into(),
                        payload: update.to_string(),
                    };
                    inbox::insert(&mut tx, now, &event).await?;
                    store::finish(&mut tx, request.id, None).await?;
                    read += 1;
                }
                Err((reason, detail)) => {
                    store::finish(&mut tx, request.id, Some(&format!("{reason}: {detail}")))
                        .await?;
                    let notice = crate::delivery::Notice::new(
                        "document_unreadable",
                        json!({ "reason": reason, "detail": detail, "max_kb": MAX_BYTES / 1024 }),
                    );
                    let language = crate::db::contacts::language_of_chat(
                        &mut tx,
                        crate::delivery::telegram::PLATFORM,
                        &request.chat_id,
                    )
                    .await?;
                    crate::delivery::telegram::write_notice(
                        &mut tx,
                        templates.words(language.as_deref()),
                        now,
                        request.chat_id.parse()?,
                        &notice,
                        &format!("document-failed:{}", request.id),
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(read)
    }

    /// Reads files until shutdown, looking every second.
    pub async fn run(
        client: TelegramClient,
        db: Db,
        clock: SharedClock,
        templates: std::sync::Arc<Templates>,
        health: Reporter,
        shutdown: CancellationToken,
    ) {
        crate::health::repeat(&clock, &health, &shutdown, Duration::from_secs(1), || {
            read_once(&client, &db, &clock, &templates)
        })
        .await;
    }
}

pub mod updates {
    use std::time::Duration;

    use anyhow::Context;
    use herald_bots::telegram::{BotCommand, CommandScope, TelegramClient, updates::update_id};
    use herald_commands::{Role, catalog};
    use tokio_util::sync::CancellationToken;

    use crate::{
        chat::telegram::{UPDATE_KIND, USERNAME_KEY},
        clock::SharedClock,
        config::TelegramMode,
        db::{
            Db,
            inbox::{self, NewEvent},
            people, system,
        },
        health::Reporter,
        links,
    };

    pub const OFFSET_KEY: &str = "telegram.offset";
    pub const WEBHOOK_SECRET_KEY: &str = "telegram.webhook_secret";
    /// The update kinds Herald asks for (Bot API `allowed_updates`).
    pub const ALLOWED_UPDATES: &[&str] = &[
        "message",
        "edited_message",
        "channel_post",
        "callback_query",
        "my_chat_member",
    ];
    const POLL_TIMEOUT: Duration = Duration::from_secs(25);

    /// Stores raw updates in the inbox (each once), as the webhook receives them; returns how many were
    /// new. Nothing else is written: the stored offset is polling's alone, so concurrent webhook requests
    /// share no row.
    pub async fn store_updates(
        db: &Db,
        clock: &SharedClock,
        raw: &[serde_json::Value],
    ) -> anyhow::Result<usize> {
        let mut tx = db.begin().await?;
        let (stored, _) = insert_all(&mut tx, clock.now(), raw).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Stores polled updates and advances the stored offset, in one transaction: the offset Telegram is
    /// next asked with only moves past updates that are safely stored.
    async fn store_polled(
        db: &Db,
        clock: &SharedClock,
        raw: &[serde_json::Value],
    ) -> anyhow::Result<usize> {
        let mut tx = db.begin().await?;
        let (stored, next_offset) = insert_all(&mut tx, clock.now(), raw).await?;
        if let Some(offset) = next_offset {
            system::set_system(&mut tx, clock.now(), OFFSET_KEY, &offset.to_string()).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Inserts the updates; returns how many were new and the offset past the last update id.
    async fn insert_all(
        tx: &mut crate::db::Tx,
        now: chrono::DateTime<chrono::Utc>,
        raw: &[serde_json::Value],
    ) -> anyhow::Result<(usize, Option<i64>)> {
        let mut stored = 0;
        let mut next_offset: Option<i64> = None;
        for update in raw {
            let id = update_id(update);
            let event_id = match id {
                Some(id) => id.to_string(),
                None => format!("invalid:{}", crate::token::hash(&update.to_string())),
            };
            let event = NewEvent {
                provider: crate::delivery::telegram::BOT_PROVIDER.into(),
                event_id,
                kind: UPDATE_KIND.into(),
                payload: update.to_string(),
            };
            if inbox::insert(tx, now, &event).await?.is_some() {
                stored += 1;
            }
            if let Some(id) = id {
                next_offset = Some(next_offset.map_or(id + 1, |o: i64| o.max(id + 1)));
            }
        }
        Ok((stored, next_offset))
    }

    /// One long poll: fetch from the stored offset, store what came.
    pub async fn poll_once(
        client: &TelegramClient,
        db: &Db,
        clock: &SharedClock,
        timeout: Duration,
    ) -> anyhow::Result<usize> {
        let offset = {
            let mut tx = db.begin().await?;
            let value = system::get_system(&mut tx, OFFSET_KEY).await?;
            tx.commit().await?;
            value.and_then(|v| v.parse::<i64>().ok())
        };
        let raw = client
            .get_updates(offset, timeout, ALLOWED_UPDATES)
            .await
            .context("getUpdates failed")?;
        if raw.is_empty() {
            return Ok(0);
        }
        store_polled(db, clock, &raw).await
    }

    /// Learns the bot's username (`getMe`), retrying until Telegram answers or shutdown.
    async fn learn_identity(
        client: &TelegramClient,
        db: &Db,
        clock: &SharedClock,
        health: &Reporter,
        shutdown: &CancellationToken,
    ) -> Option<String> {
        let mut delay = Duration::from_secs(1);
        loop {
            match client.get_me().await {
                Ok(me) => {
                    let stored = async {
                        let mut tx = db.begin().await?;
                        system::set_system(&mut tx, clock.now(), USERNAME_KEY, &me.username)
                            .await?;
                        tx.commit().await
                    };
                    if let Err(err) = stored.await {
                        health.failing(clock.now(), &err);
                    }
                    return Some(me.username);
                }
                Err(err) => {
                    let err = anyhow::Error::new(err).context(
                        "getMe failed; is HERALD_TELEGRAM_TOKEN right and Telegram reachable?",
                    );
                    tracing::warn!(error = %format!("{err:#}"), "Telegram not reachable yet");
                    health.failing(clock.now(), &err);
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    /// The command menus: attendee commands in private chats by default, admin commands for each
    /// owner's and admin's private chat.
    async fn publish_commands(client: &TelegramClient, db: &Db) -> anyhow::Result<()> {
        let menu = |up_to: Role| -> Vec<BotCommand> {
            let mut seen = std::collections::BTreeSet::new();
            catalog()
                .iter()
                .filter(|s| s.min_role <= up_to)
                .filter_map(|s| {
                    let word = s.group().to_owned();
                    seen.insert(word.clone()).then(|| BotCommand {
                        command: word,
                        description: s.help.chars().take(256).collect(),
                    })
                })
                .collect()
        };
        client
            .set_my_commands(&menu(Role::Attendee), &CommandScope::AllPrivateChats)
            .await?;
        let mut tx = db.begin().await?;
        let staff = people::staff_user_ids(&mut tx, crate::delivery::telegram::PLATFORM).await?;
        tx.commit().await?;
        for user in staff {
            if let Ok(chat_id) = user.parse::<i64>() {
                client
                    .set_my_commands(&menu(Role::Owner), &CommandScope::Chat { chat_id })
                    .await?;
            }
        }
        Ok(())
    }

    /// Runs the Telegram side until shutdown: identity, owner link, menus, then updates by polling (or
    /// the webhook, which the web server receives).
    pub async fn run(
        client: TelegramClient,
        db: Db,
        clock: SharedClock,
        mode: TelegramMode,
        webhook: Option<(String, String)>,
        health: Reporter,
        shutdown: CancellationToken,
    ) {
        let Some(username) = learn_identity(&client, &db, &clock, &health, &shutdown).await else {
            health.stopped();
            return;
        };
        health.detail(format!("@{username}, {mode:?}").to_lowercase());
        match owner_link_if_needed(&db, &clock, &username).await {
            Ok(Some(link)) => tracing::warn!(
                "no owner yet: open this link in Telegram to become the owner (works once, 7 days): {link}"
            ),
            Ok(None) => {}
            Err(err) => tracing::error!(error = ?err, "could not create the owner link"),
        }
        if let Err(err) = publish_commands(&client, &db).await {
            tracing::warn!(error = ?err, "could not publish the command menu");
        }
        match (mode, webhook) {
            (TelegramMode::Webhook, Some((url, secret))) => {
                match client.set_webhook(&url, &secret, ALLOWED_UPDATES).await {
                    Ok(()) => health.ok(clock.now()),
                    Err(err) => health.failing(
                        clock.now(),
                        &anyhow::Error::new(err).context("setWebhook failed"),
                    ),
                }
                shutdown.cancelled().await;
            }
            _ => {
                health.detail(format!("@{username}, polling"));
                if let Err(err) = client.delete_webhook().await {
                    tracing::warn!(error = %err, "deleteWebhook failed; getUpdates may be refused");
                }
                poll(&client, &db, &clock, &health, &shutdown).await;
            }
        }
        health.stopped();
    }

    async fn poll(
        client: &TelegramClient,
        db: &Db,
        clock: &SharedClock,
        health: &Reporter,
        shutdown: &CancellationToken,
    ) {
        let mut failures: u32 = 0;
        loop {
            let started = std::time::Instant::now();
            let round = tokio::select! {
                () = shutdown.cancelled() => return,
                r = poll_once(client, db, clock, POLL_TIMEOUT) => r,
            };
            match round {
                Ok(stored) => {
                    failures = 0;
                    health.ok(clock.now());
                    // A server that ignores the long-poll timeout (test emulators do) would make this loop
                    // spin; an empty answer that came back at once waits a moment before the next poll.
                    if stored == 0 && started.elapsed() < Duration::from_millis(500) {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                    }
                }
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = %format!("{err:#}"), "polling Telegram failed");
                    health.failing(clock.now(), &err);
                    let wait = Duration::from_secs(1 << failures.min(6));
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// A fresh owner link while nobody owns this Herald.
    pub async fn owner_link_if_needed(
        db: &Db,
        clock: &SharedClock,
        username: &str,
    ) -> anyhow::Result<Option<String>> {
        let token = links::owner_token_if_needed(db, clock.now()).await?;
        Ok(token.map(|token| format!("https://t.me/{username}?start={token}")))
    }

    /// The webhook secret, created once and kept, so several processes agree on it.
    pub async fn webhook_secret(db: &Db, clock: &SharedClock) -> anyhow::Result<String> {
        let mut tx = db.begin().await?;
        let secret = system::set_system_if_absent(
            &mut tx,
            clock.now(),
            WEBHOOK_SECRET_KEY,
            &crate::token::new_token(),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }
}

/// Telegram's webhook on Herald's web server (webhook mode).
pub mod webhook {
    use axum::{
        body::Bytes,
        extract::State,
        http::{HeaderMap, StatusCode},
        response::{IntoResponse, Response},
    };
    use subtle::ConstantTimeEq;
    use tokio::sync::{mpsc, oneshot};

    use crate::{clock::SharedClock, db::Db, web::AppState};

    /// Where Telegram posts updates.
    pub const PATH: &str = "/telegram/webhook";

    /// Most updates written in one transaction.
    const GROUP: usize = 512;

    type Waiting = (serde_json::Value, oneshot::Sender<Result<(), String>>);

    /// Group commit for webhook updates: requests that arrive while a transaction is being written wait
    /// for the next one, which stores them all; each is answered once its update is committed. Under
    /// load one transaction carries many updates, so the database is not asked for a commit per request.
    #[derive(Debug, Clone)]
    pub struct Ingest {
        queue: mpsc::Sender<Waiting>,
    }

    impl Ingest {
        /// Starts the writer; it stops when the last handle is dropped.
        pub fn start(db: Db, clock: SharedClock) -> Self {
            let (queue, mut rx) = mpsc::channel::<Waiting>(4 * GROUP);
            tokio::spawn(async move {
                while let Some(first) = rx.recv().await {
                    let mut group = vec![first];
                    while group.len() < GROUP {
                        match rx.try_recv() {
                            Ok(next) => group.push(next),
                            Err(_) => break,
                        }
                    }
                    let updates: Vec<serde_json::Value> =
                        group.iter().map(|(update, _)| update.clone()).collect();
                    let stored = super::updates::store_updates(&db, &clock, &updates)
                        .await
                        .map(drop)
                        .map_err(|err| {
                            tracing::error!(error = ?err, updates = updates.len(), "could not store Telegram updates");
                            format!("{err:#}")
                        });
                    for (_, answer) in group {
                        let _ = answer.send(stored.clone());
                    }
                }
            });
            Self { queue }
        }

        /// Stores `update` with the others that came meanwhile; returns once it is committed.
        pub async fn store(&self, update: serde_json::Value) -> Result<(), String> {
            let (answer, stored) = oneshot::channel();
            self.queue
                .send((update, answer))
                .await
                .map_err(|_| "the update writer stopped".to_owned())?;
            stored
                .await
                .map_err(|_| "the update writer stopped".to_owned())?
        }
    }

    /// Telegram's webhook: check the secret, store the update in the inbox, answer 200 only once it is stored.
    /// A body that is not an update is stored too (it fails visibly in the inbox) and answered 400.
    pub async fn receive(
        State(state): State<AppState>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let (Some(expected), Some(ingest)) = (&state.telegram_secret, &state.telegram_ingest)
        else {
            return (StatusCode::NOT_FOUND, "Telegram webhook mode is off").into_response();
        };
        let presented = headers
            .get("x-telegram-bot-api-secret-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !bool::from(presented.ct_eq(expected.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                "wrong or missing X-Telegram-Bot-Api-Secret-Token",
            )
                .into_response();
        }
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
        let (value, valid) = match parsed {
            Ok(v) if herald_bots::telegram::updates::update_id(&v).is_some() => (v, true),
            Ok(v) => (v, false),
            Err(_) => (
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()),
                false,
            ),
        };
        match ingest.store(value).await {
            Ok(()) if valid => StatusCode::OK.into_response(),
            Ok(()) => (
                StatusCode::BAD_REQUEST,
                "not a Telegram update (no update_id); kept for inspection",
            )
                .into_response(),
            // Logged by the writer, once per group.
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the update; retry",
            )
                .into_response(),
        }
    }
}
