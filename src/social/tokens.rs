//! Watching what runs out on the networks' side before it stops posts: LinkedIn access tokens (renewed
//! with the refresh token, when LinkedIn gave one and the app is configured, from [`RENEW_DAYS`] before
//! their end), LinkedIn access and refresh tokens (organisers are told 14 and 3 days before each ends, and
//! when it has ended: a renewed token is no news) and the configured
//! `Linkedin-Version` (told when it has a month left, and when LinkedIn no longer takes it). Each notice
//! goes once to the organisers of every conference using the account. A revoked token is told by the
//! sender that meets the refusal ([`crate::delivery::social::CredentialsWatch`]) or, with no post going
//! out, within the hour by [`probe`].

use chrono::{DateTime, TimeDelta, Utc};
use herald_bots::linkedin::{Version, VersionStatus};
use serde_json::json;

use super::Settings;
use crate::{
    db::{Db, Tx, providers, system},
    delivery::{
        networks::{Credentials, LINKEDIN},
        organisers,
    },
    templates::Templates,
};

/// The days before an end at which organisers are told.
pub const WARN_DAYS: [i64; 2] = [14, 3];

/// How many days before its end an access token is renewed with the refresh token: before the first
/// notice would go out.
pub const RENEW_DAYS: i64 = 15;

/// Renews the access tokens of LinkedIn accounts that end within [`RENEW_DAYS`] and have a refresh token
/// (that has not ended), with the configured app; returns how many were renewed. The network call is made
/// outside any transaction; the new token is stored only if the account's refresh token is still the one
/// used (a reconnect meanwhile wins), so with the job held by one process (its lease) no two renewals
/// cross. A refusal is logged and leaves the token as it was: the notices then say it ends.
pub async fn renew(db: &Db, apps: &super::Apps, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let Some((client_id, client_secret)) = apps.linkedin.clone() else {
        return Ok(0);
    };
    let oauth_base = apps
        .linkedin_oauth
        .clone()
        .unwrap_or(herald_bots::linkedin::oauth::OAUTH_BASE.parse()?);
    let mut due = Vec::new();
    {
        let mut tx = db.begin().await?;
        for provider in providers::active_of_kind(&mut tx, LINKEDIN).await? {
            let stored = providers::credentials(&mut tx, provider.id).await?;
            if let Some(Credentials::LinkedIn {
                expires_at: Some(ends),
                refresh_token: Some(refresh),
                refresh_expires_at,
                ..
            }) = Credentials::read(&stored)
                && ends - now <= TimeDelta::days(RENEW_DAYS)
                && refresh_expires_at.is_none_or(|r| r > now)
            {
                due.push((provider, refresh));
            }
        }
        tx.commit().await?;
    }
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut renewed = 0;
    for (provider, refresh) in due {
        let tokens = match herald_bots::linkedin::oauth::refresh(
            &http,
            &oauth_base,
            &client_id,
            &client_secret,
            &refresh,
            now,
        )
        .await
        {
            Ok(tokens) => tokens,
            Err(err) => {
                tracing::warn!(provider = %provider.internal_name, error = %err, "could not renew the LinkedIn token");
                continue;
            }
        };
        let mut tx = db.begin().await?;
        let stored = providers::credentials(&mut tx, provider.id).await?;
        if let Some(Credentials::LinkedIn {
            organization,
            refresh_token: Some(current),
            refresh_expires_at,
            ..
        }) = Credentials::read(&stored)
            && current == refresh
        {
            let credentials = Credentials::LinkedIn {
                access_token: tokens.access_token,
                organization,
                expires_at: Some(tokens.expires_at),
                refresh_token: Some(tokens.refresh_token.unwrap_or(current)),
                refresh_expires_at: tokens.refresh_expires_at.or(refresh_expires_at),
            };
            providers::set_credentials(&mut tx, now, provider.id, &credentials.to_json()).await?;
            renewed += 1;
            tracing::info!(provider = %provider.internal_name, ends = %tokens.expires_at, "renewed the LinkedIn token");
        }
        tx.commit().await?;
    }
    Ok(renewed)
}

/// The threshold `at` has reached at `now`: 0 once it has passed, else the smallest of [`WARN_DAYS`] it is
/// within; `None` while it is further away.
pub fn threshold(at: DateTime<Utc>, now: DateTime<Utc>) -> Option<i64> {
    if at <= now {
        return Some(0);
    }
    WARN_DAYS
        .iter()
        .copied()
        .filter(|days| at - now <= TimeDelta::days(*days))
        .min()
}

/// Tells `provider`'s conferences' organisers `template` with `context`, once for `once` (a key in the
/// system state).
async fn tell_once(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    provider: i64,
    once: &str,
    template: &'static str,
    context: &serde_json::Value,
) -> anyhow::Result<bool> {
    let key = format!("told:{once}");
    if system::get_system(tx, &key).await?.is_some() {
        return Ok(false);
    }
    for conference in providers::conferences_using(tx, provider).await? {
        organisers::notify(tx, templates, now, conference, template, once, context).await?;
    }
    system::set_system(tx, now, &key, &now.to_rfc3339()).await?;
    Ok(true)
}

