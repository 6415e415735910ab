//! `idcard_check`, the endpoint added through `api.toml` alone: same signer, envelope and
//! code table as `credential_query`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::*;
use cred_core::{Charged, ErrorKind};
use httpmock::prelude::*;
use jumdata_api::{IDCARD_CHECK, IdcardCheck};

#[tokio::test]
async fn sends_the_signed_form_to_its_path_and_decodes_the_result() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/idcard/check")
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(|req| expect_signed_form(req, &[("name", NAME), ("idcard", ID_NUMBER)]));
            then.status(200).body(
                r#"{"code": 200, "msg": "成功", "taskNo": "88", "charge": true,
                    "data": {"result": 0, "desc": "一致", "sex": "男", "birthday": "19781216", "address": "江苏省扬州市"}}"#,
            );
        })
        .await;
    let answer = client(&server)
        .idcard_check(&IdcardCheck::new(NAME, ID_NUMBER))
        .await
        .unwrap();
    mock.assert_async().await;
    let r = answer.result().unwrap();
    assert_eq!(r.result, Some(0));
    assert_eq!(r.desc.as_deref(), Some("一致"));
    assert_eq!(r.sex.as_deref(), Some("男"));
    assert_eq!(
        r.birthday.as_ref().map(|d| d.to_string()).as_deref(),
        Some("1978-12-16")
    );
    assert_eq!(answer.charged(), Charged::Yes);
    assert_eq!(answer.request_id(), Some("88"));
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("扬州") && !dbg.contains("1978"), "{dbg}");
    assert_eq!(IDCARD_CHECK.path, "/idcard/check");
    assert!(!IDCARD_CHECK.deprecated);
}

#[tokio::test]
async fn shares_the_code_table() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/idcard/check");
            then.status(200)
                .body(r#"{"code": 603, "msg": "余额不足请充值"}"#);
        })
        .await;
    let err = client(&server)
        .idcard_check(&IdcardCheck::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsufficientBalance);
    assert_eq!(
        err.to_string(),
        "jumdata idcard_check: provider error 603 (insufficient-balance): 余额不足请充值"
    );
}
