//! 企业行政许可: a company's administrative licences, a page at a time.
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p juhe-api --example administrative_license_list_by_name -- 河南省建筑科学研究院有限公司 0
//! ```

use juhe_api::{AdministrativeLicenseListByName, Client, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let name = args
        .next()
        .unwrap_or_else(|| "河南省建筑科学研究院有限公司".to_owned());
    let skip: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let client = Client::from_env()?;
    let request = AdministrativeLicenseListByName::new(name).skip(skip);
    let answer = client.administrative_license_list_by_name(&request).await?;
    if let Some(page) = answer.result() {
        println!("{} licence(s) in all", page.total.unwrap_or(0));
        for l in &page.items {
            println!(
                "{} {} ({})",
                l.number.as_deref().unwrap_or("?"),
                l.name.as_deref().unwrap_or(""),
                l.department.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}
