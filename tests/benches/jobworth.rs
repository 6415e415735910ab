//! The Alipay v3 jobworth query end to end: `zhima-api` against a bare client doing the
//! same work by hand (reqwest, one aws-lc-rs RSA-2048 signature over the v3 content, one
//! verification of the answer's signature, `serde_json` into the same result struct),
//! both against one static, correctly signed answer served on loopback by a server on a
//! thread of its own; client runtime with one worker; concurrency 1 and 16.
//!
//! Prints throughput, the ratio SDK / bare, and the time of one call split into signing,
//! verification, a bare HTTP round trip (the same request and answer, no cryptography)
//! and the rest, with the limit `1 / (sign + verify + HTTP)`.
//!
//! Then, with the server in a process of its own, the CPU time one call costs each
//! side's client process (user + system from `getrusage`, a long run minus a short run,
//! alternating rounds: median and range) against that server and against a server that
//! never sleeps (see `support/polling_server.rs`), with the SDK's difference to the bare
//! client in microseconds: both sign and verify once per call, so the difference is
//! what the SDK does outside RSA and the round trip.
//!
//! `cargo bench -p credkit-tests --bench jobworth` (`BENCH_REQUESTS`, `BENCH_BATCHES`;
//! `BENCH_CPU=0` skips the CPU times, `BENCH_CPU_ROUNDS`, `BENCH_CPU_SHORT`,
//! `BENCH_CPU_LONG` size them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

#[path = "support/cpu.rs"]
#[allow(dead_code)] // each benchmark uses part of it
mod cpu;
#[path = "support/hyper_server.rs"]
mod hyper_server;
#[path = "support/polling_server.rs"]
mod polling_server;
#[path = "support/roles.rs"]
mod roles;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zhima_api::{Client, JobworthAuthentication, JobworthAuthenticationResult};

const APP_ID: &str = "2021009900000001";
const APP_PRIVATE: &str =
    include_str!("../../crates/zhima-api/tests/fixtures/app_private_pkcs8.pem");
const ALIPAY_PRIVATE: &str =
    include_str!("../../crates/zhima-api/tests/fixtures/alipay_private.pem");
const ALIPAY_PUBLIC: &str = include_str!("../../crates/zhima-api/tests/fixtures/alipay_public.pem");
const PATH: &str = "/v3/zhima/customer/jobworth/authentication";
const ONCE_TOKEN: &str = "bench-once-token-0001";
const USER_ID: &str = "2088102910292100";
const BODY: &str = r#"{"identity_result":"SUCCESS","identity_result_skip_url":"https://render.alipay.com/p/yuyan/180020010001196791/index.html","merchant_identity_id":"credkit-bench-0001","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","token_status":"FINISH","user_id":"2088102910292100"}"#;

/// DER of a PEM block.
fn der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64.trim()).unwrap()
}

fn key_pair(pem: &str) -> RsaKeyPair {
    let der = der(pem);
    RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| RsaKeyPair::from_der(&der))
        .unwrap()
}

fn sign(key: &RsaKeyPair, content: &[u8]) -> String {
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        content,
        &mut sig,
    )
    .unwrap();
    STANDARD.encode(sig)
}

/// The static answer's headers: signed once, at start (fresh for 15 minutes).
fn signed_headers() -> Vec<(&'static str, String)> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let nonce = "bench0nonce0000000000000000000001".to_owned();
    let content = format!("{timestamp}\n{nonce}\n{BODY}\n");
    let signature = sign(&key_pair(ALIPAY_PRIVATE), content.as_bytes());
    vec![
        ("alipay-timestamp", timestamp),
        ("alipay-nonce", nonce),
        ("alipay-signature", signature),
        ("alipay-trace-id", "0b2a4c6e17339810000001001".to_owned()),
        ("content-type", "application/json; charset=utf-8".to_owned()),
    ]
}

/// What a careful hand-written client does.
struct Bare {
    http: reqwest::Client,
    base: String,
    key: RsaKeyPair,
    alipay: UnparsedPublicKey<Vec<u8>>,
}

