//! Providers from chat: `/provider add|list|test|on|off|webhook` and `/switch`. Credentials are taken from the
//! next message in the private chat, which is deleted once read.

use chrono::TimeDelta;
use herald_commands::{Feature, ProviderCommand};
use serde_json::json;

use crate::{
    chat::{Actor, ChatKind, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{
        conferences,
        providers::{self as store, Provider},
    },
    delivery::networks,
};

/// How long Herald waits for the credentials after `/provider add`.
const CREDENTIALS_TTL: TimeDelta = TimeDelta::minutes(10);
const PENDING_PREFIX: &str = "credentials:";

async fn find(ctx: &Ctx, series: i64, name: &str) -> anyhow::Result<Option<Provider>> {
    let mut tx = ctx.tx.lock().await;
    store::provider_by_name(&mut tx, series, name).await
}

pub async fn provider(ctx: Ctx, actor: Actor, command: ProviderCommand) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    match command {
        ProviderCommand::Add {
            kind,
            name,
            base_url,
        } => {
            let Some(network) = networks::network(&kind) else {
                let known: Vec<&str> = networks::NETWORKS.iter().map(|n| n.name()).collect();
                return Ok(Reply::text(
                    "provider_kind_unknown",
                    json!({ "kind": kind, "known": known }),
                ));
            };
            let base_url = match (base_url, network.default_base_url()) {
                (Some(url), _) => Some(url),
                (None, Some(default)) => Some(default.to_owned()),
                (None, None) => {
                    return Ok(Reply::text("provider_needs_url", json!({ "name": name })));
                }
            };
            let mut tx = ctx.tx.lock().await;
            let Some(id) = store::add_provider(
                &mut tx,
                ctx.now,
                conference.series_id,
                kind.as_str(),
                &name,
                base_url.as_deref(),
            )
            .await?
            else {
                return Ok(Reply::text("provider_exists", json!({ "name": name })));
            };
            super::set_pending_here(
                &ctx,
                &mut tx,
                Some(&format!("{PENDING_PREFIX}{id}")),
                Some(ctx.now + CREDENTIALS_TTL),
            )
            .await?;
            Ok(Reply::text(
                "provider_added",
                json!({ "name": name, "kind": kind.as_str(), "base_url": base_url }),
            ))
        }
        ProviderCommand::List => {
            let mut tx = ctx.tx.lock().await;
            let mut providers = Vec::new();
            for p in store::providers(&mut tx, conference.series_id).await? {
                let refused = store::refusal(&mut tx, p.id).await?;
                let mut shown = json!(p);
                shown["refused"] = json!(refused.map(|(_, reason)| reason));
                providers.push(shown);
            }
            Ok(Reply::text(
                "provider_list",
                json!({ "providers": providers }),
            ))
        }
        ProviderCommand::Test { name } => {
            let Some(provider) = find(&ctx, conference.series_id, &name).await? else {
                return Ok(Reply::text("provider_unknown", json!({ "name": name })));
            };
            let credentials = {
                let mut tx = ctx.tx.lock().await;
                crate::social::credentials(&mut tx, &provider, &ctx.networks, ctx.now).await
            };
            let result = match credentials {
                Ok(credentials) => {
                    crate::social::verify(&provider, &credentials, &ctx.networks).await
                }
                Err(err) => Err(err),
            };
            Ok(match result {
                Ok(verified) => {
                    let mut tx = ctx.tx.lock().await;
                    store::credentials_work(&mut tx, provider.id).await?;
                    if let Some(limit) = verified.max_characters {
                        store::set_limit(
                            &mut tx,
                            provider.id,
                            i64::try_from(limit).unwrap_or(i64::MAX),
                        )
                        .await?;
                    }
                    Reply::text(
                        "provider_ok",
                        json!({ "name": name, "account": verified.account, "limit": verified.max_characters,
                                "warning": verified.warning }),
                    )
                }
                Err(err) => Reply::text(
                    "provider_failed",
                    json!({ "name": name, "error": format!("{err:#}") }),
                ),
            })
        }
        ProviderCommand::Webhook { name, action } => {
            let Some(provider) = find(&ctx, conference.series_id, &name).await? else {
                return Ok(Reply::text("provider_unknown", json!({ "name": name })));
            };
            let Some(public) = ctx.bot.public_url.clone() else {
                return Ok(Reply::text(
                    "provider_webhook_needs_url",
                    json!({ "name": name }),
                ));
            };
            let credentials = {
                let mut tx = ctx.tx.lock().await;
                store::credentials(&mut tx, provider.id).await?
            };
            let result = match crate::social::driver(&provider.kind) {
                Some(driver) => {
                    let url = crate::social::x_webhook_url(&public, provider.id)?;
                    driver.webhook(&provider, &credentials, &url, action).await
                }
                None => Err(anyhow::anyhow!("{} has no webhook", provider.kind)),
            };
            Ok(match result {
                Ok(state) => {
                    // The listener reads this: a subscribed webhook brings the events, else it polls.
                    let registered = state.id.as_deref().filter(|_| state.subscribed);
                    let mut tx = ctx.tx.lock().await;
                    crate::social::remember_webhook(&mut tx, ctx.now, provider.id, registered)
                        .await?;
                    Reply::text(
                        "provider_webhook",
                        json!({ "name": name, "action": action.as_str(), "state": state }),
                    )
                }
                Err(err) => Reply::text(
                    "provider_failed",
                    json!({ "name": name, "error": format!("{err:#}") }),
                ),
            })
        }
        ProviderCommand::Active { name, on } => {
            let Some(provider) = find(&ctx, conference.series_id, &name).await? else {
                return Ok(Reply::text("provider_unknown", json!({ "name": name })));
            };
            let mut tx = ctx.tx.lock().await;
            store::set_active(&mut tx, ctx.now, provider.id, on).await?;
            Ok(Reply::text(
                "provider_active",
                json!({ "name": name, "on": on }),
            ))
        }
    }
}

