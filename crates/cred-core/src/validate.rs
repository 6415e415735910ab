//! Local validators, run before any paid call.
//!
//! Errors never echo the value checked: they may be logged.

use std::fmt;

use crate::date::Date;
use crate::mask::mask_id_number;

/// Why a value failed validation. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{reason}")]
pub struct ValidationError {
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

impl ValidationError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// GB 11643-1999's weights, `2^(17 - i) mod 11` (kept for the tests that check the
/// arithmetic below against the standard's table).
#[cfg(test)]
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643-1999's check characters by `sum mod 11`.
#[cfg(test)]
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The MOD 11-2 check character of 17 ASCII digits, by arithmetic (no table: a table
/// is cold memory on every call): the weights are `2^(17 - i) mod 11`, and the check
/// value is `(12 - sum mod 11) mod 11`, written `X` for 10.
fn mod_11_2(digits: &[u8]) -> char {
    let (mut sum, mut weight) = (0u32, 1u32);
    for d in digits.iter().rev() {
        weight = weight * 2 % 11;
        sum += u32::from(d - b'0') * weight;
    }
    match (12 - sum % 11) % 11 {
        10 => 'X',
        v => char::from(b'0' + v as u8),
    }
}

/// A resident identity card number (居民身份证号码, GB 11643-1999) that passed every check.
///
/// `Debug` and `Display` show it masked (`3210**********2119`); use [`ResidentId::as_str`]
/// for the full value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    value: String,
    birth: Date,
}

impl ResidentId {
    /// The normalised number (upper-case `X`).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The six-digit administrative division code of the issuing region.
    pub fn region_code(&self) -> &str {
        &self.value[..6]
    }

    /// The holder's date of birth.
    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// `true` for an odd sequence digit (male), `false` for even (female).
    pub fn is_male(&self) -> bool {
        self.value.as_bytes()[16] % 2 == 1
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", mask_id_number(&self.value))
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_id_number(&self.value))
    }
}

/// The GB 11643-1999 check character for the first 17 digits.
pub fn resident_id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(mod_11_2(first17.as_bytes()))
}

/// Validates an 18-character resident ID number: format, region, birth date and the
/// MOD 11-2 check character. A lower-case `x` is accepted and normalised.
pub fn resident_id(input: &str) -> Result<ResidentId, ValidationError> {
    let birth = check_resident_id(input)?;
    Ok(ResidentId {
        value: input.trim().to_ascii_uppercase(),
        birth,
    })
}

/// [`resident_id`] without building the value (no allocation); returns the birth date.
pub fn check_resident_id(input: &str) -> Result<Date, ValidationError> {
    let value = crate::text::trim(input);
    if value.is_empty() {
        return Err(ValidationError::new("ID number is empty"));
    }
    let ascii = value.is_ascii();
    let n = if ascii {
        value.len()
    } else {
        value.chars().count()
    };
    if n == 15 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            "15-digit (first-generation) ID numbers are not accepted; use the 18-character number",
        ));
    }
    if n != 18 {
        return Err(ValidationError::new(format!(
            "ID number must have 18 characters, got {n}"
        )));
    }
    if !ascii {
        // Checked on characters: a multi-byte character is never split.
        let full_width = value
            .chars()
            .any(|c| ('０'..='９').contains(&c) || matches!(c, 'Ｘ' | 'ｘ'));
        let shaped = value.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ') || ('０'..='９').contains(&c)
        });
        return Err(ValidationError::new(if full_width && shaped {
            "ID number contains full-width characters (０-９, Ｘ); they are refused, not converted: type it with ASCII digits 0-9 and X"
        } else {
            "ID number must be 17 digits followed by a digit or X"
        }));
    }
    // All ASCII and 18 characters: 18 bytes, so byte positions are character positions.
    let (body, last) = value.split_at(17);
    if !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            "ID number must be 17 digits followed by a digit or X",
        ));
    }
    let last = last.chars().next().unwrap_or(' ').to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(ValidationError::new("ID number must end in a digit or X"));
    }
    if !(b'1'..=b'9').contains(&value.as_bytes()[0]) {
        return Err(ValidationError::new(
            "ID number does not start with a valid region code",
        ));
    }
    // Digits only (checked above): read without `parse`.
    let num = |r: std::ops::Range<usize>| {
        body.as_bytes()[r]
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
    };
    let birth = Date::new(num(6..10), num(10..12) as u8, num(12..14) as u8)
        .filter(|d| d.year() >= 1800 && d.is_past_or_today_china())
        .ok_or_else(|| ValidationError::new("ID number does not contain a real birth date"))?;
    // 17 ASCII digits (checked above).
    let expected = mod_11_2(body.as_bytes());
    if last != expected {
        return Err(ValidationError::new(
            "ID number check character does not match (typo?)",
        ));
    }
    Ok(birth)
}

