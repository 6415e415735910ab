//! 企业工程资质资格查询: a company's construction qualifications.
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p juhe-api --example con_lic_by_name -- 河南省建筑科学研究院有限公司
//! ```

use juhe_api::{Client, ConLicByName, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "河南省建筑科学研究院有限公司".to_owned());
    let client = Client::from_env()?; // JUHE_KEY, JUHE_BASE_URL
    let answer = client.con_lic_by_name(&ConLicByName::new(name)).await?;
    match answer.result() {
        Some(page) => {
            for q in &page.items {
                println!(
                    "{} | {} | valid until {}",
                    q.category.as_deref().unwrap_or("?"),
                    q.lic_scope.as_deref().unwrap_or(""),
                    q.validity_end
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                );
            }
        }
        None => println!("no result"),
    }
    Ok(())
}
