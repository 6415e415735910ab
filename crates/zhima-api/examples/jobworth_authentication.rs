//! 职业身份认证结果查询 (Zhima jobworth): the result of a user's occupation-identity
//! authentication, by its once_token.
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zhima-api --example jobworth_authentication -- once-token-0001 2088102910292100
//! ```
//!
//! Answers are verified with the Alipay public key before they are trusted.

use zhima_api::{Client, Error, JobworthAuthentication};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let once_token = args.next().unwrap_or_else(|| "once-token-0001".to_owned());
    let user_id = args.next().unwrap_or_else(|| "2088102910292100".to_owned());
    // ALIPAY_APP_ID, ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY (values or @path), ALIPAY_BASE_URL
    let client = Client::from_env()?;
    let query = JobworthAuthentication::new()
        .once_token(once_token)
        .user_id(user_id);
    let answer = client.jobworth_authentication(&query).await?;
    if let Some(r) = answer.result() {
        println!("identity result: {:?}", r.identity_result);
        println!("token status: {:?}", r.token_status);
    }
    println!("trace id: {:?}", answer.request_id());
    Ok(())
}
