//! Queries for e-mail as a person's channel: confirmations of an address (double opt-in), linking a
//! confirmed address as an account, the one-click unsubscribe token, and invitations already mailed.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, contacts::Kind, on_tx};

/// The platform name of e-mail accounts and outbox rows; an account's `platform_user_id` is the address.
pub const PLATFORM: &str = "email";

/// An address waiting for its owner to open the confirmation link.
#[derive(Debug, Clone, FromRow)]
pub struct Confirmation {
    pub id: i64,
    pub person_id: i64,
    pub address: String,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Records a confirmation mailed to `address` for `person`.
pub async fn create_confirmation(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    address: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO email_confirmations (person_id, address, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(person)
        .bind(address)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn confirmation_by_hash(
    tx: &mut Tx,
    token_hash: &str,
) -> anyhow::Result<Option<Confirmation>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, person_id, address, token_hash, expires_at, confirmed_at \
             FROM email_confirmations WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Who asked for confirmation `id`.
pub async fn confirmation_person(tx: &mut Tx, id: i64) -> anyhow::Result<Option<i64>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT person_id FROM email_confirmations WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

/// Marks a confirmation used; `false` when it already was (a second click, a race).
pub async fn mark_confirmed(tx: &mut Tx, now: DateTime<Utc>, id: i64) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE email_confirmations SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// What linking a confirmed address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// A new channel of the person.
    New,
    /// The person's already (taken back into use if it had been given up).
    Again,
    /// Another person's: left with them.
    Taken,
}

/// Links `address` to `person` as a confirmed e-mail channel with its unsubscribe token.
pub async fn link_address(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    address: &str,
    unsubscribe_token: &str,
) -> anyhow::Result<Linked> {
    match owner_of(tx, address).await? {
        Some(owner) if owner != person => Ok(Linked::Taken),
        Some(_) => {
            super::contacts::reachable_again(tx, PLATFORM, address).await?;
            Ok(Linked::Again)
        }
        None => {
            on_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO person_accounts (person_id, platform, platform_user_id, username, linked_at, unsubscribe_token) \
                     VALUES ($1, $2, $3, $3, $4, $5)",
                )
                .bind(person)
                .bind(PLATFORM)
                .bind(address)
                .bind(now)
                .bind(unsubscribe_token)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
            })?;
            Ok(Linked::New)
        }
    }
}

/// The unsubscribe token of a linked address, for the links in its mail.
pub async fn unsubscribe_token(tx: &mut Tx, address: &str) -> anyhow::Result<Option<String>> {
    let token: Option<Option<String>> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT unsubscribe_token FROM person_accounts WHERE platform = $1 AND platform_user_id = $2",
        )
        .bind(PLATFORM)
        .bind(address)
        .fetch_optional(conn)
        .await
    })?;
    Ok(token.flatten())
}

/// The account behind an unsubscribe token: its owner and address.
pub async fn by_unsubscribe_token(
    tx: &mut Tx,
    token: &str,
) -> anyhow::Result<Option<(i64, String)>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT person_id, platform_user_id FROM person_accounts \
             WHERE platform = $1 AND unsubscribe_token = $2",
        )
        .bind(PLATFORM)
        .bind(token)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Stops one kind of mail to one address.
pub async fn switch_off(tx: &mut Tx, address: &str, kind: Kind) -> anyhow::Result<()> {
    let sql = match kind {
        Kind::Announcements => {
            "UPDATE person_accounts SET announcements = FALSE WHERE platform = $1 AND platform_user_id = $2"
        }
        Kind::Reminders => {
            "UPDATE person_accounts SET reminders = FALSE WHERE platform = $1 AND platform_user_id = $2"
        }
        Kind::Direct => {
            "UPDATE person_accounts SET direct = FALSE WHERE platform = $1 AND platform_user_id = $2"
        }
    };
    on_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(PLATFORM)
            .bind(address)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The owner of an e-mail account.
pub async fn owner_of(tx: &mut Tx, address: &str) -> anyhow::Result<Option<i64>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT person_id FROM person_accounts WHERE platform = $1 AND platform_user_id = $2",
        )
        .bind(PLATFORM)
        .bind(address)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Whether `address` was already mailed an invitation to `role` at `conference`.
pub async fn already_invited(
    tx: &mut Tx,
    conference: i64,
    role: &str,
    address: &str,
) -> anyhow::Result<bool> {
    let found: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT id FROM link_tokens WHERE purpose = 'invite' AND conference_id = $1 AND role = $2 \
             AND email = $3 LIMIT 1",
        )
        .bind(conference)
        .bind(role)
        .bind(address)
        .fetch_optional(conn)
        .await
    })?;
    Ok(found.is_some())
}

/// Who created invitation `link` and for which conference (each `None` when unknown).
pub async fn inviter_of(
    tx: &mut Tx,
    link: i64,
) -> anyhow::Result<Option<(Option<i64>, Option<i64>)>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT created_by, conference_id FROM link_tokens WHERE id = $1")
            .bind(link)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}
