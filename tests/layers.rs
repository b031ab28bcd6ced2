//! The module layering of the `herald` crate, enforced by reading its source.
//!
//! Every top-level module of `src/` (`src/db/outbox.rs` belongs to `db`) sits in one layer of
//! [`LAYERS`], lowest first. A file may use modules of its own layer and of lower layers, never of
//! a higher one. A use is any `crate::<module>` path — in `use` lines, grouped imports or inline —
//! and, in `src/main.rs` and `src/bin/`, any `herald::<module>` path. Comments and string literals
//! don't count, and `super::` never leaves a module. The `bots/` and `commands/` crates sit below
//! all of it: they use nothing of the application.
//!
//! A new module fails this test until it is placed: add it to the lowest layer that has everything
//! it uses. If a file then reaches upwards, move the code down or pass the value in; don't move
//! the module up.

use std::{fs, path::Path};

/// The layers, lowest first; a module may use its own layer and every layer before it.
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    // Leaf services that know no domain: settings, time, secrets, words, worker health.
    ("base", &["config", "clock", "token", "templates", "health", "images", "metrics"]),
    // The database: every query, and nothing that decides.
    ("store", &["db"]),
    // Durable queues: inbound events in, outbound messages out.
    ("queues", &["inbox", "outbox", "singleton"]),
    // Sending what the outbox holds.
    ("delivery", &["delivery"]),
    // What a conference does; siblings here may use each other.
    ("domain", &["links", "people", "posts", "mentions", "schedule", "campaign", "news", "sponsors", "conferences"]),
    // Where people meet it: chat, web, the platforms, listeners.
    ("surfaces", &["chat", "web", "telegram", "email", "social", "listen", "platforms"]),
    // Wiring it all together, the command line that runs it, and the crate roots (items re-exported at
    // the root count as `lib`).
    ("top", &["app", "cli", "lib", "main"]),
];

/// The position and name of a module's layer.
fn layer(module: &str) -> Option<(usize, &'static str)> {
    let level = LAYERS.iter().position(|l| l.1.contains(&module))?;
    Some((level, LAYERS[level].0))
}

/// `(path, text)` of every `.rs` and `Cargo.toml` file under `dir`, sorted; `target/` is skipped.
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(option_env!("CARGO_MANIFEST_DIR").unwrap_or("."));
    let mut found = vec![];
    for entry in fs::read_dir(root.join(dir)).expect("a readable directory") {
        let path = format!("{dir}/{}", entry.expect("an entry").file_name().display());
        if root.join(&path).is_dir() && !path.ends_with("/target") {
            found.extend(sources(&path));
        } else if path.ends_with(".rs") || path.ends_with("/Cargo.toml") {
            let text = fs::read_to_string(root.join(&path)).expect("a text file");
            found.push((path, text));
        }
    }
    found.sort();
    found
}

