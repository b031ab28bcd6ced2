//! Languages: every shipped translation is complete, and a person reads Herald in theirs — from
//! Telegram's `language_code` on first contact, or `/settings language` — with dates in their language
//! and the conference's time zone; web pages follow the browser's `Accept-Language`.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{Locale, TimeDelta};
use herald::templates::Templates;
use support::{ADA, TestApp, schedule_json};

/// A translation's folder: a two-letter first path component.
fn localised(name: &str) -> bool {
    name.split_once('/')
        .is_some_and(|(first, _)| first.len() == 2 && first.bytes().all(|b| b.is_ascii_lowercase()))
}

#[test]
fn every_shipped_language_has_every_template_and_every_help_line() {
    let templates = Templates::new();
    assert_eq!(templates.language("de-AT"), Some("de"));
    assert_eq!(templates.language("EN_gb"), Some("en"));
    assert_eq!(templates.language("xx"), None);
    let names = templates.names();
    let english: Vec<&String> = names
        .iter()
        .filter(|n| !localised(n) && !n.ends_with(".css") && !n.ends_with(".js"))
        .collect();
    let others: Vec<&String> = templates
        .languages()
        .iter()
        .filter(|l| *l != "en")
        .collect();
    assert!(!others.is_empty(), "German ships");
    let mut problems = Vec::new();
    for lang in others {
        for name in &english {
            if !templates.has(lang, name) {
                problems.push(format!("{lang} lacks {name}"));
            }
        }
        // A translation whose English template was renamed or dropped is left behind.
        for name in names
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{lang}/")))
        {
            if !name.starts_with("help/") && !english.iter().any(|e| *e == name) {
                problems.push(format!("{lang}/{name} translates no English template"));
            }
        }
        for spec in herald_commands::catalog() {
            let name = format!("help/{}.txt", spec.name.replace(' ', "_"));
            match templates
                .words(Some(lang))
                .render(&name, serde_json::json!({}))
            {
                Ok(line) if !line.is_empty() && !line.contains('\n') => {}
                Ok(line) => problems.push(format!("{lang}/{name} is not one line: {line:?}")),
                Err(_) if !templates.has(lang, &name) => {
                    problems.push(format!("{lang} lacks the help line {name}"));
                }
                Err(err) => problems.push(format!("{lang}/{name}: {err:#}")),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A translation reads only what its English original is given (strict undefined would fail it at runtime,
/// on a page or in a mail no test renders in that language).
#[test]
fn every_translation_reads_only_what_its_english_template_is_given() {
    let templates = Templates::new();
    let mut problems = Vec::new();
    for name in templates.names().iter().filter(|n| !localised(n)) {
        if name.ends_with(".css") || name.ends_with(".js") {
            continue;
        }
        let english = templates.variables(name).unwrap();
        for lang in templates.languages().iter().filter(|l| *l != "en") {
            if !templates.has(lang, name) {
                continue;
            }
            let translated = templates.variables(&format!("{lang}/{name}")).unwrap();
            // `lang` is given to every template; the date filter reads `tz` where the context has it.
            let extra: Vec<_> = translated
                .difference(&english)
                .filter(|v| *v != "lang" && *v != "tz")
                .collect();
            if !extra.is_empty() {
                problems.push(format!("{lang}/{name} reads {extra:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_date_filter_writes_the_readers_language_in_the_conferences_zone() {
    let templates = Templates::new();
    let now = |lang| {
        templates
            .words(Some(lang))
            .render(
                "messages/schedule_now.html",
                serde_json::json!({ "sessions": [], "time": "2027-02-06T08:30:00Z", "tz": "Europe/Brussels" }),
            )
            .unwrap()
    };
    // 08:30 UTC is 09:30 in Brussels in February.
    assert!(now("en").contains("(09:30)"), "{}", now("en"));
    assert!(now("de").contains("(09:30)"), "{}", now("de"));
    let day = |lang| {
        templates
            .words(Some(lang))
            .render(
                "messages/schedule_today.html",
                serde_json::json!({ "sessions": [], "day": "2027-02-06", "page": 1, "pages": 1, "conference": "FOSDEM" }),
            )
            .unwrap()
    };
    assert!(day("en").contains("Saturday 06 February"), "{}", day("en"));
    assert!(day("de").contains("Samstag, 6. Februar"), "{}", day("de"));
}

#[tokio::test]
async fn a_german_telegram_user_reads_herald_in_german_until_they_switch() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let start = app.now() + TimeDelta::hours(1);
    app.import(&schedule_json(&[(
        "a",
        "Rust in Space",
        "K.1.105",
        start,
        45,
        "confirmed",
    )]))
    .await;
    let token = app.invite("attendee").await;
    let mut update = app.message_update(&ADA, ADA.id, &format!("/start {token}"));
    update["message"]["from"]["language_code"] = "de-AT".into();
    let before = app.telegram.texts_to(ADA.id).len();
    app.deliver(&[update]).await;
    let welcome = app.telegram.texts_to(ADA.id).split_off(before);
    assert!(!welcome.is_empty());

    let local = start.with_timezone(&chrono_tz::Europe::Brussels);
    let german_day = local.format_localized("%A", Locale::de_DE).to_string();
    let english_day = local.format("%A").to_string();
    let today = app.say(&ADA, "/today").await.join("\n");
    assert!(today.contains(&german_day), "{today}");
    assert!(!today.contains(&english_day), "{today}");

    let list = app.say(&ADA, "/settings language").await.join("\n");
    assert!(
        list.contains("Deutsch") && list.contains("English"),
        "{list}"
    );
    let unknown = app.say(&ADA, "/settings language xx").await.join("\n");
    assert!(unknown.contains("<code>xx</code>"), "{unknown}");
    let switched = app.say(&ADA, "/settings language en").await.join("\n");
    assert!(switched.contains("in English"), "{switched}");
    let today = app.say(&ADA, "/today").await.join("\n");
    assert!(today.contains(&english_day), "{today}");
    // Telegram's hint counts on first contact only: her choice stays.
    let mut update = app.message_update(&ADA, ADA.id, "/today");
    update["message"]["from"]["language_code"] = "de".into();
    let before = app.telegram.texts_to(ADA.id).len();
    app.deliver(&[update]).await;
    let today = app.telegram.texts_to(ADA.id).split_off(before).join("\n");
    assert!(today.contains(&english_day), "{today}");
}

#[tokio::test]
async fn web_pages_answer_in_the_browsers_language() {
    let app = TestApp::spawn().await;
    let page = |language: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/", app.base_url));
        if let Some(language) = language {
            request = request.header("Accept-Language", language);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(None).await.contains(r#"<html lang="en">"#));
    assert!(
        page(Some("de-DE,de;q=0.9,en;q=0.8"))
            .await
            .contains(r#"<html lang="de">"#)
    );
    assert!(
        page(Some("fr-FR,fr;q=0.9,de;q=0.5"))
            .await
            .contains(r#"<html lang="de">"#)
    );
    assert!(
        page(Some("fr-FR,de;q=0"))
            .await
            .contains(r#"<html lang="en">"#)
    );
}
