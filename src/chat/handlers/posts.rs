//! Public posts from chat: `/post`, `/queue`, `/approve`, `/reject`, `/edit`, `/cancel <n>`, and the
//! Approve/Reject buttons in the moderation chat. The posting policy is the same on every surface.

use chrono::TimeDelta;
use serde_json::json;

use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{
        Tx,
        conferences::Conference,
        hashtags, outbox, post_images,
        posts::{self as store, Post},
        providers,
    },
    delivery,
    posts::{self, policy},
};

/// How long the duplicate guard remembers a text.
const DUPLICATE_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// The template key of a posting policy level.
pub(super) fn policy_key(level: i64) -> &'static str {
    u8::try_from(level)
        .ok()
        .and_then(herald_commands::PostingPolicy::from_level)
        .map_or("nobody", herald_commands::PostingPolicy::describe_key)
}

pub async fn post(ctx: Ctx, actor: Actor, text: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    // A picture's caption carries its alt text on `alt:` lines; without one the post is refused.
    let picture = ctx.inbound.picture.clone();
    let (text, alt) = match &picture {
        Some(_) => {
            let (text, alts) = posts::split_alt_lines(&text);
            if alts.is_empty() {
                return Ok(Reply::text("post_image_needs_alt", json!({})));
            }
            (text, Some(alts.join(" ")))
        }
        None => (text, None),
    };
    let mut images: Vec<NewImage> = picture
        .zip(alt)
        .map(|(p, alt)| NewImage::Telegram(p, alt))
        .into_iter()
        .collect();
    images.extend(ctx.inbound.uploads.iter().cloned().map(NewImage::Upload));
    if text.trim().is_empty() && images.is_empty() {
        return start_post(&ctx, &conference).await;
    }
    write(&ctx, &actor, &conference, person, &text, images, None).await
}

/// A picture joining a new post: sent to the bot (kept by its file id until a delivery needs the bytes) or
/// uploaded on the web page (kept as bytes).
#[derive(Debug, Clone)]
pub(super) enum NewImage {
    Telegram(crate::chat::Picture, String),
    Upload(crate::chat::Upload),
}

/// Writes a post from chat under the posting policy: refused, waiting for approval, or delivered. An answer
/// to a mention (`reply_to`) is a post like any other, that goes to the mention's network only.
pub(super) async fn write(
    ctx: &Ctx,
    actor: &Actor,
    conference: &Conference,
    person: i64,
    text: &str,
    images: Vec<NewImage>,
    reply_to: Option<i64>,
) -> HandlerResult {
    let Some(needs_approval) = policy::may_post(conference.posting_policy, actor.role) else {
        return Ok(Reply::text(
            "post_not_allowed",
            json!({ "policy": policy_key(conference.posting_policy), "role": actor.role.as_str() }),
        ));
    };
    if !posts::in_window(conference, ctx.now) {
        return Ok(Reply::text(
            "post_outside_window",
            json!({
            "window": conference.posting_window_start.zip(conference.posting_window_end)
                .map(|(a, b)| format!("{}–{}", a.format("%H:%M"), b.format("%H:%M"))),
            "time_zone": conference.time_zone }),
        ));
    }
    let mut tx = ctx.tx.lock().await;
    if store::recent_duplicate(&mut tx, person, text.trim(), ctx.now - DUPLICATE_WINDOW).await? {
        return Ok(Reply::text("post_duplicate", json!({})));
    }
    let state = if needs_approval {
        "pending"
    } else {
        "approved"
    };
    let id = store::create_post(
        &mut tx,
        ctx.now,
        conference.id,
        Some(person),
        ctx.inbound.surface,
        state,
        text.trim(),
    )
    .await?;
    if let Some(mention) = reply_to {
        store::set_reply_to(&mut tx, id, mention).await?;
    }
    store::audit(
        &mut tx,
        ctx.now,
        id,
        Some(person),
        "created",
        ctx.inbound.surface,
        None,
    )
    .await?;
    for image in &images {
        match image {
            NewImage::Telegram(picture, alt) => {
                add_picture(&mut tx, id, picture, alt).await?;
            }
            NewImage::Upload(upload) => {
                post_images::add_uploaded_image(
                    &mut tx,
                    id,
                    &upload.mime,
                    &upload.data,
                    &upload.alt,
                )
                .await?;
            }
        }
    }
    let post = store::post(&mut tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("post vanished"))?;
    if needs_approval {
        let sent =
            posts::send_to_moderation(&mut tx, &ctx.templates, ctx.now, &post, &actor.name())
                .await?;
        return Ok(Reply::text(
            "post_pending",
            json!({ "number": id, "moderation": sent,
                    "lengths": posts::lengths(&mut tx, &post, &post.text).await? }),
        ));
    }
    let destinations = match posts::deliver(&mut tx, ctx.now, conference, &post).await? {
        Ok(n) => n,
        Err(too_long) => return Ok(too_long_reply(id, &too_long)),
    };
    store::audit(
        &mut tx,
        ctx.now,
        id,
        Some(person),
        "approved",
        ctx.inbound.surface,
        Some("posting policy: no approval needed"),
    )
    .await?;
    Ok(Reply::text(
        "post_approved",
        json!({ "number": id, "destinations": destinations }),
    ))
}

