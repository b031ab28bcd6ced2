//! X's answers classified: what failed, and whether and when to try again.
//!
//! X API v2 errors are RFC 7807 problems (`{"title", "detail", "type": "https://api.twitter.com/2/problems/…"}`,
//! sometimes with `errors: [{"message"}]`); the older v1.1 shape is `{"errors": [{"code", "message"}]}` and the
//! OAuth 2.0 token endpoint answers `{"error", "error_description"}`. All three are read for the message.
//!
//! Rate limits (X docs "Rate limits"): a 429 carries `x-rate-limit-reset`, the end of the window in epoch
//! seconds, and no `Retry-After`. Posting also has 24-hour caps per user and per app, told by
//! `x-user-limit-24hour-remaining` / `-reset` and `x-app-limit-24hour-…`: when one of those is spent, its
//! reset is the one that counts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::Disposition;

/// The wait when a 429 says nothing usable.
const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(60);

/// Why an account cannot be used at all until a person acts: told to the organisers, never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountProblem {
    /// HTTP 402: the app's pay-per-use credits are spent (X "Usage and billing"); topping up fixes it.
    CreditsExhausted,
    /// The account is suspended.
    Suspended,
    /// The account is temporarily locked (X asks its owner to log in and pass a check).
    Locked,
    /// The app or token lacks the permission (read-only app, OAuth 1.0a app permissions, access level).
    NotPermitted,
}

impl AccountProblem {
    /// A short English description, for logs and the organisers' notice context.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CreditsExhausted => "the X app's API credits are exhausted",
            Self::Suspended => "the X account is suspended",
            Self::Locked => "the X account is locked",
            Self::NotPermitted => "the X app or token is not permitted to do this",
        }
    }
}

/// A failed X call, classified.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum XError {
    /// HTTP 429: nothing more until `until`.
    #[error("rate limited by X until {until} (wait {wait:?})")]
    RateLimited {
        until: DateTime<Utc>,
        wait: Duration,
    },
    /// HTTP 401, or a refused OAuth 2.0 grant: the token is invalid, expired or revoked. With OAuth 2.0,
    /// refresh once and try again; otherwise nothing works until the account is connected anew.
    #[error("X refused the credentials ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// The account cannot be used: 402 or a 403 that says why. Give up and tell the organisers.
    #[error("{}: {message}", problem.describe())]
    Account {
        problem: AccountProblem,
        message: String,
    },
    /// HTTP 403 "You are not allowed to create a Tweet with duplicate content": the same text went out
    /// recently on this account.
    #[error("X refused a duplicate post: {message}")]
    Duplicate { message: String },
    /// HTTP 404, or a 200 whose `errors` say the resource does not exist (a deleted post, an unknown user).
    #[error("not found on X: {message}")]
    NotFound { message: String },
    /// Any other 4xx: the request itself is wrong (a reply to a post one may not reply to, a bad parameter).
    #[error("X refused the request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    /// A create whose answer was lost (timeout, broken connection, 5xx): the post may or may not exist.
    /// X has no idempotency key, so sending again risks a duplicate: look for it on the account first
    /// ([`super::XClient::find_sent_post`]) and ask a person if it cannot be told.
    #[error("X may or may not have done it ({cause}): look before sending again")]
    UnknownOutcome { cause: String },
    #[error("X server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("request to X timed out")]
    Timeout,
    /// No connection was made: the request never left.
    #[error("could not connect to X: {0}")]
    Connect(String),
    #[error("network error talking to X: {0}")]
    Network(String),
    #[error("unreadable answer from X: {0}")]
    InvalidResponse(String),
    #[error("the post weighs {weight}, more than X's {max}", max = super::text::MAX_WEIGHT)]
    TooLong { weight: usize },
    #[error("{count} images attached, more than X's {max}", max = super::MAX_IMAGES)]
    TooManyImages { count: usize },
    #[error("image is {bytes} bytes, more than X's {max}", max = super::MAX_IMAGE_BYTES)]
    ImageTooLarge { bytes: usize },
    /// X finished processing the media with `failed`.
    #[error("X could not process the media: {message}")]
    MediaFailed { message: String },
    /// The media was still processing when we stopped waiting.
    #[error("X was still processing the media after {waited:?}")]
    MediaStillProcessing { waited: Duration },
}

