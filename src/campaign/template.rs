//! Post templates: the minijinja environment campaigns, sponsor benefits and `herald template render` share.
//!
//! It behaves like the reference system's Jinja setup: no autoescaping (posts are plain text), undefined
//! values print as nothing (Jinja2's default), minijinja-contrib's filters and Python-style methods, and four
//! filters of the reference system's own: `social` (the object's handle on the network being rendered, or
//! none), `applymacro` (a macro of the template, by name, usable in `map`), `slugify` (Django's) and
//! `truncate` (Jinja2's, with its `leeway`). A template runs on fuel, so a runaway loop stops with an error
//! instead of hanging the bot. Each template is rendered once per network, with `network` set.
//!
//! Context objects follow the reference system's models: a person prints as their name; a session's
//! speakers are `session.speakers` and also `session.speaker.all()` / `session.speaker.first()`.

use std::{fmt, sync::Arc};

use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior,
    value::{Object, Serde, Value},
};
use unicode_normalization::UnicodeNormalization;

/// Instructions a template may run: plenty for a post, a few milliseconds of work.
pub const FUEL: u64 = 100_000;

/// A template that could not be compiled or rendered, with the line it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

impl From<Error> for TemplateError {
    fn from(err: Error) -> Self {
        let message = match err.kind() {
            ErrorKind::OutOfFuel => {
                "the template ran too long (a loop that does not end?) and was stopped".to_owned()
            }
            _ => err.detail().map_or_else(
                || err.kind().to_string(),
                |d| format!("{}: {d}", err.kind()),
            ),
        };
        Self {
            line: err.line(),
            message,
        }
    }
}

/// The environment post templates render in.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(FUEL));
    env.add_filter("social", social);
    env.add_filter("applymacro", applymacro);
    env.add_filter("slugify", slugify_filter);
    env.add_filter("truncate", truncate_filter);
    env
}

/// Checks that `source` compiles; the error names the line.
pub fn check(source: &str) -> Result<(), TemplateError> {
    let env = environment();
    env.template_from_str(source)?;
    Ok(())
}

/// Renders `source` with `context` (JSON in the campaign shape, see [`context_value`]) for `network`.
pub fn render(
    source: &str,
    context: &serde_json::Value,
    network: &str,
) -> Result<String, TemplateError> {
    let env = environment();
    let template = env.template_from_str(source)?;
    let mut ctx = context_value(context);
    if let serde_json::Value::Object(_) = context {
        ctx = minijinja::context! { network => network, ..ctx };
    }
    Ok(template.render(ctx)?)
}

/// The handle of `value` (a person, a sponsor: anything with a `social` map) on the network being rendered.
fn social(state: &State, value: &Value) -> Result<Value, Error> {
    let network = state
        .lookup("network")
        .filter(|n| !n.is_undefined() && !n.is_none());
    let Some(network) = network else {
        return Ok(Value::from(()));
    };
    let handle = value
        .get_attr("social")
        .ok()
        .filter(|m| !m.is_undefined() && !m.is_none())
        .and_then(|m| m.get_item(&network).ok())
        .filter(|h| !h.is_undefined() && !h.is_none() && h.is_true());
    Ok(handle.unwrap_or_else(|| Value::from(())))
}

/// Calls the template's macro `name` with `value`: `speakers|map("applymacro", "speaker")`.
fn applymacro(state: &mut State, value: Value, name: &str) -> Result<Value, Error> {
    let Some(function) = state.lookup(name).filter(|m| !m.is_undefined()) else {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("applymacro: there is no macro called {name}"),
        ));
    };
    function.call(state, &[value])
}

/// Django's `slugify`: Unicode folded to ASCII (NFKD, the rest dropped), lowercased, anything but letters,
/// digits, underscores, spaces and hyphens dropped, runs of spaces and hyphens made one hyphen, hyphens and
/// underscores trimmed from the ends.
pub fn slugify(value: &str) -> String {
    let ascii: String = value.nfkd().filter(char::is_ascii).collect();
    let kept: String = ascii
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || is_space(*c))
        .collect();
    let mut out = String::with_capacity(kept.len());
    let mut in_run = false;
    for c in kept.chars() {
        if c == '-' || is_space(c) {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out.trim_matches(['-', '_']).to_owned()
}

/// Python's `\s` on ASCII.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn slugify_filter(value: &Value) -> String {
    slugify(&value.to_string())
}

/// Jinja2's `truncate(length=255, killwords=False, end='...', leeway=None)`; the leeway defaults to 5 (the
/// `truncate.leeway` policy). Lengths count characters, as Python does.
pub fn truncate(
    text: &str,
    length: usize,
    killwords: bool,
    end: &str,
    leeway: usize,
) -> Result<String, String> {
    let end_len = end.chars().count();
    if length < end_len {
        return Err(format!(
            "truncate: the length {length} is shorter than the end {end:?}"
        ));
    }
    if text.chars().count() <= length + leeway {
        return Ok(text.to_owned());
    }
    let head: String = text.chars().take(length - end_len).collect();
    if killwords {
        return Ok(head + end);
    }
    let cut = head
        .rsplit_once(' ')
        .map_or(head.as_str(), |(before, _)| before);
    Ok(format!("{cut}{end}"))
}

