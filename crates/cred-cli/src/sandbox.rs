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

/// Serves until Ctrl-C; prints the base URL and test credentials first.
pub async fn serve(addr: SocketAddr, print: Print) -> Result<(), Failure> {
    let sandbox = Sandbox::start_with(SandboxConfig {
        addr,
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| Failure::local(Error::config(format!("cannot listen on {addr}: {e}"))))?;
    let base = sandbox.base_url().to_owned();
    let vars = variables(&base, &sandbox.zz_license_base_url());
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
        Print::Env => {
            let mut text =
                format!("# cred sandbox at {base}: published test values (Ctrl-C stops it)\n");
            for (k, v) in &vars {
                text.push_str(&format!("export {k}={}\n", shell_quote(v)));
            }
            out(&text);
        }
        Print::Table => {
            let mut b = Block::titled(format!(
                "cred sandbox serving at {base} (Ctrl-C to stop); published test credentials:"
            ));
            for (k, v) in &vars {
                b.row(*k, v.as_str());
            }
            out(&format!(
                "{}magic inputs: see crates/cred-sandbox/README.md\nin a shell: `cred sandbox serve --env > sandbox.env &` then `. ./sandbox.env`\n",
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
