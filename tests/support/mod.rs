//! The test harness: [`TestApp`] builds the real application through [`Application::build_with`] — the
//! same function `main` uses — with a fresh database, port 0, Telegram pointed at [`FakeTelegram`], and a
//! clock the test moves by hand. Tests drain the outbox and inbox explicitly and never sleep.
//!
//! The database is a temporary SQLite file, or a fresh schema in the PostgreSQL database named by
//! `TEST_DATABASE_URL` when that is set.

#![allow(dead_code, clippy::unwrap_used)]

pub mod browser;
pub mod fake_bluesky;
pub mod fake_linkedin;
pub mod fake_mastodon;
pub mod fake_smtp;
pub mod fake_telegram;
pub mod fake_x;
pub mod mail;

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
    delivery::telegram,
    inbox::Handlers,
    outbox::RunReport,
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
    config.database_url = herald::config::SecretUrl::new(database_url);
    config.listen = "127.0.0.1:0".parse().expect("addr");
    config.telegram.token = Some(Secret::new(TOKEN));
    config.telegram.api_url = Some(telegram.url.clone());
    config.outbox.send_timeout_ms = 500;
    // Mail goes to a folder of the test's own unless a test points it at an SMTP server.
    config.email.folder = dir.path().join("mail");
    (config, dir)
}

/// A Telegram user for building updates.
#[derive(Debug, Clone)]
pub struct TgUser {
    pub id: i64,
    pub first_name: &'static str,
    pub username: &'static str,
}

pub const OWNER: TgUser = TgUser {
    id: 1001,
    first_name: "Olga",
    username: "olga",
};
pub const ADA: TgUser = TgUser {
    id: 1002,
    first_name: "Ada",
    username: "ada",
};
pub const BOB: TgUser = TgUser {
    id: 1003,
    first_name: "Bob",
    username: "bob",
};
pub const BOT_USERNAME: &str = "herald_test_bot";

pub struct TestApp {
    pub app: Application,
    pub telegram: FakeTelegram,
    pub clock: Arc<ManualClock>,
    pub base_url: String,
    pub http: reqwest::Client,
    next_update: std::sync::atomic::AtomicI64,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, Handlers::default()).await
    }

    /// Herald without Telegram: the web chat is the way in.
    pub async fn spawn_without_telegram() -> Self {
        Self::spawn_with(
            |c| {
                c.telegram.token = None;
                c.telegram.api_url = None;
                c.telegram.mode = None;
            },
            Handlers::default(),
        )
        .await
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
        // What `getMe` tells a running Herald at start (when Telegram is on).
        if app.telegram.is_some() {
            let mut tx = app.db.begin().await.expect("begin");
            herald::db::system::set_system(
                &mut tx,
                start_time(),
                herald::chat::telegram::USERNAME_KEY,
                BOT_USERNAME,
            )
            .await
            .expect("username");
            tx.commit().await.expect("commit");
        }
        Self {
            app,
            telegram,
            clock,
            base_url,
            http: reqwest::Client::new(),
            next_update: std::sync::atomic::AtomicI64::new(1),
            _dir: dir,
        }
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    /// The `.eml` files in the mail folder (no SMTP server configured), each as readable text.
    pub fn mail_files(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.app.config.email.folder) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| mail::readable(&std::fs::read_to_string(p).expect("readable .eml")))
            .collect()
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

impl TestApp {
    fn update_id(&self) -> i64 {
        self.next_update
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// A message update from `user` in `chat` (the user's private chat when `chat` is their id).
    pub fn message_update(&self, user: &TgUser, chat: i64, text: &str) -> serde_json::Value {
        let id = self.update_id();
        let chat_json = if chat == user.id {
            serde_json::json!({ "id": chat, "type": "private", "first_name": user.first_name, "username": user.username })
        } else {
            serde_json::json!({ "id": chat, "type": "supergroup", "title": "Organisers" })
        };
        let mut message = serde_json::json!({
            "message_id": id * 10, "date": 1_798_000_000, "chat": chat_json, "text": text,
            "from": { "id": user.id, "is_bot": false, "first_name": user.first_name, "username": user.username },
        });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .encode_utf16()
                .count();
            message["entities"] =
                serde_json::json!([{ "type": "bot_command", "offset": 0, "length": len }]);
        }
        serde_json::json!({ "update_id": id, "message": message })
    }

