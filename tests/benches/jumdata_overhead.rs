//! SDK overhead benchmark: the same Jumdata credential queries sent through `jumdata-api`
//! and through a bare `reqwest` request with identical parameters (signed the same way),
//! to one in-process loopback server, at concurrency 1 and 64.
//!
//! Prints the throughput of each and the ratio SDK / bare, both measured in the same run
//! (short batches interleaved, totals compared). Run with:
//!
//! ```text
//! cargo bench -p credkit-tests --bench jumdata_overhead
//! BENCH_REQUESTS=100000 BENCH_BATCHES=200 cargo bench -p credkit-tests --bench jumdata_overhead
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jumdata_api::{Client, CredentialQuery};

const APP_ID: &str = "credkit-bench-app";
const APP_SECRET: &str = "credkit-bench-secret-not-real";
const NAME: &str = "王小明";
const ID_NUMBER: &str = "321083197812162119";

const BODY: &str = r#"{"code":200,"msg":"成功","taskNo":"59355643664825785568","charge":true,"data":{"count":1,"items":[{"occupation":"电器计量工","quaType":1,"quaLevel":"三级/高级技能","certificateNo":"137000********5448","mechanismName":"质量技术监督行业职业技能鉴定指导中心","reportingUnit":"质量技术监督行业职业技能鉴定指导中心","reportingTime":"","issuingTime":"2013年07月08日","educationLevel":"","scores":"","theoryScores":"","operationScores":""}]}}"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A minimal HTTP/1.1 server on its own thread and runtime: reads the body, answers BODY.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/json;charset=UTF-8")
                                .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                                .unwrap(),
                        )
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// What a careful hand-written client does: sign, send the form, parse the JSON, check.
async fn bare_call(http: &reqwest::Client, url: &str) {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let sign = jumdata_api::sign(APP_ID, APP_SECRET, ts.parse().unwrap());
    let body = form_body(&[
        ("appId", APP_ID),
        ("timestamp", &ts),
        ("sign", &sign),
        ("name", NAME),
        ("idcard", ID_NUMBER),
    ]);
    let resp = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let bytes = resp.bytes().await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["code"], 200);
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn sdk_call(client: &Client, request: &CredentialQuery) {
    let answer = client.credential_query(request).await.unwrap();
    assert!(answer.found());
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Bare,
    Sdk,
}

/// Sends `n` requests with `concurrency` tasks; returns requests per second.
async fn run(
    side: Side,
    n: usize,
    concurrency: usize,
    sdk: &Client,
    bare: &reqwest::Client,
    url: &Arc<str>,
) -> f64 {
    let per_task = n / concurrency;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let sdk = sdk.clone();
        let bare = bare.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let request = CredentialQuery::new(NAME, ID_NUMBER);
            for _ in 0..per_task {
                match side {
                    Side::Sdk => sdk_call(&sdk, &request).await,
                    Side::Bare => bare_call(&bare, &url).await,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per_task * concurrency) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let requests = env_usize("BENCH_REQUESTS", 40_000);
    let batches = env_usize("BENCH_BATCHES", 80).max(1);
    let addr = start_server();
    let base = format!("http://{addr}");
    let url: Arc<str> = format!("{base}/credential/query").into();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Both clients: one pooled reqwest client, same timeouts. The SDK keeps its rate
        // limiter on (quota far above the load, so it never waits) and its retry policy.
        let sdk = Client::builder()
            .credentials(APP_ID, APP_SECRET)
            .base_url(base.clone())
            .rate_limit(10_000_000)
            .build()
            .unwrap();
        let bare = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .user_agent("credkit-jumdata-api/0.1.0")
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .unwrap();

        println!(
            "jumdata_overhead: {requests} requests per side and concurrency, {batches} alternating batches"
        );
        println!("{:>11} {:>14} {:>14} {:>12}", "concurrency", "bare req/s", "sdk req/s", "sdk / bare");
        for concurrency in [1usize, 64] {
            let n = requests;
            // Warm-up: open connections, fill caches.
            run(Side::Bare, n / 10, concurrency, &sdk, &bare, &url).await;
            run(Side::Sdk, n / 10, concurrency, &sdk, &bare, &url).await;
            // Many short batches, alternating sides and order, so that drift and noise
            // (two cores shared with the server) fall on both sides alike.
            let batch = (n / batches).max(concurrency);
            let (mut bare_time, mut sdk_time, mut done) = (0.0, 0.0, 0usize);
            for i in 0..batches {
                let order = if i % 2 == 0 { [Side::Bare, Side::Sdk] } else { [Side::Sdk, Side::Bare] };
                for side in order {
                    let rate = run(side, batch, concurrency, &sdk, &bare, &url).await;
                    let secs = (batch / concurrency * concurrency) as f64 / rate;
                    match side {
                        Side::Bare => bare_time += secs,
                        Side::Sdk => sdk_time += secs,
                    }
                }
                done += batch / concurrency * concurrency;
            }
            let (b, s) = (done as f64 / bare_time, done as f64 / sdk_time);
            println!("{concurrency:>11} {b:>14.0} {s:>14.0} {:>12.3}", s / b);
        }
    });
}
