//! `credential_query` against a fresh mock server per test: the exact request Jumdata
//! would receive, and every answer family.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Duration;

use common::*;
use cred_core::{Charged, Error, ErrorKind, RetryPolicy};
use httpmock::prelude::*;
use jumdata_api::{ClientBuilder, CredentialQuery};

#[tokio::test]
async fn success_sends_the_exact_signed_form_and_decodes_every_field() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/credential/query")
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(|req| expect_signed_form(req, &[("name", NAME), ("idcard", ID_NUMBER)]));
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(SUCCESS_BODY);
        })
        .await;

    let answer = client(&server)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap();
    mock.assert_async().await;

    assert!(answer.found());
    assert_eq!(answer.charged(), Charged::Yes);
    assert_eq!(answer.request_id(), Some("59355643664825785568"));
    assert_eq!(answer.meta().code, "200");
    assert_eq!(answer.meta().message, "成功");
    assert_eq!(answer.meta().attempts, 1);
    let result = answer.result().unwrap();
    assert_eq!(result.count, Some(2));
    assert_eq!(result.items.len(), 2);
    let first = &result.items[0];
    assert_eq!(first.occupation.as_deref(), Some("电器计量工"));
    assert_eq!(first.qua_type, Some(1));
    assert_eq!(first.qua_level.as_deref(), Some("三级/高级技能"));
    assert_eq!(first.certificate_no.as_deref(), Some("137000********5448"));
    assert_eq!(
        first.mechanism_name.as_deref(),
        Some("质量技术监督行业职业技能鉴定指导中心")
    );
    assert_eq!(
        first.reporting_unit.as_deref(),
        Some("质量技术监督行业职业技能鉴定指导中心")
    );
    assert_eq!(first.reporting_time, None, "empty string is absent");
    let issued = first.issuing_time.as_ref().unwrap();
    assert_eq!(issued.raw(), "2013年07月08日");
    assert_eq!(issued.to_string(), "2013-07-08");
    assert_eq!(first.education_level, None);
    assert_eq!(first.scores, None);
    assert_eq!(first.theory_scores, None);
    assert_eq!(first.operation_scores, None);
    let second = &result.items[1];
    assert_eq!(
        second.qua_type,
        Some(1),
        "quaType sent as a string is accepted"
    );
    assert_eq!(second.education_level.as_deref(), Some("大专"));
    assert_eq!(second.scores.as_deref(), Some("合格"));
    assert_eq!(second.theory_scores.as_deref(), Some("78"));
    assert_eq!(second.operation_scores.as_deref(), Some("85"));
    assert_eq!(
        second
            .reporting_time
            .as_ref()
            .and_then(|d| d.date())
            .map(|d| d.to_string()),
        Some("2019-05-20".to_owned())
    );
}

#[tokio::test]
async fn optional_certificate_number_is_sent_trimmed_and_id_normalised() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/credential/query").is_true(|req| {
                expect_signed_form(
                    req,
                    &[
                        ("name", "欧阳娜娜"),
                        ("idcard", "33010219200403064X"),
                        ("certificateNo", "1370001234565448"),
                    ],
                )
            });
            then.status(200).body(SUCCESS_BODY);
        })
        .await;
    let request = CredentialQuery::new(" 欧阳娜娜 ", "33010219200403064x")
        .certificate_no(" 1370001234565448 ");
    let answer = client(&server).credential_query(&request).await.unwrap();
    mock.assert_async().await;
    assert!(answer.found());
}

#[tokio::test]
async fn no_record_701_with_empty_array_is_an_empty_uncharged_answer() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/credential/query");
            then.status(200).body(
                r#"{"data": [], "msg": "无记录", "code": 701, "taskNo": "59355643664825785568", "charge": false}"#,
            );
        })
        .await;
    let answer = client(&server)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap();
    mock.assert_async().await;
    assert!(!answer.found());
    assert!(answer.result().is_none());
    assert_eq!(answer.charged(), Charged::No);
    assert_eq!(answer.meta().code, "701");
    assert_eq!(answer.request_id(), Some("59355643664825785568"));
}

#[tokio::test]
async fn no_record_without_charge_flag_uses_the_code_table() {
    let body = r#"{"code": "701", "msg": "查无记录", "data": null}"#;
    let (answer, _) = answer_with(200, body, None, |b| b).await;
    let answer = answer.unwrap();
    assert!(!answer.found());
    assert_eq!(answer.charged(), Charged::No);
}

