//! An in-process fake of the Telegram Bot API: records every call, assigns message ids, and answers with
//! scripted faults (flood wait, 5xx, timeout, permanent errors, group migration) when told to.
//!
//! It speaks the wire format of the real API (`/bot<token>/<method>`, JSON bodies, `ok`/`error_code`/
//! `description`/`parameters`), which the real peer telegram-test-api does not for errors.

#![allow(dead_code, clippy::unwrap_used)]

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, Multipart, Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// A scripted answer for one call.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `parameters.retry_after`.
    RetryAfter(u64),
    /// 500 with a JSON body.
    ServerError,
    /// 502 with an HTML body, as a proxy in front of Telegram would answer.
    BadGatewayHtml,
    /// Answers only after this long (longer than the client's timeout).
    Timeout(Duration),
    /// An error Telegram would not change its mind about (403 blocked, 400 chat not found, …).
    Permanent { code: u16, description: String },
    /// 400 with `parameters.migrate_to_chat_id`.
    Migrated(i64),
    /// Accepts the message, but only after this long.
    Slow(Duration),
}

impl Fault {
    pub fn blocked() -> Self {
        Self::Permanent {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
        }
    }
}

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub token: String,
    pub method: String,
    pub body: Value,
    /// The message id it answered with, `None` when it answered with a fault.
    pub message_id: Option<i64>,
    /// When the request arrived (wall clock).
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }
    pub fn text(&self) -> Option<&str> {
        self.body.get("text").and_then(Value::as_str)
    }
}

#[derive(Debug, Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    /// Faults for the next calls, in order; `Some(chat)` applies only to calls to that chat.
    faults: Mutex<VecDeque<(Option<i64>, Fault)>>,
    next_message_id: AtomicI64,
    /// Updates waiting to be fetched with getUpdates, oldest first.
    updates: Mutex<VecDeque<Value>>,
    /// Requests that arrived, counted before they are answered.
    arrived: std::sync::atomic::AtomicUsize,
    /// Messages accepted (sendMessage answered with a message id).
    accepted: std::sync::atomic::AtomicUsize,
    /// Methods of the requests that arrived, in order, recorded before they are answered.
    arrived_methods: Mutex<Vec<String>>,
    /// Files the bot may download, by file id, and how many downloads were served.
    files: Mutex<std::collections::HashMap<String, Vec<u8>>>,
    downloads: std::sync::atomic::AtomicUsize,
    changed: Notify,
    /// Telegram's limits, enforced as Telegram does when switched on ([`FakeTelegram::start_enforcing`]).
    limits: Mutex<Option<Enforced>>,
}

/// Sliding windows of sends, as Telegram counts them: 30 a second per bot, one a second per private chat,
/// 20 a minute per group; beyond them a 429 with `retry_after` (whole seconds, at least 1).
#[derive(Debug, Default)]
struct Enforced {
    bot: VecDeque<std::time::Instant>,
    chats: std::collections::HashMap<i64, VecDeque<std::time::Instant>>,
    refused: usize,
}

impl Enforced {
    /// Counts a send to `chat` now, or says how long to wait.
    fn admit(&mut self, chat: i64) -> Result<(), u64> {
        let now = std::time::Instant::now();
        let (count, per) = if chat > 0 {
            (1, Duration::from_secs(1))
        } else {
            (20, Duration::from_secs(60))
        };
        let log = self.chats.entry(chat).or_default();
        let wait = |log: &mut VecDeque<std::time::Instant>, count: usize, per: Duration| {
            while log.front().is_some_and(|t| now.duration_since(*t) >= per) {
                log.pop_front();
            }
            (log.len() >= count).then(|| per - now.duration_since(log[log.len() - count]))
        };
        let chat_wait = wait(log, count, per);
        let bot_wait = wait(&mut self.bot, 30, Duration::from_secs(1));
        match chat_wait.max(bot_wait) {
            Some(w) => {
                self.refused += 1;
                Err(w.as_secs_f64().ceil().max(1.0) as u64)
            }
            None => {
                self.bot.push_back(now);
                self.chats.entry(chat).or_default().push_back(now);
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeTelegram {
    pub url: url::Url,
    shared: Arc<Shared>,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            next_message_id: AtomicI64::new(1),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .route("/file/{bot}/{*path}", axum::routing::get(download))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: url::Url::parse(&format!("http://{addr}")).expect("url"),
            shared,
        }
    }

    /// `herald run`, a process of its own, on the database at `url`, its bot (`token`) served by this fake.
    #[allow(dead_code)]
    pub fn herald_process(&self, url: &str, token: &str) -> tokio::process::Child {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("run")
            .env("HERALD_DATABASE_URL", url)
            .env("HERALD_TELEGRAM_TOKEN", token)
            .env("HERALD_TELEGRAM_API_URL", self.url.as_str())
            .env("HERALD_LISTEN", "127.0.0.1:0")
            .env("HERALD_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start herald run")
    }

    /// A fake that enforces Telegram's rate limits exactly (see [`Enforced`]).
    #[allow(dead_code)]
    pub async fn start_enforcing() -> Self {
        let fake = Self::start().await;
        *fake.shared.limits.lock().unwrap() = Some(Enforced::default());
        fake
    }

    /// How many requests the enforced limits answered 429.
    #[allow(dead_code)]
    pub fn refused(&self) -> usize {
        self.shared
            .limits
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |l| l.refused)
    }

    /// A file users sent, which the bot may download by `file_id`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.shared
            .files
            .lock()
            .unwrap()
            .insert(file_id.to_owned(), bytes);
    }

