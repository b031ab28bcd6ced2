//! The config page: a conference's settings, providers, switches, channel bindings and hashtags on one
//! page. Each form becomes the chat command an organiser would type (see [`super::act`]), so what a person
//! may see and change follows their roles exactly as in chat; only what chat takes in several messages
//! (credentials, a conference's name and dates) is written here directly, under the same roles.

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, Utc};
use herald_commands::{Feature, Role, catalog};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    act::{self, Notice},
    auth::Signed,
    page,
};
use crate::{
    chat::handlers::{conference_json, providers::possible},
    db::{
        Tx,
        conferences::{self, Conference},
        hashtags, providers, web as web_store,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/config", get(config_page))
        .route("/config/{slug}/conference", post(conference_fields))
        .route("/config/{slug}/policy", post(policy))
        .route("/config/{slug}/window", post(window))
        .route("/config/{slug}/reminders", post(reminders))
        .route("/config/{slug}/email", post(notify_email))
        .route("/config/{slug}/hashtags", post(hashtag_add))
        .route("/config/{slug}/hashtags/remove", post(hashtag_remove))
        .route("/config/{slug}/switch", post(switch))
        .route("/config/{slug}/providers", post(provider_add))
        .route("/config/{slug}/providers/{name}", post(provider_edit))
        .route("/config/{slug}/providers/{name}/test", post(provider_test))
        .route(
            "/config/{slug}/providers/{name}/active",
            post(provider_active),
        )
        .route("/config/{slug}/unbind", post(unbind))
}

/// `/`: the config page for the signed in; the sign-in explanation for everyone else.
pub async fn home(_signed: Signed) -> Redirect {
    Redirect::to(crate::links::CONFIG_PATH)
}

/// Whether `role` may do what chat command `name` does (the catalog's own rule).
pub fn may(role: Role, name: &str) -> bool {
    catalog::find(name).is_some_and(|spec| role >= spec.min_role)
}

/// The conferences a person holds a role in (every one for owners), with that role.
pub async fn conferences_of(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<(Conference, Role)>> {
    let mut out = Vec::new();
    for conference in conferences::conferences(tx).await? {
        let role = crate::chat::role_of(tx, person, Some(conference.id)).await?;
        if role >= Role::Attendee {
            out.push((conference, role));
        }
    }
    Ok(out)
}

/// A time in the conference's time zone, for the `datetime` filter.
pub fn local(conference: &Conference, at: DateTime<Utc>) -> String {
    conference.local(at)
}

#[derive(Debug, Deserialize)]
pub struct Pick {
    pub c: Option<String>,
}

/// The conference a page is about: the one asked for, else the first the person holds a role in.
pub async fn pick(
    tx: &mut Tx,
    signed: &Signed,
    wanted: Option<&str>,
) -> anyhow::Result<(Vec<(Conference, Role)>, Option<(Conference, Role)>)> {
    let all = conferences_of(tx, signed.person).await?;
    let current = match wanted {
        Some(slug) => all.iter().find(|(c, _)| c.slug == slug).cloned(),
        None => all.first().cloned(),
    };
    Ok((all, current))
}

pub fn conference_list(all: &[(Conference, Role)], current: Option<&Conference>) -> Value {
    Value::Array(
        all.iter()
            .map(|(c, role)| {
                json!({ "slug": c.slug, "name": c.name, "role": role.as_str(),
                        "current": current.is_some_and(|cur| cur.id == c.id) })
            })
            .collect(),
    )
}

async fn config_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(pick_query): Query<Pick>,
) -> Response {
    let context = config_context(&state, &signed, pick_query.c.as_deref()).await;
    super::render(&state, "config", context)
}

async fn config_context(
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
        let status = if wanted.is_some() {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        return Ok(Err(page(
            state,
            status,
            "no_conference",
            json!({ "me": me, "conferences": conference_list(&all, None), "asked": wanted }),
        )));
    };
    let can = json!({
        "fields": may(role, "conference policy"),
        "policy": may(role, "conference policy"),
        "window": may(role, "conference window"),
        "reminders": may(role, "conference reminders"),
        "email": may(role, "conference email"),
        "hashtags": may(role, "hashtag list"),
        "hashtag_add": may(role, "hashtag add"),
        "hashtag_remove": may(role, "hashtag remove"),
        "providers": may(role, "provider list"),
        "provider_add": may(role, "provider add"),
        "provider_test": may(role, "provider test"),
        "provider_active": may(role, "provider on"),
        "switch": may(role, "switch"),
        "bindings": may(role, "unbind"),
        "moderate": may(role, "queue"),
    });
    let mut providers = Vec::new();
    let mut matrix = Vec::new();
    if may(role, "provider list") {
        let set_at = web_store::credentials_set_at(&mut tx, conference.series_id).await?;
        let switches = web_store::switches_of(&mut tx, conference.id).await?;
        for p in providers::providers(&mut tx, conference.series_id).await? {
            let credentials = set_at
                .iter()
                .find(|(id, _)| *id == p.id)
                .map(|(_, at)| at.map(|at| local(&conference, at)).unwrap_or_default());
            let on = switches
                .iter()
                .find(|s| s.provider_id == p.id)
                .cloned()
                .unwrap_or_default();
            let cells: Vec<Value> = Feature::ALL
                .into_iter()
                .map(|f| {
                    let value = match f {
                        Feature::PublicBroadcast => on.public_broadcast,
                        Feature::AttendeeBroadcast => on.attendee_broadcast,
                        Feature::PrivateNotifications => on.private_notifications,
                        Feature::OrganiserNotifications => on.organiser_notifications,
                        Feature::SocialManagement => on.social_management,
                    };
                    json!({ "feature": f.as_str(), "on": value, "possible": possible(&p.kind, f) })
                })
                .collect();
            matrix.push(json!({ "name": p.internal_name, "kind": p.kind, "active": p.active, "cells": cells }));
            providers.push(json!({
                "name": p.internal_name, "kind": p.kind, "base_url": p.base_url, "active": p.active,
                "limit": p.max_characters, "credentials_set": credentials.is_some(),
                "credentials_on": credentials.filter(|s| !s.is_empty()),
            }));
        }
    }
    let bindings: Vec<Value> = if may(role, "unbind") {
        web_store::bindings_of(&mut tx, conference.id)
            .await?
            .into_iter()
            .map(|b| {
                json!({ "slot": b.slot, "platform": b.platform, "chat_id": b.chat_id, "title": b.title,
                        "since": local(&conference, b.bound_at), "by": b.bound_by })
            })
            .collect()
    } else {
        Vec::new()
    };
    let hashtags = if may(role, "hashtag list") {
        hashtags::hashtags(&mut tx, conference.id).await?
    } else {
        Vec::new()
    };
    let (sessions, speakers) =
        crate::db::schedule::reminder_minutes(&mut tx, conference.id).await?;
    let volunteers = crate::db::schedule::volunteer_minutes(&mut tx, conference.id).await?;
    let notify_email = crate::db::conferences::notify_email(&mut tx, conference.id).await?;
    tx.commit().await?;
    let mut conference_value = conference_json(&conference);
    conference_value["reminders"] =
        json!({ "sessions": sessions, "speakers": speakers, "volunteers": volunteers });
    conference_value["notify_email"] = json!(notify_email);
    conference_value["window_from"] = json!(
        conference
            .posting_window_start
            .map(|t| t.format("%H:%M").to_string())
    );
    conference_value["window_to"] = json!(
        conference
            .posting_window_end
            .map(|t| t.format("%H:%M").to_string())
    );
    Ok(Ok(json!({
        "me": me,
        "conferences": conference_list(&all, Some(&conference)),
        "conference": conference_value,
        "role": role.as_str(),
        "can": can,
        "providers": providers,
        "features": Feature::ALL.into_iter().map(Feature::as_str).collect::<Vec<_>>(),
        "matrix": matrix,
        "slots": ["attendees", "organisers", "moderation"],
        "bindings": bindings,
        "hashtags": hashtags,
        "notice": notice,
    })))
}

/// A refused field, worded by `templates/web/invalid.html`.
pub fn invalid(state: &AppState, form: &str, field: &str, context: Value) -> Notice {
    let mut context = context;
    context["field"] = json!(field);
    let text = state
        .templates
        .render("web/invalid.html", &context)
        .map(|html| herald_bots::html::to_text(&html))
        .unwrap_or_else(|_| field.to_owned());
    Notice {
        text,
        field: (!field.is_empty()).then(|| field.to_owned()),
        form: Some(form.to_owned()),
        kept: None,
    }
}

/// One word for a command argument: a space would make it two arguments.
fn word<'a>(state: &AppState, form: &str, field: &str, value: &'a str) -> Result<&'a str, Notice> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(state, form, field, json!({ "kind": "required" })));
    }
    if value.split_whitespace().nth(1).is_some() {
        return Err(invalid(state, form, field, json!({ "kind": "one_word" })));
    }
    Ok(value)
}

