//! 按持证主体代码查询证照 (4.3.7): the licences of a holder.
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example share_query_cert_info_by_holder_code -- 321083197812162119 T01
//! cargo run -p zz-license-api --example share_query_cert_info_by_holder_code -- 370402199003070135 T01  # expired
//! ```

use zz_license_api::{
    Client, Error, HolderCodeType, LicenceStatus, ShareQueryCertInfoByHolderCode,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let holder = args
        .next()
        .unwrap_or_else(|| "321083197812162119".to_owned());
    let cert_type = args.next().unwrap_or_else(|| "T01".to_owned());
    let client = Client::from_env()?;
    // The holder code type is optional for the province interface (the default) and
    // required for the city one; a resident ID number is checked locally either way.
    let request = ShareQueryCertInfoByHolderCode::new(holder, cert_type)
        .holder_code_type(HolderCodeType::ResidentId);
    let answer = client
        .share_query_cert_info_by_holder_code(&request)
        .await?;
    // Revoked, expired and restricted licences are answers, not errors: no licence
    // comes back, and LicenceStatus says why (try the sandbox's 370402199003070135).
    match (answer.result(), LicenceStatus::of(&answer)) {
        (Some(licences), _) => println!(
            "{} licence(s): {:?}",
            licences.len(),
            licences.identifiers()
        ),
        (None, Some(status)) => println!("the licence is {status} ({})", status.description()),
        (None, None) => println!("no licence for this holder"),
    }
    Ok(())
}
