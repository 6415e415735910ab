//! Trace-level logs of real calls carry no secret and no personal data.
//!
//! Its own test binary: `tracing` caches per-callsite interest process-wide, so a
//! thread-local subscriber is only reliable when no other test runs beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use httpmock::prelude::*;
use jumdata_api::CredentialQuery;

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn trace_logs_carry_no_secret_or_personal_data() {
    let buf = SharedBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(SUCCESS_BODY);
        })
        .await;
    let c = client(&server);
    let answer = c
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap();
    assert!(answer.found());
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(r#"{"code": 603, "msg": "余额不足 321083197812162119 王小明"}"#);
        })
        .await;
    let err = client(&server)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    tracing::warn!(error = %err, "call failed");

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("cred.call"), "nothing captured: {logs}");
    assert!(
        logs.contains("request_id=\"59355643664825785568\""),
        "{logs}"
    );
    // One line per attempt: method, host and path (no query), status, latency, attempt
    // number, outcome and what happens next.
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" attempt attempt="))
        .collect();
    assert_eq!(lines.len(), 2, "{logs}");
    for field in [
        "attempt=1",
        "method=\"POST\"",
        "host=\"127.0.0.1\"",
        "path=\"/credential/query\"",
        "status=\"200\"",
        "latency_ms=",
    ] {
        assert!(
            lines.iter().all(|l| l.contains(field)),
            "{field}: {lines:?}"
        );
    }
    assert!(lines[0].contains("outcome=\"answered\"") && lines[0].contains("next=\"done\""));
    assert!(
        lines[1].contains("outcome=\"insufficient-balance (603)\"")
            && lines[1].contains("next=\"give up\""),
        "{}",
        lines[1]
    );
    assert_clean(&logs);
}
