//! 按证照标识查询证照信息 (4.3.3): one licence by its identifier.
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_query_cert_info -- 1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N
//! ```

use zz_license_api::{Client, Error, ShareQueryCertInfo};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let id = std::env::args().nth(1).unwrap_or_else(|| {
        "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N".to_owned()
    });
    let client = Client::from_env()?; // ZZ_LICENSE_BASE_URL, _USERNAME, _PASSWORD, _CLIENT_ID, _CLIENT_SECRET + audit
    let answer = client
        .share_query_cert_info(&ShareQueryCertInfo::new(id))
        .await?;
    match answer.result() {
        Some(licences) => println!(
            "{} licence(s): {:?}",
            licences.len(),
            licences.identifiers()
        ),
        None => println!("no such licence"),
    }
    Ok(())
}