impl XError {
    /// Whether and when to retry.
    ///
    /// [`Self::UnknownOutcome`] maps to [`Disposition::Permanent`]: it must never be retried blindly. The
    /// caller that knows better ([`Self::is_unknown_outcome`]) looks the post up and resends only when it
    /// is certainly not there.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::RateLimited { wait, .. } => Disposition::RetryAfter(*wait),
            Self::Unauthorized { .. } => Disposition::Refused,
            Self::Server { .. }
            | Self::Timeout
            | Self::Connect(_)
            | Self::Network(_)
            | Self::InvalidResponse(_)
            | Self::MediaStillProcessing { .. } => Disposition::Transient,
            Self::Account { .. }
            | Self::Duplicate { .. }
            | Self::NotFound { .. }
            | Self::BadRequest { .. }
            | Self::UnknownOutcome { .. }
            | Self::TooLong { .. }
            | Self::TooManyImages { .. }
            | Self::ImageTooLarge { .. }
            | Self::MediaFailed { .. } => Disposition::Permanent,
        }
    }

    /// A create that may have happened: see [`Self::UnknownOutcome`].
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(self, Self::UnknownOutcome { .. })
    }

    /// The account problem to tell organisers about, if that is what this is.
    pub fn account_problem(&self) -> Option<AccountProblem> {
        match self {
            Self::Account { problem, .. } => Some(*problem),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connect(without_url(err))
        } else {
            Self::Network(without_url(err))
        }
    }

    /// What this error means for a create (a post, a DM): once the request may have reached X, a lost
    /// answer is an unknown outcome, not a transient failure.
    pub(crate) fn for_create(self) -> Self {
        match self {
            Self::Timeout => Self::UnknownOutcome {
                cause: "timed out".into(),
            },
            Self::Network(cause) | Self::InvalidResponse(cause) => Self::UnknownOutcome { cause },
            Self::Server { status, message } => Self::UnknownOutcome {
                cause: format!("HTTP {status}: {message}"),
            },
            other => other,
        }
    }
}

fn without_url(err: &reqwest::Error) -> String {
    // Query strings may carry ids and tokens; keep URLs out of messages like the other drivers do.
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "[url]");
    }
    text
}

/// The message of an error body in any of X's shapes, or its first 200 characters.
pub(crate) fn error_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(200).collect();
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let first_error = value
        .pointer("/errors/0/message")
        .or_else(|| value.pointer("/errors/0/detail"))
        .and_then(text);
    let detail = value.get("detail").and_then(text);
    let parts: Vec<String> = [
        value.get("title").and_then(text),
        detail.clone(),
        first_error.filter(|e| Some(e) != detail.as_ref()),
        value.get("error").and_then(text),
        value.get("error_description").and_then(text),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        body.chars().take(200).collect()
    } else {
        parts.join(": ")
    }
}

/// How long a 429 asks to wait, and until when.
pub(crate) fn rate_limit_until(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let spent_daily = ["x-user-limit-24hour", "x-app-limit-24hour"]
        .iter()
        .filter(|prefix| header(&format!("{prefix}-remaining")) == Some(0))
        .filter_map(|prefix| header(&format!("{prefix}-reset")))
        .max();
    spent_daily
        .or_else(|| header("x-rate-limit-reset"))
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .filter(|until| *until > now)
        .unwrap_or_else(|| now + DEFAULT_RATE_WAIT)
}

/// A response's status, headers and body.
pub(crate) async fn read(response: reqwest::Response) -> Result<(u16, HeaderMap, String), XError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| XError::from_reqwest(&e))?;
    Ok((status, headers, body))
}

