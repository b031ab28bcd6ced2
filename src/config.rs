//! Configuration: built-in defaults, then an optional TOML file, then `HERALD_*` environment variables.
//!
//! Environment names map onto the file's keys: `HERALD_LISTEN` is `listen`, `HERALD_DATABASE_URL` is
//! `database_url`, and a section name followed by `_` opens that section, so `HERALD_TELEGRAM_TOKEN` is
//! `[telegram] token` and `HERALD_OUTBOX_BATCH_SIZE` is `[outbox] batch_size`. Unknown keys are errors, so
//! a misspelt variable is reported instead of silently ignored.
//!
//! A section that is absent turns its feature off (and the log says so once); a section that is half
//! filled is a startup error naming the missing key. Secrets are redacted wherever the configuration is
//! printed or logged.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path, str::FromStr, time::Duration};

use anyhow::{Context, bail};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use herald_bots::{Rate, RateLimits};
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

/// Sections that environment variables can address as `HERALD_<SECTION>_<KEY>`.
const SECTIONS: &[&str] = &["telegram", "email", "outbox", "inbox", "listeners"];

/// A secret value: usable by the code, invisible to `Debug`, logs and `herald config`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

/// A URL whose password, if any, is redacted when shown: the database's, the mail server's.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced, safe for logs.
    pub fn redacted(&self) -> String {
        crate::token::redact_url(&self.0)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// How Herald receives Telegram updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` long polling: works anywhere, no public address needed.
    Polling,
    /// Telegram calls `HERALD_PUBLIC_URL`; needs a public HTTPS address.
    Webhook,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSection {
    /// The bot token from @BotFather (`HERALD_TELEGRAM_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// The Bot API root (`HERALD_TELEGRAM_API_URL`); tests point it at a fake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    /// `polling` (default) or `webhook` (`HERALD_TELEGRAM_MODE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TelegramMode>,
}

/// A complete Telegram configuration, after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Telegram {
    pub token: Secret,
    pub api_url: Url,
    pub mode: TelegramMode,
}

pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// E-mail: an SMTP server, or (the default) a folder that receives every message as an `.eml` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSection {
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtp://host:2525` (`HERALD_EMAIL_SMTP_URL`); the password is redacted wherever it is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<SecretUrl>,
    /// The sender, `Name <address>` (`HERALD_EMAIL_FROM`); by default `herald@` the public address's host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Where mail goes without an SMTP server (`HERALD_EMAIL_FOLDER`).
    pub folder: std::path::PathBuf,
}

impl Default for EmailSection {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: None,
            folder: "mail".into(),
        }
    }
}

impl Config {
    /// The sender of Herald's mail: as configured, or `Herald <herald@host>` with the public address's
    /// host (`localhost` without one).
    pub fn email_from(&self) -> anyhow::Result<String> {
        let from = match &self.email.from {
            Some(from) => from.clone(),
            None => {
                let host = self
                    .public_url
                    .as_ref()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "localhost".into());
                format!("Herald <herald@{host}>")
            }
        };
        if !herald_bots::email::is_mailbox(&from) {
            bail!(
                "email.from (HERALD_EMAIL_FROM) {from:?} is not an address such as Herald <herald@example.org>"
            );
        }
        Ok(from)
    }
}

/// Overrides of a platform's documented rate limits; unset fields keep the platform's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_provider: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_private_chat: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_group_chat: Option<Rate>,
}

impl RateLimitOverrides {
    pub fn apply(&self, defaults: RateLimits) -> RateLimits {
        RateLimits {
            per_provider: self.per_provider.unwrap_or(defaults.per_provider),
            per_private_chat: self.per_private_chat.unwrap_or(defaults.per_private_chat),
            per_group_chat: self.per_group_chat.unwrap_or(defaults.per_group_chat),
        }
    }
}

