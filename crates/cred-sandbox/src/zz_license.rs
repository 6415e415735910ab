//! Zaozhuang e-licence platform emulation (DB3704/T 0042-2024), under
//! `/license-api-release`: the OAuth2 token endpoint and the six share interfaces.
//!
//! - `POST /oauth/token` behaves like stock Spring Security OAuth2: client credentials by
//!   HTTP Basic **or** as form fields (`invalid_client` / 401 when wrong, `unauthorized`
//!   when absent), `grant_type=password` with `scope=read write` (`invalid_grant` / 400
//!   on a wrong user or password), `grant_type=refresh_token` (a new access token, the
//!   same refresh token). While a token is valid the password grant answers the **same**
//!   token with a smaller `expires_in`. Tokens live [`crate::SandboxConfig::zz_token_ttl`].
//! - Share calls need the token (`Authorization: Bearer`, an `access_token` query
//!   parameter, or `access_token` in the JSON body): none is 401 `unauthorized`, an
//!   unknown or expired one 401 `invalid_token`. The body is a JSON object; the query
//!   and download interfaces need the audit context (status 12 when a field is missing,
//!   102 when the call category is not 0/1 or the cause exceeds 200 characters).
//! - `interfaceType` `0`/absent answers in the province shape (with `head.type "1"`),
//!   `1` in the city shape. Magic inputs reach every status family ([`MAGIC`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::common::{html_bad_gateway, json_response};
use crate::credentials::{
    ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET, ZZ_LICENSE_PASSWORD, ZZ_LICENSE_USERNAME,
};

/// The deployment path everything lives under.
pub const ROOT: &str = "/license-api-release";

/// What a magic input makes the platform answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `head.status` with this message; `data` carries `detail` as text when set.
    Status(u32, &'static str, Option<&'static str>),
    /// A JSON body cut off in the middle (HTTP 200).
    Truncated,
    /// An nginx 502 HTML page.
    HtmlBadGateway,
    /// A data check whose `result` is this code (province) / `verifyResult` false (city).
    CheckResult(i64, &'static str),
}

/// A documented magic input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic {
    /// Which parameter carries it: `serial` (the serial part of a `certificateID`),
    /// `holder` (`certificateHolderCode`), `qr` (`qrValue`).
    pub on: &'static str,
    /// The value.
    pub value: &'static str,
    /// What happens.
    pub outcome: Outcome,
    /// One-line description.
    pub description: &'static str,
}

