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
    /// A licence identifier: a GB/T 36904 identifier (`1.2.156.3005.2.…`) is not personal
    /// and stays as it is; any other form (a city `fileNumber`, which embeds the holder's
    /// ID number) is masked, first 3 and last 4 kept, and registered like personal data.
    LicenceIdentifier,
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
            Pii::LicenceIdentifier if crate::validate::is_gbt_license_id(value) => value.to_owned(),
            Pii::LicenceIdentifier => mask_middle(value, 3, 4),
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
/// number or an HTTP credential, from free text (provider messages, body snippets,
/// transport errors).
///
/// A registered value is also found in the forms a server echoing a request writes it
/// in: percent-encoded (`%E7%8E%8B…`, either case), form-encoded (`+` for a space) and
/// JSON `\uXXXX`-escaped. Registered field names ([`Redactor::secret_field`]) have their
/// values scrubbed wherever they appear as `name=value` or `"name": "value"`, whatever
/// the value is (a signature computed per request, a token the server just made up).
/// `Basic …` and `Bearer …` credentials are always scrubbed.
///
/// Registering is cheap (masks and encoded forms are computed only when text is
/// redacted). It borrows the values it watches for (the request's fields, the signer's
/// secret), so building one per call costs one small allocation.
#[derive(Clone, Default)]
pub struct Redactor<'a> {
    /// Values, longest first, with their class (`None` for secrets).
    needles: Vec<(Cow<'a, str>, Option<Pii>)>,
    /// Field names whose values are secret wherever they appear.
    fields: Vec<Cow<'a, str>>,
    /// Field names given as one static list ([`Redactor::secret_fields`]): the usual
    /// case, kept without allocating.
    static_fields: &'static [&'static str],
}

impl std::fmt::Debug for Redactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.needles.len())
            .field("fields", &self.field_names().collect::<Vec<_>>())
            .finish()
    }
}

/// `[redacted]`: what a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

impl<'a> Redactor<'a> {
    /// An empty redactor (still masks ID- and phone-like digit runs and HTTP
    /// credentials).
    pub fn new() -> Self {
        Self {
            needles: Vec::with_capacity(4),
            fields: Vec::new(),
            static_fields: &[],
        }
    }

