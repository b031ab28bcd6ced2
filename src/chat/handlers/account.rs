//! Joining and leaving: `/start`, `/help`, `/whoami`, `/stop`, `/settings`, `/cancel`.

use chrono::TimeDelta;
use herald_commands::{HelpTopic, Role, Setting, SettingChange, StartToken, catalog};
use serde_json::json;

use crate::{
    chat::{Actor, ChatKind, Ctx, HandlerResult, Reply, handlers::conference_json},
    db::{
        chat, conferences,
        contacts::{self, Kind},
        email as email_store, links as link_store, people, schedule as schedule_store,
        subscriptions,
    },
    delivery::{Action, organisers},
    links::{self, Refusal},
    token::new_token,
};

/// How long a `/stop` confirmation waits for its answer.
const CONFIRM_TTL: TimeDelta = TimeDelta::minutes(10);

pub async fn start(ctx: Ctx, actor: Actor, token: Option<StartToken>) -> HandlerResult {
    let Some(token) = token else {
        let Some(person) = actor.person else {
            return Ok(Reply::text("start_guest", json!({ "name": actor.name() })));
        };
        // Someone who stopped comes back by starting again, in the same chat.
        let mut tx = ctx.tx.lock().await;
        let resumed = subscriptions::resume_all(&mut tx, ctx.now, person).await?;
        if resumed > 0 {
            for s in subscriptions::subscriptions_of(&mut tx, person).await? {
                if let Some(conference) =
                    conferences::conference_by_id(&mut tx, s.conference_id).await?
                {
                    crate::schedule::import::catch_up(
                        &mut tx,
                        &ctx.templates,
                        ctx.now,
                        &conference,
                        person,
                    )
                    .await?;
                }
            }
        }
        return Ok(Reply::text(
            "start_linked",
            json!({ "name": actor.name(), "role": actor.role.as_str(), "resumed": resumed,
                    "conference": actor.conference.as_ref().map(conference_json) }),
        ));
    };
    let token = token.as_str();
    // Telegram's "add to group" link delivers the bind code as `/start <code>` in the group: a command
    // the bot sees whatever the group's privacy mode.
    if token.starts_with(herald_commands::BIND_CODE_PREFIX)
        && ctx.inbound.chat.kind != ChatKind::Private
    {
        return super::channels::bind_here(ctx, actor, token.to_owned()).await;
    }
    if ctx.inbound.chat.kind != ChatKind::Private {
        return Ok(Reply::text(
            "start_in_private",
            json!({ "bot": ctx.bot.username }),
        ));
    }
    if token.starts_with(herald_commands::BIND_CODE_PREFIX) {
        return Ok(Reply::text("bind_token_in_private", json!({})));
    }
    let Some(from) = actor.from.clone() else {
        return Ok(Reply::none());
    };
    let mut tx = ctx.tx.lock().await;
    // Owner links and invites share the deep-link form; try the owner kind first.
    let checked = match links::check(&mut tx, ctx.now, token, "owner").await? {
        Err(Refusal::WrongKind) => links::check(&mut tx, ctx.now, token, "invite").await?,
        other => other,
    };
    let link = match checked {
        Ok(link) => link,
        Err(refusal) => return Ok(Reply::text(refusal.template(), json!({}))),
    };
    let person = people::person_for_account(
        &mut tx,
        ctx.now,
        ctx.inbound.platform,
        &from.user_id,
        from.username.as_deref(),
        &from.name,
        actor.language.as_deref(),
    )
    .await?;
    if !link_store::use_link_token(&mut tx, ctx.now, link.id, Some(person)).await? {
        return Ok(Reply::text("token_used", json!({})));
    }
    if link.purpose == "owner" {
        if people::owner_exists(&mut tx).await? {
            return Ok(Reply::text("owner_exists", json!({})));
        }
        people::grant(&mut tx, ctx.now, person, None, "owner", None).await?;
        return Ok(Reply::text("start_owner", json!({ "name": from.name })));
    }
    let (Some(conference_id), Some(role)) = (link.conference_id, link.role.clone()) else {
        anyhow::bail!("invite {} has no conference or role", link.id);
    };
    let Some(conference) = conferences::conference_by_id(&mut tx, conference_id).await? else {
        return Ok(Reply::text("token_unknown", json!({})));
    };
    people::grant(
        &mut tx,
        ctx.now,
        person,
        Some(conference_id),
        &role,
        link.created_by,
    )
    .await?;
    subscriptions::subscribe(&mut tx, ctx.now, person, conference_id).await?;
    // An invitation that came by mail proves its reader has that mailbox: the address is confirmed.
    if let Some(address) = link.email.as_deref() {
        email_store::link_address(&mut tx, ctx.now, person, address, &new_token()).await?;
    }
    // The language the organiser's list gave them.
    if let Some(language) = link
        .language
        .as_deref()
        .and_then(|l| ctx.templates.language(l))
    {
        people::set_language(&mut tx, person, Some(language)).await?;
    }
    // A speaker invite names the speaker's identity in the schedule: their reminders now reach this chat.
    if role == "speaker"
        && let Some(identity) = link.label.as_deref()
    {
        crate::db::schedule::link_speaker(
            &mut tx,
            ctx.now,
            person,
            conference_id,
            &identity.trim().to_lowercase(),
        )
        .await?;
    }
    // Whoever joins after the schedule was imported gets the reminders due from now on.
    crate::schedule::import::catch_up(&mut tx, &ctx.templates, ctx.now, &conference, person)
        .await?;
    chat::set_chat_conference(
        &mut tx,
        ctx.now,
        ctx.inbound.platform,
        &ctx.inbound.chat.id,
        conference_id,
    )
    .await?;
    if role == "admin" || role == "volunteer" {
        organisers::notify(
            &mut tx,
            &ctx.templates,
            ctx.now,
            conference_id,
            "notify_joined",
            &format!("joined:{}", link.id),
            json!({ "name": from.name, "username": from.username, "role": role, "conference": conference.name }),
        )
        .await?;
    }
    Ok(Reply::text(
        "start_joined",
        json!({ "name": from.name, "role": role, "conference": conference_json(&conference), "label": link.label }),
    ))
}

