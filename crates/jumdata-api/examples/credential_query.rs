//! 职业资格证书查询: the professional-qualification certificates of a person.
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p jumdata-api --example credential_query -- 王小明 321083197812162119
//! ```
//!
//! Against the real service, set `JUMDATA_APP_ID` and `JUMDATA_APP_SECRET` instead.

use jumdata_api::{Client, CredentialQuery, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "王小明".to_owned());
    let idcard = args
        .next()
        .unwrap_or_else(|| "321083197812162119".to_owned());
    let client = Client::from_env()?;
    // Checked locally first: a mistyped ID number is an Error::InvalidInput, nothing sent.
    let answer = client
        .credential_query(&CredentialQuery::new(name, idcard))
        .await?;
    match answer.result() {
        Some(found) => {
            for cert in &found.items {
                println!(
                    "{} {} issued {}",
                    cert.occupation.as_deref().unwrap_or("?"),
                    cert.qua_level.as_deref().unwrap_or(""),
                    cert.issuing_time
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                );
            }
        }
        None => println!("no record"),
    }
    println!(
        "charged: {:?}, request id: {:?}",
        answer.charged(),
        answer.request_id()
    );
    Ok(())
}
