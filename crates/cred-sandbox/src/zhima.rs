//! Alipay OpenAPI v3 emulation: `GET /v3/zhima/customer/jobworth/authentication`
//! (职得身份认证查询).
//!
//! Verifies the request as the gateway does: the `authorization:
//! ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…` header, the app id, the
//! timestamp (±15 minutes), and the RSA-SHA256 signature over
//! `authString\nGET\n<path and query exactly as received>\n<body>\n` with the sandbox
//! app's public key (`invalid-signature` otherwise, 401). Every answer, errors included,
//! is signed with the sandbox "Alipay" key (`alipay-timestamp`, `alipay-nonce`,
//! `alipay-signature`) and carries an `alipay-trace-id`. Magic `once_token` values reach
//! the business errors ([`MAGIC`]).

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;

use crate::Shared;
use crate::credentials::{ALIPAY_APP_ID, ALIPAY_APP_PUBLIC_KEY, ALIPAY_SANDBOX_PRIVATE_KEY};

/// The jobworth path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/authentication";

/// How far a request timestamp may be from the sandbox clock.
const WINDOW_MS: u64 = 15 * 60 * 1000;

/// What a magic `once_token` makes the gateway answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// HTTP status, `code`, `message`.
    Error(u16, &'static str, &'static str),
    /// HTTP 200 with this `identity_result`.
    Identity(&'static str),
    /// HTTP 200 whose signature does not match the body (a tampered answer).
    BadSignature,
}

/// A documented magic input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic {
    /// The `once_token` value.
    pub once_token: &'static str,
    /// What happens.
    pub outcome: Outcome,
    /// One-line description.
    pub description: &'static str,
}

/// Every magic `once_token`. Any other request answers `SUCCESS`.
pub static MAGIC: &[Magic] = &[
    Magic {
        once_token: "SANDBOX-TOKEN-INVALID",
        outcome: Outcome::Error(400, "TOKEN_INVALID", "token 无效或已使用"),
        description: "the once_token is invalid or used (400 TOKEN_INVALID)",
    },
    Magic {
        once_token: "SANDBOX-NOT-AUTHORIZED",
        outcome: Outcome::Error(403, "USER_NOT_AUTHORIZE", "用户未授权"),
        description: "the user did not authorise (403 USER_NOT_AUTHORIZE)",
    },
    Magic {
        once_token: "SANDBOX-NOT-OPEN",
        outcome: Outcome::Error(400, "NOT_OPEN_ZM", "用户未开通芝麻"),
        description: "the user has no Zhima account (400 NOT_OPEN_ZM)",
    },
    Magic {
        once_token: "SANDBOX-BLACKLIST",
        outcome: Outcome::Error(403, "JOB_WORTH_BLACK_LIST", "用户在职得黑名单中"),
        description: "blacklisted (403 JOB_WORTH_BLACK_LIST)",
    },
    Magic {
        once_token: "SANDBOX-THROTTLED",
        outcome: Outcome::Error(429, "app-call-limited", "调用频次超限"),
        description: "rate limit (429 app-call-limited)",
    },
    Magic {
        once_token: "SANDBOX-SYSTEM-ERROR",
        outcome: Outcome::Error(500, "SYSTEM_ERROR", "系统繁忙"),
        description: "server error, outcome unknown (500 SYSTEM_ERROR)",
    },
    Magic {
        once_token: "SANDBOX-FAILED",
        outcome: Outcome::Identity("FAILED"),
        description: "identity not confirmed (identity_result FAILED)",
    },
    Magic {
        once_token: "SANDBOX-WAITING",
        outcome: Outcome::Identity("WAITING_VERIFY"),
        description: "not decided yet (identity_result WAITING_VERIFY)",
    },
    Magic {
        once_token: "SANDBOX-BAD-SIGNATURE",
        outcome: Outcome::BadSignature,
        description: "a 200 answer whose signature does not verify (the SDK must refuse it)",
    },
];

/// The gateway's keys, parsed once.
pub(crate) struct Keys {
    app_public: ParsedPublicKey,
    alipay: RsaKeyPair,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

impl Keys {
    /// Parses the published sandbox keys (constants of this crate).
    pub(crate) fn load() -> Option<Keys> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
        Some(Keys {
            app_public: ParsedPublicKey::new(
                &RSA_PKCS1_2048_8192_SHA256,
                b64(ALIPAY_APP_PUBLIC_KEY)?,
            )
            .ok()?,
            alipay: RsaKeyPair::from_pkcs8(&b64(ALIPAY_SANDBOX_PRIVATE_KEY)?).ok()?,
        })
    }

    fn sign(&self, content: &[u8]) -> String {
        let mut sig = vec![0u8; self.alipay.public_modulus_len()];
        if self
            .alipay
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), content, &mut sig)
            .is_err()
        {
            return String::new();
        }
        base64::engine::general_purpose::STANDARD.encode(sig)
    }
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new().route(PATH, any(jobworth)).with_state(shared)
}

fn trace_id() -> String {
    (0..30)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(0..16)]))
        .collect()
}

