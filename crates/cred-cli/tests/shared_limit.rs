//! `cred --redis`: separate `cred` processes share one provider rate limit through a real
//! `redis-server`; the sandbox's arrival times are the judge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "../../cred-redis/tests/common/mod.rs"]
mod redis_server;

use std::process::{Command, Stdio};

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use redis_server::{RedisServer, max_per_second, sandbox_arrivals};

async fn arrivals(sandbox: &Sandbox) -> Vec<u64> {
    sandbox_arrivals(sandbox.base_url(), "/credential/query").await
}

/// `n` `cred` processes at once, each making one call at `--rate-limit 4`.
fn run_processes(sandbox: &Sandbox, redis: Option<&str>, n: usize) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
            c.env_remove("CRED_REDIS_URL")
                .env("JUMDATA_APP_ID", JUMDATA_APP_ID)
                .env("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
                .args(["--base-url", sandbox.base_url(), "--rate-limit", "4"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if let Some(url) = redis {
                c.args(["--redis", url, "--redis-namespace", "cli-test"]);
            }
            c.args([
                "jumdata",
                "credential",
                "--name",
                "王小明",
                "--idcard",
                "321083197812162119",
            ]);
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while `cred` runs
async fn cred_processes_share_one_rate_through_redis() {
    let Some(redis) = RedisServer::start("cli") else {
        return;
    };
    // Without Redis every process has its own limit: ten calls land at once.
    let alone = Sandbox::start().await.unwrap();
    let sandbox = &alone;
    tokio::task::block_in_place(|| run_processes(sandbox, None, 10));
    let times = arrivals(&alone).await;
    assert_eq!(times.len(), 10);
    let unshared = max_per_second(&times);
    // With Redis they share 4 a second.
    let shared_sandbox = Sandbox::start().await.unwrap();
    let sandbox = &shared_sandbox;
    let url = redis.url();
    tokio::task::block_in_place(|| run_processes(sandbox, Some(&url), 10));
    let times = arrivals(&shared_sandbox).await;
    assert_eq!(times.len(), 10);
    let shared = max_per_second(&times);
    eprintln!(
        "10 cred processes at --rate-limit 4: max one-second window {unshared} alone, {shared} through Redis"
    );
    assert!(
        unshared > 4,
        "the processes did not overlap ({unshared}): the test proves nothing"
    );
    // Permits are exactly 250 ms apart; ten processes starting at once reach the sandbox
    // with some tens of milliseconds of jitter after their permit, which can put a fifth
    // arrival just inside a window. Sharing is what this shows: 10 at once alone.
    assert!(shared <= 5, "{shared} calls in one second through Redis");
    let span = times[times.len() - 1] - times[0];
    assert!(span >= 2000, "ten calls at 4/s took only {span} ms");
}
