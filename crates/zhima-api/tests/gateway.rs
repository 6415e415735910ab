//! The client against a mock gateway that verifies request signatures the way Alipay
//! does (recomputing the content from what it received) and signs its answers with the
//! test "Alipay" key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::*;
use cred_core::{ApiRequest, Charged, Error, ErrorKind};
use httpmock::prelude::*;
use zhima_api::*;

fn query() -> JobworthAuthentication {
    JobworthAuthentication::new()
        .conn_key("教师 认证 001")
        .once_token("once-token-0001")
        .query_type(QueryType::Exact)
        .identity_type("04")
        .cert_no("33010219200403064X")
        .cert_type(CertType::IdCard)
}

#[tokio::test]
async fn a_signed_request_and_a_verified_answer() {
    let server = MockServer::start_async().await;
    let (ts, nonce, sig) = alipay_sign(SUCCESS);
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(PATH)
                .header("accept", "application/json")
                .header_exists("alipay-request-id")
                .is_true(gateway_accepts)
                .is_true(|req| {
                    // Chinese and spaces percent-encoded, exactly as signed.
                    req.uri().query()
                        == Some("conn_key=%E6%95%99%E5%B8%88%20%E8%AE%A4%E8%AF%81%20001&once_token=once-token-0001&query_type=exact&identity_type=04&cert_no=33010219200403064X&cert_type=0")
                })
                .is_true(|req| {
                    let auth = req.headers().get("authorization").unwrap().to_str().unwrap().to_owned();
                    let (auth, _) = split_authorization(&auth);
                    auth.starts_with("app_id=2021000000000001,nonce=") && auth.contains(",timestamp=")
                });
            then.status(200)
                .header("content-type", "application/json;charset=utf-8")
                .header("alipay-timestamp", ts)
                .header("alipay-nonce", nonce)
                .header("alipay-signature", sig)
                .header("alipay-trace-id", TRACE)
                .body(SUCCESS);
        })
        .await;
    let client = client_with(&server, |b| b);
    let answer = client.jobworth_authentication(&query()).await.unwrap();
    mock.assert_async().await;
    let r = answer.result().unwrap();
    assert_eq!(r.identity_result, Some(IdentityResult::Success));
    assert_eq!(r.token_status.as_deref(), Some("FINISH"));
    assert_eq!(r.fields["new_field"], "kept");
    assert_eq!(answer.request_id(), Some(TRACE));
    assert_eq!(answer.charged(), Charged::Yes);
    let debug = format!("{answer:?} {client:?}");
    assert!(!debug.contains("2088102910292100"), "{debug}");
    assert!(!debug.contains(&bare(APP_PRIVATE_PKCS8)[..40]), "{debug}");
}

async fn answer_with(
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: &'static str,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<cred_core::Answer<JobworthAuthenticationResult>, Error> {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.is_true(gateway_accepts);
            let mut then = then.status(status).header("alipay-trace-id", TRACE);
            for (k, v) in headers {
                then = then.header(k, v);
            }
            then.body(body);
        })
        .await;
    client_with(&server, tweak)
        .jobworth_authentication(&query())
        .await
}

fn signed(body: &str) -> Vec<(&'static str, String)> {
    signed_at(body, &cred_core::now_millis().to_string())
}

/// The signature headers of `body` with a chosen `alipay-timestamp`.
fn signed_at(body: &str, timestamp: &str) -> Vec<(&'static str, String)> {
    let (ts, nonce, sig) = alipay_sign_at(body, timestamp);
    vec![
        ("alipay-timestamp", ts),
        ("alipay-nonce", nonce),
        ("alipay-signature", sig),
    ]
}