/// The outbox worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSection {
    /// Rows claimed per round.
    pub batch_size: u32,
    /// Sends in flight at once (each to a different chat).
    pub concurrency: u32,
    /// How long a claimed row stays with its worker before another may take it (seconds).
    pub lease_secs: u64,
    /// Longest sleep between rounds when nothing wakes the worker (milliseconds).
    pub poll_interval_ms: u64,
    /// Attempts before a transiently failing message is given up.
    pub max_attempts: u32,
    /// First retry delay after a transient error; doubles per attempt (milliseconds).
    pub backoff_base_ms: u64,
    /// Longest retry delay (seconds).
    pub backoff_cap_secs: u64,
    /// Timeout of one send request (milliseconds).
    pub send_timeout_ms: u64,
    /// On shutdown, how long in-flight sends may take to finish (seconds).
    pub shutdown_grace_secs: u64,
    /// Per platform (`telegram`, …): overrides of the documented limits, e.g. `per_group_chat = "20/min"`.
    pub rate_limits: BTreeMap<String, RateLimitOverrides>,
    /// Finished rows (sent, given up, expired, cancelled) are deleted this many days after they finished;
    /// 0 keeps them. Their keys stop a message from being written twice and their ids let Herald edit
    /// what it sent, so keep this longer than a conference lasts.
    pub retention_days: u32,
}

impl Default for OutboxSection {
    fn default() -> Self {
        Self {
            batch_size: 256,
            concurrency: 64,
            lease_secs: 60,
            poll_interval_ms: 1000,
            max_attempts: 8,
            backoff_base_ms: 2000,
            backoff_cap_secs: 900,
            send_timeout_ms: 30_000,
            shutdown_grace_secs: 10,
            rate_limits: BTreeMap::new(),
            retention_days: 90,
        }
    }
}

impl OutboxSection {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    pub fn backoff_base(&self) -> Duration {
        Duration::from_millis(self.backoff_base_ms)
    }
    pub fn backoff_cap(&self) -> Duration {
        Duration::from_secs(self.backoff_cap_secs)
    }
    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// The Mastodon and Bluesky listeners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenSection {
    /// How often Bluesky's notifications are polled.
    pub bluesky_poll_secs: u64,
    /// How often X's mentions timeline is read when X's webhooks cannot reach Herald (no public HTTPS
    /// address); every read costs X API credits.
    pub x_poll_secs: u64,
    /// A Mastodon stream silent this long (no event, no heartbeat) is reconnected.
    pub stream_idle_secs: u64,
    /// The first wait after a failure; doubled per failure up to `backoff_max_secs`.
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    /// A listener failing this long posts one notice to the organisers (and one when it recovers).
    pub notify_after_secs: u64,
    /// How often the set of listeners is brought in line with the providers.
    pub supervise_secs: u64,
}

impl Default for ListenSection {
    fn default() -> Self {
        Self {
            bluesky_poll_secs: 10,
            x_poll_secs: 60,
            stream_idle_secs: 90,
            backoff_base_ms: 1000,
            backoff_max_secs: 60,
            notify_after_secs: 300,
            supervise_secs: 5,
        }
    }
}

/// The inbox worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboxSection {
    pub batch_size: u32,
    pub lease_secs: u64,
    pub poll_interval_ms: u64,
    /// Handled events are deleted this many days after they were handled; 0 keeps them. Failed events
    /// stay (they wait for a fix and a replay).
    pub retention_days: u32,
}

impl Default for InboxSection {
    fn default() -> Self {
        Self {
            batch_size: 64,
            lease_secs: 60,
            poll_interval_ms: 1000,
            retention_days: 30,
        }
    }
}

/// The parts of Herald one process runs (`HERALD_ROLES=web,workers`): `web` (the web server: pages,
/// webhooks, `/metrics`), `workers` (the inbox and outbox workers), `jobs` (what runs once however many
/// processes share the database: polling Telegram, the listeners, the schedule sync, the news reader…; each
/// under a lease, so a process with `jobs` stands by while another runs them). All three by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub web: bool,
    pub workers: bool,
    pub jobs: bool,
}

