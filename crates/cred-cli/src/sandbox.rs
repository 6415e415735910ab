//! `cred sandbox serve`

use std::io::Write as _;
use std::net::SocketAddr;

use cred_core::Error;
use cred_sandbox::credentials::{
    ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY, ALIPAY_PUBLIC_KEY, JUHE_KEY, JUMDATA_APP_ID,
    JUMDATA_APP_SECRET, ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET, ZZ_LICENSE_PASSWORD,
    ZZ_LICENSE_USERNAME,
};
use cred_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

use crate::output::{Block, Failure, out, render};

/// How `serve` prints what a client needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    /// Aligned name/value rows.
    Table,
    /// One JSON object.
    Json,
    /// `export NAME='value'` lines a POSIX shell can `eval`.
    Env,
}

/// The variables every provider crate's `Config::from_env` reads, with the sandbox's
/// published test values (and labelled demo values for the licence platform's audit
/// context).
pub fn variables(base: &str, zz_base: &str) -> Vec<(&'static str, String)> {
    [
        ("JUMDATA_BASE_URL", base),
        ("JUMDATA_APP_ID", JUMDATA_APP_ID),
        ("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET),
        ("JUHE_BASE_URL", base),
        ("JUHE_KEY", JUHE_KEY),
        ("ZZ_LICENSE_BASE_URL", zz_base),
        ("ZZ_LICENSE_USERNAME", ZZ_LICENSE_USERNAME),
        ("ZZ_LICENSE_PASSWORD", ZZ_LICENSE_PASSWORD),
        ("ZZ_LICENSE_CLIENT_ID", ZZ_LICENSE_CLIENT_ID),
        ("ZZ_LICENSE_CLIENT_SECRET", ZZ_LICENSE_CLIENT_SECRET),
        ("ZZ_LICENSE_SYSTEM_NAME", "credkit sandbox"),
        ("ZZ_LICENSE_CALL_CATEGORY", "1"),
        ("ZZ_LICENSE_MATTER_NAME", "credkit sandbox demo"),
        ("ZZ_LICENSE_EVENT_CODE", "SANDBOX"),
        ("ZZ_LICENSE_COPY_CAUSE", "credkit sandbox demo call"),
        ("ALIPAY_BASE_URL", base),
        ("ALIPAY_APP_ID", ALIPAY_APP_ID),
        ("ALIPAY_PRIVATE_KEY", ALIPAY_APP_PRIVATE_KEY),
        ("ALIPAY_PUBLIC_KEY", ALIPAY_PUBLIC_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// `value` quoted for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The `export` lines of `vars`, headed by a comment naming the sandbox.
fn env_lines(base: &str, vars: &[(&'static str, String)]) -> String {
    let mut text = format!("# cred sandbox at {base}: published test values\n");
    for (k, v) in vars {
        text.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    text
}

/// Writes `text` to `path` whole: a file beside it, renamed into place.
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.partial", std::process::id()));
    let temp = std::path::PathBuf::from(temp);
    std::fs::write(&temp, text)?;
    std::fs::rename(&temp, path)
}

/// `cannot listen on ADDR: ...`, with what to do when the address is taken.
fn listen_error(addr: SocketAddr, e: &std::io::Error) -> Failure {
    let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
        " (another program, or another sandbox, uses it: stop it, or pick another with --addr 127.0.0.1:PORT; --addr 127.0.0.1:0 takes any free port)"
    } else {
        ""
    };
    Failure::local(Error::config(format!("cannot listen on {addr}: {e}{hint}")))
}

/// Starts `cred sandbox serve --env-file FILE` as a process of its own and returns once
/// FILE is written (the sandbox listens): one line a script can rely on.
pub async fn background(addr: SocketAddr, file: &std::path::Path) -> Result<(), Failure> {
    let local = |m: String| Failure::local(Error::config(m));
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(local(format!("cannot replace {}: {e}", file.display()))),
    }
    let exe = std::env::current_exe()
        .map_err(|e| local(format!("cannot find the cred executable: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .args([
            "sandbox",
            "serve",
            "--addr",
            &addr.to_string(),
            "--env-file",
        ])
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| local(format!("cannot start the sandbox process: {e}")))?;
    let started = std::time::Instant::now();
    loop {
        if file.exists() {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let base = text
                .lines()
                .find_map(|l| l.strip_prefix("# cred sandbox at "))
                .and_then(|l| l.strip_suffix(": published test values"))
                .unwrap_or_default();
            out(&format!(
                "cred sandbox serving at {base} (process {}); `. {}` sets the variables, `kill {}` stops it\n",
                child.id(),
                file.display(),
                child.id()
            ));
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut reason = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                use std::io::Read as _;
                let _ = stderr.read_to_string(&mut reason);
            }
            let reason = reason
                .trim()
                .trim_start_matches("error: ")
                .trim_start_matches("configuration error: ");
            return Err(local(format!(
                "the sandbox process stopped ({status}): {reason}"
            )));
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            return Err(local("the sandbox did not start within 30 s".to_owned()));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Serves until Ctrl-C; prints the base URL and test credentials first, and writes them to
/// `env_file` (whole) once the sandbox listens.
pub async fn serve(
    addr: SocketAddr,
    print: Print,
    env_file: Option<&std::path::Path>,
) -> Result<(), Failure> {
    let sandbox = Sandbox::start_with(SandboxConfig {
        addr,
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| listen_error(addr, &e))?;
    let base = sandbox.base_url().to_owned();
    let vars = variables(&base, &sandbox.zz_license_base_url());
    if let Some(file) = env_file {
        let mut text = env_lines(&base, &vars);
        text.push_str(&format!("export CRED_SANDBOX_PID={}\n", std::process::id()));
        write_whole(file, &text).map_err(|e| {
            Failure::local(Error::config(format!(
                "cannot write {}: {e}",
                file.display()
            )))
        })?;
    }
    match print {
        Print::Json => {
            let credentials: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            out(&format!(
                "{}\n",
                json!({"base_url": base, "credentials": credentials})
            ));
        }
        Print::Env => out(&env_lines(&base, &vars)),
        Print::Table => {
            let mut b = Block::titled(format!(
                "cred sandbox serving at {base} (Ctrl-C to stop); published test credentials:"
            ));
            for (k, v) in &vars {
                b.row(*k, v.as_str());
            }
            out(&format!(
                "{}magic inputs: see crates/cred-sandbox/README.md\nin a shell: `cred sandbox serve --env-file sandbox.env --background && . ./sandbox.env`\n",
                render(&[b])
            ));
        }
    }
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::local(Error::config(format!("cannot wait for Ctrl-C: {e}"))))?;
    sandbox.shutdown().await;
    Ok(())
}