const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code (统一社会信用代码, GB 32100-2015) that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

impl Uscc {
    /// The normalised code (upper case).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registration authority code (登记管理部门代码), first character.
    pub fn authority(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }

    /// The 9-character organisation code (组织机构代码) embedded at positions 9-17.
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn uscc_value(c: char) -> Option<u32> {
    USCC_ALPHABET.find(c).map(|i| i as u32)
}

/// The GB 32100-2015 check character for the first 17 characters.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += uscc_value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    USCC_ALPHABET.chars().nth(check as usize)
}

/// Whether `input` has the shape of a unified social credit code (18 characters of its
/// alphabet, check character not examined). Useful to decide whether to validate.
pub fn looks_like_uscc(input: &str) -> bool {
    let v = input.trim().to_ascii_uppercase();
    v.chars().count() == 18 && v.chars().all(|c| uscc_value(c).is_some())
}

/// Validates an 18-character unified social credit code, including its check character.
pub fn uscc(input: &str) -> Result<Uscc, ValidationError> {
    check_uscc(input)?;
    Ok(Uscc(input.trim().to_ascii_uppercase()))
}

/// [`uscc`] without building the value.
pub fn check_uscc(input: &str) -> Result<(), ValidationError> {
    let value = input.trim().to_ascii_uppercase();
    let n = value.chars().count();
    if n != 18 {
        return Err(ValidationError::new(format!(
            "unified social credit code must have 18 characters, got {n}"
        )));
    }
    if let Some(bad) = value.chars().find(|c| uscc_value(*c).is_none()) {
        return Err(ValidationError::new(format!(
            "unified social credit code contains `{bad}`, which is not in its alphabet (no I, O, S, V, Z)"
        )));
    }
    let (body, last) = value.split_at(17);
    let expected = uscc_check_char(body)
        .ok_or_else(|| ValidationError::new("unified social credit code is malformed"))?;
    if !last.starts_with(expected) {
        return Err(ValidationError::new(
            "unified social credit code check character does not match (typo?)",
        ));
    }
    Ok(())
}

/// Validates a person's name as the registries hold it: 1-50 characters, letters (any
/// script), the middle dots used in transcribed names (`·`, `•`), and inner spaces; no
/// digits, punctuation or control characters. Returns the trimmed name.
pub fn person_name(input: &str) -> Result<&str, ValidationError> {
    let name = crate::text::trim(input);
    if name.is_empty() {
        return Err(ValidationError::new("name is empty"));
    }
    // One pass: the length and the first character refused (the length is reported
    // first).
    let (mut n, mut refused) = (0usize, None);
    for c in name.chars() {
        n += 1;
        if refused.is_none() && !name_char(c) {
            refused = Some(c);
        }
    }
    if n > 50 {
        return Err(ValidationError::new(format!(
            "name is {n} characters long; at most 50 are accepted"
        )));
    }
    if let Some(bad) = refused {
        let what = if bad.is_ascii_digit() {
            "a digit".to_owned()
        } else if bad.is_control() {
            "a control character".to_owned()
        } else {
            format!("`{bad}`")
        };
        return Err(ValidationError::new(format!(
            "name contains {what}; only letters, `·` and spaces are accepted"
        )));
    }
    Ok(name)
}

/// A character [`person_name`] accepts: a letter of any script, `·`, `•`, `.`, a space
/// or `-`. The CJK Unified Ideographs block (U+4E00-U+9FFF, every one a letter) is
/// answered without the Unicode table search, since nearly every name is written in it.
fn name_char(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
        || c.is_alphabetic()
        || matches!(c, '·' | '•' | '.' | ' ' | '-')
}

/// The fixed prefix of every electronic-licence identifier (GB/T 36904-2018).
pub const LICENSE_ID_PREFIX: &str = "1.2.156.3005.2.";