fn truncate_filter(
    value: &Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<&str>,
    leeway: Option<usize>,
) -> Result<String, Error> {
    truncate(
        &value.to_string(),
        length.unwrap_or(255),
        killwords.unwrap_or(false),
        end.unwrap_or("..."),
        leeway.unwrap_or(5),
    )
    .map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
}

/// A person (speaker): prints as their name; `name`, `company`, `social` and anything else given.
#[derive(Debug)]
struct Person(serde_json::Map<String, serde_json::Value>);

impl Object for Person {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        key.as_str()
            .and_then(|k| self.0.get(k))
            .map(|v| Value::from(Serde(v)))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get("name").and_then(|n| n.as_str()).unwrap_or(""))
    }
}

/// A session's speakers as the reference system's related manager: `all()` and `first()`.
#[derive(Debug)]
struct Speakers(Vec<Value>);

impl Object for Speakers {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if !args.is_empty() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!("speaker.{method}() takes no arguments"),
            ));
        }
        match method {
            "all" => Ok(Value::from(self.0.clone())),
            "first" => Ok(self.0.first().cloned().unwrap_or_else(|| Value::from(()))),
            "count" => Ok(Value::from(self.0.len())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

fn ser(value: &serde_json::Value) -> Value {
    Value::from(Serde(value))
}

fn person(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Object(map) => Value::from_object(Person(map.clone())),
        other => ser(other),
    }
}

/// The context as templates see it: JSON values, with `session.speakers` as people and `session.speaker`
/// their manager.
pub fn context_value(context: &serde_json::Value) -> Value {
    let serde_json::Value::Object(top) = context else {
        return ser(context);
    };
    let mut out = std::collections::BTreeMap::new();
    for (key, value) in top {
        let converted = match (key.as_str(), value) {
            ("session", serde_json::Value::Object(session)) => {
                let speakers: Vec<Value> = session
                    .get("speakers")
                    .and_then(|s| s.as_array())
                    .map(|list| list.iter().map(person).collect())
                    .unwrap_or_default();
                let mut fields: std::collections::BTreeMap<String, Value> =
                    session.iter().map(|(k, v)| (k.clone(), ser(v))).collect();
                fields.insert("speakers".into(), Value::from(speakers.clone()));
                fields.insert("speaker".into(), Value::from_object(Speakers(speakers)));
                Value::from(fields)
            }
            _ => ser(value),
        };
        out.insert(key.clone(), converted);
    }
    Value::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugify_is_djangos() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Ünïcödé -- déjà vu  "), "unicode-deja-vu");
        assert_eq!(
            slugify("PostgreSQL 17: what's new?"),
            "postgresql-17-whats-new"
        );
        assert_eq!(slugify("_under_score_"), "under_score");
        assert_eq!(slugify("日本語 talk"), "talk");
        assert_eq!(slugify("a\t\nb---c"), "a-b-c");
    }

    #[test]
    fn truncate_is_jinja2s() {
        let s = "The quick brown fox jumps over the lazy dog";
        assert_eq!(truncate(s, 255, false, "...", 5).unwrap(), s);
        assert_eq!(
            truncate(s, 20, false, "...", 0).unwrap(),
            "The quick brown..."
        );
        assert_eq!(
            truncate(s, 20, true, "...", 0).unwrap(),
            "The quick brown f..."
        );
        // Within the leeway nothing is cut.
        assert_eq!(truncate(s, 40, false, "...", 5).unwrap(), s);
        assert!(truncate(s, 2, false, "...", 0).is_err());
        assert_eq!(
            truncate("ééééé ééééé", 8, true, "…", 0).unwrap(),
            "ééééé é…"
        );
    }

    #[test]
    fn social_and_applymacro_follow_the_network() {
        let context = json!({
            "session": { "title": "T", "speakers": [
                { "name": "Ada", "social": { "mastodon": "@ada@m.example" } },
                { "name": "Bob", "social": {} },
            ]},
        });
        let source = r#"{% macro sp(s) %}{{ s }}{% if s|social %} ({{ s|social }}){% endif %}{% endmacro %}{{ session.speaker.all()|map("applymacro", "sp")|join(" and ") }} / {{ session.speaker.first() }}"#;
        assert_eq!(
            render(source, &context, "mastodon").unwrap(),
            "Ada (@ada@m.example) and Bob / Ada"
        );
        assert_eq!(
            render(source, &context, "bluesky").unwrap(),
            "Ada and Bob / Ada"
        );
    }

    #[test]
    fn errors_name_the_line_and_loops_run_out_of_fuel() {
        let err = render("one\ntwo {{ oops(\n", &json!({}), "mastodon").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.to_string().starts_with("line 2: syntax error"), "{err}");
        let err = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            &json!({}),
            "mastodon",
        )
        .unwrap_err();
        assert!(err.message.contains("ran too long"), "{err}");
        let err = render("{{ x|applymacro('nope') }}", &json!({ "x": 1 }), "m").unwrap_err();
        assert!(err.message.contains("no macro called nope"), "{err}");
        assert_eq!(
            render("[{{ missing }}]", &json!({}), "m").unwrap(),
            "[]",
            "as Jinja2"
        );
    }
}
