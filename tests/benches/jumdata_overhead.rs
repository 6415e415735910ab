//! SDK overhead benchmark: the same Jumdata credential queries sent through `jumdata-api`
//! and through a bare `reqwest` request with identical parameters (signed the same way),
//! to one in-process loopback server, at concurrency 1 and 64.
//!
//! Prints the throughput of each and the ratio SDK / bare, both measured in the same run
//! (short batches interleaved, totals compared); then, with the server in a process of
//! its own, the CPU time one call costs each side's client process (user + system from
//! `getrusage`, a long run minus a short run, several alternating rounds: median and
//! range), and the CPU instructions and first-level cache misses one call costs,
//! counted by `valgrind --tool=callgrind --cache-sim=yes` (these counts do not move with
//! the machine's load; CPU time also weighs the kernel, branches and the real caches).
//! Run with:
//!
//! ```text
//! cargo bench -p credkit-tests --bench jumdata_overhead
//! BENCH_REQUESTS=100000 BENCH_BATCHES=200 cargo bench -p credkit-tests --bench jumdata_overhead
//! tests/benches/instructions.sh    # installs valgrind when missing, then runs this
//! ```
//!
//! `BENCH_CPU=0` skips the CPU times (`BENCH_CPU_ROUNDS`, `BENCH_CPU_SHORT`,
//! `BENCH_CPU_LONG` size them); `BENCH_INSTRUCTIONS=0` skips the instruction counts;
//! without `valgrind` they are skipped with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/cpu.rs"]
#[allow(dead_code)] // each benchmark uses part of it
mod cpu;
#[path = "support/hyper_server.rs"]
mod hyper_server;
#[path = "support/polling_server.rs"]
mod polling_server;
#[path = "support/roles.rs"]
mod roles;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jumdata_api::{Client, CredentialQuery};

const APP_ID: &str = "credkit-bench-app";
const APP_SECRET: &str = "credkit-bench-secret-not-real";
const NAME: &str = "王小明";
const ID_NUMBER: &str = "321083197812162119";

const BODY: &str = r#"{"code":200,"msg":"成功","taskNo":"59355643664825785568","charge":true,"data":{"count":1,"items":[{"occupation":"电器计量工","quaType":1,"quaLevel":"三级/高级技能","certificateNo":"137000********5448","mechanismName":"质量技术监督行业职业技能鉴定指导中心","reportingUnit":"质量技术监督行业职业技能鉴定指导中心","reportingTime":"","issuingTime":"2013年07月08日","educationLevel":"","scores":"","theoryScores":"","operationScores":""}]}}"#;

/// The answer's envelope, decoded by hand into plain structs of its documented fields
/// (serde derive only: nothing of the SDK's decoders, so the baseline does not move
/// when the SDK changes).
#[derive(serde::Deserialize)]
struct Envelope {
    code: i64,
    data: Option<Data>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)] // decoded to measure the decoding
struct Data {
    count: Option<i64>,
    items: Vec<Item>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // decoded to measure the decoding
struct Item {
    occupation: Option<String>,
    qua_type: Option<i64>,
    qua_level: Option<String>,
    certificate_no: Option<String>,
    mechanism_name: Option<String>,
    reporting_unit: Option<String>,
    reporting_time: Option<String>,
    issuing_time: Option<String>,
    education_level: Option<String>,
    scores: Option<String>,
    theory_scores: Option<String>,
    operation_scores: Option<String>,
}

/// What a careful hand-written client does: sign, send the form, decode the JSON into
/// typed structs, check the code.
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
    let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(envelope.code, 200);