    /// Every registered field name.
    fn field_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.static_fields
            .iter()
            .copied()
            .chain(self.fields.iter().map(|f| f.as_ref()))
    }

    /// [`Redactor::secret_field`] for each of `names` (an authorizer's
    /// [`secret_fields`](crate::Authorizer::secret_fields)).
    pub fn secret_fields(&mut self, names: &'static [&'static str]) -> &mut Self {
        if self.static_fields.is_empty() && self.fields.is_empty() {
            self.static_fields = names;
        } else {
            for name in names {
                self.secret_field(*name);
            }
        }
        self
    }

    fn push(&mut self, value: Cow<'a, str>, class: Option<Pii>) {
        // Equal values are kept once (the first class wins); compared by length first.
        if self
            .needles
            .iter()
            .any(|(n, _)| n.len() == value.len() && *n == value)
        {
            return;
        }
        // Longest first, so that a value containing another is replaced whole.
        let at = self
            .needles
            .iter()
            .position(|(n, _)| n.len() < value.len())
            .unwrap_or(self.needles.len());
        self.needles.insert(at, (value, class));
    }

    /// Replaces every occurrence of `secret` (and its encoded forms) with `[redacted]`.
    pub fn secret(&mut self, secret: impl Into<Cow<'a, str>>) -> &mut Self {
        let secret = secret.into();
        if secret.len() >= 2 {
            self.push(secret, None);
        }
        self
    }

    /// Replaces the value of field `name` (ASCII case ignored) wherever it appears as
    /// `name=value` (query strings, forms, headers) or `"name": "value"` (JSON) with
    /// `[redacted]`.
    pub fn secret_field(&mut self, name: impl Into<Cow<'a, str>>) -> &mut Self {
        let name = name.into();
        if !name.is_empty() && !self.field_names().any(|f| f.eq_ignore_ascii_case(&name)) {
            self.fields.push(name);
        }
        self
    }

    /// Replaces every occurrence of `value` (trimmed, and its encoded forms) with its
    /// mask for `class`.
    pub fn pii(&mut self, class: Pii, value: impl Into<Cow<'a, str>>) -> &mut Self {
        let value = match value.into() {
            Cow::Borrowed(v) => Cow::Borrowed(crate::text::trim(v)),
            Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
            Cow::Owned(v) => Cow::Owned(v.trim().to_owned()),
        };
        // A GB/T 36904 licence identifier is not personal: nothing to hide.
        let public = class == Pii::LicenceIdentifier && crate::validate::is_gbt_license_id(&value);
        if !value.is_empty() && !public {
            self.push(value, Some(class));
        }
        self
    }

    /// Returns `text` with every registered value and field replaced, HTTP credentials
    /// scrubbed and number runs masked.
    pub fn redact(&self, text: &str) -> String {
        // Most provider messages (`成功`, `查询无数据`) hold no ASCII letter, digit or
        // escape: no field name (each holds one), credential, number run or encoded form
        // can be in them, only a registered value itself.
        let plain = !text
            .bytes()
            .any(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'+' | b'\\'));
        if plain
            && self
                .field_names()
                .all(|f| f.bytes().any(|b| b.is_ascii_alphanumeric()))
            && !self
                .needles
                .iter()
                .any(|(needle, _)| needle.len() <= text.len() && text.contains(needle.as_ref()))
        {
            return text.to_owned();
        }
        let mut out: Option<String> = None;
        // Encoded forms can only be present where an escape character is.
        let escaped = text.contains(['%', '+', '\\']);
        // A value longer than the text cannot be in it, nor (percent-encoding only
        // lengthens) any encoded form of it: short texts (`成功`) skip the search.
        let needles = self
            .needles
            .iter()
            .filter(|(needle, _)| needle.len() <= text.len());
        for (needle, class) in needles {
            let replacement = || match class {
                Some(c) => c.mask(needle),
                None => REDACTED.to_owned(),
            };
            let current = out.as_deref().unwrap_or(text);
            if current.contains(needle.as_ref()) {
                out = Some(current.replace(needle.as_ref(), &replacement()));
            }
            if escaped && needs_encoding(needle) {
                for form in encoded_forms(needle) {
                    let current = out.as_deref().unwrap_or(text);
                    if current.contains(&form) {
                        out = Some(current.replace(&form, &replacement()));
                    }
                }
            }
        }
        if (!self.fields.is_empty() || !self.static_fields.is_empty())
            && let Some(scrubbed) = scrub_fields(out.as_deref().unwrap_or(text), self.field_names())
        {
            out = Some(scrubbed);
        }
        if let Some(scrubbed) = scrub_credentials(out.as_deref().unwrap_or(text)) {
            out = Some(scrubbed);
        }
        mask_number_runs(out.as_deref().unwrap_or(text))
    }

    /// Shows an opaque identifier the provider sent (a code, a trace or request id, a
    /// timestamp): registered values replaced, but long digit runs kept (trace ids are
    /// made of them). Anything longer than 128 characters or with characters outside
    /// visible ASCII is not an identifier and is not shown.
    pub fn identifier(&self, text: &str) -> String {
        let text = text.trim();
        let shaped =
            !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
        if !shaped {
            return "[not shown]".to_owned();
        }
        let mut out = text.to_owned();
        for (needle, class) in &self.needles {
            if out.contains(needle.as_ref()) {
                let replacement = match class {
                    Some(c) => c.mask(needle),
                    None => REDACTED.to_owned(),
                };
                out = out.replace(needle.as_ref(), &replacement);
            }
        }
        out
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

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Whether `value` looks different once percent-, form- or JSON-encoded.
fn needs_encoding(value: &str) -> bool {
    !value.bytes().all(is_unreserved)
}

/// The forms a server echoing a request may write `value` in: percent-encoded (upper- and
/// lower-case hex, space as `%20`), form-encoded (space as `+`) and JSON-escaped
/// (`\uXXXX` for everything outside ASCII, either case).
fn encoded_forms(value: &str) -> Vec<String> {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    let percent = |hex: &[u8; 16], plus: bool| {
        let mut out = String::with_capacity(value.len() * 3);
        for b in value.bytes() {
            // application/x-www-form-urlencoded keeps `*-._` and encodes `~`.
            let kept = if plus {
                b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
            } else {
                is_unreserved(b)
            };
            if kept {
                out.push(b as char);
            } else if plus && b == b' ' {
                out.push('+');
            } else {
                out.push('%');
                out.push(hex[usize::from(b >> 4)] as char);
                out.push(hex[usize::from(b & 15)] as char);
            }
        }
        out
    };
    let json = |hex: &[u8; 16]| {
        let mut out = String::with_capacity(value.len() * 6);
        let mut units = [0u16; 2];
        for c in value.chars() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            for unit in c.encode_utf16(&mut units).iter() {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(hex[usize::from((unit >> shift) & 15)] as char);
                }
            }
        }
        out
    };
    let mut forms = vec![
        percent(UPPER, false),
        percent(LOWER, false),
        percent(UPPER, true),
        percent(LOWER, true),
    ];
    if !value.is_ascii() {
        forms.push(json(LOWER));
        forms.push(json(UPPER));
    }
    forms.retain(|f| f != value);
    forms.dedup();
    forms
}

