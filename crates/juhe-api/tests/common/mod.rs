//! Shared fixtures for the juhe-api integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use httpmock::{HttpMockRequest, MockServer};
use juhe_api::{Client, ClientBuilder, ConLicByName, QualificationResult};

/// Test key generated for this project; valid nowhere.
pub const KEY: &str = "credkit0test0juhe0key0not0real00";
/// The document's sample company.
pub const COMPANY: &str = "河南省建筑科学研究院有限公司";

/// The document's success sample, plus a second item with non-date validity.
pub const SUCCESS_BODY: &str = r#"{
  "result": {
    "total": 8,
    "items": [
      {
        "created_time": "2020-08-10",
        "updated_time": "2021-04-15",
        "issue_org": "河南省住房和城乡建设厅",
        "validity_start": "2015-08-26",
        "lic_scope": "工程勘察岩土工程专业（岩土工程物探测试检测监测）乙级",
        "lic_no": "B241001611",
        "category": "建筑-勘察资质",
        "validity_end": "2021-12-31",
        "url": "http://jzsc.mohurd.gov.cn/data/company/detail?id\u003d050504030502070705050002070d06020006",
        "lic_name": ["工程勘察岩土工程专业（岩土工程物探测试检测监测）乙级"]
      },
      {
        "category": "建筑-设计资质",
        "lic_no": "A241001612",
        "lic_name": "建筑行业（建筑工程）甲级",
        "issue_org": "住房和城乡建设部",
        "validity_start": "2019/06/01",
        "validity_end": "长期",
        "lic_scope": "",
        "url": "",
        "created_time": "2020-08-10 10:00:00",
        "updated_time": null
      }
    ]
  },
  "reason": "success",
  "sign": "182104c8f3c74b4babef6a1046ec0441",
  "error_code": 0
}"#;

/// The outcome of one `con_lic_by_name` call.
pub type QueryResult = Result<cred_core::Answer<QualificationResult>, cred_core::Error>;

/// Retries quickly.
pub fn fast_retry() -> cred_core::RetryPolicy {
    cred_core::RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(2), Duration::from_millis(10))
}

/// A client for `server` with the test key, no retry, no rate limit, then `tweak`.
pub fn client_with(
    server: &MockServer,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    tweak(
        Client::builder()
            .key(KEY)
            .base_url(server.base_url())
            .retry(cred_core::RetryPolicy::none())
            .rate_limit(0),
    )
    .build()
    .unwrap()
}

/// One query for [`COMPANY`] against a fresh server answering `status`/`body`; returns
/// the outcome and the number of requests the server saw.
pub async fn answer_with(
    status: u16,
    body: &str,
    tweak: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (QueryResult, usize) {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(status).body(body);
        })
        .await;
    let result = client_with(&server, tweak)
        .con_lic_by_name(&ConLicByName::new(COMPANY))
        .await;
    (result, mock.calls_async().await)
}

/// The form fields of a request, in order.
pub fn form(req: &HttpMockRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.body_ref())
        .into_owned()
        .collect()
}