    assert!(envelope.data.is_some_and(|d| !d.items.is_empty()));
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

/// The two clients, built the same way for the throughput and the instruction counts.
fn clients(base: &str) -> (Client, reqwest::Client) {
    // Both clients: one pooled reqwest client, same timeouts. The SDK keeps its rate
    // limiter on (quota far above the load, so it never waits) and its retry policy.
    let sdk = Client::builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .base_url(base)
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
    (sdk, bare)
}

/// `BENCH_ROLE=client`: `BENCH_N` calls of `BENCH_SIDE` (`sdk` or `bare`) by
/// `BENCH_CONCURRENCY` tasks (1 by default) to the server at `BENCH_URL`; nothing
/// printed (run under valgrind, or timed by its parent).
fn client_only() {
    cpu::pin_if_asked(0);
    let base = std::env::var("BENCH_URL").unwrap();
    let n = roles::env_usize("BENCH_N", 100);
    let concurrency = roles::env_usize("BENCH_CONCURRENCY", 1).max(1);
    let side = match std::env::var("BENCH_SIDE").as_deref() {
        Ok("sdk") | Ok("sdk-recorded") => Side::Sdk,
        _ => Side::Bare,
    };
    if std::env::var("BENCH_SIDE").as_deref() == Ok("sdk-recorded") {
        // What an operator runs: the Prometheus recorder (no listener needed to record).
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .unwrap();
    }
    let rt = roles::client_runtime();
    rt.block_on(async {
        let (sdk, bare) = clients(&base);
        let url: Arc<str> = format!("{base}/credential/query").into();
        run(side, n, concurrency, &sdk, &bare, &url).await;
    });
}

/// The client role's command: `calls` calls of `side` by `concurrency` tasks.
fn client_command(
    side: &str,
    calls: usize,
    concurrency: usize,
    base: &str,
) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .env("BENCH_ROLE", "client")
        .env("BENCH_SIDE", side)
        .env("BENCH_N", calls.to_string())
        .env("BENCH_CONCURRENCY", concurrency.to_string())
        .env("BENCH_URL", base);
    command
}

/// CPU time per call of each side's client process (user + system), at concurrency 1
/// and 64: long run minus short run, `BENCH_CPU_ROUNDS` alternating rounds, against the
/// server at `base` (`server` names it in the output).
fn cpu_times(server: &str, base: &str) {
    let rounds = roles::env_usize("BENCH_CPU_ROUNDS", 5).max(1);
    let (short, long) = (
        roles::env_usize("BENCH_CPU_SHORT", 2_000),
        roles::env_usize("BENCH_CPU_LONG", 22_000),
    );
    println!(
        "cpu per call against {server} (client process, user + system, {} calls = {long} - {short}, median (range) of {rounds} rounds):",
        long - short
    );
    for concurrency in [1usize, 64] {
        let measured = cpu::per_call(&["bare", "sdk"], rounds, short, long, |side, calls| {
            client_command(side, calls, concurrency, base)
        });
        let (bare, sdk) = (&measured[0], &measured[1]);
        let ((bu, bs), (su, ss)) = (cpu::split(bare), cpu::split(sdk));
        println!(
            "  c={concurrency:<2} bare {} µs (user {bu:.2}, sys {bs:.2}), sdk {} µs (user {su:.2}, sys {ss:.2}), sdk / bare {}",
            cpu::totals(bare),
            cpu::totals(sdk),
            cpu::ratios(sdk, bare)
        );
    }
}

/// What `valgrind --tool=callgrind --cache-sim=yes` counts in a client process making
/// `n` calls: instructions, and first-level cache misses (instruction fetch, data read,
/// data write) of valgrind's model of this machine's caches.
fn counts_for(side: &str, n: usize, base: &str) -> [f64; 4] {
    let out = std::env::temp_dir().join(format!(
        "credkit-callgrind-{}-{side}-{n}.out",
        std::process::id()
    ));
    let client = client_command(side, n, 1, base);
    let status = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(client.get_program())
        .envs(client.get_envs().filter_map(|(k, v)| Some((k, v?))))
        // valgrind warns on stderr that it models the last-level cache on L3 (unused
        // here); a failure still shows in the status.
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "valgrind failed");
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let events: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))
        .unwrap()
        .split_whitespace()
        .collect();
    let totals: Vec<f64> = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let get = |name: &str| {
        events
            .iter()
            .position(|e| *e == name)
            .map_or(0.0, |i| totals[i])
    };
    [get("Ir"), get("I1mr"), get("D1mr"), get("D1mw")]
}

