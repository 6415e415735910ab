//! Helpers every provider envelope decoder needs: what to say about a body that is not
//! JSON, and whether a JSON value is empty in substance.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::answer::{Answer, ResponseMeta};
use crate::endpoint::{CodeInfo, CodeOutcome, Endpoint, lookup_code};
use crate::error::{Charged, Error, ErrorKind, ProviderError};
use crate::lenient::describe_json_error;
use crate::mask::{self, Redactor};
use crate::transport::RawResponse;

/// Characters of a body kept in an error (after redaction).
pub const SNIPPET_CHARS: usize = 160;

/// The start of `raw`'s body, redacted, for an error message.
pub fn snippet(raw: &RawResponse, redactor: &Redactor<'_>) -> String {
    redactor.snippet(&String::from_utf8_lossy(&raw.body), SNIPPET_CHARS)
}

fn status_error(endpoint: &'static Endpoint, raw: &RawResponse, redactor: &Redactor<'_>) -> Error {
    Error::HttpStatus {
        site: endpoint.site,
        status: raw.status,
        snippet: snippet(raw, redactor),
        retry_after: None,
    }
}

/// Parses a provider's JSON envelope. A body that is not one is an
/// [`Error::HttpStatus`] when the status is not 2xx (a gateway page), otherwise an
/// [`Error::Decode`] naming the likely cause.
pub fn parse_envelope<'a, E: Deserialize<'a>>(
    endpoint: &'static Endpoint,
    raw: &'a RawResponse,
    redactor: &Redactor<'_>,
) -> Result<E, Error> {
    serde_json::from_slice(&raw.body).map_err(|e| {
        if raw.is_success() {
            Error::Decode {
                site: endpoint.site,
                reason: unreadable_reason(raw, &e),
                snippet: snippet(raw, redactor),
            }
        } else {
            status_error(endpoint, raw, redactor)
        }
    })
}

/// The parts every provider envelope has, under whatever names the provider uses
/// (start from [`Reply::new`], then set what the envelope has).
#[derive(Debug)]
#[non_exhaustive]
pub struct Reply<'a> {
    /// The result code, if the envelope had one.
    pub code: Option<String>,
    /// The code's wire name (`code`, `error_code`), for error messages.
    pub code_field: &'static str,
    /// The provider's message.
    pub message: Option<String>,
    /// The provider's billing flag, if it sends one.
    pub charged: Option<bool>,
    /// The provider's request id, if it sends one.
    pub request_id: Option<String>,
    /// The payload, undecoded.
    pub payload: Option<&'a RawValue>,
    /// The payload's wire name (`data`, `result`), for error messages.
    pub payload_field: &'static str,
}

impl<'a> Reply<'a> {
    /// An envelope whose code is named `code_field` and payload `payload_field`, with
    /// nothing in it yet.
    pub fn new(code_field: &'static str, payload_field: &'static str) -> Self {
        Self {
            code: None,
            code_field,
            message: None,
            charged: None,
            request_id: None,
            payload: None,
            payload_field,
        }
    }
}

/// Turns an envelope's parts into an answer or an error, through the provider's code
/// table: `Ok` decodes the payload (empty payloads are "not found"), `NoRecord` is an
/// empty answer, errors become [`ProviderError`]s with their kind (after `refine`),
/// billing (the response's flag, else the table's) and redacted message.
pub fn conclude<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
    table: &'static [CodeInfo],
    reply: Reply<'_>,
    refine: fn(&str, ErrorKind, &str) -> ErrorKind,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let (payload, payload_field) = (reply.payload, reply.payload_field);
    let head = Head {
        code: reply.code,
        code_field: reply.code_field,
        message: reply.message,
        charged: reply.charged,
        request_id: reply.request_id,
    };
    finish(
        endpoint,
        raw,
        redactor,
        table,
        head,
        refine,
        || match payload {
            Some(p) if !is_empty_json(p) => {
                serde_json::from_str::<T>(p.get())
                    .map(Some)
                    .map_err(|e| Error::Decode {
                        site,
                        reason: format!(
                            "`{payload_field}` does not have the documented shape: {}",
                            describe_json_error(&e)
                        ),
                        snippet: snippet(raw, redactor),
                    })
            }
            _ => Ok(None),
        },
    )
}

/// The fields of an envelope beside its payload (start from [`Head::new`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Head {
    /// The provider's code, as text.
    pub code: Option<String>,
    /// Its wire name (for messages).
    pub code_field: &'static str,
    /// The provider's message.
    pub message: Option<String>,
    /// The billing flag, when the envelope has one.
    pub charged: Option<bool>,
    /// The provider's request id.
    pub request_id: Option<String>,
}

impl Head {
    /// The head of an envelope whose code is named `code_field`, with nothing in it yet.
    pub fn new(code_field: &'static str) -> Self {
        Self {
            code: None,
            code_field,
            message: None,
            charged: None,
            request_id: None,
        }
    }
}

