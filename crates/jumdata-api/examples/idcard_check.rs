//! 身份证实名核验: does the name match the ID number?
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p jumdata-api --example idcard_check -- 王小明 321083197812162119
//! ```

use jumdata_api::{Client, Error, IdcardCheck};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "王小明".to_owned());
    let idcard = args
        .next()
        .unwrap_or_else(|| "321083197812162119".to_owned());
    let client = Client::from_env()?;
    let answer = client.idcard_check(&IdcardCheck::new(name, idcard)).await?;
    println!("{:#?}", answer.result());
    println!("charged: {:?}", answer.charged());
    Ok(())
}
