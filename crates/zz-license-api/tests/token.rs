//! The token manager against a fresh mock platform per test: caching, expiry, refresh
//! grant, single flight, invalid_token replay, bad credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Duration;

use common::*;
use cred_core::{Error, ErrorKind};
use httpmock::prelude::*;
use serde_json::json;
use zz_license_api::{Client, ClientAuth, ShareQueryCertInfo, TokenPlacement};

async fn query(client: &Client) -> Result<cred_core::Answer<zz_license_api::Licences>, Error> {
    client
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
}

#[tokio::test]
async fn the_token_is_fetched_once_and_sent_in_body_and_header() {
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 43199).await;
    let calls = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareQueryCertInfo"
                ))
                .header("authorization", format!("Bearer {TOKEN_1}"))
                .is_true(|req| body_json(req)["access_token"] == TOKEN_1);
            then.status(200).json_body(city_licences());
        })
        .await;
    let client = client_with(&server, |b| b);
    for _ in 0..3 {
        assert!(query(&client).await.unwrap().found());
    }
    grant.assert_calls_async(1).await;
    calls.assert_calls_async(3).await;
    assert_eq!(client.token_requests(), 1);
}

#[test]
fn client_credentials_go_as_form_fields_by_default_as_the_standard_lists_them() {
    assert_eq!(ClientAuth::default(), ClientAuth::Form);
    let config = zz_license_api::Config::new()
        .with_base_url("http://x/y")
        .with_username("u")
        .with_password("p")
        .with_client_id("c")
        .with_client_secret("s");
    // Unset in the configuration: the client uses the type's default.
    assert_eq!(config.client_auth(), None);
}

#[tokio::test]
async fn client_credentials_as_form_fields_when_configured() {
    let server = MockServer::start_async().await;
    let grant = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{ROOT}/oauth/token"))
                .header_missing("authorization")
                .is_true(|req| {
                    form(req)
                        == [
                            ("grant_type", "password"),
                            ("scope", "read write"),
                            ("username", USERNAME),
                            ("password", PASSWORD),
                            ("client_id", CLIENT_ID),
                            ("client_secret", CLIENT_SECRET),
                        ]
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                });
            then.status(200).json_body(token_body(TOKEN_1, 43199));
        })
        .await;
    share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b.client_auth(ClientAuth::Form));
    query(&client).await.unwrap();
    grant.assert_async().await;
}

#[tokio::test]
async fn query_placement_puts_the_token_in_the_url_not_the_body() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let calls = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareQueryCertInfo"
                ))
                .query_param("access_token", TOKEN_1)
                .is_true(|req| body_json(req).get("access_token").is_none());
            then.status(200).json_body(city_licences());
        })
        .await;
    let client = client_with(&server, |b| b.token_placement(TokenPlacement::Query));
    query(&client).await.unwrap();
    calls.assert_async().await;
}

#[tokio::test]
async fn an_expiring_token_is_renewed_by_the_documented_password_grant() {
    // 4.3.1: "grant_type 固定值为：password". The answer carries a refresh token, but the
    // document gives no refresh grant: it is not used unless opted in.
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 1).await;
    let refresh = refresh_grant(&server, TOKEN_2).await;
    share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b);
    query(&client).await.unwrap();
    sleep_ms(1100).await;
    query(&client).await.unwrap();
    grant.assert_calls_async(2).await;
    refresh.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_expiring_token_is_renewed_by_the_refresh_grant_when_opted_in() {
    let server = MockServer::start_async().await;
    // A 1-second token: renewed half-way (the margin never exceeds half the lifetime).
    let grant = password_grant(&server, TOKEN_1, 1).await;
    let refresh = refresh_grant(&server, TOKEN_2).await;
    let old = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_1}"));
            then.status(200).json_body(city_licences());
        })
        .await;
    let new = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_2}"));
            then.status(200).json_body(city_licences());
        })
        .await;
    let client = client_with(&server, |b| b.refresh_grant(true));
    query(&client).await.unwrap();
    sleep_ms(1100).await;
    query(&client).await.unwrap();
    query(&client).await.unwrap();
    grant.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
    old.assert_calls_async(1).await;
    new.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_refused_refresh_grant_falls_back_to_the_password_grant_for_good() {
    // Whatever the refusal: an invalid refresh token, a grant the server does not
    // support (the document gives only "grant_type 固定值为：password"), a bad request or
    // scope. Before, only auth-like refusals fell back; `unsupported_grant_type`,
    // `invalid_request` and `invalid_scope` kept the refresh token and every renewal
    // failed the same way.
    for (status, error) in [
        (400, "invalid_grant"),
        (400, "unsupported_grant_type"),
        (400, "invalid_request"),
        (400, "invalid_scope"),
        (500, "server_error"),
    ] {
        let server = MockServer::start_async().await;
        let grant = password_grant(&server, TOKEN_1, 1).await;
        let refused = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(format!("{ROOT}/oauth/token"))
                    .body_includes("grant_type=refresh_token");
                then.status(status).json_body(json!({
                    "error": error,
                    "error_description": format!("refresh refused: {REFRESH_1}")
                }));
            })
            .await;
        share(&server, "ShareQueryCertInfo", city_licences()).await;
        let client = client_with(&server, |b| b.refresh_grant(true));
        query(&client).await.unwrap();
        for _ in 0..3 {
            sleep_ms(1100).await;
            query(&client)
                .await
                .unwrap_or_else(|e| panic!("{error}: {e}"));
        }
        // The refresh grant once; the password grant from then on.
        refused.assert_calls_async(1).await;
        grant.assert_calls_async(4).await;
        assert_eq!(client.token_requests(), 5, "{error}");
    }
}