/// An electronic-licence identifier (电子证照标识, GB/T 36904-2018):
/// `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenseId {
    /// 证照类型代码: licence type code.
    type_code: String,
    /// 颁发机构代码: the issuing authority's code (usually its credit code).
    issuer: String,
    /// 顺序号: serial within type and issuer.
    serial: String,
    /// 版本号: three-digit version.
    version: String,
    /// 校验位: the check character as written.
    check: char,
    /// The ISO/IEC 7064 MOD 37,36 check character computed over type, issuer, serial and
    /// version.
    expected_check: char,
}

impl LicenseId {
    /// 证照类型代码: licence type code.
    pub fn type_code(&self) -> &str {
        &self.type_code
    }

    /// 颁发机构代码: the issuing authority's code (usually its credit code).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// 顺序号: serial within type and issuer.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// 版本号: three-digit version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// 校验位: the check character as written.
    pub fn check(&self) -> char {
        self.check
    }

    /// The ISO/IEC 7064 MOD 37,36 check character computed over type, issuer, serial and
    /// version.
    pub fn expected_check(&self) -> char {
        self.expected_check
    }

    /// Whether the written check character is the computed one. Some platforms issue
    /// identifiers with a non-standard check character: a mismatch is a warning, not a
    /// reason to reject the identifier.
    pub fn check_ok(&self) -> bool {
        self.check == self.expected_check
    }

    /// A warning for a mismatching check character, if any.
    pub fn warning(&self) -> Option<String> {
        (!self.check_ok()).then(|| {
            format!(
                "check character `{}` differs from the GB/T 36904 (ISO/IEC 7064 MOD 37,36) value `{}`; some platforms use a non-standard variant",
                self.check, self.expected_check
            )
        })
    }
}

impl fmt::Display for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{LICENSE_ID_PREFIX}{}.{}.{}.{}.{}",
            self.type_code, self.issuer, self.serial, self.version, self.check
        )
    }
}

const MOD37_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// ISO/IEC 7064 MOD 37,36 check character of `data` (digits and upper-case letters).
pub fn mod37_36_check_char(data: &str) -> Option<char> {
    let mut p: u32 = 36;
    for c in data.chars() {
        let v = MOD37_ALPHABET.find(c)? as u32;
        p = (p + v) % 36;
        if p == 0 {
            p = 36;
        }
        p = (p * 2) % 37;
    }
    MOD37_ALPHABET.chars().nth(((37 - p) % 36) as usize)
}

/// Parses an electronic-licence identifier. The structure must be right (prefix, five
/// parts, alphanumeric, three-digit version); the check character is computed and
/// compared but a mismatch is only reported ([`LicenseId::warning`]).
pub fn license_id(input: &str) -> Result<LicenseId, ValidationError> {
    let value = input.trim().to_ascii_uppercase();
    let rest = value.strip_prefix(LICENSE_ID_PREFIX).ok_or_else(|| {
        ValidationError::new(format!(
            "licence identifier must start with {LICENSE_ID_PREFIX}"
        ))
    })?;
    let parts: Vec<&str> = rest.split('.').collect();
    let [type_code, issuer, serial, version, check] = parts.as_slice() else {
        return Err(ValidationError::new(format!(
            "licence identifier must have 5 parts after the prefix (type.issuer.serial.version.check), got {}",
            parts.len()
        )));
    };
    for (name, part) in [
        ("type code", type_code),
        ("issuer code", issuer),
        ("serial", serial),
    ] {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ValidationError::new(format!(
                "licence identifier {name} must be letters and digits"
            )));
        }
    }
    if version.len() != 3 || !version.chars().all(|c| c.is_ascii_digit()) {
        return Err(ValidationError::new(
            "licence identifier version must be three digits",
        ));
    }
    let mut chars = check.chars();
    let (Some(check), None) = (chars.next(), chars.next()) else {
        return Err(ValidationError::new(
            "licence identifier check part must be one character",
        ));
    };
    if !check.is_ascii_alphanumeric() {
        return Err(ValidationError::new(
            "licence identifier check character must be a letter or digit",
        ));
    }
    let expected_check = mod37_36_check_char(&format!("{type_code}{issuer}{serial}{version}"))
        .ok_or_else(|| ValidationError::new("licence identifier is malformed"))?;
    Ok(LicenseId {
        type_code: (*type_code).to_owned(),
        issuer: (*issuer).to_owned(),
        serial: (*serial).to_owned(),
        version: (*version).to_owned(),
        check,
        expected_check,
    })
}

