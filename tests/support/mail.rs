//! Reading mail in tests: from the in-process SMTP server, the `.eml` folder or a real server's Maildir,
//! as text where headers and links can be looked up whole.

#![allow(dead_code)]

use chrono::TimeDelta;

pub use super::fake_smtp::readable;
use super::{ADA, OWNER, TestApp, schedule_json};

/// The first link in `text` whose address contains `part`.
pub fn link_in(text: &str, part: &str) -> String {
    let at = text
        .find(part)
        .unwrap_or_else(|| panic!("no {part} in {text}"));
    let start = text[..at].rfind("http").expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>'))
        .collect()
}

/// A header as its reader sees it: RFC 2047 encoded words (`=?utf-8?b?…?=`, as `lettre` writes a
/// non-ASCII subject) decoded.
pub fn decoded(value: &str) -> String {
    use base64::Engine as _;
    value
        .split_whitespace()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            match lower
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                Some(_) => {
                    let encoded = &word["=?utf-8?b?".len()..word.len() - 2];
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .unwrap();
                    (String::from_utf8(bytes).unwrap(), true)
                }
                None => (word.to_owned(), false),
            }
        })
        .fold(
            (String::new(), false),
            |(mut out, was_encoded), (word, encoded)| {
                // Whitespace between two encoded words is not part of the text.
                if !(out.is_empty() || was_encoded && encoded) {
                    out.push(' ');
                }
                out.push_str(&word);
                (out, encoded)
            },
        )
        .0
}

/// The value of header `name` in a message.
pub fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// The messages in a Maildir's `new/` whose envelope recipient (aiosmtpd's `X-RcptTo`) is `address`,
/// oldest first.
pub fn maildir_to(dir: &str, address: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(std::path::Path::new(dir).join("new")) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((
                modified,
                readable(&text.replace('\n', "\r\n").replace("\r\r\n", "\r\n")),
            ))
        })
        .filter(|(_, text)| {
            header(text, "X-RcptTo").is_some_and(|to| to.split(", ").any(|t| t == address))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, text)| text).collect()
}

/// Herald with its mail going to the SMTP server at `url`, an owner and a conference.
pub async fn spawn_with_smtp(url: &str) -> TestApp {
    let url = url.to_owned();
    let app = TestApp::spawn_with(
        move |c| c.email.smtp_url = Some(herald::config::SecretUrl::new(url)),
        herald::inbox::Handlers::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    app
}

/// Ada joins as an attendee, asks for mail at `address` and confirms it through the link mailed to her
/// (`mails` reads what reached an address). Checks that nothing but the confirmation goes there before.
pub async fn ada_confirms(app: &TestApp, address: &str, mails: impl Fn(&str) -> Vec<String>) {
    app.join(&ADA, "attendee").await;
    let replies = app.say(&ADA, &format!("/settings email {address}")).await;
    assert!(
        replies[0].contains("mailed a confirmation link"),
        "{replies:?}"
    );
    app.send_everything().await;
    let received = mails(address);
    assert_eq!(received.len(), 1, "only the confirmation: {received:?}");
    assert_eq!(
        header(&received[0], "Subject"),
        Some("Confirm your e-mail address for Herald")
    );
    let confirm = link_in(&received[0], "/mail/confirm/");
    // Opening the link changes nothing (mail scanners open links); the button does.
    let page = app.http.get(&confirm).send().await.expect("GET");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("page")
            .contains("Confirm this address")
    );
    let dm = app.say(&OWNER, "/dm @ada Before confirming").await;
    assert!(dm[0].contains("Queued a message"), "{dm:?}");
    app.send_everything().await;
    assert_eq!(mails(address).len(), 1, "nothing before confirmation");
    let done = app.http.post(&confirm).send().await.expect("POST");
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .expect("page")
            .contains("Address confirmed")
    );
    let again = app.http.post(&confirm).send().await.expect("POST");
    assert_eq!(again.status(), 410, "a confirmation link works once");
}

/// Imports two sessions, an hour and two hours from now, and lets the first one's reminder go out.
pub async fn first_of_two_reminders(app: &TestApp) {
    let t0 = app.now();
    let sessions = [
        (
            "a",
            "Rust in Space",
            "K.1.105",
            t0 + TimeDelta::hours(1),
            45,
            "confirmed",
        ),
        (
            "b",
            "Zig on Mars",
            "H.2215",
            t0 + TimeDelta::hours(2),
            45,
            "confirmed",
        ),
    ];
    app.import(&schedule_json(&sessions)).await;
    app.advance(TimeDelta::minutes(50));
    app.send_everything().await;
}

/// Checks that `mail` says it is automatic and offers a one-click unsubscribe, then does what a mail
/// client does with it (RFC 8058: a POST of `List-Unsubscribe=One-Click`). Returns the address and the
/// answer, which must be a success.
pub async fn one_click_unsubscribe(app: &TestApp, mail: &str) -> (String, reqwest::Response) {
    assert_eq!(header(mail, "Auto-Submitted"), Some("auto-generated"));
    assert_eq!(
        header(mail, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = header(mail, "List-Unsubscribe")
        .expect("List-Unsubscribe")
        .trim_matches(['<', '>'])
        .to_owned();
    let answer = app
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status(), 200);
    (unsubscribe, answer)
}
