//! LinkedIn driver: posting to an organisation page with the versioned Posts and Images APIs.
//!
//! (LinkedIn "Posts API", "Images API", "LinkedIn Marketing API Versioning", "Rate limits".) Every request
//! carries `Authorization: Bearer`, `Linkedin-Version: YYYYMM` (from configuration) and
//! `X-Restli-Protocol-Version: 2.0.0`. A post is `POST /rest/posts` as `urn:li:organization:…`; LinkedIn answers
//! 201 with the new post's URN in the `x-restli-id` header and no body. A picture is first registered
//! (`POST /rest/images?action=initializeUpload`), its bytes `PUT` to the upload URL given, and then polled
//! (`GET /rest/images/{urn}`) until `AVAILABLE`.
//!
//! The post's `commentary` is "little text": `| { } @ [ ] ( ) < > # \ * _ ~` are markup and must be escaped
//! with a backslash, else LinkedIn drops or misreads the text around them ([`escape_little_text`]).
//!
//! Each version lives twelve months; a retired one is answered 426 ([`LinkedInError::VersionSunset`]);
//! [`Version::status`] warns a month before. Daily quotas answer 429, mostly without headers, and reset at
//! midnight UTC. LinkedIn has no idempotency key either: a lost answer to a create is
//! [`LinkedInError::UnknownOutcome`].
//!
//! The member's token comes from the three-legged OAuth 2.0 flow ([`oauth`]); the pages it may post as
//! from [`LinkedInClient::administered_organizations`].

use std::{fmt, time::Duration};

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};
use reqwest::{Method, Url, header::HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Disposition;
pub use crate::bluesky::Image;

pub mod oauth;

/// LinkedIn's API host.
pub const API_BASE: &str = "https://api.linkedin.com/";
/// The characters "little text" reserves (Posts API, "Little Text Format").
const RESERVED: &[char] = &[
    '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '\\', '*', '_', '~',
];
/// The longest `commentary` a post takes (Posts API).
pub const MAX_COMMENTARY_CHARS: usize = 3000;
/// How many times an image is polled before giving up (transiently).
const MAX_POLLS: u32 = 60;
/// Access control entries asked for per page.
const ACL_PAGE: u32 = 100;
/// At most this many pages of them are read.
const MAX_ACL_PAGES: u32 = 5;

/// Escapes plain text for a post's `commentary`: each reserved character gets a backslash.
pub fn escape_little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A text's length as the commentary limit counts it (before escaping).
pub fn text_len(text: &str) -> usize {
    text.chars().count()
}

/// An organisation's URN from its numeric id or its URN; `None` when it is neither.
pub fn organization_urn(id_or_urn: &str) -> Option<String> {
    let id = id_or_urn.trim();
    let id = id.strip_prefix("urn:li:organization:").unwrap_or(id);
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("urn:li:organization:{id}"))
}

/// An organisation page (`GET /rest/organizations/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub localized_name: String,
    #[serde(default)]
    pub vanity_name: Option<String>,
}

/// A page the member administers: its URN, from the access control list, and what LinkedIn says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdministeredOrganization {
    /// `urn:li:organization:…`, the author of the page's posts.
    pub urn: String,
    pub organization: Organization,
}

/// A `Linkedin-Version` (`YYYYMM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    year: i32,
    month: u32,
}

/// Where a version stands in its twelve months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionStatus {
    Supported {
        until: NaiveDate,
    },
    /// Less than a month left: time to move to a newer version.
    EndingSoon {
        until: NaiveDate,
    },
    /// Past its twelve months: LinkedIn answers 426.
    Sunset {
        since: NaiveDate,
    },
}

impl Version {
    /// Reads `YYYYMM`.
    pub fn parse(text: &str) -> Result<Self, LinkedInError> {
        let invalid = || LinkedInError::InvalidVersion(text.to_owned());
        let text = text.trim();
        if text.len() != 6 || !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        let year = text[..4].parse().map_err(|_| invalid())?;
        let month = text[4..].parse().map_err(|_| invalid())?;
        if !(1..=12).contains(&month) {
            return Err(invalid());
        }
        Ok(Self { year, month })
    }

