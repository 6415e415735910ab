//! Real `cred serve` processes for the gateway tests: started on a free port, their
//! banner read (address, sandbox key), their stderr (the access log) kept in a file,
//! stopped with real signals.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cred_sandbox::Sandbox;

static N: AtomicU32 = AtomicU32::new(0);

/// A fresh directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "credkit-serve-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `cred serve`.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The sandbox caller's key (with `--sandbox`), else empty.
    pub key: String,
    /// Where its stderr goes.
    pub log: PathBuf,
    /// Its data directory (the default ledger lives there).
    pub dir: PathBuf,
}

/// `cred` with a clean environment.
pub fn cred(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
    for (k, _) in std::env::vars() {
        if [
            "JUMDATA_",
            "JUHE_",
            "ZZ_LICENSE_",
            "ALIPAY_",
            "CRED_REDIS_",
            "CRED_GATEWAY_",
            "CRED_AUDIT_",
        ]
        .iter()
        .any(|p| k.starts_with(p))
        {
            c.env_remove(k);
        }
    }
    c.env("XDG_DATA_HOME", dir.join("data"));
    c
}

/// The provider variables that point every provider at `sandbox` with its test
/// credentials.
pub fn sandbox_env(sandbox: &Sandbox) -> Vec<(String, String)> {
    use cred_sandbox::credentials::*;
    let base = sandbox.base_url().to_owned();
    [
        ("JUMDATA_BASE_URL", base.clone()),
        ("JUMDATA_APP_ID", JUMDATA_APP_ID.to_owned()),
        ("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET.to_owned()),
        ("JUHE_BASE_URL", base.clone()),
        ("JUHE_KEY", JUHE_KEY.to_owned()),
        ("ZZ_LICENSE_BASE_URL", sandbox.zz_license_base_url()),
        ("ZZ_LICENSE_USERNAME", ZZ_LICENSE_USERNAME.to_owned()),
        ("ZZ_LICENSE_PASSWORD", ZZ_LICENSE_PASSWORD.to_owned()),
        ("ZZ_LICENSE_CLIENT_ID", ZZ_LICENSE_CLIENT_ID.to_owned()),
        (
            "ZZ_LICENSE_CLIENT_SECRET",
            ZZ_LICENSE_CLIENT_SECRET.to_owned(),
        ),
        ("ZZ_LICENSE_SYSTEM_NAME", "credkit test".to_owned()),
        ("ZZ_LICENSE_CALL_CATEGORY", "1".to_owned()),
        ("ZZ_LICENSE_MATTER_NAME", "credkit test".to_owned()),
        ("ZZ_LICENSE_EVENT_CODE", "TEST".to_owned()),
        ("ALIPAY_BASE_URL", base),
        ("ALIPAY_APP_ID", ALIPAY_APP_ID.to_owned()),
        ("ALIPAY_PRIVATE_KEY", ALIPAY_APP_PRIVATE_KEY.to_owned()),
        ("ALIPAY_PUBLIC_KEY", ALIPAY_PUBLIC_KEY.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `cred serve keygen NAME`: the key and the config lines.
pub fn keygen(name: &str) -> (String, String) {
    let dir = tempdir("keygen");
    let out = cred(&dir).args(["serve", "keygen", name]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text
        .lines()
        .find(|l| l.starts_with("ck_"))
        .unwrap()
        .to_owned();
    let digest = text
        .lines()
        .find_map(|l| l.strip_prefix("key_sha256 = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    (key, digest)
}

impl Served {
    /// Starts `cred <global args> serve <args>` with `env`; waits for its banner.
    pub fn start(name: &str, args: &[&str], env: &[(String, String)]) -> Served {
        let dir = tempdir(name);
        Self::start_in(dir, args, env)
    }

    /// As [`Served::start`], in `dir`.
    pub fn start_in(dir: PathBuf, args: &[&str], env: &[(String, String)]) -> Served {
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join(format!("serve-{}.log", N.fetch_add(1, Ordering::SeqCst)));
        let mut cmd = cred(&dir);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut url = String::new();
        let mut key = String::new();
        let sandbox = args.contains(&"--sandbox");
        let deadline = Instant::now() + Duration::from_secs(30);
        while url.is_empty() || (sandbox && key.is_empty()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let _ = child.kill();
                panic!(
                    "cred serve did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            if let Some(rest) = line.strip_prefix("cred serve: listening on ") {
                url = rest.trim().to_owned();
            }
            if let Some((_, k)) = line.split_once("for this run only): ") {
                key = k.trim().to_owned();
            }
        }
        Served {
            child,
            url,
            key,
            log,
            dir,
        }
    }

    /// The access log so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`-TERM`, `-HUP`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (at most `limit`).
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "cred serve did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A POST of `body` (JSON) to `path` with this gateway's sandbox key and a purpose.
    pub fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::RequestBuilder {
        client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .header("X-Credkit-Purpose", "入职背景调查 (test)")
            .json(body)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response's status and JSON body.
pub async fn answer(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

/// How many requests reached `sandbox`'s `path`.
pub async fn reached(sandbox: &Sandbox, path: &str) -> u64 {
    let stats: serde_json::Value = reqwest::get(format!("{}/__sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["paths"][path]["count"].as_u64().unwrap_or(0)
}

/// A directory with a `gateway.toml` holding one caller `tester` allowed everything
/// (plus `extra` caller settings): the directory, the file, the caller's key.
pub fn caller_config(name: &str, extra: &str) -> (PathBuf, PathBuf, String) {
    let (key, digest) = keygen("tester");
    let dir = tempdir(name);
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        format!("[[caller]]\nname = \"tester\"\nkey_sha256 = \"{digest}\"\n{extra}"),
    )
    .unwrap();
    (dir, path, key)
}

impl Served {
    /// A gateway whose configuration has one caller `tester` (plus `extra` settings),
    /// its key in [`Served::key`], no ledger, with the `global` options and `env`.
    pub fn with_caller(
        name: &str,
        extra: &str,
        global: &[&str],
        env: &[(String, String)],
    ) -> Served {
        let (dir, config, key) = caller_config(name, extra);
        let config = config.to_str().unwrap().to_owned();
        let mut args: Vec<&str> = global.to_vec();
        args.extend(["serve", "--no-audit", "--config", &config]);
        let mut served = Served::start_in(dir, &args, env);
        served.key = key;
        served
    }
}
