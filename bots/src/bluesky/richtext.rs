//! Post text: the grapheme limit and rich-text facets (`app.bsky.richtext.facet`).
//!
//! Bluesky counts a post's length in extended grapheme clusters (`app.bsky.feed.post#text`: `maxGraphemes`
//! 300, `maxLength` 3000 bytes), and annotates links, mentions and hashtags with facets whose
//! `index.byteStart`/`byteEnd` are offsets in the UTF-8 bytes of the text (`#byteSlice`). Detection follows
//! the rules of the reference client (`@atproto/api` `rich-text/detection.ts`): a link is an `http(s)://` URL
//! after a space, an opening parenthesis or the start of the text, without trailing punctuation; a mention is
//! `@` plus a syntactically valid handle (atproto "Handle" spec); a hashtag is `#` after a space or the start,
//! up to the next space, without trailing punctuation, and not only digits.

use std::ops::Range;

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

/// `app.bsky.feed.post#text` `maxGraphemes`.
pub const MAX_GRAPHEMES: usize = 300;
/// `app.bsky.feed.post#text` `maxLength`, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 3000;
/// `app.bsky.richtext.facet#tag` `maxGraphemes`.
pub const MAX_TAG_GRAPHEMES: usize = 64;
/// `app.bsky.richtext.facet#tag` `maxLength`, in UTF-8 bytes.
pub const MAX_TAG_BYTES: usize = 640;

/// The length of `text` as Bluesky counts it: extended grapheme clusters, so a flag, a ZWJ family or an
/// accented letter written with a combining mark each count once.
pub fn grapheme_len(text: &str) -> usize {
    text.graphemes(true).count()
}

/// One annotated range of a post's text (`app.bsky.richtext.facet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    pub index: ByteSlice,
    pub features: Vec<Feature>,
}

/// A half-open range of UTF-8 byte offsets into the text (`app.bsky.richtext.facet#byteSlice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteSlice {
    pub byte_start: usize,
    pub byte_end: usize,
}

impl ByteSlice {
    pub fn range(&self) -> Range<usize> {
        self.byte_start..self.byte_end
    }
}

/// What a facet says about its range. Serialises with the lexicon's `$type` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "$type")]
pub enum Feature {
    /// `app.bsky.richtext.facet#link`: the complete URL.
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    /// `app.bsky.richtext.facet#mention`. As detected by [`facets`], `did` holds the mentioned handle
    /// (lower case, without the `@`), as in the reference client; [`Feature::unresolved_handle`] tells the two
    /// apart, and [`BlueskyClient::post`](super::BlueskyClient::post) resolves it or drops the facet.
    #[serde(rename = "app.bsky.richtext.facet#mention")]
    Mention { did: String },
    /// `app.bsky.richtext.facet#tag`: the hashtag without its `#`.
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

impl Feature {
    /// The handle of a mention not yet resolved to a DID.
    pub fn unresolved_handle(&self) -> Option<&str> {
        match self {
            Self::Mention { did } if !did.starts_with("did:") => Some(did),
            _ => None,
        }
    }
}

impl Facet {
    fn new(range: Range<usize>, feature: Feature) -> Self {
        Self {
            index: ByteSlice {
                byte_start: range.start,
                byte_end: range.end,
            },
            features: vec![feature],
        }
    }

    /// The part of `text` this facet annotates (`None` if the range does not fit the text).
    pub fn slice<'a>(&self, text: &'a str) -> Option<&'a str> {
        text.get(self.index.range())
    }

    fn overlaps(&self, other: &Range<usize>) -> bool {
        self.index.byte_start < other.end && other.start < self.index.byte_end
    }
}

/// Links, mentions and hashtags in `text`, ordered by `byteStart`, never overlapping (a link wins over a
/// mention or hashtag inside it). Mentions carry the handle, not yet a DID: see [`Feature::Mention`].
pub fn facets(text: &str) -> Vec<Facet> {
    let mut found = links(text);
    for candidate in mentions(text).into_iter().chain(tags(text)) {
        if !found.iter().any(|f| f.overlaps(&candidate.index.range())) {
            found.push(candidate);
        }
    }
    found.sort_by_key(|f| f.index.byte_start);
    found
}

/// The character before byte `at`, if any.
fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// Whether byte `at` starts a word: the start of the text, or after whitespace (or `(` when allowed).
fn at_word_start(text: &str, at: usize, after_paren: bool) -> bool {
    match char_before(text, at) {
        None => true,
        Some(c) => c.is_whitespace() || (after_paren && c == '('),
    }
}