impl Default for Roles {
    fn default() -> Self {
        Self {
            web: true,
            workers: true,
            jobs: true,
        }
    }
}

impl FromStr for Roles {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let mut roles = Self {
            web: false,
            workers: false,
            jobs: false,
        };
        for role in s.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            match role {
                "web" => roles.web = true,
                "workers" => roles.workers = true,
                "jobs" => roles.jobs = true,
                other => bail!("unknown role {other:?} in roles: expected web, workers or jobs"),
            }
        }
        if roles
            == (Self {
                web: false,
                workers: false,
                jobs: false,
            })
        {
            bail!("roles is empty: name at least one of web, workers, jobs");
        }
        Ok(roles)
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.web, "web"),
            (self.workers, "workers"),
            (self.jobs, "jobs"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The whole configuration, as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://herald.db` (created if missing) or `postgres://user:pass@host/db`.
    pub database_url: SecretUrl,
    /// Address the web server listens on.
    pub listen: SocketAddr,
    /// The address platforms and people reach Herald at; needed for webhooks and links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<Url>,
    /// A tracing filter, e.g. `info` or `herald=debug,sqlx=warn`.
    pub log: String,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`; when not, it is
    /// open to whoever reaches the web server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<Secret>,
    /// What this process runs, so a deployment can split them: `web,workers,jobs` (all) by default.
    #[serde(default)]
    pub roles: Roles,
    #[serde(default)]
    pub telegram: TelegramSection,
    #[serde(default)]
    pub email: EmailSection,
    #[serde(default)]
    pub outbox: OutboxSection,
    #[serde(default)]
    pub inbox: InboxSection,
    #[serde(default)]
    pub listeners: ListenSection,
    /// The `Linkedin-Version` (`YYYYMM`) every LinkedIn request carries (`HERALD_LINKEDIN_VERSION`).
    /// LinkedIn serves each version for twelve months and answers 426 after; `/provider test` warns a
    /// month before.
    #[serde(default = "default_linkedin_version")]
    pub linkedin_version: String,
    /// The X app behind "Connect X account" on the config page: its API key and secret
    /// (`HERALD_X_CONSUMER_KEY`, `HERALD_X_CONSUMER_SECRET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_consumer_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_consumer_secret: Option<Secret>,
    /// The X OAuth 2.0 app (client id, and secret for a confidential client) behind "Connect X account"
    /// when set: accounts connected that way post with OAuth 2.0 tokens, renewed every two hours
    /// (`HERALD_X_CLIENT_ID`, `HERALD_X_CLIENT_SECRET`). Needs `public_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_client_secret: Option<Secret>,
    /// The LinkedIn app behind "Connect LinkedIn page" (`HERALD_LINKEDIN_CLIENT_ID`,
    /// `HERALD_LINKEDIN_CLIENT_SECRET`); its redirect URL is `<public_url>/connect/linkedin/callback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin_client_secret: Option<Secret>,
    /// Where LinkedIn's sign-in and token endpoints are (`HERALD_LINKEDIN_OAUTH_URL`).
    #[serde(default = "default_linkedin_oauth_url")]
    pub linkedin_oauth_url: Url,
}

fn default_linkedin_oauth_url() -> Url {
    Url::parse(herald_bots::linkedin::oauth::OAUTH_BASE).expect("LinkedIn's address")
}

/// A LinkedIn version the API serves when this release was made.
pub const DEFAULT_LINKEDIN_VERSION: &str = "202611";

