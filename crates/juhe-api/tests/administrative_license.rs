//! `administrative_license_list_by_name`, added through `api.toml` alone: same key,
//! envelope and code table as `con_lic_by_name`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::*;
use cred_core::ErrorKind;
use httpmock::prelude::*;
use juhe_api::AdministrativeLicenseListByName;

const SAMPLE: &str = r#"{
    "reason": "success",
    "result": {
        "total": 3,
        "num": 2,
        "items": [
            {"itemId": -1, "number": "310091008565", "name": "道路运输经营许可证", "startDate": "2015-05-30",
             "endDate": "2019-05-29", "department": "上海市城市交通运输管理处", "content": "-", "disabled": "1"},
            {"itemId": 17, "number": "310091008566", "name": "食品经营许可证", "startDate": "2019-06-01",
             "endDate": "2024-05-31", "department": "上海市市场监督管理局", "content": "预包装食品销售", "disabled": "0"}
        ]
    },
    "error_code": 0
}"#;

#[tokio::test]
async fn sends_key_name_and_skip_and_decodes_the_page() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/enterprise/App/AdministrativeLicenseListByName/query.php")
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(|req| {
                    form(req)
                        == vec![
                            ("key".to_owned(), KEY.to_owned()),
                            ("name".to_owned(), COMPANY.to_owned()),
                            ("skip".to_owned(), "2".to_owned()),
                        ]
                });
            then.status(200).body(SAMPLE);
        })
        .await;
    let answer = client_with(&server, |b| b)
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(COMPANY).skip(2))
        .await
        .unwrap();
    mock.assert_async().await;
    let r = answer.result().unwrap();
    assert_eq!((r.total, r.num), (Some(3), Some(2)));
    assert_eq!(r.items[0].item_id, Some(-1));
    assert_eq!(r.items[0].name.as_deref(), Some("道路运输经营许可证"));
    assert_eq!(
        r.items[1].end_date.as_ref().unwrap().to_string(),
        "2024-05-31"
    );
    assert_eq!(r.items[1].disabled.as_deref(), Some("0"));
}

#[tokio::test]
async fn shares_the_system_codes() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(r#"{"reason": "错误的请求KEY", "result": null, "error_code": 10001}"#);
        })
        .await;
    let err = client_with(&server, |b| b)
        .administrative_license_list_by_name(&AdministrativeLicenseListByName::new(COMPANY))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(
        err.to_string(),
        "juhe administrative_license_list_by_name: provider error 10001 (auth): 错误的请求KEY (check JUHE_KEY)"
    );
}
