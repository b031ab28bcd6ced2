//! The words users read: minijinja templates from `templates/`, embedded in the binary at build time.
//!
//! `messages/*.html` are Telegram messages in Telegram's HTML dialect: values are HTML-escaped
//! automatically (Telegram understands `&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric entities), so user
//! text can never inject markup. Undefined variables are errors, so a typo in a template fails its test
//! instead of printing nothing.
//!
//! **Languages.** The templates at the top of `templates/` are English, the fallback. A translation lives
//! in a folder named by its two-letter ISO 639-1 code (`templates/de/messages/help.html`); a template
//! missing there is taken in English, and an `include` or `extends` inside a translation takes the
//! translated file when there is one. [`Templates::render_in`] renders for a reader's language and gives
//! the template `lang`; the `datetime` filter formats a time in that language with the patterns of
//! `dates/<style>.txt` and the locale of `dates/locale.txt`, in the time zone named by the context's `tz`
//! (or the offset the time carries).

use std::{borrow::Cow, collections::BTreeSet, sync::Arc};

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};
use serde::Serialize;

/// The language every template exists in, and the one used when a reader's has no template.
pub const ENGLISH: &str = "en";

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// Every shipped language, English first.
    languages: Vec<String>,
    names: Arc<BTreeSet<String>>,
}

/// The language folder a template name starts with (`de` of `de/messages/help.html`).
fn language_of(name: &str) -> Option<&str> {
    name.split_once('/')
        .map(|(first, _)| first)
        .filter(|first| first.len() == 2 && first.bytes().all(|b| b.is_ascii_lowercase()))
}

/// A template name without its language folder.
fn unlocalised(name: &str) -> &str {
    match language_of(name) {
        Some(lang) => &name[lang.len() + 1..],
        None => name,
    }
}