/// Every magic input. Other inputs get the fixtures.
pub static MAGIC: &[Magic] = &[
    Magic {
        on: "serial",
        value: "REVOKED21",
        outcome: Outcome::Status(21, "证照已注销", None),
        description: "revoked licence (status 21)",
    },
    Magic {
        on: "serial",
        value: "EXPIRED22",
        outcome: Outcome::Status(22, "证照已过期", None),
        description: "expired licence (status 22)",
    },
    Magic {
        on: "serial",
        value: "RESTRICTED23",
        outcome: Outcome::Status(23, "证照已限制使用", None),
        description: "restricted licence (status 23)",
    },
    Magic {
        on: "serial",
        value: "NOSERVICE02",
        outcome: Outcome::Status(2, "接口调用失败！", Some("证照源未提供此服务接口")),
        description: "status 2 with the failure text in `data`",
    },
    Magic {
        on: "serial",
        value: "NORECORD10",
        outcome: Outcome::Status(10, "没有符合条件的证照", None),
        description: "no such licence (status 10)",
    },
    Magic {
        on: "serial",
        value: "TRUNCATED",
        outcome: Outcome::Truncated,
        description: "HTTP 200 with a truncated JSON body",
    },
    Magic {
        on: "serial",
        value: "GATEWAY502",
        outcome: Outcome::HtmlBadGateway,
        description: "HTTP 502 with an nginx HTML page",
    },
    Magic {
        on: "holder",
        value: "370402199003070119",
        outcome: Outcome::Status(10, "没有符合条件的证照", None),
        description: "unknown holder: no licence (status 10)",
    },
    Magic {
        on: "holder",
        value: "370402199003070127",
        outcome: Outcome::Status(21, "证照已注销", None),
        description: "the holder's licence is revoked (status 21)",
    },
    Magic {
        on: "holder",
        value: "370402199003070135",
        outcome: Outcome::Status(22, "证照已过期", None),
        description: "the holder's licence expired (status 22)",
    },
    Magic {
        on: "holder",
        value: "370402199003070207",
        outcome: Outcome::Status(23, "证照已限制使用", None),
        description: "the holder's licence is restricted (status 23)",
    },
    Magic {
        on: "holder",
        value: "370402199003070143",
        outcome: Outcome::Status(100, "无权访问该证照", None),
        description: "no permission for this licence (status 100)",
    },
    Magic {
        on: "holder",
        value: "370402199003070151",
        outcome: Outcome::Status(2, "接口调用失败！", Some("证照源未提供此服务接口")),
        description: "status 2 with the failure text in `data`",
    },
    Magic {
        on: "holder",
        value: "37040219900307016X",
        outcome: Outcome::Truncated,
        description: "HTTP 200 with a truncated JSON body",
    },
    Magic {
        on: "holder",
        value: "370402199003070178",
        outcome: Outcome::HtmlBadGateway,
        description: "HTTP 502 with an nginx HTML page",
    },
    Magic {
        on: "holder",
        value: "370402199003070186",
        outcome: Outcome::CheckResult(3, "信息正确且证照已失效"),
        description: "data check: licence no longer valid (result 3; city `false`)",
    },
    Magic {
        on: "holder",
        value: "370402199003070194",
        outcome: Outcome::CheckResult(5, "查无此信息"),
        description: "data check: not found (result 5; city `false`)",
    },
    Magic {
        on: "qr",
        value: "SANDBOX-QR-EXPIRED",
        outcome: Outcome::Status(22, "证照已过期", None),
        description: "the licence behind the QR code expired (status 22)",
    },
    Magic {
        on: "qr",
        value: "SANDBOX-QR-UNKNOWN",
        outcome: Outcome::Status(10, "没有符合条件的证照", None),
        description: "unknown QR code (status 10)",
    },
];

/// The fixture licences' identifiers (valid GB/T 36904 check characters).
pub const FIXTURE_IDS: [&str; 2] = [
    "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N",
    "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000002.001.7",
];

/// Token store: Spring's `InMemoryTokenStore`, one user.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    /// access token -> expiry
    access: HashMap<String, Instant>,
    /// refresh token -> its access token
    refresh: HashMap<String, String>,
    /// the user's current access token
    current: Option<String>,
    /// token requests answered (any outcome)
    pub(crate) requests: u64,
}

pub(crate) type Tokens = Mutex<TokenStore>;

fn store(shared: &Shared) -> MutexGuard<'_, TokenStore> {
    shared.zz_tokens.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&format!("{ROOT}/oauth/token"), post(token))
        .route(
            &format!("{ROOT}/m/v/license/external/api/{{name}}"),
            post(share),
        )
        .route(&format!("{ROOT}/CertShare/zzgxp/download"), get(download))
        .route(&format!("{ROOT}/elssp/v1/download_national"), get(download))
        .with_state(shared)
}

fn uuid() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(0..16)]))
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = json_response(
        status,
        json!({"error": error, "error_description": description}).to_string(),
    );
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if error == "invalid_client" || error == "unauthorized" {
            "Basic realm=\"oauth2/client\"".to_owned()
        } else {
            format!("Bearer realm=\"oauth2-resource\", error=\"{error}\"")
        };
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

/// `client_id`/`client_secret` from HTTP Basic or the form.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn issue(shared: &Shared, store: &mut TokenStore) -> (String, String, u64) {
    let ttl = shared.config.zz_token_ttl;
    let access = uuid();
    let refresh = store
        .refresh
        .iter()
        .find(|(_, a)| Some(*a) == store.current.as_ref())
        .map(|(r, _)| r.clone())
        .unwrap_or_else(uuid);
    if let Some(old) = store.current.take() {
        store.access.remove(&old);
    }
    store.access.insert(access.clone(), Instant::now() + ttl);
    store.refresh.insert(refresh.clone(), access.clone());
    store.current = Some(access.clone());
    (access, refresh, ttl.as_secs())
}