fn ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `source` with comments and string and char literals blanked out, newlines kept.
fn code_only(source: &str) -> String {
    let s: Vec<char> = source.chars().collect();
    let find = |from, pat: &str| {
        let pat: Vec<char> = pat.chars().collect();
        (from..s.len()).find(|&j| s[j..].starts_with(&pat))
    };
    let (mut out, mut i) = (String::new(), 0);
    while i < s.len() {
        let at = |k: usize| s.get(i + k).copied().unwrap_or('\0');
        let raw = s[i + 1..].iter().take_while(|&&c| c == '#').count();
        let end = match (at(0), at(1)) {
            ('/', '/') => find(i, "\n"),
            ('/', '*') => find(i + 2, "*/").map(|j| j + 2),
            ('r', _) if at(raw + 1) == '"' && (i == 0 || !ident(s[i - 1]) || s[i - 1] == 'b') => {
                find(i + raw + 2, &format!("\"{}", "#".repeat(raw))).map(|j| j + raw + 1)
            }
            ('"', _) => {
                let mut j = i + 1;
                while j < s.len() && s[j] != '"' {
                    j += if s[j] == '\\' { 2 } else { 1 };
                }
                Some(j + 1)
            }
            ('\'', '\\') => find(i + 3, "'").map(|j| j + 1),
            ('\'', _) if at(2) == '\'' => Some(i + 3),
            (c, _) => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        let end = end.unwrap_or(s.len()).min(s.len());
        out.extend(s[i..end].iter().map(|&c| if c == '\n' { c } else { ' ' }));
        i = end;
    }
    out
}

/// Every top-level name reached through `prefix::` (`crate` or `herald`), with its line.
fn references(source: &str, prefix: &str) -> Vec<(usize, String)> {
    let code: Vec<char> = code_only(source).chars().collect();
    let pattern: Vec<char> = format!("{prefix}::").chars().collect();
    let line = |i: usize| 1 + code[..i].iter().filter(|&&c| c == '\n').count();
    let word = |i: usize| String::from_iter(code[i..].iter().take_while(|c| ident(**c)));
    let mut found = vec![];
    for start in 0..code.len() {
        let after_path = start > 0 && (ident(code[start - 1]) || code[start - 1] == ':');
        if after_path || !code[start..].starts_with(&pattern) {
            continue;
        }
        let mut i = start + pattern.len();
        while code.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if code.get(i) != Some(&'{') {
            found.push((line(i), word(i)));
            continue;
        }
        // A group: the first name of each comma-separated entry at the outer level.
        let (mut depth, mut entry) = (0, false);
        for (i, &c) in code.iter().enumerate().skip(i) {
            match c {
                '{' => (depth, entry) = (depth + 1, depth == 0),
                '}' if depth == 1 => break,
                '}' => depth -= 1,
                ',' => entry = depth == 1,
                c if entry && ident(c) => {
                    found.push((line(i), word(i)));
                    entry = false;
                }
                c => entry &= c.is_whitespace(),
            }
        }
    }
    found.retain(|(_, name)| !name.is_empty() && name != "self");
    found
}

/// The layering problems of one file, given by its path (`src/db/outbox.rs`).
fn violations(path: &str, source: &str) -> Vec<String> {
    let first = path.split('/').nth(1).unwrap_or_default();
    let module = match first.trim_end_matches(".rs") {
        "bin" => "main",
        module => module,
    };
    let Some((level, name)) = layer(module) else {
        return vec![format!(
            "{path}: `{module}` is in no layer: add it to LAYERS"
        )];
    };
    let mut refs = references(source, "crate");
    if module == "main" {
        refs.extend(references(source, "herald"));
    }
    let mut found = vec![];
    for (line, other) in refs {
        // Anything else at the crate root is an item of `lib.rs`.
        let (up, up_name) = layer(&other).or(layer("lib")).expect("lib is placed");
        let message = format!("{path}:{line}: {module} (layer {name}) imports {other}");
        if up > level {
            found.push(format!("{message} (layer {up_name})"));
        }
    }
    found.dedup();
    found
}

#[test]
fn modules_use_only_their_own_layer_and_lower_ones() {
    let mut problems = vec![];
    for (path, source) in sources("src") {
        problems.extend(violations(&path, &source));
    }
    problems.iter().for_each(|problem| eprintln!("{problem}"));
    let n = problems.len();
    assert!(n == 0, "{n} layering violation(s), listed above");
}

#[test]
fn bots_and_commands_use_nothing_of_the_application() {
    let mut problems = vec![];
    for (path, text) in [sources("bots"), sources("commands")].concat() {
        let mut dependencies = false;
        for (n, line) in text.lines().enumerate() {
            let bare = line.replace([' ', '\t', '"'], "");
            if bare.starts_with('[') {
                dependencies = bare.contains("dependencies");
            }
            let uses_herald = if path.ends_with(".rs") {
                line.match_indices("herald::")
                    .any(|(i, _)| !line[..i].ends_with(ident))
            } else {
                let herald = bare.starts_with("herald=") || bare.starts_with("herald.");
                dependencies && herald
                    || bare.contains("dependencies.herald]")
                    || bare.contains("package=herald")
            };
            if uses_herald {
                problems.push(format!("{path}:{}: {line}", n + 1));
            }
        }
    }
    let problems = problems.join("\n");
    assert!(problems.is_empty(), "drivers using the app:\n{problems}");
}

#[test]
fn the_checker_sees_what_it_must_and_nothing_else() {
    let grouped = "use crate::{\n    db::{Tx, chat},\n    templates::Templates,\n};\n";
    let names = [(2, "db".to_string()), (3, "templates".to_string())];
    assert_eq!(references(grouped, "crate"), names);
    let upwards = "use crate::{\n    config::Config,\n    chat::{notify, links},\n};\n";
    let expected = "src/db/x.rs:3: db (layer store) imports chat (layer surfaces)";
    assert_eq!(violations("src/db/x.rs", upwards), [expected]);
    let inline = "fn f() -> u64 {\n    crate::chat::links::hash(\"x\")\n}\n";
    let root_item = "fn f() -> crate::Application {}";
    let documented = "/// Hashed by [`crate::chat::links::hash`].\n/* crate::web */ fn f() {}";
    let downwards = "use crate::{db::Tx, outbox, config::{self, Config}};";
    let lookalikes = r##"("crate::web", r#"crate::web"#, '"', my_crate::web::f, x::crate::web)"##;
    let cases = [
        (inline, 1),
        (root_item, 1),
        (documented, 0),
        (downwards, 0),
        (lookalikes, 0),
    ];
    for (source, count) in cases {
        assert_eq!(violations("src/inbox.rs", source).len(), count, "{source}");
    }
    assert!(violations("src/bin/tool.rs", "use herald::{web, app::App};").is_empty());
    assert!(violations("src/nowhere/mod.rs", "")[0].contains("add it to LAYERS"));
}
