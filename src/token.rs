//! Secrets handed out once: random tokens, their stored digests, and comparing them without leaking
//! timing. Links, sessions, hook secrets and calendar feeds all use these.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 24 random bytes (192 bits) in URL-safe base64: 32 characters, which fits Telegram's deep-link payload
/// (`[A-Za-z0-9_-]{1,64}`).
pub fn new_token() -> String {
    let bytes: [u8; 24] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of a token as lowercase hex: what is stored in its place.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, in time that does not depend on where they first differ.
pub fn ct_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Query parameters whose values are secrets, by the names services give them.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "key",
    "api_key",
    "apikey",
    "secret",
    "password",
    "pass",
    "auth",
    "sig",
    "signature",
    "code",
];

/// `text` as it may be shown or logged: when it is a URL, its password and the values of query
/// parameters named like secrets (`token`, `key`, …) read `redacted`.
pub fn redact_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return text.to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
                let v = if secret {
                    "redacted".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_secret_parameters() {
        assert_eq!(
            redact_url("https://user:s3cret@cfp.example.org/s.ics?token=abc&lang=en"),
            "https://user:redacted@cfp.example.org/s.ics?token=redacted&lang=en"
        );
        assert_eq!(
            redact_url("https://example.org/schedule.xml"),
            "https://example.org/schedule.xml"
        );
        assert_eq!(redact_url("./schedule.xml"), "./schedule.xml");
    }

    #[test]
    fn tokens_are_long_random_and_fit_a_deep_link() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32, "24 bytes = 192 bits");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert!(ct_eq(&a, &a.clone()));
        assert!(!ct_eq(&a, &b));
    }
}
