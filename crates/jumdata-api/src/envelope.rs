//! The Jumdata response envelope `{code, msg, taskNo, charge, data[, success]}`.
//!
//! Quirk: "no record" answers `code 701` with `data: []` (an array where success has an
//! object) and `charge: false`; that is an empty [`Answer`], not an error.

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
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    msg: Option<String>,
    #[serde(default, rename = "taskNo", deserialize_with = "lenient::opt_string")]
    task_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    charge: Option<bool>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// Jumdata reports signature, `appId` and timestamp failures under `400 参数错误`. They are
/// credential problems (wrong secret, unknown app, clock skew), not bad query values, so
/// they surface as [`ErrorKind::Auth`], recognised by the provider's message.
fn refine_kind(code: &str, kind: ErrorKind, message: &str) -> ErrorKind {
    const CREDENTIAL_WORDS: [&str; 7] = [
        "签名",
        "sign",
        "appid",
        "时间戳",
        "timestamp",
        "密钥",
        "secret",
    ];
    if code == "400" && kind == ErrorKind::InvalidArgument {
        let m = message.to_lowercase();
        if CREDENTIAL_WORDS.iter().any(|w| m.contains(w)) {
            return ErrorKind::Auth;
        }
    }
    kind
}

/// Decodes one Jumdata response into an answer or an error.
pub fn decode<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    let site = endpoint.site;
    let snippet = || redactor.snippet(&String::from_utf8_lossy(&raw.body), SNIPPET);
    let envelope: Envelope<'_> = match serde_json::from_slice(&raw.body) {
        Ok(env) => env,
        Err(_) if !raw.is_success() => {
            return Err(Error::HttpStatus {
                site,
                status: raw.status,
                snippet: snippet(),
            });
        }
        Err(e) => {
            return Err(Error::Decode {
                site,
                reason: body::unreadable_reason(raw, &e),
                snippet: snippet(),
            });
        }
    };
    let Some(code) = envelope.code else {
        if !raw.is_success() {
            return Err(Error::HttpStatus {
                site,
                status: raw.status,
                snippet: snippet(),
            });
        }
        return Err(Error::Decode {
            site,
            reason: "the envelope has no `code`".to_owned(),
            snippet: snippet(),
        });
    };
    let info = lookup_code(CODES, &code);
    let outcome = info
        .map(|i| i.outcome)
        .unwrap_or(CodeOutcome::Error(ErrorKind::Unknown));
    let charged = Charged::from_flag(
        envelope.charge,
        info.map(|i| i.charged).unwrap_or(Charged::Unknown),
    );
    let message = redactor.redact(
        envelope
            .msg
            .as_deref()
            .or(info.map(|i| i.message))
            .unwrap_or(""),
    );
    let mut meta = ResponseMeta::new(site.provider, site.operation);
    meta.request_id = envelope.task_no.clone();
    meta.charged = charged;
    meta.code = code.clone();
    meta.message = message.clone();
    meta.http_status = raw.status;

    match outcome {
        CodeOutcome::Ok if !raw.is_success() => Err(Error::HttpStatus {
            site,
            status: raw.status,
            snippet: snippet(),
        }),
        CodeOutcome::Ok => {
            let data = match envelope.data {
                None => None,
                Some(d) if body::is_empty_json(d) => None,
                Some(d) => Some(
                    serde_json::from_str::<T>(d.get()).map_err(|e| Error::Decode {
                        site,
                        reason: format!(
                            "`data` does not have the documented shape: {}",
                            lenient::describe_json_error(&e)
                        ),
                        snippet: snippet(),
                    })?,
                ),
            };
            Ok(Answer::new(data, meta))
        }
        CodeOutcome::NoRecord => Ok(Answer::new(None, meta)),
        CodeOutcome::Error(kind) => {
            let kind = refine_kind(&code, kind, &message);
            Err(ProviderError::new(site, code, message, kind, charged, envelope.task_no).into())
        }
    }
}
