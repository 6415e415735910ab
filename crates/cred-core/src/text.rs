//! Small text helpers of the hot path.

/// Whether a character starting with byte `lead` may be whitespace (Unicode's
/// `White_Space`: ASCII tab to carriage return and space, U+0085, U+00A0, U+1680,
/// U+2000-U+205F's spaces, U+3000): only these lead bytes start one.
pub(crate) fn may_start_whitespace(lead: u8) -> bool {
    matches!(lead, b'\t'..=b'\r' | b' ' | 0xC2 | 0xE1 | 0xE2 | 0xE3)
}

/// `s.trim()`, answered from the lead bytes of the first and last characters when
/// neither can be whitespace (nearly every value: ASCII, CJK ideographs), without
/// `trim`'s generic pattern search or a Unicode table lookup; run a dozen times per
/// request.
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return s;
    };
    // The last character's lead byte: at most three continuation bytes follow it.
    let last = bytes
        .iter()
        .rev()
        .take(4)
        .copied()
        .find(|b| b & 0xC0 != 0x80)
        .unwrap_or(first);
    if may_start_whitespace(first) || may_start_whitespace(last) {
        s.trim()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn every_whitespace_character_starts_with_a_listed_byte() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if c.is_whitespace() {
                let mut buf = [0u8; 4];
                let lead = c.encode_utf8(&mut buf).as_bytes()[0];
                assert!(super::may_start_whitespace(lead), "U+{:04X}", u32::from(c));
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_str_trim(
            s in "[ \\t\\n\\r\\u{b}\\u{c}\\u{1c}\\u{85}\\u{a0}\\u{1680}\\u{2000}\\u{2028}\\u{202f}\\u{205f}\\u{3000}\\u{ff01}a王1é]{0,6}"
        ) {
            prop_assert_eq!(super::trim(&s), s.trim());
        }
    }
}
