//! What the gateway adds: the same Jumdata calls against the sandbox made in process
//! (the SDK) and through the gateway over loopback HTTP (reqwest → gateway → SDK →
//! sandbox), with and without the audit ledger, measured in one run.
//!
//! - c=1: latency per call (p50, p99) of each path; the gateway's added latency is the
//!   difference from the in-process call.
//! - c=64: calls per second of each path; the gateway's as a ratio of the in-process.
//!
//! Sides alternate in batches so that drift falls on all alike. `cargo bench -p
//! cred-gateway --bench gateway` (`BENCH_SEQUENTIAL`, `BENCH_CONCURRENT`,
//! `BENCH_BATCHES` to change the sizes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use std::sync::Arc;
use std::time::{Duration, Instant};

use cred_gateway::{Caller, Callers, Clients, Gateway};
use jumdata_api::{Client, IdcardCheck};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq)]
enum Path {
    Sdk,
    /// The least any HTTP front can do: an axum route that reads the JSON, makes the
    /// SDK call and writes the result (no keys, checks, idempotency or ledger).
    BareHop,
    Gateway,
    GatewayLedger,
}

struct Setup {
    client: Client,
    http: reqwest::Client,
    plain: String,
    ledgered: String,
    bare: String,
    key: String,
    people: Arc<Vec<String>>,
}

