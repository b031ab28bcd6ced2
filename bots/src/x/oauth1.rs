//! OAuth 1.0a user-context signing (RFC 5849, HMAC-SHA1), as X checks it.
//!
//! X's "Creating a signature" guide: the signature base string is the method, the URL without its query, and
//! every parameter — the query's, an `application/x-www-form-urlencoded` body's and the `oauth_*` ones —
//! percent-encoded (RFC 5849 §3.6: everything but `A-Z a-z 0-9 - . _ ~`), sorted by name then value, joined
//! with `&` and `=`. JSON and multipart bodies take no part, which is why `POST /2/tweets` signs only the
//! `oauth_*` parameters. The key is the consumer secret and the token secret, each encoded, joined by `&`.
//!
//! [`Credentials::authorization`] draws a fresh nonce and reads the clock; [`Credentials::authorization_at`]
//! takes both, so X's documented example can be reproduced byte for byte.
//!
//! The three-legged flow that yields an account's token and secret (X docs "Obtaining access tokens using
//! 3-legged OAuth flow", "POST oauth/request_token", "POST oauth/access_token"):
//!
//! 1. [`request_token`]: `POST oauth/request_token`, signed with the consumer key and secret alone (no
//!    `oauth_token`, an empty token secret) and carrying `oauth_callback` — the URL X sends the person back
//!    to (it must be listed in the app's settings), or [`OUT_OF_BAND`] for the PIN flow;
//! 2. [`authorize_url`]: the person approves the app at `oauth/authorize?oauth_token=…`; X redirects to the
//!    callback with `oauth_token` and `oauth_verifier` (or `denied=…`), or shows the PIN;
//! 3. [`access_token`]: `POST oauth/access_token`, signed with the request token and its secret and carrying
//!    `oauth_verifier` (the PIN). The answer is the account's token and secret, which do not expire.
//!
//! Both token endpoints answer `application/x-www-form-urlencoded` bodies, not JSON.

use std::{collections::HashMap, fmt};

use base64::Engine as _;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use rand::{Rng, distr::Alphanumeric};
use reqwest::Url;
use sha1::Sha1;

use super::{XError, error};

/// `POST oauth/request_token`, relative to the API base ([`super::API_BASE`]).
pub const REQUEST_TOKEN_PATH: &str = "oauth/request_token";
/// `GET oauth/authorize`, the page where the person approves the app, relative to [`super::API_BASE`].
pub const AUTHORIZE_PATH: &str = "oauth/authorize";
/// `POST oauth/access_token`, relative to the API base.
pub const ACCESS_TOKEN_PATH: &str = "oauth/access_token";
/// The `oauth_callback` of the PIN flow: X shows the person a PIN (the verifier) instead of redirecting.
pub const OUT_OF_BAND: &str = "oob";

/// An app's consumer key and secret and one account's access token and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token: String,
    pub token_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The consumer key and the token's user-id prefix are not secret, but neither helps a log reader.
        f.debug_struct("Credentials")
            .field("consumer_key", &"[redacted]")
            .field("consumer_secret", &"[redacted]")
            .field("token", &"[redacted]")
            .field("token_secret", &"[redacted]")
            .finish()
    }
}

/// Percent-encodes as RFC 5849 §3.6 requires: unreserved characters stay, every other byte of the UTF-8
/// becomes `%XX` with upper-case hex (so a space is `%20`, never `+`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The base string URI (RFC 5849 §3.4.1.2): scheme and host in lower case, the port only when not the
/// scheme's default, the path, no query or fragment. `Url` already normalises the first three.
fn base_uri(url: &Url) -> String {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    base.to_string()
}

/// The signature base string (RFC 5849 §3.4.1) of a request to `url` (its query is read from it) with
/// `params`: the form body's pairs and the `oauth_*` protocol parameters, decoded.
pub fn signature_base_string(method: &str, url: &Url, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (percent_encode(&k), percent_encode(&v)))
        .chain(
            params
                .iter()
                .map(|(k, v)| (percent_encode(k), percent_encode(v))),
        )
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(&base_uri(url)),
        percent_encode(&normalized)
    )
}