#[tokio::test]
async fn unverifiable_answers_are_signature_errors_never_data() {
    // Signed over another body (tampered in transit).
    let err = answer_with(
        200,
        signed(r#"{"identity_result":"FAILED"}"#),
        SUCCESS,
        |b| b,
    )
    .await
    .unwrap_err();
    let Error::Signature { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("does not verify with the Alipay public key SHA256:"),
        "{message}"
    );
    assert!(message.contains(TRACE), "{message}");
    assert_eq!(err.kind(), ErrorKind::Auth);

    // No signature headers.
    let err = answer_with(200, vec![], SUCCESS, |b| b).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("without alipay-timestamp, alipay-nonce, alipay-signature"),
        "{err}"
    );

    // Signed by the wrong key (the app's own).
    let (ts, nonce, _) = alipay_sign(SUCCESS);
    let wrong = AppKey::parse(APP_PRIVATE_PKCS8)
        .unwrap()
        .sign(format!("{ts}\n{nonce}\n{SUCCESS}\n").as_bytes())
        .unwrap();
    let err = answer_with(
        200,
        vec![
            ("alipay-timestamp", ts),
            ("alipay-nonce", nonce),
            ("alipay-signature", wrong),
        ],
        SUCCESS,
        |b| b,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Signature { .. }), "{err:?}");

    // Only an explicit, loudly named switch accepts unsigned answers.
    let answer = answer_with(200, vec![], SUCCESS, |b| {
        b.dangerously_accept_unverified_responses()
    })
    .await
    .unwrap();
    assert!(answer.found());
}

#[tokio::test]
async fn error_bodies_with_links_in_both_forms_and_gbk() {
    let body = r#"{"code":"TOKEN_INVALID","message":"token 无效","links":[{"link":"https://opendocs.alipay.com/x","desc":"解决方案"}]}"#;
    let err = answer_with(400, signed(body), body, |b| b)
        .await
        .unwrap_err();
    let p = err.as_provider().unwrap();
    assert_eq!(
        (p.code.as_str(), p.kind),
        ("TOKEN_INVALID", ErrorKind::InvalidArgument)
    );
    assert_eq!(
        p.message,
        "token 无效 (see: 解决方案 <https://opendocs.alipay.com/x>)"
    );
    assert_eq!(err.request_id(), Some(TRACE));
    assert_eq!(err.charged(), Charged::No);

    let body = r#"{"code":"app-call-limited","message":"调用频次超限","links":"https://opendocs.alipay.com/common"}"#;
    let err = answer_with(429, vec![], body, |b| b).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert!(
        err.to_string()
            .contains("(see: https://opendocs.alipay.com/common)"),
        "{err}"
    );

    // A GBK body, declared as such.
    let server = MockServer::start_async().await;
    let (gbk, _, _) = encoding_rs_gbk(r#"{"code":"NOT_OPEN_ZM","message":"用户未开通芝麻"}"#);
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(400)
                .header("content-type", "application/json;charset=GBK")
                .body(gbk);
        })
        .await;
    let err = client_with(&server, |b| b)
        .jobworth_authentication(&query())
        .await
        .unwrap_err();
    let p = err.as_provider().unwrap();
    assert_eq!(
        (p.code.as_str(), p.message.as_str()),
        ("NOT_OPEN_ZM", "用户未开通芝麻")
    );

    let err = answer_with(502, vec![], "<html>502 Bad Gateway</html>", |b| b)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 502, .. }),
        "{err:?}"
    );
    let body = r#"{"code":"SYSTEM_ERROR","message":"系统繁忙"}"#;
    let err = answer_with(500, vec![], body, |b| b).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.charged()),
        (ErrorKind::Unavailable, Charged::Unknown)
    );
}

/// GBK bytes of `s`, encoded by a table-free route: the test only needs the characters
/// used above, so it asks `encoding_rs` through the crate's own dependency tree.
fn encoding_rs_gbk(s: &str) -> (Vec<u8>, (), ()) {
    let (bytes, _, _) = encoding_rs::GBK.encode(s);
    (bytes.into_owned(), (), ())
}

