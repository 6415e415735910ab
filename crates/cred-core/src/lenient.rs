//! Lenient serde decoders for provider fields whose JSON type varies (a code sent as
//! `200` or `"200"`, an empty string meaning "absent").
//!
//! Anything that is neither of the accepted shapes is still a decode error, never a panic.

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::date::DateText;

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// `Option<String>` from a string, number or bool; `null` and `""` become `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Scalar>::deserialize(d)? {
        None => None,
        Some(Scalar::Str(s)) if s.trim().is_empty() => None,
        Some(Scalar::Str(s)) => Some(s),
        Some(Scalar::Int(i)) => Some(i.to_string()),
        Some(Scalar::Float(f)) => Some(f.to_string()),
        Some(Scalar::Bool(b)) => Some(b.to_string()),
    })
}

/// `Option<i64>` from an integer or an integer in a string; `null` and `""` become `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Int(i)) => Ok(Some(i)),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(Scalar::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got the text {s:?}"))),
        Some(Scalar::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Some(other) => Err(de::Error::custom(format!(
            "expected an integer, got {}",
            describe(&other)
        ))),
    }
}

/// `Option<f64>` from a number or a number in a string; `null` and `""` become `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Int(i)) => Ok(Some(i as f64)),
        Some(Scalar::Float(f)) => Ok(Some(f)),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(Scalar::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a number, got the text {s:?}"))),
        Some(other) => Err(de::Error::custom(format!(
            "expected a number, got {}",
            describe(&other)
        ))),
    }
}

/// `Option<bool>` from `true`/`false`, `1`/`0` or their string forms.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Bool(b)) => Ok(Some(b)),
        Some(Scalar::Int(1)) => Ok(Some(true)),
        Some(Scalar::Int(0)) => Ok(Some(false)),
        Some(Scalar::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" | "yes" | "y" => Ok(Some(true)),
            "false" | "0" | "no" | "n" => Ok(Some(false)),
            _ => Err(de::Error::custom(format!("expected a boolean, got the text {s:?}"))),
        },
        Some(other) => Err(de::Error::custom(format!(
            "expected a boolean, got {}",
            describe(&other)
        ))),
    }
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
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Option<String>>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) if s.trim().is_empty() => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v.into_iter().flatten().collect(),
    })
}

fn describe(s: &Scalar) -> &'static str {
    match s {
        Scalar::Str(_) => "text",
        Scalar::Int(_) => "an integer",
        Scalar::Float(_) => "a fraction",
        Scalar::Bool(_) => "a boolean",
    }
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
    fn rejects_wrong_types_with_a_message() {
        let err = t(r#"{"i": "abc"}"#).err().map(|e| e.to_string());
        assert!(err.as_deref().unwrap_or("").contains("expected an integer"), "{err:?}");
        assert!(t(r#"{"i": {"x": 1}}"#).is_err());
        assert!(t(r#"{"b": "maybe"}"#).is_err());
    }
}
