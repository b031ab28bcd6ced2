//! People and roles: `/grant`, `/revoke`, `/admins`, `/invite`.

use herald_commands::{PersonRef, Role};
use serde_json::json;

use crate::{
    chat::{
        Actor, Ctx, HandlerResult, Reply,
        handlers::{account::may_grant, conference_of},
    },
    db::{
        Tx,
        people::{self as store, Person},
    },
    delivery::email,
    links::{self, NewLinkTokenSpec},
};

/// Who a `@username` or numeric id refers to.
#[derive(Debug)]
pub enum Found {
    One(Person),
    Nobody,
    /// Several accounts claim the username (stale data): refuse rather than guess.
    Several,
}

pub async fn find_person(tx: &mut Tx, platform: &str, person: &PersonRef) -> anyhow::Result<Found> {
    Ok(match person {
        PersonRef::Username(name) => {
            let mut found = store::people_by_username(tx, platform, name).await?;
            // Someone reached only on another network is named by their handle there.
            if found.is_empty() {
                found = store::people_by_username_elsewhere(tx, platform, name).await?;
                found.dedup_by_key(|p| p.id);
            }
            match found.len() {
                0 => Found::Nobody,
                1 => Found::One(found.remove(0)),
                _ => Found::Several,
            }
        }
        PersonRef::Id(id) => match store::person_by_user_id(tx, platform, &id.to_string()).await? {
            Some(p) => Found::One(p),
            None => Found::Nobody,
        },
    })
}

/// The reply for a person reference that did not resolve to one person.
pub fn not_found(person: &PersonRef, found: &Found) -> Reply {
    let template = if matches!(found, Found::Several) {
        "person_ambiguous"
    } else {
        "person_unknown"
    };
    Reply::text(template, json!({ "person": person_label(person) }))
}

pub fn person_label(person: &PersonRef) -> String {
    match person {
        PersonRef::Username(name) => format!("@{name}"),
        PersonRef::Id(id) => id.to_string(),
    }
}

pub async fn grant(ctx: Ctx, actor: Actor, (person, role): (PersonRef, Role)) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    if !may_grant(&actor, role) {
        return Ok(Reply::text(
            "refused",
            json!({ "usage": "/grant", "needed": "admin", "role": actor.role.as_str(),
                    "conference": conference.name }),
        ));
    }
    let mut tx = ctx.tx.lock().await;
    let target = match find_person(&mut tx, ctx.inbound.platform, &person).await? {
        Found::One(p) => p,
        other => return Ok(not_found(&person, &other)),
    };
    let granted = store::grant(
        &mut tx,
        ctx.now,
        target.id,
        Some(conference.id),
        role.as_str(),
        actor.person,
    )
    .await?;
    let template = if granted {
        "granted"
    } else {
        "already_granted"
    };
    Ok(Reply::text(
        template,
        json!({ "person": target.display_name, "role": role.as_str(), "conference": conference.name }),
    ))
}

pub async fn revoke(ctx: Ctx, actor: Actor, (person, role): (PersonRef, Role)) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let target = match find_person(&mut tx, ctx.inbound.platform, &person).await? {
        Found::One(p) => p,
        other => return Ok(not_found(&person, &other)),
    };
    if Some(target.id) == actor.person && role == Role::Admin {
        return Ok(Reply::text("revoke_self", json!({})));
    }
    let revoked = store::revoke(&mut tx, target.id, conference.id, role.as_str()).await?;
    let template = if revoked { "revoked" } else { "not_granted" };
    Ok(Reply::text(
        template,
        json!({ "person": target.display_name, "role": role.as_str(), "conference": conference.name }),
    ))
}

pub async fn admins(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let holders = store::admins(&mut tx, ctx.inbound.platform, conference.id).await?;
    Ok(Reply::text(
        "admins",
        json!({ "conference": conference.name, "people": holders }),
    ))
}

pub async fn invite(
    ctx: Ctx,
    actor: Actor,
    (role, email, name): (Role, Option<String>, Option<String>),
) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let address = match email.as_deref().map(herald_bots::email::parse_address) {
        Some(None) => {
            return Ok(Reply::text("email_invalid", json!({ "address": email })));
        }
        Some(Some(address)) => Some(address.to_string()),
        None => None,
    };
    let mut tx = ctx.tx.lock().await;
    let spec = NewLinkTokenSpec::invite(
        conference.id,
        role.as_str(),
        name.as_deref(),
        actor.person,
        address.as_deref(),
    );
    let (link_id, token) = links::issue_with_id(&mut tx, ctx.now, spec).await?;
    let expires = (ctx.now + links::INVITE_TTL).date_naive().to_string();
    if let Some(address) = &address {
        let (telegram, browser) = ctx.bot.open_links(&token);
        let invitation = email::Invitation {
            name: name.as_deref().unwrap_or_default(),
            conference: &conference.name,
            role: role.as_str(),
            telegram,
            browser,
            expires: expires.clone(),
        };
        // The invitee's language is not known yet: the mail is in the inviter's.
        email::invite(
            &mut tx,
            ctx.templates.words(actor.language.as_deref()),
            ctx.now,
            link_id,
            address,
            &invitation,
        )
        .await?;
        return Ok(Reply::text(
            "invite_mailed",
            json!({ "address": address, "role": role.as_str(), "name": name,
                    "conference": conference.name, "expires": expires }),
        ));
    }
    Ok(Reply::text(
        "invite_created",
        json!({ "link": ctx.bot.start_link(&token), "role": role.as_str(), "name": name,
                "conference": conference.name, "expires": expires }),
    )
    .secret())
}
