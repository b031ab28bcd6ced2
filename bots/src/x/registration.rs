//! Registering Herald's webhook with X and subscribing accounts to it: the V2 Webhooks API and the Account
//! Activity API's subscriptions (X docs "V2 Webhooks API", "Account Activity API", and their API references).
//! What arrives on the webhook afterwards is [`super::webhook`]'s.
//!
//! Two kinds of client do this, and X is strict about which:
//! - the webhook itself (`GET`/`POST /2/webhooks`, `PUT`/`DELETE /2/webhooks/:id`) and removing an account's
//!   subscription belong to the app: an [`XClient`] with [`super::Auth::Bearer`] holding the app-only token
//!   of [`super::oauth2::app_bearer_token`];
//! - subscribing an account, and asking whether it is subscribed, act as that account: a client with its
//!   OAuth 1.0a user context or OAuth 2.0 user token.
//!
//! X runs the CRC check ([`super::webhook::crc_response`]) against the URL before `POST /2/webhooks` answers,
//! again on `PUT /2/webhooks/:id`, and hourly after that; a webhook that failed one is `valid: false` and
//! gets nothing until it passes again. The URL must be `https`, publicly reachable and without a port.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, XClient, XError};

/// A webhook registered for the app (`GET /2/webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookConfig {
    pub id: String,
    pub url: String,
    /// Whether its last CRC check passed; only a valid webhook receives events.
    pub valid: bool,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl XClient {
    /// `GET /2/webhooks`: the app's webhooks (app-only token). None registered is an empty list.
    #[tracing::instrument(skip_all)]
    pub async fn list_webhooks(&self) -> Result<Vec<WebhookConfig>, XError> {
        let answer = self
            .call(Method::GET, "2/webhooks", &[], Body::Empty)
            .await?;
        match answer.get("data") {
            None | Some(Value::Null) if answer.get("errors").is_none() => Ok(Vec::new()),
            _ => Self::data(answer),
        }
    }

    /// `POST /2/webhooks`: registers `url` (app-only token). X checks it by CRC before answering, so Herald
    /// must already answer `GET ?crc_token=…` there; a failed check is [`XError::BadRequest`] naming
    /// `CrcValidationFailed`, a URL already registered `DuplicateUrlFailed`.
    #[tracing::instrument(skip_all)]
    pub async fn create_webhook(&self, url: &str) -> Result<WebhookConfig, XError> {
        let answer = self
            .call(
                Method::POST,
                "2/webhooks",
                &[],
                Body::Json(json!({ "url": url })),
            )
            .await?;
        // The API reference answers the config bare, the guide inside `data`: read either.
        match answer.get("data") {
            Some(_) => Self::data(answer),
            None => serde_json::from_value(answer)
                .map_err(|e| XError::InvalidResponse(format!("webhook: {e}"))),
        }
    }

    /// `PUT /2/webhooks/:id`: runs the CRC check again (app-only token), to make an invalid webhook valid
    /// once Herald answers again. `true` means X attempted the check; [`Self::list_webhooks`] tells whether
    /// it passed.
    #[tracing::instrument(skip_all, fields(webhook_id = %id))]
    pub async fn validate_webhook(&self, id: &str) -> Result<bool, XError> {
        #[derive(Deserialize)]
        struct Attempted {
            attempted: bool,
        }
        let answer = self
            .call(Method::PUT, &format!("2/webhooks/{id}"), &[], Body::Empty)
            .await?;
        Ok(Self::data::<Attempted>(answer)?.attempted)
    }

    /// `DELETE /2/webhooks/:id` (app-only token); whether X says it is deleted. Its subscriptions go with it.
    #[tracing::instrument(skip_all, fields(webhook_id = %id))]
    pub async fn delete_webhook(&self, id: &str) -> Result<bool, XError> {
        #[derive(Deserialize)]
        struct Deleted {
            deleted: bool,
        }
        let answer = self
            .call(
                Method::DELETE,
                &format!("2/webhooks/{id}"),
                &[],
                Body::Empty,
            )
            .await?;
        Ok(Self::data::<Deleted>(answer)?.deleted)
    }

    /// `POST /2/account_activity/webhooks/:webhook_id/subscriptions/all`: the account this client acts as
    /// (user context) starts sending its activity to the webhook. Subscribing twice is harmless.
    #[tracing::instrument(skip_all, fields(webhook_id = %webhook_id))]
    pub async fn subscribe(&self, webhook_id: &str) -> Result<bool, XError> {
        let answer = self
            .call(
                Method::POST,
                &subscriptions_path(webhook_id),
                &[],
                Body::Json(json!({})),
            )
            .await?;
        Ok(Self::data::<Subscribed>(answer)?.subscribed)
    }

    /// `GET /2/account_activity/webhooks/:webhook_id/subscriptions/all`: whether the account this client
    /// acts as (user context) is subscribed to the webhook.
    #[tracing::instrument(skip_all, fields(webhook_id = %webhook_id))]
    pub async fn is_subscribed(&self, webhook_id: &str) -> Result<bool, XError> {
        let answer = self
            .call(
                Method::GET,
                &subscriptions_path(webhook_id),
                &[],
                Body::Empty,
            )
            .await?;
        Ok(Self::data::<Subscribed>(answer)?.subscribed)
    }

    /// `DELETE /2/account_activity/webhooks/:webhook_id/subscriptions/:user_id/all` (app-only token): the
    /// account stops sending its activity to the webhook. `true` when X says it is no longer subscribed.
    #[tracing::instrument(skip_all, fields(webhook_id = %webhook_id))]
    pub async fn unsubscribe(&self, webhook_id: &str, user_id: &str) -> Result<bool, XError> {
        let answer = self
            .call(
                Method::DELETE,
                &format!("2/account_activity/webhooks/{webhook_id}/subscriptions/{user_id}/all"),
                &[],
                Body::Empty,
            )
            .await?;
        // The answer is the subscription's state afterwards: `{"data": {"subscribed": false}}`.
        Ok(!Self::data::<Subscribed>(answer)?.subscribed)
    }
}

