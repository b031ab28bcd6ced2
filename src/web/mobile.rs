//! The moderation page for phones: posts awaiting approval with their per-network text and pictures,
//! Approve / Reject, posts that failed on some network with each network's outcome and Retry / Cancel,
//! a form to write a post (up to four pictures, each with alt text), and open mentions
//! with Reply / Discard / Boost. Everything it changes goes through the chat core (see [`super::act`]);
//! the page looks for new items every 30 s (`/m/poll`) and can raise a browser notification.

use axum::{
    Form, Json, Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use herald_commands::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    act::{self, Notice},
    auth::Signed,
    config::{Pick, conference_list, invalid, local, may, pick},
    page,
};
use crate::{
    chat::Upload,
    db::{
        Tx,
        conferences::{self, Conference},
        hashtags, mentions as mention_store, people, post_images, posts as posts_store, providers,
    },
    posts::{self, policy},
};

/// Pictures per post, as in chat.
pub const MAX_IMAGES: usize = 4;
/// The largest picture taken from the page (phone photos are a few MB; Bluesky itself takes at most
/// 1,000,000 bytes and refuses larger ones at delivery, with a clear error).
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// The queue and the mentions show this many each, so the page stays small on a phone.
const SHOWN: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/m", get(mobile_page))
        .route("/m/poll", get(poll))
        .route("/m/image/{id}", get(image))
        .route("/m/{slug}/posts/{number}/approve", post(approve))
        .route("/m/{slug}/posts/{number}/reject", post(reject))
        .route("/m/{slug}/posts/{number}/retry", post(retry))
        .route("/m/{slug}/posts/{number}/cancel", post(cancel))
        .route("/m/{slug}/mentions/{number}/reply", post(reply))
        .route("/m/{slug}/mentions/{number}/discard", post(discard))
        .route("/m/{slug}/mentions/{number}/boost", post(boost))
}

/// The post form takes pictures: its own, larger body limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/m/{slug}/post", post(write_post))
        .layer(DefaultBodyLimit::max(
            MAX_IMAGES * MAX_IMAGE_BYTES + 64 * 1024,
        ))
}

/// The networks a new post would be measured on, with their limits and way of counting, for the page's
/// counters (which count as the server does: see `herald.js`).
async fn networks(tx: &mut Tx, conference: &Conference) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for provider in providers::broadcasting_providers(tx, conference.id).await? {
        if let Some((limit, _)) = crate::delivery::networks::measure(&provider) {
            out.push(
                json!({ "network": provider.internal_name, "kind": provider.kind, "limit": limit }),
            );
        }
    }
    for channel in crate::delivery::channel_limits(tx, conference.id).await? {
        out.push(
            json!({ "network": channel.network, "kind": channel.network, "limit": channel.limit }),
        );
    }
    Ok(out)
}

async fn mobile_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(pick_query): Query<Pick>,
) -> Response {
    let context = mobile_context(&state, &signed, pick_query.c.as_deref()).await;
    super::render(&state, "mobile", context)
}