pub async fn help(ctx: Ctx, actor: Actor, topic: Option<HelpTopic>) -> HandlerResult {
    let visible = |spec: &&herald_commands::CommandSpec| actor.may(spec.min_role);
    let commands: Vec<_> = match topic {
        Some(topic) => topic.specs().collect(),
        None => catalog().iter().filter(visible).collect(),
    };
    let words = ctx.templates.words(actor.language.as_deref());
    let mut rows = Vec::new();
    for s in commands {
        let help = help_line(&ctx.templates, actor.language.as_deref(), s).map_or_else(
            || Ok(s.help.to_owned()),
            |name| words.render(&name, json!({})),
        )?;
        rows.push(json!({ "usage": s.usage, "help": help, "role": s.min_role.as_str(), "allowed": actor.may(s.min_role) }));
    }
    Ok(Reply::text(
        "help",
        json!({ "commands": rows, "role": actor.role.as_str(), "topic": topic.is_some(),
                "conference": actor.conference.as_ref().map(|c| &c.name) }),
    ))
}

pub async fn whoami(ctx: Ctx, actor: Actor) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let roles = match actor.person {
        Some(p) => people::roles_of(&mut tx, p, actor.conference.as_ref().map(|c| c.id)).await?,
        None => Vec::new(),
    };
    Ok(Reply::text(
        "whoami",
        json!({ "name": actor.name(), "user_id": actor.from.as_ref().map(|f| &f.user_id),
                "linked": actor.person.is_some(), "roles": roles,
                "conference": actor.conference.as_ref().map(conference_json), "chat": ctx.inbound.chat,
                "platform": ctx.inbound.platform }),
    ))
}