    /// The first day it is no longer supported: twelve months after its month began.
    pub fn end_of_support(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|start| start.checked_add_months(Months::new(12)))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether it is supported on `today`, and whether it ends within a month.
    pub fn status(self, today: NaiveDate) -> VersionStatus {
        let until = self.end_of_support();
        if today >= until {
            VersionStatus::Sunset { since: until }
        } else if until
            .checked_sub_months(Months::new(1))
            .is_some_and(|warn| today >= warn)
        {
            VersionStatus::EndingSoon { until }
        } else {
            VersionStatus::Supported { until }
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, self.month)
    }
}

/// Why the access token was refused (`serviceErrorCode` of a 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// 65600: invalid (revoked by LinkedIn, or malformed).
    Invalid,
    /// 65601: revoked by the member.
    Revoked,
    /// 65602: expired (access tokens live 60 days; refresh tokens a year).
    Expired,
}

/// A failed LinkedIn call, classified.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LinkedInError {
    #[error("\"{0}\" is not a Linkedin-Version: write it as YYYYMM, e.g. 202505")]
    InvalidVersion(String),
    /// 426: the version configured is no longer served.
    #[error(
        "LinkedIn version {version} is sunset: set a newer Linkedin-Version (YYYYMM, at most 12 months old)"
    )]
    VersionSunset { version: String },
    /// 429: a daily quota is spent; it resets at midnight UTC.
    #[error("rate limited by LinkedIn until {until}")]
    RateLimited {
        until: DateTime<Utc>,
        wait: Duration,
    },
    /// 401 with a `serviceErrorCode` naming the token: the page must be connected anew.
    #[error("LinkedIn refused the access token ({problem:?}, {code}): {message}")]
    TokenRefused {
        problem: TokenProblem,
        code: u32,
        message: String,
    },
    /// Any other 401.
    #[error("LinkedIn refused the credentials: {0}")]
    Unauthorized(String),
    /// The OAuth token endpoint refused a code or refresh token (`{"error", "error_description"}`): spent,
    /// expired, revoked, or a client id, secret or redirect URI that does not match. The member must connect
    /// the page anew.
    #[error("LinkedIn refused the authorization ({error}): {description}")]
    GrantRefused { error: String, description: String },
    /// 403: the member may not do this (not an administrator of the page, a missing scope).
    #[error("LinkedIn forbids this: {0}")]
    Forbidden(String),
    /// 422 with `DUPLICATE_POST`: the same text went out recently.
    #[error("LinkedIn refused a duplicate post: {0}")]
    Duplicate(String),
    #[error("LinkedIn refused the request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    /// A create whose answer was lost: the post may exist. Look before posting again.
    #[error("LinkedIn may or may not have done it ({0}): look before sending again")]
    UnknownOutcome(String),
    #[error("LinkedIn server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("request to LinkedIn timed out")]
    Timeout,
    #[error("network error talking to LinkedIn: {0}")]
    Network(String),
    #[error("unreadable answer from LinkedIn: {0}")]
    InvalidResponse(String),
    #[error("LinkedIn could not process the image ({0})")]
    ImageFailed(String),
    #[error("LinkedIn was still processing the image after {0} checks")]
    ImageStillProcessing(u32),
}

impl LinkedInError {
    /// Whether and when to retry. An unknown outcome is never retried blindly (see [`Self::UnknownOutcome`]).
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::RateLimited { wait, .. } => Disposition::RetryAfter(*wait),
            Self::Unauthorized(_) | Self::GrantRefused { .. } => Disposition::Refused,
            Self::Server { .. }
            | Self::Timeout
            | Self::Network(_)
            | Self::InvalidResponse(_)
            | Self::ImageStillProcessing(_) => Disposition::Transient,
            Self::InvalidVersion(_)
            | Self::VersionSunset { .. }
            | Self::TokenRefused { .. }
            | Self::Forbidden(_)
            | Self::Duplicate(_)
            | Self::BadRequest { .. }
            | Self::UnknownOutcome(_)
            | Self::ImageFailed(_) => Disposition::Permanent,
        }
    }

    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            // Upload URLs carry signatures; keep URLs out of messages.
            Self::Network(err.without_url().to_string())
        }
    }

    /// Once a create may have reached LinkedIn, a lost answer is an unknown outcome.
    fn for_create(self) -> Self {
        match self {
            Self::Timeout => Self::UnknownOutcome("timed out".into()),
            Self::Network(cause) | Self::InvalidResponse(cause) => Self::UnknownOutcome(cause),
            Self::Server { status, message } => {
                Self::UnknownOutcome(format!("HTTP {status}: {message}"))
            }
            other => other,
        }
    }
}