/// `%XX` for everything but unreserved characters (what the v3 query needs).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Bare {
    fn new(base: &str) -> Self {
        let spki = der(ALIPAY_PUBLIC);
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            base: base.to_owned(),
            key: key_pair(APP_PRIVATE),
            // The SPKI's subjectPublicKey is what aws-lc-rs verifies against: a parsed
            // public key from the DER (as the SDK does once per client).
            alipay: UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, spki),
        }
    }

    fn query() -> String {
        format!(
            "once_token={}&user_id={}",
            encode(ONCE_TOKEN),
            encode(USER_ID)
        )
    }

    async fn call(&self, with_crypto: bool) {
        let query = Self::query();
        let path_and_query = format!("{PATH}?{query}");
        let mut request = self.http.get(format!("{}{path_and_query}", self.base));
        if with_crypto {
            let nonce = format!("{:032x}", fastrand::u128(..));
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            let auth = format!("app_id={APP_ID},nonce={nonce},timestamp={timestamp}");
            let content = format!("{auth}\nGET\n{path_and_query}\n\n");
            let signature = sign(&self.key, content.as_bytes());
            request = request
                .header(
                    "authorization",
                    format!("ALIPAY-SHA256withRSA {auth},sign={signature}"),
                )
                .header("accept", "application/json");
        }
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (timestamp, nonce, signature) = (
            header("alipay-timestamp").unwrap(),
            header("alipay-nonce").unwrap(),
            header("alipay-signature").unwrap(),
        );
        let body = response.bytes().await.unwrap();
        if with_crypto {
            let mut content = Vec::with_capacity(body.len() + 64);
            for part in [timestamp.as_bytes(), nonce.as_bytes(), &body[..]] {
                content.extend_from_slice(part);
                content.push(b'\n');
            }
            let sig = STANDARD.decode(signature).unwrap();
            self.alipay.verify(&content, &sig).unwrap();
        }
        let result: JobworthAuthenticationResult = serde_json::from_slice(&body).unwrap();
        std::hint::black_box(result);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Bare,
    Sdk,
    Http,
}

