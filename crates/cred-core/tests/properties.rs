//! Property tests: every validator and the licence-identifier parser take any Unicode
//! string without panicking and never quote the value they refuse; the redactor takes
//! any text and leaves no registered value in it, in any encoded form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_core::mask::{Pii, Redactor, mask_number_runs};
use cred_core::validate::{self, Rule};
use proptest::prelude::*;

/// Strings that look like what the validators expect, with hostile characters mixed in:
/// full-width digits, multi-byte letters, `X`, dots, spaces.
fn shaped() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9Xx]{0,20}",
        "[0-9０-９XxＸ王é ]{14,20}",
        "[0-9A-Z]{16,19}",
        "[0-9A-HJ-NPQRTUWXYa-z王 ]{16,19}",
        "1\\.2\\.156\\.3005\\.2\\.[0-9A-Z王.]{0,60}",
        "[0-9-]{8,12}",
        "[\\p{Han}·• .-]{0,60}",
    ]
}

/// A refusal must not quote the value (a single quoted character is fine).
fn assert_not_quoted(reason: &str, input: &str) -> Result<(), TestCaseError> {
    let v = input.trim();
    // The messages' own constant text (the licence-identifier prefix) is not a quote.
    let reason = reason.replace(validate::LICENSE_ID_PREFIX, "");
    if v.chars().count() >= 4 {
        prop_assert!(!reason.contains(v), "`{reason}` quotes the input");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn validators_never_panic_nor_quote_what_they_refuse(input in shaped()) {
        if let Err(e) = validate::resident_id(&input) {
            assert_not_quoted(&e.reason, &input)?;
        }
        if let Err(e) = validate::uscc(&input) {
            assert_not_quoted(&e.reason, &input)?;
        }
        if let Err(e) = validate::person_name(&input) {
            assert_not_quoted(&e.reason, &input)?;
        }
        if let Err(e) = validate::iso_date(&input) {
            assert_not_quoted(&e.reason, &input)?;
        }
        match validate::license_id(&input) {
            Ok(id) => {
                // What parses prints back as what was given (normalised).
                prop_assert_eq!(id.to_string(), input.trim().to_ascii_uppercase());
                let _ = id.warning();
            }
            Err(e) => assert_not_quoted(&e.reason, &input)?,
        }
        for rule in [
            Rule::Any,
            Rule::NonEmpty,
            Rule::PersonName,
            Rule::ResidentId,
            Rule::Uscc,
            Rule::UsccIfShaped,
            Rule::IsoDate,
            Rule::LicenseId,
        ] {
            let _ = validate::normalize_param(rule, &input);
            if let Err(e) = validate::check_param("field", Some(&input), true, Some(50), rule) {
                assert_not_quoted(&e.to_string(), &input)?;
            }
        }
        let _ = validate::resident_id_check_char(&input);
        let _ = validate::uscc_check_char(&input);
        let _ = validate::mod37_36_check_char(&input);
        let _ = validate::looks_like_uscc(&input);
        let _ = cred_core::date::Date::parse(&input);
        for class in [Pii::Name, Pii::IdNumber, Pii::Phone, Pii::CertificateNo, Pii::Other] {
            let _ = class.mask(&input);
        }
        let _ = mask_number_runs(&input);
    }

    #[test]
    fn accepted_resident_ids_are_exactly_18_ascii_characters(input in "[0-9０-９Xx王]{18}") {
        if let Ok(id) = validate::resident_id(&input) {
            prop_assert!(input.is_ascii());
            prop_assert_eq!(id.as_str().len(), 18);
            prop_assert_eq!(id.to_string(), cred_core::mask::mask_id_number(id.as_str()));
        }
    }

    #[test]
    fn redaction_leaves_no_registered_value_in_any_form(
        prefix in any::<String>(),
        suffix in any::<String>(),
        secret in "[^\\[\\]*\\s]{8,24}",
        name in "[\\p{Han}]{2,4}",
        form in 0usize..5,
    ) {
        let mut r = Redactor::new();
        r.secret(secret.as_str()).pii(Pii::Name, name.as_str());
        let encode = |v: &str| -> String {
            match form {
                0 => v.to_owned(),
                1 => form_urlencoded::byte_serialize(v.as_bytes()).collect(),
                2 => v.bytes().map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
                }).collect(),
                3 => v.bytes().map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02x}") }
                }).collect(),
                _ => v.chars().map(|c| {
                    if c.is_ascii() { c.to_string() } else {
                        let mut buf = [0u16; 2];
                        c.encode_utf16(&mut buf).iter().map(|u| format!("\\u{u:04x}")).collect()
                    }
                }).collect(),
            }
        };
        let text = format!("{prefix} {} {} {suffix}", encode(&secret), encode(&name));
        let out = r.redact(&text);
        // Only what the prefix/suffix themselves contain may remain.
        let outside = |needle: &str| prefix.contains(needle) || suffix.contains(needle);
        for needle in [encode(&secret), encode(&name), secret.clone(), name.clone()] {
            if !outside(&needle) {
                prop_assert!(!out.contains(&needle), "{needle} left in {out}");
            }
        }
        let _ = r.snippet(&text, 40);
        let _ = r.identifier(&text);
    }

    #[test]
    fn secret_fields_are_scrubbed_in_forms_and_json(value in "[A-Za-z0-9+/=_-]{8,64}", other in "[a-z]{1,8}") {
        let mut r = Redactor::new();
        r.secret_field("sign");
        for text in [
            format!("appId=a&sign={value}&{other}=1"),
            format!("{{\"sign\": \"{value}\", \"{other}\": 1}}"),
            format!("<pre>sign={value}</pre>"),
        ] {
            let out = r.redact(&text);
            prop_assert!(!out.contains(&value), "{out}");
        }
    }
}
