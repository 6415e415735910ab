//! `cred serve` end to end: real gateway processes, real HTTP clients, the sandbox as the
//! provider (its request counts are the judge of what was sent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod serve_common;

use std::time::Duration;

use cred_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use serve_common::*;

const FOUND: &str = "321083197812162119";
const LICENCE: &str = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Every route, its body, and the same call as `cred` flags.
fn cases(pdf: &str) -> Vec<(&'static str, Value, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    vec![
        (
            "/v1/jumdata/credential",
            json!({"name": "王小明", "idcard": FOUND}),
            s(&[
                "jumdata",
                "credential",
                "--name",
                "王小明",
                "--idcard",
                FOUND,
            ]),
        ),
        (
            "/v1/jumdata/idcard",
            json!({"name": "王小明", "idcard": FOUND}),
            s(&["jumdata", "idcard", "--name", "王小明", "--idcard", FOUND]),
        ),
        (
            "/v1/juhe/qualification",
            json!({"name": "枣庄市建设工程有限公司"}),
            s(&["juhe", "qualification", "--name", "枣庄市建设工程有限公司"]),
        ),
        (
            "/v1/juhe/administrative-license",
            json!({"name": "枣庄市建设工程有限公司", "skip": 0}),
            s(&[
                "juhe",
                "administrative-license",
                "--name",
                "枣庄市建设工程有限公司",
                "--skip",
                "0",
            ]),
        ),
        (
            "/v1/zz-license/by-holder",
            json!({"holder-code": FOUND, "cert-type": "T01"}),
            s(&[
                "zz-license",
                "by-holder",
                "--holder-code",
                FOUND,
                "--cert-type",
                "T01",
            ]),
        ),
        (
            "/v1/zz-license/info",
            json!({"certificate-id": LICENCE}),
            s(&["zz-license", "info", "--certificate-id", LICENCE]),
        ),
        (
            "/v1/zz-license/by-qrcode",
            json!({"qr": "SANDBOX-QR-EXPIRED", "city": false}),
            s(&["zz-license", "by-qrcode", "--qr", "SANDBOX-QR-EXPIRED"]),
        ),
        (
            "/v1/zz-license/verify",
            json!({"cert-type": "T01", "holder-code": FOUND, "data": "{\"zzbh\":\"1\"}", "use-for": "入职核验"}),
            s(&[
                "zz-license",
                "verify",
                "--cert-type",
                "T01",
                "--holder-code",
                FOUND,
                "--data",
                "{\"zzbh\":\"1\"}",
                "--use-for",
                "入职核验",
            ]),
        ),
        (
            "/v1/zz-license/verify-file",
            json!({"cert-type": "T01", "file": base64_of(b"%PDF-1.4 credkit test licence"), "use-cause": "入职核验"}),
            s(&[
                "zz-license",
                "verify-file",
                "--cert-type",
                "T01",
                "--file",
                pdf,
                "--use-cause",
                "入职核验",
            ]),
        ),
        (
            "/v1/zz-license/download-url",
            json!({"certificate-id": LICENCE}),
            s(&["zz-license", "download-url", "--certificate-id", LICENCE]),
        ),
        (
            "/v1/zhima/jobworth",
            json!({"once-token": "SANDBOX-WAITING", "user-id": "2088000000000001"}),
            s(&[
                "zhima",
                "jobworth",
                "--once-token",
                "SANDBOX-WAITING",
                "--user-id",
                "2088000000000001",
            ]),
        ),
    ]
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A JSON answer without what differs between two calls (the request id, the
/// sandbox's port in links).
fn comparable(v: Value) -> Value {
    let text = v.to_string();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..at + 10]);
        rest = rest[at + 10..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("PORT");
    }
    out.push_str(rest);
    let mut v: Value = serde_json::from_str(&out).unwrap();
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    if let Some(o) = v.get_mut("error").and_then(Value::as_object_mut) {
        o.remove("request_id");
        o.remove("message");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_exactly_as_cred_json_does() {
    let served = Served::start("routes", &["--sandbox", "serve", "--no-audit"], &[]);
    let dir = tempdir("routes-cli");
    let pdf = dir.join("licence.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 credkit test licence").unwrap();
    let http = client();
    let all = cases(pdf.to_str().unwrap());
    assert_eq!(
        all.len() + 1,
        cred_gateway::catalogue::OPERATIONS.len(),
        "a route without a case (download has its own test)"
    );
    for (path, body, args) in all {
        let (status, got) = answer(served.post(&http, path, &body)).await;
        let out = cred(&dir)
            .arg("--sandbox")
            .arg("--json")
            .args(&args)
            .output()
            .unwrap();
        let want: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{path}: cred printed no JSON ({e})"));
        assert_eq!(status, 200, "{path}: {got}");
        assert_eq!(comparable(got), comparable(want), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_is_the_file_with_its_billing_in_headers() {
    let served = Served::start("download", &["--sandbox", "serve", "--no-audit"], &[]);
    let http = client();
    let response = served
        .post(
            &http,
            "/v1/zz-license/download",
            &json!({"certificate-id": LICENCE}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(h.contains_key("x-credkit-charged"));
    assert_eq!(h["content-type"], "application/pdf");
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"), "{} bytes", bytes.len());
    // Expired: an answer without a file, as JSON.
    let expired = LICENCE.replace("C0000001.001.N", "EXPIRED22.001.0");
    let (status, v) = answer(served.post(
        &http,
        "/v1/zz-license/download",
        &json!({"certificate-id": expired}),
    ))
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["found"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_its_status_and_says_what_was_charged() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_secs(3),
        ..Default::default()
    })
    .await
    .unwrap();
    let (key, digest) = keygen("hr");
    let (other_key, other_digest) = keygen("juhe-only");
    let dir = tempdir("errors");
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\nmax_body_bytes = 2048\n\n[[caller]]\nname = \"hr\"\nkey_sha256 = \"{digest}\"\n\n[[caller]]\nname = \"juhe-only\"\nkey_sha256 = \"{other_digest}\"\noperations = [\"juhe/*\"]\n"
        ),
    )
    .unwrap();
    let served = Served::start_in(
        dir.clone(),
        &[
            "--timeout",
            "1",
            "serve",
            "--no-audit",
            "--config",
            config.to_str().unwrap(),
        ],
        &sandbox_env(&sandbox),
    );
    let http = client();
    let url = |p: &str| format!("{}{p}", served.url);
    let call = |k: &str, body: Value| {
        http.post(url("/v1/jumdata/credential"))
            .bearer_auth(k)
            .header("X-Credkit-Purpose", "test")
            .json(&body)
    };
    let person = |id: &str| json!({"name": "王小明", "idcard": id});
    let check = |status: u16, v: &Value, want: u16, kind: &str, charged: Value| {
        assert_eq!(status, want, "{v}");
        assert_eq!(v["error"]["kind"], kind, "{v}");
        assert_eq!(v["error"]["charged"], charged, "{v}");
    };

    // The caller.
    let (s, v) = answer(
        http.post(url("/v1/jumdata/credential"))
            .json(&person(FOUND)),
    )
    .await;
    check(s, &v, 401, "auth", json!(false));
    let (s, v) = answer(call("ck_not-a-key", person(FOUND))).await;
    check(s, &v, 401, "auth", json!(false));
    let (s, v) = answer(call(&other_key, person(FOUND))).await;
    check(s, &v, 403, "permission", json!(false));
    // The input: nothing reaches the provider.
    let (s, v) = answer(call(&key, person("110105194912310021"))).await;
    check(s, &v, 400, "invalid-argument", json!(false));
    assert!(
        v["error"]["message"].as_str().unwrap().contains("idcard"),
        "{v}"
    );
    let (s, v) = answer(call(
        &key,
        json!({"name": "王小明", "idcard": FOUND, "idcrad": "x"}),
    ))
    .await;
    check(s, &v, 400, "invalid-argument", json!(false));
    let (s, v) = answer(
        http.post(url("/v1/jumdata/credential"))
            .bearer_auth(&key)
            .json(&person(FOUND)),
    )
    .await;
    check(s, &v, 400, "invalid-argument", json!(false));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Credkit-Purpose"),
        "{v}"
    );
    let (s, v) = answer(
        http.post(url("/v1/jumdata/credential"))
            .bearer_auth(&key)
            .header("X-Credkit-Purpose", "test")
            .header("Content-Type", "text/plain")
            .body(person(FOUND).to_string()),
    )
    .await;
    check(s, &v, 415, "unsupported-media-type", json!(false));
    let (s, v) = answer(call(
        &key,
        json!({"name": "王".repeat(3000), "idcard": FOUND}),
    ))
    .await;
    check(s, &v, 413, "too-large", json!(false));
    let (s, v) = answer(
        http.post(url("/v1/jumdata/credential"))
            .bearer_auth(&key)
            .header("X-Credkit-Purpose", "test")
            .header("Content-Type", "application/json")
            .body("{\"name\": \"王小明\", \"idcard\": "),
    )
    .await;
    check(s, &v, 400, "invalid-argument", json!(false));
    let (s, v) = answer(
        http.post(url("/v1/jumdata/nothing"))
            .bearer_auth(&key)
            .json(&json!({})),
    )
    .await;
    check(s, &v, 404, "not-found", json!(false));
    assert_eq!(reached(&sandbox, "/credential/query").await, 0);

    // The provider's answers (sandbox magic inputs).
    let (s, v) = answer(call(&key, person("11010119900307002X"))).await;
    check(s, &v, 402, "insufficient-balance", json!(false));
    let response = call(&key, person("110101199003070038"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let (s, v) = answer(call(&key, person("110101199003070118"))).await;
    assert_eq!(s, 502, "{v}");
    let (s, v) = answer(call(&key, person("110101199003070126"))).await;
    check(s, &v, 504, "unavailable", Value::Null);
    // Not found is an answer.
    let (s, v) = answer(call(&key, person("110101199003070011"))).await;
    assert_eq!(
        (s, &v["found"], &v["charged"]),
        (200, &json!(false), &json!(false)),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_sends_once_replays_and_refuses_another_body() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_millis(1500),
        ..Default::default()
    })
    .await
    .unwrap();
    let served = Served::with_caller("idem", "", &[], &sandbox_env(&sandbox));
    let http = client();
    let body = json!({"name": "王小明", "idcard": FOUND});
    let send = |key: &str, body: &Value| {
        served
            .post(&http, "/v1/jumdata/credential", body)
            .header("Idempotency-Key", key)
    };
    let first = send("order-1", &body).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first: Value = first.json().await.unwrap();
    let again = send("order-1", &body).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the stored answer, request id included");
    assert_eq!(reached(&sandbox, "/credential/query").await, 1);
    // Another body with the same key.
    let (s, v) = answer(send("order-1", &json!({"name": "李四", "idcard": FOUND}))).await;
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (422, Some("idempotency-mismatch")),
        "{v}"
    );
    // Refused before sending: no record kept, the key stays free.
    let (s, _) = answer(send(
        "order-2",
        &json!({"name": "李四", "idcard": "110105194912310021"}),
    ))
    .await;
    assert_eq!(s, 400);
    // In flight: a slow call, and a repeat while it runs.
    let slow = json!({"name": "王小明", "idcard": "110101199003070126"});
    let pending = tokio::spawn(send("order-2", &slow).send());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (s, v) = answer(send("order-2", &slow)).await;
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (409, Some("idempotency-in-flight")),
        "{v}"
    );
    let done = pending.await.unwrap().unwrap();
    assert_eq!(done.status(), 200);
    let replay = send("order-2", &slow).send().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(reached(&sandbox, "/credential/query").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_leaves_a_whole_call_its_retry_gets() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_millis(1200),
        ..Default::default()
    })
    .await
    .unwrap();
    let served = Served::with_caller("giveup", "daily_budget = 10\n", &[], &sandbox_env(&sandbox));
    let body = json!({"name": "王小明", "idcard": "110101199003070126"});
    // A client whose timeout is shorter than the provider: it drops the request.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = served
        .post(&impatient, "/v1/jumdata/credential", &body)
        .header("Idempotency-Key", "hire-7")
        .send()
        .await;
    assert!(sent.is_err(), "the client was meant to give up");
    // Its retry, after the provider answered: the stored answer, not a second call
    // and not a key stuck "in flight".
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let http = client();
    let retry = served
        .post(&http, "/v1/jumdata/credential", &body)
        .header("Idempotency-Key", "hire-7")
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(reached(&sandbox, "/credential/query").await, 1);
}
