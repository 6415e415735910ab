//! `Client::call_raw`: an interface `api.toml` does not list goes out with the token and
//! the audit fields of the scope the caller names, and comes back as the raw `data`.

mod common;

use common::*;
use httpmock::MockServer;
use serde_json::json;
use zz_license_api::{AuditContext, AuditScope, Encoding, ErrorKind, Method, RawRequest};

fn unlisted() -> RawRequest {
    RawRequest::new(
        Method::Post,
        "/m/v/license/external/api/ShareSomethingUnlisted",
    )
    .encoding(Encoding::Json)
    .param_as("certificateHolderCode", ID, zz_license_api::Pii::IdNumber)
    .public_param("certificateTypeCode", "T01")
}

#[tokio::test]
async fn an_unlisted_interface_carries_the_token_and_the_full_audit_context() {
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 43199).await;
    let call = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareSomethingUnlisted"
                ))
                .header("authorization", format!("Bearer {TOKEN_1}"))
                .is_true(|req| {
                    let body = body_json(req);
                    body["certificateHolderCode"] == ID
                        && body["certificateTypeCode"] == "T01"
                        && body["access_token"] == TOKEN_1
                        && audit_wire().iter().all(|(k, v)| body[*k] == *v)
                });
            then.status(200).json_body(json!({
                "head": {"message": "接口调用成功", "status": "0"},
                "data": {"anything": [1, 2, 3]}
            }));
        })
        .await;
    let client = client_with(&server, |b| b);
    let answer = client
        .call_raw(&unlisted(), AuditScope::Full)
        .await
        .unwrap();
    grant.assert_async().await;
    call.assert_async().await;
    assert_eq!(answer.result().unwrap()["anything"][2], 3);
    assert_eq!(answer.meta().operation, "call_raw");
}

#[tokio::test]
async fn a_missing_required_audit_field_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 43199).await;
    let client = client_with(&server, |b| b.audit(AuditContext::new()));
    let err = client
        .call_raw(&unlisted(), AuditScope::Full)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    grant.assert_calls_async(0).await; // not even a token request
    // With the district scope the same request goes (no required field).
    share(
        &server,
        "ShareSomethingUnlisted",
        json!({"head": {"message": "接口调用成功", "status": "0"}, "data": []}),
    )
    .await;
    let answer = client
        .call_raw(&unlisted(), AuditScope::District)
        .await
        .unwrap();
    assert!(!answer.found()); // an empty list is "not found"
}
