//! The licence-platform emulation: OAuth2 flows, both answer shapes, audit checks,
//! magic inputs, downloads, through the real SDK and raw.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use cred_core::{ErrorKind, RetryPolicy};
use cred_sandbox::credentials::*;
use cred_sandbox::zz_license::{FIXTURE_IDS, MAGIC, Outcome};
use cred_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use zz_license_api::*;

const HOLDER: &str = "321083197812162119";

fn audit() -> AuditContext {
    AuditContext::new()
        .system_name("credkit 测试平台")
        .call_category(CallCategory::NonMatter)
        .matter_name("证照核验")
        .event_code("1137000000450258552372014020002")
        .copy_cause("自动化测试")
}

fn sdk(sandbox: &Sandbox, tweak: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    tweak(
        Client::builder()
            .base_url(sandbox.zz_license_base_url())
            .username(ZZ_LICENSE_USERNAME)
            .password(ZZ_LICENSE_PASSWORD)
            .client_id(ZZ_LICENSE_CLIENT_ID)
            .client_secret(ZZ_LICENSE_CLIENT_SECRET)
            .audit(audit())
            .retry(RetryPolicy::none())
            .rate_limit(0)
            .timeout(Duration::from_secs(5)),
    )
    .build()
    .unwrap()
}

async fn token_form(sandbox: &Sandbox, basic: Option<(&str, &str)>, form: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/oauth/token", sandbox.zz_license_base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

const PASSWORD_FORM: &str = "grant_type=password&scope=read%20write&username=credkit-sandbox-user&password=credkit-sandbox-password-NOT-REAL";

#[tokio::test]
async fn every_interface_in_both_shapes_through_the_sdk() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    for level in [InterfaceType::Province, InterfaceType::City] {
        let licences = client
            .share_query_cert_info_by_holder_code(
                &ShareQueryCertInfoByHolderCode::new(HOLDER, "T01")
                    .holder_code_type(HolderCodeType::ResidentId)
                    .interface_type(level),
            )
            .await
            .unwrap();
        let licences = licences.result().unwrap();
        assert_eq!(licences.shape(), level);
        assert!(!licences.identifiers().is_empty());

        let info = client
            .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]).interface_type(level))
            .await
            .unwrap();
        assert_eq!(info.result().unwrap().shape(), level);

        let qr = client
            .share_query_cert_info_by_qrcode(
                &ShareQueryCertInfoByQrcode::new("https://zz.example/qr/1").interface_type(level),
            )
            .await
            .unwrap();
        assert_eq!(qr.result().unwrap().shape(), level);

        let check = client
            .share_verify_cert_info(
                &ShareVerifyCertInfo::new("T01", r#"{"xm":"张三"}"#, "核验", HOLDER)
                    .interface_type(level),
            )
            .await
            .unwrap();
        assert!(check.result().unwrap().outcome().is_valid());

        let file = client
            .share_verify_cert_file(
                &ShareVerifyCertFile::from_bytes("T01", b"%PDF-1.7 licence", "核验")
                    .interface_type(level),
            )
            .await
            .unwrap();
        assert_eq!(file.result().unwrap().outcome(), Some(FileCheck::Passed));
    }
    let broken = client
        .share_verify_cert_file(&ShareVerifyCertFile::from_bytes(
            "T01",
            b"%PDF-1.7 SEAL-BROKEN",
            "核验",
        ))
        .await
        .unwrap();
    assert_eq!(
        broken.result().unwrap().outcome(),
        Some(FileCheck::SealInvalid)
    );

    // Download links point back at the sandbox; both formats are recognised.
    let mut out = Vec::new();
    let d = client
        .download_licence(&ShareDownloadUrl::new(FIXTURE_IDS[0]), &mut out)
        .await
        .unwrap()
        .into_parts()
        .0
        .unwrap();
    assert_eq!(d.format, FileFormat::Pdf);
    assert!(out.starts_with(b"%PDF-"));
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test]
async fn form_client_credentials_are_accepted_too() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b.client_auth(ClientAuth::Form));
    client
        .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[1]))
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_errors_as_spring_sends_them() {
    let sandbox = Sandbox::start().await.unwrap();
    let (s, v) = token_form(
        &sandbox,
        Some((ZZ_LICENSE_CLIENT_ID, "wrong")),
        PASSWORD_FORM,
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, v) = token_form(&sandbox, None, PASSWORD_FORM).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized")));
    let (s, v) = token_form(
        &sandbox,
        Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET)),
        "grant_type=password&scope=read%20write&username=credkit-sandbox-user&password=nope",
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (s, v) = token_form(
        &sandbox,
        Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET)),
        "grant_type=refresh_token&refresh_token=unknown",
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));

    // Through the SDK: clear auth errors, nothing else sent.
    let err = sdk(&sandbox, |b| {
        b.username(ZZ_LICENSE_USERNAME).password("wrong-password")
    })
    .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]))
    .await
    .unwrap_err();
    assert_eq!(
        (err.kind(), err.code().as_deref()),
        (ErrorKind::Auth, Some("invalid_grant"))
    );
    assert!(!err.to_string().contains("wrong-password"));
    let err = sdk(&sandbox, |b| {
        b.client_id(ZZ_LICENSE_CLIENT_ID).client_secret("wrong")
    })
    .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]))
    .await
    .unwrap_err();
    assert_eq!(err.code().as_deref(), Some("invalid_client"));
}

