//! Queries for people, their platform accounts and their roles. All run inside the caller's
//! transaction.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Person {
    pub id: i64,
    pub display_name: String,
    pub username: Option<String>,
    pub platform_user_id: String,
    /// The language they read Herald in (`None`: English).
    pub language: Option<String>,
    /// This account was marked unreachable (the person blocked the bot).
    pub unreachable: bool,
}

/// A person's display name.
pub async fn person_name(tx: &mut Tx, person: i64) -> anyhow::Result<Option<String>> {
    let name = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT display_name FROM people WHERE id = $1")
            .bind(person)
            .fetch_optional(conn)
            .await
    })?;
    Ok(name)
}

/// The person behind a platform account, created on first contact; the username and display name are
/// refreshed, since people change them.
pub async fn person_for_account(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    user_id: &str,
    username: Option<&str>,
    display_name: &str,
    language: Option<&str>,
) -> anyhow::Result<i64> {
    let existing: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT person_id FROM person_accounts WHERE platform = $1 AND platform_user_id = $2",
        )
        .bind(platform)
        .bind(user_id)
        .fetch_optional(conn)
        .await
    })?;
    if let Some(id) = existing {
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE person_accounts SET username = $1 WHERE platform = $2 AND platform_user_id = $3")
                .bind(username)
                .bind(platform)
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE people SET display_name = $1 WHERE id = $2")
                .bind(display_name)
                .bind(id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        return Ok(id);
    }
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO people (display_name, created_at, language) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(display_name)
        .bind(now)
        .bind(language)
        .fetch_one(conn)
        .await
    })?;
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO person_accounts (person_id, platform, platform_user_id, username, linked_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(platform)
        .bind(user_id)
        .bind(username)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(id)
}

macro_rules! person_select {
    () => {
        "SELECT p.id, p.display_name, a.username, a.platform_user_id, p.language, \
         a.unreachable_at IS NOT NULL AS unreachable FROM people p \
         JOIN person_accounts a ON a.person_id = p.id AND a.platform = $1 "
    };
}

/// People whose account currently has `username` (normally one; more only if stale rows linger).
pub async fn people_by_username(
    tx: &mut Tx,
    platform: &str,
    username: &str,
) -> anyhow::Result<Vec<Person>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            person_select!(),
            "WHERE LOWER(a.username) = LOWER($2) ORDER BY p.id"
        ))
        .bind(platform)
        .bind(username)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// People whose account on another platform than `platform` has `username` (a Mastodon `acct` named
/// from Telegram).
pub async fn people_by_username_elsewhere(
    tx: &mut Tx,
    platform: &str,
    username: &str,
) -> anyhow::Result<Vec<Person>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id, p.display_name, a.username, a.platform_user_id, p.language, \
             a.unreachable_at IS NOT NULL AS unreachable FROM people p \
             JOIN person_accounts a ON a.person_id = p.id AND a.platform <> $1 \
             WHERE LOWER(a.username) = LOWER($2) ORDER BY p.id",
        )
        .bind(platform)
        .bind(username)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Keeps an account's username and name current. A platform username belongs to one account at a time,
