//! The Juhe emulation: key check, envelope, magic inputs, through the real SDK and raw.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use cred_core::{Charged, Error, ErrorKind, RetryPolicy};
use cred_sandbox::credentials::JUHE_KEY;
use cred_sandbox::juhe::MAGIC;
use cred_sandbox::{Behaviour, Sandbox, SandboxConfig};
use juhe_api::{Client, ConLicByName};
use serde_json::Value;

const COMPANY: &str = "河南省建筑科学研究院有限公司";

fn sdk(sandbox: &Sandbox, key: &str) -> Client {
    Client::builder()
        .key(key)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

async fn raw(sandbox: &Sandbox, form: &str) -> Value {
    let body = reqwest::Client::new()
        .post(format!(
            "{}/enterprise/App/ConLicByName/query",
            sandbox.base_url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn the_right_key_gets_the_fixture_qualifications() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = sdk(&sandbox, JUHE_KEY)
        .con_lic_by_name(&ConLicByName::new(COMPANY))
        .await
        .unwrap();
    assert_eq!(answer.charged(), Charged::Yes);
    assert_eq!(answer.meta().attribute("sign").map(str::len), Some(32));
    let r = answer.result().unwrap();
    assert_eq!(r.total, Some(2));
    assert_eq!(r.items[0].lic_no.as_deref(), Some("B241001611"));
    assert_eq!(r.items[1].validity_end.as_ref().unwrap().raw(), "长期");
    // A valid credit code is accepted too.
    assert!(
        sdk(&sandbox, JUHE_KEY)
            .con_lic_by_name(&ConLicByName::new("91310110666007217T"))
            .await
            .unwrap()
            .found()
    );
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_10001() {
    let sandbox = Sandbox::start().await.unwrap();
    let err = sdk(&sandbox, "some-other-key")
        .con_lic_by_name(&ConLicByName::new(COMPANY))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code().as_deref(), Some("10001"));
    let v = raw(&sandbox, "name=x").await;
    assert_eq!(v["error_code"], 10001);
    assert_eq!(v["reason"], "错误的请求KEY");
}

#[tokio::test]
async fn missing_and_malformed_names_are_service_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let v = raw(&sandbox, &format!("key={JUHE_KEY}")).await;
    assert_eq!(
        (v["error_code"].as_u64(), v["reason"].as_str()),
        (Some(260201), Some("参数缺失"))
    );
    let v = raw(&sandbox, &format!("key={JUHE_KEY}&name=91310110666007217A")).await;
    assert_eq!(v["error_code"], 260202);
    // GET with the key in the query string (as the document's example) works as well.
    let body = reqwest::get(format!(
        "{}/enterprise/App/ConLicByName/query.php?key={JUHE_KEY}&name=%E6%B2%B3%E5%8D%97",
        sandbox.base_url()
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error_code"], 0);
}

#[tokio::test]
async fn every_magic_name_reaches_its_family() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_secs(4),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = sdk(&sandbox, JUHE_KEY);
    for m in MAGIC {
        let result = c.con_lic_by_name(&ConLicByName::new(m.name)).await;
        match (m.behaviour, result) {
            (Behaviour::NoRecord, Ok(a)) => assert!(!a.found()),
            (Behaviour::Code(code, reason), Err(Error::Provider(p))) => {
                assert_eq!(p.code, code.to_string());
                assert_eq!(p.message, reason);
            }
            (Behaviour::Truncated, Err(Error::Decode { .. })) => {}
            (Behaviour::HtmlBadGateway, Err(Error::HttpStatus { status: 502, .. })) => {}
            (Behaviour::Slow, Err(Error::Timeout { .. })) => {}
            (b, other) => panic!("{}: {b:?} gave {other:?}", m.name),
        }
    }
}

#[test]
fn the_readme_lists_every_magic_name() {
    let readme = include_str!("../README.md");
    for m in MAGIC {
        assert!(readme.contains(m.name), "README lacks {}", m.name);
    }
    assert!(readme.contains(JUHE_KEY));
}

#[tokio::test]
async fn administrative_licences_have_their_route() {
    use juhe_api::AdministrativeLicenseListByName;
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, JUHE_KEY);
    let answer = client
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(COMPANY))
        .await
        .unwrap();
    let page = answer.result().unwrap();
    assert_eq!((page.total, page.num), (Some(2), Some(2)));
    assert_eq!(answer.charged(), Charged::Yes);
    let skipped = client
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(COMPANY).skip(1))
        .await
        .unwrap();
    assert_eq!(skipped.result().unwrap().items.len(), 1);
    // Same key check and magic names as every Juhe API.
    let err = sdk(&sandbox, "wrong-key")
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(COMPANY))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let err = client
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(
            "测试额度有限公司",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
}