pub async fn queue(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let mut posts = Vec::new();
    for p in store::posts_in(&mut tx, conference.id).await? {
        posts.push(json!({ "number": p.id, "state": p.state, "text": p.text.chars().take(80).collect::<String>() }));
    }
    let mut failed = Vec::new();
    for p in store::posts_failed(&mut tx, conference.id).await? {
        let deliveries = store::deliveries(&mut tx, p.id).await?;
        failed.push(json!({ "number": p.id, "state": p.state, "text": p.text.chars().take(80).collect::<String>(),
                            "deliveries": deliveries }));
    }
    Ok(Reply::text(
        "post_queue",
        json!({ "posts": posts, "failed": failed, "conference": conference.name }),
    ))
}

/// `/retry N`: the networks where post N failed get it again.
pub async fn retry(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(post) = load(&mut tx, &conference, number).await? else {
        return Ok(Reply::text("post_unknown", json!({ "number": number })));
    };
    if !policy::may_approve(conference.posting_policy, actor.role) {
        return Ok(Reply::text(
            "post_may_not_approve",
            json!({ "number": number, "policy": policy_key(conference.posting_policy) }),
        )
        .refusal());
    }
    if !matches!(post.state.as_str(), "failed" | "partial") {
        return Ok(Reply::text(
            "post_not_failed",
            json!({ "number": number, "state": post.state }),
        ));
    }
    let again = outbox::retry_failed(&mut tx, ctx.now, &format!("post:{}:", post.id)).await?;
    store::set_state(&mut tx, ctx.now, post.id, "sending").await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        "retried",
        ctx.inbound.surface,
        None,
    )
    .await?;
    Ok(Reply::text(
        "post_retried",
        json!({ "number": number, "networks": again }),
    ))
}

/// `/history N`: who did what to post N, and when (in the conference's time).
pub async fn history(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(post) = load(&mut tx, &conference, number).await? else {
        return Ok(Reply::text("post_unknown", json!({ "number": number })));
    };
    let events: Vec<_> = store::trail(&mut tx, post.id)
        .await?
        .into_iter()
        .map(|(action, who, surface, detail, at)| {
            json!({ "action": action, "who": who, "surface": surface, "detail": detail,
                    "at": conference.local(at) })
        })
        .collect();
    Ok(Reply::text(
        "post_history",
        json!({ "number": number, "state": post.state, "events": events }),
    ))
}

fn too_long_reply(number: i64, too_long: &[posts::TooLong]) -> Reply {
    Reply::text(
        "post_too_long_unsplit",
        json!({ "number": number, "networks": too_long }),
    )
}

async fn load(tx: &mut Tx, conference: &Conference, number: i64) -> anyhow::Result<Option<Post>> {
    Ok(store::post(tx, number)
        .await?
        .filter(|p| p.conference_id == conference.id))
}

