//! The social networks provider accounts post to, each described once: its name, what a conference may
//! switch on for it, how it counts a text's length and where it cuts, and the shape of its credentials.
//! The switch matrix, `/provider add`, the config page's credential fields, length checks, the moderation
//! page's counters and thread splitting all ask here instead of matching on names. Adding a network is one
//! more implementation of [`Network`] and one line in [`NETWORKS`] (with its driver in `bots/` and its
//! sender in `crate::social`).

use chrono::{DateTime, Utc};
use herald_bots::{bluesky, linkedin, mastodon, x};
use herald_commands::Feature;
use serde::{Deserialize, Serialize};

use crate::db::providers::Provider;

/// How a network counts a text's length.
pub type Measure = fn(&str) -> usize;

/// A provider's credentials, one typed value per network (stored as JSON in this shape).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Credentials {
    /// X: OAuth 1.0a user context, the app's consumer key and secret and the account's access token and
    /// secret. (First: its `token` field would otherwise read as [`Self::Token`].)
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        token: String,
        token_secret: String,
    },
    /// X, connected with OAuth 2.0: the app's client id and the account's tokens. The access token lives
    /// two hours; the refresh token is single-use (see `crate::social::x::renewed`).
    XOAuth2 {
        client_id: String,
        /// The account's user id (what X's revocation events name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
        access_token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<DateTime<Utc>>,
    },
    /// Mastodon: an access token of the account.
    Token { token: String },
    /// Bluesky: the account's handle and an app password.
    AppPassword {
        identifier: String,
        app_password: String,
    },
    /// LinkedIn: a member's access token and the organisation page it posts as (its numeric id or
    /// `urn:li:organization:…`); when connected from the config page, when the token runs out, and the
    /// refresh token with its own end (organisers are told 14 and 3 days before either).
    LinkedIn {
        access_token: String,
        organization: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_expires_at: Option<DateTime<Utc>>,
    },
}

impl std::fmt::Debug for Credentials {
    /// Never the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token { .. } => f.write_str("Credentials::Token(redacted)"),
            Self::AppPassword { identifier, .. } => {
                write!(f, "Credentials::AppPassword({identifier}, redacted)")
            }
            Self::OAuth1 { consumer_key, .. } => {
                write!(f, "Credentials::OAuth1(app {consumer_key}, redacted)")
            }
            Self::XOAuth2 { client_id, .. } => {
                write!(f, "Credentials::XOAuth2(app {client_id}, redacted)")
            }
            Self::LinkedIn { organization, .. } => {
                write!(f, "Credentials::LinkedIn({organization}, redacted)")
            }
        }
    }
}

impl Credentials {
    /// Reads stored credentials; `None` when none (or none of this shape) are stored.
    pub fn read(stored: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(stored.clone()).ok()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// One social network as Herald uses it.
pub trait Network: Sync + std::fmt::Debug {
    /// The provider kind, as typed in `/provider add <kind>` and stored.
    fn name(&self) -> &'static str;

    /// Whether a conference may switch `feature` on for an account of this network.
    fn can(&self, feature: Feature) -> bool;

    /// The longest text one post may have on `provider`'s server, and how it is counted.
    fn measure(&self, provider: &Provider) -> (usize, Measure);

    /// The names of the credential fields, in the order `/provider add` asks for them (the config page's
    /// form fields too).
    fn credential_fields(&self) -> &'static [&'static str];

    /// Credentials from their fields, in [`Self::credential_fields`] order; `None` when they do not fit.
    fn credentials(&self, fields: &[&str]) -> Option<Credentials>;

    /// Whether an answer to a mention must name its author for them to be told (on Bluesky a reply in
    /// the thread notifies them anyway).
    fn answers_name_author(&self) -> bool;

    /// The server an account is on when `/provider add` names none; `None`: it must be named (every
    /// Mastodon instance is its own).
    fn default_base_url(&self) -> Option<&'static str>;
}

/// How a delivery's error starts when it was given up because the post may be on the network already
/// (its answer was lost and it could not be told): the organisers' notice asks them to look, then
/// `/retry` or `/cancel`.
pub const MAYBE_SENT: &str = "may already be on";

/// The names of the networks, as stored in `providers.kind` and `person_accounts.platform`.
pub const MASTODON: &str = "mastodon";
pub const BLUESKY: &str = "bluesky";
pub const X: &str = "x";
pub const LINKEDIN: &str = "linkedin";

#[derive(Debug)]
struct Mastodon;

impl Network for Mastodon {
    fn name(&self) -> &'static str {
        MASTODON
    }