fn default_linkedin_version() -> String {
    DEFAULT_LINKEDIN_VERSION.to_owned()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: SecretUrl::new("sqlite://herald.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            log: "info,sqlx=warn".into(),
            metrics_token: None,
            roles: Roles::default(),
            telegram: TelegramSection::default(),
            email: EmailSection::default(),
            outbox: OutboxSection::default(),
            inbox: InboxSection::default(),
            listeners: ListenSection::default(),
            linkedin_version: default_linkedin_version(),
            x_consumer_key: None,
            x_consumer_secret: None,
            x_client_id: None,
            x_client_secret: None,
            linkedin_client_id: None,
            linkedin_client_secret: None,
            linkedin_oauth_url: default_linkedin_oauth_url(),
        }
    }
}

/// Maps `database_url` → `database_url`, `telegram_token` → `telegram.token`.
fn env_key(key: &str) -> String {
    for section in SECTIONS {
        if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return format!("{section}.{rest}");
        }
    }
    key.to_owned()
}

impl Config {
    /// Defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                bail!("configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("HERALD_")
            .ignore(&["config"])
            .map(|key| env_key(&key.as_str().to_ascii_lowercase()).into());
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(describe_figment_error)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.telegram()?;
        self.email_from()?;
        if self.outbox.batch_size == 0 || self.outbox.concurrency == 0 {
            bail!("outbox.batch_size and outbox.concurrency must be at least 1");
        }
        herald_bots::linkedin::Version::parse(&self.linkedin_version)
            .map_err(|e| anyhow::anyhow!("linkedin_version (HERALD_LINKEDIN_VERSION): {e}"))?;
        Ok(())
    }

    /// The Telegram settings, `None` when no part of the section is set.
    pub fn telegram(&self) -> anyhow::Result<Option<Telegram>> {
        let section = &self.telegram;
        let Some(token) = section.token.clone() else {
            if section.api_url.is_some() {
                bail!(
                    "telegram.api_url (HERALD_TELEGRAM_API_URL) is set but telegram.token (HERALD_TELEGRAM_TOKEN) is missing"
                );
            }
            if section.mode.is_some() {
                bail!(
                    "telegram.mode (HERALD_TELEGRAM_MODE) is set but telegram.token (HERALD_TELEGRAM_TOKEN) is missing"
                );
            }
            return Ok(None);
        };
        if token.expose().trim().is_empty() {
            bail!("telegram.token (HERALD_TELEGRAM_TOKEN) is empty");
        }
        let mode = section.mode.unwrap_or(TelegramMode::Polling);
        if mode == TelegramMode::Webhook && self.public_url.is_none() {
            bail!(
                "telegram.mode is webhook but public_url (HERALD_PUBLIC_URL) is missing: Telegram needs an address to call"
            );
        }
        let api_url = match &section.api_url {
            Some(url) => url.clone(),
            None => Url::parse(DEFAULT_TELEGRAM_API_URL).context("default Telegram API URL")?,
        };
        Ok(Some(Telegram {
            token,
            api_url,
            mode,
        }))
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> anyhow::Result<String> {
        let mut effective = self.clone();
        if let Some(tg) = self.telegram()? {
            effective.telegram.api_url = Some(tg.api_url);
            effective.telegram.mode = Some(tg.mode);
        }
        toml_string(&effective)
    }
}

fn toml_string<T: Serialize>(value: &T) -> anyhow::Result<String> {
    // figment re-exports no TOML writer; go through its serde value instead.
    let value =
        figment::value::Value::serialize(value).context("Failed to serialise the configuration")?;
    let mut out = String::new();
    write_toml(&mut out, "", &value);
    Ok(out)
}

fn write_toml(out: &mut String, prefix: &str, value: &figment::value::Value) {
    use figment::value::Value;
    let Value::Dict(_, dict) = value else { return };
    for (key, v) in dict {
        if !matches!(v, Value::Dict(..)) {
            out.push_str(&format!("{key} = {}\n", toml_scalar(v)));
        }
    }
    for (key, v) in dict {
        if matches!(v, Value::Dict(..)) {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            out.push_str(&format!("\n[{name}]\n"));
            write_toml(out, &name, v);
        }
    }
}

