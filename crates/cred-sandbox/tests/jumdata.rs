//! The Jumdata emulation: refuses what the provider refuses, answers what it answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use cred_core::{Charged, Error, ErrorKind, RetryPolicy};
use cred_sandbox::Behaviour;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use cred_sandbox::jumdata::MAGIC;
use cred_sandbox::{Sandbox, SandboxConfig};
use jumdata_api::{Client, CredentialQuery, IdcardCheck};
use serde_json::Value;

const NAME: &str = "王小明";
const ID: &str = "321083197812162119";

fn sdk(sandbox: &Sandbox) -> Client {
    Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Posts a raw form, signed with `secret` at `ts`, and returns the JSON answer.
async fn raw_post(sandbox: &Sandbox, app_id: &str, secret: &str, ts: u64, idcard: &str) -> Value {
    let sign = jumdata_api::sign(app_id, secret, ts);
    let body = format!(
        "appId={app_id}&timestamp={ts}&sign={sign}&name=%E7%8E%8B%E5%B0%8F%E6%98%8E&idcard={idcard}"
    );
    reqwest::Client::new()
        .post(format!("{}/credential/query", sandbox.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_correctly_signed_query_gets_the_fixture_certificates() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = sdk(&sandbox)
        .credential_query(&CredentialQuery::new(NAME, ID))
        .await
        .unwrap();
    assert!(answer.found());
    assert_eq!(answer.charged(), Charged::Yes);
    assert_eq!(answer.request_id().map(str::len), Some(20));
    let items = &answer.result().unwrap().items;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].occupation.as_deref(), Some("电器计量工"));
    assert_eq!(
        items[1].issuing_time.as_ref().unwrap().to_string(),
        "2019-05-18"
    );
    assert_eq!(sandbox.requests(), 1);
}

#[tokio::test]
async fn a_certificate_number_narrows_the_answer() {
    let sandbox = Sandbox::start().await.unwrap();
    let c = sdk(&sandbox);
    let one = c
        .credential_query(&CredentialQuery::new(NAME, ID).certificate_no("1631003009400321"))
        .await
        .unwrap();
    assert_eq!(one.result().unwrap().items.len(), 1);
    let none = c
        .credential_query(&CredentialQuery::new(NAME, ID).certificate_no("999"))
        .await
        .unwrap();
    assert!(!none.found());
    assert_eq!(none.charged(), Charged::No);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_as_a_bad_signature() {
    let sandbox = Sandbox::start().await.unwrap();
    let raw = raw_post(&sandbox, JUMDATA_APP_ID, "wrong-secret", now_ms(), ID).await;
    assert_eq!(raw, serde_json::json!({"msg": "签名错误", "code": 400}));

    let wrong = Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret("wrong-secret")
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let err = wrong
        .credential_query(&CredentialQuery::new(NAME, ID))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    for ts in [now_ms() - 11 * 60 * 1000, now_ms() + 11 * 60 * 1000] {
        let raw = raw_post(&sandbox, JUMDATA_APP_ID, JUMDATA_APP_SECRET, ts, ID).await;
        assert_eq!(raw["code"], 400);
        assert_eq!(raw["msg"], "timestamp已过期,请校准时间");
    }
    // Within the window it passes.
    let raw = raw_post(
        &sandbox,
        JUMDATA_APP_ID,
        JUMDATA_APP_SECRET,
        now_ms() - 60_000,
        ID,
    )
    .await;
    assert_eq!(raw["code"], 200);

    // The SDK with a skewed clock sees an auth error.
    let skewed = Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .clock(|| now_ms() - 3_600_000)
        .build()
        .unwrap();
    let err = skewed
        .credential_query(&CredentialQuery::new(NAME, ID))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn unknown_app_missing_parameters_and_bad_id_format_are_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    let raw = raw_post(&sandbox, "someone-else", JUMDATA_APP_SECRET, now_ms(), ID).await;
    assert_eq!(raw["msg"], "appId不存在");
    let raw = raw_post(
        &sandbox,
        JUMDATA_APP_ID,
        JUMDATA_APP_SECRET,
        now_ms(),
        "12345",
    )
    .await;
    assert_eq!(
        raw,
        serde_json::json!({"msg": "身份证格式不正确", "code": 400})
    );
    let raw: Value = reqwest::Client::new()
        .post(format!("{}/credential/query", sandbox.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(raw["msg"], "缺少参数appId");
}

#[tokio::test]
async fn get_with_query_parameters_is_accepted_too() {
    let sandbox = Sandbox::start().await.unwrap();
    let ts = now_ms();
    let sign = jumdata_api::sign(JUMDATA_APP_ID, JUMDATA_APP_SECRET, ts);
    let raw: Value = reqwest::Client::new()
        .get(format!(
            "{}/credential/query?appId={JUMDATA_APP_ID}&timestamp={ts}&sign={sign}&name=%E7%8E%8B&idcard={ID}",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(raw["code"], 200);
    assert_eq!(raw["data"]["count"], 2);
}

#[tokio::test]
async fn every_magic_input_reaches_its_error_family() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_secs(4),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = sdk(&sandbox); // 2 s timeout
    for m in MAGIC {
        let result = c
            .credential_query(&CredentialQuery::new(NAME, m.idcard))
            .await;
        match (m.behaviour, result) {
            (Behaviour::NoRecord, Ok(a)) => {
                assert!(!a.found());
                assert_eq!(a.charged(), Charged::No);
            }
            (Behaviour::Code(code, msg), Err(Error::Provider(p))) => {
                assert_eq!(p.code, code.to_string());
                // The provider's words, then (for credential errors) what to check.
                assert!(p.message.starts_with(msg), "{}: {}", p.message, msg);
            }
            (Behaviour::Truncated, Err(Error::Decode { reason, .. })) => {
                assert!(reason.contains("malformed JSON"), "{reason}")
            }
            (Behaviour::HtmlBadGateway, Err(Error::HttpStatus { status: 502, .. })) => {}
            (Behaviour::Slow, Err(Error::Timeout { .. })) => {}
            (b, other) => panic!("{}: {b:?} gave {other:?}", m.idcard),
        }
    }
    for (id, kind) in [
        ("11010119900307002X", ErrorKind::InsufficientBalance),
        ("110101199003070038", ErrorKind::Throttled),
        ("110101199003070062", ErrorKind::Auth),
        ("110101199003070054", ErrorKind::Unavailable),
    ] {
        let err = c
            .credential_query(&CredentialQuery::new(NAME, id))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{id}");
    }
}

#[tokio::test]
async fn codes_whose_billing_the_document_leaves_open_are_never_retried() {
    // The document's code table gives 610 (请求超时) and 999 (其他,以实际返回为准) without
    // saying whether they are charged ("charge: 计费标志 true - 计费,false - 不计费" is all
    // it says of the flag): the sandbox sends no `charge` flag for them, the SDK counts
    // them possibly charged, and a retrying client sends them once.
    let sandbox = Sandbox::start().await.unwrap();
    let c = Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .retry(
            cred_core::RetryPolicy::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .rate_limit(0)
        .build()
        .unwrap();
    for (id, code) in [("110101199003070097", "610"), ("110101199003070134", "999")] {
        let before = sandbox.requests();
        let err = c
            .credential_query(&CredentialQuery::new(NAME, id))
            .await
            .unwrap_err();
        assert_eq!(err.code().as_deref(), Some(code));
        assert_eq!(err.charged(), Charged::Unknown, "{code}");
        assert_eq!(
            sandbox.requests() - before,
            1,
            "{code}: sent once, not retried"
        );
    }
    // A code the document does not bill (609: too frequent) is retried: nothing was paid.
    let before = sandbox.requests();
    let err = c
        .credential_query(&CredentialQuery::new(NAME, "110101199003070038"))
        .await
        .unwrap_err();
    assert_eq!(err.charged(), Charged::No);
    assert_eq!(sandbox.requests() - before, 3);
}

#[tokio::test]
async fn idcard_check_answers_from_the_id_number() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = sdk(&sandbox)
        .idcard_check(&IdcardCheck::new(NAME, "33010219200403064X"))
        .await
        .unwrap();
    let r = answer.result().unwrap();
    assert_eq!(r.result, Some(0));
    assert_eq!(r.sex.as_deref(), Some("女"));
    assert_eq!(r.birthday.as_ref().unwrap().to_string(), "1920-04-03");
}

#[test]
fn the_readme_lists_every_magic_input() {
    let readme = include_str!("../README.md");
    for m in MAGIC {
        assert!(readme.contains(m.idcard), "README lacks {}", m.idcard);
    }
    assert!(readme.contains(JUMDATA_APP_ID) && readme.contains(JUMDATA_APP_SECRET));
}
