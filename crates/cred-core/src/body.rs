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

/// The parts every provider envelope has, under whatever names the provider uses.
#[derive(Debug)]
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
    let Some(code) = reply.code else {
        if !raw.is_success() {
            return Err(status_error(endpoint, raw, redactor));
        }
        return Err(Error::Decode {
            site,
            reason: format!("the envelope has no `{}`", reply.code_field),
            snippet: snippet(raw, redactor),
        });
    };
    let info = lookup_code(table, &code);
    let outcome = info
        .map(|i| i.outcome)
        .unwrap_or(CodeOutcome::Error(ErrorKind::Unknown));
    let charged = Charged::from_flag(
        reply.charged,
        info.map(|i| i.charged).unwrap_or(Charged::Unknown),
    );
    let message = redactor.redact(
        reply
            .message
            .as_deref()
            .or(info.map(|i| i.message))
            .unwrap_or(""),
    );
    match outcome {
        CodeOutcome::Ok if !raw.is_success() => Err(status_error(endpoint, raw, redactor)),
        CodeOutcome::Ok | CodeOutcome::NoRecord => {
            let result = match (outcome, reply.payload) {
                (CodeOutcome::Ok, Some(p)) if !is_empty_json(p) => Some(
                    serde_json::from_str::<T>(p.get()).map_err(|e| Error::Decode {
                        site,
                        reason: format!(
                            "`{}` does not have the documented shape: {}",
                            reply.payload_field,
                            describe_json_error(&e)
                        ),
                        snippet: snippet(raw, redactor),
                    })?,
                ),
                _ => None,
            };
            let mut meta = ResponseMeta::new(site.provider, site.operation);
            meta.request_id = reply.request_id;
            meta.charged = charged;
            meta.code = code;
            meta.message = message;
            meta.http_status = raw.status;
            Ok(Answer::new(result, meta))
        }
        CodeOutcome::Error(kind) => {
            let kind = refine(&code, kind, &message);
            // The code and request id are provider bytes too: a hostile server can echo
            // personal data in them.
            let code = shown_code(&code, redactor);
            let request_id = reply.request_id.map(|id| redactor.identifier(&id));
            Err(ProviderError::new(site, code, message, kind, charged, request_id).into())
        }
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