async fn mobile_context(
    state: &AppState,
    signed: &Signed,
    wanted: Option<&str>,
) -> anyhow::Result<Result<Value, Response>> {
    let mut tx = state.db.begin().await?;
    let notice = act::take(&mut tx, signed).await?;
    let (all, current) = pick(&mut tx, signed, wanted).await?;
    let me = json!({ "name": signed.name, "csrf": signed.session.csrf_token });
    let Some((conference, role)) = current else {
        tx.commit().await?;
        return Ok(Err(page(
            state,
            StatusCode::OK,
            "no_conference",
            json!({ "me": me, "conferences": conference_list(&all, None), "asked": wanted }),
        )));
    };
    let moderate = policy::may_approve(conference.posting_policy, role);
    let can = json!({
        "moderate": moderate,
        "post": policy::may_post(conference.posting_policy, role).is_some(),
        "mentions": may(role, "mentions"),
        "boost": may(role, "boost"),
    });
    let mut queue = Vec::new();
    let mut pending_total = 0;
    if moderate || role >= Role::Attendee {
        let providers = providers::providers(&mut tx, conference.series_id).await?;
        let pending: Vec<_> = posts_store::posts_in(&mut tx, conference.id)
            .await?
            .into_iter()
            .filter(|p| p.state == "pending")
            // Without the right to approve, a person sees only their own posts waiting.
            .filter(|p| moderate || p.author_id == Some(signed.person))
            .collect();
        pending_total = pending.len();
        for p in pending.iter().rev().take(SHOWN) {
            let variants = posts_store::variants(&mut tx, p.id).await?;
            let variants: Vec<Value> = variants
                .iter()
                .map(|(id, text)| {
                    let name = providers
                        .iter()
                        .find(|pr| pr.id == *id)
                        .map_or_else(|| id.to_string(), |pr| pr.internal_name.clone());
                    json!({ "network": name, "text": text })
                })
                .collect();
            let images: Vec<Value> = post_images::images(&mut tx, p.id)
                .await?
                .into_iter()
                .map(|i| json!({ "id": i.id, "alt": i.alt_text, "position": i.position }))
                .collect();
            let author = match p.author_id {
                Some(a) => people::person_name(&mut tx, a).await?,
                None => None,
            };
            queue.push(json!({
                "number": p.id, "text": p.text, "source": p.source, "author": author,
                "mine": p.author_id == Some(signed.person),
                "written": local(&conference, p.created_at),
                "lengths": posts::lengths(&mut tx, p, &p.text).await?,
                "variants": variants, "images": images,
            }));
        }
    }
    // Posts that failed or went out on some networks only: each network's outcome, to retry or drop.
    let mut failed = Vec::new();
    if moderate {
        for p in posts_store::posts_failed(&mut tx, conference.id).await? {
            failed.push(json!({
                "number": p.id, "state": p.state, "text": p.text,
                "written": local(&conference, p.created_at),
                "deliveries": posts_store::deliveries(&mut tx, p.id).await?,
            }));
        }
    }
    let mut mentions = Vec::new();
    let mut mentions_total = 0;
    if may(role, "mentions") {
        let (open, total) = mention_store::open(&mut tx, conference.id, SHOWN as i64, 0).await?;
        mentions_total = total;
        for m in open {
            let network = providers::provider_by_id(&mut tx, m.provider_id)
                .await?
                .map(|p| p.kind)
                .unwrap_or_default();
            mentions.push(json!({
                "number": m.id, "author": m.author_name, "handle": m.author_handle, "text": m.text,
                "url": m.url, "network": network, "written": local(&conference, m.written_at),
            }));
        }
    }
    let networks = networks(&mut tx, &conference).await?;
    // The conference's hashtags to tap; those marked auto-add start every new post.
    let tags = hashtags::hashtags(&mut tx, conference.id).await?;
    let prefill: Vec<String> = tags
        .iter()
        .filter(|t| t.auto_add)
        .map(|t| format!("#{}", t.tag))
        .collect();
    let tags: Vec<String> = tags.iter().map(|t| format!("#{}", t.tag)).collect();
    tx.commit().await?;
    Ok(Ok(json!({
        "me": me,
        "conferences": conference_list(&all, Some(&conference)),
        "conference": { "slug": conference.slug, "name": conference.name },
        "role": role.as_str(),
        "can": can,
        "queue": queue, "pending_total": pending_total, "failed": failed,
        "mentions": mentions, "mentions_total": mentions_total,
        "networks": networks,
        "hashtags": tags,
        "prefill": if prefill.is_empty() { String::new() } else { format!("\n\n{}", prefill.join(" ")) },
        "max_images": MAX_IMAGES,
        "notice": notice,
    })))
}