fn token_answer(access: &str, refresh: &str, expires_in: u64) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": expires_in,
            "scope": "read write"
        })
        .to_string(),
    )
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    store(&shared).requests += 1;
    // Spring reads the token request's parameters from the query or the form body.
    let mut form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    form.extend(form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned());
    let Some((id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Full authentication is required to access this resource",
        );
    };
    if id != ZZ_LICENSE_CLIENT_ID || secret != ZZ_LICENSE_CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials",
        );
    }
    let mut store = store(&shared);
    match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            if let Some(scope) = form.get("scope")
                && !scope
                    .split_whitespace()
                    .all(|s| s == "read" || s == "write")
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    &format!("Invalid scope: {scope}"),
                );
            }
            if form.get("username").map(String::as_str) != Some(ZZ_LICENSE_USERNAME)
                || form.get("password").map(String::as_str) != Some(ZZ_LICENSE_PASSWORD)
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad credentials");
            }
            let now = Instant::now();
            // Spring hands out the same token while it is valid.
            if let Some(current) = store.current.clone()
                && let Some(expiry) = store.access.get(&current).copied()
                && expiry > now
            {
                let refresh = store
                    .refresh
                    .iter()
                    .find(|(_, a)| **a == current)
                    .map(|(r, _)| r.clone())
                    .unwrap_or_default();
                return token_answer(&current, &refresh, (expiry - now).as_secs());
            }
            let (access, refresh, ttl) = issue(&shared, &mut store);
            token_answer(&access, &refresh, ttl)
        }
        Some("refresh_token") => {
            let given = form.get("refresh_token").cloned().unwrap_or_default();
            if !store.refresh.contains_key(&given) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    &format!("Invalid refresh token: {given}"),
                );
            }
            let (access, refresh, ttl) = issue(&shared, &mut store);
            token_answer(&access, &refresh, ttl)
        }
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Unsupported grant type: {other}"),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant type",
        ),
    }
}

fn head_answer(status: u32, message: &str, data: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"head": {"message": message, "status": status.to_string()}, "data": data})
            .to_string(),
    )
}

fn province(data: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"head": {"message": "接口调用成功！", "type": "1", "status": "0"}, "data": data})
            .to_string(),
    )
}

fn city(data: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"head": {"message": "接口调用成功", "status": "0"}, "data": data}).to_string(),
    )
}

fn outcome_response(outcome: Outcome) -> Option<Response> {
    Some(match outcome {
        Outcome::Status(code, message, detail) => {
            head_answer(code, message, detail.map_or(Value::Null, |d| json!(d)))
        }
        Outcome::Truncated => json_response(
            StatusCode::OK,
            r#"{"head":{"message":"接口调用成功","status":"0"},"data":{"total":1,"dataList":[{"certificateHol"#
                .to_owned(),
        ),
        Outcome::HtmlBadGateway => html_bad_gateway(),
        Outcome::CheckResult(..) => return None,
    })
}

fn magic(on: &str, value: &str) -> Option<Outcome> {
    MAGIC
        .iter()
        .find(|m| m.on == on && m.value == value)
        .map(|m| m.outcome)
}

/// The serial part of a GB/T 36904 identifier (`…<type>.<issuer>.<serial>.<ver>.<chk>`).
fn serial(id: &str) -> &str {
    let parts: Vec<&str> = id.trim().rsplitn(4, '.').collect();
    parts.get(2).copied().unwrap_or("")
}

