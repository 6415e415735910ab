//! Property tests of every provider's envelope decoder and the licence platform's
//! token-answer decoder: arbitrary bytes and arbitrary JSON (shaped like each envelope,
//! with personal data and secrets planted in it) never panic, and no planted value comes
//! out unmasked in an error message or `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use bytes::Bytes;
use cred_core::{Endpoint, Error, Pii, RawResponse, Redactor};
use proptest::prelude::*;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

const NAME: &str = "王小明";
const ID: &str = "321083197812162119";
const SECRET: &str = "credkit-prop-secret-NOT-REAL";
const TOKEN: &str = "credkit-prop-token-0001";

/// Field names of the four envelopes and the token answer, so generated objects hit the
/// decoders' real paths.
const KEYS: &[&str] = &[
    "code",
    "msg",
    "taskNo",
    "charge",
    "success",
    "data",
    "reason",
    "result",
    "error_code",
    "sign",
    "head",
    "status",
    "message",
    "type",
    "total",
    "dataList",
    "links",
    "link",
    "desc",
    "identity_result",
    "user_id",
    "access_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "error",
    "error_description",
    "scope",
    "items",
    "count",
    "certificateNo",
    "verifyResult",
    "fileUrl",
];

/// Values planted in generated bodies; none may come out unmasked.
fn planted() -> Vec<String> {
    vec![
        NAME.to_owned(),
        ID.to_owned(),
        SECRET.to_owned(),
        TOKEN.to_owned(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        prop_oneof![
            Just("200".to_owned()),
            Just("0".to_owned()),
            Just("701".to_owned()),
            Just("260204".to_owned()),
            Just("10".to_owned()),
            Just("bearer".to_owned()),
            Just(NAME.to_owned()),
            Just(ID.to_owned()),
            Just(SECRET.to_owned()),
            Just(TOKEN.to_owned()),
            Just(format!("名字 {NAME} 身份证 {ID} key={SECRET}")),
            any::<String>(),
        ]
        .prop_map(Value::String),
        (0i64..1000).prop_map(|n| json!(n)),
    ]
}

/// An object key: mostly the envelopes' own, sometimes planted data.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => Just(NAME.to_owned()),
        1 => Just(SECRET.to_owned()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k, v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// A body: JSON (maybe cut short), or arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (value(), any::<prop::sample::Index>(), any::<bool>()).prop_map(|(v, cut, truncate)| {
            let text = v.to_string().into_bytes();
            if truncate && !text.is_empty() {
                let at = cut.index(text.len());
                text[..at].to_vec()
            } else {
                text
            }
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => Just(format!("<html><body>{NAME} {ID} {SECRET}</body></html>").into_bytes()),
    ]
}

fn raw(status: u16, body: Vec<u8>) -> RawResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("alipay-trace-id", HeaderValue::from_static("trace-prop-1"));
    RawResponse::new(status, headers, Bytes::from(body))
}

fn redactor() -> Redactor<'static> {
    let mut r = Redactor::new();
    r.pii(Pii::Name, NAME)
        .pii(Pii::IdNumber, ID)
        .secret(SECRET)
        .secret(TOKEN);
    r
}

fn assert_clean<T: std::fmt::Debug>(result: &Result<T, Error>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let text = format!("{e} {e:?}");
        for value in planted() {
            prop_assert!(!text.contains(&value), "`{value}` in {text}");
        }
    }
    Ok(())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(400),
        Just(401),
        Just(404),
        Just(500),
        100u16..600
    ]
}

