//! `con_lic_by_name` against a fresh mock server per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Duration;

use common::*;
use cred_core::{Charged, Error, ErrorKind};
use httpmock::prelude::*;
use juhe_api::{Client, ConLicByName, JuheCode};

#[tokio::test]
async fn sends_key_and_name_in_the_form_body_and_decodes_the_documents_sample() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/enterprise/App/ConLicByName/query")
                .header("content-type", "application/x-www-form-urlencoded")
                .query_param_count(".*", ".*", 0)
                .is_true(|req| {
                    form(req)
                        == vec![
                            ("key".to_owned(), KEY.to_owned()),
                            ("name".to_owned(), COMPANY.to_owned()),
                        ]
                });
            then.status(200).body(SUCCESS_BODY);
        })
        .await;
    let answer = client_with(&server, |b| b)
        .con_lic_by_name(&ConLicByName::new(COMPANY))
        .await
        .unwrap();
    mock.assert_async().await;
    assert!(answer.found());
    assert_eq!(answer.charged(), Charged::Yes);
    assert_eq!(answer.meta().code, "0");
    assert_eq!(answer.meta().message, "success");
    assert_eq!(
        answer.meta().attribute("sign"),
        Some("182104c8f3c74b4babef6a1046ec0441")
    );
    let r = answer.result().unwrap();
    assert_eq!(r.total, Some(8));
    let q = &r.items[0];
    assert_eq!(q.category.as_deref(), Some("建筑-勘察资质"));
    assert_eq!(q.lic_no.as_deref(), Some("B241001611"));
    assert_eq!(
        q.lic_name,
        vec!["工程勘察岩土工程专业（岩土工程物探测试检测监测）乙级"]
    );
    assert_eq!(q.issue_org.as_deref(), Some("河南省住房和城乡建设厅"));
    assert_eq!(q.validity_start.as_ref().unwrap().to_string(), "2015-08-26");
    assert_eq!(
        q.validity_end
            .as_ref()
            .unwrap()
            .date()
            .map(|d| d.to_string())
            .as_deref(),
        Some("2021-12-31")
    );
    assert_eq!(
        q.url.as_deref(),
        Some(
            "http://jzsc.mohurd.gov.cn/data/company/detail?id=050504030502070705050002070d06020006"
        )
    );
    assert_eq!(q.created_time.as_ref().unwrap().to_string(), "2020-08-10");
    assert_eq!(q.updated_time.as_ref().unwrap().to_string(), "2021-04-15");
    // Dates where they are dates, text where the provider sends something else.
    let q2 = &r.items[1];
    assert_eq!(
        q2.lic_name,
        vec!["建筑行业（建筑工程）甲级"],
        "a single string becomes a list"
    );
    assert_eq!(
        q2.validity_start.as_ref().unwrap().to_string(),
        "2019-06-01"
    );
    let end = q2.validity_end.as_ref().unwrap();
    assert_eq!((end.date(), end.raw()), (None, "长期"));
    assert_eq!(q2.created_time.as_ref().unwrap().to_string(), "2020-08-10");
    assert_eq!(q2.updated_time, None);
    assert_eq!(q2.lic_scope, None);
}

#[tokio::test]
async fn a_credit_code_is_checked_locally_and_sent_normalised() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/enterprise/App/ConLicByName/query")
                .is_true(|req| {
                    form(req).get(1).map(|(_, v)| v.as_str()) == Some("91310110666007217T")
                });
            then.status(200).body(SUCCESS_BODY);
        })
        .await;
    let c = client_with(&server, |b| b);
    assert!(
        c.con_lic_by_name(&ConLicByName::new(" 91310110666007217t "))
            .await
            .is_ok()
    );
    mock.assert_calls_async(1).await;

    for bad in ["91310110666007217A", "91310110666007217X"] {
        let err = c
            .con_lic_by_name(&ConLicByName::new(bad))
            .await
            .unwrap_err();
        match &err {
            Error::InvalidInput { field, reason, .. } => {
                assert_eq!(*field, "name");
                assert!(reason.contains("check character"), "{reason}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    // Blank, or absurd (over credkit's own 65,536-character bound: the document sets no
    // length; 201 characters, once refused by an invented limit, are sent).
    for bad in ["", "   ", &"公".repeat(65_537)] {
        let err = c
            .con_lic_by_name(&ConLicByName::new(bad))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "name", .. }),
            "{err:?}"
        );
    }
    mock.assert_calls_async(1).await; // nothing more was sent
}