/// `GET /m/poll?c=<slug>`: what waits now, for the page to compare with what it shows.
async fn poll(
    State(state): State<AppState>,
    signed: Signed,
    Query(pick_query): Query<Pick>,
) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let (_, current) = pick(&mut tx, &signed, pick_query.c.as_deref()).await?;
        let Some((conference, role)) = current else {
            tx.commit().await?;
            return anyhow::Ok(None);
        };
        let moderate = policy::may_approve(conference.posting_policy, role);
        let posts: Vec<i64> = posts_store::posts_in(&mut tx, conference.id)
            .await?
            .into_iter()
            .filter(|p| p.state == "pending" && (moderate || p.author_id == Some(signed.person)))
            .map(|p| p.id)
            .collect();
        let mentions: Vec<i64> = if may(role, "mentions") {
            mention_store::open(&mut tx, conference.id, 1000, 0)
                .await?
                .0
                .into_iter()
                .map(|m| m.id)
                .collect()
        } else {
            Vec::new()
        };
        tx.commit().await?;
        Ok(Some(json!({ "posts": posts, "mentions": mentions })))
    }
    .await;
    match result {
        Ok(Some(body)) => ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Ok(None) => (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "no conference of yours by that name" })),
        )
            .into_response(),
        Err(err) => super::internal(&state, &err),
    }
}

/// `GET /m/image/<id>`: a post's picture, for those who may see the post on this page.
async fn image(State(state): State<AppState>, signed: Signed, Path(id): Path<i64>) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let Some((image, bytes)) = post_images::image_by_id(&mut tx, id).await? else {
            return anyhow::Ok(None);
        };
        let Some(post_id) = crate::db::web::post_of_image(&mut tx, id).await? else {
            return Ok(None);
        };
        let Some(post) = posts_store::post(&mut tx, post_id).await? else {
            return Ok(None);
        };
        let role = crate::chat::role_of(&mut tx, signed.person, Some(post.conference_id)).await?;
        let conference = conferences::conference_by_id(&mut tx, post.conference_id).await?;
        tx.commit().await?;
        let allowed = post.author_id == Some(signed.person)
            || conference.is_some_and(|c| policy::may_approve(c.posting_policy, role));
        if !allowed || bytes.is_empty() {
            return Ok(None);
        }
        let mime =
            crate::images::sniff_image_type(&bytes).map_or(image.content_type, str::to_owned);
        Ok(Some((mime, bytes)))
    }
    .await;
    match result {
        Ok(Some((mime, bytes))) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "private, max-age=600".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => page(
            &state,
            StatusCode::NOT_FOUND,
            "error",
            json!({ "reason": "no_picture" }),
        ),
        Err(err) => super::internal(&state, &err),
    }
}

/// Checks the CSRF token, runs `command` in the page's conference and goes back to the page.
async fn submit(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    csrf: &str,
    form: &str,
    action: Action,
) -> Response {
    if !signed.csrf_ok(csrf) {
        return super::csrf_refused(state);
    }
    let result = async {
        let Some(conference) = super::conference_named(state, slug).await? else {
            return anyhow::Ok(None);
        };
        let mut notice = match action {
            Action::Command(command, uploads) => {
                act::command(state, signed, &conference, &command, uploads).await?
            }
            Action::Answer(number, text) => {
                act::answer_mention(state, signed, &conference, number, &text).await?
            }
            Action::Refused(notice) => notice,
        };
        notice.form = Some(form.to_owned());
        act::keep(state, signed, &notice).await?;
        Ok(Some(()))
    }
    .await;
    super::after_form(state, result, &format!("/m?c={slug}#{form}"))
}

enum Action {
    Command(String, Vec<Upload>),
    Answer(i64, String),
    Refused(Notice),
}