    /// `user` pressing the button with `data` under the bot's message `message_id` in `chat` (their private
    /// chat, or a group), with a fresh update id; its callback id is `cb<update id>`.
    pub fn button_update(
        &self,
        user: &TgUser,
        chat: i64,
        message_id: i64,
        data: &str,
    ) -> serde_json::Value {
        let id = self.update_id();
        let chat_json = if chat == user.id {
            serde_json::json!({ "id": chat, "type": "private", "first_name": user.first_name })
        } else {
            serde_json::json!({ "id": chat, "type": "supergroup", "title": "Moderation" })
        };
        serde_json::json!({ "update_id": id, "callback_query": {
            "id": format!("cb{id}"), "chat_instance": "x", "data": data,
            "from": { "id": user.id, "is_bot": false, "first_name": user.first_name, "username": user.username },
            "message": { "message_id": message_id, "date": 1_798_000_000, "chat": chat_json, "text": "…" } } })
    }

    /// A photo from `user` in their private chat, captioned `caption`, as Telegram sends it: a few sizes of
    /// the picture, the largest last (its `file_id` is `file_id`).
    pub fn photo_update(&self, user: &TgUser, file_id: &str, caption: &str) -> serde_json::Value {
        let mut update = self.message_update(user, user.id, caption);
        let message = update["message"].as_object_mut().expect("message");
        message.remove("text");
        if let Some(entities) = message.remove("entities") {
            message.insert("caption_entities".into(), entities);
        }
        message.insert("caption".into(), caption.into());
        message.insert(
            "photo".into(),
            serde_json::json!([
                { "file_id": format!("{file_id}-small"), "file_unique_id": "s", "width": 90, "height": 60, "file_size": 1200 },
                { "file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 150_000 },
            ]),
        );
        update
    }

    /// Delivers raw updates the way polling and the webhook do, then handles them and sends the replies.
    pub async fn deliver(&self, updates: &[serde_json::Value]) {
        let clock: herald::clock::SharedClock = self.clock.clone();
        herald::telegram::updates::store_updates(self.db(), &clock, updates)
            .await
            .expect("stored");
        let report = self.app.inbox.drain().await.expect("inbox");
        assert_eq!(
            report.failed,
            0,
            "inbound events failed: {:?}",
            herald::db::inbox::list(self.db()).await
        );
        self.send_everything().await;
    }

    /// Drains the outbox, letting the clock run a second at a time while the rate limits hold messages
    /// back (a private chat gets one message a second), until nothing is pending.
    pub async fn send_everything(&self) {
        for _ in 0..120 {
            self.drain_outbox().await;
            // Held back by a rate limit (due within seconds), as opposed to scheduled for later (a reminder).
            let soon = self.now() + TimeDelta::seconds(30);
            let pending = outbox::list(self.db())
                .await
                .expect("list")
                .iter()
                .any(|r| {
                    r.state == herald::db::outbox::OutboxState::Pending && r.next_attempt_at <= soon
                });
            if !pending {
                return;
            }
            self.advance(TimeDelta::seconds(1));
        }
        panic!("the outbox did not empty within two minutes of test time");
    }

    /// `user` writes `text` in `chat`; returns what the bot sent to that chat in response.
    pub async fn say_in(&self, user: &TgUser, chat: i64, text: &str) -> Vec<String> {
        let before = self.telegram.texts_to(chat).len();
        self.deliver(&[self.message_update(user, chat, text)]).await;
        self.telegram.texts_to(chat).split_off(before)
    }

    /// `user` writes `text` in their private chat with the bot; returns the replies.
    pub async fn say(&self, user: &TgUser, text: &str) -> Vec<String> {
        self.say_in(user, user.id, text).await
    }

    /// A fresh owner link, as `herald run` logs it.
    pub async fn owner_link(&self) -> String {
        let clock: herald::clock::SharedClock = self.clock.clone();
        herald::telegram::updates::owner_link_if_needed(self.db(), &clock, BOT_USERNAME)
            .await
            .expect("link")
            .expect("no owner yet")
    }

    /// Makes `OWNER` the owner and creates a conference; the owner's chat is about it.
    pub async fn with_owner_and_conference(&self) {
        let link = self.owner_link().await;
        self.say(&OWNER, &format!("/start {}", token_of(&link)))
            .await;
        let replies = self
            .say(
                &OWNER,
                "/conference new fosdem-2027 Europe/Brussels 2027-02-06 2027-02-07 FOSDEM 2027",
            )
            .await;
        assert!(replies[0].contains("Created"), "{replies:?}");
    }

    /// Starts the Mastodon and Bluesky listeners with quick settings (supervised every second, Bluesky
    /// polled every second, short backoff); they stop when the returned token is cancelled or dropped.
    pub fn start_listeners(&self) -> tokio_util::sync::DropGuard {
        let settings = herald::config::ListenSection {
            bluesky_poll_secs: 1,
            x_poll_secs: 1,
            stream_idle_secs: 30,
            backoff_base_ms: 100,
            backoff_max_secs: 1,
            notify_after_secs: 300,
            supervise_secs: 1,
        };
        let listeners = herald::listen::Listeners::new(
            self.app.db.clone(),
            self.app.clock.clone(),
            self.app.health.clone(),
            self.app.templates.clone(),
            settings,
            self.app.config.public_url.clone(),
            herald::social::Settings::of(&self.app.config),
        )
        .expect("listeners");
        let token = tokio_util::sync::CancellationToken::new();
        tokio::spawn(listeners.run(token.clone()));
        token.drop_guard()
    }

    /// Handles what arrived in the inbox and sends what that queued, until `check` holds (or 10 s pass).
    /// Wakes as soon as a listener stores something in the inbox; what lives outside the database (a fake
    /// server's streams, health) is looked at again at least every 50 ms.
    pub async fn until(&self, what: &str, mut check: impl FnMut(&Self) -> bool) {
        let stored = self.app.db.inbox_signal();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            let woken = stored.notified();
            self.app.inbox.drain().await.expect("inbox");
            self.send_everything().await;
            if check(self) {
                return;
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), woken).await;
        }
        panic!("waited 10 s for {what}");
    }

    /// A fake Mastodon account added by the owner as provider `fosstodon`, switched on, with `feature` on;
    /// returns the fake and the reply to the switch.
    pub async fn add_fake_mastodon(
        &self,
        feature: &str,
    ) -> (fake_mastodon::FakeMastodon, Vec<String>) {
        let mastodon = fake_mastodon::FakeMastodon::start().await;
        self.say(
            &OWNER,
            &format!("/provider add mastodon fosstodon {}", mastodon.url),
        )
        .await;
        self.deliver(&[self.message_update(&OWNER, OWNER.id, fake_mastodon::FakeMastodon::TOKEN)])
            .await;
        self.say(&OWNER, "/provider on fosstodon").await;
        let replies = self
            .say(&OWNER, &format!("/switch fosstodon {feature} on"))
            .await;
        (mastodon, replies)
    }

    /// A fake Bluesky account added by the owner as provider `sky`, tested, switched on, with `feature`
    /// (`public`, `moderation`) on for the conference.
    pub async fn add_fake_bluesky(&self, feature: &str) -> fake_bluesky::FakeBluesky {
        let bluesky = fake_bluesky::FakeBluesky::start().await;
        self.say(
            &OWNER,
            &format!("/provider add bluesky sky {}", bluesky.url),
        )
        .await;
        self.deliver(&[self.message_update(&OWNER, OWNER.id, "fosdem.test app-pass-word")])
            .await;
        let replies = self.say(&OWNER, "/provider test sky").await;
        assert!(replies[0].contains("did:plc:herald"), "{replies:?}");
        self.say(&OWNER, "/provider on sky").await;
        self.say(&OWNER, &format!("/switch sky {feature} on")).await;
        bluesky
    }

    /// The owner binds `chat` (a group) as the conference's `slot` chat.
    pub async fn bind(&self, slot: &str, chat: i64) {
        let code = code_in(&self.say(&OWNER, &format!("/bind {slot}")).await[0]);
        self.say_in(&OWNER, chat, &code).await;
    }

    /// Waits until the listener of provider `name` says it is connected.
    pub async fn until_listening(&self, name: &str) {
        let component = format!("listener:{name}");
        self.until("the listener to connect", |app| {
            app.app
                .health
                .snapshot()
                .get(&component)
                .is_some_and(|c| c.detail.as_deref() == Some("connected"))
        })
        .await;
    }

    /// The bot's first message to `chat` containing `needle`.
    pub fn sent_containing(&self, chat: i64, needle: &str) -> Option<fake_telegram::Call> {
        self.telegram
            .calls_of("sendMessage")
            .into_iter()
            .find(|c| c.chat_id() == Some(chat) && c.text().is_some_and(|t| t.contains(needle)))
    }

    /// Imports `text` (any schedule format) into the conference `fosdem-2027`, as `herald import schedule`
    /// would at the test clock's time.
    pub async fn import(&self, text: &str) -> herald::schedule::import::Summary {
        let clock: herald::clock::SharedClock = self.clock.clone();
        let templates = herald::templates::Templates::new();
        herald::schedule::source::import_schedule(
            self.db(),
            &clock,
            &templates,
            "fosdem-2027",
            text,
            None,
        )
        .await
        .expect("the schedule imports")
        .1
    }

    /// `user` joins with an invitation for `role` from the owner; returns the bot's replies.
    pub async fn join(&self, user: &TgUser, role: &str) -> Vec<String> {
        let token = self.invite(role).await;
        self.say(user, &format!("/start {token}")).await
    }

    /// An invite link for `role`, issued by the owner.
    pub async fn invite(&self, role: &str) -> String {
        let replies = self.say(&OWNER, &format!("/invite {role}")).await;
        let text = replies.last().expect("invite reply");
        token_of(text)
    }
}

