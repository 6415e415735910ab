//! `cred --redis`: separate `cred` processes share one provider rate limit and the
//! licence platform's token through a real `redis-server`; the sandbox's arrival times
//! and token count are the judge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "../../cred-redis/tests/common/mod.rs"]
mod redis_server;

use std::process::{Command, Stdio};

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use redis_server::{RedisServer, max_per_second, sandbox_arrivals, sandbox_token_requests};

async fn arrivals(sandbox: &Sandbox) -> Vec<u64> {
    sandbox_arrivals(sandbox.base_url(), "/credential/query").await
}

/// `n` `cred` processes at once, each with `env` and `args`; all must succeed.
fn run_cred(n: usize, env: &[(&str, &str)], args: &[&str]) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_cred"))
                .env_remove("CRED_REDIS_URL")
                .env_remove("CRED_REDIS_TOKEN_KEY")
                .envs(env.iter().copied())
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
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

/// `n` `cred` processes at once, each making one call at `--rate-limit 4`.
fn run_processes(sandbox: &Sandbox, redis: Option<&str>, n: usize) {
    let mut args = vec!["--base-url", sandbox.base_url(), "--rate-limit", "4"];
    if let Some(url) = redis {
        args.extend(["--redis", url, "--redis-namespace", "cli-test"]);
    }
    args.extend([
        "jumdata",
        "credential",
        "--name",
        "王小明",
        "--idcard",
        "321083197812162119",
    ]);
    let env = [
        ("JUMDATA_APP_ID", JUMDATA_APP_ID),
        ("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET),
    ];
    run_cred(n, &env, &args);
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

/// `n` `cred zz-license info` processes at once, with the sandbox's test account.
fn run_zz_processes(zz_base_url: &str, redis: Option<&str>, token_key: Option<&str>, n: usize) {
    use cred_sandbox::credentials::*;
    let mut env = vec![
        ("ZZ_LICENSE_BASE_URL", zz_base_url),
        ("ZZ_LICENSE_USERNAME", ZZ_LICENSE_USERNAME),
        ("ZZ_LICENSE_PASSWORD", ZZ_LICENSE_PASSWORD),
        ("ZZ_LICENSE_CLIENT_ID", ZZ_LICENSE_CLIENT_ID),
        ("ZZ_LICENSE_CLIENT_SECRET", ZZ_LICENSE_CLIENT_SECRET),
    ];
    if let Some(url) = redis {
        env.push(("CRED_REDIS_URL", url));
    }
    if let Some(key) = token_key {
        env.push(("CRED_REDIS_TOKEN_KEY", key));
    }
    let args = [
        "zz-license",
        "info",
        "--certificate-id",
        cred_sandbox::zz_license::FIXTURE_IDS[0],
        "--system-name",
        "credkit 测试平台",
        "--call-category",
        "1",
        "--matter-name",
        "证照核验",
        "--event-code",
        "1137000000450258552372014020002",
        "--cause",
        "自动化测试",
    ];
    run_cred(n, &env, &args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while `cred` runs
async fn cred_processes_share_one_licence_platform_token_through_redis() {
    let Some(redis) = RedisServer::start("cli-token") else {
        return;
    };
    let alone = Sandbox::start().await.unwrap();
    let zz = alone.zz_license_base_url();
    tokio::task::block_in_place(|| run_zz_processes(&zz, None, None, 6));
    let unshared = sandbox_token_requests(alone.base_url()).await;
    let shared_sandbox = Sandbox::start().await.unwrap();
    let zz = shared_sandbox.zz_license_base_url();
    let url = redis.url();
    // A test key, generated for this test: tokens are sealed in Redis.
    let key = cred_redis::TokenKey::generate().unwrap();
    let key = key.to_base64().expose().to_owned();
    tokio::task::block_in_place(|| run_zz_processes(&zz, Some(&url), Some(&key), 6));
    let shared = sandbox_token_requests(shared_sandbox.base_url()).await;
    eprintln!(
        "6 cred zz-license processes: {unshared} token requests alone, {shared} through Redis"
    );
    assert_eq!(unshared, 6);
    assert_eq!(shared, 1);
}
