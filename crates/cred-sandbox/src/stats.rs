//! `GET /__sandbox/stats`: what reached the sandbox, so tests and users can check rates
//! and single flight from outside: requests per path, token requests, and the arrival
//! time of each of the last [`KEPT_ARRIVALS`] requests, per path; and
//! `POST /__sandbox/zz-license/revoke`, which revokes the licence platform's tokens.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Shared;

/// The path of the statistics (not counted itself).
pub const STATS_PATH: &str = "/__sandbox/stats";

/// Revokes the licence platform's tokens (`POST`), so that tests can watch clients
/// meet `invalid_token` and re-authenticate.
pub const REVOKE_PATH: &str = "/__sandbox/zz-license/revoke";

/// How many arrival times are kept (the oldest are dropped first).
pub const KEPT_ARRIVALS: usize = 100_000;

#[derive(Debug, Default)]
struct Inner {
    counts: BTreeMap<Arc<str>, u64>,
    arrivals: VecDeque<(Arc<str>, u64)>,
}

/// Request counts and arrival times.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    inner: Mutex<Inner>,
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a request to `path` arriving at `at_ms` (milliseconds since the epoch).
    pub(crate) fn record(&self, path: &str, at_ms: u64) {
        if path.starts_with("/__sandbox/") {
            return;
        }
        let mut inner = self.lock();
        let key = match inner.counts.get_key_value(path) {
            Some((k, _)) => k.clone(),
            None => Arc::from(path),
        };
        *inner.counts.entry(key.clone()).or_insert(0) += 1;
        if inner.arrivals.len() == KEPT_ARRIVALS {
            inner.arrivals.pop_front();
        }
        inner.arrivals.push_back((key, at_ms));
    }

    /// The statistics as JSON.
    pub(crate) fn to_json(&self, token_requests: u64) -> Value {
        let inner = self.lock();
        let mut paths = serde_json::Map::new();
        for (path, count) in &inner.counts {
            let arrivals: Vec<u64> = inner
                .arrivals
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, at)| *at)
                .collect();
            paths.insert(
                path.to_string(),
                json!({"count": count, "arrivals_ms": arrivals}),
            );
        }
        json!({
            "requests": inner.counts.values().sum::<u64>(),
            "token_requests": token_requests,
            "arrivals_kept": inner.arrivals.len(),
            "arrivals_limit": KEPT_ARRIVALS,
            "paths": paths,
        })
    }
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(STATS_PATH, get(stats))
        .route(REVOKE_PATH, axum::routing::post(revoke))
        .with_state(shared)
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let token_requests = crate::zz_license::token_requests(&shared);
    crate::common::json_response(
        axum::http::StatusCode::OK,
        shared.stats.to_json(token_requests).to_string(),
    )
}

async fn revoke(State(shared): State<Arc<Shared>>) -> Response {
    let revoked = crate::zz_license::revoke_tokens(&shared);
    crate::common::json_response(
        axum::http::StatusCode::OK,
        json!({ "revoked": revoked }).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_arrivals_per_path_and_the_oldest_arrivals_dropped() {
        let stats = Stats::default();
        stats.record("/a", 1);
        stats.record("/b", 2);
        stats.record("/a", 3);
        stats.record("/__sandbox/stats", 4);
        let v = stats.to_json(7);
        assert_eq!(v["requests"], 3);
        assert_eq!(v["token_requests"], 7);
        assert_eq!(v["paths"]["/a"]["count"], 2);
        assert_eq!(v["paths"]["/a"]["arrivals_ms"], json!([1, 3]));
        assert_eq!(v["paths"]["/b"]["arrivals_ms"], json!([2]));
        for i in 0..KEPT_ARRIVALS as u64 {
            stats.record("/c", 10 + i);
        }
        let v = stats.to_json(0);
        assert_eq!(v["arrivals_kept"], KEPT_ARRIVALS);
        assert_eq!(v["paths"]["/a"]["count"], 2, "counts are kept whole");
        assert_eq!(v["paths"]["/a"]["arrivals_ms"], json!([]), "oldest dropped");
        assert_eq!(v["paths"]["/c"]["count"], KEPT_ARRIVALS);
    }
}