#[tokio::test]
async fn the_same_token_while_valid_and_a_new_one_on_refresh() {
    let sandbox = Sandbox::start().await.unwrap();
    let basic = Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET));
    let (_, first) = token_form(&sandbox, basic, PASSWORD_FORM).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, second) = token_form(&sandbox, basic, PASSWORD_FORM).await;
    assert_eq!(first["access_token"], second["access_token"]);
    assert!(second["expires_in"].as_u64() < first["expires_in"].as_u64());
    assert_eq!(first["expires_in"], 43199);
    assert_eq!(first["scope"], "read write");
    let (_, refreshed) = token_form(
        &sandbox,
        basic,
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            first["refresh_token"].as_str().unwrap()
        ),
    )
    .await;
    assert_ne!(refreshed["access_token"], first["access_token"]);
    assert_eq!(refreshed["refresh_token"], first["refresh_token"]);
    // The old token is now refused as Spring refuses it.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/m/v/license/external/api/ShareQueryCertInfo",
            sandbox.zz_license_base_url()
        ))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(json!({}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"], "invalid_token");
}

#[tokio::test]
async fn a_token_revoked_elsewhere_is_replayed_once_by_the_sdk() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    client
        .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]))
        .await
        .unwrap();
    // Another process of the same account refreshes: the client's cached token dies.
    let basic = Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET));
    let (_, same) = token_form(&sandbox, basic, PASSWORD_FORM).await;
    token_form(
        &sandbox,
        basic,
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            same["refresh_token"].as_str().unwrap()
        ),
    )
    .await;
    let answer = client
        .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]))
        .await
        .unwrap();
    assert!(answer.found());
    assert_eq!(
        client.token_requests(),
        2,
        "one re-authentication (refresh grant)"
    );
}

