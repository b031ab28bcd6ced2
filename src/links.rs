//! One-time links: owner bootstrap, invites, channel binding.
//!
//! A token is 24 random bytes (192 bits) in URL-safe base64, which fits Telegram's deep-link payload
//! (`[A-Za-z0-9_-]{1,64}`). Only its SHA-256 is stored; a presented token is hashed and looked up by that
//! hash, and the stored hash is compared again in constant time before it is trusted.

use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    db::{
        Tx,
        links::{self as store, LinkToken, NewLinkToken},
        people, web as logins,
    },
    token::{ct_eq, hash, new_token},
};

/// How long each kind of link stays valid.
pub const OWNER_LINK_TTL: TimeDelta = TimeDelta::days(7);
pub const INVITE_TTL: TimeDelta = TimeDelta::days(60);
pub const BIND_TTL: TimeDelta = TimeDelta::hours(24);

/// Why a token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Used,
    Expired,
    WrongKind,
}

impl Refusal {
    pub fn template(self) -> &'static str {
        match self {
            Self::Unknown | Self::WrongKind => "token_unknown",
            Self::Used => "token_used",
            Self::Expired => "token_expired",
        }
    }
}

/// Looks a presented token up and checks it is usable for `purpose`.
pub async fn check(
    tx: &mut Tx,
    now: DateTime<Utc>,
    token: &str,
    purpose: &str,
) -> anyhow::Result<Result<LinkToken, Refusal>> {
    let presented = hash(token);
    let Some(found) = store::link_token_by_hash(tx, &presented).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    // The index lookup matched on the hash; compare the stored hash once more without early exit, so
    // trusting the row does not depend on a comparison that stops at the first differing byte.
    if !ct_eq(&found.token_hash, &presented) {
        return Ok(Err(Refusal::Unknown));
    }
    if found.purpose != purpose {
        return Ok(Err(Refusal::WrongKind));
    }
    if found.used_at.is_some() {
        return Ok(Err(Refusal::Used));
    }
    if found.expires_at <= now {
        return Ok(Err(Refusal::Expired));
    }
    Ok(Ok(found))
}

/// Issues a token and returns it (the only time it exists in clear).
pub async fn issue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    new: NewLinkTokenSpec<'_>,
) -> anyhow::Result<String> {
    Ok(issue_with_id(tx, now, new).await?.1)
}

/// Issues a token and returns its row's id and the token.
pub async fn issue_with_id(
    tx: &mut Tx,
    now: DateTime<Utc>,
    new: NewLinkTokenSpec<'_>,
) -> anyhow::Result<(i64, String)> {
    let token = match new.purpose {
        "bind" => format!("{}{}", herald_commands::BIND_CODE_PREFIX, new_token()),
        _ => new_token(),
    };
    let hashed = hash(&token);
    let id = store::create_link_token(
        tx,
        now,
        &NewLinkToken {
            purpose: new.purpose,
            token_hash: &hashed,
            conference_id: new.conference_id,
            role: new.role,
            slot: new.slot,
            label: new.label,
            created_by: new.created_by,
            expires_at: now + new.ttl,
            email: new.email,
            language: new.language,
        },
    )
    .await?;
    Ok((id, token))
}

impl<'a> NewLinkTokenSpec<'a> {
    /// An invitation to `role` at `conference`, for `label` (who it is meant for), mailed to `email`
    /// when given.
    pub fn invite(
        conference: i64,
        role: &'a str,
        label: Option<&'a str>,
        created_by: Option<i64>,
        email: Option<&'a str>,
    ) -> Self {
        Self {
            purpose: "invite",
            conference_id: Some(conference),
            role: Some(role),
            slot: None,
            label,
            created_by,
            ttl: INVITE_TTL,
            email,
            language: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct NewLinkTokenSpec<'a> {
    pub purpose: &'a str,
    pub conference_id: Option<i64>,
    pub role: Option<&'a str>,
    pub slot: Option<&'a str>,
    pub label: Option<&'a str>,
    pub created_by: Option<i64>,
    pub ttl: TimeDelta,
    /// For an invitation mailed to someone: the address (confirmed when the link is opened).
    pub email: Option<&'a str>,
    /// For an invitation: the language its reader reads (theirs in Herald once they open it).
    pub language: Option<&'a str>,
}

/// A fresh owner token while nobody owns this Herald (older unused ones stop working); `None` once
/// someone does.
pub async fn owner_token_if_needed(
    db: &crate::db::Db,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let mut tx = db.begin().await?;
    if people::owner_exists(&mut tx).await? {
        return Ok(None);
    }
    let token = owner_link(&mut tx, now).await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// A fresh owner link; older unused ones stop working.
pub async fn owner_link(tx: &mut Tx, now: DateTime<Utc>) -> anyhow::Result<String> {
    store::retire_owner_links(tx, now).await?;
    issue(
        tx,
        now,
        NewLinkTokenSpec {
            purpose: "owner",
            conference_id: None,
            role: None,
            slot: None,
            label: None,
            created_by: None,
            ttl: OWNER_LINK_TTL,
            email: None,
            language: None,
        },
    )
    .await
}

/// A link that opens the web chat with `token` (an owner link or an invitation), when Telegram is off.
pub fn web_start_link(web: &url::Url, token: &str) -> String {
    web.join(&format!("chat/start/{token}"))
        .map_or_else(|_| format!("/chat/start/{token}"), String::from)
}

// ---------------------------------------------------------------------------------------------------
// Web sign-in links

/// How long a sign-in link works.
pub const LOGIN_TTL: TimeDelta = TimeDelta::minutes(10);
/// Where a sign-in link leads: the config page, or the moderation page for phones.
pub const CONFIG_PATH: &str = "/config";
pub const MOBILE_PATH: &str = "/m";

/// Creates a one-time sign-in link for `person` that leads to `next`.
pub async fn issue_login(
    tx: &mut Tx,
    now: DateTime<Utc>,
    base: &url::Url,
    person: i64,
    next: &str,
) -> anyhow::Result<url::Url> {
    let token = new_token();
    logins::create_login(tx, now, person, &hash(&token), next, now + LOGIN_TTL).await?;
    Ok(base.join(&format!("login/{token}"))?)
}
