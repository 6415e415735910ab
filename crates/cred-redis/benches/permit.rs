//! What one shared permit costs: `RedisRateLimiter::acquire` against a real
//! `redis-server` (started here, on a Unix socket and on TCP loopback) beside the local
//! `LocalRateLimiter`, measured in the same run. Rates are set far above the load so
//! that nobody waits: the figure is the permit itself (one Lua script round trip).
//!
//! Then what looking up the shared token costs (`TokenStore::get`, once per licence-
//! platform call): in memory, on Redis as stored, and on Redis sealed with AES-256-GCM.
//!
//! `cargo bench -p cred-redis --bench permit` (`BENCH_PERMITS` to change the count).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use std::num::NonZeroU32;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cred_core::{
    CallSite, LocalRateLimiter, MemoryTokenStore, NewToken, RateLimiter, Secret, TokenStore,
};
use cred_redis::{RedisRateLimiter, RedisTokenStore, TokenKey};

const SITE: CallSite = CallSite::new("jumdata", "credential_query");

struct Server(Child, std::path::PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn redis_server(port: u16) -> Server {
    let dir = std::env::temp_dir().join(format!("cred-redis-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--unixsocket",
        ])
        .arg(dir.join("redis.sock"))
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server)");
    let start = Instant::now();
    while !dir.join("redis.sock").exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    Server(child, dir)
}

async fn per_permit(limiter: &dyn RateLimiter, n: u32) -> Duration {
    for _ in 0..1000 {
        limiter.acquire(SITE).await.unwrap();
    }
    let start = Instant::now();
    for _ in 0..n {
        if !limiter.try_acquire(SITE) {
            limiter.acquire(SITE).await.unwrap();
        }
    }
    start.elapsed() / n
}

async fn per_get(store: &dyn TokenStore, n: u32) -> Duration {
    let lease = store
        .try_lease("bench", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    let token = NewToken::new(
        Secret::from("f54922eb-62da-43df-acee-c2e7d69b0a9c".to_owned()),
        Some(Secret::from(
            "bc2d74f1-88ad-42ad-af9d-12b4d57d16bf".to_owned(),
        )),
        Duration::from_secs(3600),
    );
    store.publish("bench", &lease, token).await.unwrap();
    for _ in 0..1000 {
        store.get("bench").await.unwrap().unwrap();
    }
    let start = Instant::now();
    for _ in 0..n {
        store.get("bench").await.unwrap().unwrap();
    }
    start.elapsed() / n
}

fn main() {
    let n: u32 = std::env::var("BENCH_PERMITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let port = 16379 + (std::process::id() % 1000) as u16;
    let server = redis_server(port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fast = NonZeroU32::new(1_000_000_000).unwrap();
    runtime.block_on(async {
        let local = LocalRateLimiter::per_second(fast);
        let unix = RedisRateLimiter::builder(
            format!("redis+unix://{}", server.1.join("redis.sock").display()),
            NonZeroU32::new(1_000_000).unwrap(),
        )
        .provider("bench")
        .account("unix")
        .build()
        .unwrap();
        let tcp = RedisRateLimiter::builder(
            format!("redis://127.0.0.1:{port}"),
            NonZeroU32::new(1_000_000).unwrap(),
        )
        .provider("bench")
        .account("tcp")
        .build()
        .unwrap();
        let l = per_permit(&local, n).await;
        let u = per_permit(&unix, n).await;
        let t = per_permit(&tcp, n).await;
        println!("permit: {n} permits each, one caller, current-thread runtime");
        println!("{:<34} {:>10}", "limiter", "µs/permit");
        println!(
            "{:<34} {:>10.3}",
            "local (LocalRateLimiter)",
            l.as_secs_f64() * 1e6
        );
        println!(
            "{:<34} {:>10.1}",
            "Redis, Unix socket (1 round trip)",
            u.as_secs_f64() * 1e6
        );
        println!(
            "{:<34} {:>10.1}",
            "Redis, TCP loopback (1 round trip)",
            t.as_secs_f64() * 1e6
        );
        let unix_url = format!("redis+unix://{}", server.1.join("redis.sock").display());
        let memory = MemoryTokenStore::new();
        let plain = RedisTokenStore::builder(unix_url.as_str())
            .namespace("bench-plain")
            .build()
            .unwrap();
        let sealed = RedisTokenStore::builder(unix_url.as_str())
            .namespace("bench-sealed")
            .token_key(TokenKey::generate().unwrap())
            .build()
            .unwrap();
        let m = per_get(&memory, n).await;
        let p = per_get(&plain, n).await;
        let s = per_get(&sealed, n).await;
        println!("token lookup: {n} gets each");
        println!("{:<34} {:>10}", "store", "µs/get");
        println!("{:<34} {:>10.3}", "memory", m.as_secs_f64() * 1e6);
        println!(
            "{:<34} {:>10.1}",
            "Redis, Unix socket",
            p.as_secs_f64() * 1e6
        );
        println!(
            "{:<34} {:>10.1}",
            "Redis, Unix socket, sealed",
            s.as_secs_f64() * 1e6
        );
    });
}