/// Approves or rejects post `number`; the outcome reply, and the moderation message edited to show it.
async fn moderate(
    ctx: &Ctx,
    actor: &Actor,
    number: i64,
    approve: bool,
    reason: Option<String>,
    surface: &str,
) -> HandlerResult {
    let conference = match conference_of(actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(post) = load(&mut tx, &conference, number).await? else {
        return Ok(Reply::text("post_unknown", json!({ "number": number })));
    };
    if let Err(template) = posts::check_moderator(&conference, &post, actor.person, actor.role) {
        return Ok(Reply::text(
            template,
            json!({ "number": number, "state": post.state, "policy": policy_key(conference.posting_policy) }),
        )
        .refusal());
    }
    if approve {
        let approved =
            approve_checked(ctx, &mut tx, actor, &conference, &post, surface, None).await?;
        return Ok(match approved {
            Ok(context) => {
                show_decision(ctx, &mut tx, post.id, "approved", &context).await?;
                Reply::text("post_approved", context)
            }
            Err(too_long) => too_long_reply(number, &too_long),
        });
    }
    store::set_state(&mut tx, ctx.now, post.id, "rejected").await?;
    // A rejected answer leaves its mention waiting for another.
    if let Some(mention) = post.reply_to_mention_id
        && crate::db::mentions::reopen(&mut tx, mention).await?
        && let Some(mention) = crate::db::mentions::mention(&mut tx, mention).await?
    {
        crate::mentions::show_open(&mut tx, &ctx.templates, ctx.now, &mention).await?;
    }
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        "rejected",
        surface,
        reason.as_deref(),
    )
    .await?;
    let context = json!({ "number": post.id, "destinations": 0, "by": actor.name(), "reason": reason, "text": post.text });
    show_decision(ctx, &mut tx, post.id, "rejected", &context).await?;
    Ok(Reply::text("post_rejected", context))
}

/// Approves `post`, which [`posts::check_moderator`] let `actor` approve: delivered first (a post too long
/// for a network that asks not to be split is refused there, before anything is recorded: `Err` names the
/// networks), then recorded in its trail with `detail`. Gives the decision's context (`post_approved`,
/// `moderated`), for the caller to show on its moderation messages ([`show_decision`]).
pub(super) async fn approve_checked(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    conference: &Conference,
    post: &Post,
    surface: &str,
    detail: Option<&str>,
) -> anyhow::Result<Result<serde_json::Value, Vec<posts::TooLong>>> {
    let destinations = match posts::deliver(tx, ctx.now, conference, post).await? {
        Ok(n) => n,
        Err(too_long) => return Ok(Err(too_long)),
    };
    store::audit(
        tx,
        ctx.now,
        post.id,
        actor.person,
        "approved",
        surface,
        detail,
    )
    .await?;
    Ok(Ok(
        json!({ "number": post.id, "destinations": destinations, "by": actor.name(), "reason": null, "text": post.text }),
    ))
}

/// Shows a decision on the post's moderation messages, wherever it was taken: their buttons go.
pub(super) async fn show_decision(
    ctx: &Ctx,
    tx: &mut Tx,
    post: i64,
    action: &str,
    context: &serde_json::Value,
) -> anyhow::Result<()> {
    let notice = delivery::Notice::new("moderated", json!({ "action": action, "post": context }));
    let key = format!("moderated:{post}:{action}");
    for sent in store::moderation_message(tx, post).await? {
        delivery::edit(tx, &ctx.templates, ctx.now, &sent.into(), &notice, &key).await?;
    }
    Ok(())
}

pub async fn approve(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    moderate(&ctx, &actor, number, true, None, ctx.inbound.surface).await
}

pub async fn reject(
    ctx: Ctx,
    actor: Actor,
    (number, reason): (i64, Option<String>),
) -> HandlerResult {
    moderate(&ctx, &actor, number, false, reason, ctx.inbound.surface).await
}

/// A pressed Approve/Reject button.
pub async fn button(ctx: Ctx, actor: Actor, number: i64, approve: bool) -> HandlerResult {
    let surface = format!("{}-button", ctx.inbound.surface);
    moderate(&ctx, &actor, number, approve, None, &surface).await
}

