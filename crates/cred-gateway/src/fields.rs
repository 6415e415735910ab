//! A request body: one JSON object of named fields (the batch columns), read strictly.

use std::fmt;

use cred_core::Error;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::catalogue::{FieldKind, Operation};

/// The fields of one request body, checked against its operation: every name known,
/// none given twice, every value of its field's type. Values are personal data:
/// `Debug` shows names only.
pub struct Fields {
    values: Vec<(&'static str, String)>,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.values.iter().map(|(k, _)| *k).collect();
        f.debug_struct("Fields").field("names", &names).finish()
    }
}

/// The body's members in order, duplicates kept (so they can be refused).
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A field name safe to quote back (it could be anything a caller typed, an ID number
/// included): short, lowercase ASCII letters, digits, `-` and `_` only.
fn quotable(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.bytes().filter(u8::is_ascii_digit).count() < 6
}

impl Fields {
    /// Reads `body` for `op`. An empty body is an empty object. Errors are
    /// [`Error::InvalidInput`] naming the field (never quoting a value).
    pub fn parse(op: &Operation, body: &[u8]) -> Result<Fields, Error> {
        let members = if body.iter().all(u8::is_ascii_whitespace) {
            Members(Vec::new())
        } else {
            serde_json::from_slice::<Members>(body).map_err(|e| {
                // serde_json's message names a position and what it expected, never the
                // text itself.
                let what = if e.is_syntax() || e.is_eof() {
                    format!(
                        "is not valid JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    )
                } else {
                    "must be one JSON object of fields".to_owned()
                };
                Error::invalid("body", what)
            })?
        };
        let mut values: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in members.0 {
            let Some(spec) = op.fields.iter().find(|f| f.name == name) else {
                let known: Vec<&str> = op.fields.iter().map(|f| f.name).collect();
                let which = if quotable(&name) {
                    format!("`{name}`")
                } else {
                    "(a name not shown: it may be personal data)".to_owned()
                };
                return Err(Error::invalid(
                    "body",
                    format!(
                        "unknown field {which}; {} {} takes: {}",
                        op.provider,
                        op.name,
                        known.join(", ")
                    ),
                ));
            };
            if values.iter().any(|(k, _)| *k == spec.name) {
                return Err(Error::invalid(
                    spec.rust_name,
                    "is given twice in the body; which value was meant cannot be told",
                ));
            }
            let text = match (&value, spec.kind) {
                (Value::Null, _) => continue,
                (Value::String(s), FieldKind::Boolean) => match s.trim() {
                    "true" => "true".to_owned(),
                    "false" => "false".to_owned(),
                    _ => {
                        return Err(Error::invalid(spec.rust_name, "must be true or false"));
                    }
                },
                (Value::String(s), _) => s.clone(),
                (Value::Number(n), FieldKind::Integer) if n.is_i64() || n.is_u64() => n.to_string(),
                (Value::Bool(b), FieldKind::Boolean) => b.to_string(),
                _ => {
                    return Err(Error::invalid(
                        spec.rust_name,
                        format!("must be {}", spec.kind.expected()),
                    ));
                }
            };
            values.push((spec.name, text));
        }
        for spec in op.fields.iter().filter(|f| f.required) {
            if !values
                .iter()
                .any(|(k, v)| *k == spec.name && !v.trim().is_empty())
            {
                return Err(Error::invalid(
                    spec.rust_name,
                    format!("is required (body field `{}`)", spec.name),
                ));
            }
        }
        Ok(Fields { values })
    }

    /// The value of `name`, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` or the empty string (left to the request's own validation).
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// A boolean field (`false` when absent).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find;
    use proptest::prelude::*;

    fn op() -> &'static Operation {
        find("jumdata", "credential").unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn reads_the_fields_of_its_operation() {
        let f = Fields::parse(op(), br#"{"name":" A ","idcard":"x"}"#).unwrap_or_else(|e| {
            unreachable!("{e}");
        });
        assert_eq!(f.get("name"), Some("A"));
        assert_eq!(f.get("certificate-no"), None);
    }

    #[test]
    fn refuses_unknown_duplicate_and_mistyped_fields_without_quoting_values() {
        let err = |body: &str| match Fields::parse(op(), body.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(f) => format!("accepted {f:?}"),
        };
        let e = err(r#"{"name":"a","idcard":"b","nmae":"c"}"#);
        assert!(e.contains("unknown field `nmae`"), "{e}");
        let e = err(r#"{"name":"a","idcard":"b","11010519491231002X":"c"}"#);
        assert!(!e.contains("11010519491231002X"), "{e}");
        assert!(err(r#"{"name":"a","name":"b","idcard":"c"}"#).contains("twice"));
        assert!(err(r#"{"name":1,"idcard":"c"}"#).contains("must be a string"));
        assert!(err(r#"["name"]"#).contains("one JSON object"));
        let e = err(r#"{"name":"王小明","idcard":"#);
        assert!(e.contains("not valid JSON") && !e.contains("王小明"), "{e}");
        assert!(err(r#"{"idcard":"c"}"#).contains("required"));
    }

    proptest! {
        #[test]
        fn any_body_is_read_or_refused_without_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Fields::parse(op(), &body);
        }

        #[test]
        fn a_refusal_never_quotes_a_value(value in "[0-9A-Za-z\u{4e00}-\u{4e2f}]{6,20}") {
            let body = serde_json::json!({"name": 7, "idcard": value.clone(), "zz": value.clone()});
            if let Err(e) = Fields::parse(op(), body.to_string().as_bytes()) {
                prop_assert!(!e.to_string().contains(&value));
            }
        }
    }
}