    /// File downloads served.
    pub fn downloads(&self) -> usize {
        self.shared.downloads.load(Ordering::SeqCst)
    }

    /// The next call answers with `fault`.
    pub fn fail_next(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back((None, fault));
    }

    /// The next call to `chat` answers with `fault`.
    pub fn fail_next_to(&self, chat: i64, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .push_back((Some(chat), fault));
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// Messages that were accepted (answered with a message id), as (chat, text).
    pub fn delivered(&self) -> Vec<(i64, String)> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" && c.message_id.is_some())
            .map(|c| {
                (
                    c.chat_id().unwrap_or_default(),
                    c.text().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Queues an update for getUpdates.
    pub fn push_update(&self, update: Value) {
        self.shared.updates.lock().unwrap().push_back(update);
        self.shared.changed.notify_waiters();
    }

    /// The `offset` of every getUpdates call, in order.
    pub fn get_updates_offsets(&self) -> Vec<Option<i64>> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "getUpdates")
            .map(|c| c.body.get("offset").and_then(Value::as_i64))
            .collect()
    }

    /// Calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// Texts of messages accepted for `chat`, in order.
    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.delivered()
            .into_iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| t)
            .collect()
    }

    /// Requests that have arrived so far.
    pub fn arrivals(&self) -> usize {
        self.shared.arrived.load(Ordering::SeqCst)
    }

