//! Mentions from chat: `/mentions`, `/discard N`, `/boost N`, the Reply / Discard / Boost buttons on a
//! mention's message in the moderation chat, and answers written as Telegram replies to that message.

use serde_json::json;

use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{
        Tx,
        mentions::{self as store, Mention},
        posts::{self as posts_store},
        providers,
    },
    delivery::{
        self,
        social::{PlatformRef, ThreadBody},
    },
    mentions::{mention_json, show_outcome},
    posts::policy,
};

/// Mentions per page of `/mentions`.
const PAGE: i64 = 5;

pub async fn list(ctx: Ctx, actor: Actor, page: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let (mentions, total) = store::open(&mut tx, conference.id, PAGE, (page - 1) * PAGE).await?;
    let mut shown = Vec::new();
    for m in &mentions {
        if let Some(provider) = providers::provider_by_id(&mut tx, m.provider_id).await? {
            shown.push(mention_json(m, &provider));
        }
    }
    let pages = (total + PAGE - 1) / PAGE;
    Ok(Reply::text(
        "mentions",
        json!({ "mentions": shown, "page": page, "pages": pages, "total": total, "conference": conference.name }),
    ))
}

/// The mention `number` of the actor's conference, or the reply saying it is unknown or already handled.
async fn open_mention(
    tx: &mut Tx,
    actor: &Actor,
    number: i64,
) -> anyhow::Result<Result<Mention, Reply>> {
    let conference = match conference_of(actor) {
        Ok(c) => c,
        Err(reply) => return Ok(Err(reply)),
    };
    let Some(mention) = store::mention(tx, number)
        .await?
        .filter(|m| m.conference_id == conference.id)
    else {
        return Ok(Err(Reply::text(
            "mention_unknown",
            json!({ "number": number }),
        )
        .refusal()));
    };
    if mention.state != "open" {
        return Ok(Err(Reply::text(
            "mention_closed",
            json!({ "number": number, "state": mention.state }),
        )
        .refusal()));
    }
    Ok(Ok(mention))
}

/// Closes the mention as `state` and shows who did it on its message.
async fn close(
    ctx: &Ctx,
    actor: &Actor,
    tx: &mut Tx,
    mention: &Mention,
    state: &str,
) -> anyhow::Result<()> {
    store::close(tx, ctx.now, mention.id, state, actor.person).await?;
    if let Some(updated) = store::mention(tx, mention.id).await? {
        show_outcome(tx, &ctx.templates, ctx.now, &updated, &actor.name()).await?;
    }
    Ok(())
}

pub async fn discard(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let mention = match open_mention(&mut tx, &actor, number).await? {
        Ok(m) => m,
        Err(reply) => return Ok(reply),
    };
    close(&ctx, &actor, &mut tx, &mention, "discarded").await?;
    Ok(Reply::text(
        "mention_discarded",
        json!({ "number": number, "by": actor.name() }),
    ))
}

/// Boosting speaks for the conference's account: those who may approve posts may boost.
pub async fn boost(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let mention = match open_mention(&mut tx, &actor, number).await? {
        Ok(m) => m,
        Err(reply) => return Ok(reply),
    };
    let policy = actor.conference.as_ref().map_or(0, |c| c.posting_policy);
    if !policy::may_approve(policy, actor.role) {
        return Ok(Reply::text(
            "mention_may_not_boost",
            json!({ "number": number, "role": actor.role.as_str() }),
        )
        .refusal());
    }
    let Some(provider) = providers::provider_by_id(&mut tx, mention.provider_id)
        .await?
        .filter(|p| p.active)
    else {
        return Ok(Reply::text(
            "mention_provider_off",
            json!({ "number": number }),
        ));
    };
    let body = ThreadBody {
        parts: Vec::new(),
        images: Vec::new(),
        reply_to: None,
        boost: Some(PlatformRef::of_mention(&mention)),
        direct: false,
        to: None,
    };
    let key = format!("boost:{}:{}", mention.id, provider.id);
    delivery::social::write_thread(&mut tx, ctx.now, &provider, "boost", &key, &body, ctx.now)
        .await?;
    close(&ctx, &actor, &mut tx, &mention, "boosted").await?;
    Ok(Reply::text(
        "mention_boosted",
        json!({ "number": number, "network": provider.kind }),
    ))
}

/// The Reply button under a mention: how to answer it.
pub async fn how_to_answer(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let mention = match open_mention(&mut tx, &actor, number).await? {
        Ok(m) => m,
        Err(reply) => return Ok(reply),
    };
    Ok(Reply::text(
        "mention_how_to_reply",
        json!({ "number": mention.id, "author": mention.author_handle, "by": actor.name() }),
    ))
}

/// A Telegram reply to a mention's message: the answer, written as a post under the posting policy that
/// goes to the mention's network as a reply. `None` when the message replied to is not a mention's.
pub async fn answer(ctx: &Ctx, actor: &Actor, text: &str) -> anyhow::Result<Option<Reply>> {
    let Some(replied) = ctx.inbound.reply_to else {
        return Ok(None);
    };
    let number = {
        let mut tx = ctx.tx.lock().await;
        store::by_chat_message(&mut tx, &ctx.inbound.chat.id, &replied.to_string()).await?
    };
    let Some(number) = number else {
        return Ok(None);
    };
    answer_number(ctx, actor, number, text).await.map(Some)
}

/// Answers mention `number` with `text` (a Telegram reply to its message, or the web page's Reply form).
pub async fn answer_number(ctx: &Ctx, actor: &Actor, number: i64, text: &str) -> HandlerResult {
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let (mention, network) = {
        let mut tx = ctx.tx.lock().await;
        let mention = match open_mention(&mut tx, actor, number).await? {
            Ok(m) => m,
            Err(reply) => return Ok(reply),
        };
        let network = providers::provider_by_id(&mut tx, mention.provider_id)
            .await?
            .map(|p| p.kind)
            .unwrap_or_default();
        (mention, network)
    };
    let conference = match conference_of(actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    // Where an answer must name whom it answers (Mastodon), it does.
    let text = text.trim();
    let names =
        crate::delivery::networks::network(&network).is_some_and(|n| n.answers_name_author());
    let text = if names && !text.contains(&mention.author_handle) {
        format!("{} {text}", mention.author_handle)
    } else {
        text.to_owned()
    };
    let reply = super::posts::write(
        ctx,
        actor,
        &conference,
        person,
        &text,
        Vec::new(),
        Some(mention.id),
    )
    .await?;
    // The answer exists now (waiting or sent): the mention is answered.
    let mut tx = ctx.tx.lock().await;
    if posts_store::answered(&mut tx, mention.id).await? {
        close(ctx, actor, &mut tx, &mention, "replied").await?;
    }
    Ok(reply)
}
