//! `GET /__sandbox/stats`: requests per path, token requests and arrival times, read from
//! outside the process as any client would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_core::RetryPolicy;
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::*;
use serde_json::Value;

async fn stats(sandbox: &Sandbox) -> Value {
    let body = reqwest::get(format!("{}/__sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn stats_count_requests_per_path_and_token_requests() {
    let sandbox = Sandbox::start().await.unwrap();
    let before = cred_core::now_millis();
    let jumdata = jumdata_api::Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for _ in 0..3 {
        jumdata
            .credential_query(&jumdata_api::CredentialQuery::new(
                "王小明",
                "321083197812162119",
            ))
            .await
            .unwrap();
    }
    let zz = zz_license_api::Client::builder()
        .base_url(sandbox.zz_license_base_url())
        .username(ZZ_LICENSE_USERNAME)
        .password(ZZ_LICENSE_PASSWORD)
        .client_id(ZZ_LICENSE_CLIENT_ID)
        .client_secret(ZZ_LICENSE_CLIENT_SECRET)
        .audit(
            zz_license_api::AuditContext::new()
                .system_name("stats test")
                .call_category(zz_license_api::CallCategory::NonMatter)
                .matter_name("stats")
                .event_code("STATS")
                .copy_cause("stats test"),
        )
        .build()
        .unwrap();
    for _ in 0..2 {
        zz.share_query_cert_info(&zz_license_api::ShareQueryCertInfo::new(
            "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N",
        ))
        .await
        .unwrap();
    }
    let after = cred_core::now_millis();
    let v = stats(&sandbox).await;
    assert_eq!(v["requests"], 6, "{v}"); // 3 + 1 token + 2 share calls
    assert_eq!(v["token_requests"], 1, "{v}");
    let query = &v["paths"]["/credential/query"];
    assert_eq!(query["count"], 3, "{v}");
    let arrivals: Vec<u64> = query["arrivals_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_u64().unwrap())
        .collect();
    assert_eq!(arrivals.len(), 3);
    assert!(arrivals.windows(2).all(|w| w[0] <= w[1]), "{arrivals:?}");
    assert!(
        arrivals.iter().all(|a| (before..=after).contains(a)),
        "{arrivals:?}"
    );
    assert_eq!(
        v["paths"]["/license-api-release/oauth/token"]["count"], 1,
        "{v}"
    );
    // Reading the statistics is not counted.
    assert_eq!(stats(&sandbox).await["requests"], 6);
    assert_eq!(sandbox.requests(), 6);
}
