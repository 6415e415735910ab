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

use crate::output::{Block, Failure, render};

/// Serves until Ctrl-C; prints the base URL and test credentials first.
pub async fn serve(addr: SocketAddr, json_mode: bool) -> Result<(), Failure> {
    let sandbox = Sandbox::start_with(SandboxConfig {
        addr,
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| Failure::local(Error::config(format!("cannot listen on {addr}: {e}"))))?;
    let base = sandbox.base_url().to_owned();
    let zz_base = sandbox.zz_license_base_url();
    if json_mode {
        println!(
            "{}",
            json!({
                "base_url": base,
                "credentials": {
                    "JUMDATA_BASE_URL": base,
                    "JUMDATA_APP_ID": JUMDATA_APP_ID,
                    "JUMDATA_APP_SECRET": JUMDATA_APP_SECRET,
                    "JUHE_BASE_URL": base,
                    "JUHE_KEY": JUHE_KEY,
                    "ZZ_LICENSE_BASE_URL": zz_base,
                    "ZZ_LICENSE_USERNAME": ZZ_LICENSE_USERNAME,
                    "ZZ_LICENSE_PASSWORD": ZZ_LICENSE_PASSWORD,
                    "ZZ_LICENSE_CLIENT_ID": ZZ_LICENSE_CLIENT_ID,
                    "ZZ_LICENSE_CLIENT_SECRET": ZZ_LICENSE_CLIENT_SECRET,
                    "ALIPAY_BASE_URL": base,
                    "ALIPAY_APP_ID": ALIPAY_APP_ID,
                    "ALIPAY_PRIVATE_KEY": ALIPAY_APP_PRIVATE_KEY,
                    "ALIPAY_PUBLIC_KEY": ALIPAY_PUBLIC_KEY,
                },
            })
        );
    } else {
        let mut b = Block::titled(format!(
            "cred sandbox serving at {base} (Ctrl-C to stop); published test credentials:"
        ));
        b.row("JUMDATA_BASE_URL", base.as_str())
            .row("JUMDATA_APP_ID", JUMDATA_APP_ID)
            .row("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
            .row("JUHE_BASE_URL", base.as_str())
            .row("JUHE_KEY", JUHE_KEY)
            .row("ZZ_LICENSE_BASE_URL", zz_base.as_str())
            .row("ZZ_LICENSE_USERNAME", ZZ_LICENSE_USERNAME)
            .row("ZZ_LICENSE_PASSWORD", ZZ_LICENSE_PASSWORD)
            .row("ZZ_LICENSE_CLIENT_ID", ZZ_LICENSE_CLIENT_ID)
            .row("ZZ_LICENSE_CLIENT_SECRET", ZZ_LICENSE_CLIENT_SECRET)
            .row("ALIPAY_BASE_URL", base.as_str())
            .row("ALIPAY_APP_ID", ALIPAY_APP_ID)
            .row("ALIPAY_PRIVATE_KEY", ALIPAY_APP_PRIVATE_KEY)
            .row("ALIPAY_PUBLIC_KEY", ALIPAY_PUBLIC_KEY);
        print!("{}", render(&[b]));
        println!("magic inputs: see crates/cred-sandbox/README.md");
    }
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::local(Error::config(format!("cannot wait for Ctrl-C: {e}"))))?;
    sandbox.shutdown().await;
    Ok(())
}