fn links(text: &str) -> Vec<Facet> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(['h', 'H']) {
        let start = from + offset;
        from = start + 1;
        let rest = &text.as_bytes()[start..];
        let scheme_len = if starts_with_ignore_case(rest, b"https://") {
            8
        } else if starts_with_ignore_case(rest, b"http://") {
            7
        } else {
            continue;
        };
        if !at_word_start(text, start, true) {
            continue;
        }
        let end = text[start..]
            .find(char::is_whitespace)
            .map_or(text.len(), |i| start + i);
        let uri = trim_url(&text[start..end]);
        if uri.len() <= scheme_len || !is_web_url(uri) {
            continue;
        }
        found.push(Facet::new(
            start..start + uri.len(),
            Feature::Link {
                uri: uri.to_owned(),
            },
        ));
        from = start + uri.len();
    }
    found
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Drops punctuation that ends a sentence rather than the URL: `.,;:!?` and quotes always, a closing
/// bracket only when the URL does not open one.
fn trim_url(candidate: &str) -> &str {
    let mut uri = candidate;
    loop {
        let Some(last) = uri.chars().next_back() else {
            return uri;
        };
        let unbalanced =
            |open: char, close: char| uri.matches(close).count() > uri.matches(open).count();
        let trailing = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' => true,
            ')' => unbalanced('(', ')'),
            ']' => unbalanced('[', ']'),
            _ => false,
        };
        if !trailing {
            return uri;
        }
        uri = &uri[..uri.len() - last.len_utf8()];
    }
}

fn is_web_url(candidate: &str) -> bool {
    url::Url::parse(candidate).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
    })
}

fn mentions(text: &str) -> Vec<Facet> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        if !at_word_start(text, at, true) {
            continue;
        }
        let rest = &text[at + 1..];
        let run_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        // `@alice.testé` or `@alice_x` is not a mention of alice.test.
        if rest[run_len..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let handle = rest[..run_len].trim_end_matches(['.', '-']);
        if !is_valid_handle(handle) {
            continue;
        }
        found.push(Facet::new(
            at..at + 1 + handle.len(),
            Feature::Mention {
                did: handle.to_ascii_lowercase(),
            },
        ));
    }
    found
}

/// Top-level domains the handle spec disallows. `.test` is allowed: it is how test networks name handles.
const DISALLOWED_TLDS: [&str; 8] = [
    "alt",
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
];

/// atproto handle syntax: at most 253 ASCII characters, at least two dot-separated labels of 1 to 63
/// letters, digits and hyphens, no label starting or ending with a hyphen, the last starting with a letter.
pub fn is_valid_handle(handle: &str) -> bool {
    if handle.is_empty() || handle.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = handle.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    let tld = labels[labels.len() - 1];
    labels_ok
        && tld.starts_with(|c: char| c.is_ascii_alphabetic())
        && !DISALLOWED_TLDS.iter().any(|d| tld.eq_ignore_ascii_case(d))
}

/// Characters that end a hashtag besides whitespace: soft hyphen, word joiner and zero-width spaces and
/// joiners (the reference client's tag pattern excludes exactly these).
fn ends_tag(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{2060}'
                | '\u{200A}'
                | '\u{200B}'
                | '\u{200C}'
                | '\u{200D}'
                | '\u{20E2}'
        )
}

fn tags(text: &str) -> Vec<Facet> {
    let mut found = Vec::new();
    for (hash, sign) in text.match_indices(['#', '\u{FF03}']) {
        if !at_word_start(text, hash, false) {
            continue;
        }
        let body_start = hash + sign.len();
        let rest = &text[body_start..];
        // `#️⃣` (keycap) is an emoji, not a tag.
        if rest.starts_with('\u{FE0F}') {
            continue;
        }
        let run = &rest[..rest.find(ends_tag).unwrap_or(rest.len())];
        let tag = run.trim_end_matches(is_punctuation);
        let meaningful = tag
            .chars()
            .any(|c| !c.is_ascii_digit() && !is_punctuation(c));
        if !meaningful || tag.len() > MAX_TAG_BYTES || grapheme_len(tag) > MAX_TAG_GRAPHEMES {
            continue;
        }
        found.push(Facet::new(
            hash..body_start + tag.len(),
            Feature::Tag {
                tag: tag.to_owned(),
            },
        ));
    }
    found
}