#[tokio::test]
async fn each_error_family_maps_to_its_kind() {
    let cases: &[(u32, &str, ErrorKind, bool)] = &[
        (400, "身份证格式不正确", ErrorKind::InvalidArgument, false),
        // Credential failures arrive as 400 too; the message tells them apart.
        (400, "签名错误", ErrorKind::Auth, false),
        (400, "appId不存在", ErrorKind::Auth, false),
        (400, "timestamp已过期", ErrorKind::Auth, false),
        (404, "接口地址不正确", ErrorKind::NotFound, false),
        (500, "系统维护,请稍候再试", ErrorKind::Unavailable, true),
        (601, "接口未开通", ErrorKind::Permission, false),
        (602, "账号停用", ErrorKind::Auth, false),
        (603, "余额不足请充值", ErrorKind::InsufficientBalance, false),
        (604, "接口停用", ErrorKind::Permission, false),
        (606, "调用超限,请稍候再试", ErrorKind::Throttled, true),
        (607, "ip不在白名单", ErrorKind::Permission, false),
        (609, "请求过于频繁,请稍候再试", ErrorKind::Throttled, true),
        (610, "请求超时", ErrorKind::Unavailable, true),
        (999, "其他", ErrorKind::Unknown, false),
        (12345, "something new", ErrorKind::Unknown, false),
    ];
    for &(code, msg, kind, retryable) in cases {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/credential/query");
                then.status(200).body(format!(
                    r#"{{"code": {code}, "msg": "{msg}", "taskNo": "T{code}"}}"#
                ));
            })
            .await;
        let err = client(&server)
            .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
            .await
            .unwrap_err();
        mock.assert_async().await; // exactly one call: the test client never retries
        let p = err
            .as_provider()
            .unwrap_or_else(|| panic!("{code}: {err:?}"));
        assert_eq!(p.code, code.to_string());
        assert_eq!(p.kind, kind, "{code}");
        assert_eq!(err.is_retryable(), retryable, "{code}");
        // Auth errors add what to check; every other message is the provider's.
        match kind {
            ErrorKind::Auth => {
                let hint = match code {
                    400 => {
                        " (check JUMDATA_APP_ID and JUMDATA_APP_SECRET, and this machine's clock"
                    }
                    _ => " (check the account of JUMDATA_APP_ID with Jumdata)",
                };
                assert!(
                    p.message.starts_with(&format!("{msg}{hint}")),
                    "{}",
                    p.message
                )
            }
            _ => assert_eq!(p.message, msg),
        }
        assert_eq!(p.request_id.as_deref(), Some(format!("T{code}").as_str()));
        let expected_charge = match code {
            610 | 999 | 12345 => Charged::Unknown,
            _ => Charged::No,
        };
        assert_eq!(p.charged, expected_charge, "{code}");
        let text = err.to_string();
        assert!(
            text.starts_with("jumdata credential_query: provider error"),
            "{text}"
        );
        assert!(
            text.contains(&code.to_string()) && text.contains(kind.as_str()),
            "{text}"
        );
    }
}

#[tokio::test]
async fn charge_flag_in_an_error_answer_wins_over_the_table() {
    let body = r#"{"code": 610, "msg": "请求超时", "charge": true}"#;
    let opt_in = |b: ClientBuilder| b.retry(fast_retry().retry_possibly_charged(true));
    let (result, calls) = answer_with(200, body, None, opt_in).await;
    assert_eq!(result.unwrap_err().charged(), Charged::Yes);
    assert_eq!(
        calls, 1,
        "a billed attempt is never retried, even after opt-in"
    );
}