impl Credentials {
    /// The `Authorization` header for a request, with a fresh nonce and the current time.
    ///
    /// `url` is the URL as X sees it (with its query); `form` the pairs of an
    /// `application/x-www-form-urlencoded` body, empty for JSON, multipart and bodiless requests.
    pub fn authorization(&self, method: &str, url: &Url, form: &[(String, String)]) -> String {
        self.authorization_with(method, url, form, &[])
    }

    /// [`Self::authorization`] with more protocol parameters (`oauth_callback`, `oauth_verifier`), signed
    /// and sent in the header with the others.
    pub fn authorization_with(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        protocol: &[(&str, &str)],
    ) -> String {
        let nonce: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let timestamp = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
        self.authorization_with_at(method, url, form, protocol, &nonce, timestamp)
    }

    /// [`Self::authorization`] with a given nonce and timestamp (seconds since the epoch).
    pub fn authorization_at(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        nonce: &str,
        timestamp: u64,
    ) -> String {
        self.authorization_with_at(method, url, form, &[], nonce, timestamp)
    }

    /// [`Self::authorization_with`] with a given nonce and timestamp. An empty [`Self::token`] leaves
    /// `oauth_token` out, as the request-token step wants.
    pub fn authorization_with_at(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        protocol: &[(&str, &str)],
        nonce: &str,
        timestamp: u64,
    ) -> String {
        let mut oauth = vec![
            ("oauth_consumer_key".to_owned(), self.consumer_key.clone()),
            ("oauth_nonce".to_owned(), nonce.to_owned()),
            ("oauth_signature_method".to_owned(), "HMAC-SHA1".to_owned()),
            ("oauth_timestamp".to_owned(), timestamp.to_string()),
            ("oauth_version".to_owned(), "1.0".to_owned()),
        ];
        if !self.token.is_empty() {
            oauth.push(("oauth_token".to_owned(), self.token.clone()));
        }
        oauth.extend(
            protocol
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let params: Vec<(String, String)> = oauth.iter().chain(form).cloned().collect();
        let signature = self.sign(&signature_base_string(method, url, &params));
        oauth.push(("oauth_signature".to_owned(), signature));
        oauth.sort();
        let fields = oauth
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("OAuth {fields}")
    }

    /// HMAC-SHA1 of `base_string` with the signing key, in base64.
    pub fn sign(&self, base_string: &str) -> String {
        let key = format!(
            "{}&{}",
            percent_encode(&self.consumer_secret),
            percent_encode(&self.token_secret)
        );
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(base_string.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// A request token: the first leg's answer, kept by the caller until the person comes back.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestToken {
    /// `oauth_token`: goes into [`authorize_url`] and comes back on the callback.
    pub token: String,
    /// `oauth_token_secret`: signs the third leg; never leaves the server.
    pub secret: String,
    /// `oauth_callback_confirmed`: X took the callback. When `false` the flow cannot finish as asked;
    /// start again rather than send the person on.
    pub callback_confirmed: bool,
}

impl fmt::Debug for RequestToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The request token travels in the browser's address bar; its secret does not.
        f.debug_struct("RequestToken")
            .field("token", &self.token)
            .field("secret", &"[redacted]")
            .field("callback_confirmed", &self.callback_confirmed)
            .finish()
    }
}

/// An account's access token and secret, and whose they are: the third leg's answer.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub secret: String,
    pub user_id: String,
    /// The handle, without the `@`.
    pub screen_name: String,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("secret", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("screen_name", &self.screen_name)
            .finish()
    }
}

impl AccessToken {
    /// The [`Credentials`] to sign the account's requests with, under the app that obtained the token.
    pub fn credentials(&self, consumer_key: &str, consumer_secret: &str) -> Credentials {
        Credentials {
            consumer_key: consumer_key.to_owned(),
            consumer_secret: consumer_secret.to_owned(),
            token: self.token.clone(),
            token_secret: self.secret.clone(),
        }
    }
}