/// The bearer token of a share call, from header, query or body.
fn bearer(headers: &HeaderMap, query: Option<&str>, body: &Map<String, Value>) -> Option<String> {
    if let Some(t) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
    {
        return Some(t.trim().to_owned());
    }
    if let Some(t) = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
    {
        return Some(t);
    }
    body.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

const AUDIT_REQUIRED: [&str; 5] = [
    "certificateSystemName",
    "certificateCallCategory",
    "certificateMatterName",
    "certificateEventCode",
    "certificateCopyCause",
];

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Status 12/102 for a missing or malformed parameter, if any.
fn check_params(
    body: &Map<String, Value>,
    required: &[&str],
    full_audit: bool,
) -> Option<Response> {
    let audit: &[&str] = if full_audit { &AUDIT_REQUIRED } else { &[] };
    if let Some(missing) = required
        .iter()
        .chain(audit)
        .find(|k| text(body, k).is_none())
    {
        return Some(head_answer(
            12,
            &format!("必填参数为空: {missing}"),
            Value::Null,
        ));
    }
    if full_audit && !matches!(text(body, "certificateCallCategory"), Some("0" | "1")) {
        return Some(head_answer(
            102,
            "参数值错误: certificateCallCategory",
            Value::Null,
        ));
    }
    for cause in ["certificateCopyCause", "useFor", "useCause"] {
        if text(body, cause).is_some_and(|c| c.chars().count() > 200) {
            return Some(head_answer(
                102,
                &format!("参数值错误: {cause} 超过 200 字"),
                Value::Null,
            ));
        }
    }
    if !matches!(text(body, "interfaceType"), None | Some("0" | "1")) {
        return Some(head_answer(102, "参数值错误: interfaceType", Value::Null));
    }
    None
}

fn province_licences(holder: &str) -> Value {
    let items: Vec<Value> = FIXTURE_IDS
        .iter()
        .zip(["中华人民共和国居民身份证", "中华人民共和国机动车驾驶证"])
        .map(|(id, kind)| {
            json!({"certno": holder, "gmsfhm": holder, "name": "张三", "cert_identifier": id, "zzlx": kind})
        })
        .collect();
    json!({"total": items.len(), "dataList": items})
}

/// The city identifier (`fileNumber`) of the fixture licence of `holder`, in the form of
/// the document's city QR-code answer (4.3.6).
fn city_file_number(holder: &str) -> String {
    format!("02-11370400MB2856291X-51-{holder}-00-JY13704020012345")
}

/// A city record of the holder query (4.3.7). The document's city example of it is cut
/// off; 4.3.2 says the holder query returns the identifier, so the record carries the
/// city form of it, `fileNumber`, as the QR-code answer does.
fn city_holder_licences(holder: &str) -> Value {
    let mut answer = city_licences(holder);
    if let Some(record) = answer["dataList"][0].as_object_mut() {
        record.insert("fileNumber".to_owned(), json!(city_file_number(holder)));
    }
    answer
}

fn city_licences(holder: &str) -> Value {
    json!({"total": 1, "dataList": [{
        "certificateHolder": "张三",
        "certificateValidateStart": "2019 年 07 月 01 日",
        "certificateValidateEnd": "2029 年 06 月 30 日",
        "issueDept": "枣庄市行政审批服务局",
        "certificateName": "食品经营许可证",
        "certificateHolderType": "111",
        "certificateNumber": "JY13704020012345",
        "issueDeptCode": "11370400MB2856291X",
        "certificateHolderCode": holder,
        "detail": [],
        "issueDate": "2019 年 07 月 01 日",
        "digitalSign": "",
        "certificateType": "食品经营许可证"
    }]})
}

fn host_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}{ROOT}")
}

async fn share(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(&body).ok();
    let empty = Map::new();
    let token = bearer(
        &headers,
        query.as_deref(),
        parsed.as_ref().unwrap_or(&empty),
    );
    let Some(token) = token else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Full authentication is required to access this resource",
        );
    };
    {
        let store = store(&shared);
        match store.access.get(&token) {
            None => {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    &format!("Invalid access token: {token}"),
                );
            }
            Some(expiry) if *expiry <= Instant::now() => {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    &format!("Access token expired: {token}"),
                );
            }
            Some(_) => {}
        }
    }
    let Some(body) = parsed else {
        return head_answer(12, "必填参数为空: 请求体不是 JSON 对象", Value::Null);
    };
    let is_city = text(&body, "interfaceType") == Some("1");
    match name.as_str() {
        "ShareDownloadUrl" => download_url(&body, &headers),
        "ShareQueryCertInfo" => query_by_id(&body, is_city),
        "ShareVerifyCertInfo" => verify(&body, is_city),
        "ShareQueryCertInfoByQRcode" => by_qrcode(&body, is_city),
        "ShareQueryCertInfoByHolderCode" => by_holder(&body, is_city),
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"timestamp": crate::now_millis(), "status": 404, "error": "Not Found", "path": format!("{ROOT}/m/v/license/external/api/{name}")}).to_string(),
        ),
    }
}

