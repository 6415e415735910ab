//! Transport settings for intranets: an extra root CA (a real TLS server on loopback whose
//! certificate a private CA issued) and an explicit proxy (a raw TCP proxy on loopback),
//! whose password never shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cred_core::{
    Billing, CallSite, Encoding, Endpoint, Error, Method, OutgoingRequest, ProxyUrl, Redactor,
    RootCa, Transport, TransportConfig,
};
use reqwest::header::HeaderMap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static PING: Endpoint = Endpoint::new(
    CallSite::new("demo", "ping"),
    "ping",
    Method::Get,
    "/ping",
    Encoding::Query,
    Billing::Free,
);

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn request(url: &str) -> OutgoingRequest {
    let mut request = OutgoingRequest::new(&PING, cred_core::url::Url::parse(url).unwrap());
    request.params = vec![("word", "hello".to_owned())];
    request
}

/// An HTTPS server on loopback with the fixture certificate (issued by `ca.pem`).
async fn tls_server() -> String {
    tls_server_answering(ANSWER.to_vec()).await
}

/// [`tls_server`] answering every request with `answer`.
async fn tls_server_answering(answer: Vec<u8>) -> String {
    let answer: Arc<[u8]> = answer.into();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(&answer).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}/ping")
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_when_added() {
    let url = tls_server().await;
    let plain = Transport::new(TransportConfig::default(), None).unwrap();
    let err = plain
        .send(request(&url), &Redactor::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    let ca = RootCa::from_file(fixture("ca.pem")).unwrap();
    assert_eq!(ca.len(), 1);
    assert!(format!("{ca:?}").contains("ca.pem"));
    let config = TransportConfig::default().with_root_ca(ca);
    let trusted = Transport::new(config, None).unwrap();
    let raw = trusted.send(request(&url), &Redactor::new()).await.unwrap();
    assert_eq!((raw.status, &raw.body[..]), (200, &b"{\"ok\":true}"[..]));
}

#[test]
fn a_ca_file_that_is_not_pem_is_a_clear_config_error() {
    let err = RootCa::from_pem("junk.pem", b"not a certificate").unwrap_err();
    assert!(err.to_string().contains("junk.pem"), "{err}");
    let err = RootCa::from_file("/nonexistent/ca.pem").unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}

#[tokio::test]
async fn every_request_goes_through_the_proxy_and_its_password_never_shows() {
    // A proxy on loopback that answers itself and records what it was asked.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(String::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            *log.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
            let _ = tcp.write_all(ANSWER).await;
            let _ = tcp.shutdown().await;
        }
    });
    let proxy = ProxyUrl::parse(&format!("http://ops:pr0xy-Secret-9@127.0.0.1:{port}")).unwrap();
    assert!(!format!("{proxy} {proxy:?}").contains("pr0xy-Secret-9"));
    let config = TransportConfig::default().with_proxy(proxy);
    assert!(!format!("{config:?}").contains("pr0xy-Secret-9"));
    let transport = Transport::new(config, None).unwrap();
    // A host that does not resolve: only the proxy can answer.
    let raw = transport
        .send(
            request("http://provider.credkit.invalid/ping"),
            &Redactor::new(),
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    let head = seen.lock().unwrap().clone();
    assert!(
        head.starts_with("GET http://provider.credkit.invalid/ping?word=hello HTTP/1.1"),
        "{head}"
    );
    // base64("ops:pr0xy-Secret-9")
    assert!(
        head.contains("proxy-authorization: Basic b3BzOnByMHh5LVNlY3JldC05"),
        "{head}"
    );

    // A proxy that refuses connections: the error names no password.
    let dead = ProxyUrl::parse("http://ops:pr0xy-Secret-9@127.0.0.1:1").unwrap();
    let transport = Transport::new(TransportConfig::default().with_proxy(dead), None).unwrap();
    let err = transport
        .send(
            request("http://provider.credkit.invalid/ping"),
            &Redactor::new(),
        )
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("pr0xy-Secret-9"), "{text}");
}

#[test]
fn bad_proxies_are_config_errors() {
    for bad in ["not a url", "ftp://proxy:21", "http://"] {
        assert!(
            matches!(ProxyUrl::parse(bad), Err(Error::Config { .. })),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_download_never_follows_a_redirect_from_https_down_to_http() {
    // A plain-HTTP listener that must never be reached.
    let trap = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let reached = Arc::new(Mutex::new(false));
    let flag = reached.clone();
    tokio::spawn(async move {
        if trap.accept().await.is_ok() {
            *flag.lock().unwrap() = true;
        }
    });
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{trap_port}/file.pdf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let url = tls_server_answering(redirect.into_bytes()).await;
    let transport = Transport::new(
        TransportConfig::default().with_root_ca(RootCa::from_file(fixture("ca.pem")).unwrap()),
        None,
    )
    .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer secret-token-1".parse().unwrap());
    let mut sink = Vec::new();
    let err = transport
        .download(
            PING.site,
            reqwest::Url::parse(&url).unwrap(),
            headers,
            1024,
            &mut sink,
            &Redactor::new(),
        )
        .await
        .unwrap_err();
    let Error::Redirect { status, target, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 302);
    assert_eq!(
        target.as_deref(),
        Some(format!("http://127.0.0.1:{trap_port}").as_str())
    );
    assert!(
        err.to_string().contains("never from HTTPS down to HTTP"),
        "{err}"
    );
    assert!(sink.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        !*reached.lock().unwrap(),
        "the plain-HTTP listener was reached"
    );
}