#[tokio::test]
async fn a_hundred_concurrent_cold_calls_make_one_token_request() {
    let server = MockServer::start_async().await;
    let grant = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{ROOT}/oauth/token"));
            then.status(200)
                .delay(Duration::from_millis(200))
                .json_body(token_body(TOKEN_1, 43199));
        })
        .await;
    let calls = share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let client = client.clone();
        tasks.spawn(async move { query(&client).await.map(|a| a.found()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap());
    }
    grant.assert_calls_async(1).await;
    calls.assert_calls_async(100).await;
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test]
async fn invalid_token_reauthenticates_once_and_replays_once() {
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 43199).await;
    let refresh = refresh_grant(&server, TOKEN_2).await;
    let stale = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_1}"));
            then.status(401)
                .header("www-authenticate", "Bearer error=\"invalid_token\"")
                .json_body(json!({
                    "error": "invalid_token",
                    "error_description": format!("Invalid access token: {TOKEN_1}")
                }));
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_2}"))
                .is_true(|req| body_json(req)["access_token"] == TOKEN_2);
            then.status(200).json_body(city_licences());
        })
        .await;
    let client = client_with(&server, |b| b.refresh_grant(true));
    let answer = query(&client).await.unwrap();
    assert!(answer.found());
    assert_eq!(answer.meta().attempts, 1, "a replay is not a retry");
    grant.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_refused_twice_is_an_auth_error_without_the_token() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let refresh = refresh_grant(&server, TOKEN_1).await; // the same, still refused
    let stale = server
        .mock_async(|when, then| {
            when.path_includes("/m/v/");
            then.status(401).json_body(json!({
                "error": "invalid_token",
                "error_description": format!("Invalid access token: {TOKEN_1}")
            }));
        })
        .await;
    let client = client_with(&server, |b| b.refresh_grant(true));
    let err = query(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code().as_deref(), Some("invalid_token"));
    let text = err.to_string();
    assert!(!text.contains(TOKEN_1), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    stale.assert_calls_async(2).await; // one call, one replay, no more
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn status_11_in_the_envelope_also_reauthenticates() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    refresh_grant(&server, TOKEN_2).await;
    let refused = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_1}"));
            then.status(200)
                .json_body(json!({"head": {"status": 11, "message": "认证失败"}, "data": null}));
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN_2}"));
            then.status(200).json_body(city_licences());
        })
        .await;
    query(&client_with(&server, |b| b.refresh_grant(true)))
        .await
        .unwrap();
    refused.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn bad_client_credentials_are_a_clear_auth_error() {
    let server = MockServer::start_async().await;
    let grant = server
        .mock_async(|when, then| {
            when.path(format!("{ROOT}/oauth/token"));
            then.status(401)
                .header("www-authenticate", "Basic realm=\"oauth2/client\"")
                .json_body(json!({"error": "invalid_client", "error_description": "Bad client credentials"}));
        })
        .await;
    let share_calls = share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b);
    let err = query(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code().as_deref(), Some("invalid_client"));
    let text = err.to_string();
    assert!(text.contains("ZZ_LICENSE_CLIENT_ID"), "{text}");
    assert!(text.contains("zz_license token"), "{text}");
    grant.assert_calls_async(1).await; // not repeated by the re-authentication
    share_calls.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_auth_error_without_secrets() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(format!("{ROOT}/oauth/token"));
            then.status(400).json_body(json!({
                "error": "invalid_grant",
                "error_description": format!("Bad credentials for {USERNAME} / {PASSWORD}")
            }));
        })
        .await;
    let err = query(&client_with(&server, |b| b)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    let text = format!("{err} {err:?}");
    assert!(text.contains("ZZ_LICENSE_PASSWORD"), "{text}");
    for secret in [USERNAME, PASSWORD, CLIENT_SECRET] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_failed_token_request() {
    let server = MockServer::start_async().await;
    let grant = server
        .mock_async(|when, then| {
            when.path(format!("{ROOT}/oauth/token"));
            then.status(400)
                .delay(Duration::from_millis(200))
                .json_body(
                    json!({"error": "invalid_grant", "error_description": "Bad credentials"}),
                );
        })
        .await;
    let client = client_with(&server, |b| b);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.spawn(async move { query(&client).await.map(|_| ()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().unwrap_err().kind(), ErrorKind::Auth);
    }
    grant.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_answer_without_access_token_is_a_decode_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(format!("{ROOT}/oauth/token"));
            then.status(200).body("<html>login</html>");
        })
        .await;
    let err = query(&client_with(&server, |b| b)).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("HTML"), "{err}");
}