#[derive(Deserialize)]
struct Subscribed {
    subscribed: bool,
}

fn subscriptions_path(webhook_id: &str) -> String {
    format!("2/account_activity/webhooks/{webhook_id}/subscriptions/all")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x::{Auth, fake, oauth1::Credentials, oauth2::app_bearer_token};

    const WEBHOOK: &str = "1146654567674912769";
    const CONFIG: &str = r#"{"id":"1146654567674912769","url":"https://herald.example/x/webhook","valid":true,"created_at":"2026-12-04T10:00:00.000Z"}"#;

    fn client(base: &reqwest::Url, auth: Auth) -> XClient {
        XClient::new(base.clone(), auth, reqwest::Client::new())
    }

    fn user() -> Auth {
        Auth::OAuth1(Credentials {
            consumer_key: "app-key".into(),
            consumer_secret: "app-secret".into(),
            token: "6253282-acc3ss".into(),
            token_secret: "s3cr3t".into(),
        })
    }

    #[tokio::test]
    async fn the_app_registers_validates_and_deletes_its_webhook_with_its_bearer_token() {
        let (base, fake) = fake::serve(&[
            (
                "POST",
                "/oauth2/token",
                200,
                r#"{"token_type":"bearer","access_token":"AAAA%2Fapp"}"#,
            ),
            ("POST", "/2/webhooks", 200, CONFIG),
            (
                "PUT",
                "/2/webhooks/1146654567674912769",
                200,
                r#"{"data":{"attempted":true}}"#,
            ),
            (
                "DELETE",
                "/2/webhooks/1146654567674912769",
                200,
                r#"{"data":{"deleted":true}}"#,
            ),
        ])
        .await;
        let http = reqwest::Client::new();
        let token = app_bearer_token(&http, &base, "app key+", "app/secret")
            .await
            .expect("app token");
        assert_eq!(token, "AAAA%2Fapp");
        let app = client(&base, Auth::Bearer(token));

        let created = app
            .create_webhook("https://herald.example/x/webhook")
            .await
            .expect("created");
        assert_eq!(
            created,
            WebhookConfig {
                id: WEBHOOK.into(),
                url: "https://herald.example/x/webhook".into(),
                valid: true,
                created_at: Some(
                    DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
                        .expect("time")
                        .with_timezone(&Utc)
                ),
            }
        );
        assert!(app.validate_webhook(WEBHOOK).await.expect("validated"));
        assert!(app.delete_webhook(WEBHOOK).await.expect("deleted"));

        let seen = fake.lock().expect("lock").seen.clone();
        // The token request: Basic credentials of the percent-encoded key and secret, a form body.
        assert_eq!(
            seen[0].content_type,
            "application/x-www-form-urlencoded;charset=UTF-8"
        );
        assert_eq!(seen[0].body, "grant_type=client_credentials");
        let basic = seen[0].authorization.strip_prefix("Basic ").expect("basic");
        let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, basic)
            .expect("base64");
        assert_eq!(decoded, b"app%20key%2B:app%2Fsecret");
        // The webhook calls: the app's bearer token, the URL in a JSON body.
        assert!(
            seen[1..]
                .iter()
                .all(|s| s.authorization == "Bearer AAAA%2Fapp")
        );
        let body: Value = serde_json::from_str(&seen[1].body).expect("json");
        assert_eq!(body, json!({ "url": "https://herald.example/x/webhook" }));
        assert_eq!(
            seen[2..]
                .iter()
                .map(|s| format!("{} {}", s.method, s.path))
                .collect::<Vec<_>>(),
            [
                "PUT /2/webhooks/1146654567674912769",
                "DELETE /2/webhooks/1146654567674912769"
            ]
        );
    }

    #[tokio::test]
    async fn webhooks_are_listed_and_none_is_an_empty_list() {
        let listed = format!(r#"{{"data":[{CONFIG}],"meta":{{"result_count":1}}}}"#);
        let (base, _) = fake::serve(&[("GET", "/2/webhooks", 200, &listed)]).await;
        let hooks = client(&base, Auth::Bearer("app".into()))
            .list_webhooks()
            .await
            .expect("listed");
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].id, WEBHOOK);
        assert!(hooks[0].valid);

        let (base, _) =
            fake::serve(&[("GET", "/2/webhooks", 200, r#"{"meta":{"result_count":0}}"#)]).await;
        let hooks = client(&base, Auth::Bearer("app".into()))
            .list_webhooks()
            .await
            .expect("listed");
        assert!(hooks.is_empty());
    }

    #[tokio::test]
    async fn a_webhook_that_fails_the_crc_check_is_refused_with_xs_reason() {
        let (base, _) = fake::serve(&[
            (
                "POST",
                "/2/webhooks",
                400,
                r#"{"errors":[{"message":"CrcValidationFailed"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
            ),
            ("GET", "/2/webhooks", 200, r#"{"errors":[{"message":"boom"}]}"#),
        ])
        .await;
        let app = client(&base, Auth::Bearer("app".into()));
        let err = app
            .create_webhook("https://herald.example/x/webhook")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, XError::BadRequest { status: 400, message } if message.contains("CrcValidationFailed")),
            "{err:?}"
        );
        assert!(app.list_webhooks().await.is_err(), "errors without data");

        // The guide's shape of a created webhook, `data` around the config.
        let wrapped = format!(r#"{{"data":{CONFIG}}}"#);
        let (base, _) = fake::serve(&[("POST", "/2/webhooks", 200, &wrapped)]).await;
        let created = client(&base, Auth::Bearer("app".into()))
            .create_webhook("https://herald.example/x/webhook")
            .await
            .expect("created");
        assert_eq!(created.id, WEBHOOK);
    }

    #[tokio::test]
    async fn an_account_subscribes_as_itself_and_the_app_unsubscribes_it() {
        let subscriptions = "/2/account_activity/webhooks/1146654567674912769/subscriptions/all";
        let (base, fake) = fake::serve(&[
            (
                "POST",
                subscriptions,
                200,
                r#"{"data":{"subscribed":true}}"#,
            ),
            (
                "GET",
                subscriptions,
                200,
                r#"{"data":{"subscribed":false}}"#,
            ),
            (
                "DELETE",
                "/2/account_activity/webhooks/1146654567674912769/subscriptions/6253282/all",
                200,
                r#"{"data":{"subscribed":false}}"#,
            ),
        ])
        .await;
        let account = client(&base, user());
        assert!(account.subscribe(WEBHOOK).await.expect("subscribed"));
        assert!(!account.is_subscribed(WEBHOOK).await.expect("asked"));
        let app = client(&base, Auth::Bearer("app".into()));
        assert!(
            app.unsubscribe(WEBHOOK, "6253282")
                .await
                .expect("unsubscribed")
        );

        let seen = fake.lock().expect("lock").seen.clone();
        for user_context in &seen[..2] {
            assert!(user_context.authorization.starts_with("OAuth "));
            assert!(
                user_context
                    .authorization
                    .contains("oauth_token=\"6253282-acc3ss\"")
            );
        }
        assert_eq!(seen[2].authorization, "Bearer app");
    }

    #[tokio::test]
    async fn an_app_token_of_another_type_or_a_refusal_is_an_error() {
        let (base, _) = fake::serve(&[(
            "POST",
            "/oauth2/token",
            200,
            r#"{"token_type":"mac","access_token":"x"}"#,
        )])
        .await;
        let http = reqwest::Client::new();
        let err = app_bearer_token(&http, &base, "k", "s").await.unwrap_err();
        assert!(matches!(err, XError::InvalidResponse(_)), "{err:?}");

        let (base, _) = fake::serve(&[(
            "POST",
            "/oauth2/token",
            403,
            r#"{"errors":[{"code":99,"label":"authenticity_token_error","message":"Unable to verify your credentials"}]}"#,
        )])
        .await;
        let err = app_bearer_token(&http, &base, "k", "s").await.unwrap_err();
        assert!(err.to_string().contains("Unable to verify"), "{err}");
    }
}