    /// Public posts, the mentions inbox, and direct statuses to people.
    fn can(&self, feature: Feature) -> bool {
        matches!(
            feature,
            Feature::PublicBroadcast | Feature::SocialManagement | Feature::PrivateNotifications
        )
    }

    /// The instance's own limit as last read from it, 500 by default; URLs count 23.
    fn measure(&self, provider: &Provider) -> (usize, Measure) {
        let limit = provider
            .max_characters
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(mastodon::DEFAULT_LIMIT);
        (limit, mastodon::text_len)
    }

    fn credential_fields(&self) -> &'static [&'static str] {
        &["token"]
    }

    /// Mastodon notifies only the accounts a status mentions.
    fn answers_name_author(&self) -> bool {
        true
    }

    fn default_base_url(&self) -> Option<&'static str> {
        None
    }

    fn credentials(&self, fields: &[&str]) -> Option<Credentials> {
        match fields {
            [token] if !token.trim().is_empty() => Some(Credentials::Token {
                token: token.trim().to_owned(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Bluesky;

impl Network for Bluesky {
    fn name(&self) -> &'static str {
        BLUESKY
    }

    /// Public posts and the mentions inbox (Bluesky's chat is not used).
    fn can(&self, feature: Feature) -> bool {
        matches!(
            feature,
            Feature::PublicBroadcast | Feature::SocialManagement
        )
    }

    /// 300 graphemes.
    fn measure(&self, _provider: &Provider) -> (usize, Measure) {
        (bluesky::MAX_GRAPHEMES, bluesky::grapheme_len)
    }

    fn credential_fields(&self) -> &'static [&'static str] {
        &["identifier", "app_password"]
    }

    fn answers_name_author(&self) -> bool {
        false
    }

    /// Bluesky's own PDS, where most accounts live.
    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://bsky.social")
    }

    fn credentials(&self, fields: &[&str]) -> Option<Credentials> {
        match fields {
            [identifier, password]
                if !identifier.trim().is_empty() && !password.trim().is_empty() =>
            {
                Some(Credentials::AppPassword {
                    identifier: identifier.trim().to_owned(),
                    app_password: password.trim().to_owned(),
                })
            }
            _ => None,
        }
    }
}

/// The fields, trimmed, when there are `N` and none is empty.
fn fields<const N: usize>(fields: &[&str]) -> Option<[String; N]> {
    let fields: [&str; N] = fields.try_into().ok()?;
    let fields = fields.map(|f| f.trim().to_owned());
    fields.iter().all(|f| !f.is_empty()).then_some(fields)
}

/// X (formerly Twitter).
#[derive(Debug)]
struct XNetwork;

impl Network for XNetwork {
    fn name(&self) -> &'static str {
        X
    }

    /// Public posts, the mentions inbox (mentions and direct messages arrive by webhook or polling,
    /// answers and reposts go out as posts), and direct messages to people who linked their X account.
    fn can(&self, feature: Feature) -> bool {
        matches!(
            feature,
            Feature::PublicBroadcast | Feature::SocialManagement | Feature::PrivateNotifications
        )
    }

    /// 280 by X's weighted length: URLs 23, most CJK and emoji 2.
    fn measure(&self, _provider: &Provider) -> (usize, Measure) {
        (x::text::MAX_WEIGHT, x::text::weighted_len)
    }

    fn credential_fields(&self) -> &'static [&'static str] {
        &["consumer_key", "consumer_secret", "token", "token_secret"]
    }

    /// A reply notifies the author of the post it answers.
    fn answers_name_author(&self) -> bool {
        false
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(x::API_BASE)
    }

    fn credentials(&self, fields: &[&str]) -> Option<Credentials> {
        let [consumer_key, consumer_secret, token, token_secret] = self::fields(fields)?;
        Some(Credentials::OAuth1 {
            consumer_key,
            consumer_secret,
            token,
            token_secret,
        })
    }
}

#[derive(Debug)]
struct LinkedIn;

