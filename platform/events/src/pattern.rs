//! Topic patterns as RabbitMQ's topic exchange reads them, so the in-process bus routes
//! exactly like the broker: words are separated by `.`, `*` matches one word and `#`
//! matches zero or more.

/// Does the routing key `name` match `pattern`?
pub(crate) fn topic_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let name: Vec<&str> = name.split('.').collect();
    words_match(&pattern, &name)
}

fn words_match(pattern: &[&str], name: &[&str]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((&"#", rest)) => {
            // `#.#` is the same as `#`; skipping repeats keeps the search linear in practice.
            let rest = match rest.iter().position(|w| *w != "#") {
                Some(i) => &rest[i..],
                None => return true,
            };
            (0..=name.len()).any(|skip| words_match(rest, &name[skip..]))
        }
        Some((&"*", rest)) => !name.is_empty() && words_match(rest, &name[1..]),
        Some((word, rest)) => name.first() == Some(word) && words_match(rest, &name[1..]),
    }
}

/// Why `pattern` is not a usable binding key, if it is not.
pub(crate) fn invalid_pattern_reason(pattern: &str) -> Option<&'static str> {
    if pattern.is_empty() || pattern.len() > 200 {
        return Some("must be 1 to 200 bytes");
    }
    let word_ok = |w: &str| {
        w == "*"
            || w == "#"
            || (!w.is_empty()
                && w.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                }))
    };
    if !pattern.split('.').all(word_ok) {
        return Some("use dot-separated words, '*' or '#'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_match_only_themselves() {
        assert!(topic_matches("domain.verified", "domain.verified"));
        assert!(!topic_matches("domain.verified", "domain.verified.late"));
        assert!(!topic_matches("domain.verified", "domain"));
        assert!(!topic_matches("domain.verified", "shop.verified"));
    }

    #[test]
    fn star_matches_exactly_one_word() {
        assert!(topic_matches("shop.*", "shop.created"));
        assert!(topic_matches("*.created", "shop.created"));
        assert!(!topic_matches("shop.*", "shop"));
        assert!(!topic_matches("shop.*", "shop.domain.verified"));
        assert!(!topic_matches("shop.*", "vendor.created"));
        assert!(topic_matches("*.*", "a.b"));
        assert!(!topic_matches("*.*", "a.b.c"));
    }

    #[test]
    fn hash_matches_zero_or_more_words() {
        assert!(topic_matches("#", "shop.created"));
        assert!(topic_matches("#", "a"));
        assert!(topic_matches("shop.#", "shop"));
        assert!(topic_matches("shop.#", "shop.created"));
        assert!(topic_matches("shop.#", "shop.domain.verified"));
        assert!(!topic_matches("shop.#", "vendor.created"));
        assert!(topic_matches("#.verified", "verified"));
        assert!(topic_matches("#.verified", "shop.domain.verified"));
        assert!(!topic_matches("#.verified", "shop.domain.verified.late"));
        assert!(topic_matches("shop.#.verified", "shop.verified"));
        assert!(topic_matches("shop.#.verified", "shop.a.b.verified"));
        assert!(topic_matches("#.#", "a.b.c"));
        assert!(topic_matches("*.#", "a"));
        assert!(!topic_matches("*.#.*", "a"));
        assert!(topic_matches("*.#.*", "a.b"));
    }

    #[test]
    fn rejects_unusable_patterns() {
        assert_eq!(invalid_pattern_reason("shop.*"), None);
        assert_eq!(invalid_pattern_reason("#"), None);
        for bad in ["", "shop.", "shop.cre*", "Shop.created", "shop..created"] {
            assert!(invalid_pattern_reason(bad).is_some(), "{bad:?}");
        }
    }
}
