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
