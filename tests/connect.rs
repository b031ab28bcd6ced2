//! Connecting X and LinkedIn accounts from the config page, as an organiser would: the browser goes to
//! the network and back (X's callback, or X's PIN without a public address; LinkedIn's code, then the page
//! to post as), and the provider's credentials are the tokens that come back. Against fakes of X's and
//! LinkedIn's OAuth endpoints; the browser's steps at the network are the test's.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use reqwest::StatusCode;
use support::{
    OWNER, TestApp,
    browser::Browser,
    fake_linkedin::{self, FakeLinkedIn},
    fake_x::{self, FakeX},
};

const SLUG: &str = "fosdem-2027";
const ORGANISERS: i64 = -100_600;

/// Herald with the X and LinkedIn apps configured (and a public address unless `public` is false), its
/// owner signed in on the config page; the browser's CSRF token.
async fn spawn(public: bool, linkedin: Option<&FakeLinkedIn>) -> TestApp {
    spawn_with(public, linkedin, false).await
}

async fn spawn_with(public: bool, linkedin: Option<&FakeLinkedIn>, x_oauth2: bool) -> TestApp {
    let linkedin_url = linkedin.map(|l| l.url.clone());
    let app = TestApp::spawn_with(
        |c| {
            if x_oauth2 {
                c.x_client_id = Some(fake_x::CLIENT_ID.into());
                c.x_client_secret = Some(herald::config::Secret::new(fake_x::CLIENT_SECRET));
            }
            if public {
                c.public_url = Some("https://herald.fosdem.org/".parse().unwrap());
            }
            c.x_consumer_key = Some("x-consumer-key".into());
            c.x_consumer_secret = Some(herald::config::Secret::new("x-consumer-secret"));
            c.linkedin_client_id = Some(fake_linkedin::CLIENT_ID.into());
            c.linkedin_client_secret =
                Some(herald::config::Secret::new(fake_linkedin::CLIENT_SECRET));
            if let Some(url) = linkedin_url {
                c.linkedin_oauth_url = url.parse().unwrap();
            }
        },
        Default::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    app.bind("organisers", ORGANISERS).await;
    app
}

async fn signed_in(app: &TestApp) -> (Browser<'_>, String) {
    // The link `/web` gives (issued here: without a public address the bot offers none in Telegram).
    let mut tx = app.db().begin().await.unwrap();
    let owner = herald::db::people::person_by_user_id(&mut tx, "telegram", &OWNER.id.to_string())
        .await
        .unwrap()
        .unwrap();
    let base: url::Url = app.base_url.parse().unwrap();
    let link = herald::links::issue_login(&mut tx, app.now(), &base, owner.id, "/config")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut browser = Browser::new(app);
    browser.sign_in(link.as_str()).await;
    let csrf = browser.csrf("/config").await;
    (browser, csrf)
}

/// Adds provider `name` of `kind` on the config page, without credentials.
async fn add(browser: &Browser<'_>, csrf: &str, kind: &str, name: &str, url: &str) {
    let (status, _) = browser
        .post(
            &format!("/config/{SLUG}/providers"),
            &[
                ("csrf", csrf),
                ("kind", kind),
                ("name", name),
                ("base_url", url),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// Presses "Connect" on provider `name`'s row: the answer's status, and where it sends the browser (or
/// the page it shows).
async fn connect(browser: &Browser<'_>, csrf: &str, name: &str) -> (StatusCode, String) {
    browser
        .post(
            &format!("/config/{SLUG}/providers/{name}/connect"),
            &[("csrf", csrf)],
        )
        .await
}

/// The query of an address the browser is sent to.
fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Starts connecting provider `page` to LinkedIn; the `state` Herald sent the browser off with.
async fn linkedin_state(browser: &Browser<'_>, csrf: &str) -> String {
    let (_, location) = connect(browser, csrf, "page").await;
    query_of(&location)["state"].clone()
}

async fn stored(app: &TestApp, name: &str) -> serde_json::Value {
    let mut tx = app.db().begin().await.unwrap();
    let provider = herald::db::providers::provider_by_name(&mut tx, 1, name)
        .await
        .unwrap()
        .unwrap();
    let stored = herald::db::providers::credentials(&mut tx, provider.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    stored
}

#[tokio::test]
async fn an_x_account_is_connected_through_xs_authorisation_and_its_callback() {
    let app = spawn(true, None).await;
    let x = FakeX::start().await;
    let (browser, csrf) = signed_in(&app).await;
    add(&browser, &csrf, "x", "xconf", &x.url).await;
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(page.contains("Connect X account"), "{page}");

    // Herald sends the browser to X with a request token whose callback is Herald's.
    let (status, location) = connect(&browser, &csrf, "xconf").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        format!(
            "{}oauth/authorize?oauth_token={}",
            x.url,
            fake_x::REQUEST_TOKEN
        )
    );

    // The organiser approves at X; X sends the browser back with the verifier.
    let callback = format!(
        "/connect/x/callback?oauth_token={}&oauth_verifier={}",
        fake_x::REQUEST_TOKEN,
        fake_x::PIN
    );
    let (status, _) = browser.get(&callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(page.contains("is connected: it posts as @fosdem"), "{page}");
    assert!(!page.contains("x-token-secret"), "never shown back");
    let credentials = stored(&app, "xconf").await;
    assert_eq!(credentials["token"], "1500000000000000042-token");
    assert_eq!(credentials["consumer_key"], "x-consumer-key");
    let test = app.say(&OWNER, "/provider test xconf").await;
    assert_eq!(test, ["✅ <code>xconf</code> works: signed in as @fosdem."]);

    // The same callback again: spent.
    let (status, page) = browser.get(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("not (or no longer) under way"), "{page}");
}

#[tokio::test]
async fn without_a_public_address_the_x_pin_is_typed_on_the_page() {
    let app = spawn(false, None).await;
    let x = FakeX::start().await;
    let (browser, csrf) = signed_in(&app).await;
    add(&browser, &csrf, "x", "xconf", &x.url).await;
    let (status, page) = connect(&browser, &csrf, "xconf").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("X shows a PIN"), "{page}");
    // The link to X's authorisation (slashes HTML-escaped in the page).
    assert!(
        page.contains(&format!("authorize?oauth_token={}", fake_x::REQUEST_TOKEN)),
        "{page}"
    );
    // A wrong PIN: X refuses, nothing is stored.
    let (status, _) = browser
        .post(
            "/connect/x/pin",
            &[
                ("csrf", &csrf),
                ("token", fake_x::REQUEST_TOKEN),
                ("pin", "0000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(page.contains("Connecting X did not work"), "{page}");
    assert_eq!(
        stored(&app, "xconf").await,
        serde_json::json!({}),
        "nothing stored"
    );

    // Again, with the PIN X showed.
    connect(&browser, &csrf, "xconf").await;
    let (status, _) = browser
        .post(
            "/connect/x/pin",
            &[
                ("csrf", &csrf),
                ("token", fake_x::REQUEST_TOKEN),
                ("pin", fake_x::PIN),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&app, "xconf").await["token_secret"],
        "x-token-secret"
    );
}

#[tokio::test]
async fn a_linkedin_page_is_connected_picked_among_the_members_pages_and_its_end_is_told() {
    let linkedin = FakeLinkedIn::start().await;
    let app = spawn(true, Some(&linkedin)).await;
    let (browser, csrf) = signed_in(&app).await;
    add(&browser, &csrf, "linkedin", "page", &linkedin.url).await;

    // Herald sends the browser to LinkedIn with its app, callback and a state.
    let (status, location) = connect(&browser, &csrf, "page").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("https://www.linkedin.com/oauth/v2/authorization?"),
        "{location}"
    );
    let query = query_of(&location);
    assert_eq!(query["client_id"], fake_linkedin::CLIENT_ID);
    assert_eq!(
        query["redirect_uri"],
        "https://herald.fosdem.org/connect/linkedin/callback"
    );
    assert!(query["scope"].contains("w_organization_social"));
    let state = query["state"].clone();

    // Declined at LinkedIn: said, nothing stored; the state is spent.
    let (status, _) = browser
        .get(&format!(
            "/connect/linkedin/callback?error=user_cancelled_authorize&error_description=The+member+cancelled&state={state}"
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(
        page.contains("was not given (The member cancelled)"),
        "{page}"
    );

    // Again, approved: the member administers two pages, and picks one.
    let state = linkedin_state(&browser, &csrf).await;
    let (status, page) = browser
        .get(&format!(
            "/connect/linkedin/callback?code={}&state={state}",
            fake_linkedin::CODE
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("FOSDEM Devrooms") && page.contains(fake_linkedin::ORGANIZATION),
        "{page}"
    );
    // A page that was not offered is refused (and the flow spent: it starts again).
    browser
        .post(
            "/connect/linkedin/pick",
            &[
                ("csrf", &csrf),
                ("state", &state),
                ("organization", "urn:li:organization:999"),
            ],
        )
        .await;
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(
        page.contains("that page was not among those offered"),
        "{page}"
    );
    let state = linkedin_state(&browser, &csrf).await;
    browser
        .get(&format!(
            "/connect/linkedin/callback?code={}&state={state}",
            fake_linkedin::CODE
        ))
        .await;
    let (status, _) = browser
        .post(
            "/connect/linkedin/pick",
            &[
                ("csrf", &csrf),
                ("state", &state),
                ("organization", fake_linkedin::ORGANIZATION),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(
        page.contains("is connected: it posts as FOSDEM (urn:li:organization:2414183)"),
        "{page}"
    );
    let credentials = stored(&app, "page").await;
    assert_eq!(credentials["access_token"], "li-access-token");
    assert_eq!(credentials["organization"], fake_linkedin::ORGANIZATION);
    assert_eq!(credentials["refresh_token"], "li-refresh-token");
    let ends: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(credentials["expires_at"].clone()).unwrap();
    assert_eq!(ends, app.now() + TimeDelta::seconds(5_184_000));
    let test = app.say(&OWNER, "/provider test page").await.join("\n");
    assert!(test.contains("works: signed in as FOSDEM"), "{test}");

    // 15 days before the token's end it is renewed with the refresh token: no notice.
    app.say(&OWNER, "/provider on page").await;
    app.say(&OWNER, "/switch page public on").await;
    let watch = |apps: herald::social::Apps| {
        let app = &app;
        async move {
            let settings = herald::social::Settings {
                linkedin_version: herald_bots::linkedin::current_version(app.now().date_naive())
                    .to_string(),
                apps,
            };
            let told =
                herald::social::tokens::check(app.db(), &app.app.templates, &settings, app.now())
                    .await
                    .unwrap();
            app.send_everything().await;
            told
        }
    };
    app.advance(TimeDelta::days(46));
    let configured = herald::social::Apps::of(&app.app.config);
    assert_eq!(watch(configured).await, 0);
    let renewed: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(stored(&app, "page").await["expires_at"].clone()).unwrap();
    assert_eq!(renewed, app.now() + TimeDelta::seconds(5_184_000));
    assert_eq!(
        stored(&app, "page").await["refresh_token"],
        "li-refresh-token"
    );

    // Without the app to renew it, the organisers are told 14 days before the end.
    app.advance(TimeDelta::days(47));
    assert_eq!(watch(herald::social::Apps::default()).await, 1);
    let texts = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        texts.contains("The access token of <b>page</b> on LinkedIn runs out on"),
        "{texts}"
    );
}

#[tokio::test]
async fn an_x_account_connected_with_oauth2_posts_and_its_token_is_renewed_once() {
    let app = spawn_with(true, None, true).await;
    let x = FakeX::start().await;
    let (browser, csrf) = signed_in(&app).await;
    add(&browser, &csrf, "x", "xconf", &x.url).await;
    let (status, location) = connect(&browser, &csrf, "xconf").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("https://x.com/i/oauth2/authorize?"),
        "{location}"
    );
    let query: std::collections::HashMap<_, _> = query_of(&location);
    assert_eq!(query["client_id"], fake_x::CLIENT_ID);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["redirect_uri"],
        "https://herald.fosdem.org/connect/x/oauth2/callback"
    );
    assert!(query["scope"].contains("offline.access"));

    // X sends the browser back with the code; the verifier Herald kept goes with it.
    let (status, _) = browser
        .get(&format!(
            "/connect/x/oauth2/callback?code={}&state={}",
            fake_x::CODE,
            query["state"]
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("/config?c={SLUG}")).await;
    assert!(page.contains("is connected: it posts as @fosdem"), "{page}");
    let credentials = stored(&app, "xconf").await;
    assert_eq!(credentials["client_id"], fake_x::CLIENT_ID);
    assert_eq!(credentials["refresh_token"], "x-refresh-0");

    app.say(&OWNER, "/provider on xconf").await;
    app.say(&OWNER, "/switch xconf public on").await;
    app.say(&OWNER, "/conference policy 2").await;
    app.say(&OWNER, "/post Doors open at nine").await;
    app.send_everything().await;
    assert_eq!(x.posts().len(), 1);
    assert_eq!(x.renewals(), (0, 0), "the token is fresh");

    // Two hours on, the access token has run out: two posts go out, one renewal is made (under the
    // provider's lock the second sender finds the new pair), and no spent refresh token is sent again.
    let mut expired = credentials.clone();
    expired["expires_at"] = serde_json::json!(chrono::Utc::now() - TimeDelta::minutes(1));
    let mut tx = app.db().begin().await.unwrap();
    let provider = herald::db::providers::provider_by_name(&mut tx, 1, "xconf")
        .await
        .unwrap()
        .unwrap();
    herald::db::providers::set_credentials(&mut tx, app.now(), provider.id, &expired)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.say(&OWNER, "/post Keynote in Janson at ten").await;
    app.say(&OWNER, "/post Lunch from noon in K").await;
    app.send_everything().await;
    assert_eq!(x.posts().len(), 3, "{:?}", x.posts());
    assert_eq!(x.renewals(), (1, 0));
    let renewed = stored(&app, "xconf").await;
    assert_eq!(renewed["refresh_token"], "x-refresh-1");
    assert_eq!(renewed["access_token"], "x-bearer-1");
}