async fn approve(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let action = Action::Command(format!("/approve {number}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "queue", action).await
}

async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let action = Action::Command(format!("/retry {number}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "failed", action).await
}

async fn cancel(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let action = Action::Command(format!("/cancel {number}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "failed", action).await
}

#[derive(Debug, Deserialize)]
struct TextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

async fn reject(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<TextForm>,
) -> Response {
    let reason = form.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let action = Action::Command(format!("/reject {number} {reason}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "queue", action).await
}

async fn reply(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<TextForm>,
) -> Response {
    let action = if form.text.trim().is_empty() {
        Action::Refused(invalid(
            &state,
            "mentions",
            "text",
            json!({ "kind": "required" }),
        ))
    } else {
        Action::Answer(number, form.text)
    };
    submit(&state, &signed, &slug, &form.csrf, "mentions", action).await
}

async fn discard(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let action = Action::Command(format!("/discard {number}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "mentions", action).await
}

async fn boost(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, number)): Path<(String, i64)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let action = Action::Command(format!("/boost {number}"), Vec::new());
    submit(&state, &signed, &slug, &form.csrf, "mentions", action).await
}

/// The post form (multipart): its text, and up to four pictures each with its alt text. A picture
/// without alt text, or that is not a picture, refuses the whole post with the field named.
async fn write_post(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let mut csrf = String::new();
    let mut text = String::new();
    let mut files: Vec<(usize, String, Vec<u8>)> = Vec::new();
    let mut alts: Vec<(usize, String)> = Vec::new();
    let mut refused = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                return page(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "error",
                    json!({ "reason": "bad_form", "detail": err.to_string() }),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let index = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=MAX_IMAGES).contains(n))
        };
        if name == "csrf" || name == "text" {
            let value = field.text().await.unwrap_or_default();
            if name == "csrf" {
                csrf = value;
            } else {
                text = value;
            }
        } else if let Some(n) = index("alt") {
            alts.push((n, field.text().await.unwrap_or_default()));
        } else if let Some(n) = index("image") {
            let claimed = field.content_type().unwrap_or_default().to_owned();
            let bytes = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(err) => {
                    return page(
                        &state,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "error",
                        json!({ "reason": "bad_form", "detail": err.to_string() }),
                    );
                }
            };
            if bytes.is_empty() {
                continue;
            }
            if bytes.len() > MAX_IMAGE_BYTES {
                refused.get_or_insert(invalid(
                    &state,
                    "write",
                    &format!("image{n}"),
                    json!({ "kind": "image_too_large", "max_mb": MAX_IMAGE_BYTES / (1024 * 1024) }),
                ));
                continue;
            }
            match crate::images::sniff_image_type(&bytes) {
                Some(mime) => files.push((n, mime.to_owned(), bytes.to_vec())),
                None => {
                    refused.get_or_insert(invalid(
                        &state,
                        "write",
                        &format!("image{n}"),
                        json!({ "kind": "not_an_image", "claimed": claimed }),
                    ));
                }
            }
        }
    }
    if !signed.csrf_ok(&csrf) {
        return super::csrf_refused(&state);
    }
    let mut uploads = Vec::new();
    files.sort_by_key(|(n, _, _)| *n);
    for (n, mime, data) in files {
        let alt = alts
            .iter()
            .find(|(i, _)| *i == n)
            .map(|(_, a)| a.trim().to_owned())
            .unwrap_or_default();
        if alt.is_empty() {
            refused.get_or_insert(invalid(
                &state,
                "write",
                &format!("alt{n}"),
                json!({ "kind": "alt_required" }),
            ));
        }
        uploads.push(Upload { mime, data, alt });
    }
    if text.trim().is_empty() && uploads.is_empty() {
        refused.get_or_insert(invalid(
            &state,
            "write",
            "text",
            json!({ "kind": "required" }),
        ));
    }
    let action = match refused {
        Some(mut notice) => {
            notice.kept = Some(text);
            Action::Refused(notice)
        }
        None => Action::Command(format!("/post {}", text.trim()), uploads),
    };
    submit(&state, &signed, &slug, &csrf, "write", action).await
}