/// The next midnight UTC after `now`.
fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + TimeDelta::days(1))
        .and_hms_opt(0, 0, 0)
        .map_or(now + TimeDelta::days(1), |t| t.and_utc())
}

/// Turns a status, headers and body into a result, classifying errors.
fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    version: Version,
    now: DateTime<Utc>,
) -> Result<Value, LinkedInError> {
    if (200..300).contains(&status) {
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(body)
            .map_err(|e| LinkedInError::InvalidResponse(format!("HTTP {status}: {e}")));
    }
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = parsed
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| body.chars().take(200).collect(), str::to_owned);
    let service_code = parsed
        .get("serviceErrorCode")
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok());
    Err(match status {
        426 => LinkedInError::VersionSunset {
            version: version.to_string(),
        },
        429 => rate_limited(headers, now),
        401 => match service_code {
            Some(code @ 65600) => token_refused(TokenProblem::Invalid, code, message),
            Some(code @ 65601) => token_refused(TokenProblem::Revoked, code, message),
            Some(code @ 65602) => token_refused(TokenProblem::Expired, code, message),
            _ => LinkedInError::Unauthorized(message),
        },
        403 => LinkedInError::Forbidden(message),
        422 if body.contains("DUPLICATE_POST") || message.to_lowercase().contains("duplicate") => {
            LinkedInError::Duplicate(message)
        }
        408 | 504 => LinkedInError::Timeout,
        s if s >= 500 => LinkedInError::Server { status, message },
        _ => LinkedInError::BadRequest { status, message },
    })
}

/// A 429: until `Retry-After` when given, else the next midnight UTC, when daily quotas reset.
fn rate_limited(headers: &HeaderMap, now: DateTime<Utc>) -> LinkedInError {
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let until = retry_after.map_or_else(
        || next_utc_midnight(now),
        |secs| now + TimeDelta::seconds(secs),
    );
    LinkedInError::RateLimited {
        until,
        wait: (until - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_secs(1)),
    }
}

fn token_refused(problem: TokenProblem, code: u32, message: String) -> LinkedInError {
    LinkedInError::TokenRefused {
        problem,
        code,
        message,
    }
}

/// A post to an organisation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    /// `urn:li:organization:…`.
    pub author: String,
    /// Plain text; escaped here.
    pub text: String,
    /// An uploaded image (`urn:li:image:…`, from [`LinkedInClient::upload_image`]) and its alt text.
    pub image: Option<(String, String)>,
}

/// An image's processing state (`GET /rest/images/{urn}` `status`).
#[derive(Debug, Deserialize)]
struct ImageState {
    status: String,
}

/// One LinkedIn member's token, posting with one API version.
#[derive(Clone)]
pub struct LinkedInClient {
    http: reqwest::Client,
    base: Url,
    token: String,
    version: Version,
    poll_interval: Duration,
}

impl fmt::Debug for LinkedInClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedInClient")
            .field("base", &self.base.as_str())
            .field("token", &"[redacted]")
            .field("version", &self.version.to_string())
            .finish()
    }
}