/// Whether `value` has the GB/T 36904 prefix (`1.2.156.3005.2.`) of an electronic-licence
/// identifier (letters in any case, surrounding space ignored).
pub fn is_gbt_license_id(value: &str) -> bool {
    value
        .trim()
        .get(..LICENSE_ID_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(LICENSE_ID_PREFIX))
}

/// A rule a request parameter is checked against (`validator` in a provider's `api.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// No check beyond presence and length.
    Any,
    /// Not blank.
    NonEmpty,
    /// [`person_name`].
    PersonName,
    /// [`resident_id`].
    ResidentId,
    /// [`uscc`].
    Uscc,
    /// [`uscc`], but only when the value has the shape of a credit code (a parameter that
    /// also accepts a company name or registration number).
    UsccIfShaped,
    /// A calendar date written `YYYY-MM-DD` ([`iso_date`]).
    IsoDate,
    /// The structure of an electronic-licence identifier ([`license_id`]); a check
    /// character that differs from GB/T 36904's is only a warning (some platforms use a
    /// variant), logged, never a refusal.
    LicenseId,
    /// A licence identifier as the licence platform answers them: a GB/T 36904 identifier
    /// (checked as [`Rule::LicenseId`] when it has the `1.2.156.3005.2.` prefix) or
    /// another form, such as a city interface's `fileNumber`
    /// (`02-12370400F49201558F-51-370481198304040037-00-A000102935`), which no document
    /// defines a shape for: any non-blank value.
    CertificateId,
}

/// Checks a date written `YYYY-MM-DD` (a real calendar date).
pub fn iso_date(input: &str) -> Result<Date, ValidationError> {
    let v = input.trim();
    let b = v.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let parsed = shaped
        .then(|| {
            Date::new(
                v[0..4].parse().ok()?,
                v[5..7].parse().ok()?,
                v[8..10].parse().ok()?,
            )
        })
        .flatten();
    parsed.ok_or_else(|| ValidationError::new("must be a date written YYYY-MM-DD"))
}

/// The value of a string parameter as it goes on the wire: trimmed, and upper-cased where
/// `rule` makes case irrelevant (an ID number's `x`, a credit code's letters).
pub fn normalize_param(rule: Rule, value: &str) -> String {
    let v = crate::text::trim(value);
    match rule {
        Rule::ResidentId | Rule::Uscc => v.to_ascii_uppercase(),
        Rule::UsccIfShaped if looks_like_uscc(v) => v.to_ascii_uppercase(),
        _ => v.to_owned(),
    }
}

/// credkit's own bound on a parameter whose provider document sets no length: far above
/// anything real, it only stops absurd input (a file pasted by mistake) before it is sent.
/// A document's own limit (`max_len` in a spec) replaces it.
pub const SANITY_MAX_CHARS: usize = 65_536;

