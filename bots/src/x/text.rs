//! X's weighted length and thread splitting.
//!
//! X counts a post's length as twitter-text's v3 configuration says (`config/v3.json`): at most 280; the
//! text is NFC-normalised first; a code point in one of the ranges 0–4351 (Latin, Greek, Cyrillic, Hebrew,
//! Arabic, Indic scripts, Hangul Jamo…), 8192–8205, 8208–8223 and 8242–8247 (spaces, dashes, quotes,
//! primes) weighs 1, every other one 2 (CJK, Hangul syllables, "…", "€"); an emoji, however many code
//! points its sequence has (a family, a flag, a skin tone, a keycap), weighs 2 as one; a URL weighs 23
//! (`transformedURLLength`) whatever its length.
//!
//! twitter-text also counts a bare domain ("fosdem.org/schedule") as a URL when its top-level domain is on
//! its list. Rather than carry that list, a word shaped like a domain counts as the larger of its own weight
//! and 23: never less than X counts, so a part that fits here fits on X.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::text::SplitError;

/// The most a post may weigh.
pub const MAX_WEIGHT: usize = 280;
/// What a URL weighs, however long.
pub const URL_WEIGHT: usize = 23;
/// The most characters one direct message may have (longer ones are sent as several).
pub const DM_MAX_CHARS: usize = 10_000;

/// A direct message's length as X counts it: characters.
pub fn dm_len(text: &str) -> usize {
    text.chars().count()
}

/// The code point ranges that weigh 1 (twitter-text v3 `ranges`); everything else weighs 2.
const LIGHT_RANGES: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];

/// The weight X counts for `text`.
pub fn weighted_len(text: &str) -> usize {
    let text: String = text.nfc().collect();
    text.split_inclusive(char::is_whitespace)
        .map(|chunk| {
            let word = chunk.trim_end();
            word_weight(word) + weight(&chunk[word.len()..])
        })
        .sum()
}

/// Whether `text` fits in one post.
pub fn fits(text: &str) -> bool {
    weighted_len(text) <= MAX_WEIGHT
}

/// Splits `text` into the parts of a thread, each at most [`MAX_WEIGHT`] by [`weighted_len`], numbered
/// " (1/3)" when there is more than one (see [`crate::text::split_thread`]).
pub fn split_thread(text: &str) -> Result<Vec<String>, SplitError> {
    crate::text::split_thread(text, MAX_WEIGHT, weighted_len)
}

fn char_weight(c: char) -> usize {
    let c = u32::from(c);
    if LIGHT_RANGES
        .iter()
        .any(|(start, end)| (*start..=*end).contains(&c))
    {
        1
    } else {
        2
    }
}

/// Whether a grapheme cluster is an emoji sequence, counted 2 as one: it carries an emoji presentation
/// selector, a joiner, a keycap, a skin tone or tag characters, or starts with a pictograph (the planes of
/// emoji, flags' regional indicators, the miscellaneous symbols and dingbats).
fn is_emoji(grapheme: &str) -> bool {
    let modifier = |c: char| matches!(u32::from(c), 0xFE0F | 0x200D | 0x20E3 | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F);
    let pictograph = |c: char| matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF);
    grapheme.chars().any(modifier) || grapheme.chars().next().is_some_and(pictograph)
}

/// The weight of text with no URL in it.
fn weight(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            if is_emoji(g) {
                2
            } else {
                g.chars().map(char_weight).sum()
            }
        })
        .sum()
}

fn word_weight(word: &str) -> usize {
    // A URL may be wrapped in punctuation: "(https://x.org)," counts the brackets but the URL as 23.
    let lower = word.to_ascii_lowercase();
    if let Some(start) = lower.find("http://").or_else(|| lower.find("https://")) {
        let rest = &word[start..];
        let end = rest.find([')', ']', '>', '"', '\'']).unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        return weight(&word[..start]) + URL_WEIGHT + weight(&word[start + url.len()..]);
    }
    let core_start = word.len() - word.trim_start_matches(['(', '[', '"', '\'', '<']).len();
    let core = word[core_start..]
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'', '>', '…']);
    if !word.contains('@') && looks_like_domain(core) {
        let after = &word[core_start + core.len()..];
        return weight(&word[..core_start]) + weight(core).max(URL_WEIGHT) + weight(after);
    }
    weight(word)
}

