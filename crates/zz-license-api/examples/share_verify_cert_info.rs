//! 证照数据核验 (4.3.4): do these licence fields match the licence database?
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_verify_cert_info -- T01 '{"xm":"张三"}' 321083197812162119
//! ```

use zz_license_api::{Client, Error, ShareVerifyCertInfo};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let cert_type = args.next().unwrap_or_else(|| "T01".to_owned());
    let data = args.next().unwrap_or_else(|| r#"{"xm":"张三"}"#.to_owned());
    let holder = args
        .next()
        .unwrap_or_else(|| "321083197812162119".to_owned());
    let client = Client::from_env()?;
    let request = ShareVerifyCertInfo::new(cert_type, data, "资格核验", holder);
    let answer = client.share_verify_cert_info(&request).await?;
    match answer.result() {
        Some(check) => println!("{:?}: {}", check.outcome(), check.message().unwrap_or("")),
        None => println!("no answer"),
    }
    Ok(())
}
