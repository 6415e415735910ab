//! Shared fixtures for the jumdata-api integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use httpmock::{HttpMockRequest, MockServer};
use jumdata_api::{Client, ClientBuilder};
use sha2::{Digest, Sha256};

/// Test credentials generated for this project; not valid anywhere.
pub const APP_ID: &str = "credkit-test-app";
/// Test secret generated for this project; not valid anywhere.
pub const APP_SECRET: &str = "credkit-test-secret-not-real";
/// A valid (checksummed) test ID number from DESIGN.md.
pub const ID_NUMBER: &str = "321083197812162119";
/// A test name.
pub const NAME: &str = "王小明";

/// The document's success sample, with a second item exercising other field shapes.
pub const SUCCESS_BODY: &str = r#"{
  "code": 200,
  "msg": "成功",
  "taskNo": "59355643664825785568",
  "charge": true,
  "data": {
    "count": 2,
    "items": [
      {
        "occupation": "电器计量工",
        "quaType": 1,
        "quaLevel": "三级/高级技能",
        "certificateNo": "137000********5448",
        "mechanismName": "质量技术监督行业职业技能鉴定指导中心",
        "reportingUnit": "质量技术监督行业职业技能鉴定指导中心",
        "reportingTime": "",
        "issuingTime": "2013年07月08日",
        "educationLevel": "",
        "scores": "",
        "theoryScores": "",
        "operationScores": ""
      },
      {
        "occupation": "育婴员",
        "quaType": "1",
        "quaLevel": "四级/中级技能",
        "certificateNo": "1631003009400321",
        "mechanismName": "某市职业技能鉴定中心",
        "reportingUnit": "某市人力资源和社会保障局",
        "reportingTime": "2019-05-20",
        "issuingTime": "2019年05月18日",
        "educationLevel": "大专",
        "scores": "合格",
        "theoryScores": "78",
        "operationScores": "85",
        "someNewField": "ignored"
      }
    ]
  }
}"#;

/// Retries quickly, so retry tests stay fast.
pub fn fast_retry() -> cred_core::RetryPolicy {
    cred_core::RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// A client for `server`, with the test credentials, no retry and no rate limit.
pub fn client(server: &MockServer) -> Client {
    client_with(server, |b| b)
}

/// Like [`client`], with extra builder settings.
pub fn client_with(server: &MockServer, f: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    let builder = Client::builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .base_url(server.base_url())
        .retry(cred_core::RetryPolicy::none())
        .rate_limit(0);
    f(builder).build().unwrap()
}

/// The form fields of a request, in order.
pub fn form(req: &HttpMockRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.body_ref())
        .into_owned()
        .collect()
}

/// Reference signature, from an implementation independent of the crate (sha2).
pub fn reference_sign(app_id: &str, secret: &str, timestamp: &str) -> String {
    let digest = Sha256::digest(format!("{app_id}{secret}{timestamp}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when the form is exactly `appId, timestamp, sign` followed by `business`, the
/// timestamp is a current millisecond time and the sign matches it. Prints why not.
pub fn expect_signed_form(req: &HttpMockRequest, business: &[(&str, &str)]) -> bool {
    let fields = form(req);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected_names = vec!["appId", "timestamp", "sign"];
    expected_names.extend(business.iter().map(|(k, _)| *k));
    if names != expected_names {
        eprintln!("form fields {names:?} != {expected_names:?}");
        return false;
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if get("appId") != APP_ID {
        eprintln!("appId {}", get("appId"));
        return false;
    }
    let ts = get("timestamp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    match ts.parse::<i64>() {
        Ok(t) if (now - t).abs() < 60_000 && ts.len() == 13 => {}
        _ => {
            eprintln!("timestamp {ts} is not the current time in milliseconds");
            return false;
        }
    }
    let sign = get("sign");
    if sign != reference_sign(APP_ID, APP_SECRET, ts) {
        eprintln!("sign {sign} does not match");
        return false;
    }
    for (k, v) in business {
        if get(k) != *v {
            eprintln!("{k} = {:?}, expected {v:?}", get(k));
            return false;
        }
    }
    true
}

/// Values that must never appear: the secret, the ID number (and its tail of 14), the name.
pub fn assert_clean(text: &str) {
    assert!(!text.contains(APP_SECRET), "secret leaked: {text}");
    assert!(!text.contains(ID_NUMBER), "ID number leaked: {text}");
    assert!(!text.contains(&ID_NUMBER[4..]), "ID number leaked: {text}");
    assert!(!text.contains(NAME), "name leaked: {text}");
}

/// The outcome of one credential query.
pub type QueryResult =
    Result<cred_core::Answer<jumdata_api::CredentialQueryResult>, cred_core::Error>;

/// One credential query (test name and ID) against a fresh server that answers every
/// request with `status` and `body` (after `delay`); returns the outcome and how many
/// requests the server received.
pub async fn answer_with(
    status: u16,
    body: &str,
    delay: Option<Duration>,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (QueryResult, usize) {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            let then = then.status(status).body(body);
            if let Some(d) = delay {
                then.delay(d);
            }
        })
        .await;
    let result = client_with(&server, tweak)
        .credential_query(&jumdata_api::CredentialQuery::new(NAME, ID_NUMBER))
        .await;
    (result, mock.calls_async().await)
}