/// `POST oauth/request_token` at `base` ([`super::API_BASE`]): the first leg. `callback` is the URL X sends
/// the person back to, or [`OUT_OF_BAND`] for the PIN flow.
#[tracing::instrument(skip_all)]
pub async fn request_token(
    http: &reqwest::Client,
    base: &Url,
    consumer_key: &str,
    consumer_secret: &str,
    callback: &str,
) -> Result<RequestToken, XError> {
    let app = Credentials {
        consumer_key: consumer_key.to_owned(),
        consumer_secret: consumer_secret.to_owned(),
        token: String::new(),
        token_secret: String::new(),
    };
    let mut answer = token_request(
        http,
        base,
        REQUEST_TOKEN_PATH,
        &app,
        &[("oauth_callback", callback)],
    )
    .await?;
    Ok(RequestToken {
        token: take(&mut answer, "oauth_token")?,
        secret: take(&mut answer, "oauth_token_secret")?,
        callback_confirmed: answer
            .get("oauth_callback_confirmed")
            .is_some_and(|v| v == "true"),
    })
}

/// Where to send the person to approve the app: `oauth/authorize?oauth_token=…` at `base_web`
/// ([`super::API_BASE`]).
pub fn authorize_url(base_web: &Url, request_token: &str) -> Url {
    // Joining a relative path fails only on a base that cannot have one (`mailto:`…), never on X's.
    let mut url = base_web
        .join(AUTHORIZE_PATH)
        .unwrap_or_else(|_| base_web.clone());
    url.query_pairs_mut()
        .append_pair("oauth_token", request_token);
    url
}

/// `POST oauth/access_token` at `base`: the third leg, trading the request token and the callback's
/// `oauth_verifier` (or the PIN) for the account's token and secret. A spent or wrong verifier is
/// [`XError::Unauthorized`].
#[tracing::instrument(skip_all)]
pub async fn access_token(
    http: &reqwest::Client,
    base: &Url,
    consumer_key: &str,
    consumer_secret: &str,
    request_token: &str,
    request_secret: &str,
    verifier: &str,
) -> Result<AccessToken, XError> {
    let signer = Credentials {
        consumer_key: consumer_key.to_owned(),
        consumer_secret: consumer_secret.to_owned(),
        token: request_token.to_owned(),
        token_secret: request_secret.to_owned(),
    };
    let mut answer = token_request(
        http,
        base,
        ACCESS_TOKEN_PATH,
        &signer,
        &[("oauth_verifier", verifier)],
    )
    .await?;
    Ok(AccessToken {
        token: take(&mut answer, "oauth_token")?,
        secret: take(&mut answer, "oauth_token_secret")?,
        user_id: take(&mut answer, "user_id")?,
        screen_name: take(&mut answer, "screen_name")?,
    })
}

/// A signed, bodiless `POST` to a token endpoint; its form-encoded answer.
async fn token_request(
    http: &reqwest::Client,
    base: &Url,
    path: &str,
    signer: &Credentials,
    protocol: &[(&str, &str)],
) -> Result<HashMap<String, String>, XError> {
    let url = base
        .join(path)
        .map_err(|e| XError::InvalidResponse(format!("bad base URL: {e}")))?;
    let authorization = signer.authorization_with("POST", &url, &[], protocol);
    let response = http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .send()
        .await
        .map_err(|e| XError::from_reqwest(&e))?;
    let (status, headers, body) = error::read(response).await?;
    if !(200..300).contains(&status) {
        // Every status outside 2xx classifies as an error: a refused signature or verifier is a 401, an
        // unlisted callback a 403.
        return Err(error::classify(status, &headers, &body, Utc::now())
            .err()
            .unwrap_or_else(|| XError::InvalidResponse(format!("HTTP {status}"))));
    }
    Ok(url::form_urlencoded::parse(body.trim().as_bytes())
        .into_owned()
        .collect())
}