#[tokio::test]
async fn a_refused_request_signature_says_what_was_signed_without_secrets() {
    let body = r#"{"code":"invalid-signature","message":"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"}"#;
    let err = answer_with(401, vec![], body, |b| b).await.unwrap_err();
    let Error::Signature { message, .. } = &err else {
        panic!("{err:?}")
    };
    for needle in [
        "invalid-signature",
        "signed GET /v3/zhima/customer/jobworth/authentication?conn_key=%E6",
        "with a body of 0 bytes (sha256 e3b0c44298fc1c14)",
        "using app key SHA256:",
        TRACE,
        "app 2021000000000001",
    ] {
        assert!(message.contains(needle), "{needle} missing: {message}");
    }
    assert!(!message.contains("33010219200403064X"), "{message}");
    assert!(!message.contains("once-token-0001"), "{message}");
    assert!(
        !message.contains(&bare(APP_PRIVATE_PKCS8)[..20]),
        "{message}"
    );
}

#[test]
fn keys_are_checked_at_build_time() {
    let build = |tweak: &dyn Fn(ClientBuilder) -> ClientBuilder| {
        tweak(
            Client::builder()
                .app_id(APP_ID)
                .private_key(APP_PRIVATE_PKCS1),
        )
        .build()
    };
    let err = build(&|b| b.alipay_public_key(APP_PUBLIC)).unwrap_err();
    assert!(
        err.to_string().contains("your app's own public key"),
        "{err}"
    );
    let err = build(&|b| b.alipay_public_key("MIIBIjAN")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = build(&|b| b).unwrap_err();
    assert!(
        err.to_string().contains("ALIPAY_PUBLIC_KEY is not set"),
        "{err}"
    );
    let err = build(&|b| {
        b.private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
            .alipay_public_key(ALIPAY_PUBLIC)
    })
    .unwrap_err();
    assert!(err.to_string().contains("ALIPAY_PRIVATE_KEY"), "{err}");
    let err = build(&|b| b.alipay_public_key(ALIPAY_PUBLIC).encrypt_key("AAEC")).unwrap_err();
    assert!(err.to_string().contains("16 bytes"), "{err}");
    assert!(build(&|b| b.alipay_public_key(ALIPAY_PUBLIC)).is_ok());
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let client = client_with(&server, |b| b);
    let bad = JobworthAuthentication::new()
        .once_token("once-token-0001")
        .cert_no("33010219200403064A")
        .cert_type(CertType::IdCard);
    let err = client.jobworth_authentication(&bad).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "cert_no",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("33010219200403064"), "{err}");
    let err = client
        .jobworth_authentication(
            &JobworthAuthentication::new()
                .once_token("t")
                .user_id("2088102910292100")
                .cert_type(CertType::Passport),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "cert_no",
                ..
            }
        ),
        "{err:?}"
    );
    // A request that cannot be answered: no once_token, or nobody named (the document: the
    // member id or the ID number is to be passed).
    for (request, field) in [
        (JobworthAuthentication::new(), "once_token"),
        (
            JobworthAuthentication::new().user_id("2088102910292100"),
            "once_token",
        ),
        (JobworthAuthentication::new().once_token("t"), "user_id"),
        (
            JobworthAuthentication::new().once_token("t").conn_key("k"),
            "user_id",
        ),
    ] {
        let err = client.jobworth_authentication(&request).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: f, .. } if f == field),
            "{err:?}"
        );
    }
    for ok in [
        JobworthAuthentication::new()
            .once_token("t")
            .user_id("2088102910292100"),
        JobworthAuthentication::new()
            .once_token("t")
            .open_id("074a1CcTG1Lel"),
    ] {
        assert!(ok.validate().is_ok());
        assert!(check_reading(&ok).is_ok());
    }
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_reading_of_the_document_is_said_and_can_be_turned_off() {
    // The document marks every parameter `[optional]`; credkit reads "根据一次性token查询用户
    // 身份认证结果" and "蚂蚁统一会员ID 和身份证任选一个传入" as a once_token and one of the ids.
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v3/zhima/customer/jobworth/authentication");
            then.status(404);
        })
        .await;
    let bare = JobworthAuthentication::new().conn_key("k");
    let err = client_with(&server, |b| b)
        .jobworth_authentication(&bare)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("credkit's reading of the document"), "{text}");
    assert!(
        text.contains("根据一次性token查询用户身份认证结果"),
        "{text}"
    );
    assert!(text.contains("reading_checks(false)"), "{text}");
    let err = check_reading(&JobworthAuthentication::new().once_token("t")).unwrap_err();
    assert!(
        err.to_string()
            .contains("蚂蚁统一会员ID 和身份证任选一个传入"),
        "{err}"
    );
    mock.assert_calls_async(0).await;
    // Turned off: the request is sent as it is (what the gateway says is its answer).
    let err = client_with(&server, |b| b.reading_checks(false))
        .jobworth_authentication(&bare)
        .await
        .unwrap_err();
    assert!(!matches!(err, Error::InvalidInput { .. }), "{err:?}");
    mock.assert_calls_async(1).await;
    // A rule is checked either way: a resident ID number's check character.
    let err = client_with(&server, |b| b.reading_checks(false))
        .jobworth_authentication(
            &JobworthAuthentication::new()
                .cert_no("33010219200403064A")
                .cert_type(CertType::IdCard),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "cert_no",
                ..
            }
        ),
        "{err:?}"
    );
    mock.assert_calls_async(1).await;
}

