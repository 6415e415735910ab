//! Lenient serde decoders for provider fields whose JSON type varies (a code sent as
//! `200` or `"200"`, an empty string meaning "absent").
//!
//! Anything that is neither of the accepted shapes is still a decode error, never a panic.
//! Error messages never quote the value (it may be personal data); see
//! [`describe_json_error`] for serde_json's own messages.

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::date::DateText;

use std::fmt;

use serde::de::{SeqAccess, Visitor};

/// Visits any JSON scalar without buffering (no untagged-enum detour: this is the hot
/// path of every decoded field).
struct ScalarVisitor<F>(F, &'static str);

/// A JSON scalar as seen by a visitor.
enum Scalar<'a> {
    Str(&'a str),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Null,
}

impl<'de, T, F> Visitor<'de> for ScalarVisitor<F>
where
    F: FnOnce(Scalar<'_>) -> Result<T, &'static str>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(Scalar::Str(v)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.0)(Scalar::I64(v)).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.0)(Scalar::U64(v)).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        (self.0)(Scalar::F64(v)).map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        (self.0)(Scalar::Bool(v)).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        (self.0)(Scalar::Null).map_err(E::custom)
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        (self.0)(Scalar::Null).map_err(E::custom)
    }
}

fn scalar<'de, D, T>(
    d: D,
    expecting: &'static str,
    f: impl FnOnce(Scalar<'_>) -> Result<T, &'static str>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    d.deserialize_any(ScalarVisitor(f, expecting))
}

/// Whether `v` is empty or only whitespace (Unicode's, `U+3000` included), deciding on
/// the first byte when no whitespace starts with it (the usual case) instead of
/// trimming.
fn is_blank(v: &str) -> bool {
    match v.as_bytes().first() {
        None => true,
        Some(&lead) if !crate::text::may_start_whitespace(lead) => false,
        Some(_) => v.trim().is_empty(),
    }
}

/// `Option<String>` from a string, number or bool; `null` and `""` become `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    scalar(d, "a string", |s| {
        Ok(match s {
            Scalar::Str(v) if is_blank(v) => None,
            Scalar::Str(v) => Some(v.to_owned()),
            Scalar::I64(i) => Some(i.to_string()),
            Scalar::U64(i) => Some(i.to_string()),
            Scalar::F64(f) => Some(f.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Null => None,
        })
    })
}

/// `Option<i64>` from an integer or an integer in a string; `null` and `""` become `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    scalar(d, "an integer", |s| match s {
        Scalar::I64(i) => Ok(Some(i)),
        Scalar::U64(u) => i64::try_from(u)
            .map(Some)
            .map_err(|_| "integer out of range"),
        Scalar::Str(v) if is_blank(v) => Ok(None),
        Scalar::Str(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| "expected an integer, got other text"),
        Scalar::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Scalar::F64(_) => Err("expected an integer, got a fraction"),
        Scalar::Bool(_) => Err("expected an integer, got a boolean"),
        Scalar::Null => Ok(None),
    })
}

/// `Option<f64>` from a number or a number in a string; `null` and `""` become `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    scalar(d, "a number", |s| match s {
        Scalar::I64(i) => Ok(Some(i as f64)),
        Scalar::U64(u) => Ok(Some(u as f64)),
        Scalar::F64(f) => Ok(Some(f)),
        Scalar::Str(v) if is_blank(v) => Ok(None),
        Scalar::Str(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| "expected a number, got other text"),
        Scalar::Bool(_) => Err("expected a number, got a boolean"),
        Scalar::Null => Ok(None),
    })
}

/// `Option<bool>` from `true`/`false`, `1`/`0` or their string forms.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    scalar(d, "a boolean", |s| match s {
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::I64(1) | Scalar::U64(1) => Ok(Some(true)),
        Scalar::I64(0) | Scalar::U64(0) => Ok(Some(false)),
        Scalar::Str(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" | "yes" | "y" => Ok(Some(true)),
            "false" | "0" | "no" | "n" => Ok(Some(false)),
            _ => Err("expected a boolean, got other text"),
        },
        Scalar::Null => Ok(None),
        _ => Err("expected a boolean, got another number"),
    })
}

/// `Option<DateText>` from a string; `null` and `""` become `None`.
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateText>, D::Error> {
    Ok(opt_string(d)?.map(DateText::new))
}

/// `Vec<T>` where `null` is an empty list.
pub fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// `Vec<String>` from a list of strings, a single string, or `null`.
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct ListVisitor;
    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings or a string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(if v.trim().is_empty() {
                Vec::new()
            } else {
                vec![v.to_owned()]
            })
        }

        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(item) = seq.next_element::<Option<String>>()? {
                out.extend(item);
            }
            Ok(out)
        }
    }
    d.deserialize_any(ListVisitor)
}

/// serde_json's error message with every quoted value replaced by `"…"`, so that a
/// decode error never repeats personal data from the body (`invalid type: string "王小明",
/// expected i64` becomes `invalid type: string "…", expected i64`). Back-quoted values
/// (`` unknown variant `王小明` ``, `` unknown field `…` ``) are elided too, except in the
/// `expected …` part, which is the program's own text.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (c, quote) {
            ('"', None) => {
                quote = Some('"');
                out.push_str("\"…");
            }
            ('`', None) if !out.contains("expected") => {
                quote = Some('`');
                out.push_str("`…");
            }
            (c, Some(q)) if c == q => {
                quote = None;
                out.push(c);
            }
            (_, Some(_)) => {}
            (c, None) => out.push(c),
        }
    }
    crate::mask::mask_number_runs(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "string_list")]
        l: Vec<String>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn accepts_the_shapes_providers_send() {
        let v = t(r#"{"s": 12, "i": "34", "b": "true", "l": "one"}"#).ok();
        assert_eq!(
            v,
            Some(T {
                s: Some("12".into()),
                i: Some(34),
                b: Some(true),
                l: vec!["one".into()]
            })
        );
        let v = t(r#"{"s": "", "i": null, "b": 0, "l": ["a", null, "b"]}"#).ok();
        assert_eq!(
            v,
            Some(T {
                s: None,
                i: None,
                b: Some(false),
                l: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(t("{}").ok().map(|v| v.s), Some(None));
    }

    #[test]
    fn json_errors_do_not_quote_values() {
        let e = serde_json::from_str::<i64>("\"王小明 321083197812162119\"").err();
        let text = e.as_ref().map(describe_json_error).unwrap_or_default();
        assert_eq!(
            text,
            "invalid type: string \"…\", expected i64 at line 1 column 30"
        );
    }

    #[test]
    fn rejects_wrong_types_with_a_message() {
        let err = t(r#"{"i": "abc"}"#).err().map(|e| e.to_string());
        assert!(
            err.as_deref().unwrap_or("").contains("expected an integer"),
            "{err:?}"
        );
        assert!(t(r#"{"i": {"x": 1}}"#).is_err());
        assert!(t(r#"{"b": "maybe"}"#).is_err());
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        enum Kind {
            Success,
            Failed,
        }
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            kind: Kind,
        }
        for body in [
            r#"{"kind":"王小明"}"#,
            r#"{"王小明":1}"#,
            r#"{"kind":"credkit-secret"}"#,
        ] {
            let e = serde_json::from_str::<S>(body).unwrap_err();
            let text = describe_json_error(&e);
            assert!(
                !text.contains("王小明") && !text.contains("credkit-secret"),
                "{text}"
            );
        }
        let e = serde_json::from_str::<S>(r#"{"kind":"x"}"#).unwrap_err();
        assert!(
            describe_json_error(&e).contains("`Success`"),
            "expectations kept"
        );
    }
}
