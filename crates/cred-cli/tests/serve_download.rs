//! `POST /v1/zz-license/download` against a stand-in licence platform that serves whole
//! files, cut files and refusals: a file streams to the caller as it arrives; a cut one
//! is never delivered as whole (the chunked body breaks, or, held whole for an
//! idempotency key, it is a 502).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod serve_common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};
use serve_common::*;

const LICENCE: &str = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N";

/// The file the stand-in serves: `%PDF-` then a pattern, `n` bytes.
fn pdf(n: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    out.extend((0..n.saturating_sub(9)).map(|i| b'a' + (i % 26) as u8));
    out
}

/// One request's path (after reading its head and body).
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf).ok()?;
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return head.split_whitespace().nth(1).map(str::to_owned);
        }
    }
}

fn answer(stream: &mut TcpStream, content_type: &str, body: &[u8], announced: usize) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    for piece in body.chunks(16 * 1024) {
        if stream.write_all(piece).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What the stand-in's file link serves.
#[derive(Clone, Copy)]
enum FileKind {
    /// 300 KB, whole.
    Whole,
    /// Announces 300 KB, sends 100 KB, closes.
    Cut,
    /// An expired link's HTML page.
    Html,
}

/// A stand-in platform: a token, a link to `/file`, and the file of `kind`.
fn platform(kind: FileKind) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let own = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let own = own.clone();
            std::thread::spawn(move || {
                let Some(path) = read_request(&mut stream) else {
                    return;
                };
                if path.ends_with("/oauth/token") {
                    let body = r#"{"access_token":"tok-NOT-REAL","token_type":"bearer","expires_in":43199,"scope":"read"}"#;
                    answer(&mut stream, "application/json", body.as_bytes(), body.len());
                } else if path == "/file" {
                    let file = pdf(300 * 1024);
                    match kind {
                        FileKind::Whole => {
                            answer(&mut stream, "application/pdf", &file, file.len())
                        }
                        FileKind::Cut => answer(
                            &mut stream,
                            "application/pdf",
                            &file[..100 * 1024],
                            file.len(),
                        ),
                        FileKind::Html => {
                            let page = b"<html><body>link expired</body></html>";
                            answer(&mut stream, "text/html", page, page.len());
                        }
                    }
                } else {
                    let body = format!(
                        r#"{{"head":{{"status":"0","message":"ok"}},"data":{{"total":1,"dataList":[{{"fileUrl":"{own}/file","fileFormat":"PDF"}}]}}}}"#
                    );
                    answer(&mut stream, "application/json", body.as_bytes(), body.len());
                }
            });
        }
    });
    base
}

/// A gateway whose licence platform is the stand-in of `kind`.
fn gateway(name: &str, kind: FileKind) -> Served {
    let base = format!("{}/license-api-release", platform(kind));
    let env: Vec<(String, String)> = [
        ("ZZ_LICENSE_BASE_URL", base.as_str()),
        ("ZZ_LICENSE_USERNAME", "user-NOT-REAL"),
        ("ZZ_LICENSE_PASSWORD", "password-NOT-REAL"),
        ("ZZ_LICENSE_CLIENT_ID", "client-NOT-REAL"),
        ("ZZ_LICENSE_CLIENT_SECRET", "secret-NOT-REAL"),
        ("ZZ_LICENSE_SYSTEM_NAME", "credkit test"),
        ("ZZ_LICENSE_CALL_CATEGORY", "1"),
        ("ZZ_LICENSE_MATTER_NAME", "credkit test"),
        ("ZZ_LICENSE_EVENT_CODE", "TEST"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Served::with_caller(name, "", &[], &env)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn download(served: &Served, http: &reqwest::Client) -> reqwest::RequestBuilder {
    served.post(
        http,
        "/v1/zz-license/download",
        &json!({"certificate-id": LICENCE}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_file_streams_as_it_arrives() {
    let served = gateway("dl-whole", FileKind::Whole);
    let http = client();
    let r = download(&served, &http).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    // The licence platform does not bill (its document names no fee): the link was free.
    assert_eq!(h["x-credkit-charged"], "false");
    assert!(
        h.get("content-length").is_none(),
        "streamed, not held: {h:?}"
    );
    assert_eq!(h["transfer-encoding"], "chunked");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), pdf(300 * 1024).as_slice());
    // With an idempotency key: held whole, sent with its length, replayed the same.
    let first = download(&served, &http)
        .header("Idempotency-Key", "dl-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.headers()["content-length"],
        (300 * 1024).to_string().as_str()
    );
    let first = first.bytes().await.unwrap();
    let again = download(&served, &http)
        .header("Idempotency-Key", "dl-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_file_is_never_delivered_as_whole() {
    let served = gateway("dl-cut", FileKind::Cut);
    let http = client();
    let r = download(&served, &http).send().await.unwrap();
    assert_eq!(r.status(), 200, "the answer starts with the first bytes");
    assert!(
        r.bytes().await.is_err(),
        "the chunked body must break, not end"
    );
    // Held whole for an idempotency key: a 502, not a file.
    let (status, v) =
        serve_common::answer(download(&served, &http).header("Idempotency-Key", "dl-2")).await;
    assert_eq!(status, 502, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("end of file"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_link_is_an_error_that_carries_the_link_requests_billing() {
    let served = gateway("dl-html", FileKind::Html);
    let http = client();
    let (status, v) = serve_common::answer(download(&served, &http)).await;
    assert_eq!(status, 502, "{v}");
    // The link request's billing (free on this platform), not "unknown".
    assert_eq!(v["error"]["charged"], Value::Bool(false), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("download link"),
        "{v}"
    );
}