/// Whether `b` may continue a field name (so `name` inside `rename=` is not a match).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Replaces the values of `fields` in `name=value` and `"name": "value"` forms; `None`
/// when there was nothing to replace.
fn scrub_fields<'f>(text: &str, fields: impl Iterator<Item = &'f str>) -> Option<String> {
    // A field's value follows `=` or `:`: a text without either has none.
    if !text.contains(['=', ':']) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    // (start, end) byte ranges of values to replace.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for field in fields {
        let name = field.to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find(&name) {
            let start = from + found;
            let mut i = start + name.len();
            from = i;
            if start > 0 && is_name_byte(bytes[start - 1]) {
                continue;
            }
            if i < bytes.len() && is_name_byte(bytes[i]) {
                continue;
            }
            // A JSON key's closing quote, then `=` or `:` with optional spaces.
            if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i >= bytes.len() || !matches!(bytes[i], b'=' | b':') {
                continue;
            }
            i += 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            let quoted = i < bytes.len() && matches!(bytes[i], b'"' | b'\'');
            let value_start = if quoted { i + 1 } else { i };
            let mut end = value_start;
            while end < bytes.len() {
                let b = bytes[end];
                let stop = if quoted {
                    b == bytes[i] && bytes[end - 1] != b'\\'
                } else {
                    matches!(
                        b,
                        b'&' | b',' | b';' | b'"' | b'\'' | b'}' | b']' | b'<' | b')'
                    ) || b.is_ascii_whitespace()
                };
                if stop {
                    break;
                }
                end += 1;
            }
            if end > value_start && &text[value_start..end] != REDACTED {
                spans.push((value_start, end));
            }
            from = end.max(from);
        }
    }
    replace_spans(text, spans)
}

/// Replaces the credentials of `Basic …` and `Bearer …` (any case) with `[redacted]`.
fn scrub_credentials(text: &str) -> Option<String> {
    // `basic ` / `bearer ` need a space and at least six characters before it.
    if !text.contains(' ') {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("basic ") || lower.contains("bearer ")) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for scheme in ["basic ", "bearer "] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(scheme) {
            let start = from + found;
            from = start + scheme.len();
            if start > 0 && is_name_byte(bytes[start - 1]) {
                continue;
            }
            let mut i = from;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            // token68: letters, digits and -._~+/ then any `=` padding.
            let value_start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b"-._~+/".contains(&bytes[i]))
            {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b'=' {
                i += 1;
            }
            // Eight characters at least: a credential, not an English word.
            if i - value_start >= 8 {
                spans.push((value_start, i));
            }
            from = i.max(from);
        }
    }
    replace_spans(text, spans)
}

