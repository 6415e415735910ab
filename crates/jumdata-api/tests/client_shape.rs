//! The generated client shape: setter order never matters, named setters win over
//! `config()`, required fields are named with their variable and setter, and
//! `call_raw` goes through the same signing and envelope as the generated methods.

use httpmock::prelude::*;
use jumdata_api::{Billing, Client, Config, ErrorKind, Method, RawRequest};

fn config(base: &str) -> Config {
    Config::new()
        .with_app_id("config-id")
        .with_app_secret("config-secret")
        .with_base_url(base)
}

#[test]
fn setter_order_never_matters() {
    let before = Client::builder()
        .base_url("http://named.invalid")
        .config(config("http://config.invalid"))
        .build()
        .unwrap();
    let after = Client::builder()
        .config(config("http://config.invalid"))
        .base_url("http://named.invalid")
        .build()
        .unwrap();
    assert_eq!(before.base_url(), after.base_url());
    assert!(before.base_url().starts_with("http://named.invalid"));
    // What a named setter does not set comes from config(), then from the defaults.
    let default = Client::builder()
        .app_id("id")
        .app_secret("secret")
        .build()
        .unwrap();
    assert!(
        default
            .base_url()
            .starts_with(jumdata_api::DEFAULT_BASE_URL)
    );
    // The last call of a setter wins.
    let last = Client::builder()
        .config(config("http://first.invalid"))
        .config(config("http://second.invalid"))
        .build()
        .unwrap();
    assert!(last.base_url().starts_with("http://second.invalid"));
}

#[test]
fn a_missing_credential_names_its_variable_and_setter() {
    let err = Client::builder().app_id("id").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(text.contains("app secret"), "{text}");
    assert!(text.contains("JUMDATA_APP_SECRET"), "{text}");
    assert!(text.contains("ClientBuilder::app_secret"), "{text}");
    // Blank counts as missing.
    let err = Client::builder()
        .app_id("  ")
        .app_secret("s")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("JUMDATA_APP_ID"), "{err}");
}

#[test]
fn config_debug_shows_no_secret() {
    let shown = format!("{:?}", config("http://x.invalid"));
    assert!(!shown.contains("config-secret"), "{shown}");
    assert!(shown.contains("config-id"), "{shown}");
    let shown = format!("{:?}", Client::builder().config(config("http://x.invalid")));
    assert!(!shown.contains("config-secret"), "{shown}");
}

#[tokio::test]
async fn call_raw_is_signed_decoded_and_masked_like_a_generated_call() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/some/unlisted/api")
                .form_urlencoded_tuple("idcard", "321083197812162119")
                .form_urlencoded_tuple("type", "1")
                .form_urlencoded_tuple("appId", "id")
                .form_urlencoded_tuple_exists("timestamp")
                .form_urlencoded_tuple_exists("sign");
            then.status(200).body(
                r#"{"code":200,"msg":"成功","taskNo":"t1","charge":true,"data":{"items":[1,2]}}"#,
            );
        })
        .await;
    let client = Client::builder()
        .app_id("id")
        .app_secret("secret")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let request = RawRequest::new(Method::Post, "/some/unlisted/api")
        .param("idcard", "321083197812162119")
        .public_param("type", "1");
    let answer = client.call_raw(&request).await.unwrap();
    mock.assert_async().await;
    assert_eq!(answer.result().unwrap()["items"][1], 2);
    assert_eq!(answer.meta().operation, "call_raw");

    // A documented failure code is typed as for any operation, and the ID number the
    // provider echoes is masked.
    let failing = MockServer::start_async().await;
    let mock = failing
        .mock_async(|when, then| {
            when.method(POST).path("/other");
            then.status(200).body(
                r#"{"code":400,"msg":"参数错误 321083197812162119","taskNo":"t2","charge":false}"#,
            );
        })
        .await;
    let client = Client::builder()
        .app_id("id")
        .app_secret("secret")
        .base_url(failing.base_url())
        .build()
        .unwrap();
    let request = RawRequest::new(Method::Post, "/other")
        .param("idcard", "321083197812162119")
        .billing(Billing::Paid);
    let err = client.call_raw(&request).await.unwrap_err();
    mock.assert_async().await; // once: an answered failure is not retried
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!err.to_string().contains("321083197812162119"), "{err}");

    // A bad path is refused before anything is sent.
    let err = client
        .call_raw(&RawRequest::new(Method::Post, "no-slash"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    mock.assert_async().await;
}
