//! The Juhe response envelope `{reason, result, error_code, sign}`, shared by every Juhe
//! API. `sign` has no public algorithm: it is kept as opaque metadata
//! (`meta.attribute("sign")`), never verified.

use cred_core::endpoint::lookup_code;
use cred_core::{
    Answer, Charged, CodeOutcome, Endpoint, Error, ErrorKind, ProviderError, RawResponse, Redactor,
    ResponseMeta, body, lenient,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::generated::CODES;

/// Characters of a body kept in an error (after redaction).
const SNIPPET: usize = 160;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    reason: Option<String>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    sign: Option<String>,
}

/// Decodes one Juhe response into an answer or an error.
pub fn decode<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let snippet = || redactor.snippet(&String::from_utf8_lossy(&raw.body), SNIPPET);
    let status_error = || Error::HttpStatus {
        site,
        status: raw.status,
        snippet: snippet(),
    };
    let envelope: Envelope<'_> = match serde_json::from_slice(&raw.body) {
        Ok(env) => env,
        Err(_) if !raw.is_success() => return Err(status_error()),
        Err(e) => {
            return Err(Error::Decode {
                site,
                reason: body::unreadable_reason(raw, &e),
                snippet: snippet(),
            });
        }
    };
    let Some(code) = envelope.error_code else {
        if !raw.is_success() {
            return Err(status_error());
        }
        return Err(Error::Decode {
            site,
            reason: "the envelope has no `error_code`".to_owned(),
            snippet: snippet(),
        });
    };
    let info = lookup_code(CODES, &code);
    let outcome = info
        .map(|i| i.outcome)
        .unwrap_or(CodeOutcome::Error(ErrorKind::Unknown));
    let charged = info.map(|i| i.charged).unwrap_or(Charged::Unknown);
    let message = redactor.redact(
        envelope
            .reason
            .as_deref()
            .or(info.map(|i| i.message))
            .unwrap_or(""),
    );
    let mut meta = ResponseMeta::new(site.provider, site.operation);
    meta.charged = charged;
    meta.code = code.clone();
    meta.message = message.clone();
    meta.http_status = raw.status;
    if let Some(sign) = envelope.sign {
        meta.attributes.push(("sign", sign));
    }
    match outcome {
        CodeOutcome::Ok if !raw.is_success() => Err(status_error()),
        CodeOutcome::Ok => {
            let result = match envelope.result {
                None => None,
                Some(r) if body::is_empty_json(r) => None,
                Some(r) => Some(
                    serde_json::from_str::<T>(r.get()).map_err(|e| Error::Decode {
                        site,
                        reason: format!(
                            "`result` does not have the documented shape: {}",
                            lenient::describe_json_error(&e)
                        ),
                        snippet: snippet(),
                    })?,
                ),
            };
            Ok(Answer::new(result, meta))
        }
        CodeOutcome::NoRecord => Ok(Answer::new(None, meta)),
        CodeOutcome::Error(kind) => {
            Err(ProviderError::new(site, code, message, kind, charged, None).into())
        }
    }
}