/// Checks the CSRF token, runs the command (or keeps the refusal), and sends the person back to the form.
async fn submit(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    csrf: &str,
    form: &str,
    command: Result<String, Notice>,
) -> Response {
    if !signed.csrf_ok(csrf) {
        return super::csrf_refused(state);
    }
    let result = async {
        let Some(conference) = super::conference_named(state, slug).await? else {
            return anyhow::Ok(None);
        };
        let mut notice = match command {
            Ok(command) => act::command(state, signed, &conference, &command, Vec::new()).await?,
            Err(notice) => notice,
        };
        notice.form = Some(form.to_owned());
        act::keep(state, signed, &notice).await?;
        Ok(Some(()))
    }
    .await;
    super::after_form(state, result, &format!("/config?c={slug}#{form}"))
}

#[derive(Debug, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    policy: String,
}

async fn policy(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Response {
    let command =
        word(&state, "policy", "policy", &form.policy).map(|p| format!("/conference policy {p}"));
    submit(&state, &signed, &slug, &form.csrf, "policy", command).await
}

#[derive(Debug, Deserialize)]
struct RemindersForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sessions: String,
    #[serde(default)]
    speakers: String,
    #[serde(default)]
    volunteers: String,
}

/// How long before a start reminders go out, through `/conference reminders`.
async fn reminders(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<RemindersForm>,
) -> Response {
    let field = |name: &str, value: &str| word(&state, "reminders", name, value).map(str::to_owned);
    let command = field("sessions", &form.sessions).and_then(|sessions| {
        let speakers = field("speakers", &form.speakers)?;
        let volunteers = field("volunteers", &form.volunteers)?;
        Ok(format!(
            "/conference reminders {sessions} {speakers} {volunteers}"
        ))
    });
    submit(&state, &signed, &slug, &form.csrf, "reminders", command).await
}