/// so another account still holding it (its owner renamed since) lets go of it.
pub async fn refresh_account(
    tx: &mut Tx,
    platform: &str,
    user_id: &str,
    username: Option<&str>,
    display_name: &str,
    language: Option<&str>,
) -> anyhow::Result<Option<Person>> {
    let Some(mut current) = person_by_user_id(tx, platform, user_id).await? else {
        return Ok(None);
    };
    if current.language.is_none()
        && let Some(language) = language
    {
        set_language(tx, current.id, Some(language)).await?;
        current.language = Some(language.to_owned());
    }
    if current.username.as_deref() == username && current.display_name == display_name {
        return Ok(Some(current));
    }
    if let Some(name) = username {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE person_accounts SET username = NULL WHERE platform = $1 AND LOWER(username) = LOWER($2) \
                 AND platform_user_id <> $3",
            )
            .bind(platform)
            .bind(name)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE person_accounts SET username = $1 WHERE platform = $2 AND platform_user_id = $3")
            .bind(username)
            .bind(platform)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE people SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(current.id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    current.username = username.map(str::to_owned);
    current.display_name = display_name.to_owned();
    Ok(Some(current))
}

/// Sets the language `person` reads Herald in (`None`: English).
pub async fn set_language(tx: &mut Tx, person: i64, language: Option<&str>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE people SET language = $1 WHERE id = $2")
            .bind(language)
            .bind(person)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The language `person` reads Herald in, if they have one.
pub async fn language(tx: &mut Tx, person: i64) -> anyhow::Result<Option<String>> {
    let language: Option<Option<String>> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT language FROM people WHERE id = $1")
            .bind(person)
            .fetch_optional(conn)
            .await
    })?;
    Ok(language.flatten())
}

pub async fn person_by_user_id(
    tx: &mut Tx,
    platform: &str,
    user_id: &str,
) -> anyhow::Result<Option<Person>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(person_select!(), "WHERE a.platform_user_id = $2"))
            .bind(platform)
            .bind(user_id)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

pub async fn owner_exists(tx: &mut Tx) -> anyhow::Result<bool> {
    let n: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE role = 'owner'")
            .fetch_one(conn)
            .await
    })?;
    Ok(n > 0)
}

/// The roles a person holds: `owner` (no conference) and those for `conference`.
pub async fn roles_of(
    tx: &mut Tx,
    person: i64,
    conference: Option<i64>,
) -> anyhow::Result<Vec<String>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT role FROM roles WHERE person_id = $1 AND (conference_id IS NULL OR conference_id = $2)",
        )
        .bind(person)
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Grants a role; `false` if the person already had it.
pub async fn grant(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: Option<i64>,
    role: &str,
    by: Option<i64>,
) -> anyhow::Result<bool> {
    let exists: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM roles WHERE person_id = $1 AND role = $2 AND \
             ((conference_id IS NULL AND $3 IS NULL) OR conference_id = $3)",
        )
        .bind(person)
        .bind(role)
        .bind(conference)
        .fetch_one(conn)
        .await
    })?;
    if exists > 0 {
        return Ok(false);
    }
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO roles (person_id, conference_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(person)
        .bind(conference)
        .bind(role)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(true)
}

/// Revokes a role; `false` if the person did not have it.
pub async fn revoke(tx: &mut Tx, person: i64, conference: i64, role: &str) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM roles WHERE person_id = $1 AND conference_id = $2 AND role = $3")
            .bind(person)
            .bind(conference)
            .bind(role)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RoleHolder {
    pub person_id: i64,
    pub display_name: String,
    pub username: Option<String>,
    pub role: String,
}

/// Owners and the conference's admins, for `/admins`.
pub async fn admins(
    tx: &mut Tx,
    platform: &str,
    conference: i64,
) -> anyhow::Result<Vec<RoleHolder>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id AS person_id, p.display_name, a.username, r.role FROM roles r \
             JOIN people p ON p.id = r.person_id \
             LEFT JOIN person_accounts a ON a.person_id = p.id AND a.platform = $1 \
             WHERE r.role = 'owner' OR (r.role = 'admin' AND r.conference_id = $2) \
             ORDER BY r.role DESC, p.display_name",
        )
        .bind(platform)
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Platform user ids of owners and admins, for their command menus.
pub async fn staff_user_ids(tx: &mut Tx, platform: &str) -> anyhow::Result<Vec<String>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT DISTINCT a.platform_user_id FROM roles r JOIN person_accounts a ON a.person_id = r.person_id \
             AND a.platform = $1 WHERE r.role IN ('owner', 'admin') ORDER BY a.platform_user_id",
        )
        .bind(platform)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}
