//! Answers as `cred --json` prints them, and the HTTP status of every error kind.
//!
//! | status | when | `error.kind` |
//! |---|---|---|
//! | 200 | the provider answered (found or not) | — |
//! | 400 | invalid input or body: refused before sending (`charged: false`), or refused by the provider (`charged` as it said) | `invalid-argument` |
//! | 401 | no API key, or an unknown one | `auth` |
//! | 403 | the caller may not call this operation | `permission` |
//! | 402 | the provider account's balance is too low | `insufficient-balance` |
//! | 404 | no such operation | `not-found` |
//! | 409 | the same idempotency key is still in flight | `idempotency-in-flight` |
//! | 413 | the body is over the limit | `too-large` |
//! | 415 | the body is not `application/json` | `unsupported-media-type` |
//! | 422 | the same idempotency key with another body | `idempotency-mismatch` |
//! | 429 | throttled, over a quota, over the caller's rate or daily budget (`Retry-After`) | `throttled`, `quota-exhausted` |
//! | 502 | the provider failed, or its answer could not be verified or read | the provider's kind |
//! | 503 | shared state (Redis) or the audit ledger unavailable, the provider not configured, or the gateway overloaded or stopping | `unavailable`, `config` |
//! | 504 | no answer in time (the request may have reached the provider) | `unavailable` |

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use cred_core::{Charged, Error, ErrorKind, ResponseMeta, TransportFailure};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::calls::Done;

/// The HTTP status for an SDK error.
pub fn status_of(error: &Error) -> StatusCode {
    if matches!(error, Error::InvalidInput { .. }) {
        return StatusCode::BAD_REQUEST;
    }
    if matches!(error, Error::Timeout { .. }) {
        return StatusCode::GATEWAY_TIMEOUT;
    }
    if error.transport_failure() == Some(TransportFailure::SharedState) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if matches!(error, Error::Config { .. }) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match error.kind() {
        // The provider refused the input: the caller's to fix, not to retry.
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::InsufficientBalance => StatusCode::PAYMENT_REQUIRED,
        ErrorKind::Throttled | ErrorKind::QuotaExhausted => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_GATEWAY,
    }
}

fn charged_json(c: Charged) -> Value {
    match c {
        Charged::Yes => Value::Bool(true),
        Charged::No => Value::Bool(false),
        Charged::Unknown => Value::Null,
    }
}

/// `{provider, operation, found, licence_status?, charged, request_id, result}`.
#[derive(Serialize)]
struct Success<'a> {
    provider: String,
    operation: &'a str,
    found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    licence_status: Option<&'a str>,
    charged: Value,
    request_id: Option<&'a str>,
    result: &'a RawValue,
}

#[derive(Serialize)]
struct Failure<'a> {
    error: FailureBody<'a>,
}

#[derive(Serialize)]
struct FailureBody<'a> {
    provider: Option<&'a str>,
    kind: &'a str,
    code: Option<String>,
    message: String,
    retryable: bool,
    charged: Value,
    request_id: Option<&'a str>,
}

/// A response ready to send, also what an idempotency record keeps.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    /// Extra headers (`Retry-After`, `X-Credkit-*`, `Content-Disposition`).
    pub headers: Vec<(String, String)>,
    #[serde(with = "b64")]
    pub body: Vec<u8>,
    /// Whether the provider charged (`None`: unknown), for the metrics and the log.
    pub charged: Option<bool>,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// `{provider, operation, found, licence_status?, charged, request_id, result}`: an
/// answer as `cred --json` prints it (`result` is the typed result as JSON, `null`
/// when nothing was found).
pub fn answer_json(
    meta: &ResponseMeta,
    found: bool,
    licence_status: Option<&str>,
    result: &RawValue,
) -> Vec<u8> {
    json_bytes(&Success {
        provider: meta.provider.replace('_', "-"),
        operation: meta.operation,
        found,
        licence_status,
        charged: charged_json(meta.charged),
        request_id: meta.request_id.as_deref(),
        result,
    })
}

/// `{"error": {provider, kind, code, message, retryable, charged, request_id}}`: an
/// error as `cred --json` prints it.
pub fn error_json(provider: Option<&str>, error: &Error) -> Vec<u8> {
    let provider = provider.map(|p| p.replace('_', "-"));
    json_bytes(&Failure {
        error: FailureBody {
            provider: provider.as_deref(),
            kind: error.kind().as_str(),
            code: error.code(),
            message: error.to_string(),
            retryable: error.is_retryable(),
            charged: charged_json(error.charged()),
            request_id: error.request_id(),
        },
    })
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| {
        br#"{"error":{"kind":"internal","message":"cannot encode the answer"}}"#.to_vec()
    })
}