/// Asks LinkedIn about every page's token (reading the page, as `/provider test` does): a token the member
/// revoked (or LinkedIn expired early) is told to the organisers within the hour, not at the next post; a
/// token that works again clears an earlier refusal. Other failures (LinkedIn down) are left to the next
/// round. Returns how many were found refused.
pub async fn probe(
    db: &Db,
    templates: &Templates,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut accounts = Vec::new();
    {
        let mut tx = db.begin().await?;
        for provider in providers::active_of_kind(&mut tx, LINKEDIN).await? {
            let stored = providers::credentials(&mut tx, provider.id).await?;
            // A token past its end is told by the notices, not again as refused.
            match Credentials::read(&stored) {
                Some(Credentials::LinkedIn {
                    expires_at: Some(ends),
                    ..
                }) if ends <= now => {}
                Some(_) => accounts.push((provider, stored)),
                None => {}
            }
        }
        tx.commit().await?;
    }
    let mut refused = 0;
    for (provider, stored) in accounts {
        let answer = super::verify(&provider, &stored, settings).await;
        let mut tx = db.begin().await?;
        match answer {
            Ok(_) => providers::credentials_work(&mut tx, provider.id).await?,
            Err(err)
                if matches!(
                    err.downcast_ref::<herald_bots::linkedin::LinkedInError>(),
                    Some(herald_bots::linkedin::LinkedInError::TokenRefused { .. })
                ) =>
            {
                refused += 1;
                crate::delivery::social::credentials_refused(
                    &mut tx,
                    templates,
                    now,
                    provider.id,
                    &format!("{err:#} — connect the LinkedIn page again"),
                )
                .await?;
            }
            Err(err) => {
                tracing::info!(provider = %provider.internal_name, error = %format!("{err:#}"), "could not ask LinkedIn about the token");
            }
        }
        tx.commit().await?;
    }
    Ok(refused)
}

/// One look at every LinkedIn account: tokens renewed where they can be ([`renew`]) and asked about
/// ([`probe`]), then the notices of what still ends; returns how many notices were written.
pub async fn check(
    db: &Db,
    templates: &Templates,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    // Connections abandoned on the config page hold tokens: not kept past their time.
    system::forget_before(db, system::CONNECT_PENDING, now - TimeDelta::minutes(15)).await?;
    renew(db, &settings.apps, now).await?;
    probe(db, templates, settings, now).await?;
    let mut tx = db.begin().await?;
    let version = Version::parse(&settings.linkedin_version).ok();
    // What to tell, per account: (once-key, template, context).
    let mut notices = Vec::new();
    for provider in providers::active_of_kind(&mut tx, LINKEDIN).await? {
        let stored = providers::credentials(&mut tx, provider.id).await?;
        if let Some(Credentials::LinkedIn {
            expires_at,
            refresh_expires_at,
            ..
        }) = Credentials::read(&stored)
        {
            for (which, at) in [("token", expires_at), ("refresh", refresh_expires_at)] {
                let Some((at, days)) = at.and_then(|at| Some((at, threshold(at, now)?))) else {
                    continue;
                };
                let once = format!(
                    "token-expiry:{}:{which}:{}:{days}",
                    provider.id,
                    at.timestamp()
                );
                let context = json!({
                    "provider": provider.internal_name, "network": provider.kind,
                    "refresh": which == "refresh", "at": at.to_rfc3339(),
                    "days": (at - now).num_days().max(0), "ended": days == 0,
                });
                notices.push((provider.id, once, "notify_token_expiring", context));
            }
        }
        let Some(version) = version else { continue };
        let (until, ended) = match version.status(now.date_naive()) {
            VersionStatus::Supported { .. } => continue,
            VersionStatus::EndingSoon { until } => (until, false),
            VersionStatus::Sunset { since } => (since, true),
        };
        let once = format!("linkedin-version:{}:{version}:{ended}", provider.id);
        let context = json!({
            "provider": provider.internal_name, "linkedin_version": version.to_string(),
            "until": until.to_string(), "ended": ended,
        });
        notices.push((provider.id, once, "notify_linkedin_version", context));
    }
    let mut told = 0;
    for (provider, once, template, context) in &notices {
        told += usize::from(
            tell_once(&mut tx, templates, now, *provider, once, template, context).await?,
        );
    }
    tx.commit().await?;
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thresholds_are_14_and_3_days_and_the_end() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let at = |days: i64, hours: i64| now + TimeDelta::days(days) + TimeDelta::hours(hours);
        assert_eq!(threshold(at(20, 0), now), None);
        assert_eq!(threshold(at(14, 1), now), None);
        assert_eq!(threshold(at(14, 0), now), Some(14));
        assert_eq!(threshold(at(4, 0), now), Some(14));
        assert_eq!(threshold(at(3, 0), now), Some(3));
        assert_eq!(threshold(at(0, 1), now), Some(3));
        assert_eq!(threshold(now, now), Some(0));
        assert_eq!(threshold(at(-2, 0), now), Some(0));
    }
}