#[derive(Debug, Deserialize)]
struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// Where organiser notices are mirrored by mail, through `/conference email` (an empty field: nowhere).
async fn notify_email(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<EmailForm>,
) -> Response {
    let command = match form.address.trim() {
        "" => Ok("/conference email off".to_owned()),
        address => {
            word(&state, "email", "address", address).map(|a| format!("/conference email {a}"))
        }
    };
    submit(&state, &signed, &slug, &form.csrf, "email", command).await
}

#[derive(Debug, Deserialize)]
struct WindowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    off: Option<String>,
}

async fn window(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<WindowForm>,
) -> Response {
    let command = if form.off.is_some() {
        Ok("/conference window off".to_owned())
    } else {
        word(&state, "window", "from", &form.from).and_then(|from| {
            word(&state, "window", "to", &form.to)
                .map(|to| format!("/conference window {from} {to}"))
        })
    };
    submit(&state, &signed, &slug, &form.csrf, "window", command).await
}

#[derive(Debug, Deserialize)]
struct HashtagForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    auto: Option<String>,
    #[serde(default)]
    order: String,
}

async fn hashtag_add(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<HashtagForm>,
) -> Response {
    let order = if form.order.trim().is_empty() {
        Ok("0")
    } else {
        word(&state, "hashtags", "order", &form.order)
    };
    let command = word(&state, "hashtags", "tag", &form.tag).and_then(|tag| {
        order.map(|order| {
            let auto = if form.auto.is_some() { " auto" } else { "" };
            format!("/hashtag add {tag}{auto} {order}")
        })
    });
    submit(&state, &signed, &slug, &form.csrf, "hashtags", command).await
}

async fn hashtag_remove(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<HashtagForm>,
) -> Response {
    let command =
        word(&state, "hashtags", "tag", &form.tag).map(|tag| format!("/hashtag remove {tag}"));
    submit(&state, &signed, &slug, &form.csrf, "hashtags", command).await
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    feature: String,
    #[serde(default)]
    on: String,
}