async fn run(side: Side, n: usize, concurrency: usize, sdk: &Client, bare: &Arc<Bare>) -> f64 {
    let per_task = (n / concurrency).max(1);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (sdk, bare) = (sdk.clone(), bare.clone());
        tasks.push(tokio::spawn(async move {
            let q = JobworthAuthentication::new()
                .once_token(ONCE_TOKEN)
                .user_id(USER_ID);
            for _ in 0..per_task {
                match side {
                    Side::Sdk => {
                        let answer = sdk.jobworth_authentication(&q).await.unwrap();
                        assert!(answer.found());
                    }
                    Side::Bare => bare.call(true).await,
                    Side::Http => bare.call(false).await,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per_task * concurrency) as f64 / start.elapsed().as_secs_f64()
}

/// Microseconds per operation of `op`, over about half a second.
fn micros(mut op: impl FnMut()) -> f64 {
    for _ in 0..50 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(500) {
        op();
        n += 1;
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

/// The SDK client of both the throughput runs and the client role.
fn sdk_client(base: &str) -> Client {
    Client::builder()
        .app_id(APP_ID)
        .private_key(APP_PRIVATE)
        .alipay_public_key(ALIPAY_PUBLIC)
        .base_url(base)
        .rate_limit(10_000_000)
        .build()
        .unwrap()
}

/// `BENCH_ROLE=client`: `BENCH_N` calls of `BENCH_SIDE` (`sdk`, `bare` or `http`), one
/// at a time, to the server at `BENCH_URL`; nothing printed (timed by its parent).
fn client_only() {
    cpu::pin_if_asked(0);
    let base = std::env::var("BENCH_URL").unwrap();
    let n = roles::env_usize("BENCH_N", 100);
    let side = match std::env::var("BENCH_SIDE").as_deref() {
        Ok("sdk") => Side::Sdk,
        Ok("http") => Side::Http,
        _ => Side::Bare,
    };
    let rt = roles::client_runtime();
    rt.block_on(async {
        let (sdk, bare) = (sdk_client(&base), Arc::new(Bare::new(&base)));
        run(side, n, 1, &sdk, &bare).await;
    });
}

/// `BENCH_ROLE=server`: the hyper server, or (`BENCH_SERVER=polling`) the polling one
/// with the same signed answer; prints its address and serves until killed.
fn server_only() -> ! {
    cpu::pin_if_asked(cpu::last_cpu());
    let addr = if std::env::var("BENCH_SERVER").is_ok_and(|v| v == "polling") {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for (name, value) in signed_headers() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", BODY.len()));
        polling_server::start([head.as_bytes(), BODY.as_bytes()].concat())
    } else {
        hyper_server::start(signed_headers(), BODY)
    };
    println!("{addr}");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// CPU time per call of each side's client process at concurrency 1, against the hyper
/// server and against the polling server, each in a process of its own.
fn cpu_times() {
    if std::env::var("BENCH_CPU").is_ok_and(|v| v == "0") {
        return;
    }
    let rounds = roles::env_usize("BENCH_CPU_ROUNDS", 5).max(1);
    let (short, long) = (
        roles::env_usize("BENCH_CPU_SHORT", 300),
        roles::env_usize("BENCH_CPU_LONG", 3_300),
    );
    for (kind, label) in [
        ("hyper", "the hyper server (it sleeps between requests)"),
        ("polling", "a polling server (it never sleeps)"),
    ] {
        let (mut server, base) = roles::server_process(kind);
        let measured = cpu::per_call(
            &["http", "bare", "sdk"],
            rounds,
            short,
            long,
            |side, calls| {
                let mut command = std::process::Command::new(std::env::current_exe().unwrap());
                command
                    .env("BENCH_ROLE", "client")
                    .env("BENCH_SIDE", side)
                    .env("BENCH_N", calls.to_string())
                    .env("BENCH_URL", &base);
                command
            },
        );
        let _ = server.kill();
        let _ = server.wait();
        let (http, bare, sdk) = (&measured[0], &measured[1], &measured[2]);
        println!(
            "cpu per call at concurrency 1 against {label} (client process, user + system, {} calls = {long} - {short}, median (range) of {rounds} rounds):",
            long - short
        );
        println!(
            "  http {} µs, bare {} µs, sdk {} µs; sdk - bare {} µs, sdk / bare {}",
            cpu::totals(http),
            cpu::totals(bare),
            cpu::totals(sdk),
            cpu::differences(sdk, bare),
            cpu::ratios(sdk, bare)
        );
    }
}

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("client") => return client_only(),
        Ok("server") => server_only(),
        _ => {}
    }
    let requests = roles::env_usize("BENCH_REQUESTS", 6_000);
    let batches = roles::env_usize("BENCH_BATCHES", 30).max(1);
    let addr = hyper_server::start(signed_headers(), BODY);
    let base = format!("http://{addr}");
    // Signing and verification alone, on this thread.
    let key = key_pair(APP_PRIVATE);
    let content = format!(
        "app_id={APP_ID},nonce=0123456789abcdef0123456789abcdef,timestamp=1733000000000\nGET\n{PATH}?{}\n\n",
        Bare::query()
    );
    let sign_us = micros(|| {
        std::hint::black_box(sign(&key, content.as_bytes()));
    });
    let headers = signed_headers();
    let verify_content = format!("{}\n{}\n{BODY}\n", headers[0].1, headers[1].1);
    let sig = STANDARD.decode(&headers[2].1).unwrap();
    let public = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der(ALIPAY_PUBLIC));
    let verify_us = micros(|| {
        public.verify(verify_content.as_bytes(), &sig).unwrap();
    });
    let rt = roles::client_runtime();
    rt.block_on(async {
        let sdk = sdk_client(&base);
        let bare = Arc::new(Bare::new(&base));
        println!(
            "jobworth: {requests} requests per side and concurrency, {batches} alternating batches, one client worker"
        );
        println!(
            "{:>11} {:>10} {:>10} {:>10} {:>10}",
            "concurrency", "http/s", "bare/s", "sdk/s", "sdk/bare"
        );
        for concurrency in [1usize, 16] {
            for side in [Side::Http, Side::Bare, Side::Sdk] {
                run(side, requests / 20, concurrency, &sdk, &bare).await;
            }
            let batch = (requests / batches).max(concurrency);
            let (mut t_http, mut t_bare, mut t_sdk, mut done) = (0.0, 0.0, 0.0, 0usize);
            for i in 0..batches {
                let mut order = [Side::Http, Side::Bare, Side::Sdk];
                order.rotate_left(i % 3);
                for side in order {
                    let rate = run(side, batch, concurrency, &sdk, &bare).await;
                    let secs = (batch / concurrency * concurrency) as f64 / rate;
                    match side {
                        Side::Http => t_http += secs,
                        Side::Bare => t_bare += secs,
                        Side::Sdk => t_sdk += secs,
                    }
                }
                done += batch / concurrency * concurrency;
            }
            let (h, b, s) = (
                done as f64 / t_http,
                done as f64 / t_bare,
                done as f64 / t_sdk,
            );
            println!(
                "{concurrency:>11} {h:>10.0} {b:>10.0} {s:>10.0} {:>10.3}",
                s / b
            );
            if concurrency == 1 {
                let http_us = 1e6 / h;
                let limit = 1e6 / (sign_us + verify_us + http_us);
                let sdk_us = 1e6 / s;
                let bare_us = 1e6 / b;
                println!(
                    "  one call at concurrency 1: sign {sign_us:.1} µs + verify {verify_us:.1} µs + bare HTTP {http_us:.1} µs = {:.1} µs (limit {limit:.0}/s)",
                    sign_us + verify_us + http_us
                );
                println!(
                    "  bare {bare_us:.1} µs (rest {:.1} µs), sdk {sdk_us:.1} µs (rest {:.1} µs); sdk / limit {:.3}",
                    bare_us - sign_us - verify_us - http_us,
                    sdk_us - sign_us - verify_us - http_us,
                    s / limit
                );
            }
        }
    });
    cpu_times();
}