/// `/stop` asks first: stopping is easy to do by accident and silences everything.
pub async fn stop(ctx: Ctx, actor: Actor) -> HandlerResult {
    if actor.person.is_none() {
        return Ok(Reply::text("not_linked", json!({})));
    }
    let mut tx = ctx.tx.lock().await;
    super::set_pending_here(&ctx, &mut tx, Some("stop"), Some(ctx.now + CONFIRM_TTL)).await?;
    Ok(
        Reply::text("stop_confirm", json!({})).with_buttons(vec![vec![
            Action::Stop { confirm: true },
            Action::Stop { confirm: false },
        ]]),
    )
}

pub async fn stop_button(
    ctx: Ctx,
    actor: Actor,
    confirm: bool,
    message_id: Option<i32>,
) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let state = chat::chat_state(&mut tx, ctx.inbound.platform, &ctx.inbound.chat.id).await?;
    let pending = state.pending_action.as_deref() == Some("stop")
        && state.pending_until.is_some_and(|t| t > ctx.now);
    super::set_pending_here(&ctx, &mut tx, None, None).await?;
    let (Some(person), true) = (actor.person, pending) else {
        return Ok(Reply::text("confirmation_expired", json!({})).editing(message_id));
    };
    if !confirm {
        return Ok(Reply::text("stop_kept", json!({})).editing(message_id));
    }
    let stopped = subscriptions::unsubscribe_all(&mut tx, ctx.now, person).await?;
    let cancelled = crate::delivery::cancel_queued(&mut tx, ctx.now, person, &[]).await?;
    Ok(Reply::text(
        "stop_done",
        json!({ "subscriptions": stopped, "cancelled": cancelled }),
    )
    .editing(message_id))
}

pub async fn cancel(ctx: Ctx) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let state = chat::chat_state(&mut tx, ctx.inbound.platform, &ctx.inbound.chat.id).await?;
    super::set_pending_here(&ctx, &mut tx, None, None).await?;
    Ok(Reply::text(
        "cancelled",
        json!({ "had_pending": state.pending_action.is_some() }),
    ))
}

pub async fn settings(ctx: Ctx, actor: Actor, change: Option<SettingChange>) -> HandlerResult {
    change_settings(&ctx, &actor, change, None).await
}

/// The buttons under `/settings`: the same changes as typing them, shown by editing that message.
pub async fn settings_button(
    ctx: Ctx,
    actor: Actor,
    setting: Setting,
    on: bool,
    message_id: Option<i32>,
) -> HandlerResult {
    let change = SettingChange {
        setting,
        channel: None,
        enabled: on,
    };
    change_settings(&ctx, &actor, Some(change), message_id).await
}

/// `/settings email <address>`: mails the address a confirmation link; nothing else goes there until
/// it is opened (double opt-in).
pub async fn link_email(ctx: Ctx, actor: Actor, address: String) -> HandlerResult {
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let Some(parsed) = herald_bots::email::parse_address(&address) else {
        return Ok(Reply::text("email_invalid", json!({ "address": address })));
    };
    let address = parsed.to_string();
    let mut tx = ctx.tx.lock().await;
    crate::delivery::email::confirm(
        &mut tx,
        ctx.templates.words(actor.language.as_deref()),
        &ctx.bot.web,
        ctx.now,
        person,
        &actor.name(),
        &address,
    )
    .await?;
    Ok(Reply::text(
        "email_confirm_sent",
        json!({ "address": address, "days": crate::delivery::email::CONFIRM_TTL.num_days() }),
    ))
}

/// `/settings early <minutes|off>`: a second, earlier reminder of the sessions the person follows.
pub async fn early_reminder(ctx: Ctx, actor: Actor, minutes: Option<i64>) -> HandlerResult {
    let (Some(person), Some(conference)) = (actor.person, actor.conference.clone()) else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let mut tx = ctx.tx.lock().await;
    let Some(subscription) = subscription(&mut tx, person, conference.id).await? else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let session_minutes = match set_early(&ctx, &mut tx, person, &conference, minutes).await? {
        Ok(session_minutes) => session_minutes,
        Err(refusal) => return Ok(refusal),
    };
    Ok(Reply::text(
        "early_reminder_set",
        json!({ "minutes": minutes, "session_minutes": session_minutes, "conference": conference.name,
                "reminders": subscription.reminders, "active": subscription.active }),
    ))
}