/// A signed answer, as the gateway sends every answer.
fn signed(keys: &Keys, status: StatusCode, body: String, tamper: bool) -> Response {
    let timestamp = crate::now_millis().to_string();
    let nonce = trace_id();
    let signed_body = if tamper {
        body.replace("SUCCESS", "FAILED")
    } else {
        body.clone()
    };
    let signature = keys.sign(format!("{timestamp}\n{nonce}\n{signed_body}\n").as_bytes());
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    for (name, value) in [
        ("alipay-timestamp", timestamp),
        ("alipay-nonce", nonce),
        ("alipay-signature", signature),
        ("alipay-trace-id", trace_id()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    r
}

fn error(keys: &Keys, status: u16, code: &str, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "links": [{"link": "https://opendocs.alipay.com/open-v3/common", "desc": "公共错误码"}]
    })
    .to_string();
    signed(
        keys,
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
        false,
    )
}

/// Checks the `authorization` header as the gateway does; the refusal, if any.
fn refusal(
    keys: &Keys,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    let invalid = |code: &str, message: &str| Some(error(keys, 401, code, message));
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return invalid("missing-signature", "缺少签名 authorization");
    };
    let Some(rest) = value.strip_prefix("ALIPAY-SHA256withRSA ") else {
        return invalid(
            "invalid-signature-type",
            "签名类型不是 ALIPAY-SHA256withRSA",
        );
    };
    let Some((auth, sign)) = rest.rsplit_once(",sign=") else {
        return invalid("missing-signature", "authorization 中缺少 sign");
    };
    let field = |name: &str| {
        auth.split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    if field("app_id").as_deref() != Some(ALIPAY_APP_ID) {
        return invalid("invalid-app-id", "无效的 app_id");
    }
    if field("nonce").is_none_or(|n| n.is_empty()) {
        return invalid("missing-signature", "authorization 中缺少 nonce");
    }
    let now = crate::now_millis();
    match field("timestamp").and_then(|t| t.parse::<u64>().ok()) {
        Some(t) if t.abs_diff(now) <= WINDOW_MS => {}
        _ => return invalid("invalid-timestamp", "时间戳无效或已过期"),
    }
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or(PATH);
    let mut content = format!(
        "{auth}\n{}\n{path_and_query}\n{}\n",
        method.as_str(),
        String::from_utf8_lossy(body)
    );
    if let Some(token) = headers
        .get("alipay-app-auth-token")
        .and_then(|v| v.to_str().ok())
    {
        content.push_str(token);
        content.push('\n');
    }
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(sign) else {
        return invalid("invalid-signature", "签名不是 base64");
    };
    if keys
        .app_public
        .verify_sig(content.as_bytes(), &signature)
        .is_err()
    {
        return invalid(
            "invalid-signature",
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
        );
    }
    None
}

async fn jobworth(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(keys) = shared.zhima_keys.as_ref() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "sandbox keys unreadable").into_response();
    };
    if let Some(r) = refusal(keys, &method, &uri, &headers, &body) {
        return r;
    }
    if method != Method::GET {
        return error(keys, 405, "method-not-support", "不支持的请求方法");
    }
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if let Some(t) = params.get("cert_type")
        && !matches!(t.as_str(), "0" | "1" | "2" | "3" | "4" | "5")
    {
        return error(keys, 400, "invalid-parameter", "参数无效: cert_type");
    }
    if params.contains_key("cert_type") && !params.contains_key("cert_no") {
        return error(keys, 400, "missing-parameter", "缺少必选参数: cert_no");
    }
    // Guesses (Alipay's document marks every parameter optional, and has no error table): a query
    // without its once_token, or naming nobody, cannot be answered.
    let token = match params.get("once_token").map(|t| t.trim()) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => return error(keys, 400, "missing-parameter", "缺少必选参数: once_token"),
    };
    if ["user_id", "open_id", "cert_no"]
        .iter()
        .all(|k| params.get(*k).is_none_or(|v| v.trim().is_empty()))
    {
        return error(
            keys,
            400,
            "missing-parameter",
            "缺少必选参数: user_id、open_id 或 cert_no 任选一个",
        );
    }
    let token = token.as_str();
    let (identity, tamper) = match MAGIC.iter().find(|m| m.once_token == token) {
        Some(Magic {
            outcome: Outcome::Error(status, code, message),
            ..
        }) => return error(keys, *status, code, message),
        Some(Magic {
            outcome: Outcome::Identity(result),
            ..
        }) => (*result, false),
        Some(Magic {
            outcome: Outcome::BadSignature,
            ..
        }) => ("SUCCESS", true),
        None => ("SUCCESS", false),
    };
    // Alipay's document: 在认证结果到达终态后只允许查询成功一次. A final result (SUCCESS or
    // FAILED) is answered once per once_token; later queries are refused (the code and
    // message are guesses).
    if matches!(identity, "SUCCESS" | "FAILED") {
        let mut spent = shared.zhima_spent.lock().unwrap_or_else(|p| p.into_inner());
        if !spent.insert(token.to_owned()) {
            return error(
                keys,
                400,
                "TOKEN_INVALID",
                "once_token 已使用: 认证结果到达终态后只允许查询成功一次",
            );
        }
    }
    let body = json!({
        "identity_result": identity,
        "identity_result_skip_url": "https://render.alipay.com/p/yuyan/180020010001196791/index.html",
        "merchant_identity_id": "credkit-sandbox-0001",
        "open_id": "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
        "token_status": "FINISH",
        "user_id": "2088102910292100"
    })
    .to_string();
    signed(keys, StatusCode::OK, body, tamper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_keys_parse() {
        assert!(Keys::load().is_some());
    }
}
