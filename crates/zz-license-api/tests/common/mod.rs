//! Shared fixtures for the zz-license-api integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use httpmock::{HttpMockRequest, Mock, MockServer};
use serde_json::{Value, json};
use zz_license_api::{AuditContext, CallCategory, Client, ClientBuilder};

/// The deployment path every URL lives under.
pub const ROOT: &str = "/license-api-release";
/// Test credentials generated for this project; valid nowhere.
pub const USERNAME: &str = "credkit-test-user";
pub const PASSWORD: &str = "credkit-test-password-NOT-REAL";
pub const CLIENT_ID: &str = "credkit-oauth";
pub const CLIENT_SECRET: &str = "credkit-mobile-secret-NOT-REAL";
/// `base64("credkit-oauth:credkit-mobile-secret-NOT-REAL")`, computed independently:
/// `printf 'credkit-oauth:credkit-mobile-secret-NOT-REAL' | base64 -w0`.
pub const BASIC: &str = "Basic Y3JlZGtpdC1vYXV0aDpjcmVka2l0LW1vYmlsZS1zZWNyZXQtTk9ULVJFQUw=";
/// Tokens the mock token endpoint hands out.
pub const TOKEN_1: &str = "f54922eb-62da-43df-acee-c2e7d69b0a9c";
pub const TOKEN_2: &str = "0b7e8c55-1d2f-4e0a-9a43-5bd0cbb2d8f1";
pub const REFRESH_1: &str = "bc2d74f1-88ad-42ad-af9d-12b4d57d16bf";

/// A valid resident ID number (DESIGN.md vectors) and a licence identifier.
pub const ID: &str = "321083197812162119";
pub const CERT_ID: &str = "1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8";

/// The audit context of the standard's example (4.3.2).
pub fn audit() -> AuditContext {
    AuditContext::new()
        .system_name("XXXX 服务平台")
        .call_category(CallCategory::Matter)
        .matter_name("个人参保缴费证明查询打印")
        .event_code("1137000000450258552372014020002")
        .copy_cause("个人参保缴费证明查询打印，需要用到身份证数据")
}

/// The audit fields as they must appear on the wire.
pub fn audit_wire() -> Vec<(&'static str, &'static str)> {
    vec![
        ("certificateSystemName", "XXXX 服务平台"),
        ("certificateCallCategory", "0"),
        ("certificateMatterName", "个人参保缴费证明查询打印"),
        ("certificateEventCode", "1137000000450258552372014020002"),
        (
            "certificateCopyCause",
            "个人参保缴费证明查询打印，需要用到身份证数据",
        ),
    ]
}

/// A client for `server` with the test account and audit context, client credentials by
/// HTTP Basic (what the token mocks check; the default, form fields, has its own test),
/// no retry, no rate limit, then `tweak`.
pub fn client_with(
    server: &MockServer,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    tweak(
        Client::builder()
            .base_url(format!("{}{ROOT}", server.base_url()))
            .username(USERNAME)
            .password(PASSWORD)
            .client_id(CLIENT_ID)
            .client_secret(CLIENT_SECRET)
            .client_auth(zz_license_api::ClientAuth::Basic)
            .audit(audit())
            .retry(cred_core::RetryPolicy::none())
            .rate_limit(0),
    )
    .build()
    .unwrap()
}

/// The form fields of a request, in order.
pub fn form(req: &HttpMockRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.body_ref())
        .into_owned()
        .collect()
}

/// The JSON body of a request.
pub fn body_json(req: &HttpMockRequest) -> Value {
    serde_json::from_slice(req.body_ref()).unwrap_or(Value::Null)
}

/// A JSON object of string fields.
pub fn object(fields: &[(&str, &str)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect(),
    )
}

/// The token answer of the standard (4.3.1), with `access` and `expires_in`.
pub fn token_body(access: &str, expires_in: i64) -> Value {
    json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": REFRESH_1,
        "expires_in": expires_in,
        "scope": "read write"
    })
}

/// A password-grant endpoint handing out `access`, checking the exact form and the
/// Basic header.
pub async fn password_grant<'a>(server: &'a MockServer, access: &str, expires_in: i64) -> Mock<'a> {
    let body = token_body(access, expires_in);
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("{ROOT}/oauth/token"))
                .header("authorization", BASIC)
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(|req| {
                    form(req)
                        == [
                            ("grant_type", "password"),
                            ("scope", "read write"),
                            ("username", USERNAME),
                            ("password", PASSWORD),
                        ]
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                });
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .json_body(body);
        })
        .await
}

/// A refresh-grant endpoint handing out `access`.
pub async fn refresh_grant<'a>(server: &'a MockServer, access: &str) -> Mock<'a> {
    let body = token_body(access, 43199);
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("{ROOT}/oauth/token"))
                .header("authorization", BASIC)
                .is_true(|req| {
                    form(req)
                        == [
                            ("grant_type", "refresh_token"),
                            ("refresh_token", REFRESH_1),
                        ]
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                });
            then.status(200).json_body(body);
        })
        .await
}

/// The city answer of 4.3.3 (the standard's sample).
pub fn city_licences() -> Value {
    json!({
        "head": {"message": "接口调用成功", "status": "0"},
        "data": {"total": 1, "dataList": [{
            "certificateHolder": "陈 xx",
            "certificateValidateStart": "2013 年 09 月 23 日",
            "certificateValidateEnd": "2016 年 09 月 22 日",
            "issueDept": "XX 市无线电管理处",
            "certificateName": "中国 XXXX 操作证书",
            "certificateHolderType": "111",
            "certificateNumber": "A000002576",
            "issueDeptCode": "12370400F49201558F",
            "certificateHolderCode": "37040319XXX1209",
            "detail": [],
            "issueDate": "2013 年 09 月 23 日",
            "digitalSign": "",
            "certificateType": "中国 XXXX 操作证书"
        }]}
    })
}

/// The province answer of 4.3.3 (the standard's sample).
pub fn province_licences() -> Value {
    json!({
        "head": {"message": "接口调用成功！", "type": "1", "status": "0"},
        "data": {"total": 1, "dataList": [{
            "certno": "37082619880XXXXXX",
            "gmsfhm": "37082619880XXXXXX",
            "name": "XX",
            "cert_identifier": CERT_ID
        }]}
    })
}

/// A share-interface mock at `path` that answers `body` to any request.
pub async fn share<'a>(server: &'a MockServer, path: &str, body: Value) -> Mock<'a> {
    let path = format!("{ROOT}/m/v/license/external/api/{path}");
    server
        .mock_async(|when, then| {
            when.method("POST").path(path);
            then.status(200).json_body(body);
        })
        .await
}

/// Short pause for timing-based token tests.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
