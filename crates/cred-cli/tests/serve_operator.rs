//! `cred serve` as operators run it: budgets and rates per caller, hostile and slow
//! clients, nothing personal in logs or metrics, every call in the ledger, a reload on
//! SIGHUP, a graceful stop on SIGTERM under load, and a client in another language.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod serve_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cred_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use serve_common::*;

const FOUND: &str = "321083197812162119";
const NOT_FOUND: &str = "110101199003070011";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_budget_counts_charged_calls_and_refuses_before_sending() {
    let sandbox = Sandbox::start().await.unwrap();
    let served = Served::with_caller("budget", "daily_budget = 2\n", &[], &sandbox_env(&sandbox));
    let http = client();
    let call = |id: &str| {
        served.post(
            &http,
            "/v1/jumdata/credential",
            &json!({"name": "王小明", "idcard": id}),
        )
    };
    // Not found is not charged: it does not count.
    for _ in 0..3 {
        let (s, v) = answer(call(NOT_FOUND)).await;
        assert_eq!((s, &v["charged"]), (200, &json!(false)), "{v}");
    }
    for _ in 0..2 {
        let (s, v) = answer(call(FOUND)).await;
        assert_eq!((s, &v["charged"]), (200, &json!(true)), "{v}");
    }
    let sent = reached(&sandbox, "/credential/query").await;
    let response = call(FOUND).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&after));
    let v: Value = response.json().await.unwrap();
    assert_eq!(v["error"]["kind"], "quota-exhausted", "{v}");
    assert_eq!(v["error"]["charged"], false);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("budget of 2")
    );
    assert_eq!(
        reached(&sandbox, "/credential/query").await,
        sent,
        "nothing sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_is_refused_with_retry_after() {
    let sandbox = Sandbox::start().await.unwrap();
    let served = Served::with_caller("rate", "rate_limit = 2\n", &[], &sandbox_env(&sandbox));
    let http = client();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = served
            .post(
                &http,
                "/v1/jumdata/idcard",
                &json!({"name": "王小明", "idcard": FOUND}),
            )
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        statuses.push(r.status().as_u16());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!((2..=3).contains(&ok), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(reached(&sandbox, "/idcard/check").await, ok as u64);
}

/// Raw bytes to the gateway; what it answers until it closes (or `limit` passes).
fn raw(addr: &str, bytes: &[u8], limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_hostile_clients_are_cut_off_without_a_call() {
    let sandbox = Sandbox::start().await.unwrap();
    let served = Served::with_caller(
        "hostile",
        "\n[limits]\nheader_timeout_secs = 1\nbody_timeout_secs = 1\nmax_header_bytes = 8192\n",
        &[],
        &sandbox_env(&sandbox),
    );
    let key = served.key.clone();
    let addr = served.url.trim_start_matches("http://").to_owned();
    // A head that never ends: closed after the header timeout.
    let (_, took) = raw(
        &addr,
        b"POST /v1/jumdata/credential HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A body that never comes: 408.
    let head = format!(
        "POST /v1/jumdata/credential HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nX-Credkit-Purpose: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":"
    );
    let (reply, took) = raw(&addr, head.as_bytes(), Duration::from_secs(10));
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A huge head: refused (431), not read without end.
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let (reply, _) = raw(&addr, huge.as_bytes(), Duration::from_secs(10));
    assert!(
        reply.starts_with("HTTP/1.1 431") || reply.is_empty(),
        "{reply}"
    );
    // A body announced huge: 413 without reading it.
    let head = format!(
        "POST /v1/jumdata/credential HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nX-Credkit-Purpose: t\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{{"
    );
    let (reply, _) = raw(&addr, head.as_bytes(), Duration::from_secs(10));
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    // Deeply nested JSON: a clean 400.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let http = client();
    let r = http
        .post(format!("{}/v1/jumdata/credential", served.url))
        .bearer_auth(&key)
        .header("X-Credkit-Purpose", "t")
        .header("Content-Type", "application/json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Still serving, and nothing reached the provider.
    let r = http
        .get(format!("{}/healthz", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sandbox.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_in_logs_metrics_or_the_ledger_and_every_call_recorded() {
    let served = Served::start("pii", &["--sandbox", "serve"], &[]);
    let http = client();
    let people = [
        ("王小明", FOUND),
        ("李秀英", "11010119900307002X"),
        ("张伟", "110105194912310021"), // invalid: refused
    ];
    for (name, id) in people {
        let _ = answer(served.post(
            &http,
            "/v1/jumdata/credential",
            &json!({"name": name, "idcard": id}),
        ))
        .await;
    }
    let _ = answer(served.post(
        &http,
        "/v1/zz-license/by-holder",
        &json!({"holder-code": FOUND, "cert-type": "T01"}),
    ))
    .await;
    let metrics = http
        .get(format!("{}/metrics", served.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("credkit_gateway_requests_total{caller=\"sandbox\",route=\"jumdata/credential\",status=\"200\"}"), "{metrics}");
    let log = served.stderr();
    assert!(log.contains("route=jumdata/credential status=400"), "{log}");
    let ledger = served.dir.join("data/credkit/audit.ledger");
    let mut stored = std::fs::read(&ledger).unwrap();
    for extra in ["-wal", "-shm"] {
        let mut p = ledger.clone().into_os_string();
        p.push(extra);
        stored.extend(std::fs::read(p).unwrap_or_default());
    }
    let stored = String::from_utf8_lossy(&stored).into_owned();
    for (name, id) in people {
        for text in [&log, &metrics, &stored] {
            assert!(!text.contains(id), "{id} leaked");
            assert!(!text.contains(&id[..14]), "a prefix of {id} leaked");
            assert!(!text.contains(name), "{name} leaked");
        }
    }
    // Recorded: a person's request to know finds the gateway's calls about them.
    let out = cred(&served.dir)
        .args(["--json", "audit", "find"])
        .arg(&ledger)
        .args(["--idcard", FOUND])
        .output()
        .unwrap();
    let found = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{found}");
    assert!(found.contains("gateway:sandbox"), "{found}");
    assert!(found.contains("入职背景调查 (test)"), "{found}");
    assert!(
        found.contains("by-holder") && found.contains("credential"),
        "{found}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_callers_without_dropping_connections() {
    let sandbox = Sandbox::start().await.unwrap();
    let (dir, config, key) = caller_config("reload", "");
    let mut served = Served::start_in(
        dir,
        &["serve", "--no-audit", "--config", config.to_str().unwrap()],
        &sandbox_env(&sandbox),
    );
    served.key = key.clone();
    let (new_key, new_digest) = keygen("newcomer");
    let http = client(); // one keep-alive connection pool throughout
    let call = |k: &str| {
        http.post(format!("{}/v1/jumdata/idcard", served.url))
            .bearer_auth(k)
            .header("X-Credkit-Purpose", "t")
            .json(&json!({"name": "王小明", "idcard": FOUND}))
    };
    assert_eq!(call(&new_key).send().await.unwrap().status(), 401);
    assert_eq!(call(&key).send().await.unwrap().status(), 200);
    let text = std::fs::read_to_string(&config).unwrap();
    // A broken file is not loaded: the old callers stay.
    std::fs::write(&config, format!("{text}\n[[caller]]\nname = \"x\"\n")).unwrap();
    served.signal("-HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(call(&key).send().await.unwrap().status(), 200);
    assert!(served.stderr().contains("was not reloaded"));
    std::fs::write(
        &config,
        format!("{text}\n[[caller]]\nname = \"newcomer\"\nkey_sha256 = \"{new_digest}\"\noperations = [\"jumdata/idcard\"]\n"),
    )
    .unwrap();
    served.signal("-HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    while call(&new_key).send().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "{}", served.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(call(&key).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_accepted_request() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_millis(800),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut served = Served::with_caller("term", "", &[], &sandbox_env(&sandbox));
    let http = client();
    let mut calls = Vec::new();
    for i in 0..40 {
        // Half slow (in flight at the signal), half quick.
        let id = if i % 2 == 0 {
            "110101199003070126"
        } else {
            FOUND
        };
        calls.push(tokio::spawn(
            served
                .post(
                    &http,
                    "/v1/jumdata/idcard",
                    &json!({"name": "王小明", "idcard": id}),
                )
                .send(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.signal("-TERM");
    for c in calls {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.status(), 200, "an accepted request was not answered");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["provider"], "jumdata");
    }
    let status = served.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(served.stderr().contains("stopping"));
    // Stopped: nothing listens.
    let addr = served.url.trim_start_matches("http://").to_owned();
    assert!(TcpStream::connect(addr).is_err());
    assert_eq!(reached(&sandbox, "/idcard/check").await, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_with_only_the_standard_library() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "python3 is missing in CI");
        eprintln!("*** SKIPPED: no python3 ***");
        return;
    }
    let served = Served::start("python", &["--sandbox", "serve", "--no-audit"], &[]);
    let script = r#"
import json, os, sys, urllib.request, urllib.error
url, key = os.environ["GATEWAY"], os.environ["KEY"]
def call(path, body, purpose="入职背景调查"):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json",
                 "X-Credkit-Purpose": purpose.encode("utf-8").decode("latin-1")})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
status, answer = call("/v1/jumdata/credential", {"name": "王小明", "idcard": "321083197812162119"})
assert status == 200 and answer["found"] and answer["charged"] is True, (status, answer)
status, answer = call("/v1/jumdata/credential", {"name": "王小明", "idcard": "110105194912310021"})
assert status == 400 and answer["error"]["charged"] is False, (status, answer)
print("python ok", answer["error"]["kind"])
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("GATEWAY", &served.url)
        .env("KEY", &served.key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.trim(), "python ok invalid-argument");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_returns_the_calls_about_a_person_from_gateway_cli_and_batch() {
    let dir = tempdir("find-all");
    let ledger = dir.join("shared.ledger");
    let ledger_arg = ledger.to_str().unwrap().to_owned();
    let served = Served::start_in(
        dir.join("gw"),
        &["--sandbox", "--audit-ledger", &ledger_arg, "serve"],
        &[],
    );
    let http = client();
    let (s, _) = answer(
        served
            .post(
                &http,
                "/v1/jumdata/credential",
                &json!({"name": "王小明", "idcard": FOUND}),
            )
            .header("Idempotency-Key", "hire-0142"),
    )
    .await;
    assert_eq!(s, 200);
    // Someone else, through the gateway: not found by the search below.
    let (s, _) = answer(served.post(
        &http,
        "/v1/jumdata/idcard",
        &json!({"name": "李秀英", "idcard": "320102195001010004"}),
    ))
    .await;
    assert_eq!(s, 200);
    // The same person from the command line and from a batch, into the same ledger
    // while the gateway holds it open.
    let out = cred(&dir)
        .args([
            "--sandbox",
            "--audit-ledger",
            &ledger_arg,
            "--purpose",
            "复核",
        ])
        .args(["jumdata", "idcard", "--name", "王小明", "--idcard", FOUND])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let input = dir.join("people.csv");
    std::fs::write(
        &input,
        format!("name,idcard,purpose\n王小明,{FOUND},年度复核\n"),
    )
    .unwrap();
    let out = cred(&dir)
        .args([
            "--sandbox",
            "--audit-ledger",
            &ledger_arg,
            "batch",
            "jumdata",
            "credential",
            "--input",
        ])
        .arg(&input)
        .arg("--journal")
        .arg(dir.join("people.journal"))
        .arg("--output")
        .arg(dir.join("people.out.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cred(&dir)
        .args(["--json", "audit", "find", &ledger_arg, "--idcard", FOUND])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    let found: Value = serde_json::from_str(&text).unwrap();
    let records = found["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"));
    let callers: Vec<&str> = records
        .iter()
        .map(|r| r["caller"].as_str().unwrap())
        .collect();
    assert_eq!(records.len(), 3, "{callers:?}");
    assert!(callers.contains(&"gateway:sandbox"), "{callers:?}");
    assert!(callers.iter().any(|c| c.starts_with("cli:")), "{callers:?}");
    assert!(
        callers.iter().any(|c| c.starts_with("batch:")),
        "{callers:?}"
    );
    let gateway = records
        .iter()
        .find(|r| r["caller"] == "gateway:sandbox")
        .unwrap();
    let hmac = gateway["idempotency_key_hmac"]
        .as_str()
        .unwrap_or_else(|| panic!("{gateway}"));
    assert_eq!(hmac.len(), 64);
    assert!(!text.contains("hire-0142"));
    let out = cred(&dir)
        .args(["audit", "verify", &ledger_arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_certificate_from_a_private_ca() {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cred-core/tests/fixtures/tls"
    );
    let cert = format!("{fixtures}/server.pem");
    let key = format!("{fixtures}/server.key");
    let served = Served::start(
        "tls",
        &[
            "--sandbox",
            "serve",
            "--no-audit",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
        &[],
    );
    assert!(
        served.url.starts_with("https://127.0.0.1:"),
        "{}",
        served.url
    );
    let ca = std::fs::read(format!("{fixtures}/ca.pem")).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let (s, v) = answer(served.post(
        &https,
        "/v1/jumdata/idcard",
        &json!({"name": "王小明", "idcard": FOUND}),
    ))
    .await;
    assert_eq!(s, 200, "{v}");
    // Without trusting the CA, or in plain HTTP: no answer.
    assert!(
        reqwest::get(format!("{}/healthz", served.url))
            .await
            .is_err()
    );
    let plain = served.url.replace("https://", "http://");
    assert!(
        reqwest::get(format!("{plain}/healthz"))
            .await
            .and_then(|r| r.error_for_status())
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_its_concurrency_limit_the_gateway_sheds_load_with_503() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_millis(1000),
        ..Default::default()
    })
    .await
    .unwrap();
    let served = Served::with_caller(
        "shed",
        "\n[limits]\nmax_in_flight = 2\n",
        &[],
        &sandbox_env(&sandbox),
    );
    let http = client();
    let slow = json!({"name": "王小明", "idcard": "110101199003070126"});
    let mut calls = Vec::new();
    for _ in 0..2 {
        calls.push(tokio::spawn(
            served.post(&http, "/v1/jumdata/idcard", &slow).send(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = served
        .post(&http, "/v1/jumdata/idcard", &slow)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["error"]["kind"].as_str(), &v["error"]["charged"]),
        (Some("overloaded"), &json!(false))
    );
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(reached(&sandbox, "/idcard/check").await, 2);
    // Health answers even at the limit; with the calls done, so does the next call.
    let r = http
        .get(format!("{}/healthz", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn without_callers_or_credentials_serve_says_what_to_do() {
    let dir = tempdir("nocallers");
    let out = cred(&dir).args(["serve", "--no-audit"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cred serve keygen"), "{err}");
    let (_, digest) = keygen("x");
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!("[[caller]]\nname = \"x\"\nkey_sha256 = \"{digest}\"\n"),
    )
    .unwrap();
    let out = cred(&dir)
        .args(["serve", "--no-audit", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("no provider can be offered") && err.contains("--sandbox"),
        "{err}"
    );
    let out = cred(&dir)
        .args(["serve", "--purpose", "x", "--sandbox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_take_more_than_max_connections() {
    let sandbox = Sandbox::start().await.unwrap();
    let served = Served::with_caller(
        "conns",
        "\n[limits]\nmax_connections = 2\nheader_timeout_secs = 20\n",
        &[],
        &sandbox_env(&sandbox),
    );
    let addr = served.url.trim_start_matches("http://").to_owned();
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let health = format!("{}/healthz", served.url);
    // Two idle connections hold both slots: a third waits (here: times out).
    let first = TcpStream::connect(&addr).unwrap();
    let _second = TcpStream::connect(&addr).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        quick.get(&health).send().await.is_err(),
        "a third connection was served"
    );
    // One closes: the waiting ones are served.
    drop(first);
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let r = fresh.get(&health).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
