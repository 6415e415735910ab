//! Faults below the HTTP layer, from a raw TCP server: chunked bodies over the cap,
//! connections dropped mid-answer, and many concurrent callers on one client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cred_core::{Charged, Error, RetryPolicy, TransportFailure};
use jumdata_api::{Client, CredentialQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NAME: &str = "王小明";
const ID_NUMBER: &str = "321083197812162119";

/// Serves every connection with `respond(request_text)`, counting requests.
async fn raw_server<F>(respond: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let respond = respond.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut text = String::new();
                // Read until the body announced by Content-Length has arrived.
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if text.len() >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(&respond(&text)).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

fn client(base: &str, max_body: usize) -> Client {
    Client::builder()
        .app_id("credkit-test-app")
        .app_secret("credkit-test-secret-not-real")
        .base_url(base)
        .max_body_bytes(max_body)
        .retry(RetryPolicy::none())
        .rate_limit(0)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_chunked_body_without_length_is_cut_at_the_cap() {
    let (base, hits) = raw_server(|_| {
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let chunk = vec![b' '; 4096];
        for _ in 0..64 {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(&chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    })
    .await;
    let err = client(&base, 32 * 1024)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 32768, .. }),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_a_transport_error_that_may_have_been_sent() {
    let (base, _) = raw_server(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"code\": 200, \"msg\"".to_vec()
    })
    .await;
    let err = client(&base, 1 << 20)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    match &err {
        Error::Transport { sent, .. } => assert!(*sent),
        other => panic!("expected Transport, got {other:?}"),
    }
    assert_eq!(err.charged(), Charged::Unknown);
    assert!(!err.to_string().contains("127.0.0.1"), "{err}");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_not_retried_for_a_paid_call() {
    let (base, hits) = raw_server(|_| Vec::new()).await;
    let c = Client::builder()
        .app_id("credkit-test-app")
        .app_secret("credkit-test-secret-not-real")
        .base_url(&base)
        .retry(RetryPolicy::default().with_backoff(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(2),
        ))
        .build()
        .unwrap();
    let err = c
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_serves_many_concurrent_callers_with_their_own_answers() {
    // The server answers with the request's own ID number as taskNo, and each caller
    // sends a different one, so each can check it got the answer to its own request.
    let (base, hits) = raw_server(|req| {
        let body = req.split("\r\n\r\n").nth(1).unwrap_or("");
        let sign = form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "idcard")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let json = format!(r#"{{"code":200,"msg":"成功","taskNo":"{sign}","charge":true,"data":{{"count":0,"items":[]}}}}"#);
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .into_bytes()
    })
    .await;
    let c = client(&base, 1 << 20);
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let c = c.clone();
        let first17 = format!("32108319781216{i:03}");
        let id = format!(
            "{first17}{}",
            cred_core::validate::resident_id_check_char(&first17).unwrap()
        );
        tasks.push(tokio::spawn(async move {
            let answer = c
                .credential_query(&CredentialQuery::new(NAME, &id))
                .await
                .unwrap();
            assert_eq!(answer.request_id(), Some(id.as_str()), "task {i}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(hits.load(Ordering::SeqCst), 64);
}

#[tokio::test]
async fn a_connect_timeout_means_nothing_was_sent() {
    // A loopback listener that never accepts, its backlog filled: further SYNs are
    // dropped, so the client's connect times out.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(1).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        if let Ok(Ok(stream)) =
            tokio::time::timeout(std::time::Duration::from_millis(100), s.connect(addr)).await
        {
            fillers.push(stream);
        }
    }
    let c = Client::builder()
        .app_id("credkit-test-app")
        .app_secret("credkit-test-secret-not-real")
        .base_url(format!("http://{addr}"))
        .connect_timeout(std::time::Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    match &err {
        Error::Transport { sent, message, .. } => {
            assert!(!sent, "{err}");
            assert!(
                message.contains("could not connect within 0.3s"),
                "{message}"
            );
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert_eq!(err.charged(), Charged::No);
    assert_eq!(
        err.transport_failure(),
        Some(TransportFailure::ConnectTimeout)
    );
}

/// The chain of `source()`s below `err`, as text.
fn sources(err: &Error) -> String {
    let mut out = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(&s.to_string());
        out.push('\n');
        source = s.source();
    }
    out
}

async fn call(base: &str) -> Error {
    client(base, 1 << 20)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn transport_failures_say_what_failed_and_keep_their_cause() {
    // Refused: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = call(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(
        refused.transport_failure(),
        Some(TransportFailure::Connect),
        "{refused:?}"
    );
    assert!(refused.nothing_sent());
    assert!(
        sources(&refused).to_lowercase().contains("refused"),
        "{}",
        sources(&refused)
    );
    // A name that does not resolve (`.invalid` never does, RFC 2606).
    let dns = call("http://credkit-test.invalid").await;
    assert_eq!(
        dns.transport_failure(),
        Some(TransportFailure::Dns),
        "{dns:?}"
    );
    assert!(dns.nothing_sent());
    assert!(!sources(&dns).is_empty());
    // TLS spoken to a server that answers plain HTTP.
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = plain.accept().await {
            let mut hello = [0u8; 512];
            let _ = s.read(&mut hello).await;
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let tls = call(&format!("https://{plain_addr}")).await;
    assert_eq!(
        tls.transport_failure(),
        Some(TransportFailure::Tls),
        "{tls:?}"
    );
    assert!(tls.nothing_sent());
    // No answer within the timeout: the request may have arrived.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let slow = Client::builder()
        .app_id("credkit-test-app")
        .app_secret("credkit-test-secret-not-real")
        .base_url(format!("http://{addr}"))
        .timeout(std::time::Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .rate_limit(0)
        .build()
        .unwrap()
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert_eq!(
        slow.transport_failure(),
        Some(TransportFailure::Timeout),
        "{slow:?}"
    );
    assert!(!slow.nothing_sent());
    // A connection closed before the answer: may have been sent.
    let (closing, _) = raw_server(|_| Vec::new()).await;
    let closed = call(&closing).await;
    assert_eq!(
        closed.transport_failure(),
        Some(TransportFailure::Connection),
        "{closed:?}"
    );
    assert!(!closed.nothing_sent());
    assert!(!sources(&closed).is_empty());
    // No message quotes the URL.
    for e in [&refused, &dns, &tls, &slow, &closed] {
        assert!(
            !e.to_string().contains("127.0.0.1") && !e.to_string().contains("credkit-test.invalid"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_retry_after_within_the_policy_is_waited_for_and_a_longer_one_is_returned() {
    let (short, hits) = raw_server(|_| {
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nslow"
            .to_vec()
    })
    .await;
    let retrying = |base: &str| {
        Client::builder()
            .app_id("credkit-test-app")
            .app_secret("credkit-test-secret-not-real")
            .base_url(base)
            .retry(RetryPolicy::default().with_max_attempts(2).with_backoff(
                std::time::Duration::from_millis(10),
                std::time::Duration::from_secs(3),
            ))
            .rate_limit(0)
            .build()
            .unwrap()
    };
    let started = std::time::Instant::now();
    let err = retrying(&short)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 2, "retried once");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "waited {:?}, not the 1 s asked for",
        started.elapsed()
    );
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(1)));
    // Sixty seconds is more than the policy waits (3 s): returned at once, with the wait.
    let (long, hits) = raw_server(|_| {
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 60\r\nContent-Length: 4\r\n\r\nbusy"
            .to_vec()
    })
    .await;
    let err = retrying(&long)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(60)));
}

#[tokio::test]
async fn a_body_with_a_length_that_arrives_in_pieces_is_read_whole() {
    // The answer's body is written in four pieces, 30 ms apart, cut inside a UTF-8
    // character and padded past 64 KiB: the client sees it in several chunks and must
    // join them byte for byte.
    let item = r#"{"occupation":"电器计量工","quaType":1,"certificateNo":"137000********5448"}"#;
    let body = format!(
        r#"{{"code":200,"msg":"成功","taskNo":"t-pieces","charge":true,"data":{{"count":1,"items":[{item}]}}{}}}"#,
        " ".repeat(100_000)
    );
    let body = body.into_bytes();
    let cut = body.iter().position(|&b| b >= 0x80).unwrap() + 1;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut seen = Vec::new();
        // The request's head and its form body (a few hundred bytes).
        while !String::from_utf8_lossy(&seen).contains("idcard=") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before its request was read");
            seen.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        for piece in [
            &body[..cut],
            &body[cut..cut + 7],
            &body[cut + 7..70_000],
            &body[70_000..],
        ] {
            stream.write_all(piece).await.unwrap();
            stream.flush().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
    });
    let answer = client(&base, 1 << 20)
        .credential_query(&CredentialQuery::new(NAME, ID_NUMBER))
        .await
        .unwrap();
    server.await.unwrap();
    assert!(answer.found());
    assert_eq!(answer.request_id(), Some("t-pieces"));
    let result = answer.result().unwrap();
    assert_eq!(result.items.len(), 1);
    assert_eq!(result.items[0].occupation.as_deref(), Some("电器计量工"));
}
