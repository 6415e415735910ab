//! Cancel-safety: a call dropped by its caller (a `tokio::time::timeout` around it, as web
//! handlers and `tower` timeouts do) at any await point leaves nothing behind that delays
//! the next call, and loses no token that was already being obtained.
//!
//! The sweep drops calls at many points across a slow token endpoint, a slow share
//! interface and a rate limiter, then times the next call on the same client. Before the
//! renewal ran on a task of its own, a call dropped during the token request left the
//! store's lease held for its whole term (the timeout + 5 s: 35 s by default) and the
//! next call waited it out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::{Duration, Instant};

use common::*;
use httpmock::prelude::*;
use zz_license_api::ShareQueryCertInfo;

const TOKEN_DELAY: Duration = Duration::from_millis(300);
const SHARE_DELAY: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_anywhere_never_delays_the_next_and_keeps_its_token() {
    let server = MockServer::start_async().await;
    let body = token_body(TOKEN_1, 43199);
    let grant = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{ROOT}/oauth/token"));
            then.status(200)
                .header("content-type", "application/json")
                .delay(TOKEN_DELAY)
                .json_body(body);
        })
        .await;
    let share = server
        .mock_async(|when, then| {
            when.method(POST).path(format!(
                "{ROOT}/m/v/license/external/api/ShareQueryCertInfo"
            ));
            then.status(200)
                .delay(SHARE_DELAY)
                .json_body(city_licences());
        })
        .await;
    let query = ShareQueryCertInfo::new(CERT_ID);
    // Drop points: before the permit, while waiting for it (rate 4/s, a slot taken just
    // before), during the token request, during the share request, and after it.
    let drops_ms = [
        0u64, 1, 5, 20, 60, 120, 200, 280, 320, 380, 450, 520, 600, 700,
    ];
    let mut token_requests = 0;
    for (i, drop_ms) in drops_ms.iter().enumerate() {
        let limited = i % 2 == 1;
        let client = client_with(&server, |b| {
            // The default lease (timeout + 5 s) is what a dropped renewal used to hold.
            let b = b.timeout(Duration::from_secs(30));
            if limited { b.rate_limit(4) } else { b }
        });
        if limited {
            // A permit taken just before, so the dropped call waits in the queue.
            let _ =
                tokio::time::timeout(Duration::ZERO, client.share_query_cert_info(&query)).await;
        }
        let dropped = tokio::time::timeout(
            Duration::from_millis(*drop_ms),
            client.share_query_cert_info(&query),
        )
        .await;
        let started = Instant::now();
        let next = tokio::time::timeout(
            Duration::from_secs(5),
            client.share_query_cert_info(&query),
        )
        .await
        .unwrap_or_else(|_| {
            panic!("dropped at {drop_ms} ms (rate-limited: {limited}): the next call took over 5 s")
        });
        let took = started.elapsed();
        assert!(next.unwrap().found(), "dropped at {drop_ms} ms");
        // At most: a rate-limit slot, the token request, the share request, and slack.
        let bound =
            Duration::from_millis(250) + TOKEN_DELAY + SHARE_DELAY + Duration::from_millis(700);
        assert!(
            took < bound,
            "dropped at {drop_ms} ms (rate-limited: {limited}, first call {}): the next call took {took:?}",
            if dropped.is_ok() {
                "finished"
            } else {
                "dropped"
            }
        );
        // One token request per client, whatever was dropped: a token being obtained
        // when its caller went away is kept, not thrown away and asked for again.
        token_requests += 1;
        assert_eq!(
            client.token_requests(),
            1,
            "dropped at {drop_ms} ms (rate-limited: {limited})"
        );
    }
    grant.assert_calls_async(token_requests).await;
    assert!(share.calls_async().await >= drops_ms.len());
}
