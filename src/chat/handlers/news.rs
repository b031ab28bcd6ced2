//! `/news <title> <url>` and `/newsfeed <url> | off`.

use serde_json::json;

use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::news as store,
    news::{self, Outcome},
};

pub async fn post(ctx: Ctx, actor: Actor, (title, url): (String, String)) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let outcome = news::post_item(
        &mut tx,
        ctx.now,
        &conference,
        &url,
        &title,
        Some(&url),
        actor.person,
    )
    .await?;
    Ok(match outcome {
        Outcome::Posted(id) => Reply::text("news_posted", json!({ "number": id, "url": url })),
        Outcome::Known => Reply::text("news_known", json!({ "url": url })),
    })
}

pub async fn feed(ctx: Ctx, actor: Actor, url: Option<String>) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    store::set_feed(&mut tx, conference.id, url.as_deref()).await?;
    Ok(Reply::text(
        "newsfeed_set",
        json!({ "url": url, "conference": conference.name, "minutes": news::EVERY.num_minutes() }),
    ))
}