async fn switch(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Response {
    let command = word(&state, "switches", "provider", &form.provider).and_then(|provider| {
        word(&state, "switches", "feature", &form.feature).and_then(|feature| {
            word(&state, "switches", "state", &form.on)
                .map(|on| format!("/switch {provider} {feature} {on}"))
        })
    });
    submit(&state, &signed, &slug, &form.csrf, "switches", command).await
}

#[derive(Debug, Deserialize)]
struct UnbindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slot: String,
}

async fn unbind(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<UnbindForm>,
) -> Response {
    let command = word(&state, "bindings", "slot", &form.slot).map(|s| format!("/unbind {s}"));
    submit(&state, &signed, &slug, &form.csrf, "bindings", command).await
}

#[derive(Debug, Deserialize)]
struct ProviderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    base_url: String,
    /// Mastodon: the access token.
    #[serde(default)]
    token: String,
    /// Bluesky: the handle and an app password.
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    app_password: String,
}

/// The credentials a form carries for a kind of provider: `Ok(None)` when left blank (kept as they are).
fn credentials_of(
    state: &AppState,
    kind: &str,
    form: &ProviderForm,
) -> Result<Option<Value>, Notice> {
    let Some(network) = crate::delivery::networks::network(kind) else {
        return Ok(None);
    };
    let value = |field: &str| match field {
        "token" => form.token.as_str(),
        "identifier" => form.identifier.as_str(),
        "app_password" => form.app_password.as_str(),
        _ => "",
    };
    let fields = network.credential_fields();
    if fields.iter().all(|f| value(f).trim().is_empty()) {
        return Ok(None);
    }
    let mut words = Vec::new();
    for field in fields {
        words.push(word(state, "providers", field, value(field))?);
    }
    Ok(network.credentials(&words).map(|c| c.to_json()))
}

/// Adds a provider: `/provider add` for the rules and the answer, then the credentials from the same form.
async fn provider_add(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<ProviderForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let checked = word(&state, "providers", "kind", &form.kind).and_then(|kind| {
        word(&state, "providers", "name", &form.name).and_then(|name| {
            let url = form.base_url.trim();
            let command = if url.is_empty() {
                format!("/provider add {kind} {name}")
            } else {
                word(&state, "providers", "base_url", url)
                    .map(|url| format!("/provider add {kind} {name} {url}"))?
            };
            credentials_of(&state, kind, &form).map(|credentials| (command, credentials))
        })
    });
    let (command, credentials) = match checked {
        Ok(found) => found,
        Err(notice) => {
            return submit(&state, &signed, &slug, &form.csrf, "providers", Err(notice)).await;
        }
    };
    let result = async {
        let Some(conference) = super::conference_named(&state, &slug).await? else {
            return anyhow::Ok(None);
        };
        let mut tx = state.db.begin().await?;
        let before = providers::provider_by_name(&mut tx, conference.series_id, form.name.trim())
            .await?
            .is_some();
        tx.commit().await?;
        let mut notice = act::command(&state, &signed, &conference, &command, Vec::new()).await?;
        if !before && let Some(credentials) = credentials {
            let mut tx = state.db.begin().await?;
            if let Some(p) =
                providers::provider_by_name(&mut tx, conference.series_id, form.name.trim()).await?
            {
                providers::set_credentials(&mut tx, state.clock.now(), p.id, &credentials).await?;
                let saved = state.templates.words(super::language().as_deref()).render(
                    "messages/credentials_saved.html",
                    json!({ "name": p.internal_name }),
                )?;
                notice.text = format!("{}\n\n{}", notice.text, herald_bots::html::to_text(&saved));
            }
            tx.commit().await?;
        }
        notice.form = Some("providers".into());
        act::keep(&state, &signed, &notice).await?;
        Ok(Some(()))
    }
    .await;
    super::after_form(&state, result, &format!("/config?c={slug}#providers"))
}