/// Instructions per call of each side: the difference between a long and a short run
/// (start-up, connection set-up and warm-up cancel out), in processes of their own.
fn instructions(base: &str) {
    if std::env::var("BENCH_INSTRUCTIONS").is_ok_and(|v| v == "0") {
        return;
    }
    let found = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!(
            "instructions: skipped, valgrind not found (tests/benches/instructions.sh installs it)"
        );
        return;
    }
    let (short, long) = (
        roles::env_usize("BENCH_INSTR_SHORT", 200),
        roles::env_usize("BENCH_INSTR_LONG", 1_200),
    );
    let counts = |side: &str| {
        let a = counts_for(side, short, base);
        let b = counts_for(side, long, base);
        let calls = (long - short) as f64;
        [0, 1, 2, 3].map(|i| (b[i] - a[i]) / calls)
    };
    let per_call = |side: &str| counts(side)[0];
    let ([bare, bare_i1, bare_d1r, bare_d1w], [sdk, sdk_i1, sdk_d1r, sdk_d1w]) =
        (counts("bare"), counts("sdk"));
    println!(
        "instructions per call (callgrind, client process, {} calls): bare {bare:.0}, sdk {sdk:.0}, sdk / bare {:.3}",
        long - short,
        sdk / bare
    );
    // A miss in the first-level caches costs about ten instructions' time when the
    // second level has the line: instructions alone do not weigh a larger code path
    // or a larger future. Deterministic like the instruction count.
    let (bare_misses, sdk_misses) = (bare_i1 + bare_d1r + bare_d1w, sdk_i1 + sdk_d1r + sdk_d1w);
    let (bare_cost, sdk_cost) = (bare + 10.0 * bare_misses, sdk + 10.0 * sdk_misses);
    println!(
        "  L1 misses per call (valgrind's cache model; instruction, data read, data write): bare {bare_i1:.0} + {bare_d1r:.0} + {bare_d1w:.0}, sdk {sdk_i1:.0} + {sdk_d1r:.0} + {sdk_d1w:.0}"
    );
    println!(
        "  instructions + 10 x L1 misses: bare {bare_cost:.0}, sdk {sdk_cost:.0}, sdk / bare {:.3}",
        sdk_cost / bare_cost
    );
    // The recorder's storage (crossbeam-epoch reclamation between the runtime's threads)
    // does not cost the same on every run: three runs, the median and the range.
    let mut recorded: Vec<f64> = (0..3).map(|_| per_call("sdk-recorded")).collect();
    recorded.sort_by(f64::total_cmp);
    let pct = |v: f64| (v - sdk) / sdk * 100.0;
    println!(
        "  sdk with a Prometheus recorder installed: median {:.0} ({:+.2} % of the call; runs {:+.2} % to {:+.2} %)",
        recorded[1],
        pct(recorded[1]),
        pct(recorded[0]),
        pct(recorded[2])
    );
}

/// The hyper server answering Jumdata's success envelope.
fn start_server_in_thread() -> SocketAddr {
    hyper_server::start(
        vec![("content-type", "application/json;charset=UTF-8".to_owned())],
        BODY,
    )
}

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("client") => return client_only(),
        Ok("server") => {
            cpu::pin_if_asked(cpu::last_cpu());
            let addr = if std::env::var("BENCH_SERVER").is_ok_and(|v| v == "polling") {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\n\r\n",
                    BODY.len()
                );
                polling_server::start([head.as_bytes(), BODY.as_bytes()].concat())
            } else {
                start_server_in_thread()
            };
            println!("{addr}");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        _ => {}
    }
    let requests = roles::env_usize("BENCH_REQUESTS", 40_000);
    let batches = roles::env_usize("BENCH_BATCHES", 80).max(1);
    let addr = start_server_in_thread();
    let base = format!("http://{addr}");
    let url: Arc<str> = format!("{base}/credential/query").into();

    let rt = roles::client_runtime();
    rt.block_on(async {
        let (sdk, bare) = clients(&base);

        println!(
            "jumdata_overhead: {requests} requests per side and concurrency, {batches} alternating batches"
        );
        // What each in-flight call holds (64 of them at concurrency 64): its future.
        let request = CredentialQuery::new(NAME, ID_NUMBER);
        println!(
            "future of one call: bare {} bytes, sdk {} bytes",
            std::mem::size_of_val(&bare_call(&bare, &url)),
            std::mem::size_of_val(&sdk_call(&sdk, &request))
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
    // CPU times and instruction counts: the server in a process of its own, so only
    // the client counts.
    let off = |name: &str| std::env::var(name).is_ok_and(|v| v == "0");
    if off("BENCH_CPU") && off("BENCH_INSTRUCTIONS") {
        return;
    }
    if !off("BENCH_CPU") {
        for (kind, label) in [
            ("hyper", "the hyper server (it sleeps between requests)"),
            ("polling", "a polling server (it never sleeps)"),
        ] {
            let (mut server, base) = roles::server_process(kind);
            cpu_times(label, &base);
            let _ = server.kill();
            let _ = server.wait();
        }
    }
    if !off("BENCH_INSTRUCTIONS") {
        let (mut server, base) = roles::server_process("hyper");
        instructions(&base);
        let _ = server.kill();
        let _ = server.wait();
    }
}