/// A token answer that is 200 with `body`: whatever it holds, the call must not panic and
/// no token from it may appear in the error, its `Debug` or its JSON-facing code.
async fn with_token_answer(
    body: &str,
) -> (
    Result<cred_core::Answer<zz_license_api::Licences>, Error>,
    u64,
) {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{ROOT}/oauth/token"));
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(body);
        })
        .await;
    share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b);
    let result = query(&client).await;
    (result, client.token_requests())
}

fn assert_no_token(err: &Error) {
    for text in [err.to_string(), format!("{err:?}")] {
        for secret in [TOKEN_1, REFRESH_1, "f54922eb", "bc2d74f1"] {
            assert!(!text.contains(secret), "token leaked: {text}");
        }
    }
}

#[tokio::test]
async fn unusable_expires_in_never_prints_the_tokens_nor_panics() {
    // Numbers that are too large, fractional or not numbers at all.
    for (expires_in, usable) in [
        ("1e30", true),
        ("18446744073709551615", true),
        ("9223372036854775807", true),
        ("\"43199\"", true),
        ("0.5", true),
        ("0", true),
        ("-7", true),
        ("\"soon\"", false),
        ("true", false),
        ("{\"s\":1}", false),
    ] {
        let body = format!(
            r#"{{"access_token":"{TOKEN_1}","token_type":"bearer","refresh_token":"{REFRESH_1}","expires_in":{expires_in},"scope":"read write"}}"#
        );
        let (result, requests) = with_token_answer(&body).await;
        assert_eq!(requests, 1, "{expires_in}");
        match (result, usable) {
            (Ok(answer), true) => assert!(answer.found(), "{expires_in}"),
            (Err(e), false) => {
                assert!(matches!(e, Error::Decode { .. }), "{expires_in}: {e:?}");
                assert!(e.to_string().contains("expires_in"), "{e}");
                assert_no_token(&e);
            }
            (other, _) => panic!("{expires_in}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_truncated_or_mistyped_token_answer_is_an_error_without_the_tokens() {
    for body in [
        format!(r#"{{"access_token":"{TOKEN_1}","refresh_token":"{REFRESH_1}","expires_in":43"#),
        format!(
            r#"{{"access_token":"{TOKEN_1}","refresh_token":"{REFRESH_1}","token_type":"mac"}}"#
        ),
        format!(r#"{{"access_token":["{TOKEN_1}"],"refresh_token":"{REFRESH_1}"}}"#),
        format!(r#"<html>access_token={TOKEN_1}&refresh_token={REFRESH_1}</html>"#),
    ] {
        let (result, _) = with_token_answer(&body).await;
        let e = result.expect_err(&body);
        assert_eq!(e.site().map(|s| s.operation), Some("token"), "{e}");
        assert_no_token(&e);
    }
}

#[test]
fn token_lifetimes_are_clamped_or_expire_now() {
    use serde_json::json;
    use zz_license_api::{MAX_TOKEN_LIFETIME, token_lifetime};
    let life = |v: serde_json::Value| token_lifetime(Some(&v));
    assert_eq!(life(json!(43199)), Ok(Duration::from_secs(43199)));
    assert_eq!(life(json!("43199")), Ok(Duration::from_secs(43199)));
    assert_eq!(life(json!(1e30)), Ok(MAX_TOKEN_LIFETIME));
    assert_eq!(life(json!(u64::MAX)), Ok(MAX_TOKEN_LIFETIME));
    assert_eq!(life(json!(i64::MAX)), Ok(MAX_TOKEN_LIFETIME));
    assert_eq!(life(json!(2.9)), Ok(Duration::from_secs(2)));
    assert_eq!(life(json!(0.5)), Ok(Duration::ZERO));
    assert_eq!(life(json!(0)), Ok(Duration::ZERO));
    assert_eq!(life(json!(-1)), Ok(Duration::ZERO));
    assert_eq!(token_lifetime(None), Ok(Duration::from_secs(12 * 3600)));
    assert_eq!(
        life(serde_json::Value::Null),
        Ok(Duration::from_secs(12 * 3600))
    );
    assert!(life(json!("soon")).is_err());
    assert!(life(json!("NaN")).is_err());
    assert!(life(json!([1])).is_err());
}

#[tokio::test]
async fn callers_waiting_on_a_token_that_expires_at_once_share_one_request() {
    let server = MockServer::start_async().await;
    let body = format!(r#"{{"access_token":"{TOKEN_1}","token_type":"bearer","expires_in":0}}"#);
    let grant = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{ROOT}/oauth/token"));
            then.status(200)
                .header("content-type", "application/json")
                .delay(Duration::from_millis(200))
                .body(body);
        })
        .await;
    share(&server, "ShareQueryCertInfo", city_licences()).await;
    let client = client_with(&server, |b| b);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.spawn(async move { query(&client).await.map(|a| a.found()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap());
    }
    grant.assert_calls_async(1).await;
}

/// A store in which another holder publishes its token just as this caller takes the
/// lease: the race between a caller's look at the store and its lease.
#[derive(Debug, Default)]
struct PublishedMeanwhile {
    inner: cred_core::MemoryTokenStore,
    leases: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl cred_core::TokenStore for PublishedMeanwhile {
    async fn get(&self, account: &str) -> Result<Option<cred_core::StoredToken>, Error> {
        self.inner.get(account).await
    }

    async fn try_lease(
        &self,
        account: &str,
        ttl: Duration,
    ) -> Result<Option<cred_core::Lease>, Error> {
        if self
            .leases
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            == 0
        {
            // The other holder publishes and lets its lease go.
            let other = self.inner.try_lease(account, ttl).await?.unwrap();
            let token = cred_core::NewToken::new(
                cred_core::Secret::from(TOKEN_2.to_owned()),
                None,
                Duration::from_secs(3600),
            );
            self.inner.publish(account, &other, token).await?;
        }
        self.inner.try_lease(account, ttl).await
    }

    async fn publish(
        &self,
        account: &str,
        lease: &cred_core::Lease,
        token: cred_core::NewToken,
    ) -> Result<cred_core::StoredToken, Error> {
        self.inner.publish(account, lease, token).await
    }

    async fn release(&self, account: &str, lease: &cred_core::Lease) -> Result<(), Error> {
        self.inner.release(account, lease).await
    }

    async fn invalidate(&self, account: &str, generation: u64) -> Result<bool, Error> {
        self.inner.invalidate(account, generation).await
    }
}

#[tokio::test]
async fn a_token_published_between_the_look_and_the_lease_is_used_not_renewed_again() {
    let server = MockServer::start_async().await;
    let grant = password_grant(&server, TOKEN_1, 43199).await;
    let calls = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareQueryCertInfo"
                ))
                .header("authorization", format!("Bearer {TOKEN_2}"));
            then.status(200).json_body(city_licences());
        })
        .await;
    let store = std::sync::Arc::new(PublishedMeanwhile::default());
    let client = client_with(&server, |b| b.token_store(store.clone()));
    assert!(query(&client).await.unwrap().found());
    grant.assert_calls_async(0).await;
    calls.assert_calls_async(1).await;
    assert_eq!(client.token_requests(), 0);
    // The lease this caller took was given back: the next holder gets it at once.
    let account = client.token_account().to_owned();
    let next = cred_core::TokenStore::try_lease(&store.inner, &account, Duration::from_secs(1));
    assert!(next.await.unwrap().is_some());
}