#[tokio::test]
async fn no_result_is_an_empty_answer() {
    let body = r#"{"reason": "查询无结果", "result": null, "error_code": 260204}"#;
    let (result, calls) = answer_with(200, body, |b| b).await;
    let answer = result.unwrap();
    assert!(!answer.found());
    assert_eq!(answer.charged(), Charged::No);
    assert_eq!(answer.meta().code, "260204");
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn each_code_family_maps_to_its_kind_and_structure() {
    let cases: &[(&str, ErrorKind, bool, Charged)] = &[
        ("260200", ErrorKind::Unavailable, true, Charged::No),
        ("260201", ErrorKind::InvalidArgument, false, Charged::No),
        ("260202", ErrorKind::InvalidArgument, false, Charged::No),
        ("260203", ErrorKind::Internal, false, Charged::No),
        ("260205", ErrorKind::Unknown, false, Charged::Unknown),
        ("10001", ErrorKind::Auth, false, Charged::No),
        ("10002", ErrorKind::Permission, false, Charged::No),
        ("10003", ErrorKind::Auth, false, Charged::No),
        ("10004", ErrorKind::Auth, false, Charged::No),
        ("10005", ErrorKind::Permission, false, Charged::No),
        ("10007", ErrorKind::Permission, false, Charged::No),
        ("10008", ErrorKind::Permission, false, Charged::No),
        ("10009", ErrorKind::Auth, false, Charged::No),
        ("10011", ErrorKind::Throttled, true, Charged::No),
        ("10012", ErrorKind::QuotaExhausted, false, Charged::No),
        ("10013", ErrorKind::QuotaExhausted, false, Charged::No),
        ("10014", ErrorKind::Internal, false, Charged::Unknown),
        ("10020", ErrorKind::Unavailable, true, Charged::No),
        ("10021", ErrorKind::Permission, false, Charged::No),
        ("10099", ErrorKind::Unknown, false, Charged::Unknown),
    ];
    for &(code, kind, retryable, charged) in cases {
        let body =
            format!(r#"{{"reason": "reason {code}", "result": null, "error_code": {code}}}"#);
        let (result, calls) = answer_with(200, &body, |b| b).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 1);
        let p = err
            .as_provider()
            .unwrap_or_else(|| panic!("{code}: {err:?}"));
        assert_eq!(
            (p.code.as_str(), p.kind, p.charged),
            (code, kind, charged),
            "{code}"
        );
        assert_eq!(err.is_retryable(), retryable, "{code}");
        // The provider's words; a refused key also says which variable holds it.
        let hint = if kind == ErrorKind::Auth {
            " (check JUHE_KEY)"
        } else {
            ""
        };
        assert_eq!(p.message, format!("reason {code}{hint}"));
        let structure = JuheCode::of_error(&err).unwrap();
        match structure {
            JuheCode::System(n) => assert_eq!(n.to_string(), code),
            JuheCode::Service { data_id, code: c } => {
                assert_eq!(data_id, 602);
                assert_eq!(format!("2602{c:02}"), code);
            }
            JuheCode::Success => panic!("{code}"),
        }
    }
}

#[tokio::test]
async fn transient_codes_are_retried_and_10014_never_is() {
    for code in ["260200", "10011"] {
        let body = format!(r#"{{"reason": "busy", "result": null, "error_code": {code}}}"#);
        let (result, calls) = answer_with(200, &body, |b| b.retry(fast_retry())).await;
        assert_eq!(result.unwrap_err().kind(), result_kind(code), "{code}");
        assert_eq!(calls, 3, "{code}");
    }
    // A used-up allowance: retrying in a moment cannot help, so it is sent once.
    for code in ["10012", "10013"] {
        let body = format!(r#"{{"reason": "used up", "result": null, "error_code": {code}}}"#);
        let (result, calls) = answer_with(200, &body, |b| b.retry(fast_retry())).await;
        assert_eq!(
            result.unwrap_err().kind(),
            ErrorKind::QuotaExhausted,
            "{code}"
        );
        assert_eq!(calls, 1, "{code} was retried");
    }
    let body = r#"{"reason": "系统内部异常", "result": null, "error_code": 10014}"#;
    let opt_in = |b: juhe_api::ClientBuilder| b.retry(fast_retry().retry_possibly_charged(true));
    let (result, calls) = answer_with(200, body, opt_in).await;
    assert_eq!(result.unwrap_err().charged(), Charged::Unknown);
    assert_eq!(
        calls, 1,
        "an outcome-unknown paid call is never retried automatically"
    );
}

fn result_kind(code: &str) -> ErrorKind {
    if code == "260200" {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Throttled
    }
}

#[tokio::test]
async fn html_garbage_truncated_and_wrong_types_are_clean_errors() {
    let cases: &[(u16, &str, &str)] = &[
        (
            502,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "HTTP 502",
        ),
        (200, "<html><body>维护中</body></html>", "HTML"),
        (200, "not json at all", "expected a JSON envelope"),
        (
            200,
            &SUCCESS_BODY[..200],
            "malformed JSON: EOF while parsing",
        ),
        (
            200,
            r#"{"reason": "success", "error_code": 0, "result": {"total": 1, "items": "oops"}}"#,
            "documented shape",
        ),
        (200, r#"{"reason": "success"}"#, "no `error_code`"),
        (200, "", "empty body"),
    ];
    for &(status, body, expect) in cases {
        let (result, _) = answer_with(status, body, |b| b).await;
        let err = result.unwrap_err();
        assert!(err.to_string().contains(expect), "{body:?}: {err}");
    }
}

#[tokio::test]
async fn the_key_never_appears_in_errors_or_debug() {
    let echo =
        format!(r#"{{"reason": "错误的请求KEY: {KEY}", "result": null, "error_code": 10001}}"#);
    let html = format!("<html>bad gateway for /query?key={KEY}&name=x</html>");
    let mut errors = vec![
        answer_with(200, &echo, |b| b).await.0.unwrap_err(),
        answer_with(502, &html, |b| b).await.0.unwrap_err(),
        answer_with(200, &html, |b| b).await.0.unwrap_err(),
    ];
    // Transport failures: refused connection, timeout.
    let refused = Client::builder()
        .key(KEY)
        .base_url("http://127.0.0.1:9")
        .retry(cred_core::RetryPolicy::none())
        .build()
        .unwrap();
    errors.push(
        refused
            .con_lic_by_name(&ConLicByName::new(COMPANY))
            .await
            .unwrap_err(),
    );
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(SUCCESS_BODY)
                .delay(Duration::from_secs(2));
        })
        .await;
    let slow = client_with(&server, |b| b.timeout(Duration::from_millis(200)));
    errors.push(
        slow.con_lic_by_name(&ConLicByName::new(COMPANY))
            .await
            .unwrap_err(),
    );
    for err in &errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(KEY), "key leaked: {text}");
        }
    }
    assert!(
        errors[0].to_string().contains("错误的请求KEY: [redacted]"),
        "{}",
        errors[0]
    );
    let config = juhe_api::Config::new().with_key(KEY);
    for text in [
        format!("{config:?}"),
        format!("{refused:?}"),
        format!("{:?}", Client::builder().key(KEY)),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
}

#[tokio::test]
async fn a_long_name_is_sent_and_table_messages_read_as_the_document_writes_them() {
    // The document sets no length for `name`: a long one is sent as it is.
    let server = MockServer::start_async().await;
    let long = "河南省".repeat(120);
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/enterprise/App/ConLicByName/query");
            then.status(200)
                .body(r#"{"reason":"","result":null,"error_code":10005}"#);
        })
        .await;
    let err = client_with(&server, |b| b)
        .con_lic_by_name(&ConLicByName::new(long.as_str()))
        .await
        .unwrap_err();
    mock.assert_async().await;
    // "10005	应用未审核超时, 请提交认证": the table's message, spaces as written.
    assert!(
        err.to_string().contains("应用未审核超时, 请提交认证"),
        "{err}"
    );
}
