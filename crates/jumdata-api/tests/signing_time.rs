//! Requests are signed when they leave, not before they wait for the rate limiter: the
//! signed `timestamp` of every request is fresh when it arrives, however long the queue.
//! (Before the permit was taken ahead of signing, six calls queued at 1/s arrived with
//! timestamps up to 5 s old; Alipay and most signing schemes refuse stale timestamps.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use httpmock::prelude::*;
use jumdata_api::CredentialQuery;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signed_timestamp_is_fresh_when_it_arrives_at_a_one_per_second_limit() {
    let server = MockServer::start_async().await;
    // (signed timestamp, arrival), both in ms since the epoch.
    let seen: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let record = seen.clone();
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/credential/query")
                .is_true(move |req| {
                    let arrived = cred_core::now_millis();
                    let signed = form(req)
                        .into_iter()
                        .find(|(k, _)| k == "timestamp")
                        .and_then(|(_, v)| v.parse::<u64>().ok())
                        .unwrap_or(0);
                    record.lock().unwrap().push((signed, arrived));
                    true
                });
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(SUCCESS_BODY);
        })
        .await;
    let client = client_with(&server, |b| b.rate_limit(1));
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
                    .await
            })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap().found());
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6);
    let first = seen.iter().map(|(_, a)| *a).min().unwrap();
    let last = seen.iter().map(|(_, a)| *a).max().unwrap();
    assert!(
        last - first >= 4_500,
        "six calls at 1/s span about 5 s of arrivals: {seen:?}"
    );
    let oldest = seen.iter().map(|(s, a)| a.abs_diff(*s)).max().unwrap();
    eprintln!("six calls at 1/s: the oldest signed timestamp was {oldest} ms old on arrival");
    for (signed, arrived) in &seen {
        let age = arrived.abs_diff(*signed);
        assert!(
            age <= 500,
            "a request signed {age} ms before it arrived (all: {seen:?})"
        );
    }
}