/// `{{ network|network }}`: a network's or platform's stored name (`linkedin`, `x`, `mastodon`,
/// `telegram`) as people write it (LinkedIn, X, Mastodon, Telegram).
fn network_name(name: &str) -> String {
    match name {
        "linkedin" => "LinkedIn".to_owned(),
        other => {
            let mut chars = other.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

/// The `datetime` filter: `{{ start|datetime("time") }}` formats an RFC 3339 time (or a `YYYY-MM-DD`
/// date) with the pattern `dates/<style>.txt` of the reader's language, in the zone named by `tz` when
/// the context has one.
fn datetime(state: &State, value: &Value, style: &str) -> Result<String, Error> {
    let invalid = |why: String| Error::new(ErrorKind::InvalidOperation, why);
    let lang = state
        .lookup("lang")
        .and_then(|l| l.as_str().map(str::to_owned))
        .unwrap_or_else(|| ENGLISH.to_owned());
    let text = value
        .as_str()
        .ok_or_else(|| invalid(format!("datetime needs a time as text, not {value}")))?;
    let env = state.env();
    let part = |file: &str| -> Result<String, Error> {
        let localised = format!("{lang}/dates/{file}");
        let template = env
            .get_template(&localised)
            .or_else(|_| env.get_template(&format!("dates/{file}")))?;
        Ok(template.render(())?.trim().to_owned())
    };
    let pattern = part(&format!("{style}.txt"))?;
    let locale = part("locale.txt")?;
    let locale = chrono::Locale::try_from(locale.as_str()).map_err(|_| {
        invalid(format!(
            "dates/locale.txt of {lang} names no locale: {locale}"
        ))
    })?;
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.format_localized(&pattern, locale).to_string());
    }
    let at: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(text)
        .map_err(|e| invalid(format!("datetime cannot read {text:?}: {e}")))?;
    let zone = state
        .lookup("tz")
        .and_then(|tz| tz.as_str().and_then(|tz| tz.parse::<chrono_tz::Tz>().ok()));
    Ok(match zone {
        Some(zone) => zone
            .from_utc_datetime(&at.naive_utc())
            .format_localized(&pattern, locale)
            .to_string(),
        None => at.format_localized(&pattern, locale).to_string(),
    })
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Whitespace rules first: they apply to templates as they are loaded.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        minijinja_embed::load_templates!(&mut env);
        let names: Arc<BTreeSet<String>> =
            Arc::new(env.templates().map(|(name, _)| name.to_owned()).collect());
        let mut languages = vec![ENGLISH.to_owned()];
        for name in names.iter() {
            if let Some(lang) = language_of(name)
                && !languages.iter().any(|l| l == lang)
            {
                languages.push(lang.to_owned());
            }
        }
        // `{% include "messages/x.html" %}` in a translation takes the translated file when it exists.
        let known = names.clone();
        env.set_path_join_callback(move |name, parent| match language_of(parent) {
            Some(lang) if language_of(name).is_none() => {
                let localised = format!("{lang}/{name}");
                if known.contains(&localised) {
                    Cow::Owned(localised)
                } else {
                    Cow::Borrowed(name)
                }
            }
            _ => Cow::Borrowed(name),
        });
        env.add_filter("datetime", datetime);
        env.add_filter("network", network_name);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Telegram's HTML needs only `<`, `>`, `&` and `"` escaped; minijinja's HTML escaping also turns
        // `/` into `&#x2f;`, which Telegram would accept but which makes links and texts unreadable in
        // logs and tests.
        env.set_formatter(|out, state, value| {
            // Chat messages are Telegram HTML (which needs only <, > and & escaped, and would show
            // &quot; as it is); web pages get full HTML escaping, attributes included. Mail is escaped
            // like chat messages (its attributes are double-quoted), so its links stay readable in the
            // raw message.
            if *state.auto_escape() == AutoEscape::Html
                && !unlocalised(state.name()).starts_with("web/")
                && !value.is_safe()
                && !value.is_undefined()
                && !value.is_none()
            {
                out.write_str(&herald_bots::html::escape_html(&value.to_string()))
                    .map_err(|_| {
                        minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "could not write")
                    })
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        Self {
            env,
            languages,
            names,
        }
    }

    /// Renders `name` (e.g. `messages/start_welcome.html`) in English with `context`.
    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        self.render_in(ENGLISH, name, context)
    }

    /// Renders `name` in `lang` (a shipped language, see [`Self::language`]), or in English where that
    /// language has no such template; the template sees `lang`.
    pub fn render_in(
        &self,
        lang: &str,
        name: &str,
        context: impl Serialize,
    ) -> anyhow::Result<String> {
        let localised = format!("{lang}/{name}");
        let name = if lang != ENGLISH && self.names.contains(&localised) {
            localised.as_str()
        } else {
            name
        };
        let template = self
            .env
            .get_template(name)
            .with_context(|| format!("Failed to find template {name}"))?;
        let context =
            minijinja::context! { lang => lang, ..Value::from(minijinja::value::Serde(&context)) };
        let text = template
            .render(context)
            .with_context(|| format!("Failed to render template {name}"))?;
        Ok(text.trim().to_owned())
    }

    /// The templates as a reader of `lang` (a shipped language or `None` for English) reads them.
    pub fn words<'a>(&'a self, lang: Option<&'a str>) -> Words<'a> {
        Words {
            templates: self,
            lang: lang.unwrap_or(ENGLISH),
        }
    }

    /// Whether `lang` has its own `name` (English has every template).
    pub fn has(&self, lang: &str, name: &str) -> bool {
        if lang == ENGLISH {
            self.names.contains(name)
        } else {
            self.names.contains(&format!("{lang}/{name}"))
        }
    }

    /// The variables template `name` reads from its context (`user.name` for a nested one), for checking
    /// that a translation asks for nothing its English original is not given.
    pub fn variables(&self, name: &str) -> anyhow::Result<BTreeSet<String>> {
        let template = self
            .env
            .get_template(name)
            .with_context(|| format!("Failed to find template {name}"))?;
        Ok(template.undeclared_variables(true).into_iter().collect())
    }

    /// The shipped languages, English first.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// The shipped language a code names: `de` for `de`, `de-AT` or `DE_ch` when German is shipped;
    /// `None` for a language Herald does not speak.
    pub fn language(&self, code: &str) -> Option<&str> {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        self.languages
            .iter()
            .find(|l| **l == primary)
            .map(String::as_str)
    }

    /// Every template's name (translations under their language folder), for tests that render them all.
    pub fn names(&self) -> Vec<String> {
        self.names.iter().cloned().collect()
    }
}

/// The templates in one reader's language: what renders a message for one recipient.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    templates: &'a Templates,
    lang: &'a str,
}

impl Words<'_> {
    /// Renders `name` in this language (English where it has none).
    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        self.templates.render_in(self.lang, name, context)
    }

    /// The language, `en` for English.
    pub fn lang(&self) -> &str {
        self.lang
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_loads() {
        let templates = Templates::new();
        let names = templates.names();
        assert!(
            names.iter().any(|n| n == "messages/start_owner.html"),
            "{names:?}"
        );
        for name in names {
            assert!(templates.env.get_template(&name).is_ok(), "{name}");
        }
    }

    #[test]
    fn html_templates_escape_user_text_for_telegram_and_keep_slashes() {
        let templates = Templates::new();
        let text = templates
            .render("messages/dm.html", serde_json::json!({ "from": "<Eve>", "conference": "A & B", "text": "see https://x.org/a" }))
            .expect("renders");
        assert!(
            text.contains("&lt;Eve&gt;")
                && text.contains("A &amp; B")
                && text.contains("https://x.org/a"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_naming_the_template() {
        let err = Templates::new()
            .render("messages/dm.html", serde_json::json!({}))
            .expect_err("strict");
        assert!(format!("{err:#}").contains("messages/dm.html"), "{err:#}");
    }
}
