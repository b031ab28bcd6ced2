//! HTML both ways: text escaped for HTML output, and Mastodon's status HTML read as plain text.
//!
//! Mastodon sends `content` as a small, sanitised HTML dialect: paragraphs (`<p>`), line breaks (`<br>`),
//! links whose long URLs are cut into `invisible` and `ellipsis` spans, and mentions and hashtags wrapped
//! in `h-card` / `mention` spans. The text of every element is kept (the hidden parts of a link are what make
//! the full URL), tags are dropped, paragraphs become blank lines and entities are decoded.

/// Escapes text for HTML: for the templates' output, Telegram's HTML parse mode (Bot API "HTML style":
/// `<`, `>` and `&` must be escaped) and the web chat.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The text a reader sees in a status, with full URLs.
pub fn to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        push_text(&mut out, &rest[..start]);
        let Some(len) = rest[start..].find('>') else {
            // An unclosed `<` is text.
            push_text(&mut out, &rest[start..]);
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            ("p", true) => out.push_str("\n\n"),
            ("p", false) if !out.is_empty() && !out.ends_with("\n\n") => out.push_str("\n\n"),
            _ => {}
        }
    }
    push_text(&mut out, rest);
    // Paragraph breaks at the ends, and more than one blank line in a row, are markup, not text.
    let mut text = out.trim().to_owned();
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text
}

fn push_text(out: &mut String, raw: &str) {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match after.find(';').filter(|end| *end <= 10) {
            Some(end) => match entity(&after[..end]) {
                Some(c) => {
                    out.push(c);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            },
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_covers_markup_and_keeps_emoji() {
        assert_eq!(
            super::escape_html("a < b & \"c\" > 🎉"),
            "a &lt; b &amp; &quot;c&quot; &gt; 🎉"
        );
    }

    use super::to_text;

    #[test]
    fn paragraphs_breaks_and_entities() {
        assert_eq!(
            to_text("<p>One &amp; two<br>three &lt;4&gt; &#39;x&#x27;</p><p>Second</p>"),
            "One & two\nthree <4> 'x'\n\nSecond"
        );
        assert_eq!(to_text("plain"), "plain");
        assert_eq!(to_text("a < b & c"), "a < b & c", "stray characters stay");
        assert_eq!(to_text("&bogus; &#xZZ;"), "&bogus; &#xZZ;");
    }

    #[test]
    fn hidden_link_parts_make_the_full_url() {
        let html = r#"<p><a href="https://www.example.org/2019/long" rel="nofollow"><span class="invisible">https://www.</span><span class="ellipsis">example.org/20</span><span class="invisible">19/long</span></a></p>"#;
        assert_eq!(to_text(html), "https://www.example.org/2019/long");
    }
}