fn take(answer: &mut HashMap<String, String>, name: &str) -> Result<String, XError> {
    answer
        .remove(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| XError::InvalidResponse(format!("no {name} in X's answer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X's "Creating a signature" guide (developer.x.com, authentication / oauth-1-0a).
    fn documented() -> Credentials {
        Credentials {
            consumer_key: "xvz1evFS4wEEPTGEFPHBog".into(),
            consumer_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw".into(),
            token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb".into(),
            token_secret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE".into(),
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            percent_encode("Ladies + Gentlemen"),
            "Ladies%20%2B%20Gentlemen"
        );
        assert_eq!(
            percent_encode("An encoded string!"),
            "An%20encoded%20string%21"
        );
        assert_eq!(
            percent_encode("Dogs, Cats & Mice"),
            "Dogs%2C%20Cats%20%26%20Mice"
        );
        assert_eq!(percent_encode("☃"), "%E2%98%83");
        assert_eq!(percent_encode("a-b.c_d~e"), "a-b.c_d~e");
    }

    #[test]
    fn the_documented_example_signs_to_the_documented_signature() {
        let url =
            Url::parse("https://api.twitter.com/1.1/statuses/update.json?include_entities=true")
                .expect("url");
        let form = [(
            "status".to_owned(),
            "Hello Ladies + Gentlemen, a signed OAuth request!".to_owned(),
        )];
        let creds = documented();
        let mut params: Vec<(String, String)> = [
            ("oauth_consumer_key", creds.consumer_key.as_str()),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", creds.token.as_str()),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        params.extend(form.iter().cloned());
        let base = signature_base_string("post", &url, &params);
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26\
             oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26\
             oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26\
             status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        );
        assert_eq!(creds.sign(&base), "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");

        let header = creds.authorization_at(
            "POST",
            &url,
            &form,
            "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            1_318_622_958,
        );
        assert!(header.starts_with("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "));
        assert!(
            header.contains("oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\""),
            "{header}"
        );
    }

    #[test]
    fn a_json_request_signs_only_its_query_and_protocol_parameters() {
        let creds = documented();
        let url = Url::parse(
            "https://api.x.com/2/users/1/tweets?max_results=5&tweet.fields=created_at,text",
        )
        .expect("url");
        let a = creds.authorization_at("GET", &url, &[], "nonce12345", 1_700_000_000);
        let b = creds.authorization_at("GET", &url, &[], "nonce12345", 1_700_000_000);
        assert_eq!(a, b, "deterministic for a given nonce and time");
        let other = Url::parse(
            "https://api.x.com/2/users/1/tweets?max_results=6&tweet.fields=created_at,text",
        )
        .expect("url");
        assert_ne!(
            a,
            creds.authorization_at("GET", &other, &[], "nonce12345", 1_700_000_000),
            "the query is signed"
        );
        // Default ports and upper-case hosts normalise away.
        let loud = Url::parse(
            "HTTPS://API.X.COM:443/2/users/1/tweets?max_results=5&tweet.fields=created_at,text",
        )
        .expect("url");
        assert_eq!(
            a,
            creds.authorization_at("GET", &loud, &[], "nonce12345", 1_700_000_000)
        );
        assert!(!format!("{creds:?}").contains("kAcSOq"));
    }

    /// X's "Implementing Sign in with X" guide signs its two token requests with this consumer secret.
    const GUIDE_CONSUMER_SECRET: &str = "L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg";

    #[test]
    fn the_guides_request_token_request_signs_to_its_signature() {
        let app = Credentials {
            consumer_key: "cChZNFj6T5R0TigYB9yd1w".into(),
            consumer_secret: GUIDE_CONSUMER_SECRET.into(),
            token: String::new(),
            token_secret: String::new(),
        };
        let url = Url::parse("https://api.twitter.com/oauth/request_token").expect("url");
        let header = app.authorization_with_at(
            "POST",
            &url,
            &[],
            &[("oauth_callback", "http://localhost/sign-in-with-twitter/")],
            "ea9ec8429b68d6b77cd5600adbbb0456",
            1_318_467_427,
        );
        assert!(
            header.contains("oauth_signature=\"F1Li3tvehgcraF8DMJ7OyxO4w9Y%3D\""),
            "{header}"
        );
        assert!(
            header.contains("oauth_callback=\"http%3A%2F%2Flocalhost%2Fsign-in-with-twitter%2F\"")
        );
        assert!(!header.contains("oauth_token"), "no token yet: {header}");
    }

    #[test]
    fn the_guides_access_token_request_signs_to_its_signature() {
        let signer = Credentials {
            consumer_key: "cChZNFj6T5R0TigYB9yd1w".into(),
            consumer_secret: GUIDE_CONSUMER_SECRET.into(),
            token: "NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0".into(),
            token_secret: "veNRnAWe6inFuo8o2u8SLLZLjolYDmDP7SzL0YfYI".into(),
        };
        let url = Url::parse("https://api.twitter.com/oauth/access_token").expect("url");
        // The guide sends the verifier in the body; as a protocol parameter it is signed the same.
        let header = signer.authorization_with_at(
            "POST",
            &url,
            &[],
            &[(
                "oauth_verifier",
                "uw7NjWHT6OJ1MpJOXsHfNxoAhPKpgI8BlYDhxEjIBY",
            )],
            "a9900fe68e2573b27a37f10fbad6a755",
            1_318_467_427,
        );
        assert!(
            header.contains("oauth_signature=\"39cipBtIOHEEnybAR4sATQTpl2I%3D\""),
            "{header}"
        );
    }

    #[test]
    fn the_authorize_url_carries_the_request_token() {
        let url = authorize_url(
            &Url::parse(super::super::API_BASE).expect("url"),
            "NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0",
        );
        assert_eq!(
            url.as_str(),
            "https://api.x.com/oauth/authorize?oauth_token=NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0"
        );
    }

    /// An in-process stand-in for X's two token endpoints that checks every signature as X would.
    mod fake {
        #![allow(clippy::unwrap_used)]

        use std::{
            collections::HashMap,
            sync::{Arc, Mutex},
        };

        use axum::{
            Router,
            extract::State,
            http::{HeaderMap, StatusCode},
            response::{IntoResponse, Response},
            routing::post,
        };
        use reqwest::Url;

        use super::super::{Credentials, signature_base_string};

        pub const CONSUMER_KEY: &str = "app-key";
        pub const CONSUMER_SECRET: &str = "app-secret";
        pub const REQUEST_TOKEN: &str = "req-token";
        pub const REQUEST_SECRET: &str = "req-secret";
        pub const VERIFIER: &str = "4242424";

        #[derive(Default)]
        pub struct Seen {
            pub base: String,
            /// The protocol parameters of each request, decoded, signature checked.
            pub params: Vec<HashMap<String, String>>,
        }

        type Shared = Arc<Mutex<Seen>>;

        /// The `OAuth …` header's parameters, decoded, once its signature proves right for `url` and the
        /// secrets; `None` otherwise.
        fn verified(
            headers: &HeaderMap,
            url: &Url,
            token_secret: &str,
        ) -> Option<HashMap<String, String>> {
            let header = headers.get("authorization")?.to_str().ok()?;
            let fields = header.strip_prefix("OAuth ")?;
            let mut params: HashMap<String, String> = fields
                .split(", ")
                .filter_map(|field| {
                    let (k, v) = field.split_once('=')?;
                    let v = v.trim_matches('"');
                    let decoded: String = url::form_urlencoded::parse(format!("v={v}").as_bytes())
                        .next()?
                        .1
                        .into_owned();
                    Some((k.to_owned(), decoded))
                })
                .collect();
            let signature = params.remove("oauth_signature")?;
            let signer = Credentials {
                consumer_key: String::new(),
                consumer_secret: CONSUMER_SECRET.into(),
                token: String::new(),
                token_secret: token_secret.into(),
            };
            let pairs: Vec<(String, String)> = params.clone().into_iter().collect();
            (signer.sign(&signature_base_string("POST", url, &pairs)) == signature)
                .then_some(params)
        }

        async fn request_token(State(seen): State<Shared>, headers: HeaderMap) -> Response {
            let url =
                Url::parse(&format!("{}oauth/request_token", seen.lock().unwrap().base)).unwrap();
            let Some(params) = verified(&headers, &url, "") else {
                return (
                    StatusCode::UNAUTHORIZED,
                    r#"{"errors":[{"code":32,"message":"Could not authenticate you."}]}"#,
                )
                    .into_response();
            };
            let confirmed =
                params.contains_key("oauth_callback") && !params.contains_key("oauth_token");
            seen.lock().unwrap().params.push(params);
            format!(
                "oauth_token={REQUEST_TOKEN}&oauth_token_secret={REQUEST_SECRET}&oauth_callback_confirmed={confirmed}"
            )
            .into_response()
        }

        async fn access_token(State(seen): State<Shared>, headers: HeaderMap) -> Response {
            let url =
                Url::parse(&format!("{}oauth/access_token", seen.lock().unwrap().base)).unwrap();
            let params = verified(&headers, &url, REQUEST_SECRET);
            let good = params.as_ref().is_some_and(|p| {
                p.get("oauth_token").map(String::as_str) == Some(REQUEST_TOKEN)
                    && p.get("oauth_verifier").map(String::as_str) == Some(VERIFIER)
            });
            if !good {
                // X answers a wrong verifier in plain text.
                return (
                    StatusCode::UNAUTHORIZED,
                    "Error processing your OAuth request: Invalid oauth_verifier parameter",
                )
                    .into_response();
            }
            seen.lock().unwrap().params.extend(params);
            "oauth_token=6253282-acc3ss&oauth_token_secret=s3cr3t%2Bsecret&user_id=6253282&screen_name=XDevelopers"
                .into_response()
        }

        /// Serves the fake; its base URL and what it saw.
        pub async fn start() -> (Url, Shared) {
            let seen = Shared::default();
            let app = Router::new()
                .route("/oauth/request_token", post(request_token))
                .route("/oauth/access_token", post(access_token))
                .with_state(seen.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}/", listener.local_addr().unwrap());
            seen.lock().unwrap().base = base.clone();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            (Url::parse(&base).unwrap(), seen)
        }
    }

    #[tokio::test]
    async fn the_three_legs_yield_the_accounts_token_and_secret() {
        let (base, seen) = fake::start().await;
        let http = reqwest::Client::new();
        let request = request_token(
            &http,
            &base,
            fake::CONSUMER_KEY,
            fake::CONSUMER_SECRET,
            "https://herald.example/x/oauth1/callback",
        )
        .await
        .expect("request token");
        assert_eq!(request.token, fake::REQUEST_TOKEN);
        assert_eq!(request.secret, fake::REQUEST_SECRET);
        assert!(request.callback_confirmed);
        assert!(!format!("{request:?}").contains(fake::REQUEST_SECRET));

        let access = access_token(
            &http,
            &base,
            fake::CONSUMER_KEY,
            fake::CONSUMER_SECRET,
            &request.token,
            &request.secret,
            fake::VERIFIER,
        )
        .await
        .expect("access token");
        assert_eq!(access.token, "6253282-acc3ss");
        assert_eq!(access.secret, "s3cr3t+secret", "the answer is form-decoded");
        assert_eq!(access.user_id, "6253282");
        assert_eq!(access.screen_name, "XDevelopers");
        let debug = format!("{access:?}");
        assert!(
            !debug.contains("acc3ss") && !debug.contains("s3cr3t"),
            "{debug}"
        );
        assert_eq!(
            access.credentials(fake::CONSUMER_KEY, fake::CONSUMER_SECRET),
            Credentials {
                consumer_key: fake::CONSUMER_KEY.into(),
                consumer_secret: fake::CONSUMER_SECRET.into(),
                token: "6253282-acc3ss".into(),
                token_secret: "s3cr3t+secret".into(),
            }
        );

        let seen = seen.lock().expect("lock");
        assert_eq!(
            seen.params[0]["oauth_callback"],
            "https://herald.example/x/oauth1/callback"
        );
        assert_eq!(seen.params[0]["oauth_consumer_key"], fake::CONSUMER_KEY);
        assert_eq!(seen.params[1]["oauth_verifier"], fake::VERIFIER);
    }

    #[tokio::test]
    async fn the_pin_flow_asks_for_oob_and_a_wrong_pin_is_refused() {
        let (base, seen) = fake::start().await;
        let http = reqwest::Client::new();
        let request = request_token(
            &http,
            &base,
            fake::CONSUMER_KEY,
            fake::CONSUMER_SECRET,
            OUT_OF_BAND,
        )
        .await
        .expect("request token");
        assert_eq!(
            seen.lock().expect("lock").params[0]["oauth_callback"],
            "oob"
        );

        let err = access_token(
            &http,
            &base,
            fake::CONSUMER_KEY,
            fake::CONSUMER_SECRET,
            &request.token,
            &request.secret,
            "1111111",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, XError::Unauthorized { message, .. } if message.contains("oauth_verifier")),
            "{err:?}"
        );

        // A wrong consumer secret fails the signature at the first leg.
        let err = request_token(&http, &base, fake::CONSUMER_KEY, "wrong", OUT_OF_BAND)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, XError::Unauthorized { message, .. } if message.contains("Could not authenticate")),
            "{err:?}"
        );
    }
}
