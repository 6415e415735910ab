//! Several OS processes (this test binary, started again as workers) share one rate
//! through a real `redis-server`, calling one sandbox through the Jumdata SDK; the
//! sandbox's arrival times are the judge. `CRED_REDIS_TEST_PROCESSES` (default 4),
//! `_RATE` (200) and `_SECONDS` (10) change the run, e.g. 8 processes sharing 500/s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{RedisServer, max_per_second, sandbox_arrivals};
use cred_redis::RedisRateLimiter;
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};

const CALLERS: usize = 8;

/// `CRED_REDIS_TEST_<name>`, or `default`.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(format!("CRED_REDIS_TEST_{name}"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn seconds() -> u64 {
    setting("SECONDS", 10)
}

fn rate() -> u32 {
    setting("RATE", 200) as u32
}

/// The worker: run only as a child process of the test below (`--ignored --exact`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process of shared_rate_across_processes, started by it"]
async fn worker() {
    let redis = std::env::var("WORKER_REDIS").unwrap();
    let sandbox = std::env::var("WORKER_SANDBOX").unwrap();
    let limiter = RedisRateLimiter::builder(redis, NonZeroU32::new(rate()).unwrap())
        .provider("jumdata")
        .account(JUMDATA_APP_ID)
        .build()
        .unwrap();
    let client = jumdata_api::Client::builder()
        .credentials(JUMDATA_APP_ID, JUMDATA_APP_SECRET)
        .base_url(sandbox)
        .rate_limiter(Arc::new(limiter))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let client = client.clone();
        tasks.spawn(async move {
            let query = jumdata_api::CredentialQuery::new("王小明", "321083197812162119");
            let mut n = 0u32;
            while Instant::now() < deadline {
                client.credential_query(&query).await.unwrap();
                n += 1;
            }
            n
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap();
    }
    println!("worker calls: {total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_rate_across_processes() {
    let Some(redis) = RedisServer::start("processes") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let exe = std::env::current_exe().unwrap();
    let (processes, rate) = (setting("PROCESSES", 4) as usize, rate());
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "worker", "--nocapture"])
                .env("WORKER_REDIS", redis.url())
                .env("WORKER_SANDBOX", sandbox.base_url())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for out in &outputs {
        assert!(
            out.status.success(),
            "worker failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let times = sandbox_arrivals(sandbox.base_url(), "/credential/query").await;
    let max = max_per_second(&times);
    let span = (times[times.len() - 1] - times[0]) as f64 / 1000.0;
    let ratio = times.len() as f64 / (f64::from(rate) * span + 1.0);
    eprintln!(
        "{processes} processes x {CALLERS} callers sharing {rate}/s for {} s: {} calls at the sandbox in {span:.2} s; max one-second window {max} ({:.3} of the rate); total / (rate x span) {ratio:.4}",
        seconds(),
        times.len(),
        max as f64 / f64::from(rate)
    );
    // Permits are exactly 1/rate apart (server time); each call reaches the sandbox a
    // few milliseconds after its permit, and that jitter (processes on a busy 2-core
    // machine) can move a call or two across a window edge: 1% (at least 2) is allowed.
    let slack = (rate as usize / 100).max(2);
    assert!(
        max <= rate as usize + slack,
        "a one-second window held {max}"
    );
    assert!(
        (0.99..=1.01).contains(&ratio),
        "total / (rate x span) = {ratio:.4}"
    );
}
