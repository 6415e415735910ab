//! Alipay v3 answers: a 2xx body is the result object itself; any other status carries
//! `{code, message, links}` (`links` an array of `{link, desc}` or a string). The
//! `alipay-trace-id` header is the request id. Runs after the authorizer verified (and
//! if need be decrypted) the body.

use cred_core::{
    Answer, Billing, Charged, CodeOutcome, Endpoint, Error, ErrorKind, ProviderError, RawResponse,
    Redactor, ResponseMeta, body, endpoint::lookup_code, lenient,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::generated::CODES;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    message: Option<String>,
    #[serde(default)]
    links: Option<serde_json::Value>,
}

/// `links` as text: `desc <link>; ...` (array of objects) or the string itself.
fn links_text(links: &serde_json::Value) -> Option<String> {
    match links {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    serde_json::Value::Object(o) => {
                        let desc = o.get("desc").and_then(|v| v.as_str()).unwrap_or("");
                        let link = o.get("link").and_then(|v| v.as_str()).unwrap_or("");
                        Some(format!("{desc} <{link}>").trim().to_owned())
                    }
                    serde_json::Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .filter(|s| !s.is_empty() && s != "<>")
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    }
}

fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::Throttled,
        400 | 422 => ErrorKind::InvalidArgument,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Unknown,
    }
}

/// Decodes one (verified) Alipay v3 answer into an answer or an error.
pub fn decode<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let trace = raw.header("alipay-trace-id").map(str::to_owned);
    if raw.is_success() {
        let empty = raw.body.trim_ascii().is_empty();
        let result = if empty {
            None
        } else {
            let value: serde_json::Value = serde_json::from_slice(&raw.body).map_err(|e| {
                Error::decode(
                    site,
                    body::unreadable_reason(raw, &e),
                    body::snippet(raw, redactor),
                )
            })?;
            if value.as_object().is_some_and(|o| o.is_empty()) {
                None
            } else {
                Some(T::deserialize(&value).map_err(|e| {
                    Error::decode(
                        site,
                        format!(
                            "the answer does not have the documented shape: {}",
                            lenient::describe_json_error(&e)
                        ),
                        body::snippet(raw, redactor),
                    )
                })?)
            }
        };
        let mut meta = ResponseMeta::new(site.provider, site.operation);
        meta.request_id = trace;
        meta.charged = match endpoint.billing {
            Billing::Free => Charged::No,
            // Paid, or a billing class this crate does not know: assume billed.
            _ => Charged::Yes,
        };
        meta.code = raw.status.to_string();
        meta.http_status = raw.status;
        return Ok(Answer::new(result, meta));
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(&raw.body).ok();
    let Some(ErrorBody {
        code: Some(code),
        message,
        links,
    }) = parsed
    else {
        return Err(Error::http_status(
            site,
            raw.status,
            body::snippet(raw, redactor),
        ));
    };
    let info = lookup_code(CODES, &code);
    let kind = match info.map(|i| i.outcome) {
        Some(CodeOutcome::Error(kind)) => kind,
        _ => kind_of_status(raw.status),
    };
    let charged = info.map(|i| i.charged).unwrap_or(if raw.status >= 500 {
        Charged::Unknown
    } else {
        Charged::No
    });
    let mut text = message
        .filter(|m| !m.trim().is_empty())
        .or(info.map(|i| i.message.to_owned()))
        .unwrap_or_default();
    if let Some(links) = links.as_ref().and_then(links_text) {
        text = format!("{text} (see: {links})");
    }
    let code = body::shown_code(&code, redactor);
    let trace = trace.map(|t| redactor.identifier(&t));
    Err(ProviderError::new(site, code, redactor.redact(&text), kind, charged, trace).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_in_both_forms() {
        assert_eq!(
            links_text(&json!([{"link": "https://x/y", "desc": "解决方案"}])).as_deref(),
            Some("解决方案 <https://x/y>")
        );
        assert_eq!(
            links_text(&json!("https://x/z")).as_deref(),
            Some("https://x/z")
        );
        assert_eq!(links_text(&json!([])), None);
    }
}
