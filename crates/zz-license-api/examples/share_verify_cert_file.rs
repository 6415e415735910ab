//! 证照文件核验 (4.3.5): is this PDF/OFD file a genuine licence?
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_verify_cert_file -- T01 licence.pdf
//! ```
//!
//! Without a file it checks a few bytes shaped like a PDF.

use zz_license_api::{Client, Error, ShareVerifyCertFile};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let cert_type = args.next().unwrap_or_else(|| "T01".to_owned());
    let request = match args.next() {
        // Read, size-checked and base64-encoded here; an unreadable file sends nothing.
        Some(path) => ShareVerifyCertFile::from_path(cert_type, path, "资格核验")?,
        None => ShareVerifyCertFile::from_bytes(cert_type, b"%PDF-1.7 credkit example", "资格核验"),
    };
    let client = Client::from_env()?;
    let answer = client.share_verify_cert_file(&request).await?;
    match answer.result() {
        Some(check) => println!("{:?}", check.outcome()),
        None => println!("no answer"),
    }
    Ok(())
}
