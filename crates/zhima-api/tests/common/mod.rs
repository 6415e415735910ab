//! Shared fixtures: the project's test keys and a mock Alipay gateway's helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use httpmock::{HttpMockRequest, MockServer};
use zhima_api::{AlipayPublicKey, AppKey, Client, ClientBuilder};

/// Test keys generated for this project with openssl (see fixtures/README.md).
pub const APP_PRIVATE_PKCS8: &str = include_str!("../fixtures/app_private_pkcs8.pem");
pub const APP_PRIVATE_PKCS1: &str = include_str!("../fixtures/app_private_pkcs1.pem");
pub const APP_PUBLIC: &str = include_str!("../fixtures/app_public.pem");
pub const ALIPAY_PRIVATE: &str = include_str!("../fixtures/alipay_private.pem");
pub const ALIPAY_PUBLIC: &str = include_str!("../fixtures/alipay_public.pem");
pub const APP_ID: &str = "2021000000000001";
pub const PATH: &str = "/v3/zhima/customer/jobworth/authentication";
pub const TRACE: &str = "0b8e4f0a17000000001234567";

/// The PEM body only (Alipay's consoles show keys as bare base64).
pub fn bare(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// A client for `server` with the test keys, no retry, no rate limit, then `tweak`.
pub fn client_with(
    server: &MockServer,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    tweak(
        Client::builder()
            .app_id(APP_ID)
            .private_key(APP_PRIVATE_PKCS8)
            .alipay_public_key(bare(ALIPAY_PUBLIC))
            .base_url(server.base_url())
            .retry(cred_core::RetryPolicy::none())
            .rate_limit(0),
    )
    .build()
    .unwrap()
}

/// The parts of an `authorization: ALIPAY-SHA256withRSA <auth>,sign=<sig>` header.
pub fn split_authorization(value: &str) -> (String, String) {
    let rest = value.strip_prefix("ALIPAY-SHA256withRSA ").unwrap();
    let (auth, sign) = rest.rsplit_once(",sign=").unwrap();
    (auth.to_owned(), sign.to_owned())
}

/// What the gateway does: rebuilds the content from the request it received and
/// verifies the signature with the app's public key.
pub fn gateway_accepts(req: &HttpMockRequest) -> bool {
    let headers = req.headers();
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (auth, sign) = split_authorization(value);
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let body = String::from_utf8(req.body_ref().to_vec()).unwrap();
    let mut content = format!("{auth}\n{}\n{path_and_query}\n{body}\n", req.method_str());
    if let Some(t) = headers
        .get("alipay-app-auth-token")
        .and_then(|v| v.to_str().ok())
    {
        content.push_str(t);
        content.push('\n');
    }
    AlipayPublicKey::parse(APP_PUBLIC)
        .unwrap()
        .verify(content.as_bytes(), &sign)
}

/// Signs a response body as the test "Alipay" key: (timestamp, nonce, signature).
pub fn alipay_sign(body: &str) -> (String, String, String) {
    alipay_sign_at(body, &cred_core::now_millis().to_string())
}

/// [`alipay_sign`] with a chosen `alipay-timestamp`.
pub fn alipay_sign_at(body: &str, timestamp: &str) -> (String, String, String) {
    let timestamp = timestamp.to_owned();
    let nonce = "credkit-resp-nonce-0001".to_owned();
    let content = format!("{timestamp}\n{nonce}\n{body}\n");
    let sig = AppKey::parse(ALIPAY_PRIVATE)
        .unwrap()
        .sign(content.as_bytes())
        .unwrap();
    (timestamp, nonce, sig)
}

/// The success body used by the tests.
pub const SUCCESS: &str = r#"{"identity_result":"SUCCESS","merchant_identity_id":"m-001","token_status":"FINISH","user_id":"2088102910292100","new_field":"kept"}"#;