/// Post `number` if `actor` may change it (its author, or someone who may approve) and it still waits
/// for approval; otherwise the reply saying why not.
async fn pending_for_change(
    tx: &mut Tx,
    actor: &Actor,
    number: i64,
) -> anyhow::Result<Result<(Conference, Post), Reply>> {
    let conference = match conference_of(actor) {
        Ok(c) => c,
        Err(reply) => return Ok(Err(reply)),
    };
    let Some(post) = load(tx, &conference, number).await? else {
        return Ok(Err(Reply::text(
            "post_unknown",
            json!({ "number": number }),
        )));
    };
    let mine = actor.person.is_some() && actor.person == post.author_id;
    if !mine && !policy::may_approve(conference.posting_policy, actor.role) {
        return Ok(Err(Reply::text(
            "post_may_not_approve",
            json!({ "number": number, "policy": policy_key(conference.posting_policy) }),
        )));
    }
    if post.state != "pending" {
        return Ok(Err(Reply::text(
            "post_not_pending",
            json!({ "number": number, "state": post.state }),
        )));
    }
    Ok(Ok((conference, post)))
}

pub async fn edit(ctx: Ctx, actor: Actor, (number, text): (i64, String)) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let (_, post) = match pending_for_change(&mut tx, &actor, number).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    store::set_text(&mut tx, ctx.now, post.id, text.trim()).await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        "edited",
        ctx.inbound.surface,
        None,
    )
    .await?;
    refresh(&ctx, &mut tx, post.id).await?;
    Ok(Reply::text(
        "post_edited",
        json!({ "number": number,
                "lengths": posts::lengths(&mut tx, &post, text.trim()).await? }),
    ))
}

/// `/variant <number> <provider> [text]`.
pub async fn variant(
    ctx: Ctx,
    actor: Actor,
    (number, provider, text): (i64, String, Option<String>),
) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let (conference, post) = match pending_for_change(&mut tx, &actor, number).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let Some(found) = providers::provider_by_name(&mut tx, conference.series_id, &provider).await?
    else {
        return Ok(Reply::text("provider_unknown", json!({ "name": provider })));
    };
    let text = text.filter(|t| !t.is_empty());
    store::set_variant(&mut tx, post.id, found.id, text.as_deref()).await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        if text.is_some() {
            "variant set"
        } else {
            "variant dropped"
        },
        ctx.inbound.surface,
        Some(&found.internal_name),
    )
    .await?;
    refresh(&ctx, &mut tx, post.id).await?;
    let measured = text
        .as_deref()
        .zip(delivery::networks::measure(&found))
        .map(|(t, (limit, measure))| json!({ "length": measure(t), "limit": limit }));
    Ok(Reply::text(
        "post_variant_set",
        json!({ "number": number, "provider": found.internal_name, "set": text.is_some(), "measured": measured }),
    ))
}

/// Shows the post's current state on its moderation message.
async fn refresh(ctx: &Ctx, tx: &mut Tx, number: i64) -> anyhow::Result<()> {
    if let Some(post) = store::post(tx, number).await? {
        posts::refresh_moderation(tx, &ctx.templates, ctx.now, &post).await?;
    }
    Ok(())
}

async fn add_picture(
    tx: &mut Tx,
    post: i64,
    picture: &crate::chat::Picture,
    alt: &str,
) -> anyhow::Result<i64> {
    post_images::add_telegram_image(
        tx,
        post,
        &picture.file_id,
        &picture.mime,
        picture.size.and_then(|s| i64::try_from(s).ok()),
        alt,
    )
    .await
}

/// `/image <number> <alt text>` as a picture's caption: the picture joins the post.
pub async fn image(ctx: Ctx, actor: Actor, (number, alt): (i64, String)) -> HandlerResult {
    let Some(picture) = ctx.inbound.picture.clone() else {
        return Ok(Reply::text(
            "image_without_picture",
            json!({ "number": number }),
        ));
    };
    let mut tx = ctx.tx.lock().await;
    let (_, post) = match pending_for_change(&mut tx, &actor, number).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let count = post_images::images(&mut tx, post.id).await?.len();
    if count >= posts::MAX_IMAGES {
        return Ok(Reply::text(
            "image_too_many",
            json!({ "number": number, "max": posts::MAX_IMAGES }),
        ));
    }
    let position = add_picture(&mut tx, post.id, &picture, &alt).await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        "image added",
        ctx.inbound.surface,
        Some(&alt),
    )
    .await?;
    refresh(&ctx, &mut tx, post.id).await?;
    // Moderators see the picture too, captioned like the others.
    let caption = ctx.templates.render(
        "messages/moderate_image.txt",
        json!({ "number": post.id, "position": position, "count": count + 1, "alt": alt }),
    )?;
    let moderation = delivery::Recipient::Slot {
        conference: post.conference_id,
        slot: delivery::Slot::Moderation,
    };
    let shown: Vec<delivery::Picture> = post_images::images(&mut tx, post.id)
        .await?
        .iter()
        .filter(|i| i.position == position)
        .map(|i| delivery::Picture {
            caption: Some(caption.clone()),
            ..delivery::Picture::of(i)
        })
        .collect();
    let key = format!("moderate-photos:{}:{position}", post.id);
    delivery::pictures(&mut tx, ctx.now, moderation, &shown, &key).await?;
    Ok(Reply::text(
        "image_added",
        json!({ "number": number, "position": position, "max": posts::MAX_IMAGES }),
    ))
}