fn decode_all(status: u16, body: Vec<u8>) -> Result<(), TestCaseError> {
    let r = redactor();
    let raw = raw(status, body);
    let jd = |e: &'static Endpoint| e;
    assert_clean(&jumdata_api::decode_envelope::<
        jumdata_api::CredentialQueryResult,
    >(jd(&jumdata_api::CREDENTIAL_QUERY), &raw, &r))?;
    assert_clean(&jumdata_api::decode_envelope::<
        jumdata_api::IdcardCheckResult,
    >(&jumdata_api::IDCARD_CHECK, &raw, &r))?;
    assert_clean(&juhe_api::decode_envelope::<juhe_api::QualificationResult>(
        &juhe_api::CON_LIC_BY_NAME,
        &raw,
        &r,
    ))?;
    assert_clean(&juhe_api::decode_envelope::<
        juhe_api::AdministrativeLicenseResult,
    >(
        &juhe_api::ADMINISTRATIVE_LICENSE_LIST_BY_NAME, &raw, &r
    ))?;
    assert_clean(
        &zz_license_api::decode_envelope::<zz_license_api::Licences>(
            &zz_license_api::SHARE_QUERY_CERT_INFO,
            &raw,
            &r,
        ),
    )?;
    assert_clean(&zz_license_api::decode_envelope::<
        zz_license_api::DownloadLinks,
    >(&zz_license_api::SHARE_DOWNLOAD_URL, &raw, &r))?;
    assert_clean(&zz_license_api::decode_envelope::<
        zz_license_api::DataVerification,
    >(&zz_license_api::SHARE_VERIFY_CERT_INFO, &raw, &r))?;
    assert_clean(&zz_license_api::decode_envelope::<
        zz_license_api::FileVerification,
    >(&zz_license_api::SHARE_VERIFY_CERT_FILE, &raw, &r))?;
    assert_clean(
        &zz_license_api::decode_envelope::<zz_license_api::QrLicence>(
            &zz_license_api::SHARE_QUERY_CERT_INFO_BY_QRCODE,
            &raw,
            &r,
        ),
    )?;
    assert_clean(&zhima_api::decode_envelope::<
        zhima_api::JobworthAuthenticationResult,
    >(&zhima_api::JOBWORTH_AUTHENTICATION, &raw, &r))?;
    // The token answer knows nothing planted here but its own fields (next test).
    let _ = zz_license_api::check_token_answer(&raw);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn decoders_never_panic_nor_leak(status in status(), body in body()) {
        decode_all(status, body)?;
    }

    #[test]
    fn token_answers_with_any_expires_in(expires_in in leaf(), extra in value()) {
        let body = json!({
            "access_token": TOKEN,
            "token_type": "bearer",
            "refresh_token": SECRET,
            "expires_in": expires_in,
            "extra": extra,
        })
        .to_string();
        let result = zz_license_api::check_token_answer(&raw(200, body.clone().into_bytes()));
        assert_clean(&result)?;
        if let Ok(lifetime) = result {
            prop_assert!(lifetime <= zz_license_api::MAX_TOKEN_LIFETIME);
        }
        // Cut anywhere: still no panic, still no token.
        for cut in [body.len() / 3, body.len() / 2, body.len() - 1] {
            assert_clean(&zz_license_api::check_token_answer(&raw(200, body.as_bytes()[..cut].to_vec())))?;
        }
    }
}

/// Strings a user might type, with hostile characters mixed in.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9０-９XxＸ王é ]{14,20}",
        "[0-9A-Z]{16,19}",
        "1\\.2\\.156\\.3005\\.2\\.[0-9A-Z王.]{0,60}",
        "[\\p{Han}·• ]{0,60}",
        "[0-9]{0,4}",
    ]
}

fn refused_without_quoting(result: Result<(), Error>, input: &str) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        prop_assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        let v = input.trim();
        // The messages' own constant text (the licence-identifier prefix) is not a quote.
        let text = format!("{e} {e:?}").replace(cred_core::validate::LICENSE_ID_PREFIX, "");
        if v.chars().count() >= 4 {
            prop_assert!(!text.contains(v), "`{v}` quoted in {text}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn request_validation_never_panics_nor_quotes_the_input(a in input(), b in input()) {
        use cred_core::ApiRequest;
        use std::str::FromStr;
        refused_without_quoting(jumdata_api::CredentialQuery::new(a.as_str(), b.as_str()).validate(), &a)?;
        refused_without_quoting(jumdata_api::CredentialQuery::new(a.as_str(), b.as_str()).validate(), &b)?;
        refused_without_quoting(juhe_api::ConLicByName::new(a.as_str()).validate(), &a)?;
        refused_without_quoting(zz_license_api::ShareQueryCertInfo::new(a.as_str()).validate(), &a)?;
        for kind in ["111", "001", "999", "414"] {
            let kind = zz_license_api::HolderCodeType::from_str(kind).unwrap();
            refused_without_quoting(zz_license_api::check_holder_code(&kind, &a), &a)?;
        }
        let _ = zz_license_api::HolderCodeType::from_str(&a);
        let _ = zz_license_api::CallCategory::from_str(&a);
        let _ = zz_license_api::ClientAuth::from_str(&a);
        let _ = zhima_api::QueryType::from_str(&a);
        let query = zhima_api::JobworthAuthentication::new()
            .cert_no(a.as_str())
            .cert_type(zhima_api::CertType::IdCard)
            .once_token(b.as_str());
        refused_without_quoting(query.validate(), &a)?;
    }
}
