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
    password: Option<String>,
}

impl RedisServer {
    /// Starts a server, or `None` (after saying so) when there is no `redis-server`.
    pub fn start(name: &str) -> Option<RedisServer> {
        Self::start_with(name, None)
    }

    /// Starts a server that requires `password` (`requirepass`).
    pub fn start_with_password(name: &str, password: &str) -> Option<RedisServer> {
        Self::start_with(name, Some(password.to_owned()))
    }

    fn start_with(name: &str, password: Option<String>) -> Option<RedisServer> {
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
        let mut server = RedisServer {
            dir,
            child: None,
            password,
        };
        server.run();
        Some(server)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    fn run(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let mut command = Command::new("redis-server");
        command
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir);
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let child = command
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

    /// `redis+unix:///.../redis.sock` (with `?pass=` when the server has a password).
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => self.url_with_password(p),
            None => format!("redis+unix://{}", self.socket().display()),
        }
    }

    /// The server's URL with `password` (right or wrong).
    pub fn url_with_password(&self, password: &str) -> String {
        format!("redis+unix://{}?pass={password}", self.socket().display())
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
    let stats = sandbox_stats(base_url).await;
    let mut times: Vec<u64> = stats["paths"][path]["arrivals_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_u64()).collect())
        .unwrap_or_default();
    times.sort_unstable();
    times
}

/// An audit context the sandbox accepts.
pub fn zz_audit() -> zz_license_api::AuditContext {
    zz_license_api::AuditContext::new()
        .system_name("credkit 测试平台")
        .call_category(zz_license_api::CallCategory::NonMatter)
        .matter_name("证照核验")
        .event_code("1137000000450258552372014020002")
        .copy_cause("自动化测试")
}

/// A licence-platform client on the sandbox at `zz_base_url` (its
/// `zz_license_base_url()`), no client-side rate limit, no retries but the
/// re-authentication after `invalid_token`.
pub fn zz_builder(zz_base_url: &str) -> zz_license_api::ClientBuilder {
    use cred_sandbox::credentials::*;
    zz_license_api::Client::builder()
        .base_url(zz_base_url)
        .username(ZZ_LICENSE_USERNAME)
        .password(ZZ_LICENSE_PASSWORD)
        .client_id(ZZ_LICENSE_CLIENT_ID)
        .client_secret(ZZ_LICENSE_CLIENT_SECRET)
        .audit(zz_audit())
        .retry(cred_core::RetryPolicy::none())
        .rate_limit(0)
        .timeout(Duration::from_secs(5))
}

/// One licence query through `client` (a fixture licence: always found).
pub async fn zz_query(
    client: &zz_license_api::Client,
) -> Result<cred_core::Answer<zz_license_api::Licences>, cred_core::Error> {
    client
        .share_query_cert_info(&zz_license_api::ShareQueryCertInfo::new(
            cred_sandbox::zz_license::FIXTURE_IDS[0],
        ))
        .await
}

/// Sends `request` and parses its answer as JSON.
pub async fn json_answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    let text = request.send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The sandbox's `GET /__sandbox/stats`.
pub async fn sandbox_stats(base_url: &str) -> serde_json::Value {
    json_answer(reqwest::Client::new().get(format!("{base_url}/__sandbox/stats"))).await
}

/// The sandbox's count of token requests, from `GET /__sandbox/stats`.
pub async fn sandbox_token_requests(base_url: &str) -> u64 {
    sandbox_stats(base_url).await["token_requests"]
        .as_u64()
        .unwrap()
}

/// Revokes the sandbox's licence-platform access tokens.
pub async fn sandbox_revoke(base_url: &str) -> u64 {
    let url = format!("{base_url}/__sandbox/zz-license/revoke");
    json_answer(reqwest::Client::new().post(url)).await["revoked"]
        .as_u64()
        .unwrap()
}