/// The binding code (`herald-bind-…`) in a reply to `/bind`.
pub fn code_in(text: &str) -> String {
    let start = text.find("herald-bind-").expect("a binding code");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

/// The `start=` token in a text containing a deep link.
pub fn token_of(text: &str) -> String {
    let start = text.find("start=").expect("a deep link") + "start=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// One session of a test schedule: (guid, title, room, start, minutes, state).
pub type TestSession<'a> = (
    &'a str,
    &'a str,
    &'a str,
    chrono::DateTime<chrono::Utc>,
    i64,
    &'a str,
);

/// A small frab JSON schedule.
pub fn schedule_json(sessions: &[TestSession<'_>]) -> String {
    let events: Vec<_> = sessions
        .iter()
        .map(|(guid, title, room, start, minutes, state)| {
            serde_json::json!({ "guid": guid, "id": guid, "title": title, "room": room, "state": state,
                    "date": start.with_timezone(&chrono_tz::Europe::Berlin).to_rfc3339(),
                    "start": "00:00", "duration": format!("{:02}:{:02}", minutes / 60, minutes % 60),
                    "track": "Main", "persons": [{ "id": 1, "public_name": "Ada" }] })
        })
        .collect();
    serde_json::json!({ "schedule": { "conference": { "title": "Test Conf", "acronym": "test", "time_zone_name": "Europe/Berlin",
        "start": "2026-12-27", "end": "2026-12-28",
        "days": [{ "index": 1, "date": "2026-12-27", "rooms": { "Hall": events } }] } } })
    .to_string()
}

/// Serves `body` at `/<name>` on a port of its own (a schedule for `/import`, a feed); returns the address.
pub async fn serve_text(name: &str, body: String) -> String {
    let app = axum::Router::new().route(
        &format!("/{name}"),
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}/{name}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    url
}