/// As [`conclude`], for an envelope whose payload was decoded in the same pass
/// ([`Payload`]): `payload` is the result of a success code.
pub fn conclude_decoded<T>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
    table: &'static [CodeInfo],
    head: Head,
    payload: Option<T>,
    refine: fn(&str, ErrorKind, &str) -> ErrorKind,
) -> Result<Answer<T>, Error> {
    finish(endpoint, raw, redactor, table, head, refine, || Ok(payload))
}

fn finish<T>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
    table: &'static [CodeInfo],
    head: Head,
    refine: fn(&str, ErrorKind, &str) -> ErrorKind,
    payload: impl FnOnce() -> Result<Option<T>, Error>,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let Some(code) = head.code else {
        if !raw.is_success() {
            return Err(status_error(endpoint, raw, redactor));
        }
        return Err(Error::Decode {
            site,
            reason: format!("the envelope has no `{}`", head.code_field),
            snippet: snippet(raw, redactor),
        });
    };
    let info = lookup_code(table, &code);
    let outcome = info
        .map(|i| i.outcome)
        .unwrap_or(CodeOutcome::Error(ErrorKind::Unknown));
    let charged = Charged::from_flag(
        head.charged,
        info.map(|i| i.charged).unwrap_or(Charged::Unknown),
    );
    let message = redactor.redact(
        head.message
            .as_deref()
            .or(info.map(|i| i.message))
            .unwrap_or(""),
    );
    match outcome {
        CodeOutcome::Ok if !raw.is_success() => Err(status_error(endpoint, raw, redactor)),
        CodeOutcome::Ok | CodeOutcome::NoRecord => {
            let result = match outcome {
                CodeOutcome::Ok => payload()?,
                _ => None,
            };
            let mut meta = ResponseMeta::new(site.provider, site.operation);
            meta.request_id = head.request_id;
            meta.charged = charged;
            meta.code = code;
            meta.message = message;
            meta.http_status = raw.status;
            Ok(Answer::new(result, meta))
        }
        CodeOutcome::Error(kind) => {
            let kind = refine(&code, kind, &message);
            let code = shown_code(&code, redactor);
            let request_id = head.request_id.map(|id| redactor.identifier(&id));
            Err(ProviderError::new(site, code, message, kind, charged, request_id).into())
        }
    }
}

/// A payload decoded while the envelope is read, in one pass over the body (instead of
/// keeping it raw and reading it again). `null`, `[]`, `{}` and `""` are `None`, as
/// [`is_empty_json`] says; an object is decoded as `T`; anything else fails the
/// envelope's parse, and the decoder then falls back to reading it raw (which explains
/// the failure the documented way).
#[derive(Debug)]
pub struct Payload<T>(pub Option<T>);

impl<T> Default for Payload<T> {
    fn default() -> Self {
        Payload(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Payload<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use std::cell::Cell;
        use std::marker::PhantomData;

        use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

        /// Counts the keys `T` reads, so that `{}` is told from a decoded object.
        struct Counting<'c, A> {
            inner: A,
            keys: &'c Cell<usize>,
        }

        impl<'de, A: MapAccess<'de>> MapAccess<'de> for Counting<'_, A> {
            type Error = A::Error;

            fn next_key_seed<K: de::DeserializeSeed<'de>>(
                &mut self,
                seed: K,
            ) -> Result<Option<K::Value>, A::Error> {
                let key = self.inner.next_key_seed(seed)?;
                if key.is_some() {
                    self.keys.set(self.keys.get() + 1);
                }
                Ok(key)
            }

            fn next_value_seed<V: de::DeserializeSeed<'de>>(
                &mut self,
                seed: V,
            ) -> Result<V::Value, A::Error> {
                self.inner.next_value_seed(seed)
            }
        }

        struct V<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Payload<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object, or an empty value")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Payload(None))
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Payload(None))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.is_empty() {
                    Ok(Payload(None))
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(Payload(None)),
                    Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let keys = Cell::new(0);
                let value = T::deserialize(de::value::MapAccessDeserializer::new(Counting {
                    inner: map,
                    keys: &keys,
                }))?;
                Ok(Payload((keys.get() > 0).then_some(value)))
            }
        }

        d.deserialize_any(V(PhantomData))
    }
}

/// A provider's code as an error shows it: a known-shaped code as it is (registered
/// values masked), anything else redacted like free text.
pub fn shown_code(code: &str, redactor: &Redactor<'_>) -> String {
    let shown = redactor.identifier(code);
    if shown == "[not shown]" {
        redactor.snippet(code, 32)
    } else {
        mask::mask_number_runs(&shown)
    }
}

/// The identity refinement for [`conclude`]: the code table's kind as it is.
pub fn table_kind(_code: &str, kind: ErrorKind, _message: &str) -> ErrorKind {
    kind
}

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