/// Whether a kind of provider can do `feature`: its network says.
pub fn possible(kind: &str, feature: Feature) -> bool {
    networks::network(kind).is_some_and(|n| n.can(feature))
}

fn column(feature: Feature) -> &'static str {
    match feature {
        Feature::PublicBroadcast => "public_broadcast",
        Feature::AttendeeBroadcast => "attendee_broadcast",
        Feature::PrivateNotifications => "private_notifications",
        Feature::OrganiserNotifications => "organiser_notifications",
        Feature::SocialManagement => "social_management",
    }
}

pub async fn switch(
    ctx: Ctx,
    actor: Actor,
    (name, feature, on): (String, Feature, bool),
) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let Some(provider) = find(&ctx, conference.series_id, &name).await? else {
        return Ok(Reply::text("provider_unknown", json!({ "name": name })));
    };
    if on && !possible(&provider.kind, feature) {
        return Ok(Reply::text(
            "switch_impossible",
            json!({ "name": name, "kind": provider.kind, "feature": feature.as_str() }),
        ));
    }
    let mut tx = ctx.tx.lock().await;
    store::set_switch(&mut tx, conference.id, provider.id, column(feature), on).await?;
    // Moderation means hearing the account's mentions: they go to one conference, this one. Taking
    // them here takes them from wherever they went before.
    let mut moved_from = None;
    if feature == Feature::SocialManagement {
        let before = crate::db::mentions::route_of(&mut tx, provider.id).await?;
        if on {
            if let Some(previous) = before.filter(|c| *c != conference.id) {
                store::set_switch(&mut tx, previous, provider.id, column(feature), false).await?;
                moved_from = conferences::conference_by_id(&mut tx, previous)
                    .await?
                    .map(|c| c.name);
            }
            crate::db::mentions::set_route(&mut tx, provider.id, Some(conference.id)).await?;
        } else if before == Some(conference.id) {
            crate::db::mentions::set_route(&mut tx, provider.id, None).await?;
        }
    }
    Ok(Reply::text(
        "switch_set",
        json!({ "name": name, "feature": feature.as_str(), "on": on, "conference": conference.name,
                "listening": feature == Feature::SocialManagement && on, "moved_from": moved_from,
                "active": provider.active }),
    ))
}

/// The message after `/provider add` in a private chat: the credentials. Stored, then the message is
/// deleted so the secret does not stay in the chat.
pub async fn credentials_message(
    ctx: Ctx,
    actor: Actor,
    text: String,
) -> anyhow::Result<Option<Reply>> {
    if ctx.inbound.chat.kind != ChatKind::Private || !actor.may(herald_commands::Role::Admin) {
        return Ok(None);
    }
    let mut tx = ctx.tx.lock().await;
    let Some(id) = super::pending_here(&ctx, &mut tx, PENDING_PREFIX).await? else {
        return Ok(None);
    };
    let Some(provider) = store::provider_by_id(&mut tx, id).await? else {
        return Ok(None);
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let credentials = networks::network(&provider.kind).and_then(|n| n.credentials(&words));
    let Some(credentials) = credentials else {
        let mut reply = Reply::text("credentials_shape", json!({ "kind": provider.kind }));
        reply.delete_trigger = true;
        return Ok(Some(reply));
    };
    store::set_credentials(&mut tx, ctx.now, provider.id, &credentials.to_json()).await?;
    super::set_pending_here(&ctx, &mut tx, None, None).await?;
    let mut reply = Reply::text(
        "credentials_saved",
        json!({ "name": provider.internal_name }),
    );
    reply.delete_trigger = true;
    Ok(Some(reply))
}