/// Checks one string parameter the way generated request types do: a required value must
/// be present and not blank, then at most `max_chars` characters (trimmed; the document's
/// limit, or [`SANITY_MAX_CHARS`] when it sets none), then `rule`. The error names
/// `field` and never echoes the value.
pub fn check_param(
    field: &'static str,
    value: Option<&str>,
    required: bool,
    max_chars: Option<usize>,
    rule: Rule,
) -> Result<(), crate::Error> {
    let invalid = |reason: String| crate::Error::invalid(field, reason);
    let Some(v) = value else {
        return if required {
            Err(invalid("is required".to_owned()))
        } else {
            Ok(())
        };
    };
    let trimmed = crate::text::trim(v);
    if required && trimmed.is_empty() {
        return Err(invalid("is required and must not be blank".to_owned()));
    }
    match max_chars {
        Some(max) if trimmed.chars().count() > max => {
            return Err(invalid(format!("must be at most {max} characters")));
        }
        None if v.len() > SANITY_MAX_CHARS && trimmed.chars().count() > SANITY_MAX_CHARS => {
            return Err(invalid(format!(
                "is longer than {SANITY_MAX_CHARS} characters: credkit's own bound against absurd input (the provider's document sets no limit)"
            )));
        }
        _ => {}
    }
    match rule {
        Rule::Any => Ok(()),
        Rule::NonEmpty if trimmed.is_empty() => Err(invalid("must not be blank".to_owned())),
        Rule::NonEmpty => Ok(()),
        Rule::PersonName => person_name(v).map(|_| ()).map_err(|e| invalid(e.reason)),
        Rule::ResidentId => check_resident_id(v)
            .map(|_| ())
            .map_err(|e| invalid(e.reason)),
        Rule::Uscc => check_uscc(v).map_err(|e| invalid(e.reason)),
        Rule::UsccIfShaped if looks_like_uscc(v) => check_uscc(v).map_err(|e| invalid(e.reason)),
        Rule::UsccIfShaped => Ok(()),
        Rule::IsoDate => iso_date(v).map(|_| ()).map_err(|e| invalid(e.reason)),
        Rule::LicenseId => {
            let id = license_id(v).map_err(|e| invalid(e.reason))?;
            if let Some(warning) = id.warning() {
                tracing::warn!(field, "{warning}");
            }
            Ok(())
        }
        Rule::CertificateId if is_gbt_license_id(v) => {
            check_param(field, Some(v), required, None, Rule::LicenseId)
        }
        Rule::CertificateId if v.trim().is_empty() => Err(invalid("must not be blank".to_owned())),
        Rule::CertificateId => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_arithmetic_is_the_standards_table() {
        let mut weight = 1u32;
        for i in (0..17).rev() {
            weight = weight * 2 % 11;
            assert_eq!(weight, ID_WEIGHTS[i], "weight {i}");
        }
        for r in 0..11u32 {
            let v = (12 - r) % 11;
            let c = if v == 10 {
                'X'
            } else {
                char::from(b'0' + v as u8)
            };
            assert_eq!(c, ID_CHECK[r as usize], "sum mod 11 = {r}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_check_character_is_the_tables(digits in "[0-9]{17}") {
            let sum: u32 = digits
                .bytes()
                .zip(ID_WEIGHTS)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            proptest::prop_assert_eq!(
                resident_id_check_char(&digits),
                Some(ID_CHECK[(sum % 11) as usize])
            );
        }
    }

    #[test]
    fn the_cjk_fast_path_agrees_with_the_unicode_tables() {
        for c in '\u{4E00}'..='\u{9FFF}' {
            assert!(c.is_alphabetic(), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(
            iso_date("2021-08-26").unwrap(),
            Date::new(2021, 8, 26).unwrap()
        );
        for bad in [
            "2021-02-30",
            "2021/08/26",
            "21-08-26",
            "2021-8-26",
            "２０２１-08-26",
        ] {
            assert!(iso_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn valid_resident_ids() {
        for id in [
            "321083197812162119",
            "150102198807303035",
            "33010219200403064X",
        ] {
            let parsed = resident_id(id);
            assert!(parsed.is_ok(), "{id}: {parsed:?}");
        }
        let lower = resident_id("33010219200403064x");
        assert_eq!(
            lower.map(|r| r.as_str().to_owned()).ok().as_deref(),
            Some("33010219200403064X")
        );
        let r = resident_id("321083197812162119").ok();
        assert_eq!(r.as_ref().map(|r| r.birth_date()), Date::new(1978, 12, 16));
        assert_eq!(r.as_ref().map(|r| r.region_code()), Some("321083"));
        assert_eq!(r.as_ref().map(|r| r.is_male()), Some(true));
        assert_eq!(format!("{:?}", r), "Some(ResidentId(3210**********2119))");
    }

    #[test]
    fn invalid_resident_ids() {
        let cases = [
            ("321083197812162118", "check character"),
            ("32108319781216211", "18 characters"),
            ("3210831978121621199", "18 characters"),
            ("321083197813162119", "birth date"),
            ("321083197802302119", "birth date"),
            ("32108319781216211Y", "digit or X"),
            ("32108A197812162119", "17 digits"),
            ("021083197812162119", "region"),
            ("321083781216211", "15-digit"),
            ("", "empty"),
            ("321083299912162119", "birth date"),
        ];
        for (id, why) in cases {
            match resident_id(id) {
                Ok(_) => panic!("{id} accepted"),
                Err(e) => {
                    assert!(e.reason.contains(why), "{id}: {}", e.reason);
                    assert!(
                        !e.reason.contains(id) || id.is_empty(),
                        "error echoes value"
                    );
                }
            }
        }
    }

    #[test]
    fn multi_byte_input_is_refused_not_split() {
        for (id, why) in [
            ("３２１０８３１９７８１２１６２１１９", "full-width"),
            ("3210831978121621１9", "full-width"),
            ("32108319781216211９", "full-width"),
            ("32108319781216211Ｘ", "full-width"),
            ("王王王王王王王王王王王王王王王王王王", "17 digits"),
            ("3210831978121621王9", "17 digits"),
            ("32108319781216211é", "17 digits"),
        ] {
            let e = resident_id(id).unwrap_err();
            assert!(e.reason.contains(why), "{id}: {}", e.reason);
            assert!(!e.reason.contains(id));
        }
    }

    #[test]
    fn check_char_known_answers() {
        assert_eq!(resident_id_check_char("32108319781216211"), Some('9'));
        assert_eq!(resident_id_check_char("33010219200403064"), Some('X'));
        assert_eq!(resident_id_check_char("1501021988073030"), None);
        assert_eq!(uscc_check_char("91310110666007217"), Some('T'));
        assert_eq!(uscc_check_char("91310115591693856"), Some('A'));
    }

    #[test]
    fn valid_usccs() {
        for code in [
            "91310110666007217T",
            "91310115591693856A",
            "91310115591693856a",
        ] {
            assert!(uscc(code).is_ok(), "{code}");
            assert!(looks_like_uscc(code));
        }
        let u = uscc("91310110666007217T").ok();
        assert_eq!(u.as_ref().map(|u| u.organization_code()), Some("666007217"));
        assert_eq!(u.as_ref().map(|u| u.authority()), Some('9'));
    }

    #[test]
    fn invalid_usccs() {
        let cases = [
            ("91310110666007217A", "check character"),
            ("91310110666007217", "18 characters"),
            ("9131011066600721OT", "alphabet"),
            ("91310110I66007217T", "alphabet"),
        ];
        for (code, why) in cases {
            match uscc(code) {
                Ok(_) => panic!("{code} accepted"),
                Err(e) => assert!(e.reason.contains(why), "{code}: {}", e.reason),
            }
        }
        assert!(!looks_like_uscc("河南省建筑科学研究院有限公司"));
    }

    #[test]
    fn params_are_normalised_for_the_wire() {
        assert_eq!(
            normalize_param(Rule::ResidentId, " 33010219200403064x "),
            "33010219200403064X"
        );
        assert_eq!(
            normalize_param(Rule::UsccIfShaped, "91310110666007217t"),
            "91310110666007217T"
        );
        assert_eq!(normalize_param(Rule::UsccIfShaped, " abc公司 "), "abc公司");
        assert_eq!(normalize_param(Rule::PersonName, " 王小明 "), "王小明");
    }

    #[test]
    fn params_are_checked_in_order() {
        use crate::Error;
        let field = |r: Result<(), Error>| match r {
            Err(Error::InvalidInput { field, reason }) => Some((field, reason)),
            _ => None,
        };
        assert!(check_param("x", None, false, Some(3), Rule::ResidentId).is_ok());
        assert_eq!(
            field(check_param("x", None, true, None, Rule::Any)),
            Some(("x", "is required".to_owned()))
        );
        assert_eq!(
            field(check_param("x", Some(" "), true, None, Rule::Any)),
            Some(("x", "is required and must not be blank".to_owned()))
        );
        assert_eq!(
            field(check_param("x", Some("abcd"), false, Some(3), Rule::Any)),
            Some(("x", "must be at most 3 characters".to_owned()))
        );
        assert!(check_param("x", Some(" "), false, None, Rule::NonEmpty).is_err());
        assert!(
            check_param(
                "id",
                Some("321083197812162119"),
                true,
                None,
                Rule::ResidentId
            )
            .is_ok()
        );
        assert!(
            check_param(
                "id",
                Some("321083197812162118"),
                true,
                None,
                Rule::ResidentId
            )
            .is_err()
        );
        assert!(
            check_param(
                "n",
                Some("河南省建筑科学研究院有限公司"),
                true,
                None,
                Rule::UsccIfShaped
            )
            .is_ok()
        );
        assert!(
            check_param(
                "n",
                Some("91310110666007217A"),
                true,
                None,
                Rule::UsccIfShaped
            )
            .is_err()
        );
        assert!(check_param("n", Some("91310110666007217T"), true, None, Rule::Uscc).is_ok());
    }

    #[test]
    fn mod37_36_known_answers() {
        // ISO/IEC 7064 MOD 37,36 computed by an independent Python implementation.
        assert_eq!(
            mod37_36_check_char("W01111430000006122244L20230000403001"),
            Some('B')
        );
        assert_eq!(mod37_36_check_char("A"), Some('H'));
        assert_eq!(mod37_36_check_char("a"), None);
    }

    #[test]
    fn certificate_ids_take_both_of_the_platforms_forms() {
        let check =
            |v: &str| check_param("certificate_id", Some(v), true, None, Rule::CertificateId);
        // The city form of the document (4.3.6): no shape is documented, any non-blank.
        assert!(check("02-12370400F49201558F-51-370481198304040037-00-A000102935").is_ok());
        assert!(check("1.2.3").is_ok());
        assert!(check("   ").is_err());
        // The GB/T 36904 form keeps its structure check.
        assert!(check("1.2.156.3005.2.W011.11430000006122244L.20230000403.001.B").is_ok());
        assert!(check("1.2.156.3005.2.X.Y").is_err());
        assert!(check("1.2.156.3005.2.A.B.C.01.8").is_err());
        assert!(is_gbt_license_id(" 1.2.156.3005.2.x"));
        assert!(!is_gbt_license_id("02-1237"));
        // The sanity bound (ours) and a document's own limit.
        let long = "x".repeat(SANITY_MAX_CHARS + 1);
        let err = check_param("x", Some(&long), false, None, Rule::Any).unwrap_err();
        assert!(err.to_string().contains("credkit's own bound"), "{err}");
        assert!(
            check_param(
                "x",
                Some(&"x".repeat(SANITY_MAX_CHARS)),
                false,
                None,
                Rule::Any
            )
            .is_ok()
        );
        let err =
            check_param("x", Some(&"因".repeat(201)), false, Some(200), Rule::Any).unwrap_err();
        assert!(err.to_string().contains("at most 200"), "{err}");
    }

    #[test]
    fn license_ids_parse_and_report_check_mismatches() {
        let id = license_id("1.2.156.3005.2.W011.11430000006122244L.20230000403.001.B").unwrap();
        assert!(id.check_ok());
        assert_eq!(id.type_code, "W011");
        assert_eq!(id.issuer, "11430000006122244L");
        assert_eq!(id.serial, "20230000403");
        assert_eq!(id.version, "001");
        assert_eq!(
            id.to_string(),
            "1.2.156.3005.2.W011.11430000006122244L.20230000403.001.B"
        );
        // The standard's sample: structurally fine, check character non-standard.
        let sample = license_id(
            "1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8",
        )
        .unwrap();
        assert!(!sample.check_ok());
        assert!(sample.warning().unwrap().contains("non-standard"));
        for (bad, why) in [
            ("1.2.156.3005.1.W011.1143.2023.001.B", "must start with"),
            ("1.2.156.3005.2.W011.1143.2023.001", "5 parts"),
            ("1.2.156.3005.2.W011.1143.2023.01.B", "three digits"),
            ("1.2.156.3005.2.W0-1.1143.2023.001.B", "type code"),
            ("1.2.156.3005.2.W011.1143.2023.001.BB", "one character"),
        ] {
            let err = license_id(bad).unwrap_err();
            assert!(err.reason.contains(why), "{bad}: {}", err.reason);
        }
    }

    #[test]
    fn names() {
        assert_eq!(person_name(" 王小明 "), Ok("王小明"));
        assert!(person_name("买买提·艾力").is_ok());
        assert!(person_name("John Smith").is_ok());
        assert!(person_name("").is_err());
        assert!(
            person_name("王1明")
                .map_err(|e| e.reason)
                .unwrap_err()
                .contains("digit")
        );
        assert!(person_name("王\n明").is_err());
        assert!(person_name("<script>").is_err());
        assert!(person_name(&"王".repeat(51)).is_err());
    }
}