/// The earlier-reminder button under `/settings`: the same as typing it, shown by editing that message.
pub async fn early_reminder_button(
    ctx: Ctx,
    actor: Actor,
    minutes: Option<i64>,
    message_id: Option<i32>,
) -> HandlerResult {
    let (Some(person), Some(conference)) = (actor.person, actor.conference.clone()) else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let mut tx = ctx.tx.lock().await;
    if let Err(refusal) = set_early(&ctx, &mut tx, person, &conference, minutes).await? {
        return Ok(refusal);
    }
    settings_reply(&mut tx, person, &conference, message_id).await
}

/// Stores the earlier reminder `person` chose in `conference` and queues (or, switched off, cancels) the
/// earlier reminders of the sessions they already follow; gives the conference's own lead time, or a
/// refusal when the earlier reminder would not come before it.
async fn set_early(
    ctx: &Ctx,
    tx: &mut crate::db::Tx,
    person: i64,
    conference: &conferences::Conference,
    minutes: Option<i64>,
) -> anyhow::Result<Result<i64, Reply>> {
    let (session_minutes, _) = schedule_store::reminder_minutes(tx, conference.id).await?;
    if let Some(minutes) = minutes.filter(|m| *m <= session_minutes) {
        return Ok(Err(Reply::text(
            "early_reminder_too_late",
            json!({ "minutes": minutes, "session_minutes": session_minutes,
                    "suggestion": suggested_early(session_minutes) }),
        )
        .refusal()));
    }
    subscriptions::set_early_reminder(tx, ctx.now, person, conference.id, minutes).await?;
    crate::schedule::import::recompute_personal(
        tx,
        &ctx.templates,
        ctx.now,
        conference,
        Some(person),
    )
    .await?;
    Ok(Ok(session_minutes))
}

/// The earlier reminder `/settings` offers: the first of a few round lead times that comes before the
/// conference's own; `None` when the conference already reminds a day ahead.
fn suggested_early(session_minutes: i64) -> Option<i64> {
    [60, 120, 240, 480, 1440]
        .into_iter()
        .find(|m| *m > session_minutes)
}

/// Applies a `/settings` change (if any) and answers with the settings as they are now.
async fn change_settings(
    ctx: &Ctx,
    actor: &Actor,
    change: Option<SettingChange>,
    edit: Option<i32>,
) -> HandlerResult {
    let (Some(person), Some(conference)) = (actor.person, actor.conference.clone()) else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let mut tx = ctx.tx.lock().await;
    if let Some(change) = change {
        let kind = match change.setting {
            Setting::Announcements => Kind::Announcements,
            Setting::Reminders => Kind::Reminders,
            Setting::Direct => Kind::Direct,
        };
        match (&change.channel, kind) {
            // One channel: what that channel receives.
            (Some(channel), _) => {
                let changed =
                    contacts::set_channel(&mut tx, person, Some(channel), kind, change.enabled)
                        .await?;
                if changed == 0 {
                    let channels = contacts::channels(&mut tx, person).await?;
                    return Ok(Reply::text(
                        "settings_no_channel",
                        json!({ "channel": channel, "channels": channels }),
                    ));
                }
            }
            // Direct messages everywhere: every channel.
            (None, Kind::Direct) => {
                contacts::set_channel(&mut tx, person, None, kind, change.enabled).await?;
            }
            // Announcements or reminders from this conference, on every channel.
            (None, _) => {
                let flag = Some(change.enabled);
                let (announcements, reminders) = match kind {
                    Kind::Announcements => (flag, None),
                    _ => (None, flag),
                };
                subscriptions::set_subscription_flag(
                    &mut tx,
                    ctx.now,
                    person,
                    conference.id,
                    announcements,
                    reminders,
                )
                .await?;
            }
        }
        // Switched on: the reminders due from now on, as for someone who just joined. Switched off:
        // what is queued of that kind stays unsent.
        if change.enabled && kind != Kind::Direct {
            crate::schedule::import::catch_up(
                &mut tx,
                &ctx.templates,
                ctx.now,
                &conference,
                person,
            )
            .await?;
        } else if !change.enabled && change.channel.is_none() && kind != Kind::Direct {
            let prefixes = crate::schedule::import::queued_prefixes(conference.id, person, kind);
            crate::delivery::cancel_queued(&mut tx, ctx.now, person, &prefixes).await?;
        }
    }
    settings_reply(&mut tx, person, &conference, edit).await
}