impl Setup {
    async fn one(&self, path: Path, i: usize) {
        let id = &self.people[i % self.people.len()];
        match path {
            Path::Sdk => {
                self.client
                    .idcard_check(&IdcardCheck::new("王小明", id))
                    .await
                    .unwrap();
            }
            Path::BareHop | Path::Gateway | Path::GatewayLedger => {
                let base = match path {
                    Path::Gateway => &self.plain,
                    Path::GatewayLedger => &self.ledgered,
                    _ => &self.bare,
                };
                let r = self
                    .http
                    .post(format!("{base}/v1/jumdata/idcard"))
                    .bearer_auth(&self.key)
                    .header("X-Credkit-Purpose", "benchmark")
                    .header("Content-Type", "application/json")
                    .body(format!("{{\"name\":\"王小明\",\"idcard\":\"{id}\"}}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        }
    }

    /// `n` calls one after another: each call's latency.
    async fn sequential(&self, path: Path, n: usize, offset: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let started = Instant::now();
            self.one(path, offset + i).await;
            out.push(started.elapsed());
        }
        out
    }

    /// `n` calls by `c` tasks: the time taken.
    async fn concurrent(self: &Arc<Self>, path: Path, n: usize, c: usize) -> Duration {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..c {
            let setup = self.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = t;
                while i < n {
                    setup.one(path, i).await;
                    i += c;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        started.elapsed()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[derive(serde::Deserialize)]
struct Person {
    name: String,
    idcard: String,
}

/// The bare hop's server.
async fn serve_bare(client: Client) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/v1/jumdata/idcard",
        post(move |body: axum::body::Bytes| {
            let client = client.clone();
            async move {
                let p: Person = serde_json::from_slice(&body).unwrap();
                let answer = client
                    .idcard_check(&IdcardCheck::new(p.name, p.idcard))
                    .await
                    .unwrap();
                serde_json::to_string(&answer.result()).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(cred_gateway::serve(
        listener,
        app,
        Default::default(),
        std::future::pending(),
    ));
    url
}

async fn serve(gateway: Gateway) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(cred_gateway::serve(
        listener,
        gateway.router(),
        Default::default(),
        std::future::pending(),
    ));
    url
}

fn main() {
    let sequential = env_usize("BENCH_SEQUENTIAL", 3_000);
    let concurrent = env_usize("BENCH_CONCURRENT", 20_000);
    let batches = env_usize("BENCH_BATCHES", 4).max(2);
    let dir = std::env::temp_dir().join(format!("cred-gateway-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = cred_sandbox::Sandbox::start().await.unwrap();
        let client = Client::builder()
            .app_id(cred_sandbox::credentials::JUMDATA_APP_ID)
            .app_secret(cred_sandbox::credentials::JUMDATA_APP_SECRET)
            .base_url(sandbox.base_url())
            .rate_limit(0)
            .build()
            .unwrap();
        let key = cred_gateway::generate_key().unwrap();
        let callers = || {
            Callers::new(vec![Caller::new("bench", &key.digest, vec!["*".into()]).unwrap()])
                .unwrap()
        };
        let mut clients = Clients::default();
        clients.jumdata = Some(client.clone());
        let plain = Gateway::builder()
            .clients(clients.clone())
            .callers(callers())
            .build()
            .unwrap();
        let ledger =
            cred_ledger::Ledger::open(dir.join("bench.ledger"), Default::default()).unwrap();
        let ledgered = Gateway::builder()
            .clients(clients)
            .callers(callers())
            .ledger(ledger)
            .build()
            .unwrap();
        let setup = Arc::new(Setup {
            client: client.clone(),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(128)
                .build()
                .unwrap(),
            plain: serve(plain).await,
            ledgered: serve(ledgered).await,
            bare: serve_bare(client.clone()).await,
            key: key.key.expose().to_owned(),
            people: Arc::new(
                (0..5000u64)
                    .map(|i| cred_sandbox::credentials::test_resident_id(2000 + i))
                    .collect(),
            ),
        });
        let paths = [Path::Sdk, Path::BareHop, Path::Gateway, Path::GatewayLedger];
        let name = |p: Path| match p {
            Path::Sdk => "SDK in process",
            Path::BareHop => "bare HTTP hop",
            Path::Gateway => "gateway",
            Path::GatewayLedger => "gateway + ledger",
        };
        // Warm-up: connections, the ledger, caches.
        for p in paths {
            setup.sequential(p, 200, 0).await;
            setup.concurrent(p, 2_000, 64).await;
        }

        println!(
            "gateway: c=1, {sequential} calls per path in {batches} alternating batches (latency per call)"
        );
        let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); paths.len()];
        let per = sequential / batches;
        for b in 0..batches {
            let order: Vec<usize> = if b % 2 == 0 { vec![0, 1, 2, 3] } else { vec![3, 2, 1, 0] };
            for k in order {
                let got = setup.sequential(paths[k], per, b * per).await;
                latencies[k].extend(got);
            }
        }
        for l in &mut latencies {
            l.sort_unstable();
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("path                   p50 µs     p99 µs   added p50 µs   added p99 µs");
        for (k, p) in paths.iter().enumerate() {
            let (p50, p99) = (percentile(&latencies[k], 0.5), percentile(&latencies[k], 0.99));
            let (b50, b99) = (percentile(&latencies[0], 0.5), percentile(&latencies[0], 0.99));
            println!(
                "{:<18} {:>10.0} {:>10.0} {:>14.0} {:>14.0}",
                name(*p),
                us(p50),
                us(p99),
                us(p50) - us(b50),
                us(p99) - us(b99)
            );
        }

        println!(
            "gateway: c=64, {concurrent} calls per path in {batches} alternating batches (throughput)"
        );
        let mut times = [Duration::ZERO; 4];
        let per = concurrent / batches;
        for b in 0..batches {
            let order: Vec<usize> = if b % 2 == 0 { vec![0, 1, 2, 3] } else { vec![3, 2, 1, 0] };
            for k in order {
                times[k] += setup.concurrent(paths[k], per, 64).await;
            }
        }
        let rate = |d: Duration| (per * batches) as f64 / d.as_secs_f64();
        println!("path                  calls/s   / SDK in process");
        for (k, p) in paths.iter().enumerate() {
            println!(
                "{:<18} {:>10.0} {:>17.3}",
                name(*p),
                rate(times[k]),
                rate(times[k]) / rate(times[0])
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