    /// Waits until a `method` request has arrived (answered or not), or `limit` passes.
    pub async fn wait_for_method(&self, method: &str, limit: Duration) -> bool {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                if self
                    .shared
                    .arrived_methods
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|m| m == method)
                {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    /// Waits until at least `n` requests have arrived (answered or not), or `limit` passes.
    pub async fn wait_for_arrivals(&self, n: usize, limit: Duration) -> bool {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                if self.shared.arrived.load(Ordering::SeqCst) >= n {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    /// Waits (without polling) until at least `n` messages were accepted, or `limit` passes.
    pub async fn wait_for_delivered(&self, n: usize, limit: Duration) -> bool {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                if self.shared.accepted.load(Ordering::SeqCst) >= n {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

async fn download(
    State(shared): State<Arc<Shared>>,
    Path((_bot, path)): Path<(String, String)>,
) -> Response {
    let file_id = path
        .strip_prefix("photos/")
        .and_then(|p| p.strip_suffix(".jpg"))
        .unwrap_or_default();
    match shared.files.lock().unwrap().get(file_id) {
        Some(bytes) => {
            shared.downloads.fetch_add(1, Ordering::SeqCst);
            bytes.clone().into_response()
        }
        None => error(404, "Not Found", None),
    }
}

/// A multipart request (pictures uploaded) as JSON, as the Bot API reads it: text fields as values
/// (`chat_id` a number, `media` parsed), each file part as `{"upload": <bytes>, "content_type": …}`.
async fn multipart_body(request: Request) -> Result<Value, String> {
    let bad = |e: &dyn std::fmt::Display| format!("Bad Request: {e}");
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad(&e))?;
    let mut body = json!({});
    while let Some(field) = form.next_field().await.map_err(|e| bad(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        if field.file_name().is_some() {
            let content_type = field.content_type().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|e| bad(&e))?;
            body[name] = json!({ "upload": bytes.len(), "content_type": content_type });
        } else {
            let text = field.text().await.map_err(|e| bad(&e))?;
            body[name.as_str()] = match name.as_str() {
                "chat_id" => text.parse::<i64>().map_or(json!(text), |id| json!(id)),
                "media" => serde_json::from_str(&text).map_err(|e| bad(&e))?,
                _ => json!(text),
            };
        }
    }
    Ok(body)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return error(404, "Not Found", None);
    };
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let body = if multipart {
        match multipart_body(request).await {
            Ok(body) => body,
            Err(description) => return error(400, &description, None),
        }
    } else {
        match Bytes::from_request(request, &()).await {
            Ok(bytes) => match json_body(&bytes) {
                Some(body) => body,
                None => return error(400, "Bad Request: invalid JSON", None),
            },
            Err(e) => return e.into_response(),
        }
    };
    handle_call(shared, token, method, body).await
}

fn json_body(body: &Bytes) -> Option<Value> {
    Some(if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).ok()?
    })
}

async fn handle_call(shared: Arc<Shared>, token: &str, method: String, body: Value) -> Response {
    let chat = body.get("chat_id").and_then(Value::as_i64);
    shared.arrived.fetch_add(1, Ordering::SeqCst);
    shared.arrived_methods.lock().unwrap().push(method.clone());
    shared.changed.notify_waiters();
    let mut fault = {
        let mut faults = shared.faults.lock().unwrap();
        let index = faults
            .iter()
            .position(|(only, _)| only.is_none() || *only == chat);
        index.and_then(|i| faults.remove(i)).map(|(_, f)| f)
    };
    let mut call = Call {
        token: token.to_owned(),
        method: method.clone(),
        body: body.clone(),
        message_id: None,
        at: chrono::Utc::now(),
    };
    if let Some(Fault::Slow(delay)) = fault {
        tokio::time::sleep(delay).await;
        fault = None;
    }
    if fault.is_none()
        && method == "sendMessage"
        && let Some(chat) = chat
        && let Some(limits) = shared.limits.lock().unwrap().as_mut()
        && let Err(secs) = limits.admit(chat)
    {
        fault = Some(Fault::RetryAfter(secs));
    }
    let response = match fault {
        Some(fault) => {
            let response = match fault {
                Fault::RetryAfter(secs) => error(
                    429,
                    &format!("Too Many Requests: retry after {secs}"),
                    Some(json!({ "retry_after": secs })),
                ),
                Fault::ServerError => error(500, "Internal Server Error", None),
                Fault::BadGatewayHtml => (
                    StatusCode::BAD_GATEWAY,
                    "<html><body>502 Bad Gateway</body></html>",
                )
                    .into_response(),
                Fault::Timeout(d) => {
                    tokio::time::sleep(d).await;
                    error(500, "answered too late", None)
                }
                Fault::Permanent { code, description } => error(code, &description, None),
                Fault::Migrated(to) => error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    Some(json!({ "migrate_to_chat_id": to })),
                ),
                Fault::Slow(_) => unreachable!("handled above"),
            };
            shared.calls.lock().unwrap().push(call);
            response
        }
        None => match method.as_str() {
            "getMe" => {
                shared.calls.lock().unwrap().push(call);
                Json(json!({ "ok": true, "result": {
                    "id": 666, "is_bot": true, "first_name": "Herald", "username": "herald_test_bot",
                    "can_join_groups": true, "can_read_all_group_messages": false,
                    "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
                }}))
                .into_response()
            }
            "sendMessage" => {
                let Some(chat) = chat else {
                    return error(400, "Bad Request: chat_id is empty", None);
                };
                let Some(text) = body.get("text").and_then(Value::as_str) else {
                    return error(400, "Bad Request: message text is empty", None);
                };
                let id = shared.next_message_id.fetch_add(1, Ordering::SeqCst);
                call.message_id = Some(id);
                shared.calls.lock().unwrap().push(call);
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let kind = if chat > 0 { "private" } else { "supergroup" };
                Json(json!({ "ok": true, "result": {
                    "message_id": id, "date": 0, "chat": { "id": chat, "type": kind }, "text": text
                }}))
                .into_response()
            }
            "getUpdates" => {
                // Updates before `offset` are confirmed and forgotten, as the Bot API does.
                if let Some(offset) = body.get("offset").and_then(Value::as_i64) {
                    shared
                        .updates
                        .lock()
                        .unwrap()
                        .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                }
                shared.calls.lock().unwrap().push(call);
                let pending: Vec<Value> = shared.updates.lock().unwrap().iter().cloned().collect();
                if pending.is_empty() {
                    // A short long-poll, so a polling loop against the fake does not spin.
                    let _ =
                        tokio::time::timeout(Duration::from_millis(200), shared.changed.notified())
                            .await;
                }
                let pending: Vec<Value> = shared.updates.lock().unwrap().iter().cloned().collect();
                Json(json!({ "ok": true, "result": pending })).into_response()
            }
            "getFile" => {
                shared.calls.lock().unwrap().push(call);
                let id = body["file_id"].as_str().unwrap_or_default().to_owned();
                match shared.files.lock().unwrap().get(&id) {
                    Some(bytes) => Json(json!({ "ok": true, "result": {
                        "file_id": id, "file_unique_id": id, "file_size": bytes.len(),
                        "file_path": format!("photos/{id}.jpg")
                    }}))
                    .into_response(),
                    None => error(400, "Bad Request: invalid file_id", None),
                }
            }
            "sendPhoto" | "sendMediaGroup" => {
                let id = shared.next_message_id.fetch_add(1, Ordering::SeqCst);
                call.message_id = Some(id);
                shared.calls.lock().unwrap().push(call);
                let message = json!({ "message_id": id, "date": 0, "chat": { "id": chat } });
                let result = if method == "sendPhoto" {
                    message
                } else {
                    json!([message])
                };
                Json(json!({ "ok": true, "result": result })).into_response()
            }
            "setMyCommands"
            | "deleteWebhook"
            | "setWebhook"
            | "answerCallbackQuery"
            | "deleteMessage"
            | "editMessageText" => {
                shared.calls.lock().unwrap().push(call);
                Json(json!({ "ok": true, "result": true })).into_response()
            }
            _ => {
                shared.calls.lock().unwrap().push(call);
                error(404, "Not Found: method not found", None)
            }
        },
    };
    shared.changed.notify_waiters();
    response
}
