//! The shared call pipeline (`ClientCore`) with a hand-written request, decoder and
//! authorizer: parameter placement, re-authentication, retry of free calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cred_core::{
    Answer, ApiRequest, Authorizer, Billing, CallSite, Charged, ClientCore, Encoding, Endpoint,
    Error, Method, OutgoingRequest, RawResponse, Redactor, ResponseMeta, RetryPolicy, Transport,
    TransportConfig,
};
use httpmock::prelude::*;

static PING: Endpoint = Endpoint::new(
    CallSite::new("demo", "ping"),
    "ping",
    Method::Get,
    "/v1/ping",
    Encoding::Query,
    Billing::Free,
);

struct Ping {
    word: String,
}

impl ApiRequest for Ping {
    type Response = serde_json::Value;
    fn endpoint(&self) -> &'static Endpoint {
        &PING
    }
    fn validate(&self) -> Result<(), Error> {
        if self.word.is_empty() {
            return Err(Error::invalid("word", "must not be empty"));
        }
        Ok(())
    }
    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        out.push(("word", self.word.clone()));
    }
    fn register_pii<'a>(&'a self, redactor: &mut Redactor<'a>) {
        redactor.pii(cred_core::Pii::Other, self.word.as_str());
    }
}

fn decode(
    endpoint: &'static Endpoint,
    raw: &RawResponse,
    redactor: &Redactor<'_>,
) -> Result<Answer<serde_json::Value>, Error> {
    if !raw.is_success() {
        return Err(Error::http_status(
            endpoint.site,
            raw.status,
            redactor.snippet(&String::from_utf8_lossy(&raw.body), 80),
        ));
    }
    let value = serde_json::from_slice(&raw.body)
        .map_err(|e| Error::decode(endpoint.site, e.to_string(), String::new()))?;
    let mut meta = ResponseMeta::new(endpoint.site.provider, endpoint.site.operation);
    meta.charged = Charged::No;
    Ok(Answer::new(Some(value), meta))
}

/// A bearer-token authorizer whose token changes each time it is invalidated.
#[derive(Debug, Default)]
struct TokenAuth {
    generation: AtomicUsize,
}

#[async_trait]
impl Authorizer for TokenAuth {
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        let generation = self.generation.load(Ordering::SeqCst);
        let token = format!("Bearer t{generation}");
        request.credential = generation as u64;
        request
            .headers
            .insert("authorization", token.parse().unwrap());
        Ok(())
    }
    async fn invalidate(&self, credential: u64) {
        // Only the first report of a stale token moves to the next one.
        let _ = self.generation.compare_exchange(
            credential as usize,
            credential as usize + 1,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
    fn is_refreshable(&self) -> bool {
        true
    }
    fn register_secrets<'a>(&'a self, _redactor: &mut Redactor<'a>) {}
}

fn core(
    server: &MockServer,
    auth: Arc<TokenAuth>,
    retry: RetryPolicy,
    timeout: Duration,
) -> ClientCore {
    let transport = Transport::new(TransportConfig::default().with_timeout(timeout), None).unwrap();
    ClientCore::new(transport, auth, retry, &format!("{}/", server.base_url()))
        .unwrap()
        .with_endpoints(&[&PING])
        .unwrap()
}

#[tokio::test]
async fn query_params_go_to_the_url_and_a_stale_token_is_replaced_once() {
    let server = MockServer::start_async().await;
    let stale = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/ping")
                .header("authorization", "Bearer t0");
            then.status(401).body("token expired");
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/ping")
                .query_param("word", "你好 world")
                .header("authorization", "Bearer t1");
            then.status(200).body(r#"{"pong": true}"#);
        })
        .await;
    let auth = Arc::new(TokenAuth::default());
    let c = core(
        &server,
        auth.clone(),
        RetryPolicy::none(),
        Duration::from_secs(5),
    );
    let answer = c
        .execute(
            &Ping {
                word: "你好 world".into(),
            },
            decode,
        )
        .await
        .unwrap();
    assert_eq!(answer.result().unwrap()["pong"], true);
    assert_eq!(
        answer.meta().attempts,
        1,
        "re-authentication is not a retry"
    );
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    assert_eq!(auth.generation.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn re_authentication_happens_only_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/ping");
            then.status(401).body("no");
        })
        .await;
    let auth = Arc::new(TokenAuth::default());
    let err = core(
        &server,
        auth.clone(),
        RetryPolicy::default(),
        Duration::from_secs(5),
    )
    .execute(&Ping { word: "x".into() }, decode)
    .await
    .unwrap_err();
    assert!(matches!(err, Error::HttpStatus { status: 401, .. }));
    mock.assert_calls_async(2).await;
    assert_eq!(auth.generation.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_free_call_is_retried_after_a_timeout() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/ping");
            then.status(200).body("{}").delay(Duration::from_secs(2));
        })
        .await;
    let retry = RetryPolicy::default()
        .with_max_attempts(2)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(2));
    let err = core(
        &server,
        Arc::new(TokenAuth::default()),
        retry,
        Duration::from_millis(200),
    )
    .execute(&Ping { word: "x".into() }, decode)
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn invalid_input_never_reaches_the_server_and_snippets_are_redacted() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500).body("failed for word=secret-word-value");
        })
        .await;
    let c = core(
        &server,
        Arc::new(TokenAuth::default()),
        RetryPolicy::none(),
        Duration::from_secs(5),
    );
    let err = c
        .execute(
            &Ping {
                word: String::new(),
            },
            decode,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "word", .. }));
    mock.assert_calls_async(0).await;
    let err = c
        .execute(
            &Ping {
                word: "secret-word-value".into(),
            },
            decode,
        )
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("secret-word-value"), "{err}");
    assert!(err.to_string().contains("word=****************"), "{err}");
}

#[test]
fn base_urls_are_checked() {
    assert_eq!(
        cred_core::call::normalize_base_url(" https://api.example.com/ ").unwrap(),
        "https://api.example.com"
    );
    for bad in ["ftp://x", "not a url", "https://x/?a=1", "https://x/#f"] {
        let err = cred_core::call::normalize_base_url(bad).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{bad}: {err:?}");
    }
}
