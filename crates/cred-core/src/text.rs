//! Small text helpers of the hot path.

/// `s.trim()`, answered by looking at the first and last characters when neither is
/// whitespace (nearly every value), without `trim`'s generic pattern search, which
/// costs several times more per call and is run a dozen times per request.
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    let mut chars = s.chars();
    match (chars.next(), chars.next_back()) {
        (Some(first), Some(last)) if !first.is_whitespace() && !last.is_whitespace() => s,
        (Some(only), None) if !only.is_whitespace() => s,
        _ => s.trim(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_str_trim(s in "[ \\t\\n\\u{3000}\\u{a0}a王1]{0,6}") {
            prop_assert_eq!(super::trim(&s), s.trim());
        }
    }
}
