//! Helpers every provider envelope decoder needs: what to say about a body that is not
//! JSON, and whether a JSON value is empty in substance.

use serde_json::value::RawValue;

use crate::lenient::describe_json_error;
use crate::transport::RawResponse;

/// Why `raw` could not be parsed as a JSON envelope (`error` is serde_json's), in words
/// that name the likely cause (an HTML error page, a truncated body) and never quote
/// the body's values.
pub fn unreadable_reason(raw: &RawResponse, error: &serde_json::Error) -> String {
    let content_type = raw.header("content-type").unwrap_or("none");
    match raw.body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => "empty body".to_owned(),
        Some(b'{') | Some(b'[') => format!("malformed JSON: {}", describe_json_error(error)),
        Some(b'<') => {
            format!("expected a JSON envelope, got an HTML/XML page (content-type {content_type})")
        }
        Some(_) => format!("expected a JSON envelope (content-type {content_type})"),
    }
}

/// Whether a JSON value is absent in substance: `null`, `[]`, `{}` or `""` (providers
/// send any of them for "no data").
pub fn is_empty_json(raw: &RawValue) -> bool {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'[') | Some(b'{') => text.len() >= 2 && text[1..text.len() - 1].trim().is_empty(),
        Some(b'"') => text == "\"\"",
        Some(b'n') => text == "null",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(body: &str) -> RawResponse {
        RawResponse {
            status: 200,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn emptiness() {
        for (json, empty) in [
            ("null", true),
            ("[]", true),
            ("{ }", true),
            ("\"\"", true),
            ("[1]", false),
            ("{\"a\":1}", false),
            ("0", false),
        ] {
            let v: Box<RawValue> = serde_json::from_str(json).unwrap();
            assert_eq!(is_empty_json(&v), empty, "{json}");
        }
    }

    #[test]
    fn reasons_name_the_cause() {
        let err = |b: &str| serde_json::from_str::<serde_json::Value>(b).unwrap_err();
        assert_eq!(unreadable_reason(&raw(""), &err("")), "empty body");
        assert!(unreadable_reason(&raw("<html>"), &err("<html>")).contains("HTML"));
        assert!(
            unreadable_reason(&raw("{\"a\": \"王"), &err("{\"a\": \"王"))
                .starts_with("malformed JSON: EOF")
        );
        assert!(unreadable_reason(&raw("OK"), &err("OK")).starts_with("expected a JSON envelope"));
    }
}
