//! `cred batch` throughput and memory against the sandbox, beside the same calls made
//! directly through the SDK in the same run.
//!
//! `cargo bench -p cred-cli --bench batch`. Environment: `BENCH_ROWS` (default 100,000),
//! `BENCH_CONCURRENCY` (64), `BENCH_RATED_ROWS` (20,000: the `--rate-limit 1000` run),
//! `BENCH_MILLION=1` to add the 1,000,000-row dry run and real run (minutes).
//!
//! 1. SDK: `BENCH_ROWS` credential queries through one `jumdata_api::Client` (no rate
//!    limit), `BENCH_CONCURRENCY` at a time, in a child process (this benchmark started
//!    again), as `cred` is: rows/s, three runs.
//! 2. Batch: `cred batch jumdata credential` over a CSV of the same rows, same
//!    concurrency, no rate limit, journal on disk: rows/s over the whole command (plan,
//!    sends, output), three runs, and the ratio of the medians to 1.
//! 3. Rated: `--rate-limit 1000` over `BENCH_RATED_ROWS` rows: the rate the sandbox saw
//!    (its arrival times) ÷ 1,000.
//! 4. Peak resident memory of each `cred` process (`VmHWM`, polled).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A valid resident ID number, different for every `n`, never a magic input.
fn id(n: u64) -> String {
    cred_sandbox::credentials::test_resident_id(n)
}

fn write_csv(path: &Path, rows: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "name,idcard").unwrap();
    for n in 0..rows {
        writeln!(f, "王小明,{}", id(n)).unwrap();
    }
    f.flush().unwrap();
}