/// `/split <number> <on|off>`.
pub async fn split(ctx: Ctx, actor: Actor, (number, allow): (i64, bool)) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let (_, post) = match pending_for_change(&mut tx, &actor, number).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    store::set_allow_split(&mut tx, ctx.now, post.id, allow).await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        if allow {
            "split allowed"
        } else {
            "split refused"
        },
        ctx.inbound.surface,
        None,
    )
    .await?;
    Ok(Reply::text(
        "post_split_set",
        json!({ "number": number, "allow": allow }),
    ))
}

pub async fn cancel(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(post) = load(&mut tx, &conference, number).await? else {
        return Ok(Reply::text("post_unknown", json!({ "number": number })));
    };
    let mine = actor.person.is_some() && actor.person == post.author_id;
    if !mine && !policy::may_approve(conference.posting_policy, actor.role) {
        return Ok(Reply::text(
            "post_may_not_approve",
            json!({ "number": number, "policy": policy_key(conference.posting_policy) }),
        ));
    }
    if !matches!(
        post.state.as_str(),
        "pending" | "approved" | "sending" | "failed" | "partial"
    ) {
        return Ok(Reply::text(
            "post_not_pending",
            json!({ "number": number, "state": post.state }),
        ));
    }
    let stopped = outbox::cancel_pending_except(
        &mut tx,
        ctx.now,
        &format!("post:{}:", post.id),
        &Default::default(),
    )
    .await?;
    store::set_state(&mut tx, ctx.now, post.id, "cancelled").await?;
    store::audit(
        &mut tx,
        ctx.now,
        post.id,
        actor.person,
        "cancelled",
        ctx.inbound.surface,
        None,
    )
    .await?;
    let context =
        json!({ "number": post.id, "by": actor.name(), "reason": null, "text": post.text });
    show_decision(&ctx, &mut tx, post.id, "cancelled", &context).await?;
    Ok(Reply::text(
        "post_cancelled",
        json!({ "number": number, "stopped": stopped.len() }),
    ))
}

/// `/hashtag add|remove|list`.
pub async fn hashtag(
    ctx: Ctx,
    actor: Actor,
    command: herald_commands::HashtagCommand,
) -> HandlerResult {
    use herald_commands::HashtagCommand;
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    match command {
        HashtagCommand::Add {
            tag,
            auto_add,
            order,
        } => {
            hashtags::set_hashtag(&mut tx, conference.id, &tag, auto_add, order).await?;
        }
        HashtagCommand::Remove { tag } => {
            if !hashtags::remove_hashtag(&mut tx, conference.id, &tag).await? {
                return Ok(Reply::text("hashtag_unknown", json!({ "tag": tag })));
            }
        }
        HashtagCommand::List => {}
    }
    let tags = hashtags::hashtags(&mut tx, conference.id).await?;
    Ok(Reply::text(
        "hashtags",
        json!({ "tags": tags, "conference": conference.name }),
    ))
}

/// `/post` alone: the conference's hashtags, to start a post from.
async fn start_post(ctx: &Ctx, conference: &Conference) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let tags: Vec<String> = hashtags::hashtags(&mut tx, conference.id)
        .await?
        .into_iter()
        .map(|t| format!("#{}", t.tag))
        .collect();
    Ok(Reply::text("post_start", json!({ "tags": tags.join(" ") })))
}