#[tokio::test]
async fn expired_tokens_are_refused_and_renewed() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        zz_token_ttl: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let basic = Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET));
    let (_, t) = token_form(&sandbox, basic, PASSWORD_FORM).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/m/v/license/external/api/ShareQueryCertInfo",
            sandbox.zz_license_base_url()
        ))
        .header("content-type", "application/json")
        .body(json!({"access_token": t["access_token"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Access token expired")
    );

    let client = sdk(&sandbox, |b| b);
    for _ in 0..3 {
        client
            .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[0]))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
    assert!(client.token_requests() >= 2, "renewed before expiry");
}

#[tokio::test]
async fn the_sandbox_checks_the_audit_context_itself() {
    let sandbox = Sandbox::start().await.unwrap();
    let basic = Some((ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET));
    let (_, t) = token_form(&sandbox, basic, PASSWORD_FORM).await;
    let post = |body: Value| {
        let url = format!(
            "{}/m/v/license/external/api/ShareQueryCertInfo",
            sandbox.zz_license_base_url()
        );
        async move {
            let v: Value = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .map(|b| serde_json::from_slice(&b).unwrap())
                .unwrap();
            v
        }
    };
    let token = t["access_token"].clone();
    let v = post(json!({"access_token": token, "certificateID": FIXTURE_IDS[0]})).await;
    assert_eq!(v["head"]["status"], "12");
    let v = post(json!({
        "access_token": token, "certificateID": FIXTURE_IDS[0],
        "certificateSystemName": "s", "certificateCallCategory": "2", "certificateMatterName": "m",
        "certificateEventCode": "e", "certificateCopyCause": "c"
    }))
    .await;
    assert_eq!(v["head"]["status"], "102");
}

#[tokio::test]
async fn every_magic_input_through_the_sdk() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    for m in MAGIC {
        // (found or valid, head.status) of an answer.
        let result: Result<(bool, String), cred_core::Error> = match m.on {
            "serial" => client
                .share_query_cert_info(&ShareQueryCertInfo::new(format!(
                    "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.{}.001.0",
                    m.value
                )))
                .await
                .map(|a| (a.found(), a.meta().code.clone())),
            "holder" if matches!(m.outcome, Outcome::CheckResult(..)) => client
                .share_verify_cert_info(&ShareVerifyCertInfo::new("T01", "{}", "核验", m.value))
                .await
                .map(|a| {
                    (
                        a.result().unwrap().outcome().is_valid(),
                        a.meta().code.clone(),
                    )
                }),
            "holder" => client
                .share_query_cert_info_by_holder_code(
                    &ShareQueryCertInfoByHolderCode::new(m.value, "T01")
                        .holder_code_type(HolderCodeType::ResidentId),
                )
                .await
                .map(|a| (a.found(), a.meta().code.clone())),
            _ => client
                .share_query_cert_info_by_qrcode(&ShareQueryCertInfoByQrcode::new(m.value))
                .await
                .map(|a| (a.found(), a.meta().code.clone())),
        };
        match m.outcome {
            // No record, and a licence revoked, expired or restricted: answers.
            Outcome::Status(code @ (10 | 21 | 22 | 23), ..) => {
                let (found, status) = result.unwrap();
                assert!(!found, "{}", m.value);
                assert_eq!(status, code.to_string(), "{}", m.value);
                assert_eq!(
                    LicenceStatus::from_code(&status).is_some(),
                    code != 10,
                    "{}",
                    m.value
                );
            }
            Outcome::Status(code, ..) => {
                let err = result.unwrap_err();
                assert_eq!(err.code(), Some(code.to_string()), "{}", m.value);
            }
            Outcome::CheckResult(..) => assert!(!result.unwrap().0, "{}", m.value),
            Outcome::Truncated => {
                let err = result.unwrap_err();
                assert!(err.to_string().contains("malformed JSON"), "{err}");
            }
            Outcome::HtmlBadGateway => {
                assert_eq!(result.unwrap_err().code().as_deref(), Some("502"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_cold_calls_make_one_token_request() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sdk(&sandbox, |b| b);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let client = client.clone();
        tasks.spawn(async move {
            client
                .share_query_cert_info(&ShareQueryCertInfo::new(FIXTURE_IDS[i % 2]))
                .await
                .map(|a| a.found())
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap());
        ok += 1;
    }
    println!(
        "1000 concurrent cold calls: {ok} answered, {} token request(s) at the platform, {} counted by the SDK",
        sandbox.zz_license_token_requests(),
        client.token_requests()
    );
    assert_eq!(sandbox.zz_license_token_requests(), 1);
    assert_eq!(client.token_requests(), 1);
}

#[test]
fn the_readme_documents_every_magic_input_and_credential() {
    let readme = include_str!("../README.md");
    for m in MAGIC {
        assert!(readme.contains(m.value), "README lacks {}", m.value);
    }
    for c in [
        ZZ_LICENSE_USERNAME,
        ZZ_LICENSE_PASSWORD,
        ZZ_LICENSE_CLIENT_ID,
        ZZ_LICENSE_CLIENT_SECRET,
    ] {
        assert!(readme.contains(c), "README lacks {c}");
    }
    for id in FIXTURE_IDS {
        assert!(readme.contains(id));
        assert!(zz_license_api::license_id(id).unwrap().check_ok(), "{id}");
    }
}
