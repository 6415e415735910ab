//! The platform's answers: `{"head":{"status","message","type"?},"data":...}` from the
//! share interfaces, and stock Spring Security OAuth2 error bodies
//! (`{"error":"invalid_token","error_description":...}`) from its token filter.

use cred_core::{
    Answer, CallSite, Charged, CodeOutcome, Endpoint, Error, ErrorKind, ProviderError, RawResponse,
    Redactor, ResponseMeta, body, endpoint::lookup_code, lenient,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::generated::CODES;
use crate::results::Shaped;
use crate::types::InterfaceType;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    head: Option<Head>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    error: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    message: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_string")]
    kind: Option<String>,
    /// The city answers' `head.sign` (4.3.6 city: `"sign": ""`): no algorithm is
    /// documented, so it is kept as opaque metadata, never verified.
    #[serde(default)]
    sign: Option<serde_json::Value>,
    /// The city answers' `head.time` (4.3.6 city: `"time": 0`), kept as it came.
    #[serde(default)]
    time: Option<serde_json::Value>,
}

/// A head value as metadata text: strings as they are (empty included), other scalars
/// printed, `null` and structures left out.
fn head_text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps a Spring Security OAuth2 error (`error`, `error_description`) to an error with
/// a kind and a hint of what to fix. Nothing was billed: the platform does not bill.
pub(crate) fn oauth_error(
    site: CallSite,
    http_status: u16,
    error: &str,
    description: Option<&str>,
    redactor: &Redactor<'_>,
) -> Error {
    let (kind, hint) = match error {
        "invalid_client" => (
            ErrorKind::Auth,
            "the client credentials were refused: check ZZ_LICENSE_CLIENT_ID / ZZ_LICENSE_CLIENT_SECRET and whether the server wants them by HTTP Basic or as form fields (ClientAuth)",
        ),
        "invalid_grant" => (
            ErrorKind::Auth,
            "the user credentials were refused: check ZZ_LICENSE_USERNAME / ZZ_LICENSE_PASSWORD",
        ),
        "unauthorized_client" => (
            ErrorKind::Auth,
            "this client may not use the password grant: ask the platform to enable it",
        ),
        "invalid_token" => (
            ErrorKind::Auth,
            "the access token was refused (expired or revoked)",
        ),
        "insufficient_scope" | "invalid_scope" | "access_denied" => (
            ErrorKind::Permission,
            "the account may not call this interface: ask the platform for the permission",
        ),
        "unsupported_grant_type" | "invalid_request" => (
            ErrorKind::Config,
            "the token request was malformed for this server",
        ),
        "unauthorized" => (ErrorKind::Auth, "authentication is required"),
        _ if http_status >= 500 => (ErrorKind::Unavailable, "the server failed"),
        _ => (
            ErrorKind::Unknown,
            "an OAuth error the platform does not document",
        ),
    };
    // `error` is the server's text: shown like a code, never raw.
    let error = body::shown_code(error, redactor);
    let message = match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{error}: {} ({hint})", redactor.redact(d)),
        None => format!("{error} ({hint})"),
    };
    ProviderError::new(site, error, message, kind, Charged::No, None).into()
}

/// Decodes one answer of a share interface into an answer or an error.
///
/// `head.status` arrives as a number or a string; `0` decodes `data` (in the province or
/// city shape), `10` is "not found", every other status is a provider error whose
/// message includes `data` when the platform explains the failure there (`"证照源未提供此
/// 服务接口"`). Unknown statuses are kept as they are, with kind `unknown`.
pub fn decode<T: Shaped>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let envelope: Envelope<'_> = body::parse_envelope(endpoint, raw, redactor)?;
    if let Some(error) = envelope.error.as_deref() {
        return Err(oauth_error(
            site,
            raw.status,
            error,
            envelope.error_description.as_deref(),
            redactor,
        ));
    }
    let status_error = || Error::http_status(site, raw.status, body::snippet(raw, redactor));
    let Some(head) = envelope.head else {
        if !raw.is_success() {
            return Err(status_error());
        }
        return Err(Error::decode(
            site,
            "the answer has no `head`".to_owned(),
            body::snippet(raw, redactor),
        ));
    };
    let Some(status) = head.status else {
        if !raw.is_success() {
            return Err(status_error());
        }
        return Err(Error::decode(
            site,
            "`head` has no `status`".to_owned(),
            body::snippet(raw, redactor),
        ));
    };
    let hint = head.kind.as_deref().and_then(InterfaceType::from_head_type);
    let data: Option<serde_json::Value> = match envelope.data {
        Some(d) => Some(serde_json::from_str(d.get()).map_err(|e| {
            Error::decode(
                site,
                lenient::describe_json_error(&e),
                body::snippet(raw, redactor),
            )
        })?),
        None => None,
    };
    let info = lookup_code(CODES, &status);
    let outcome = info
        .map(|i| i.outcome)
        .unwrap_or(CodeOutcome::Error(ErrorKind::Unknown));
    let head_message = head.message.unwrap_or_default();
    let mut meta = ResponseMeta::new(site.provider, site.operation);
    meta.charged = Charged::No;
    meta.code = status.clone();
    meta.message = redactor.redact(&head_message);
    meta.http_status = raw.status;
    if let Some(kind) = head.kind {
        meta.attributes.push(("head.type", kind));
    }
    if let Some(sign) = head_text(head.sign) {
        meta.attributes.push(("head.sign", sign));
    }
    if let Some(time) = head_text(head.time) {
        meta.attributes.push(("head.time", time));
    }
    match outcome {
        CodeOutcome::Ok if !raw.is_success() => Err(status_error()),
        CodeOutcome::Ok => {
            let result = match data {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) if !T::ACCEPTS_TEXT => {
                    return Err(Error::decode(
                        site,
                        format!(
                            "status 0 but `data` is text instead of a result: {}",
                            redactor.snippet(&text, body::SNIPPET_CHARS)
                        ),
                        body::snippet(raw, redactor),
                    ));
                }
                Some(value) => {
                    let parsed = T::from_data(&value, hint).map_err(|reason| {
                        Error::decode(
                            site,
                            format!("`data` does not have the documented shape: {reason}"),
                            body::snippet(raw, redactor),
                        )
                    })?;
                    (!parsed.is_empty()).then_some(parsed)
                }
            };
            Ok(Answer::new(result, meta))
        }
        CodeOutcome::NoRecord => {
            // No data is read, even if some came: a revoked licence's record is not one
            // to use. An empty message is the code table's.
            if meta.message.trim().is_empty() {
                meta.message = info.map(|i| i.message).unwrap_or("").to_owned();
            }
            Ok(Answer::new(None, meta))
        }
        // An error, or an outcome this crate does not know (a newer cred-core's).
        outcome => {
            let kind = match outcome {
                CodeOutcome::Error(kind) => kind,
                _ => ErrorKind::Unknown,
            };
            let table = info.map(|i| i.message).unwrap_or("");
            let mut message = if head_message.trim().is_empty() {
                table.to_owned()
            } else {
                head_message
            };
            // The platform often explains the failure in `data` as text.
            if let Some(serde_json::Value::String(text)) = &data
                && !text.trim().is_empty()
                && !message.contains(text.trim())
            {
                message = if message.is_empty() {
                    text.trim().to_owned()
                } else {
                    format!("{message} {}", text.trim())
                };
            }
            Err(ProviderError::new(
                site,
                body::shown_code(&status, redactor),
                redactor.redact(&message),
                kind,
                Charged::No,
                None,
            )
            .into())
        }
    }
}
