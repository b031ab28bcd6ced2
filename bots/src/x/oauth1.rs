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

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use rand::{Rng, distr::Alphanumeric};
use reqwest::Url;
use sha1::Sha1;

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
        let nonce: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let timestamp = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        self.authorization_at(method, url, form, &nonce, timestamp)
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
        let mut oauth = vec![
            ("oauth_consumer_key".to_owned(), self.consumer_key.clone()),
            ("oauth_nonce".to_owned(), nonce.to_owned()),
            ("oauth_signature_method".to_owned(), "HMAC-SHA1".to_owned()),
            ("oauth_timestamp".to_owned(), timestamp.to_string()),
            ("oauth_token".to_owned(), self.token.clone()),
            ("oauth_version".to_owned(), "1.0".to_owned()),
        ];
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
}
