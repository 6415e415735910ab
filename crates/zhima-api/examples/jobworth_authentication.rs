//! 职业身份认证结果查询 (Zhima jobworth): the result of a user's occupation-identity
//! authentication, by its once_token.
//!
//! Run it against the offline sandbox (no credentials, nothing billed):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zhima-api --example jobworth_authentication                        # a fresh token each run
//! cargo run -p zhima-api --example jobworth_authentication -- ONCE_TOKEN 2088102910292100
//! ```
//!
//! A once_token answers its final result once ("在认证结果到达终态后只允许查询成功一次"): asked
//! again, it is `TOKEN_INVALID`. With no token given, the example makes a fresh one per run
//! (the sandbox answers any unknown token), so it runs again as it is; a real token comes
//! from the user's authentication. Answers are verified with the Alipay public key before
//! they are trusted.

use zhima_api::{Client, Error, JobworthAuthentication};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let once_token = args.next().unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("example-{now:x}")
    });
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
