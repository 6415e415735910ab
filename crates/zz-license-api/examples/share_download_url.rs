//! 获取证照下载地址 (4.3.2): a download link for a licence (valid about 10 minutes).
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_download_url -- 1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N
//! ```

use zz_license_api::{Client, Error, ShareDownloadUrl};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let id = std::env::args().nth(1).unwrap_or_else(|| {
        "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N".to_owned()
    });
    let client = Client::from_env()?;
    let answer = client
        .share_download_url(&ShareDownloadUrl::new(id))
        .await?;
    match answer.result() {
        Some(links) => println!("{:?}", links.urls()),
        None => println!("no link for this licence"),
    }
    Ok(())
}