/// A POST v3 endpoint with a body, described the way api.toml describes one.
struct Echo;
static ECHO: cred_core::Endpoint = cred_core::Endpoint::new(
    cred_core::CallSite::new("zhima", "echo"),
    "测试",
    cred_core::Method::Post,
    "/v3/test/echo",
    cred_core::Encoding::Json,
    cred_core::Billing::Free,
);
impl ApiRequest for Echo {
    type Response = serde_json::Value;
    fn endpoint(&self) -> &'static cred_core::Endpoint {
        &ECHO
    }
    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        out.push(("name", "张 三".to_owned()));
    }
    fn register_pii<'a>(&'a self, _: &mut cred_core::Redactor<'a>) {}
}

#[tokio::test]
async fn encrypted_bodies_are_encrypted_then_signed_and_verified_then_decrypted() {
    const KEY: &str = "AAECAwQFBgcICQoLDA0ODw==";
    let key = EncryptKey::parse(KEY).unwrap();
    let answer_cipher = key.encrypt(r#"{"echo":"张 三"}"#.as_bytes()).unwrap();
    let (ts, nonce, sig) = alipay_sign(&answer_cipher);
    let answer_body = answer_cipher.clone();
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v3/test/echo")
                .header("alipay-encrypt-type", "AES")
                .header("content-type", "text/plain")
                .is_true(gateway_accepts) // the signature covers the ciphertext
                .is_true(move |req| {
                    let key = EncryptKey::parse(KEY).unwrap();
                    key.decrypt(req.body_ref()).as_deref() == Some(r#"{"name":"张 三"}"#.as_bytes())
                });
            then.status(200)
                .header("alipay-timestamp", ts)
                .header("alipay-nonce", nonce)
                .header("alipay-signature", sig)
                .body(answer_body);
        })
        .await;
    let client = client_with(&server, |b| b.encrypt_key(KEY));
    let answer = client.execute(&Echo).await.unwrap();
    mock.assert_async().await;
    assert_eq!(answer.result().unwrap()["echo"], "张 三");

    // The same (verified) answer with another key: a clear decode error, no data.
    let other = MockServer::start_async().await;
    let cipher = answer_cipher.clone();
    let (ts, nonce, sig) = alipay_sign(&cipher);
    other
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("alipay-timestamp", ts)
                .header("alipay-nonce", nonce)
                .header("alipay-signature", sig)
                .body(cipher);
        })
        .await;
    let err = client_with(&other, |b| b.encrypt_key("AQECAwQFBgcICQoLDA0ODw=="))
        .execute(&Echo)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not decrypt with ALIPAY_ENCRYPT_KEY"),
        "{err}"
    );
}

