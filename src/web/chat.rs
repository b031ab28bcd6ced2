//! The web chat: Herald without Telegram. People talk to the bot in the browser exactly as in Telegram —
//! every command, the buttons, rooms bound as the moderation or organisers' chat — through the same chat
//! core (`crate::chat::web`) and the same delivery layer. What someone writes or presses is stored in the
//! inbox and handled there; Herald's answers arrive through the outbox ([`WebSender`]). The page looks for
//! new messages every two seconds (no framework, no build step) and works without JavaScript too.
//!
//! An owner link or an invitation opens `/chat/start/<token>`: the page asks for a name, and its button
//! makes a web account, runs `/start <token>` for it and opens a session.

use std::sync::Arc;

use async_trait::async_trait;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::TimeDelta;
use herald_bots::{Rate, RateLimits, html::escape_html};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, auth::Signed, csrf_refused, internal, page};
use crate::{
    chat::web::{EVENT_KIND, WebAction, WebEvent},
    clock::SharedClock,
    db::{
        Db, Tx,
        inbox::{self, NewEvent},
        links, people,
        web_chat::{self as store, PLATFORM},
    },
    delivery::web::WebBody,
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// A web chat session lasts a month: for people without Telegram it is the way in.
pub const CHAT_SESSION_TTL: TimeDelta = TimeDelta::days(30);
/// Messages a chat page shows.
const SHOWN: i64 = 100;
/// The longest message one may write.
const MAX_TEXT: usize = 4096;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat", get(chat_page))
        .route("/chat/messages", get(messages))
        .route("/chat/say", post(say))
        .route("/chat/press", post(press))
        .route("/chat/rooms", post(new_room))
        .route("/chat/start/{token}", get(start_page).post(start))
}

/// A chat the signed-in person may use.
#[derive(Debug, Clone, serde::Serialize)]
struct ChatEntry {
    id: String,
    /// A room's title; `None` for the person's own chat with Herald (the template names it).
    title: Option<String>,
    room: bool,
}

/// The person's web account and the chats they may use: their private chat first, then the rooms.
async fn chats_of(
    tx: &mut Tx,
    state: &AppState,
    signed: &Signed,
) -> anyhow::Result<(String, Vec<ChatEntry>)> {
    let account = store::account(tx, state.clock.now(), signed.person).await?;
    let mut chats = vec![ChatEntry {
        id: account.clone(),
        title: None,
        room: false,
    }];
    for room in store::rooms_of(tx, signed.person).await? {
        chats.push(ChatEntry {
            id: room.chat_id(),
            title: Some(room.title),
            room: true,
        });
    }
    Ok((account, chats))
}

/// The chat asked for, if it is one the person may use.
fn pick<'a>(chats: &'a [ChatEntry], asked: Option<&str>) -> Option<&'a ChatEntry> {
    asked.and_then(|c| chats.iter().find(|e| e.id == c))
}

#[derive(Debug, Deserialize)]
struct Which {
    #[serde(default)]
    c: Option<String>,
}

/// The messages of a chat as the page shows them.
async fn shown(tx: &mut Tx, chat: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(store::messages(tx, chat, SHOWN)
        .await?
        .iter()
        .map(|m| {
            json!({ "id": m.id, "author": m.author, "html": m.html, "edited": m.edited_at.is_some(),
                    "at": m.created_at.to_rfc3339(),
                    "buttons": m.buttons().into_iter().map(|row| row.into_iter()
                        .map(|(label, data)| json!({ "label": label, "data": data })).collect::<Vec<_>>())
                        .collect::<Vec<_>>() })
        })
        .collect())
}

/// `GET /chat?c=<chat>`: the chats on the side, the chosen one's messages, and a box to write in.
async fn chat_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(which): Query<Which>,
) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let (_, chats) = chats_of(&mut tx, &state, &signed).await?;
        // The person's own chat unless another is asked for (and theirs to see).
        let current = pick(&chats, which.c.as_deref()).unwrap_or(&chats[0]);
        let messages = shown(&mut tx, &current.id).await?;
        tx.commit().await?;
        anyhow::Ok(json!({
            "me": { "name": signed.name, "csrf": signed.session.csrf_token },
            "room": current.room, "title": current.title,
            "chats": chats, "current": current.id, "messages": messages,
        }))
    }
    .await;
    match result {
        Ok(context) => page(&state, StatusCode::OK, "chat", context),
        Err(err) => internal(&state, &err),
    }
}