/// "fosdem.org", "www.example.co.uk/path": two or more labels of letters, digits and hyphens, the last
/// one letters only and at least two long (as every top-level domain is).
pub(crate) fn looks_like_domain(text: &str) -> bool {
    let host = text.split(['/', '?', '#']).next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phone page's counter (`xLength` in `templates/web/herald.js`) gives these same numbers, and the
    /// browser check compares the two on a post.
    #[test]
    fn the_phone_pages_counter_counts_the_same() {
        let post = "Doors open at nine 👩\u{200d}👩\u{200d}👧 see you at the info desk: https://example.org/a/rather/long/path/to/building/K fosdem.org 会場";
        assert_eq!(weighted_len(post), 100);
        assert_eq!(weighted_len("(see fosdem.org/schedule), ok…"), 35);
    }

    #[test]
    fn latin_text_weighs_its_characters_and_280_is_the_limit() {
        assert_eq!(weighted_len("Hello, FOSDEM!"), 14);
        assert!(fits(&"a".repeat(280)));
        assert!(!fits(&"a".repeat(281)));
        assert_eq!(weighted_len("Привет, мир"), 11, "Cyrillic weighs 1");
        assert_eq!(
            weighted_len("“quoted” — dash"),
            15,
            "quotes and dashes weigh 1"
        );
    }

    #[test]
    fn cjk_and_characters_outside_the_light_ranges_weigh_two() {
        assert_eq!(weighted_len("会議"), 4);
        assert_eq!(weighted_len("한국어"), 6, "Hangul syllables weigh 2");
        assert!(fits(&"あ".repeat(140)));
        assert!(!fits(&"あ".repeat(141)));
        assert_eq!(weighted_len("…"), 2, "U+2026 is outside 8208–8223");
        assert_eq!(weighted_len("5 €"), 4);
    }

    #[test]
    fn an_emoji_sequence_weighs_two_as_one() {
        for emoji in ["🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇧🇪", "1️⃣", "❤️", "🏳️‍🌈"]
        {
            assert_eq!(weighted_len(emoji), 2, "{emoji}");
        }
        assert_eq!(weighted_len("hi 🎉🎉"), 7);
    }

    #[test]
    fn text_is_normalised_before_it_is_weighed() {
        // "e" and a combining acute accent is "é" after NFC: one code point, weight 1.
        assert_eq!(weighted_len("caf\u{65}\u{301}"), 4);
    }

    #[test]
    fn urls_weigh_23_and_bare_domains_never_less() {
        assert_eq!(
            weighted_len("see https://fosdem.org/2026/schedule/event/a-very-long-slug-indeed/"),
            4 + 23
        );
        assert_eq!(weighted_len("(https://x.org)."), 1 + 23 + 2);
        assert_eq!(weighted_len("HTTPS://EXAMPLE.ORG"), 23);
        assert_eq!(weighted_len("fosdem.org"), 23);
        assert_eq!(weighted_len("(fosdem.org/schedule),"), 1 + 23 + 2);
        let long = "a-very-long-subdomain-name.example.org";
        assert_eq!(
            weighted_len(long),
            long.len(),
            "longer than 23: its own weight"
        );
        assert_eq!(weighted_len("e.g. 10.30 a@b.org"), 4 + 1 + 5 + 1 + 7);
    }

    #[test]
    fn threads_split_by_weight_and_keep_urls_whole() {
        let sentence = "会議は午前十時に始まります。詳しくは https://fosdem.org/2026/schedule/ をご覧ください。 ";
        let text = sentence.repeat(8);
        let parts = split_thread(&text).expect("splits");
        assert!(parts.len() > 1, "{parts:?}");
        for part in &parts {
            assert!(fits(part), "{} weighs {}", part, weighted_len(part));
        }
        assert_eq!(
            parts
                .join(" ")
                .matches("https://fosdem.org/2026/schedule/")
                .count(),
            8
        );
        assert!(parts[0].ends_with(&format!("(1/{})", parts.len())));
        assert_eq!(split_thread("short").expect("fits"), ["short"]);
    }
}