/// `text` with each byte range replaced by `[redacted]`; `None` when there are none.
fn replace_spans(text: &str, mut spans: Vec<(usize, usize)>) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue; // overlapping: already replaced
        }
        // Spans start and end at ASCII bytes, so these are character boundaries.
        out.push_str(text.get(at..start)?);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
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
    fn a_city_file_number_is_masked_and_a_gbt_identifier_is_not() {
        let city = "02-12370400F49201558F-51-370481198304040037-00-A000102935";
        let masked = Pii::LicenceIdentifier.mask(city);
        assert!(!masked.contains("370481198304040037"), "{masked}");
        assert!(
            masked.starts_with("02-") && masked.ends_with("2935"),
            "{masked}"
        );
        let gbt = "1.2.156.3005.2.W011.11430000006122244L.20230000403.001.B";
        assert_eq!(Pii::LicenceIdentifier.mask(gbt), gbt);
        let mut r = Redactor::new();
        r.pii(Pii::LicenceIdentifier, city)
            .pii(Pii::LicenceIdentifier, gbt);
        let text = r.redact(&format!("{city} and {gbt}"));
        assert!(!text.contains("370481198304040037"), "{text}");
        // The GB/T identifier is not registered: only the redactor's general scrub of
        // long digit runs touches it, as it would without registration.
        assert_eq!(r.redact(gbt), Redactor::new().redact(gbt));
    }

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

    #[test]
    fn encoded_forms_of_registered_values_are_caught() {
        let mut r = Redactor::new();
        r.pii(Pii::Name, "王小明").secret("s3cr3t value+/=");
        for echoed in [
            "name=%E7%8E%8B%E5%B0%8F%E6%98%8E&x=1",
            "name=%e7%8e%8b%e5%b0%8f%e6%98%8e",
            r#"{"name":"\u738b\u5c0f\u660e"}"#,
            r#"{"name":"\u738B\u5C0F\u660E"}"#,
        ] {
            let out = r.redact(echoed);
            assert!(out.contains("王**"), "{echoed} -> {out}");
            assert!(!out.to_ascii_lowercase().contains("e7%8e%8b"), "{out}");
            assert!(!out.contains("738"), "{out}");
        }
        for echoed in [
            "key=s3cr3t%20value%2B%2F%3D",
            "key=s3cr3t+value%2B%2F%3D",
            "key=s3cr3t+value%2b%2f%3d",
        ] {
            let out = r.redact(echoed);
            assert_eq!(out, "key=[redacted]", "{echoed}");
        }
    }

    #[test]
    fn secret_fields_are_scrubbed_whatever_their_value() {
        let mut r = Redactor::new();
        r.secret_field("sign").secret_field("access_token");
        let sign = "6ddcdc405743c576cb6d34b17b47ed56e2b9b6670fae1fe85ed01244fd31558b";
        let text = format!(
            "bad request: appId=a&timestamp=1&sign={sign}&name=x; json {{\"access_token\" : \"tok-1\", \"Sign\":\"{sign}\"}} design=ok resign"
        );
        let out = r.redact(&text);
        assert!(!out.contains(sign), "{out}");
        assert!(!out.contains("tok-1"), "{out}");
        assert!(out.contains("sign=[redacted]&name=x"), "{out}");
        assert!(out.contains("design=ok"), "{out}");
    }

    #[test]
    fn http_credentials_are_always_scrubbed() {
        let r = Redactor::new();
        let out =
            r.redact("Authorization: Basic Y2xpZW50OnNlY3JldC12YWx1ZQ== and bearer abc.def-123456");
        assert_eq!(out, "Authorization: Basic [redacted] and bearer [redacted]");
        assert_eq!(r.redact("basic auth failed"), "basic auth failed");
    }
}