/// `GET /chat/messages?c=<chat>`: the message list alone, for the page's look for new messages.
async fn messages(
    State(state): State<AppState>,
    signed: Signed,
    Query(which): Query<Which>,
) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let (_, chats) = chats_of(&mut tx, &state, &signed).await?;
        let Some(chat) = pick(&chats, which.c.as_deref()).map(|e| e.id.clone()) else {
            return anyhow::Ok(None);
        };
        let messages = shown(&mut tx, &chat).await?;
        tx.commit().await?;
        Ok(Some(json!({ "messages": messages, "current": chat,
                        "me": { "name": signed.name, "csrf": signed.session.csrf_token } })))
    }
    .await;
    match result {
        Ok(Some(context)) => page(&state, StatusCode::OK, "chat_messages", context),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => internal(&state, &err),
    }
}

#[derive(Debug, Deserialize)]
struct SayForm {
    #[serde(default)]
    csrf: String,
    c: String,
    #[serde(default)]
    text: String,
}

#[derive(Debug, Deserialize)]
struct PressForm {
    #[serde(default)]
    csrf: String,
    c: String,
    message: i64,
    data: String,
}

/// Where a form goes back to: the chat, or nothing for the page's script (it asks with `X-Herald-Fetch`).
fn back(headers: &HeaderMap, chat: &str) -> Response {
    if headers.contains_key("x-herald-fetch") {
        return StatusCode::NO_CONTENT.into_response();
    }
    Redirect::to(&format!("/chat?c={}", url_encode(chat))).into_response()
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Stores what the person did in `chat` in the inbox (and, for a message, in the chat); `None` when the
/// chat is not theirs.
async fn store_event(
    state: &AppState,
    signed: &Signed,
    chat: &str,
    action: WebAction,
    pressed: Option<i64>,
) -> anyhow::Result<Option<()>> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (account, chats) = chats_of(&mut tx, state, signed).await?;
    let Some(entry) = pick(&chats, Some(chat)) else {
        return Ok(None);
    };
    let message_id = match (&action, pressed) {
        (WebAction::Text { text }, _) => {
            let html = escape_html(text);
            store::add_message(&mut tx, now, chat, Some(&signed.name), &html, "[]", None).await?
        }
        (WebAction::Button { .. }, Some(id)) => id,
        (WebAction::Button { .. }, None) => return Ok(None),
    };
    let event = WebEvent {
        chat: chat.to_owned(),
        room: entry.room,
        title: entry.title.clone(),
        user_id: account,
        name: signed.name.clone(),
        message_id,
        action,
    };
    let stored = NewEvent {
        provider: PLATFORM.into(),
        event_id: format!("{}:{}", signed.session.id, crate::token::new_token()),
        kind: EVENT_KIND.into(),
        payload: serde_json::to_string(&event)?,
    };
    inbox::insert(&mut tx, now, &stored).await?;
    tx.commit().await?;
    Ok(Some(()))
}

/// `POST /chat/say`: a message to the bot (or to a room), handled like a Telegram message.
async fn say(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<SayForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return csrf_refused(&state);
    }
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return back(&headers, &form.c);
    }
    let action = WebAction::Text {
        text: text.to_owned(),
    };
    match store_event(&state, &signed, &form.c, action, None).await {
        Ok(Some(())) => back(&headers, &form.c),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => internal(&state, &err),
    }
}

/// `POST /chat/press`: a button under one of Herald's messages, handled like a Telegram button.
async fn press(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<PressForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return csrf_refused(&state);
    }
    let action = WebAction::Button { data: form.data };
    match store_event(&state, &signed, &form.c, action, Some(form.message)).await {
        Ok(Some(())) => back(&headers, &form.c),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => internal(&state, &err),
    }
}

#[derive(Debug, Deserialize)]
struct RoomForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
}

/// `POST /chat/rooms`: a new room (a group chat), to bind as a conference's moderation or organisers'
/// chat like a Telegram group.
async fn new_room(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<RoomForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return csrf_refused(&state);
    }
    let title: String = form.title.trim().chars().take(100).collect();
    if title.is_empty() {
        return Redirect::to("/chat").into_response();
    }
    let result = async {
        let mut tx = state.db.begin().await?;
        let id = store::create_room(&mut tx, state.clock.now(), &title, signed.person).await?;
        tx.commit().await?;
        anyhow::Ok(id)
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/chat?c=room-{id}")).into_response(),
        Err(err) => internal(&state, &err),
    }
}

/// `GET /chat/start/<token>`: what the link is, a name to give (unless signed in already: the link then
/// joins that person), and the button. Opening it spends nothing.
async fn start_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let signed = match Signed::of(&state, &headers).await {
        Ok(signed) => signed,
        Err(err) => return internal(&state, &err),
    };
    page(
        &state,
        StatusCode::OK,
        "chat_start",
        json!({ "token": token, "error": null, "signed": signed.map(|s| s.name) }),
    )
}

#[derive(Debug, Deserialize)]
struct StartForm {
    #[serde(default)]
    name: String,
}

