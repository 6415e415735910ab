//! A real `redis-server` for the tests, started on a Unix socket in a temporary
//! directory (no port to collide on, no state kept). Without `redis-server` on the PATH
//! the tests fail when `CI` is set and are skipped with a loud message otherwise.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server, or `None` (after saying so) when there is no `redis-server`.
    pub fn start(name: &str) -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            if std::env::var_os("CI").is_some() {
                panic!("redis-server is not on the PATH: .ci/run must install it");
            }
            eprintln!(
                "\n*** SKIPPED {name}: redis-server is not on the PATH (apt-get install redis-server) ***\n"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "cred-redis-test-{}-{name}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer { dir, child: None };
        server.run();
        Some(server)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    fn run(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        while !self.socket().exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `redis+unix:///.../redis.sock`.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// Kills the server (SIGKILL): Redis is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Starts it again on the same socket (empty: no state kept).
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fastrand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

/// The most admissions in any one-second window of `times_ms` (sorted).
pub fn max_per_second(times_ms: &[u64]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times_ms.len() {
        while times_ms[end] - times_ms[start] >= 1000 {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// The arrival times (ms, sorted) of the calls to `path` at the sandbox at `base_url`,
/// from its `GET /__sandbox/stats`.
pub async fn sandbox_arrivals(base_url: &str, path: &str) -> Vec<u64> {
    let text = reqwest::get(format!("{base_url}/__sandbox/stats"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut times: Vec<u64> = stats["paths"][path]["arrivals_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_u64()).collect())
        .unwrap_or_default();
    times.sort_unstable();
    times
}