fn download_url(body: &Map<String, Value>, headers: &HeaderMap) -> Response {
    if let Some(r) = check_params(body, &["certificateID"], true) {
        return r;
    }
    let id = text(body, "certificateID").unwrap_or("");
    if let Some(r) = magic("serial", serial(id)).and_then(outcome_response) {
        return r;
    }
    if let Some(expiry) = text(body, "expiryTime")
        && !is_iso_date(expiry)
    {
        return head_answer(102, "参数值错误: expiryTime", Value::Null);
    }
    let base = host_base(headers);
    let file_id = base64::engine::general_purpose::STANDARD.encode(id);
    if is_city(body) {
        city(json!({"total": 1, "dataList": [{
            "issueDept": "枣庄市行政审批服务局",
            "certificateNumber": "JY13704020012345",
            "fileUrl": format!("{base}/elssp/v1/download_national?fileId={}&fileFormat=OFD", urlencode(&file_id)),
            "issueDate": "2019 年 07 月 01 日",
            "fileFormat": "OFD",
            "certificateType": "食品经营许可证"
        }]}))
    } else {
        province(json!({"total": 1, "dataList": [{
            "certIdentifier": id,
            "contentType": "http",
            "content": format!("{base}/CertShare/zzgxp/download?id={}", hex_id(id)),
        }]}))
    }
}

