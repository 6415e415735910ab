//! What the `cred batch` tests share: a scratch directory, inputs, the `cred` process
//! and the sandbox's request counts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use serde_json::Value;

/// A valid resident ID number, different for every `n`, never a magic input.
pub fn id(n: u64) -> String {
    cred_sandbox::credentials::test_resident_id(n)
}

/// The sandbox's insufficient-balance input (603).
pub const BALANCE: &str = "11010119900307002X";
/// The sandbox's no-record input (701).
pub const NO_RECORD: &str = "110101199003070011";

pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cred-batch-test-{}-{name}-{}",
            std::process::id(),
            cred_core::now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn csv(rows: &[(&str, &str)]) -> String {
    let mut text = "name,idcard\n".to_owned();
    for (name, idcard) in rows {
        text.push_str(&format!("{name},{idcard}\n"));
    }
    text
}

pub fn cred(base_url: &str) -> Command {
    cred_with(base_url, &["--rate-limit", "0"])
}

/// `cred --base-url URL <global>` with the sandbox's Jumdata credentials.
pub fn cred_with(base_url: &str, global: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
    c.env(
        "XDG_DATA_HOME",
        std::env::temp_dir().join("credkit-test-data"),
    )
    .env("JUMDATA_APP_ID", JUMDATA_APP_ID)
    .env("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
    .env_remove("CRED_REDIS_URL")
    .args(["--base-url", base_url])
    .args(global);
    c
}

pub fn batch(base_url: &str, input: &Path, output: &Path, extra: &[&str]) -> Output {
    batch_with(cred(base_url), input, output, extra)
}

/// `command batch jumdata credential --input INPUT --output OUTPUT <extra>`, run.
pub fn batch_with(mut command: Command, input: &Path, output: &Path, extra: &[&str]) -> Output {
    command
        .args(["batch", "jumdata", "credential", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap()
}

pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn statuses(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["status"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn sent(sandbox: &Sandbox) -> u64 {
    let text = reqwest::get(format!("{}/__sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stats: Value = serde_json::from_str(&text).unwrap();
    stats["paths"]["/credential/query"]["count"]
        .as_u64()
        .unwrap_or(0)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
