//! What the `cred` end-to-end tests share: the binary with a clean environment, its
//! output, and the shapes every command promises (one JSON object, one error line).
#![allow(dead_code)] // each test file uses its own part

use std::process::{Command, Output};

use serde_json::Value;

/// `cred` with a clean environment (no provider variables and no CRED_REDIS_* from
/// outside).
pub fn cred() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
    for (k, _) in std::env::vars() {
        if ["JUMDATA_", "JUHE_", "ZZ_LICENSE_", "ALIPAY_", "CRED_REDIS_"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            c.env_remove(k);
        }
    }
    // Batches record in an audit ledger by default: not in the real home.
    c.env(
        "XDG_DATA_HOME",
        std::env::temp_dir().join("credkit-test-data"),
    );
    c
}

/// Runs `cmd`: exit code, stdout, stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// Exactly one JSON object on stdout, nothing else.
pub fn one_json(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"));
    assert!(v.is_object(), "{stdout}");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    v
}

/// One clean line on stderr: `error: ...`, no panic, no backtrace.
pub fn one_error_line(stderr: &str) -> &str {
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    stderr.trim_end()
}