#[tokio::test]
async fn http_502_with_an_html_page_is_a_clean_status_error_and_not_retried() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let (result, calls) = answer_with(502, page, None, |b| b.retry(fast_retry())).await;
    let err = result.unwrap_err();
    // A paid call whose outcome is unknown is never retried without opt-in.
    assert_eq!(calls, 1);
    match &err {
        Error::HttpStatus {
            status, snippet, ..
        } => {
            assert_eq!(*status, 502);
            assert!(snippet.contains("502 Bad Gateway"), "{snippet}");
        }
        other => panic!("expected HttpStatus, got {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.charged(), Charged::Unknown);
}

#[tokio::test]
async fn html_with_status_200_is_a_decode_error() {
    let page = "<!DOCTYPE html><html><body>维护中</body></html>";
    let (result, _) = answer_with(200, page, None, |b| b).await;
    match result.unwrap_err() {
        Error::Decode { reason, .. } => assert!(reason.contains("HTML"), "{reason}"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn truncated_json_is_a_decode_error() {
    let (result, _) = answer_with(200, &SUCCESS_BODY[..SUCCESS_BODY.len() / 2], None, |b| b).await;
    match result.unwrap_err() {
        Error::Decode { reason, .. } => {
            assert!(
                reason.starts_with("malformed JSON: EOF while parsing"),
                "{reason}"
            )
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_types_in_data_are_a_decode_error_naming_the_problem() {
    let body =
        r#"{"code": 200, "msg": "成功", "charge": true, "data": {"count": "many", "items": []}}"#;
    let (result, _) = answer_with(200, body, None, |b| b).await;
    match result.unwrap_err() {
        Error::Decode { reason, .. } => assert!(
            reason.contains("documented shape") && reason.contains("expected an integer"),
            "{reason}"
        ),
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused() {
    let big = format!(
        r#"{{"code": 200, "msg": "成功", "data": {{"count": 1, "items": [{{"occupation": "{}"}}]}}}}"#,
        "x".repeat(64 * 1024)
    );
    let (result, _) = answer_with(200, &big, None, |b| b.max_body_bytes(16 * 1024)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 16384, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_and_a_paid_call_is_not_retried() {
    let slow = Some(Duration::from_secs(3));
    let short = |b: ClientBuilder| b.timeout(Duration::from_millis(300)).retry(fast_retry());
    let (result, calls) = answer_with(200, SUCCESS_BODY, slow, short).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.charged(), Charged::Unknown);
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn an_invalid_id_number_is_rejected_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(SUCCESS_BODY);
        })
        .await;
    let c = client(&server);
    for (name, id, field) in [
        (NAME, "321083197812162118", "idcard"), // wrong check character
        (NAME, "32108319781216211", "idcard"),  // too short
        (NAME, "321083197813162119", "idcard"), // month 13
        ("王1明", ID_NUMBER, "name"),           // digit in the name
        ("", ID_NUMBER, "name"),
    ] {
        let err = c
            .credential_query(&CredentialQuery::new(name, id))
            .await
            .unwrap_err();
        match &err {
            Error::InvalidInput { field: f, .. } => assert_eq!(*f, field, "{err}"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        assert_eq!(err.charged(), Charged::No);
        assert!(err.to_string().ends_with("(nothing was sent)"));
        assert!(!err.to_string().contains(id) || id.is_empty() || field == "name");
    }
    let err = c
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER).certificate_no("  "))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput {
            field: "certificate_no",
            ..
        }
    ));
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn throttled_answers_are_retried_because_they_are_not_charged() {
    let body = r#"{"code": 609, "msg": "请求过于频繁,请稍候再试", "charge": false}"#;
    let (result, calls) = answer_with(200, body, None, |b| b.retry(fast_retry())).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Throttled);
    assert_eq!(calls, 3);
}

#[tokio::test]
async fn an_unknown_outcome_is_retried_only_after_opt_in() {
    let body = r#"{"code": 610, "msg": "请求超时"}"#;
    let (result, calls) = answer_with(200, body, None, |b| b.retry(fast_retry())).await;
    assert_eq!(result.unwrap_err().charged(), Charged::Unknown);
    assert_eq!(calls, 1);
    let opt_in = |b: ClientBuilder| b.retry(fast_retry().retry_possibly_charged(true));
    let (_, calls) = answer_with(200, body, None, opt_in).await;
    assert_eq!(calls, 3);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_that_was_not_sent() {
    // Port 1 (tcpmux): nothing listens there on loopback. (A port taken from a dropped
    // listener can be reused at once by another test's server running in parallel.)
    let port = 1;
    let c = jumdata_api::Client::builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    match &err {
        Error::Transport { sent, message, .. } => {
            assert!(!sent);
            assert!(!message.contains("127.0.0.1"), "URL leaked: {message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert_eq!(err.charged(), Charged::No);
}

#[tokio::test]
async fn a_certificate_number_has_no_invented_length() {
    // The document gives `certificateNo` no length: a long one is sent; an absurd one is
    // stopped by a bound that says it is credkit's own.
    let server = MockServer::start_async().await;
    let long = "1".repeat(100);
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/credential/query").is_true(|req| {
                form(req)
                    .iter()
                    .any(|(k, v)| k == "certificateNo" && v.len() == 100)
            });
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(SUCCESS_BODY);
        })
        .await;
    client(&server)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER).certificate_no(long.as_str()))
        .await
        .unwrap();
    mock.assert_async().await;
    let err = client(&server)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER).certificate_no("1".repeat(70_000)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("credkit's own bound"), "{err}");
    mock.assert_calls_async(1).await;
}