/// Runs `cred` with `args`; wall time and peak resident memory (KiB).
fn run_cred(base_url: &str, args: &[&str]) -> (Duration, u64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cred"))
        .env("JUMDATA_APP_ID", JUMDATA_APP_ID)
        .env("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
        .env_remove("CRED_REDIS_URL")
        .args(["--base-url", base_url])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(0),
        "cred failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, peak)
}

async fn sdk_rate(base_url: &str, rows: u64, concurrency: u64) -> f64 {
    let client = jumdata_api::Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(base_url)
        .rate_limit(0)
        .build()
        .unwrap();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next) = (client.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= rows {
                    break;
                }
                let q = jumdata_api::CredentialQuery::new("王小明", id(n));
                client.credential_query(&q).await.unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    rows as f64 / started.elapsed().as_secs_f64()
}

async fn arrival_rate(base_url: &str) -> (f64, u64) {
    let text = reqwest::get(format!("{base_url}/__sandbox/stats"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut times: Vec<u64> = stats["paths"]["/credential/query"]["arrivals_ms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_u64())
        .collect();
    times.sort_unstable();
    let span = (times[times.len() - 1] - times[0]) as f64 / 1000.0;
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= 1000 {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    ((times.len() - 1) as f64 / span, best as u64)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cred-batch-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The SDK side, run as a child process: prints its rows/s.
fn sdk_worker(url: &str, rows: u64, concurrency: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rate = runtime.block_on(sdk_rate(url, rows, concurrency));
    println!("{rate}");
}

/// Runs the SDK side in a child process.
fn sdk_in_child(url: &str, rows: u64, concurrency: u64) -> f64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("BENCH_WORKER_URL", url)
        .env("BENCH_ROWS", rows.to_string())
        .env("BENCH_CONCURRENCY", concurrency.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let rows = setting("BENCH_ROWS", 100_000);
    if let Ok(url) = std::env::var("BENCH_WORKER_URL") {
        return sdk_worker(&url, rows, setting("BENCH_CONCURRENCY", 64));
    }
    let concurrency = setting("BENCH_CONCURRENCY", 64);
    let rated = setting("BENCH_RATED_ROWS", 20_000);
    let million = std::env::var("BENCH_MILLION").is_ok_and(|v| v == "1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir();
    let c = concurrency.to_string();
    runtime.block_on(async {
        println!("batch: {rows} rows, concurrency {concurrency}, sandbox in this process");
        // 1. The SDK alone, then 2. the batch over the same rows: three runs each,
        //    alternating, against one sandbox.
        let input = dir.join("rows.csv");
        write_csv(&input, rows);
        let sandbox = Sandbox::start().await.unwrap();
        let url = sandbox.base_url().to_owned();
        let args_of = |input: &Path, extra: &[&str]| -> Vec<String> {
            let mut a: Vec<String> = vec![
                "--rate-limit".into(),
                "0".into(),
                "batch".into(),
                "jumdata".into(),
                "credential".into(),
                "--concurrency".into(),
                c.clone(),
                "--input".into(),
                input.display().to_string(),
                "--output".into(),
                dir.join("out.jsonl").display().to_string(),
            ];
            a.extend(extra.iter().map(|s| (*s).to_owned()));
            a
        };
        tokio::task::block_in_place(|| sdk_in_child(&url, 2_000, concurrency));
        let (mut sdk_runs, mut batch_runs, mut batch_peak) = (Vec::new(), Vec::new(), 0);
        for run in 0..3 {
            sdk_runs.push(tokio::task::block_in_place(|| {
                sdk_in_child(&url, rows, concurrency)
            }));
            let journal = dir.join(format!("run{run}.journal")).display().to_string();
            let args = args_of(&input, &["--journal", &journal]);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let (elapsed, peak) = tokio::task::block_in_place(|| run_cred(&url, &argv));
            batch_runs.push(rows as f64 / elapsed.as_secs_f64());
            batch_peak = batch_peak.max(peak);
        }
        let show = |v: &[f64]| {
            v.iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (sdk, batch) = (median(sdk_runs.clone()), median(batch_runs.clone()));
        println!(
            "{:<44} {:>10.0} rows/s   runs {}",
            "SDK, direct (child process)",
            sdk,
            show(&sdk_runs)
        );
        println!(
            "{:<44} {:>10.0} rows/s   runs {}   ratio {:.3}   peak {} MiB",
            "cred batch (journal, output)",
            batch,
            show(&batch_runs),
            batch / sdk,
            batch_peak / 1024
        );
        // Dry run of the same rows (a fresh journal path: nothing on disk).
        let dry_args = args_of(
            &input,
            &[
                "--dry-run",
                "--journal",
                &dir.join("dry.journal").display().to_string(),
            ],
        );
        let argv: Vec<&str> = dry_args.iter().map(String::as_str).collect();
        let (dry_elapsed, dry_peak) = tokio::task::block_in_place(|| run_cred(&url, &argv));
        println!(
            "{:<44} {:>10.1} s              peak {} MiB",
            format!("dry run, {rows} rows"),
            dry_elapsed.as_secs_f64(),
            dry_peak / 1024
        );
        drop(sandbox);
        // 3. At --rate-limit 1000.
        let rated_input = dir.join("rated.csv");
        write_csv(&rated_input, rated);
        let sandbox = Sandbox::start().await.unwrap();
        let mut args = args_of(
            &rated_input,
            &[
                "--journal",
                &dir.join("rated.journal").display().to_string(),
            ],
        );
        args[1] = "1000".into();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        tokio::task::block_in_place(|| run_cred(sandbox.base_url(), &argv));
        let (rate, max_window) = arrival_rate(sandbox.base_url()).await;
        println!(
            "{:<44} {:>10.1} rows/s   ratio {:.4}   max one-second window {max_window}",
            format!("--rate-limit 1000, {rated} rows"),
            rate,
            rate / 1000.0
        );
        drop(sandbox);
        if million {
            let big = dir.join("million.csv");
            write_csv(&big, 1_000_000);
            let sandbox = Sandbox::start().await.unwrap();
            let journal = dir.join("million.journal").display().to_string();
            let dry = args_of(&big, &["--dry-run", "--journal", &journal]);
            let argv: Vec<&str> = dry.iter().map(String::as_str).collect();
            let (e, peak) = tokio::task::block_in_place(|| run_cred(sandbox.base_url(), &argv));
            println!(
                "{:<44} {:>10.1} s              peak {} MiB",
                "dry run, 1,000,000 rows",
                e.as_secs_f64(),
                peak / 1024
            );
            let real = args_of(&big, &["--journal", &journal]);
            let argv: Vec<&str> = real.iter().map(String::as_str).collect();
            let (e, peak) = tokio::task::block_in_place(|| run_cred(sandbox.base_url(), &argv));
            println!(
                "{:<44} {:>10.0} rows/s   {:.0} s   peak {} MiB",
                "cred batch, 1,000,000 rows",
                1_000_000.0 / e.as_secs_f64(),
                e.as_secs_f64(),
                peak / 1024
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
