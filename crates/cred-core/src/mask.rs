//! Masking of personal data and scrubbing of secrets from free text.
//!
//! Every `Debug` impl and log line that could carry a name, ID number, phone or
//! certificate number goes through these helpers.

use std::borrow::Cow;

/// The class of personal data a value belongs to; decides how it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pii {
    /// A person's name: `张*`, `欧阳**`.
    Name,
    /// A resident ID number or other identity document number: `3210**********2119`.
    IdNumber,
    /// A mobile phone number: `138****5678`.
    Phone,
    /// A certificate or licence number: first 4 and last 4 kept.
    CertificateNo,
    /// Anything else personal: fully masked except its length.
    Other,
}

impl Pii {
    /// Masks `value` according to its class.
    pub fn mask(self, value: &str) -> String {
        match self {
            Pii::Name => mask_name(value),
            Pii::IdNumber | Pii::CertificateNo => mask_id_number(value),
            Pii::Phone => mask_middle(value, 3, 4),
            Pii::Other => "*".repeat(value.chars().count().min(16)),
        }
    }
}

/// Keeps the first `keep_start` and last `keep_end` characters, stars in between.
///
/// A value too short to keep both ends with something hidden is fully starred.
pub fn mask_middle(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n <= keep_start + keep_end {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(value.len());
    out.extend(&chars[..keep_start]);
    out.extend(std::iter::repeat_n('*', n - keep_start - keep_end));
    out.extend(&chars[n - keep_end..]);
    out
}

/// Masks an ID number: `321083197812162119` -> `3210**********2119`.
pub fn mask_id_number(value: &str) -> String {
    mask_middle(value, 4, 4)
}

/// Masks a person's name: `张三` -> `张*`, `王小明` -> `王**`, `欧阳娜娜` -> `欧阳**`.
///
/// Names of four or more characters keep two (compound surnames such as 欧阳, 司马);
/// shorter names keep one.
pub fn mask_name(value: &str) -> String {
    let chars: Vec<char> = value.trim().chars().collect();
    let keep = match chars.len() {
        0 => return String::new(),
        1 => 0,
        2 | 3 => 1,
        _ => 2,
    };
    let mut out: String = chars[..keep].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - keep));
    out
}

/// Scrubs known secrets and personal values, and anything that looks like an ID or phone
/// number, from free text (provider messages, body snippets, transport errors).
///
/// Registering is cheap (masks are computed only when a value is actually found).
/// It borrows the values it watches for (the request's fields, the signer's secret), so
/// building one per call costs one small allocation.
#[derive(Clone, Default)]
pub struct Redactor<'a> {
    /// Values, longest first, with their class (`None` for secrets).
    needles: Vec<(Cow<'a, str>, Option<Pii>)>,
}

impl std::fmt::Debug for Redactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.needles.len())
            .finish()
    }
}

impl<'a> Redactor<'a> {
    /// An empty redactor (still masks ID- and phone-like digit runs).
    pub fn new() -> Self {
        Self {
            needles: Vec::with_capacity(4),
        }
    }

    fn push(&mut self, value: Cow<'a, str>, class: Option<Pii>) {
        // Longest first, so that a value containing another is replaced whole.
        let at = self
            .needles
            .iter()
            .position(|(n, _)| n.len() < value.len())
            .unwrap_or(self.needles.len());
        self.needles.insert(at, (value, class));
    }

    /// Replaces every occurrence of `secret` with `[redacted]`.
    pub fn secret(&mut self, secret: impl Into<Cow<'a, str>>) -> &mut Self {
        let secret = secret.into();
        if secret.len() >= 2 {
            self.push(secret, None);
        }
        self
    }

    /// Replaces every occurrence of `value` (trimmed) with its mask for `class`.
    pub fn pii(&mut self, class: Pii, value: impl Into<Cow<'a, str>>) -> &mut Self {
        let value = match value.into() {
            Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
            Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
            Cow::Owned(v) => Cow::Owned(v.trim().to_owned()),
        };
        if !value.is_empty() {
            self.push(value, Some(class));
        }
        self
    }

    /// Returns `text` with every registered value replaced and number runs masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for (needle, class) in &self.needles {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(needle.as_ref()) {
                let replacement = match class {
                    Some(c) => c.mask(needle),
                    None => "[redacted]".to_owned(),
                };
                out = Some(current.replace(needle.as_ref(), &replacement));
            }
        }
        mask_number_runs(out.as_deref().unwrap_or(text))
    }

    /// Redacts `text` and cuts it to at most `max_chars` characters (with `…`).
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        let redacted = self.redact(text);
        let flat: String = redacted
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let flat = flat.trim();
        if flat.chars().count() <= max_chars {
            flat.to_owned()
        } else {
            let mut cut: String = flat.chars().take(max_chars).collect();
            cut.push('…');
            cut
        }
    }
}

/// Masks runs of 11 or more digits (optionally ending in `X`): ID, phone and bank-card
/// shaped numbers in text we did not write.
pub fn mask_number_runs(text: &str) -> String {
    let mut run = 0;
    let has_long_run = text.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 11
    });
    if !has_long_run {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'X' | 'x') && i - start == 17 {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if run.len() >= 11 {
                if run.len() == 11 {
                    out.push_str(&mask_middle(&run, 3, 4));
                } else {
                    out.push_str(&mask_id_number(&run));
                }
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_keep_four_and_four() {
        assert_eq!(mask_id_number("321083197812162119"), "3210**********2119");
        assert_eq!(mask_id_number("33010219200403064X"), "3301**********064X");
        assert_eq!(mask_id_number("1234567"), "*******");
    }

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn phones_keep_three_and_four() {
        assert_eq!(Pii::Phone.mask("13812345678"), "138****5678");
    }

    #[test]
    fn redactor_replaces_values_and_number_runs() {
        let mut r = Redactor::new();
        r.secret("s3cr3t-value")
            .pii(Pii::Name, "王小明")
            .pii(Pii::IdNumber, "321083197812162119");
        let text = "王小明 321083197812162119 key=s3cr3t-value phone 13812345678 other 150102198807303035 code 603";
        let out = r.redact(text);
        assert_eq!(
            out,
            "王** 3210**********2119 key=[redacted] phone 138****5678 other 1501**********3035 code 603"
        );
        assert!(!out.contains("s3cr3t"));
    }

    #[test]
    fn snippet_is_cut_and_flattened() {
        let r = Redactor::new();
        assert_eq!(
            r.snippet("<html>\n<body>bad gateway</body>", 12),
            "<html> <body…"
        );
        assert_eq!(r.snippet("  short  ", 12), "short");
    }
}