impl Network for LinkedIn {
    fn name(&self) -> &'static str {
        LINKEDIN
    }

    /// Public posts on an organisation page; LinkedIn has no mentions inbox or messages for pages.
    fn can(&self, feature: Feature) -> bool {
        matches!(feature, Feature::PublicBroadcast)
    }

    /// A post's commentary holds 3000 characters; a longer text is not split (one post).
    fn measure(&self, _provider: &Provider) -> (usize, Measure) {
        (linkedin::MAX_COMMENTARY_CHARS, linkedin::text_len)
    }

    fn credential_fields(&self) -> &'static [&'static str] {
        &["access_token", "organization"]
    }

    fn answers_name_author(&self) -> bool {
        false
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(linkedin::API_BASE)
    }

    /// The organisation is its numeric id or its full URN.
    fn credentials(&self, fields: &[&str]) -> Option<Credentials> {
        let [access_token, organization] = self::fields(fields)?;
        linkedin::organization_urn(&organization)?;
        Some(Credentials::LinkedIn {
            access_token,
            organization,
            expires_at: None,
            refresh_token: None,
            refresh_expires_at: None,
        })
    }
}

/// Every network provider accounts may be on.
pub static NETWORKS: &[&dyn Network] = &[&Mastodon, &Bluesky, &XNetwork, &LinkedIn];

/// The network of a provider kind.
pub fn network(kind: &str) -> Option<&'static dyn Network> {
    NETWORKS.iter().copied().find(|n| n.name() == kind)
}

/// The length limit of a provider's network and how it counts; `None` for a kind Herald does not know.
pub fn measure(provider: &Provider) -> Option<(usize, Measure)> {
    network(&provider.kind).map(|n| n.measure(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_keep_the_stored_shape_and_never_print_the_secret() {
        let token = Credentials::Token {
            token: "s3cret".into(),
        };
        assert_eq!(token.to_json(), serde_json::json!({ "token": "s3cret" }));
        assert_eq!(Credentials::read(&token.to_json()), Some(token.clone()));
        assert!(!format!("{token:?}").contains("s3cret"));
        let app = network("bluesky")
            .and_then(|n| n.credentials(&["conf.bsky.social", "abcd-efgh"]))
            .unwrap();
        assert_eq!(
            app.to_json(),
            serde_json::json!({ "identifier": "conf.bsky.social", "app_password": "abcd-efgh" })
        );
        assert!(!format!("{app:?}").contains("abcd"));
        assert_eq!(Credentials::read(&serde_json::json!({})), None);
        assert_eq!(network("mastodon").unwrap().credentials(&["a", "b"]), None);
        assert!(network("myspace").is_none());
    }

    #[test]
    fn x_and_linkedin_credentials_read_back_as_theirs_and_hide_their_secrets() {
        let x = network(X)
            .and_then(|n| n.credentials(&["ck", "cs-secret", "at", "ts-secret"]))
            .unwrap();
        let stored = serde_json::json!({ "consumer_key": "ck", "consumer_secret": "cs-secret",
                                          "token": "at", "token_secret": "ts-secret" });
        assert_eq!(x.to_json(), stored);
        assert_eq!(Credentials::read(&stored), Some(x.clone()));
        assert!(!format!("{x:?}").contains("secret"), "{x:?}");
        assert_eq!(network(X).unwrap().credentials(&["ck", "cs", "at"]), None);

        let page = network(LINKEDIN)
            .and_then(|n| n.credentials(&["AQX-token", "urn:li:organization:2414183"]))
            .unwrap();
        let stored = serde_json::json!({ "access_token": "AQX-token", "organization": "urn:li:organization:2414183" });
        assert_eq!(page.to_json(), stored);
        assert_eq!(Credentials::read(&stored), Some(page.clone()));
        assert!(!format!("{page:?}").contains("AQX"), "{page:?}");
        assert!(
            network(LINKEDIN)
                .unwrap()
                .credentials(&["t", "2414183"])
                .is_some()
        );
        assert_eq!(network(LINKEDIN).unwrap().credentials(&["t", "acme"]), None);
        // A Mastodon token stays one.
        assert_eq!(
            Credentials::read(&serde_json::json!({ "token": "t" })),
            Some(Credentials::Token { token: "t".into() })
        );
    }

    #[test]
    fn what_each_network_can_be_switched_on_for() {
        let can = |kind: &str, f| network(kind).is_some_and(|n| n.can(f));
        assert!(can("mastodon", Feature::PrivateNotifications));
        assert!(!can("bluesky", Feature::PrivateNotifications));
        assert!(can("bluesky", Feature::PublicBroadcast));
        assert!(!can("mastodon", Feature::AttendeeBroadcast));
        assert!(!can("mastodon", Feature::OrganiserNotifications));
        assert!(can("x", Feature::PublicBroadcast));
        assert!(can("x", Feature::PrivateNotifications));
        assert!(can("linkedin", Feature::PublicBroadcast));
        assert!(!can("linkedin", Feature::SocialManagement));
    }
}
