//! Known answers: request signatures and response verification against values computed
//! with `openssl dgst -sha256 -sign` (commands in fixtures/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::*;
use zhima_api::signer::{auth_string, authorization, encode_query, sign_content};
use zhima_api::{AlipayPublicKey, AppKey};

const KAT_CONTENT: &str = include_str!("fixtures/kat_sign_string.txt");
const KAT_SIGNATURE: &str = include_str!("fixtures/kat_signature.b64");

fn kat_path() -> String {
    let query = encode_query(&[
        ("conn_key", "教师 认证 001".to_owned()),
        ("query_type", "exact".to_owned()),
        ("identity_type", "04".to_owned()),
        ("cert_no", "33010219200403064X".to_owned()),
        ("cert_type", "0".to_owned()),
    ]);
    format!("{PATH}?{query}")
}

#[test]
fn the_content_to_sign_is_byte_identical_to_the_reference() {
    let auth = auth_string(APP_ID, None, "credkit-kat-nonce-0001", 1_700_000_000_000);
    let content = sign_content(&auth, "GET", &kat_path(), "", None);
    assert_eq!(content, KAT_CONTENT);
}

#[test]
fn signatures_match_openssl_for_every_key_form() {
    for key in [
        APP_PRIVATE_PKCS8.to_owned(),
        APP_PRIVATE_PKCS1.to_owned(),
        bare(APP_PRIVATE_PKCS8),
        bare(APP_PRIVATE_PKCS1),
    ] {
        let key = AppKey::parse(&key).unwrap();
        assert_eq!(
            key.sign(KAT_CONTENT.as_bytes()).unwrap(),
            KAT_SIGNATURE.trim()
        );
    }
    let auth = auth_string(APP_ID, None, "credkit-kat-nonce-0001", 1_700_000_000_000);
    assert_eq!(
        authorization(&auth, KAT_SIGNATURE.trim()),
        format!(
            "ALIPAY-SHA256withRSA app_id=2021000000000001,nonce=credkit-kat-nonce-0001,timestamp=1700000000000,sign={}",
            KAT_SIGNATURE.trim()
        )
    );
}

#[test]
fn response_signatures_verify_and_tampering_does_not() {
    let content = include_str!("fixtures/kat_response_content.txt");
    let signature = include_str!("fixtures/kat_response_signature.b64");
    let alipay = AlipayPublicKey::parse(ALIPAY_PUBLIC).unwrap();
    assert!(alipay.verify(content.as_bytes(), signature));
    assert!(!alipay.verify(bare(ALIPAY_PUBLIC).as_bytes(), signature));
    let tampered = content.replace("SUCCESS", "SUCCESS ");
    assert!(!alipay.verify(tampered.as_bytes(), signature));
    let app = AlipayPublicKey::parse(APP_PUBLIC).unwrap();
    assert!(!app.verify(content.as_bytes(), signature), "wrong key");
    assert!(!alipay.verify(content.as_bytes(), "not base64!"));
}
