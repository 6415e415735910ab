//! The Alipay v3 emulation: request-signature checks and signed answers, through the
//! real SDK and raw.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_core::{Error, ErrorKind, RetryPolicy};
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::*;
use cred_sandbox::zhima::{MAGIC, Outcome, PATH};
use zhima_api::signer::{auth_string, sign_request};
use zhima_api::{AppKey, CertType, Client, ClientBuilder, IdentityResult, JobworthAuthentication};

fn sdk(sandbox: &Sandbox, tweak: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    tweak(
        Client::builder()
            .app_id(ALIPAY_APP_ID)
            .private_key(ALIPAY_APP_PRIVATE_KEY)
            .alipay_public_key(ALIPAY_PUBLIC_KEY)
            .base_url(sandbox.base_url())
            .retry(RetryPolicy::none()),
    )
    .build()
    .unwrap()
}

fn query(token: &str) -> JobworthAuthentication {
    JobworthAuthentication::new()
        .once_token(token)
        .conn_key("教师 认证 001")
        .identity_type("04")
        .cert_no("33010219200403064X")
        .cert_type(CertType::IdCard)
}

#[tokio::test]
async fn a_signed_query_gets_a_verified_answer() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = sdk(&sandbox, |b| b)
        .jobworth_authentication(&query("any-token"))
        .await
        .unwrap();
    let r = answer.result().unwrap();
    assert_eq!(r.identity_result, Some(IdentityResult::Success));
    assert_eq!(answer.request_id().map(str::len), Some(30));
}

#[tokio::test]
async fn every_magic_token_through_the_sdk() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    for m in MAGIC {
        let result = client.jobworth_authentication(&query(m.once_token)).await;
        match m.outcome {
            Outcome::Error(_, code, _) => {
                let err = result.unwrap_err();
                assert_eq!(err.code().as_deref(), Some(code), "{}", m.once_token);
                assert!(err.request_id().is_some());
            }
            Outcome::Identity(value) => {
                let answer = result.unwrap();
                assert_eq!(
                    answer
                        .result()
                        .unwrap()
                        .identity_result
                        .as_ref()
                        .unwrap()
                        .as_str(),
                    value
                );
            }
            Outcome::BadSignature => {
                assert!(matches!(result, Err(Error::Signature { .. })), "{result:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_and_explained() {
    let sandbox = Sandbox::start().await.unwrap();
    // A key generated now: not the one whose public half the sandbox holds.
    let err = sdk(&sandbox, |b| b.private_key(fresh_key()))
        .jobworth_authentication(&query("t"))
        .await
        .unwrap_err();
    let Error::Signature { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("invalid-signature") && message.contains("signed GET /v3/zhima"),
        "{message}"
    );
    assert!(!message.contains("33010219200403064X"), "{message}");
    assert_eq!(err.kind(), ErrorKind::Auth);

    let err = sdk(&sandbox, |b| b.app_id("2021000000009999"))
        .jobworth_authentication(&query("t"))
        .await
        .unwrap_err();
    assert_eq!(err.code().as_deref(), Some("invalid-app-id"));
}

#[tokio::test]
async fn raw_requests_are_checked_like_the_gateway() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}{PATH}?once_token=x", sandbox.base_url());
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers().contains_key("alipay-signature"),
        "errors are signed too"
    );

    let key = AppKey::parse(ALIPAY_APP_PRIVATE_KEY).unwrap();
    let stale = auth_string(
        ALIPAY_APP_ID,
        None,
        "n1",
        cred_core::now_millis() - 3_600_000,
    );
    let header = sign_request(
        &key,
        &stale,
        "GET",
        &format!("{PATH}?once_token=x"),
        "",
        None,
    )
    .unwrap();
    let r = http
        .get(&url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "invalid-timestamp");

    // Signed over one query, sent with another: refused.
    let fresh = auth_string(ALIPAY_APP_ID, None, "n2", cred_core::now_millis());
    let header = sign_request(
        &key,
        &fresh,
        "GET",
        &format!("{PATH}?once_token=y"),
        "",
        None,
    )
    .unwrap();
    let r = http
        .get(&url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "invalid-signature");
}

/// A new RSA-2048 private key, PKCS#8 base64.
fn fresh_key() -> String {
    use aws_lc_rs::encoding::AsDer;
    use base64::Engine as _;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
    base64::engine::general_purpose::STANDARD.encode(der.as_ref())
}

#[test]
fn the_readme_documents_every_magic_token() {
    let readme = include_str!("../README.md");
    for m in MAGIC {
        assert!(
            readme.contains(m.once_token),
            "README lacks {}",
            m.once_token
        );
    }
    assert!(readme.contains(ALIPAY_APP_ID));
}

#[tokio::test]
async fn a_final_result_is_answered_once_per_once_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    let first = client.jobworth_authentication(&query("once-only-1")).await;
    assert_eq!(
        first.unwrap().result().unwrap().identity_result,
        Some(IdentityResult::Success)
    );
    let again = client
        .jobworth_authentication(&query("once-only-1"))
        .await
        .unwrap_err();
    assert_eq!(again.code().as_deref(), Some("TOKEN_INVALID"), "{again}");
    // A result that is not final yet may be asked again.
    for _ in 0..2 {
        let waiting = client
            .jobworth_authentication(&query("SANDBOX-WAITING"))
            .await
            .unwrap();
        assert_eq!(
            waiting.result().unwrap().identity_result,
            Some(IdentityResult::WaitingVerify)
        );
    }
    // Another token is answered.
    assert!(
        client
            .jobworth_authentication(&query("once-only-2"))
            .await
            .is_ok()
    );
}
