//! `cred batch` end to end: real `cred` processes against a sandbox (or a counting proxy
//! in front of it), asserting from the provider's side what was sent: invalid rows and
//! duplicates never, answered rows never twice (across resumes, kills and Ctrl-C), and
//! one output line per row in input order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cred_sandbox::Sandbox;
use serde_json::Value;

mod batch_common;
use batch_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_checked_deduplicated_answered_in_order_and_never_sent_twice() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("order");
    let (a, b, c) = (id(1), id(2), id(3));
    let input = dir.write(
        "people.csv",
        csv(&[
            ("王小明", &a),
            ("李四", &b),
            ("王小明", &a),  // duplicate of row 1
            ("坏人", "123"), // invalid
            ("张三", &c),
            ("赵六", NO_RECORD),
        ]),
    );
    let output = dir.path("out.jsonl");
    let out = tokio::task::block_in_place(|| batch(sandbox.base_url(), &input, &output, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&output);
    assert_eq!(
        statuses(&got),
        [
            "answered",
            "answered",
            "duplicate",
            "invalid",
            "answered",
            "answered"
        ]
    );
    let rows: Vec<u64> = got.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [1, 2, 3, 4, 5, 6]);
    assert_eq!(got[2]["of"], 1);
    assert_eq!(
        got[2]["result"], got[0]["result"],
        "a duplicate gets the same answer"
    );
    assert_eq!(got[2]["charged"], false);
    assert_eq!(got[3]["error"]["kind"], "invalid-argument");
    assert_eq!(got[5]["found"], false);
    // Keys in the documented order.
    let keys: Vec<&String> = got[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["row", "status", "found", "charged", "request_id", "result"]
    );
    assert_eq!(
        sent(&sandbox).await,
        4,
        "3 unique valid inputs and the no-record one"
    );
    // Run again: everything comes from the journal; nothing is sent.
    let again = dir.path("again.jsonl");
    let out = tokio::task::block_in_place(|| batch(sandbox.base_url(), &input, &again, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 4);
    assert_eq!(lines(&again), got);
    // Nothing readable at rest, owner-only files.
    let journal = dir.path("people.csv.journal");
    let bytes = std::fs::read(&journal).unwrap();
    for needle in [a.as_bytes(), "王小明".as_bytes(), "电器计量工".as_bytes()] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [journal.clone(), dir.path("people.csv.journal.key"), output] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gbk_and_bom_csv_json_lines_and_xlsx_read_alike_with_header_mapping() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("formats");
    let text = "姓名,身份证号\n王小明,321083197812162119\n李四,11010519491231002X\n王小明,321083197812162119\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let inputs = [
        dir.write("gbk.csv", gbk.as_ref()),
        dir.write("bom.csv", [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()),
        dir.write(
            "rows.jsonl",
            "{\"姓名\":\"王小明\",\"身份证号\":\"321083197812162119\"}\n{\"姓名\":\"李四\",\"身份证号\":\"11010519491231002X\"}\n\n{\"姓名\":\"王小明\",\"身份证号\":\"321083197812162119\"}\n",
        ),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batch/people.xlsx"),
    ];
    let map = [
        "--map",
        "姓名=name",
        "--map",
        "身份证号=idcard",
        "--map",
        "证书编号=certificate-no",
    ];
    for (i, input) in inputs.iter().enumerate() {
        let output = dir.path(&format!("out{i}.jsonl"));
        let journal = dir.path(&format!("j{i}"));
        let mut extra = map.to_vec();
        extra.extend(["--journal", journal.to_str().unwrap()]);
        let out = tokio::task::block_in_place(|| batch(sandbox.base_url(), input, &output, &extra));
        assert!(
            out.status.success(),
            "{}: {}",
            input.display(),
            stderr(&out)
        );
        let got = lines(&output);
        assert_eq!(
            &statuses(&got)[..3],
            ["answered", "answered", "duplicate"],
            "{}",
            input.display()
        );
        assert_eq!(got[0]["found"], true);
    }
    // The spreadsheet's fourth row holds the ID number as a number: Excel kept 15 of its
    // 18 digits, so it is refused, never sent.
    let xlsx = lines(&dir.path("out3.jsonl"));
    assert_eq!(xlsx[3]["status"], "invalid");
    assert!(
        xlsx[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("store it as text"),
        "{}",
        xlsx[3]
    );
    assert_eq!(sent(&sandbox).await, 8, "two unique inputs per file");
    // Without the mapping, a clear usage error before anything.
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &inputs[1], &dir.path("x.jsonl"), &[])
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--map"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_counts_and_sends_and_writes_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("dry");
    let (a, b) = (id(10), id(11));
    let input = dir.write(
        "p.csv",
        csv(&[
            ("王小明", &a),
            ("李四", &b),
            ("王小明", &a),
            ("坏人", "12345"),
        ]),
    );
    let out = tokio::task::block_in_place(|| {
        cred(sandbox.base_url())
            .args([
                "--json",
                "batch",
                "jumdata",
                "credential",
                "--dry-run",
                "--input",
            ])
            .arg(&input)
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["rows"], 4);
    assert_eq!(plan["invalid"], 1);
    assert_eq!(plan["duplicates"], 1);
    assert_eq!(plan["to_send"], 2);
    assert_eq!(plan["worst_case_charged"], 2);
    assert_eq!(plan["first_invalid"][0]["row"], 4);
    assert_eq!(sent(&sandbox).await, 0);
    assert!(
        !dir.path("p.csv.journal").exists(),
        "a dry run writes no journal"
    );
    assert!(!dir.path("p.csv.journal.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_balance_stops_the_run_and_a_resume_retries_only_that_row() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("balance");
    let ids: Vec<String> = (20..25).map(id).collect();
    let input = dir.write(
        "p.csv",
        csv(&[
            ("甲", &ids[0]),
            ("乙", &ids[1]),
            ("丙", BALANCE),
            ("丁", &ids[2]),
            ("戊", &ids[3]),
            ("己", &ids[4]),
        ]),
    );
    let output = dir.path("out.jsonl");
    let run = || {
        tokio::task::block_in_place(|| {
            batch(sandbox.base_url(), &input, &output, &["--concurrency", "1"])
        })
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("insufficient-balance"), "{text}");
    assert!(text.contains("resume with: "), "{text}");
    assert_eq!(
        statuses(&lines(&output)),
        [
            "answered", "answered", "failed", "skipped", "skipped", "skipped"
        ]
    );
    assert_eq!(sent(&sandbox).await, 3);
    // Resumed (the balance still short): rows 1 and 2 are not sent again; row 3 is.
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_charged_is_never_exceeded() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("maxcharged");
    let ids: Vec<String> = (30..40).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| ("王小明", i.as_str())).collect();
    let input = dir.write("p.csv", csv(&rows));
    let output = dir.path("out.jsonl");
    let out = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &output,
            &["--max-charged", "3", "--concurrency", "8"],
        )
    });
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let got = lines(&output);
    let charged = got.iter().filter(|l| l["charged"] == true).count();
    assert_eq!(charged, 3);
    assert_eq!(statuses(&got).iter().filter(|s| *s == "skipped").count(), 7);
    assert_eq!(sent(&sandbox).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_cover_every_row_exactly_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("shards");
    let ids: Vec<String> = (40..50).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| ("王小明", i.as_str())).collect();
    let input = dir.write("p.csv", csv(&rows));
    let mut seen = Vec::new();
    for k in 1..=3 {
        let output = dir.path(&format!("out{k}.jsonl"));
        let journal = dir.path(&format!("j{k}"));
        let shard = format!("{k}/3");
        let out = tokio::task::block_in_place(|| {
            batch(
                sandbox.base_url(),
                &input,
                &output,
                &["--shard", &shard, "--journal", journal.to_str().unwrap()],
            )
        });
        assert!(out.status.success(), "{}", stderr(&out));
        seen.extend(lines(&output).iter().map(|l| l["row"].as_u64().unwrap()));
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=10).collect::<Vec<u64>>());
    assert_eq!(sent(&sandbox).await, 10);
}