fn is_city(body: &Map<String, Value>) -> bool {
    text(body, "interfaceType") == Some("1")
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn hex_id(id: &str) -> String {
    id.bytes().take(16).map(|b| format!("{b:02x}")).collect()
}

fn query_by_id(body: &Map<String, Value>, is_city: bool) -> Response {
    if let Some(r) = check_params(body, &["certificateID"], true) {
        return r;
    }
    let id = text(body, "certificateID").unwrap_or("");
    if let Some(r) = magic("serial", serial(id)).and_then(outcome_response) {
        return r;
    }
    if is_city {
        city(city_licences("370402199003071234"))
    } else {
        province(json!({"total": 1, "dataList": [{
            "certno": "370402199003071234", "gmsfhm": "370402199003071234",
            "name": "张三", "cert_identifier": id, "zzlx": "中华人民共和国居民身份证"
        }]}))
    }
}

fn verify(body: &Map<String, Value>, is_city: bool) -> Response {
    // One path, two interfaces: a file check carries `content`.
    if body.contains_key("content") || body.contains_key("contentType") {
        return verify_file(body, is_city);
    }
    if let Some(r) = check_params(
        body,
        &[
            "certTypeCode",
            "certificateData",
            "useFor",
            "certificateHolderCode",
        ],
        false,
    ) {
        return r;
    }
    let data_ok = text(body, "certificateData")
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .is_some_and(|v| v.is_object());
    if !data_ok {
        return head_answer(
            102,
            "参数值错误: certificateData 不是 JSON 对象",
            Value::Null,
        );
    }
    let holder = text(body, "certificateHolderCode").unwrap_or("");
    let (code, message) = match magic("holder", holder) {
        Some(Outcome::CheckResult(code, message)) => (code, message),
        Some(other) => {
            return outcome_response(other)
                .unwrap_or_else(|| head_answer(99, "其他错误", Value::Null));
        }
        None => (0, "信息正确且有效"),
    };
    if is_city {
        city(json!({"verifyResult": if code == 0 { "true" } else { "false" }}))
    } else {
        province(json!({"total": 1, "dataList": [{"result": code, "message": message}]}))
    }
}

fn verify_file(body: &Map<String, Value>, is_city: bool) -> Response {
    if let Some(r) = check_params(
        body,
        &["certTypeCode", "contentType", "content", "useCause"],
        false,
    ) {
        return r;
    }
    if text(body, "contentType") != Some("base64") {
        return head_answer(102, "参数值错误: contentType 固定为 base64", Value::Null);
    }
    let Ok(file) =
        base64::engine::general_purpose::STANDARD.decode(text(body, "content").unwrap_or(""))
    else {
        return head_answer(102, "参数值错误: content 不是 base64", Value::Null);
    };
    let (code, message) = if file.windows(11).any(|w| w == b"SEAL-BROKEN") {
        (1, "签章校验失败")
    } else if file.starts_with(b"%PDF-") || file.starts_with(b"PK\x03\x04") {
        (0, "验证通过")
    } else {
        (2, "文件校验失败")
    };
    if is_city {
        city(json!({"verifyResult": if code == 0 { "true" } else { "false" }}))
    } else {
        json_response(
            StatusCode::OK,
            json!({"head": {"status": 0, "message": "接口调用成功"}, "data": {"result": code.to_string(), "message": message}})
                .to_string(),
        )
    }
}

fn by_qrcode(body: &Map<String, Value>, is_city: bool) -> Response {
    if let Some(r) = check_params(body, &["qrValue"], true) {
        return r;
    }
    let qr = text(body, "qrValue").unwrap_or("");
    if let Some(r) = magic("qr", qr).and_then(outcome_response) {
        return r;
    }
    if is_city {
        json_response(
            StatusCode::OK,
            json!({"head": {"sign": "", "time": 0, "message": "查询成功", "status": 0}, "data": {
                "img_sign_fileid": "5b301b493d456b397cf87187",
                "license_name": "食品经营许可证",
                "fileNumber": city_file_number("370402199003071234"),
                "issue_unitname": "枣庄市行政审批服务局",
                "valid_time_begin": "2019-07-01",
                "holder": "张三",
                "license_state": "正常有效",
                "valid_time_end": "2029-06-30",
                "licenseId": "46b820f3ed3140da864b9850d4953389",
                "abstractCode": "5cgedf2j6",
                "license_number": "JY13704020012345"
            }})
            .to_string(),
        )
    } else {
        json_response(
            StatusCode::OK,
            json!({"head": {"message": "接口调用成功！", "status": "0"}, "data": province_licences("370402199003071234")}).to_string(),
        )
    }
}

fn by_holder(body: &Map<String, Value>, is_city: bool) -> Response {
    let mut required = vec!["certificateHolderCode", "certTypeCode"];
    if is_city {
        required.push("certificateHolderCodeType"); // 市库数据必填
    }
    if let Some(r) = check_params(body, &required, true) {
        return r;
    }
    if let Some(t) = text(body, "certificateHolderCodeType")
        && (t.len() != 3 || !t.bytes().all(|b| b.is_ascii_digit()))
    {
        return head_answer(103, "持证主体代码类型错误", Value::Null);
    }
    let holder = text(body, "certificateHolderCode").unwrap_or("");
    match magic("holder", holder) {
        Some(Outcome::CheckResult(..)) | None => {}
        Some(other) => {
            if let Some(r) = outcome_response(other) {
                return r;
            }
        }
    }
    if is_city {
        city(city_holder_licences(holder))
    } else {
        province(province_licences(holder))
    }
}

/// A minimal PDF (province links) or an OFD container signature (city links).
async fn download(RawQuery(query): RawQuery) -> Response {
    let q: HashMap<String, String> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if q.get("id").is_some_and(|id| id == "expired") {
        let mut r = (StatusCode::OK, "<html><body>下载链接已失效</body></html>").into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=UTF-8"),
        );
        return r;
    }
    let ofd = q
        .get("fileFormat")
        .is_some_and(|f| f.eq_ignore_ascii_case("OFD"));
    let (bytes, content_type): (&'static [u8], &'static str) = if ofd {
        (
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00OFD.xml credkit sandbox licence (not a real OFD)",
            "application/ofd",
        )
    } else {
        (
            b"%PDF-1.4\n% credkit sandbox licence (not a real licence)\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
            "application/pdf",
        )
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Token requests the platform answered so far.
pub(crate) fn token_requests(shared: &Shared) -> u64 {
    store(shared).requests
}

/// Revokes every access token (as when they expire early on the server): share calls
/// with them answer 401 `invalid_token`; refresh tokens stay valid. Returns how many
/// access tokens were valid.
pub(crate) fn revoke_tokens(shared: &Shared) -> usize {
    let mut store = store(shared);
    let now = Instant::now();
    let valid = store.access.values().filter(|e| **e > now).count();
    store.access.clear();
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_part_of_an_identifier() {
        assert_eq!(serial(FIXTURE_IDS[0]), "C0000001");
        assert_eq!(
            serial("1.2.156.3005.2.11100000000013127D.11370400MB2856291X.REVOKED21.001.0"),
            "REVOKED21"
        );
        assert_eq!(serial("garbage"), "");
    }

    #[test]
    fn magic_values_are_unique() {
        for (i, a) in MAGIC.iter().enumerate() {
            for b in &MAGIC[i + 1..] {
                assert!(!(a.on == b.on && a.value == b.value), "{}", a.value);
            }
        }
    }
}