/// Whether a form comes from this site, so that another site cannot sign a visitor in to someone else's
/// account: browsers say where a request comes from in `Sec-Fetch-Site`, and name the page's origin in
/// `Origin` (`null` under Herald's no-referrer policy, which says nothing).
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return false;
    }
    match text(header::ORIGIN.as_str()) {
        None | Some("null") => true,
        Some(origin) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            text(header::HOST.as_str()) == Some(origin_host)
        }
    }
}

/// `POST /chat/start/<token>`: `/start <token>` runs through the chat core for a web account — the
/// signed-in person's, or a new one named as given — and when the link was spent on them, the chat opens
/// (a new session for a newcomer). A link that is refused leaves nobody behind.
async fn start(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    if !same_origin(&headers) {
        return csrf_refused(&state);
    }
    let signed = match Signed::of(&state, &headers).await {
        Ok(signed) => signed,
        Err(err) => return internal(&state, &err),
    };
    let name: String = match &signed {
        Some(s) => s.name.clone(),
        None => form.name.trim().chars().take(100).collect(),
    };
    if name.is_empty() {
        return page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "chat_start",
            json!({ "token": token, "error": "name" }),
        );
    }
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let user_id = match &signed {
            Some(s) => store::account(&mut tx, now, s.person).await?,
            None => store::new_account_id(),
        };
        let event = WebEvent {
            chat: user_id.clone(),
            room: false,
            title: None,
            user_id: user_id.clone(),
            name,
            message_id: 0,
            action: WebAction::Text {
                text: format!("/start {token}"),
            },
        };
        let key = format!("webstart:{user_id}:{}", crate::token::hash(&token));
        let mut tx = state.web_chat.run(tx, now, &event, &key, None).await?;
        let person = people::person_by_user_id(&mut tx, PLATFORM, &user_id).await?;
        let used_by = links::link_used_by(&mut tx, &crate::token::hash(&token)).await?;
        match (person, signed) {
            // Someone signed in: the answer (welcome, or why not) is in their chat.
            (_, Some(_)) => {
                tx.commit().await?;
                anyhow::Ok(Some(None))
            }
            // A newcomer the link was spent on: their chat opens.
            (Some(person), None) if used_by == Some(person.id) => {
                let session =
                    super::auth::open_session(&mut tx, now, person.id, CHAT_SESSION_TTL).await?;
                tx.commit().await?;
                Ok(Some(Some(session)))
            }
            // Refused (used, expired, unknown): nothing is kept.
            _ => Ok(None),
        }
    }
    .await;
    match result {
        Ok(Some(Some(session))) => {
            super::auth::signed_in(&state, &session, CHAT_SESSION_TTL, "/chat")
        }
        Ok(Some(None)) => Redirect::to("/chat").into_response(),
        Ok(None) => page(
            &state,
            StatusCode::GONE,
            "signed_out",
            json!({ "reason": "used" }),
        ),
        Err(err) => internal(&state, &err),
    }
}

/// The outbox's sender for web chats: shows Herald's message in the chat (once per delivery), or
/// replaces the one it edits.
#[derive(Debug)]
pub struct WebSender {
    db: Db,
    clock: SharedClock,
}

impl WebSender {
    pub fn new(db: Db, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self { db, clock })
    }

    async fn show(&self, delivery: &Delivery<'_>, body: &WebBody) -> anyhow::Result<String> {
        let now = self.clock.now();
        let buttons = serde_json::to_string(&body.buttons)?;
        let mut tx = self.db.begin().await?;
        let id = match body.replaces {
            Some(id) => {
                store::edit_message(&mut tx, now, delivery.target, id, &body.html, &buttons)
                    .await?;
                id
            }
            None => {
                store::add_message(
                    &mut tx,
                    now,
                    delivery.target,
                    None,
                    &body.html,
                    &buttons,
                    Some(delivery.idempotency_key),
                )
                .await?
            }
        };
        tx.commit().await?;
        Ok(id.to_string())
    }
}

#[async_trait]
impl Sender for WebSender {
    /// Herald's own page: nothing to be polite to.
    fn limits(&self) -> RateLimits {
        RateLimits {
            per_provider: Rate::Unlimited,
            per_private_chat: Rate::Unlimited,
            per_group_chat: Rate::Unlimited,
        }
    }

    fn chat_class(&self, target: &str) -> ChatClass {
        if store::room_number(target).is_some() {
            ChatClass::Group
        } else {
            ChatClass::Private
        }
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError> {
        let body: WebBody = serde_json::from_str(delivery.body)
            .map_err(|e| SendError::permanent(format!("unreadable web chat message: {e}")))?;
        self.show(&delivery, &body).await.map_err(|e| SendError {
            disposition: herald_bots::Disposition::Transient,
            message: format!("{e:#}"),
            moved_to: None,
        })
    }
}
