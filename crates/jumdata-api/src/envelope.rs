//! The Jumdata response envelope `{code, msg, taskNo, charge, data[, success]}`.
//!
//! Quirk: "no record" answers `code 701` with `data: []` (an array where success has an
//! object) and `charge: false`; that is an empty [`Answer`], not an error.

use cred_core::{Answer, Endpoint, Error, ErrorKind, RawResponse, Redactor, body, lenient};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::generated::CODES;

/// The envelope, its `data` read as `P`: decoded in the same pass
/// ([`body::Payload`]), or kept raw for the second reading.
#[derive(Deserialize)]
struct Envelope<P> {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    msg: Option<String>,
    #[serde(default, rename = "taskNo", deserialize_with = "lenient::opt_string")]
    task_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    charge: Option<bool>,
    #[serde(default)]
    data: P,
}

impl<P> Envelope<P> {
    fn head(self) -> (body::Head, P) {
        let mut head = body::Head::new("code");
        head.code = self.code;
        head.message = self.msg;
        head.charged = self.charge;
        head.request_id = self.task_no;
        (head, self.data)
    }
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
///
/// A 2xx answer is read in one pass, `data` decoded with the envelope; when that fails
/// (a body that is not the documented shape), it is read again with `data` kept raw,
/// which gives the documented outcome and explains the failure.
pub fn decode<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    if raw.is_success()
        && let Ok(envelope) = serde_json::from_slice::<Envelope<body::Payload<T>>>(&raw.body)
    {
        let (head, data) = envelope.head();
        return body::conclude_decoded(endpoint, raw, redactor, CODES, head, data.0, refine_kind)
            .map_err(with_credential_hint);
    }
    decode_raw(endpoint, raw, redactor).map_err(with_credential_hint)
}

/// An `auth` error says what to check: the credentials' variables, and the clock (the
/// signature covers a timestamp).
fn with_credential_hint(e: Error) -> Error {
    match e {
        Error::Provider(mut p) if p.kind == ErrorKind::Auth => {
            p.message.push_str(if p.code == "400" {
                " (check JUMDATA_APP_ID and JUMDATA_APP_SECRET, and this machine's clock: the signature covers a timestamp)"
            } else {
                " (check the account of JUMDATA_APP_ID with Jumdata)"
            });
            Error::Provider(p)
        }
        other => other,
    }
}

/// [`decode`]'s second reading: `data` kept raw, then decoded.
fn decode_raw<T: DeserializeOwned>(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<T>, Error> {
    // The second reading is rare: the payload is copied out (`Box`) rather than
    // borrowed, so one envelope type serves both.
    let envelope: Envelope<Option<Box<RawValue>>> = body::parse_envelope(endpoint, raw, redactor)?;
    let (head, data) = envelope.head();
    let mut reply = body::Reply::new(head.code_field, "data");
    reply.code = head.code;
    reply.message = head.message;
    reply.charged = head.charged;
    reply.request_id = head.request_id;
    reply.payload = data.as_deref();
    body::conclude(endpoint, raw, redactor, CODES, reply, refine_kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CredentialQueryResult;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(status, Default::default(), body.to_owned().into_bytes())
    }

    /// What a decoding says, in a comparable form.
    fn outcome(r: Result<Answer<CredentialQueryResult>, Error>) -> String {
        match r {
            Ok(a) => format!(
                "found={} items={} charged={:?} code={} id={:?}",
                a.found(),
                a.result().map_or(0, |r| r.items.len()),
                a.charged(),
                a.meta().code,
                a.request_id()
            ),
            Err(e) => format!(
                "error {} {:?} {:?}",
                e.kind().as_str(),
                e.charged(),
                e.code()
            ),
        }
    }

    #[test]
    fn one_pass_and_two_pass_readings_agree() {
        let item = r#"{"occupation":"电工","quaType":1,"certificateNo":"1"}"#;
        let bodies = [
            format!(
                r#"{{"code":200,"msg":"成功","taskNo":"t1","charge":true,"data":{{"count":1,"items":[{item}]}}}}"#
            ),
            r#"{"code":200,"msg":"成功","charge":true,"data":{}}"#.to_owned(),
            r#"{"code":200,"msg":"成功","charge":true,"data":null}"#.to_owned(),
            r#"{"code":200,"msg":"成功","charge":true,"data":""}"#.to_owned(),
            r#"{"code":200,"msg":"成功","charge":true}"#.to_owned(),
            r#"{"code":701,"msg":"无记录","charge":false,"data":[]}"#.to_owned(),
            r#"{"code":603,"msg":"余额不足","charge":false,"data":{"x":1}}"#.to_owned(),
            r#"{"code":"200","msg":"成功","charge":"true","data":{"count":"1","items":[]}}"#
                .to_owned(),
            r#"{"code":200,"msg":"成功","data":{"count":1,"items":"oops"}}"#.to_owned(),
            r#"{"code":200,"msg":"成功","data":[1,2]}"#.to_owned(),
            r#"{"code":200,"msg":"成功","data":"text"}"#.to_owned(),
            r#"{"code":200,"data":{"count":1,"items":[]},"data":{}}"#.to_owned(),
            "<html>502</html>".to_owned(),
        ];
        let endpoint = &crate::generated::CREDENTIAL_QUERY;
        let redactor = Redactor::new();
        for body in &bodies {
            for status in [200, 500] {
                let r = raw(status, body);
                let fast = outcome(decode(endpoint, &r, &redactor));
                let slow = outcome(decode_raw(endpoint, &r, &redactor));
                assert_eq!(fast, slow, "{status} {body}");
            }
        }
    }
}
