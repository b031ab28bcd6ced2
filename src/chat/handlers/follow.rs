//! Personal reminders: `/follow`, `/unfollow`, `/following`; `/calendar`, a personal feed or one
//! session's calendar invitation by e-mail.

use herald_commands::FollowTarget;
use serde_json::json;

use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::schedule as store,
    schedule::{
        import::{pattern_regex, recompute_personal},
        invitations::{Asked, ask},
    },
};

pub async fn follow(ctx: Ctx, actor: Actor, target: FollowTarget) -> HandlerResult {
    change(ctx, actor, target, true).await
}

pub async fn unfollow(ctx: Ctx, actor: Actor, target: FollowTarget) -> HandlerResult {
    change(ctx, actor, target, false).await
}

async fn change(ctx: Ctx, actor: Actor, target: FollowTarget, add: bool) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let mut tx = ctx.tx.lock().await;
    let (session, pattern, label) = match &target {
        FollowTarget::Session(number) => {
            let sessions = store::sessions(&mut tx, conference.id).await?;
            let Some(found) = sessions.into_iter().find(|s| s.id == *number) else {
                return Ok(Reply::text("session_unknown", json!({ "number": number })));
            };
            (Some(found.id), None, found.title)
        }
        FollowTarget::Pattern(pattern) => {
            if let Err(err) = pattern_regex(pattern) {
                return Ok(Reply::text(
                    "pattern_invalid",
                    json!({ "pattern": pattern, "error": err.to_string() }),
                ));
            }
            (None, Some(pattern.clone()), format!("/{pattern}/"))
        }
    };
    let changed = if add {
        store::add_follow(
            &mut tx,
            ctx.now,
            person,
            conference.id,
            session,
            pattern.as_deref(),
        )
        .await?
    } else {
        store::remove_follow(&mut tx, person, conference.id, session, pattern.as_deref()).await?
    };
    let reminders =
        recompute_personal(&mut tx, &ctx.templates, ctx.now, &conference, Some(person)).await?;
    let matching = match &pattern {
        Some(p) => {
            let re = pattern_regex(p)?;
            store::sessions(&mut tx, conference.id)
                .await?
                .iter()
                .filter(|s| s.status == "confirmed" && re.is_match(&s.title))
                .count()
        }
        None => 1,
    };
    let template = match (add, changed) {
        (true, true) => "followed",
        (true, false) => "already_following",
        (false, true) => "unfollowed",
        (false, false) => "not_following",
    };
    Ok(Reply::text(
        template,
        json!({ "label": label, "pattern": pattern.is_some(), "matching": matching, "reminders": reminders }),
    ))
}

pub async fn following(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let mut tx = ctx.tx.lock().await;
    let follows = store::follows(&mut tx, conference.id, Some(person)).await?;
    let sessions = store::sessions(&mut tx, conference.id).await?;
    let listed: Vec<_> = follows
        .iter()
        .map(|f| match (&f.session_id, &f.pattern) {
            (Some(id), _) => {
                let s = sessions.iter().find(|s| s.id == *id);
                json!({ "pattern": null, "number": id, "title": s.map(|s| s.title.clone()),
                        "when": s.map(|s| s.starts_at.with_timezone(&tz).to_rfc3339()),
                        "room": s.and_then(|s| s.room.clone()) })
            }
            (None, pattern) => json!({ "pattern": pattern }),
        })
        .collect();
    Ok(Reply::text(
        "following",
        json!({ "follows": listed, "conference": conference.name }),
    ))
}

/// `/calendar`: a new private feed link (the previous one stops working).
pub async fn calendar(ctx: Ctx, actor: Actor, session: Option<i64>) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    if let Some(number) = session {
        return invitation(&ctx, &conference, person, number).await;
    }
    let Some(public) = ctx.bot.public_url.clone() else {
        return Ok(Reply::text("calendar_off", json!({})));
    };
    let token = crate::token::new_token();
    let mut tx = ctx.tx.lock().await;
    store::set_feed_token(
        &mut tx,
        ctx.now,
        person,
        conference.id,
        &crate::token::hash(&token),
    )
    .await?;
    let url = public.join(&format!("calendar/{token}.ics"))?;
    Ok(Reply::text(
        "calendar_link",
        json!({ "url": url.as_str(), "conference": conference.name }),
    )
    .secret())
}

/// `/calendar <session>`: a calendar invitation for one session, mailed to the person's confirmed
/// address and kept up to date by every import from then on.
async fn invitation(
    ctx: &Ctx,
    conference: &crate::db::conferences::Conference,
    person: i64,
    number: i64,
) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let asked = ask(&mut tx, &ctx.templates, ctx.now, conference, person, number).await?;
    Ok(match asked {
        Asked::Mailed { title, address } => Reply::text(
            "calendar_invitation_mailed",
            json!({ "title": title, "address": address }),
        ),
        Asked::Already { title, address } => Reply::text(
            "calendar_invitation_already",
            json!({ "title": title, "address": address }),
        ),
        Asked::NoAddress => Reply::text("calendar_needs_email", json!({})),
        Asked::NotUpcoming => Reply::text("calendar_no_session", json!({ "number": number })),
    })
}
