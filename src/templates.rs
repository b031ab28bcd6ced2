//! The words users read: minijinja templates from `templates/`, embedded in the binary at build time.
//!
//! `messages/*.html` are Telegram messages in Telegram's HTML dialect: values are HTML-escaped
//! automatically (Telegram understands `&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric entities), so user
//! text can never inject markup. Undefined variables are errors, so a typo in a template fails its test
//! instead of printing nothing.

use anyhow::Context;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
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
                && !state.name().starts_with("web/")
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
        Self { env }
    }

    /// Renders `name` (e.g. `messages/start_welcome.html`) with `context`.
    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        let template = self
            .env
            .get_template(name)
            .with_context(|| format!("Failed to find template {name}"))?;
        let text = template
            .render(minijinja::value::Serde(&context))
            .with_context(|| format!("Failed to render template {name}"))?;
        Ok(text.trim().to_owned())
    }

    /// Every template's name, for tests that render them all.
    pub fn names(&self) -> Vec<String> {
        self.env
            .templates()
            .map(|(name, _)| name.to_owned())
            .collect()
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
