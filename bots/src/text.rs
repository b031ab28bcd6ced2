//! Splitting a long post into a thread that fits a network's limit.
//!
//! Splits fall between words — preferably after a sentence — so a URL, an @mention or a #hashtag (none of
//! which contain whitespace) is never cut. Each part is measured with the network's own length rule (for
//! Mastodon a URL counts 23; for Bluesky graphemes), and numbered " (1/3)" when there is more than one.

/// Why a text cannot become a thread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("a single word, link or mention is {length} long, more than one post allows ({limit})")]
    Unsplittable { length: usize, limit: usize },
}

fn suffix(i: usize, n: usize) -> String {
    format!(" ({i}/{n})")
}

/// Splits `text` into parts of at most `limit` by `len`; one part (unnumbered) when it fits.
pub fn split_thread(
    text: &str,
    limit: usize,
    len: impl Fn(&str) -> usize,
) -> Result<Vec<String>, SplitError> {
    let text = text.trim();
    if len(text) <= limit {
        return Ok(vec![text.to_owned()]);
    }
    // Guess the number of parts, split with room for its suffix, and redo if the count's width changed.
    let mut guess = 2;
    for _ in 0..4 {
        let reserve = len(&suffix(guess, guess));
        let parts = split_words(text, limit.saturating_sub(reserve), &len)?;
        let n = parts.len();
        if suffix(n, n).len() <= suffix(guess, guess).len() {
            return Ok(parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| format!("{p}{}", suffix(i + 1, n)))
                .collect());
        }
        guess = n;
    }
    let parts = split_words(
        text,
        limit.saturating_sub(len(&suffix(guess * 10, guess * 10))),
        &len,
    )?;
    let n = parts.len();
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("{p}{}", suffix(i + 1, n)))
        .collect())
}

fn ends_sentence(word: &str) -> bool {
    word.ends_with(['.', '!', '?', '…'])
        || word.ends_with(".\"")
        || word.ends_with("!\"")
        || word.ends_with("?\"")
}

fn split_words(
    text: &str,
    budget: usize,
    len: &impl Fn(&str) -> usize,
) -> Result<Vec<String>, SplitError> {
    // Words with the whitespace that follows them, so line breaks survive inside a part.
    let mut words: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            words.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    words.push(&text[start..]);

    let mut parts = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in words {
        let trimmed = word.trim_end();
        if len(trimmed) > budget {
            return Err(SplitError::Unsplittable {
                length: len(trimmed),
                limit: budget,
            });
        }
        let candidate: String = current.iter().copied().chain([trimmed]).collect();
        if len(candidate.trim_end()) <= budget {
            current.push(word);
            continue;
        }
        // Over budget: cut after the last sentence in this part if that keeps it at least half full,
        // else before this word.
        let joined: String = current.concat();
        let cut = current
            .iter()
            .enumerate()
            .rev()
            .find(|(i, w)| {
                ends_sentence(w.trim_end()) && len(current[..=*i].concat().trim_end()) * 2 >= budget
            })
            .map(|(i, _)| i + 1)
            .unwrap_or(current.len());
        let (done, rest) = current.split_at(cut);
        if !done.is_empty() {
            parts.push(done.concat().trim_end().to_owned());
        } else if !joined.trim().is_empty() {
            parts.push(joined.trim_end().to_owned());
        }
        current = rest.to_vec();
        current.push(word);
    }
    let last: String = current.concat();
    if !last.trim().is_empty() {
        parts.push(last.trim_end().to_owned());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn a_short_text_is_one_unnumbered_part() {
        assert_eq!(
            split_thread("Hello world", 20, chars).expect("fits"),
            ["Hello world"]
        );
    }

    #[test]
    fn long_texts_split_after_sentences_and_never_inside_links_or_mentions() {
        let text = "Rust in Space starts at 10:00 in Room A. Join @alice@example.org and read https://example.org/a/very/long/path?with=query first. Then lunch! #fosdem #rust";
        let parts = split_thread(text, 60, chars).expect("splits");
        assert!(parts.len() >= 3, "{parts:?}");
        for p in &parts {
            assert!(chars(p) <= 60, "{p}");
        }
        let all = parts.join(" ");
        for token in [
            "https://example.org/a/very/long/path?with=query",
            "@alice@example.org",
            "#fosdem",
            "#rust",
        ] {
            assert!(all.contains(token), "{token} was cut: {parts:?}");
        }
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert!(parts[0].ends_with("Room A. (1/4)"), "{parts:?}");
        assert!(
            parts
                .last()
                .expect("parts")
                .ends_with(&format!("({n}/{n})", n = parts.len()))
        );
    }

    #[test]
    fn emoji_and_cjk_are_measured_by_the_given_rule() {
        let text = "会議は午前十時に始まります。🎉🎉🎉 ".repeat(10);
        let parts = split_thread(&text, 50, chars).expect("splits");
        assert!(parts.iter().all(|p| chars(p) <= 50), "{parts:?}");
        assert_eq!(parts.join("").matches('🎉').count(), 30);
    }

    #[test]
    fn a_word_longer_than_a_post_is_refused() {
        let long = format!("see https://example.org/{}", "x".repeat(100));
        assert!(matches!(
            split_thread(&long, 50, chars),
            Err(SplitError::Unsplittable { .. })
        ));
    }
}