// ---------------------------------------------------------------------------------------
// A counting proxy in front of the sandbox: it records which ID number each request
// carries, holds every request for a while, and can kill or interrupt the `cred` process
// at the moment the n-th request arrives, so the requests in flight are known exactly.

#[derive(Default)]
struct Seen {
    /// ID number → arrivals.
    arrivals: HashMap<String, u32>,
    /// ID numbers whose request arrived and was not answered (yet).
    held: Vec<String>,
    /// `held` at the moment the signal was sent.
    held_at_signal: Option<Vec<String>>,
    /// Requests that arrived after the signal.
    after_signal: Vec<String>,
}

/// Which process to signal, with which signal, at which arrival.
type Target = Arc<Mutex<Option<(u32, &'static str, u32)>>>;

struct Proxy {
    url: String,
    seen: Arc<Mutex<Seen>>,
    target: Target,
    hold: Arc<Mutex<Duration>>,
}

async fn proxy(sandbox: &Sandbox) -> Proxy {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    #[derive(Clone)]
    struct Shared {
        upstream: String,
        seen: Arc<Mutex<Seen>>,
        /// (pid, signal, on which arrival)
        target: Target,
        hold: Arc<Mutex<Duration>>,
        client: reqwest::Client,
    }

    async fn forward(
        State(s): State<Shared>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl IntoResponse {
        let idcard = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "idcard")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        {
            let mut seen = s.seen.lock().unwrap();
            if seen.held_at_signal.is_some() {
                seen.after_signal.push(idcard.clone());
            }
            *seen.arrivals.entry(idcard.clone()).or_default() += 1;
            seen.held.push(idcard.clone());
            let total: u32 = seen.arrivals.values().sum();
            let mut target = s.target.lock().unwrap();
            if let Some((pid, signal, at)) = *target
                && total >= at
            {
                seen.held_at_signal = Some(seen.held.clone());
                *target = None;
                Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status()
                    .unwrap();
            }
        }
        let hold = *s.hold.lock().unwrap();
        tokio::time::sleep(hold).await;
        let mut request = s
            .client
            .post(format!("{}{}", s.upstream, uri.path()))
            .body(body.to_vec());
        if let Some(ct) = headers.get("content-type") {
            request = request.header("content-type", ct.to_str().unwrap());
        }
        let answer = request.send().await.unwrap();
        let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
        let bytes = answer.bytes().await.unwrap();
        s.seen.lock().unwrap().held.retain(|h| h != &idcard);
        (status, [("content-type", "application/json")], bytes)
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let target = Arc::new(Mutex::new(None));
    let hold = Arc::new(Mutex::new(Duration::from_millis(300)));
    let shared = Shared {
        upstream: sandbox.base_url().to_owned(),
        seen: seen.clone(),
        target: target.clone(),
        hold: hold.clone(),
        client: reqwest::Client::new(),
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(forward))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Proxy {
        url,
        seen,
        target,
        hold,
    }
}

/// Runs a batch through the proxy and sends it `signal` when the `at`-th request arrives.
fn interrupted_run(
    proxy: &Proxy,
    input: &Path,
    output: &Path,
    signal: &'static str,
    at: u32,
) -> Output {
    let child = cred(&proxy.url)
        .args([
            "batch",
            "jumdata",
            "credential",
            "--concurrency",
            "4",
            "--input",
        ])
        .arg(input)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    *proxy.target.lock().unwrap() = Some((child.id(), signal, at));
    child.wait_with_output().unwrap()
}

fn forty_people(dir: &Dir) -> (PathBuf, Vec<String>) {
    let ids: Vec<String> = (100..140).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| ("王小明", i.as_str())).collect();
    (dir.write("p.csv", csv(&rows)), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_without_sending_any_input_twice() {
    let sandbox = Sandbox::start().await.unwrap();
    let proxy = proxy(&sandbox).await;
    let dir = Dir::new("kill");
    let (input, ids) = forty_people(&dir);
    let output = dir.path("out.jsonl");
    let out = tokio::task::block_in_place(|| interrupted_run(&proxy, &input, &output, "-KILL", 10));
    assert_eq!(out.status.code(), None, "killed by a signal");
    assert!(!output.exists(), "a killed run writes no output");
    // Give requests the kernel had already taken from the dead process time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = proxy.seen.lock().unwrap().held_at_signal.clone().unwrap();
    assert!(!held.is_empty(), "requests were in flight at the kill");
    let late = proxy.seen.lock().unwrap().after_signal.clone();
    // Resume, quickly this time.
    *proxy.hold.lock().unwrap() = Duration::ZERO;
    let resumed = dir.path("resumed.jsonl");
    let out = tokio::task::block_in_place(|| batch(&proxy.url, &input, &resumed, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("--resend-unknown"), "{text}");
    let got = lines(&resumed);
    assert_eq!(got.len(), 40, "one line per row");
    let seen = proxy.seen.lock().unwrap();
    for (i, id) in ids.iter().enumerate() {
        let arrivals = seen.arrivals.get(id).copied().unwrap_or(0);
        assert!(arrivals <= 1, "row {} was sent {arrivals} times", i + 1);
        let status = got[i]["status"].as_str().unwrap();
        match status {
            "answered" => assert_eq!(arrivals, 1, "row {}", i + 1),
            "unknown" => {}
            other => panic!("row {}: {other}", i + 1),
        }
    }
    let unknown: Vec<&String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| got[*i]["status"] == "unknown")
        .map(|(_, id)| id)
        .collect();
    eprintln!(
        "killed at the 10th request: {} held at the proxy, {} arrived after the kill, {} rows unknown after resume",
        held.len(),
        late.len(),
        unknown.len()
    );
    // Unknown = in flight at the kill: every request the proxy held then, plus any the
    // dying process had marked `sending` whose request arrived late or never.
    for h in &held {
        assert!(
            unknown.contains(&h),
            "a request in flight at the kill is not unknown"
        );
    }
    for u in &unknown {
        assert!(
            held.contains(u) || late.contains(u) || !seen.arrivals.contains_key(*u),
            "an unknown row was answered before the kill"
        );
    }
    assert!(unknown.len() <= 4, "at most --concurrency rows in flight");
    let before = seen.arrivals.clone();
    drop(seen);
    // --resend-unknown sends exactly those, once more each.
    let again = dir.path("again.jsonl");
    let out =
        tokio::task::block_in_place(|| batch(&proxy.url, &input, &again, &["--resend-unknown"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&again);
    assert!(got.iter().all(|l| l["status"] == "answered"));
    let seen = proxy.seen.lock().unwrap();
    for id in &ids {
        let was = before.get(id).copied().unwrap_or(0);
        let now = seen.arrivals.get(id).copied().unwrap_or(0);
        let expected = if unknown.contains(&id) { was + 1 } else { was };
        assert_eq!(now, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_finishes_the_requests_in_flight_and_resumes() {
    let sandbox = Sandbox::start().await.unwrap();
    let proxy = proxy(&sandbox).await;
    let dir = Dir::new("sigint");
    let (input, ids) = forty_people(&dir);
    let output = dir.path("out.jsonl");
    let out = tokio::task::block_in_place(|| interrupted_run(&proxy, &input, &output, "-INT", 10));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("interrupted"), "{text}");
    assert!(text.contains("resume with: "), "{text}");
    let got = lines(&output);
    assert_eq!(got.len(), 40);
    // The requests in flight were answered, not abandoned.
    let answered = statuses(&got).iter().filter(|s| *s == "answered").count();
    assert!(answered >= 10, "{answered}");
    assert!(
        statuses(&got)
            .iter()
            .all(|s| s == "answered" || s == "skipped")
    );
    *proxy.hold.lock().unwrap() = Duration::ZERO;
    let resumed = dir.path("resumed.jsonl");
    let out = tokio::task::block_in_place(|| batch(&proxy.url, &input, &resumed, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(lines(&resumed).iter().all(|l| l["status"] == "answered"));
    let seen = proxy.seen.lock().unwrap();
    for id in &ids {
        assert_eq!(seen.arrivals.get(id).copied(), Some(1), "sent exactly once");
    }
}

/// `cred --sandbox --json batch <target> --input <jsonl> --output <out>`: the summary.
fn sandbox_batch(dir: &Dir, target: &[&str], rows: &str, extra: &[&str]) -> (Value, Vec<Value>) {
    let name = target.join("-");
    let input = dir.write(&format!("{name}.jsonl"), rows);
    let output = dir.path(&format!("{name}.out.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_cred"))
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("credkit-test-data"),
        )
        .env_remove("CRED_REDIS_URL")
        .args(["--sandbox", "--json", "batch"])
        .args(target)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    (summary, lines(&output))
}

#[test]
fn every_query_operation_runs_as_a_batch_with_a_json_summary() {
    let dir = Dir::new("every");
    let fixture = cred_sandbox::zz_license::FIXTURE_IDS[0];
    let cases: Vec<(Vec<&str>, String, Vec<&str>)> = vec![
        (
            vec!["jumdata", "idcard"],
            "{\"name\":\"王小明\",\"idcard\":\"321083197812162119\"}\n{\"name\":\"王小明\",\"idcard\":\"123\"}\n".to_owned(),
            vec![],
        ),
        (
            vec!["juhe", "administrative-license"],
            "{\"name\":\"河南省建筑科学研究院有限公司\"}\n{\"name\":\"x\",\"skip\":\"many\"}\n".to_owned(),
            vec![],
        ),
        (
            vec!["juhe", "qualification"],
            "{\"name\":\"河南省建筑科学研究院有限公司\"}\n{\"name\":\"\"}\n".to_owned(),
            vec![],
        ),
        (
            vec!["zz-license", "info"],
            format!("{{\"certificate-id\":\"{fixture}\"}}\n{{\"certificate-id\":\"1.2.156.3005.2.X.Y\"}}\n"),
            vec![],
        ),
        (
            vec!["zz-license", "by-holder"],
            "{\"holder-code\":\"321083197812162119\",\"holder-type\":\"111\",\"cert-type\":\"T01\"}\n{\"holder-code\":\"321083197812162119\",\"cert-type\":\"T01\"}\n".to_owned(),
            vec!["--city"],
        ),
        (
            vec!["zz-license", "verify"],
            "{\"cert-type\":\"T01\",\"holder-code\":\"321083197812162119\",\"data\":\"{\\\"name\\\":\\\"王小明\\\"}\",\"use-for\":\"核验\"}\n{\"cert-type\":\"T01\",\"holder-code\":\"321083197812162119\",\"use-for\":\"核验\"}\n".to_owned(),
            vec![],
        ),
        (
            vec!["zhima", "jobworth"],
            "{\"once-token\":\"SANDBOX-WAITING\",\"user-id\":\"2088102910292100\"}\n{\"user-id\":\"2088102910292100\"}\n".to_owned(),
            vec![],
        ),
    ];
    for (target, rows, extra) in cases {
        let (summary, got) = sandbox_batch(&dir, &target, &rows, &extra);
        let name = target.join(" ");
        assert_eq!(summary["rows"], 2, "{name}: {summary}");
        assert_eq!(summary["statuses"]["answered"], 1, "{name}: {summary}");
        assert_eq!(summary["statuses"]["invalid"], 1, "{name}: {summary}");
        assert_eq!(summary["unfinished"], false, "{name}");
        assert_eq!(got[0]["status"], "answered", "{name}: {}", got[0]);
        assert_eq!(got[1]["status"], "invalid", "{name}: {}", got[1]);
        assert_eq!(got[1]["error"]["kind"], "invalid-argument", "{name}");
    }
}

/// `GET /metrics` over a plain TCP connection (HTTP/1.0): the body, or `None`.
fn scrape(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .write_all(format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

#[test]
fn metrics_are_served_while_a_batch_runs() {
    let dir = Dir::new("metrics");
    let ids: Vec<String> = (200..216).map(id).collect();
    let mut rows: Vec<(&str, &str)> = vec![("坏人", "123")]; // refused locally
    rows.extend(ids.iter().map(|i| ("王小明", i.as_str())));
    let input = dir.write("p.csv", csv(&rows));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_cred"))
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("credkit-test-data"),
        )
        .env_remove("CRED_REDIS_URL")
        .args([
            "--sandbox",
            "--rate-limit",
            "4",
            "batch",
            "jumdata",
            "credential",
        ])
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(dir.path("out.jsonl"))
        .args(["--metrics-addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Slow (4 a second): scrape while it runs, until calls have been counted.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        if let Some(text) = scrape(&addr)
            && text.contains("credkit_calls_total{")
            && text.contains("credkit_ratelimit_wait_seconds_count")
        {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "no metrics served");
        std::thread::sleep(Duration::from_millis(200));
    };
    for series in [
        "# TYPE credkit_calls_total counter",
        "credkit_calls_total{provider=\"jumdata\",operation=\"credential_query\",outcome=\"answered\",kind=\"none\",charged=\"yes\"}",
        "credkit_attempts_total{provider=\"jumdata\",operation=\"credential_query\",reason=\"first\"}",
        "# TYPE credkit_call_duration_seconds histogram",
        "credkit_http_duration_seconds_bucket{provider=\"jumdata\",status=\"200\"",
        "credkit_ratelimit_wait_seconds_count{provider=\"jumdata\"}",
        "credkit_invalid_input_total{provider=\"jumdata\",operation=\"credential_query\",param=\"idcard\"} 1",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    for personal in ["王小明", ids[0].as_str()] {
        assert!(!text.contains(personal));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
