//! `/web`, `/mobile` and `/hook`: the ways into the web side from chat.

use serde_json::json;

use super::conference_of;
use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply},
    db::web as store,
    token,
};

/// `/web`: a one-time sign-in link to the config page; `/web logout` ends every web session of the sender.
pub async fn web(ctx: Ctx, actor: Actor, logout: bool) -> HandlerResult {
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    if logout {
        let mut tx = ctx.tx.lock().await;
        let ended = store::end_sessions_of(&mut tx, ctx.now, person).await?;
        return Ok(Reply::text("web_logged_out", json!({ "ended": ended })));
    }
    sign_in_link(&ctx, person, crate::links::CONFIG_PATH).await
}

/// `/mobile`: the same link, opening the moderation page for phones.
pub async fn mobile(ctx: Ctx, actor: Actor) -> HandlerResult {
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    sign_in_link(&ctx, person, crate::links::MOBILE_PATH).await
}

async fn sign_in_link(ctx: &Ctx, person: i64, next: &str) -> HandlerResult {
    // Without Telegram the web chat's own address will do (people are already there).
    let base = match (&ctx.bot.public_url, ctx.bot.telegram) {
        (Some(url), _) => url.clone(),
        (None, false) => ctx.bot.web.clone(),
        (None, true) => return Ok(Reply::text("web_off", json!({}))),
    };
    let mut tx = ctx.tx.lock().await;
    let url = crate::links::issue_login(&mut tx, ctx.now, &base, person, next).await?;
    Ok(Reply::text(
        "web_link",
        json!({ "url": url.as_str(), "minutes": crate::links::LOGIN_TTL.num_minutes(),
                "mobile": next == crate::links::MOBILE_PATH }),
    )
    .secret())
}

/// `/hook`: a new notify hook secret for the conference; the previous one stops working.
pub async fn hook(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let secret = token::new_token();
    let mut tx = ctx.tx.lock().await;
    let rotated = store::hook_secret(&mut tx, conference.id).await?.is_some();
    store::set_hook_secret(
        &mut tx,
        ctx.now,
        conference.id,
        &token::hash(&secret),
        actor.person,
    )
    .await?;
    let url = match &ctx.bot.public_url {
        Some(base) => Some(base.join(&format!("hooks/notify/{}", conference.slug))?),
        None => None,
    };
    Ok(Reply::text(
        "hook_created",
        json!({ "secret": secret, "url": url.map(|u| u.to_string()), "slug": conference.slug,
                "conference": conference.name, "rotated": rotated }),
    )
    .secret())
}
