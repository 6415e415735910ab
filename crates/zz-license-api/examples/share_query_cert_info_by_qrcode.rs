//! 按二维码查询证照 (4.3.6): a licence by the content of its QR code.
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_query_cert_info_by_qrcode -- SANDBOX-QR-0001
//! ```

use zz_license_api::{Client, Error, ShareQueryCertInfoByQrcode};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let qr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "SANDBOX-QR-0001".to_owned());
    let client = Client::from_env()?;
    let answer = client
        .share_query_cert_info_by_qrcode(&ShareQueryCertInfoByQrcode::new(qr))
        .await?;
    match answer.result() {
        Some(licence) => println!("{:?}", licence.identifiers()),
        None => println!("no licence behind this QR code"),
    }
    Ok(())
}
