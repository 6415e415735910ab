//! The Jumdata response envelope `{code, msg, taskNo, charge, data[, success]}`.
//!
//! Quirk: "no record" answers `code 701` with `data: []` (an array where success has an
//! object) and `charge: false`; that is an empty [`Answer`], not an error.

use cred_core::{Answer, Endpoint, Error, ErrorKind, RawResponse, Redactor, body, lenient};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::generated::CODES;

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
    let envelope: Envelope<'_> = body::parse_envelope(endpoint, raw, redactor)?;
    let reply = body::Reply {
        code: envelope.code,
        code_field: "code",
        message: envelope.msg,
        charged: envelope.charge,
        request_id: envelope.task_no,
        payload: envelope.data,
        payload_field: "data",
    };
    body::conclude(endpoint, raw, redactor, CODES, reply, refine_kind)
}