/// Unicode general category P (punctuation), for the ranges text actually uses: ASCII, Latin-1, General
/// Punctuation, CJK Symbols and Punctuation, and the full-width forms. ASCII symbols such as `$`, `+` or `~`
/// are category S and do not count.
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '!' | '"'
            | '#'
            | '%'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | ','
            | '-'
            | '.'
            | '/'
            | ':'
            | ';'
            | '?'
            | '@'
            | '['
            | '\\'
            | ']'
            | '_'
            | '{'
            | '}'
            | '¡'
            | '§'
            | '«'
            | '¶'
            | '·'
            | '»'
            | '¿'
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{2043}'
            | '\u{2045}'..='\u{2051}'
            | '\u{2053}'..='\u{205E}'
            | '\u{3001}'..='\u{3003}'
            | '\u{3008}'..='\u{3011}'
            | '\u{3014}'..='\u{301F}'
            | '\u{30FB}'
            | '\u{FF01}'..='\u{FF03}'
            | '\u{FF05}'..='\u{FF0A}'
            | '\u{FF0C}'..='\u{FF0F}'
            | '\u{FF1A}'
            | '\u{FF1B}'
            | '\u{FF1F}'
            | '\u{FF20}'
            | '\u{FF3B}'..='\u{FF3D}'
            | '\u{FF3F}'
            | '\u{FF5B}'
            | '\u{FF5D}'
            | '\u{FF5F}'..='\u{FF65}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sliced<'a>(text: &'a str, found: &[Facet]) -> Vec<&'a str> {
        found
            .iter()
            .map(|f| f.slice(text).expect("facet range inside the text"))
            .collect()
    }

    #[test]
    fn graphemes_count_what_a_reader_sees() {
        assert_eq!(grapheme_len(""), 0);
        assert_eq!(grapheme_len("Hello"), 5);
        // A ZWJ sequence: 6 code points, 20 bytes, one grapheme.
        let family = "👨\u{200D}❤\u{FE0F}\u{200D}👨";
        assert_eq!(family.chars().count(), 6);
        assert_eq!(family.len(), 20);
        assert_eq!(grapheme_len(family), 1);
        assert_eq!(grapheme_len("🇩🇪🇫🇷"), 2);
        assert_eq!(grapheme_len("e\u{301}"), 1);
        assert_eq!(grapheme_len("会议日程"), 4);
        assert_eq!(grapheme_len("สวัสดีชาวโลก"), 10);
        assert_eq!(grapheme_len(&"✨".repeat(MAX_GRAPHEMES)), MAX_GRAPHEMES);
    }

    #[test]
    fn the_docs_sample_offsets_are_reproduced() {
        // shared/data/bluesky/bsky-docs-post-examples/post-facets-mention-link-emoji.json
        let text = "✨ example mentioning @atproto.com to share the URL 👨\u{200D}❤\u{FE0F}\u{200D}👨 https://en.wikipedia.org/wiki/CBOR.";
        let mut found = facets(text);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.index.byte_start, f.index.byte_end))
                .collect::<Vec<_>>(),
            [(23, 35), (74, 108)]
        );
        assert_eq!(
            sliced(text, &found),
            ["@atproto.com", "https://en.wikipedia.org/wiki/CBOR"]
        );
        assert_eq!(
            found[0].features[0].unresolved_handle(),
            Some("atproto.com")
        );
        found[0].features[0] = Feature::Mention {
            did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz".into(),
        };
        assert_eq!(found[0].features[0].unresolved_handle(), None);
        let expected = serde_json::json!([
            {
                "index": { "byteStart": 23, "byteEnd": 35 },
                "features": [{
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
                }]
            },
            {
                "index": { "byteStart": 74, "byteEnd": 108 },
                "features": [{
                    "$type": "app.bsky.richtext.facet#link",
                    "uri": "https://en.wikipedia.org/wiki/CBOR"
                }]
            }
        ]);
        assert_eq!(serde_json::to_value(&found).expect("serialises"), expected);
    }

    #[test]
    fn tag_facets_serialise_without_the_hash() {
        let found = facets("#rustconf");
        assert_eq!(
            serde_json::to_value(&found).expect("serialises"),
            serde_json::json!([{
                "index": { "byteStart": 0, "byteEnd": 9 },
                "features": [{ "$type": "app.bsky.richtext.facet#tag", "tag": "rustconf" }]
            }])
        );
    }

    #[test]
    fn links_keep_query_strings_and_lose_sentence_punctuation() {
        let text = "Slides: https://example.org/talk?id=42&lang=en. Also (https://example.org/a), \
                    https://en.wikipedia.org/wiki/Rust_(programming_language)! and HTTPS://EXAMPLE.ORG/X?";
        let found = facets(text);
        assert_eq!(
            sliced(text, &found),
            [
                "https://example.org/talk?id=42&lang=en",
                "https://example.org/a",
                "https://en.wikipedia.org/wiki/Rust_(programming_language)",
                "HTTPS://EXAMPLE.ORG/X",
            ]
        );
        assert_eq!(
            found[0].features,
            [Feature::Link {
                uri: "https://example.org/talk?id=42&lang=en".into()
            }]
        );
    }

    #[test]
    fn text_that_only_looks_like_a_link_is_left_alone() {
        for text in [
            "see https:// later",
            "xhttps://example.org",
            "ftp://example.org",
            "example.org",
            "https://.",
        ] {
            assert_eq!(facets(text), [], "{text}");
        }
    }

    #[test]
    fn mentions_need_a_valid_handle_at_a_word_start() {
        let text = "@alice.test opens, (@Bob.Example.COM) joins; mail carol@example.com, @dave, @eve.test. @x_y.test @1.2";
        let found = facets(text);
        assert_eq!(
            sliced(text, &found),
            ["@alice.test", "@Bob.Example.COM", "@eve.test"]
        );
        assert_eq!(found[0].index.byte_start, 0);
        assert_eq!(
            found
                .iter()
                .filter_map(|f| f.features[0].unresolved_handle())
                .collect::<Vec<_>>(),
            ["alice.test", "bob.example.com", "eve.test"]
        );
    }

    #[test]
    fn handle_syntax_follows_the_spec() {
        for good in [
            "alice.bsky.social",
            "a.co",
            "xn--ls8h.test",
            "8.cn.example2",
        ] {
            assert!(is_valid_handle(good), "{good}");
        }
        for bad in [
            "alice",
            "alice.",
            ".alice.test",
            "-alice.test",
            "alice-.test",
            "alice.123",
            "alice.local",
            "alice.onion",
            &format!("{}.test", "a".repeat(64)),
        ] {
            assert!(!is_valid_handle(bad), "{bad}");
        }
    }

    #[test]
    fn hashtags_after_emoji_and_cjk_have_byte_offsets() {
        let text = "🎉 会议 #RustConf2025! #2025 #tag, #日本語 x#no #️⃣ #_ ＃全角";
        let found = facets(text);
        assert_eq!(
            sliced(text, &found),
            ["#RustConf2025", "#tag", "#日本語", "＃全角"]
        );
        // 🎉 is 4 bytes, the space 1, 会议 6 and the space 1.
        assert_eq!(found[0].index.byte_start, 12);
        assert_eq!(
            found
                .iter()
                .map(|f| match &f.features[0] {
                    Feature::Tag { tag } => tag.as_str(),
                    other => panic!("not a tag: {other:?}"),
                })
                .collect::<Vec<_>>(),
            ["RustConf2025", "tag", "日本語", "全角"]
        );
    }

    #[test]
    fn hashtags_stop_at_zero_width_characters_and_respect_the_length_limit() {
        let text = "#one\u{200B}two";
        assert_eq!(sliced(text, &facets(text)), ["#one"]);
        let long = format!("#{}", "a".repeat(MAX_TAG_GRAPHEMES + 1));
        assert_eq!(facets(&long), []);
        let max = format!("#{}", "a".repeat(MAX_TAG_GRAPHEMES));
        assert_eq!(facets(&max).len(), 1);
    }

    #[test]
    fn facets_come_ordered_by_byte_start_without_overlaps() {
        let text =
            "#first 👨\u{200D}👩\u{200D}👧 @alice.test https://example.org/#frag/(@bob.test) #last";
        let found = facets(text);
        assert_eq!(
            sliced(text, &found),
            [
                "#first",
                "@alice.test",
                "https://example.org/#frag/(@bob.test)",
                "#last"
            ]
        );
        assert!(
            found
                .windows(2)
                .all(|w| w[0].index.byte_end <= w[1].index.byte_start)
        );
    }
}