fn toml_scalar(value: &figment::value::Value) -> String {
    use figment::value::Value;
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Char(_, c) => format!("\"{c}\""),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => n
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| n.to_i128().map(|n| n.to_string()))
            .or_else(|| n.to_f64().map(|n| n.to_string()))
            .unwrap_or_default(),
        Value::Empty(..) => "\"\"".into(),
        Value::Array(_, items) => format!(
            "[{}]",
            items.iter().map(toml_scalar).collect::<Vec<_>>().join(", ")
        ),
        Value::Dict(..) => String::new(),
    }
}

/// figment's errors name the key and the source; keep that, in one line per problem.
fn describe_figment_error(err: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
    anyhow::anyhow!("invalid configuration: {}", lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_map_onto_sections() {
        assert_eq!(env_key("database_url"), "database_url");
        assert_eq!(env_key("public_url"), "public_url");
        assert_eq!(env_key("telegram_api_url"), "telegram.api_url");
        assert_eq!(env_key("outbox_batch_size"), "outbox.batch_size");
        assert_eq!(env_key("linkedin_version"), "linkedin_version");
    }

    #[test]
    fn a_linkedin_version_must_read_as_yyyymm() {
        let mut config = Config::default();
        assert!(config.validate().is_ok());
        config.linkedin_version = "2025-11".into();
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("HERALD_LINKEDIN_VERSION"), "{err}");
    }

    #[test]
    fn roles_name_what_a_process_runs() {
        let roles: Roles = "web, workers".parse().expect("roles");
        assert!(roles.web && roles.workers && !roles.jobs);
        assert_eq!(roles.to_string(), "web,workers");
        assert_eq!(Roles::default().to_string(), "web,workers,jobs");
        let err = "web,poller".parse::<Roles>().unwrap_err().to_string();
        assert!(err.contains("unknown role \"poller\""), "{err}");
        assert!(
            " , "
                .parse::<Roles>()
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn passwords_and_tokens_are_redacted() {
        let url = SecretUrl::new("postgres://herald:hunter2@db/herald");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.redacted(), "postgres://herald:redacted@db/herald");
        assert_eq!(format!("{:?}", Secret::new("123:abc")), "[redacted]");
        let mut config = Config::default();
        config.telegram.token = Some(Secret::new("123:abc"));
        let printed = config.to_redacted_toml().expect("toml");
        assert!(!printed.contains("123:abc"), "{printed}");
        assert!(printed.contains("[telegram]"), "{printed}");
    }

    #[test]
    fn the_smtp_password_is_redacted_and_the_sender_checked() {
        let mut config = Config::default();
        config.email.smtp_url = Some(SecretUrl::new(
            "smtps://herald:hunter2@mail.example.org:465",
        ));
        let printed = config.to_redacted_toml().expect("toml");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("mail.example.org"), "{printed}");
        assert_eq!(
            config.email_from().expect("default"),
            "Herald <herald@localhost>"
        );
        config.email.from = Some("not an address".into());
        let err = config.email_from().expect_err("bad sender");
        assert!(err.to_string().contains("HERALD_EMAIL_FROM"), "{err}");
    }

    #[test]
    fn half_filled_telegram_section_names_the_missing_key() {
        let mut config = Config::default();
        config.telegram.api_url = Some(Url::parse("http://127.0.0.1:1").expect("url"));
        let err = config.telegram().expect_err("half filled");
        assert!(err.to_string().contains("HERALD_TELEGRAM_TOKEN"), "{err}");

        let mut config = Config::default();
        config.telegram.token = Some(Secret::new("1:a"));
        config.telegram.mode = Some(TelegramMode::Webhook);
        let err = config.telegram().expect_err("webhook without url");
        assert!(err.to_string().contains("HERALD_PUBLIC_URL"), "{err}");
    }

    #[test]
    fn an_absent_telegram_section_turns_telegram_off() {
        assert_eq!(Config::default().telegram().expect("valid"), None);
    }
}