impl LinkedInClient {
    pub fn new(
        base: Url,
        token: impl Into<String>,
        version: Version,
        http: reqwest::Client,
    ) -> Self {
        Self {
            http,
            base,
            token: token.into(),
            version,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// How long to wait between two looks at an image being processed (a second by default).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Linkedin-Version", self.version.to_string())
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    fn url(&self, path: &str) -> Result<Url, LinkedInError> {
        self.base
            .join(path)
            .map_err(|e| LinkedInError::InvalidResponse(format!("bad base URL: {e}")))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(HeaderMap, Value), LinkedInError> {
        let response = request.send().await.map_err(LinkedInError::from_reqwest)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(LinkedInError::from_reqwest)?;
        let value = classify(status, &headers, &body, self.version, Utc::now())?;
        Ok((headers, value))
    }

    /// `POST /rest/posts`: publishes to the page's feed; returns the post's URN (`urn:li:share:…` or
    /// `urn:li:ugcPost:…`). A lost answer is [`LinkedInError::UnknownOutcome`].
    #[tracing::instrument(skip_all, fields(image = post.image.is_some()))]
    pub async fn create_post(&self, post: &NewPost) -> Result<String, LinkedInError> {
        let mut body = json!({
            "author": post.author,
            "commentary": escape_little_text(&post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        if let Some((urn, alt)) = &post.image {
            body["content"] = json!({ "media": { "id": urn, "altText": alt } });
        }
        let request = self
            .request(Method::POST, self.url("rest/posts")?)
            .json(&body);
        let (headers, _) = self
            .send(request)
            .await
            .map_err(LinkedInError::for_create)?;
        headers
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| LinkedInError::UnknownOutcome("no x-restli-id in the answer".into()))
    }

    /// Looks for a post whose create answer was lost: the page's newest posts (`GET /rest/posts?q=author`,
    /// the Posts API's finder by author), one with `text` as its commentary made since `attempted_at` (less a
    /// minute of clock skew); its URN when found. `Err`: it cannot be told.
    #[tracing::instrument(skip_all)]
    pub async fn find_sent_post(
        &self,
        author: &str,
        text: &str,
        attempted_at: DateTime<Utc>,
    ) -> Result<Option<String>, LinkedInError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Found {
            id: String,
            #[serde(default)]
            commentary: String,
            #[serde(default)]
            created_at: Option<i64>,
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            elements: Vec<Found>,
        }
        let since = (attempted_at - chrono::TimeDelta::minutes(1)).timestamp_millis();
        let mut url = self.url("rest/posts")?;
        url.query_pairs_mut()
            .append_pair("author", author)
            .append_pair("q", "author")
            .append_pair("count", "20")
            .append_pair("sortBy", "CREATED");
        let request = self
            .request(Method::GET, url)
            .header("X-RestLi-Method", "FINDER");
        let (_, value) = self.send(request).await?;
        let page: Page = serde_json::from_value(value)
            .map_err(|e| LinkedInError::InvalidResponse(format!("posts: {e}")))?;
        let same = |stored: &str| {
            let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
            words(stored) == words(&escape_little_text(text)) || words(stored) == words(text)
        };
        Ok(page
            .elements
            .into_iter()
            .find(|p| p.created_at.is_none_or(|at| at >= since) && same(&p.commentary))
            .map(|p| p.id))
    }

    /// `GET /rest/organizations/{id}`: the page `organization` (an id or URN) names — the credential
    /// check (the token, the version, and access to the page).
    #[tracing::instrument(skip_all)]
    pub async fn organization(&self, organization: &str) -> Result<Organization, LinkedInError> {
        let urn = organization_urn(organization).ok_or_else(|| LinkedInError::BadRequest {
            status: 400,
            message: format!("{organization:?} is not an organisation id or URN"),
        })?;
        let id = urn.trim_start_matches("urn:li:organization:");
        let (_, value) = self
            .send(self.request(Method::GET, self.url(&format!("rest/organizations/{id}"))?))
            .await?;
        serde_json::from_value(value)
            .map_err(|e| LinkedInError::InvalidResponse(format!("organization: {e}")))
    }

    /// `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED`: the pages the member
    /// administers (scope `rw_organization_admin`), each named by [`Self::organization`] — what to offer
    /// when a page is connected.
    #[tracing::instrument(skip_all)]
    pub async fn administered_organizations(
        &self,
    ) -> Result<Vec<AdministeredOrganization>, LinkedInError> {
        #[derive(Deserialize)]
        struct Acl {
            organization: String,
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            elements: Vec<Acl>,
        }
        let mut urns: Vec<String> = Vec::new();
        // Pages of ACL_PAGE; a member administering more than MAX_ACL_PAGES of them is not Herald's case.
        for page in 0..MAX_ACL_PAGES {
            let mut url = self.url("rest/organizationAcls")?;
            url.query_pairs_mut()
                .append_pair("q", "roleAssignee")
                .append_pair("role", "ADMINISTRATOR")
                .append_pair("state", "APPROVED")
                .append_pair("start", &(page * ACL_PAGE).to_string())
                .append_pair("count", &ACL_PAGE.to_string());
            let (_, value) = self.send(self.request(Method::GET, url)).await?;
            let acls: Page = serde_json::from_value(value)
                .map_err(|e| LinkedInError::InvalidResponse(format!("organizationAcls: {e}")))?;
            let full = acls.elements.len() == ACL_PAGE as usize;
            // Showcase pages and brands are not organisations one posts as here.
            for urn in acls
                .elements
                .into_iter()
                .filter_map(|acl| organization_urn(&acl.organization))
            {
                if !urns.contains(&urn) {
                    urns.push(urn);
                }
            }
            if !full {
                break;
            }
        }
        let mut pages = Vec::with_capacity(urns.len());
        for urn in urns {
            let organization = self.organization(&urn).await?;
            pages.push(AdministeredOrganization { urn, organization });
        }
        Ok(pages)
    }

    /// Registers, uploads and waits for one image owned by `owner` (the organisation's URN); returns its
    /// `urn:li:image:…`.
    #[tracing::instrument(skip_all, fields(bytes = image.bytes.len()))]
    pub async fn upload_image(&self, owner: &str, image: &Image) -> Result<String, LinkedInError> {
        let mut init_url = self.url("rest/images")?;
        init_url.set_query(Some("action=initializeUpload"));
        let request = self
            .request(Method::POST, init_url)
            .json(&json!({ "initializeUploadRequest": { "owner": owner } }));
        let (_, value) = self.send(request).await?;
        let field = |name: &str| {
            value
                .pointer(&format!("/value/{name}"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    LinkedInError::InvalidResponse(format!("initializeUpload: no {name}"))
                })
        };
        let upload_url = Url::parse(&field("uploadUrl")?)
            .map_err(|e| LinkedInError::InvalidResponse(format!("uploadUrl: {e}")))?;
        let urn = field("image")?;
        let put = self
            .request(Method::PUT, upload_url)
            .header(reqwest::header::CONTENT_TYPE, &image.mime)
            .body(image.bytes.clone());
        self.send(put).await?;

        // The URN is a path key, its colons encoded (Images API, "Get a Single Image").
        let status_url = self.url(&format!("rest/images/{}", urn.replace(':', "%3A")))?;
        for _ in 0..MAX_POLLS {
            let (_, value) = self
                .send(self.request(Method::GET, status_url.clone()))
                .await?;
            let state: ImageState = serde_json::from_value(value)
                .map_err(|e| LinkedInError::InvalidResponse(format!("image: {e}")))?;
            match state.status.as_str() {
                "AVAILABLE" => return Ok(urn),
                "PROCESSING_FAILED" => return Err(LinkedInError::ImageFailed(state.status)),
                _ => tokio::time::sleep(self.poll_interval).await,
            }
        }
        Err(LinkedInError::ImageStillProcessing(MAX_POLLS))
    }
}

/// The version LinkedIn's own examples use as "now": the month of `today`, for a first configuration.
pub fn current_version(today: NaiveDate) -> Version {
    Version {
        year: today.year(),
        month: today.month(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn an_organisation_is_named_by_its_id_or_urn() {
        assert_eq!(
            organization_urn(" 2414183 ").as_deref(),
            Some("urn:li:organization:2414183")
        );
        assert_eq!(
            organization_urn("urn:li:organization:2414183").as_deref(),
            Some("urn:li:organization:2414183")
        );
        for bad in ["", "acme", "urn:li:person:12", "urn:li:organization:"] {
            assert_eq!(organization_urn(bad), None, "{bad}");
        }
    }

    #[test]
    fn little_text_reserved_characters_are_escaped() {
        assert_eq!(
            escape_little_text("Talk (room A) #rust @fosdem [slides] <3 a_b*c~d|e{f}g\\h"),
            "Talk \\(room A\\) \\#rust \\@fosdem \\[slides\\] \\<3 a\\_b\\*c\\~d\\|e\\{f\\}g\\\\h"
        );
        assert_eq!(escape_little_text("Plain, text! 会議"), "Plain, text! 会議");
    }

    #[test]
    fn a_version_warns_a_month_before_its_twelve_months_end() {
        let version = Version::parse("202505").expect("version");
        assert_eq!(version.to_string(), "202505");
        assert_eq!(version.end_of_support(), day(2026, 5, 1));
        assert_eq!(
            version.status(day(2026, 3, 31)),
            VersionStatus::Supported {
                until: day(2026, 5, 1)
            }
        );
        assert_eq!(
            version.status(day(2026, 4, 1)),
            VersionStatus::EndingSoon {
                until: day(2026, 5, 1)
            }
        );
        assert_eq!(
            version.status(day(2026, 5, 1)),
            VersionStatus::Sunset {
                since: day(2026, 5, 1)
            }
        );
        for bad in ["2025-05", "202513", "20255", "abcdef"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(current_version(day(2026, 2, 14)).to_string(), "202602");
    }

    #[test]
    fn a_429_without_headers_waits_for_midnight_utc() {
        let now = DateTime::parse_from_rfc3339("2026-02-14T21:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let version = Version::parse("202601").expect("version");
        let err = classify(429, &HeaderMap::new(), "", version, now).unwrap_err();
        assert_eq!(
            err,
            LinkedInError::RateLimited {
                until: DateTime::parse_from_rfc3339("2026-02-15T00:00:00Z")
                    .expect("time")
                    .with_timezone(&Utc),
                wait: Duration::from_secs(150 * 60)
            }
        );
        assert_eq!(
            classify(503, &HeaderMap::new(), "", version, now)
                .unwrap_err()
                .for_create()
                .disposition(),
            Disposition::Permanent,
            "a lost create is not retried blindly"
        );
    }

    #[tokio::test]
    async fn the_pages_a_member_administers_come_with_their_names() {
        #![allow(clippy::unwrap_used)]

        use axum::{
            Json, Router,
            extract::{Path, RawQuery},
            http::{HeaderMap, StatusCode},
            response::{IntoResponse, Response},
            routing::get,
        };

        fn refused(headers: &HeaderMap) -> Option<Response> {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            (header("authorization") != Some("Bearer AQV-access")
                || header("linkedin-version") != Some("202511")
                || header("x-restli-protocol-version") != Some("2.0.0"))
            .then(|| StatusCode::UNAUTHORIZED.into_response())
        }

        async fn acls(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
            if let Some(refused) = refused(&headers) {
                return refused;
            }
            let query = query.unwrap_or_default();
            assert!(
                query.starts_with("q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"),
                "{query}"
            );
            Json(json!({
                "paging": { "start": 0, "count": 100, "links": [] },
                "elements": [
                    { "roleAssignee": "urn:li:person:Ab12", "state": "APPROVED", "role": "ADMINISTRATOR", "organization": "urn:li:organization:2414183" },
                    { "roleAssignee": "urn:li:person:Ab12", "state": "APPROVED", "role": "ADMINISTRATOR", "organization": "urn:li:organization:5515715" },
                    { "roleAssignee": "urn:li:person:Ab12", "state": "APPROVED", "role": "ADMINISTRATOR", "organization": "urn:li:organizationBrand:77" },
                    { "roleAssignee": "urn:li:person:Ab12", "state": "APPROVED", "role": "ADMINISTRATOR", "organization": "urn:li:organization:2414183" },
                ],
            }))
            .into_response()
        }

        async fn organization(headers: HeaderMap, Path(id): Path<String>) -> Response {
            if let Some(refused) = refused(&headers) {
                return refused;
            }
            let (name, vanity) = match id.as_str() {
                "2414183" => ("FOSDEM", "fosdem"),
                "5515715" => ("Rust Foundation", "rust-foundation"),
                _ => return StatusCode::NOT_FOUND.into_response(),
            };
            Json(json!({ "id": id.parse::<u64>().unwrap(), "localizedName": name, "vanityName": vanity }))
                .into_response()
        }

        let app = Router::new()
            .route("/rest/organizationAcls", get(acls))
            .route("/rest/organizations/{id}", get(organization));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let client = LinkedInClient::new(
            Url::parse(&base).unwrap(),
            "AQV-access",
            Version::parse("202511").unwrap(),
            reqwest::Client::new(),
        );
        let pages = client.administered_organizations().await.unwrap();
        assert_eq!(
            pages,
            [
                AdministeredOrganization {
                    urn: "urn:li:organization:2414183".into(),
                    organization: Organization {
                        localized_name: "FOSDEM".into(),
                        vanity_name: Some("fosdem".into()),
                    },
                },
                AdministeredOrganization {
                    urn: "urn:li:organization:5515715".into(),
                    organization: Organization {
                        localized_name: "Rust Foundation".into(),
                        vanity_name: Some("rust-foundation".into()),
                    },
                },
            ],
            "each page once, brands left out"
        );
    }
}