/// Turns a status, headers and body into the body's JSON or a classified error.
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Value, XError> {
    if (200..300).contains(&status) {
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(body)
            .map_err(|e| XError::InvalidResponse(format!("HTTP {status}: {e}")));
    }
    let message = error_message(body);
    let lower = message.to_lowercase();
    let problem_type = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let account = |problem| XError::Account {
        problem,
        message: message.clone(),
    };
    Err(match status {
        429 => {
            let until = rate_limit_until(headers, now);
            XError::RateLimited {
                until,
                wait: (until - now)
                    .to_std()
                    .unwrap_or(DEFAULT_RATE_WAIT)
                    .max(Duration::from_secs(1)),
            }
        }
        401 => XError::Unauthorized { status, message },
        402 => account(AccountProblem::CreditsExhausted),
        403 if lower.contains("duplicate") => XError::Duplicate { message },
        403 if lower.contains("suspended") => account(AccountProblem::Suspended),
        403 if lower.contains("locked") => account(AccountProblem::Locked),
        403 if [
            "client-forbidden",
            "oauth1-permissions",
            "unsupported-authentication",
        ]
        .iter()
        .any(|t| problem_type.ends_with(t)) =>
        {
            account(AccountProblem::NotPermitted)
        }
        404 | 410 => XError::NotFound { message },
        408 => XError::Timeout,
        s if s >= 500 => XError::Server { status, message },
        _ => XError::BadRequest { status, message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("time")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header"));
        }
        map
    }

    #[test]
    fn a_429_waits_until_the_window_resets_or_a_spent_daily_cap_does() {
        let now = at(1_700_000_000);
        let window = headers(&[("x-rate-limit-reset", "1700000090")]);
        let err = classify(429, &window, "{}", now).unwrap_err();
        assert_eq!(
            err,
            XError::RateLimited {
                until: at(1_700_000_090),
                wait: Duration::from_secs(90)
            }
        );
        assert_eq!(
            err.disposition(),
            Disposition::RetryAfter(Duration::from_secs(90))
        );
        let daily = headers(&[
            ("x-rate-limit-reset", "1700000090"),
            ("x-user-limit-24hour-remaining", "0"),
            ("x-user-limit-24hour-reset", "1700050000"),
            ("x-app-limit-24hour-remaining", "12"),
            ("x-app-limit-24hour-reset", "1700060000"),
        ]);
        assert_eq!(rate_limit_until(&daily, now), at(1_700_050_000));
        assert_eq!(
            rate_limit_until(&HeaderMap::new(), now),
            now + DEFAULT_RATE_WAIT
        );
        // A reset already past (clock skew) still waits a little, never zero.
        let past = headers(&[("x-rate-limit-reset", "1699999990")]);
        assert_eq!(rate_limit_until(&past, now), now + DEFAULT_RATE_WAIT);
    }

    #[test]
    fn account_problems_and_duplicates_are_told_apart() {
        let now = at(0);
        let none = HeaderMap::new();
        let duplicate = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
        let err = classify(403, &none, duplicate, now).unwrap_err();
        assert!(matches!(err, XError::Duplicate { .. }), "{err:?}");
        assert_eq!(err.disposition(), Disposition::Permanent);

        let credits = r#"{"title":"CreditsDepleted","detail":"Your enrolled account does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}"#;
        let err = classify(402, &none, credits, now).unwrap_err();
        assert_eq!(
            err.account_problem(),
            Some(AccountProblem::CreditsExhausted)
        );
        assert!(err.to_string().contains("credits"), "{err}");

        let suspended = r#"{"errors":[{"code":64,"message":"Your account is suspended and is not permitted to access this feature."}]}"#;
        let err = classify(403, &none, suspended, now).unwrap_err();
        assert_eq!(err.account_problem(), Some(AccountProblem::Suspended));

        let permissions = r#"{"title":"Forbidden","detail":"Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.","type":"https://api.twitter.com/2/problems/oauth1-permissions","status":403}"#;
        let err = classify(403, &none, permissions, now).unwrap_err();
        assert_eq!(err.account_problem(), Some(AccountProblem::NotPermitted));

        let reply = r#"{"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank","title":"Forbidden","status":403}"#;
        let err = classify(403, &none, reply, now).unwrap_err();
        assert!(
            matches!(err, XError::BadRequest { status: 403, .. }),
            "{err:?}"
        );

        let unauthorized =
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;
        let err = classify(401, &none, unauthorized, now).unwrap_err();
        assert_eq!(err.disposition(), Disposition::Refused);
    }

    #[test]
    fn a_lost_answer_to_a_create_is_an_unknown_outcome_but_a_refused_connection_is_not() {
        let server = classify(503, &HeaderMap::new(), "Service Unavailable", at(0)).unwrap_err();
        assert_eq!(server.disposition(), Disposition::Transient);
        let create = server.for_create();
        assert!(create.is_unknown_outcome(), "{create:?}");
        assert_eq!(create.disposition(), Disposition::Permanent);
        assert!(XError::Timeout.for_create().is_unknown_outcome());
        let connect = XError::Connect("refused".into()).for_create();
        assert_eq!(connect.disposition(), Disposition::Transient);
        let limited = XError::RateLimited {
            until: at(5),
            wait: Duration::from_secs(5),
        };
        assert_eq!(limited.clone().for_create(), limited);
    }
}