#[tokio::test]
async fn certificate_mode_sends_and_checks_serial_numbers() {
    let expected = |name: &str| {
        include_str!("fixtures/expected_sn.txt")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let certificates = |b: zhima_api::ClientBuilder| {
        b.app_cert(include_str!("fixtures/app_cert.pem"))
            .alipay_cert(include_str!("fixtures/alipay_cert.pem"))
            .root_cert(include_str!("fixtures/root_bundle.pem"))
    };
    let server = MockServer::start_async().await;
    let (ts, nonce, sig) = alipay_sign(SUCCESS);
    let app_sn = expected("app_cert");
    let mock = server
        .mock_async(|when, then| {
            when.header("alipay-root-cert-sn", expected("root_cert_sn"))
                .is_true(gateway_accepts)
                .is_true(move |req| {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned();
                    auth.contains(&format!(
                        "app_id=2021000000000001,app_cert_sn={app_sn},nonce="
                    ))
                });
            then.status(200)
                .header("alipay-timestamp", ts.clone())
                .header("alipay-nonce", nonce.clone())
                .header("alipay-signature", sig.clone())
                .header("alipay-sn", expected("alipay_cert"))
                .body(SUCCESS);
        })
        .await;
    let client = certificates(
        Client::builder()
            .app_id(APP_ID)
            .private_key(APP_PRIVATE_PKCS8),
    )
    .base_url(server.base_url())
    .retry(cred_core::RetryPolicy::none())
    .build()
    .unwrap();
    assert!(
        client
            .jobworth_authentication(&query())
            .await
            .unwrap()
            .found()
    );
    mock.assert_async().await;

    // An answer naming another Alipay certificate is refused.
    let other = MockServer::start_async().await;
    other
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("alipay-timestamp", ts)
                .header("alipay-nonce", nonce)
                .header("alipay-signature", sig)
                .header("alipay-sn", "0123456789abcdef0123456789abcdef")
                .body(SUCCESS);
        })
        .await;
    let client = certificates(
        Client::builder()
            .app_id(APP_ID)
            .private_key(APP_PRIVATE_PKCS8),
    )
    .base_url(other.base_url())
    .build()
    .unwrap();
    let err = client.jobworth_authentication(&query()).await.unwrap_err();
    assert!(err.to_string().contains("rotated its certificate"), "{err}");

    // A private key that is not the app certificate's is refused at build time.
    let err = certificates(Client::builder().app_id(APP_ID).private_key(ALIPAY_PRIVATE))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("does not hold the public key"),
        "{err}"
    );
}

#[tokio::test]
async fn a_correctly_signed_but_stale_or_future_answer_is_refused() {
    let now = cred_core::now_millis();
    let year = 365 * 24 * 3600 * 1000u64;
    for (stamp, words) in [
        ((now - year).to_string(), "365 d 0 h older than"),
        ((now + 20 * 60 * 1000).to_string(), "min"),
    ] {
        let headers = signed_at(SUCCESS, &stamp);
        let err = answer_with(200, headers.clone(), SUCCESS, |b| b)
            .await
            .unwrap_err();
        let Error::Signature { message, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(message.contains(words), "{message}");
        let direction = if words == "min" {
            "ahead of"
        } else {
            "older than"
        };
        assert!(message.contains(direction), "{message}");
        assert!(message.contains("±15 min 0 s"), "{message}");
        assert!(!message.contains("2088102910292100"), "{message}");
        // A wider window, or none, accepts the same answer.
        let wide = answer_with(200, headers.clone(), SUCCESS, |b| {
            b.response_time_window(Some(std::time::Duration::from_secs(400 * 24 * 3600)))
        })
        .await;
        assert!(wide.is_ok(), "{wide:?}");
        let off = answer_with(200, headers, SUCCESS, |b| b.response_time_window(None)).await;
        assert!(off.is_ok(), "{off:?}");
    }
    // Within the window: accepted.
    let ok = answer_with(
        200,
        signed_at(SUCCESS, &(now - 60_000).to_string()),
        SUCCESS,
        |b| b,
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    // Not a number: refused, the check cannot be made.
    let err = answer_with(200, signed_at(SUCCESS, "yesterday"), SUCCESS, |b| b)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a number of milliseconds"),
        "{err}"
    );
}
