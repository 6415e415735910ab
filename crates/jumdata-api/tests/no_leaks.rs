//! No secret and no personal data in `Debug`, error messages or logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Duration;

use common::*;
use cred_core::Error;
use jumdata_api::{Client, Config, CredentialQuery};

#[test]
fn debug_of_config_client_builder_and_request_is_masked() {
    let config = Config::new()
        .with_app_id(APP_ID)
        .with_app_secret(APP_SECRET);
    let client = Client::builder().config(config.clone()).build().unwrap();
    let builder = Client::builder().config(config.clone());
    let request = CredentialQuery::new(NAME, ID_NUMBER).certificate_no("1370001234565448");
    for text in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{builder:?}"),
        format!("{request:?}"),
        format!("{request:#?}"),
    ] {
        assert_clean(&text);
        assert!(!text.contains("1370001234565448"), "{text}");
    }
    assert!(format!("{request:?}").contains("3210**********2119"));
    assert!(format!("{request:?}").contains("王**"));
    assert!(format!("{client:?}").contains(APP_ID));
}

async fn error_for(body: &'static str, status: u16, delay: Option<Duration>) -> Error {
    let short = |b: jumdata_api::ClientBuilder| b.timeout(Duration::from_millis(300));
    answer_with(status, body, delay, short).await.0.unwrap_err()
}

#[tokio::test]
async fn every_error_message_is_free_of_secret_and_personal_data() {
    let echo = r#"{"code": 400, "msg": "身份证号321083197812162119与姓名王小明不匹配 credkit-test-secret-not-real"}"#;
    let html_echo = "<html><body>Bad Gateway: name=王小明&idcard=321083197812162119&secret=credkit-test-secret-not-real</body></html>";
    let mut errors = vec![
        error_for(echo, 200, None).await,
        error_for(html_echo, 502, None).await,
        error_for(html_echo, 200, None).await,
        error_for(
            r#"{"code": 200, "data": {"count": "王小明 321083197812162119"}}"#,
            200,
            None,
        )
        .await,
        error_for(r#"{"code": 200, "msg": "321083197812162119"#, 200, None).await,
        error_for(r#"{"code": 200}"#, 200, Some(Duration::from_secs(2))).await,
    ];
    let unreachable = Client::builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .base_url("http://127.0.0.1:9")
        .retry(cred_core::RetryPolicy::none())
        .build()
        .unwrap();
    errors.push(
        unreachable
            .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
            .await
            .unwrap_err(),
    );
    errors.push(
        unreachable
            .credential_query(&CredentialQuery::new(NAME, "321083197812162118"))
            .await
            .unwrap_err(),
    );
    for err in &errors {
        assert_clean(&err.to_string());
        assert_clean(&format!("{err:?}"));
        assert!(!err.to_string().contains("321083197812162118"), "{err}");
    }
    // The provider's message is kept, masked, so it still helps.
    assert!(
        errors[0]
            .to_string()
            .contains("身份证号3210**********2119与姓名王**不匹配 [redacted]"),
        "{}",
        errors[0]
    );
}

/// `Config::from_env` in a child process, so the test's own environment stays untouched.
#[test]
fn config_from_env_reads_the_documented_variables() {
    if std::env::var("CREDKIT_FROM_ENV_CHILD").is_ok() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args([
            "--exact",
            "from_env_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("JUMDATA_APP_ID")
        .env_remove("JUMDATA_APP_SECRET")
        .env_remove("JUMDATA_BASE_URL")
        .env("CREDKIT_FROM_ENV_CHILD", "1");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let full = run(&[
        ("JUMDATA_APP_ID", APP_ID),
        ("JUMDATA_APP_SECRET", APP_SECRET),
        ("JUMDATA_BASE_URL", "http://127.0.0.1:1/"),
    ]);
    assert!(
        full.contains("CHILD ok app_id=credkit-test-app base_url=http://127.0.0.1:1"),
        "{full}"
    );
    assert!(!full.contains(APP_SECRET), "{full}");
    let default_url = run(&[
        ("JUMDATA_APP_ID", APP_ID),
        ("JUMDATA_APP_SECRET", APP_SECRET),
    ]);
    assert!(
        default_url.contains("base_url=https://api.jumdata.com"),
        "{default_url}"
    );
    let missing = run(&[("JUMDATA_APP_ID", APP_ID)]);
    assert!(
        missing.contains("CHILD err configuration error: JUMDATA_APP_SECRET is not set"),
        "{missing}"
    );
}

#[test]
fn from_env_child() {
    if std::env::var("CREDKIT_FROM_ENV_CHILD").is_err() {
        return;
    }
    match Client::from_env() {
        Ok(c) => println!("CHILD ok app_id={} base_url={} {c:?}", APP_ID, c.base_url()),
        Err(e) => println!("CHILD err {e}"),
    }
}
