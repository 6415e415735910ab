//! What the audit ledger costs: calls per second through the sandbox with every call
//! recorded (`Ledger::audit`, committed before the call returns) against the same calls
//! unrecorded, in one run; and how fast `verify` reads a large ledger.
//!
//! `cargo bench -p cred-ledger --bench ledger` (`BENCH_CALLS`, `BENCH_BATCHES`,
//! `BENCH_RECORDS` to change the sizes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use std::sync::Arc;
use std::time::{Duration, Instant};

use cred_core::Charged;
use cred_ledger::{Entry, Ledger, LedgerOptions, Outcome, SubjectKind};
use jumdata_api::{Client, CredentialQuery};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ids(n: usize) -> Vec<String> {
    (0..n as u64)
        .map(|i| cred_sandbox::credentials::test_resident_id(1000 + i % 5000))
        .collect()
}

/// `n` calls by `concurrency` tasks, recorded in `ledger` when given; the time taken.
async fn calls(
    client: &Client,
    ledger: Option<&Ledger>,
    people: &Arc<Vec<String>>,
    n: usize,
    concurrency: usize,
) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (client, ledger, people) = (client.clone(), ledger.cloned(), people.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while i < n {
                let request = CredentialQuery::new("王小明", &people[i % people.len()]);
                match &ledger {
                    None => {
                        client.credential_query(&request).await.unwrap();
                    }
                    Some(ledger) => {
                        let (answer, recorded) = ledger
                            .audit(
                                "bench",
                                Some("benchmark"),
                                "jumdata",
                                "credential",
                                &request,
                                client.credential_query(&request),
                            )
                            .await;
                        answer.unwrap();
                        recorded.unwrap();
                    }
                }
                i += concurrency;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

/// `batches` alternating batches of `per` calls each, off then on and on then off in
/// turn (drift falls on both alike); the summed times (off, on).
async fn alternate(
    client: &Client,
    ledger: &Ledger,
    people: &Arc<Vec<String>>,
    per: usize,
    batches: usize,
    concurrency: usize,
) -> (Duration, Duration) {
    let (mut off, mut on) = (Duration::ZERO, Duration::ZERO);
    for b in 0..batches {
        if b % 2 == 0 {
            off += calls(client, None, people, per, concurrency).await;
            on += calls(client, Some(ledger), people, per, concurrency).await;
        } else {
            on += calls(client, Some(ledger), people, per, concurrency).await;
            off += calls(client, None, people, per, concurrency).await;
        }
    }
    (off, on)
}

fn main() {
    let total = env_usize("BENCH_CALLS", 20_000);
    let batches = env_usize("BENCH_BATCHES", 20).max(2);
    let records = env_usize("BENCH_RECORDS", 200_000);
    let dir = std::env::temp_dir().join(format!("cred-ledger-bench-{}", std::process::id()));
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
        let ledger = Ledger::open(dir.join("calls.ledger"), LedgerOptions::default()).unwrap();
        let people = Arc::new(ids(5000));
        println!("ledger: {total} calls per side and concurrency through the sandbox, {batches} alternating batches");
        println!("concurrency     off calls/s      on calls/s   on / off");
        for concurrency in [1, 16, 64] {
            calls(&client, None, &people, 200, concurrency).await;
            calls(&client, Some(&ledger), &people, 200, concurrency).await;
            let per = total / batches;
            let (off, on) = alternate(&client, &ledger, &people, per, batches, concurrency).await;
            let rate = |d: Duration| (per * batches) as f64 / d.as_secs_f64();
            println!(
                "{concurrency:>11} {:>15.0} {:>15.0} {:>10.3}",
                rate(off),
                rate(on),
                rate(on) / rate(off)
            );
        }
        // A provider that answers in 20 ms (the sandbox's slow input), as a real one over
        // a network does: the commit's wait is then a small part of each call.
        let slow = cred_sandbox::Sandbox::start_with(cred_sandbox::SandboxConfig {
            slow_delay: Duration::from_millis(20),
            ..cred_sandbox::SandboxConfig::default()
        })
        .await
        .unwrap();
        let slow_client = Client::builder()
            .app_id(cred_sandbox::credentials::JUMDATA_APP_ID)
            .app_secret(cred_sandbox::credentials::JUMDATA_APP_SECRET)
            .base_url(slow.base_url())
            .rate_limit(0)
            .build()
            .unwrap();
        let slow_people = Arc::new(vec!["110101199003070126".to_owned()]);
        let per = env_usize("BENCH_SLOW_CALLS", 400);
        let (off, on) = alternate(&slow_client, &ledger, &slow_people, per, 4, 16).await;
        println!(
            "  a provider answering in 20 ms, concurrency 16: off {:.0} calls/s, on {:.0}, on / off {:.3} ({} calls each)",
            (4 * per) as f64 / off.as_secs_f64(),
            (4 * per) as f64 / on.as_secs_f64(),
            off.as_secs_f64() / on.as_secs_f64(),
            4 * per
        );
        let fsynced = Ledger::open(dir.join("fsync.ledger"), LedgerOptions::default().fsync(true)).unwrap();
        let per = (total / 4).max(100);
        let off = calls(&client, None, &people, per, 16).await;
        let on = calls(&client, Some(&fsynced), &people, per, 16).await;
        println!(
            "  with fsync on every group commit, concurrency 16: on / off {:.3} ({per} calls each)",
            off.as_secs_f64() / on.as_secs_f64()
        );
    });

    // verify: a ledger of `records` records, written through group commits.
    let path = dir.join("verify.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let started = Instant::now();
    let mut last = None;
    for i in 0..records {
        let p = ledger.record(
            Entry::new(
                "batch:ops",
                "jumdata",
                "credential",
                Outcome::Found,
                Charged::Yes,
            )
            .purpose(Some("annual re-check"))
            .subject(SubjectKind::IdNumber, "321083197812162119")
            .subject(SubjectKind::Name, "王小明"),
        );
        if i % 50_000 == 49_999 {
            p.wait().unwrap();
        } else {
            last = Some(p);
        }
    }
    if let Some(p) = last {
        p.wait().unwrap();
    }
    drop(ledger);
    let written = started.elapsed();
    let started = Instant::now();
    let v = cred_ledger::verify(&path, None).unwrap();
    let took = started.elapsed();
    assert!(v.is_ok());
    println!(
        "verify: {records} records in {:.2} s, {:.0} records/s (written at {:.0} records/s from one thread, group commits)",
        took.as_secs_f64(),
        records as f64 / took.as_secs_f64(),
        records as f64 / written.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