/// New credentials (or instance address) for a provider: blank fields keep what is stored. Write-only:
/// nothing stored is ever shown back.
async fn provider_edit(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<ProviderForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let result = async {
        let mut tx = state.db.begin().await?;
        let Some(conference) = conferences::conference_by_slug(&mut tx, &slug).await? else {
            return anyhow::Ok(None);
        };
        let role = crate::chat::role_of(&mut tx, signed.person, Some(conference.id)).await?;
        let provider = providers::provider_by_name(&mut tx, conference.series_id, &name).await?;
        let notice = match provider {
            _ if !may(role, "provider add") => invalid(
                &state,
                "providers",
                "name",
                json!({ "kind": "role", "role": role.as_str() }),
            ),
            None => invalid(
                &state,
                "providers",
                "name",
                json!({ "kind": "unknown_provider", "name": name }),
            ),
            Some(p) => match credentials_of(&state, &p.kind, &form) {
                Err(notice) => notice,
                Ok(None) => invalid(
                    &state,
                    "providers",
                    "token",
                    json!({ "kind": "nothing_to_save" }),
                ),
                Ok(Some(credentials)) => {
                    providers::set_credentials(&mut tx, state.clock.now(), p.id, &credentials)
                        .await?;
                    let saved = state.templates.words(super::language().as_deref()).render(
                        "messages/credentials_saved.html",
                        json!({ "name": p.internal_name }),
                    )?;
                    Notice {
                        text: herald_bots::html::to_text(&saved),
                        field: None,
                        form: Some("providers".into()),
                        kept: None,
                    }
                }
            },
        };
        tx.commit().await?;
        act::keep(&state, &signed, &notice).await?;
        Ok(Some(()))
    }
    .await;
    super::after_form(&state, result, &format!("/config?c={slug}#providers"))
}

async fn provider_test(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    let command = word(&state, "providers", "name", &name).map(|n| format!("/provider test {n}"));
    submit(&state, &signed, &slug, &form.csrf, "providers", command).await
}

#[derive(Debug, Deserialize)]
struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: String,
}

async fn provider_active(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<ActiveForm>,
) -> Response {
    let verb = if form.on == "on" { "on" } else { "off" };
    let command = word(&state, "providers", "name", &name).map(|n| format!("/provider {verb} {n}"));
    submit(&state, &signed, &slug, &form.csrf, "providers", command).await
}

#[derive(Debug, Deserialize)]
struct FieldsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

/// A conference's name, time zone and dates: checked field by field, written together.
async fn conference_fields(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Form(form): Form<FieldsForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let form_name = "conference";
    let checked = (|| {
        let name = form.name.trim();
        if name.is_empty() {
            return Err(invalid(
                &state,
                form_name,
                "name",
                json!({ "kind": "required" }),
            ));
        }
        let time_zone = form.time_zone.trim();
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(
                &state,
                form_name,
                "time_zone",
                json!({ "kind": "time_zone", "value": time_zone }),
            ));
        }
        let date = |field: &str, value: &str| {
            NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
                invalid(
                    &state,
                    form_name,
                    field,
                    json!({ "kind": "date", "value": value }),
                )
            })
        };
        let dates = match (form.starts_on.trim(), form.ends_on.trim()) {
            ("", "") => None,
            (start, end) => {
                let (start, end) = (date("starts_on", start)?, date("ends_on", end)?);
                if end < start {
                    return Err(invalid(
                        &state,
                        form_name,
                        "ends_on",
                        json!({ "kind": "date_order" }),
                    ));
                }
                Some((start, end))
            }
        };
        Ok((name.to_owned(), time_zone.to_owned(), dates))
    })();
    let result = async {
        let mut tx = state.db.begin().await?;
        let Some(conference) = conferences::conference_by_slug(&mut tx, &slug).await? else {
            return anyhow::Ok(None);
        };
        let role = crate::chat::role_of(&mut tx, signed.person, Some(conference.id)).await?;
        let notice = match checked {
            _ if !may(role, "conference policy") => invalid(
                &state,
                form_name,
                "name",
                json!({ "kind": "role", "role": role.as_str() }),
            ),
            Err(notice) => notice,
            Ok((name, time_zone, dates)) => {
                conferences::set_conference_fields(
                    &mut tx,
                    state.clock.now(),
                    conference.id,
                    Some(&name),
                    Some(&time_zone),
                    dates,
                )
                .await?;
                invalid(&state, form_name, "", json!({ "kind": "saved" }))
            }
        };
        tx.commit().await?;
        act::keep(&state, &signed, &notice).await?;
        Ok(Some(()))
    }
    .await;
    super::after_form(&state, result, &format!("/config?c={slug}#conference"))
}