/// `person`'s subscription to `conference`, if they have one.
async fn subscription(
    tx: &mut crate::db::Tx,
    person: i64,
    conference: i64,
) -> anyhow::Result<Option<subscriptions::Subscription>> {
    Ok(subscriptions::subscriptions_of(tx, person)
        .await?
        .into_iter()
        .find(|s| s.conference_id == conference))
}

async fn settings_reply(
    tx: &mut crate::db::Tx,
    person: i64,
    conference: &conferences::Conference,
    edit: Option<i32>,
) -> HandlerResult {
    let Some(s) = subscription(tx, person, conference.id).await? else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let (session_minutes, _) = schedule_store::reminder_minutes(tx, conference.id).await?;
    let toggle = |setting, on: bool| Action::Setting { setting, on: !on };
    // While reminders are on: off when chosen, otherwise the suggested one (if any comes before the
    // conference's own).
    let early = match s.early_reminder_minutes {
        _ if !s.reminders => None,
        Some(_) => Some(None),
        None => suggested_early(session_minutes).map(Some),
    };
    let mut buttons = vec![vec![
        toggle(Setting::Announcements, s.announcements),
        toggle(Setting::Reminders, s.reminders),
    ]];
    buttons.extend(early.map(|minutes| vec![Action::EarlyReminder { minutes }]));
    let channels = contacts::channels(tx, person).await?;
    Ok(Reply::text(
        "settings",
        json!({ "conference": conference.name, "announcements": s.announcements, "reminders": s.reminders,
                "early": s.early_reminder_minutes, "session_minutes": session_minutes,
                "active": s.active, "channels": channels }),
    )
    .with_buttons(buttons)
    .editing(edit))
}

/// Roles a person may hand out: admins and owners may grant any conference role.
pub fn may_grant(actor: &Actor, role: Role) -> bool {
    role.is_conference_role() && actor.role >= Role::Admin
}

/// `/settings language [code]`: the languages Herald speaks, or the one the person reads Herald in from
/// now on, on every channel (answered in the new one).
pub async fn language(ctx: Ctx, actor: Actor, code: Option<String>) -> HandlerResult {
    let templates = &ctx.templates;
    let mut languages = Vec::new();
    for lang in templates.languages() {
        let name = templates
            .words(Some(lang))
            .render("language.txt", json!({}))?;
        languages.push(json!({ "code": lang, "name": name }));
    }
    let current = actor
        .language
        .clone()
        .unwrap_or_else(|| crate::templates::ENGLISH.to_owned());
    let Some(code) = code else {
        return Ok(Reply::text(
            "language_list",
            json!({ "current": current, "languages": languages }),
        ));
    };
    let Some(chosen) = templates.language(&code) else {
        return Ok(Reply::text(
            "language_unknown",
            json!({ "code": code, "languages": languages }),
        ));
    };
    let Some(person) = actor.person else {
        return Ok(Reply::text("not_linked", json!({})));
    };
    let mut tx = ctx.tx.lock().await;
    people::set_language(&mut tx, person, Some(chosen)).await?;
    let name = templates
        .words(Some(chosen))
        .render("language.txt", json!({}))?;
    Ok(Reply::text("language_set", json!({ "code": chosen, "name": name })).in_language(chosen))
}

/// The template of a command's help line in `language` (`help/<name>.txt`, spaces as `_`), when that
/// language has one; English help lines are the catalog's own.
pub fn help_line(
    templates: &crate::templates::Templates,
    language: Option<&str>,
    spec: &herald_commands::CommandSpec,
) -> Option<String> {
    let name = format!("help/{}.txt", spec.name.replace(' ', "_"));
    language
        .filter(|lang| templates.has(lang, &name))
        .map(|_| name)
}
