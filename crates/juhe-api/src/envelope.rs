//! The Juhe response envelope `{reason, result, error_code, sign}`, shared by every Juhe
//! API. `sign` has no public algorithm: it is kept as opaque metadata
//! (`meta.attribute("sign")`), never verified.

use cred_core::{Answer, Endpoint, Error, RawResponse, Redactor, body, lenient};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::generated::CODES;

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
    let envelope: Envelope<'_> = body::parse_envelope(endpoint, raw, redactor)?;
    let mut reply = body::Reply::new("error_code", "result");
    reply.code = envelope.error_code;
    reply.message = envelope.reason;
    reply.payload = envelope.result;
    let mut answer = body::conclude(endpoint, raw, redactor, CODES, reply, body::table_kind)
        .map_err(|e| match e {
            // A refused key says which variable holds it.
            Error::Provider(mut p) if p.kind == cred_core::ErrorKind::Auth => {
                p.message.push_str(" (check JUHE_KEY)");
                Error::Provider(p)
            }
            other => other,
        })?;
    if let Some(sign) = envelope.sign {
        answer.meta_mut().attributes.push(("sign", sign));
    }
    Ok(answer)
}