impl Reply {
    /// A provider's answer (a file for a download that found one; a streamed file's
    /// body comes beside the reply).
    pub fn answer(mut done: Done) -> (Reply, Option<axum::body::Body>) {
        let charged = charged_json(done.meta.charged).as_bool();
        let mut headers = vec![(
            "x-credkit-charged".to_owned(),
            match charged {
                Some(true) => "true",
                Some(false) => "false",
                None => "unknown",
            }
            .to_owned(),
        )];
        if let Some(file) = done.file.take() {
            if let Some(id) = &done.meta.request_id {
                headers.push(("x-credkit-request-id".to_owned(), id.clone()));
            }
            headers.push((
                "content-disposition".to_owned(),
                format!("attachment; filename=\"licence.{}\"", file.extension),
            ));
            let (body, stream) = match file.body {
                crate::calls::FileBody::Whole(bytes) => (bytes, None),
                crate::calls::FileBody::Stream(stream) => (Vec::new(), Some(stream)),
            };
            let reply = Reply {
                status: 200,
                content_type: file.content_type,
                headers,
                body,
                charged,
            };
            return (reply, stream);
        }
        let body = answer_json(&done.meta, done.found, done.licence_status, &done.result);
        let reply = Reply {
            status: 200,
            content_type: "application/json".to_owned(),
            headers,
            body,
            charged,
        };
        (reply, None)
    }

    /// An SDK error from `provider`'s call (or before it).
    pub fn error(provider: Option<&str>, error: &Error) -> Reply {
        let status = status_of(error);
        let mut headers = Vec::new();
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            let after = error.retry_after().map_or(1, |d| d.as_secs().max(1));
            headers.push(("retry-after".to_owned(), after.to_string()));
        }
        let charged = charged_json(error.charged());
        let body = error_json(provider, error);
        Reply {
            status: status.as_u16(),
            content_type: "application/json".to_owned(),
            headers,
            body,
            charged: charged.as_bool(),
        }
    }

    /// An error of the gateway itself (nothing was sent, nothing charged).
    pub fn refusal(status: StatusCode, kind: &str, message: impl Into<String>) -> Reply {
        let mut headers = Vec::new();
        if status == StatusCode::UNAUTHORIZED {
            headers.push(("www-authenticate".to_owned(), "Bearer".to_owned()));
        }
        let retryable = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT
        );
        let body = json_bytes(&Failure {
            error: FailureBody {
                provider: None,
                kind,
                code: None,
                message: message.into(),
                retryable,
                charged: Value::Bool(false),
                request_id: None,
            },
        });
        Reply {
            status: status.as_u16(),
            content_type: "application/json".to_owned(),
            headers,
            body,
            charged: Some(false),
        }
    }

    /// A failure inside the gateway after the call may have been sent (500,
    /// `charged: null`).
    pub fn unknown_outcome(message: &str) -> Reply {
        Reply {
            status: StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
            content_type: "application/json".to_owned(),
            headers: Vec::new(),
            body: json_bytes(&Failure {
                error: FailureBody {
                    provider: None,
                    kind: "internal",
                    code: None,
                    message: message.to_owned(),
                    retryable: false,
                    charged: Value::Null,
                    request_id: None,
                },
            }),
            charged: None,
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                h.append(n, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cred_core::{CallSite, ProviderError};

    #[test]
    fn statuses_follow_the_documented_table() {
        let site = CallSite::new("jumdata", "credential_query");
        let p = |kind| Error::from(ProviderError::new(site, "x", "m", kind, Charged::No, None));
        assert_eq!(status_of(&Error::invalid("idcard", "bad")), 400);
        assert_eq!(status_of(&p(ErrorKind::InsufficientBalance)), 402);
        assert_eq!(status_of(&p(ErrorKind::Throttled)), 429);
        assert_eq!(status_of(&p(ErrorKind::QuotaExhausted)), 429);
        assert_eq!(status_of(&p(ErrorKind::InvalidArgument)), 400);
        assert_eq!(status_of(&p(ErrorKind::Auth)), 502);
        assert_eq!(status_of(&p(ErrorKind::Unavailable)), 502);
        assert_eq!(status_of(&Error::config("ledger")), 503);
        let shared = Error::transport(site, TransportFailure::SharedState, "redis", false);
        assert_eq!(status_of(&shared), 503);
        let timeout = Error::timeout(site, std::time::Duration::from_secs(1));
        assert_eq!(status_of(&timeout), 504);
        let reply = Reply::error(Some("jumdata"), &timeout);
        let v: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        assert_eq!(v["error"]["charged"], Value::Null, "{v}");
        let internal = Reply::unknown_outcome("x");
        let v: Value = serde_json::from_slice(&internal.body).unwrap_or_default();
        assert_eq!((internal.status, internal.charged), (500, None));
        assert_eq!(v["error"]["charged"], Value::Null, "{v}");
        let refused = Reply::refusal(StatusCode::UNAUTHORIZED, "auth", "x");
        let v: Value = serde_json::from_slice(&refused.body).unwrap_or_default();
        assert_eq!(v["error"]["charged"], Value::Bool(false), "{v}");
    }
}
