//! Hostile servers on loopback standing in for each provider: redirects to a second
//! listener, error bodies that echo the request, token answers with unusable
//! `expires_in`, download links and redirects that lead elsewhere, and hostile input.
//! Each case asserts the outcome (error kind, exit code) and that no secret, token, full
//! ID number or full name reaches stdout, stderr, an error message or a `Debug` string.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cred_core::{Charged, Error};
use serde_json::Value;

const NAME: &str = "王小明";
const NAME_PERCENT: &str = "%E7%8E%8B%E5%B0%8F%E6%98%8E";
const ID: &str = "321083197812162119";
const CERT_NO: &str = "33010219200403064X";
const ONCE_TOKEN: &str = "once-token-hostile-0001";
// Test credentials generated for these tests; valid nowhere.
const JUMDATA_APP_ID: &str = "credkit-hostile-app";
const JUMDATA_SECRET: &str = "credkit-hostile-secret-NOT-REAL";
const JUHE_KEY: &str = "credkit-hostile-juhe-key-NOT-REAL";
const ZZ_USER: &str = "credkit-hostile-user";
const ZZ_PASSWORD: &str = "credkit-hostile-password-NOT-REAL";
const ZZ_CLIENT: &str = "credkit-hostile-client";
const ZZ_CLIENT_SECRET: &str = "credkit-hostile-client-secret-NOT-REAL";
/// `printf 'credkit-hostile-client:credkit-hostile-client-secret-NOT-REAL' | base64 -w0`
const ZZ_BASIC: &str =
    "Y3JlZGtpdC1ob3N0aWxlLWNsaWVudDpjcmVka2l0LWhvc3RpbGUtY2xpZW50LXNlY3JldC1OT1QtUkVBTA==";
const TOKEN: &str = "7d1c52e4-hostile-access-token-0001";
const REFRESH: &str = "9a3f0b21-hostile-refresh-token-0001";
const ROOT: &str = "/license-api-release";

// ---------------------------------------------------------------------------------------
// The hostile server: raw TCP, one thread per connection, `Connection: close`.

/// What one connection sent.
#[derive(Debug, Clone)]
struct Received {
    /// Request line and headers.
    head: String,
    /// The body, as text.
    body: String,
}

impl Received {
    fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or("")
    }

    fn raw(&self) -> String {
        format!("{}\r\n\r\n{}", self.head, self.body)
    }

    /// The value of form or query field `name` in what was sent.
    fn field(&self, name: &str) -> Option<String> {
        let query = self.path().split_once('?').map(|(_, q)| q).unwrap_or("");
        form_urlencoded::parse(self.body.as_bytes())
            .chain(form_urlencoded::parse(query.as_bytes()))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

type Respond = dyn Fn(&Received, &str) -> Vec<u8> + Send + Sync;

struct Server {
    url: String,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    /// Serves every request with `respond(request, own base url)`.
    fn start(respond: impl Fn(&Received, &str) -> Vec<u8> + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Respond> = Arc::new(respond);
        let (c, r, base) = (connections.clone(), received.clone(), url.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                c.fetch_add(1, Ordering::SeqCst);
                let (r, respond, base) = (r.clone(), respond.clone(), base.clone());
                std::thread::spawn(move || serve(stream, &r, &*respond, &base));
            }
        });
        Server {
            url,
            connections,
            received,
        }
    }

    /// A server that must never be reached.
    fn trap() -> Server {
        Server::start(|_, _| http(200, &[], "{\"code\":200,\"charge\":true}"))
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Received>>, respond: &Respond, base: &str) {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (head, body) = loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        if data.len() >= end + 4 + len {
            break (
                head,
                String::from_utf8_lossy(&data[end + 4..end + 4 + len]).into_owned(),
            );
        }
    };
    let request = Received { head, body };
    log.lock().unwrap().push(request.clone());
    let _ = stream.write_all(&respond(&request, base));
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Status",
    }
}

/// A complete HTTP/1.1 answer.
fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    out.into_bytes()
}

fn json(status: u16, body: &str) -> Vec<u8> {
    http(
        status,
        &[("Content-Type", "application/json;charset=UTF-8")],
        body,
    )
}

/// A 302/307 to `target` with a path and query that must never be shown.
fn redirect(status: u16, target: &str) -> Vec<u8> {
    http(
        status,
        &[("Location", &format!("{target}/steal?idcard={ID}&k=v"))],
        "",
    )
}

/// How a hostile server echoes the request back: each variant puts a different part of
/// it first, so that it lies within any excerpt an error keeps.
#[derive(Debug, Clone, Copy)]
enum Echo {
    /// 400 text/plain: the form or JSON body as received.
    Body,
    /// 400 text/plain: one field of the body, `name=value` as received.
    Field(usize),
    /// 401 HTML page quoting the `Authorization` header.
    Authorization,
    /// 400 JSON `{code, message}` whose message quotes the path and query.
    Query,
}

const ECHOES: [Echo; 8] = [
    Echo::Body,
    Echo::Field(0),
    Echo::Field(1),
    Echo::Field(2),
    Echo::Field(3),
    Echo::Field(4),
    Echo::Authorization,
    Echo::Query,
];

fn echo(how: Echo, request: &Received) -> Vec<u8> {
    match how {
        Echo::Body => http(
            400,
            &[("Content-Type", "text/plain")],
            &format!("bad request: {}", request.body),
        ),
        Echo::Field(i) => {
            let field = request.body.split('&').nth(i).unwrap_or(&request.body);
            http(
                400,
                &[("Content-Type", "text/plain")],
                &format!("bad parameter {field}"),
            )
        }
        Echo::Authorization => http(
            401,
            &[("Content-Type", "text/html")],
            &format!(
                "<html><body><h1>401</h1><p>Authorization: {}</p></body></html>",
                request.header("authorization").unwrap_or_default()
            ),
        ),
        Echo::Query => json(
            400,
            &format!(
                r#"{{"code":"invalid-parameter","message":"bad request {}","error_code":10001,"reason":"bad {}"}}"#,
                request.path().replace('"', "'"),
                request.path().replace('"', "'")
            ),
        ),
    }
}

/// A token answer for the licence platform.
fn token_answer(expires_in: &str) -> Vec<u8> {
    json(
        200,
        &format!(
            r#"{{"access_token":"{TOKEN}","token_type":"bearer","refresh_token":"{REFRESH}","expires_in":{expires_in},"scope":"read write"}}"#
        ),
    )
}

fn audit() -> zz_license_api::AuditContext {
    zz_license_api::AuditContext::new()
        .system_name("credkit 测试系统")
        .call_category(zz_license_api::CallCategory::Matter)
        .matter_name("测试事项")
        .event_code("TEST-001")
        .copy_cause("安全测试")
}

const ZZ_NO_RECORD: &str = r#"{"head":{"status":"10","message":"没有符合条件的证照"},"data":null}"#;

// ---------------------------------------------------------------------------------------
// The `cred` command.

/// `cred` with the hostile test credentials of every provider and no outside variables.
fn cred() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
    for (k, _) in std::env::vars() {
        if ["JUMDATA_", "JUHE_", "ZZ_LICENSE_", "ALIPAY_", "RUST_LOG"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            c.env_remove(k);
        }
    }
    c.env(
        "XDG_DATA_HOME",
        std::env::temp_dir().join("credkit-test-data"),
    )
    .env("JUMDATA_APP_ID", JUMDATA_APP_ID)
    .env("JUMDATA_APP_SECRET", JUMDATA_SECRET)
    .env("JUHE_KEY", JUHE_KEY)
    // Required by `Config::from_env`; every test overrides it with --base-url.
    .env(
        "ZZ_LICENSE_BASE_URL",
        "http://127.0.0.1:1/license-api-release",
    )
    .env("ZZ_LICENSE_USERNAME", ZZ_USER)
    .env("ZZ_LICENSE_PASSWORD", ZZ_PASSWORD)
    .env("ZZ_LICENSE_CLIENT_ID", ZZ_CLIENT)
    .env("ZZ_LICENSE_CLIENT_SECRET", ZZ_CLIENT_SECRET)
    .env("ZZ_LICENSE_SYSTEM_NAME", "credkit 测试系统")
    .env("ZZ_LICENSE_CALL_CATEGORY", "0")
    .env("ZZ_LICENSE_MATTER_NAME", "测试事项")
    .env("ZZ_LICENSE_EVENT_CODE", "TEST-001")
    .env("ZZ_LICENSE_COPY_CAUSE", "安全测试")
    .env("ALIPAY_APP_ID", cred_sandbox::credentials::ALIPAY_APP_ID)
    .env(
        "ALIPAY_PRIVATE_KEY",
        cred_sandbox::credentials::ALIPAY_APP_PRIVATE_KEY,
    )
    .env(
        "ALIPAY_PUBLIC_KEY",
        cred_sandbox::credentials::ALIPAY_PUBLIC_KEY,
    );
    c
}

/// One call of every provider's query, against `base` (the licence platform under its
/// deployment path).
fn provider_commands(base: &str) -> Vec<(&'static str, Vec<String>)> {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let zz = format!("{base}{ROOT}");
    vec![
        (
            "jumdata",
            owned(&[
                "jumdata",
                "credential",
                "--base-url",
                base,
                "--name",
                NAME,
                "--idcard",
                ID,
            ]),
        ),
        (
            "juhe",
            owned(&[
                "juhe",
                "qualification",
                "--base-url",
                base,
                "--name",
                "枣庄市某某建设集团有限公司",
            ]),
        ),
        (
            "zz-license",
            owned(&[
                "zz-license",
                "by-holder",
                "--base-url",
                &zz,
                "--holder-code",
                ID,
                "--holder-type",
                "111",
                "--cert-type",
                "11100000MB0000001",
            ]),
        ),
        (
            "zhima",
            owned(&[
                "zhima",
                "jobworth",
                "--base-url",
                base,
                "--once-token",
                ONCE_TOKEN,
                "--cert-no",
                CERT_NO,
                "--cert-type",
                "0",
                "--identity-type",
                "04",
            ]),
        ),
    ]
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Everything that must never be printed: credentials, tokens, personal data, and the
/// per-request secrets the server saw (the Jumdata `sign`, the Alipay signature).
fn forbidden(received: &[Received]) -> Vec<String> {
    let mut out: Vec<String> = [
        NAME,
        NAME_PERCENT,
        &NAME_PERCENT.to_ascii_lowercase(),
        ID,
        CERT_NO,
        ONCE_TOKEN,
        JUMDATA_SECRET,
        JUHE_KEY,
        ZZ_USER,
        ZZ_PASSWORD,
        ZZ_CLIENT_SECRET,
        ZZ_BASIC,
        TOKEN,
        REFRESH,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for r in received {
        if let Some(sign) = r.field("sign") {
            out.push(sign);
        }
        if let Some(auth) = r.header("authorization") {
            out.push(auth.clone());
            if let Some((_, sig)) = auth.rsplit_once("sign=") {
                out.push(sig.to_owned());
            }
        }
    }
    out
}

fn assert_clean(texts: &[&str], forbidden: &[String], context: &str) {
    for text in texts {
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "{context}: panic: {text}"
        );
        for secret in forbidden {
            assert!(
                !text.contains(secret.as_str()),
                "{context}: `{secret}` printed in: {text}"
            );
        }
    }
}

fn error_json(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"));
    v["error"].clone()
}

// ---------------------------------------------------------------------------------------
// 1. Redirects.

#[test]
fn no_provider_call_follows_a_redirect_and_none_sends_a_referer() {
    for status in [302, 307] {
        let second = Server::trap();
        let target = second.url.clone();
        let first = Server::start(move |_, _| redirect(status, &target));
        for (provider, args) in provider_commands(&first.url) {
            for json_mode in [true, false] {
                let mut c = cred();
                if json_mode {
                    c.arg("--json");
                }
                let (code, out, err) = run(c.args(&args));
                let context = format!("{provider} {status} json={json_mode}");
                assert_eq!(code, 1, "{context}: {out} {err}");
                let text = if json_mode {
                    let e = error_json(&out);
                    assert_eq!(e["charged"], Value::Bool(false), "{context}: {out}");
                    assert_eq!(e["code"], status.to_string(), "{context}: {out}");
                    e["message"].as_str().unwrap().to_owned()
                } else {
                    err.clone()
                };
                assert!(text.contains("redirect"), "{context}: {text}");
                let host = second.url.trim_start_matches("http://");
                assert!(text.contains(host), "{context}: target not named: {text}");
                assert!(
                    !text.contains("/steal") && !text.contains("k=v"),
                    "{context}: {text}"
                );
                assert_clean(&[&out, &err], &forbidden(&first.received()), &context);
            }
        }
        assert_eq!(second.connections(), 0, "the second listener was reached");
        for r in first.received() {
            assert!(r.header("referer").is_none(), "Referer sent: {}", r.head);
        }
        // The licence platform was redirected at the token request: no share call left.
        assert!(
            first
                .received()
                .iter()
                .all(|r| !r.path().contains("/m/v/license")),
            "a share call followed a refused token request"
        );
    }
}

#[test]
fn a_redirect_of_a_share_call_after_a_good_token_is_refused_too() {
    let second = Server::trap();
    let target = second.url.clone();
    let first = Server::start(move |req, _| {
        if req.path().ends_with("/oauth/token") {
            token_answer("43199")
        } else {
            redirect(307, &target)
        }
    });
    let (_, args) = provider_commands(&first.url).remove(2);
    let (code, out, err) = run(cred().arg("--json").args(&args));
    assert_eq!(code, 1, "{out} {err}");
    let e = error_json(&out);
    assert_eq!(e["charged"], Value::Bool(false));
    assert!(
        e["message"].as_str().unwrap().contains("307 redirect"),
        "{out}"
    );
    assert_eq!(second.connections(), 0);
    assert_clean(&[&out, &err], &forbidden(&first.received()), "zz share 307");
}

#[tokio::test]
async fn sdk_redirect_errors_are_typed_and_clean_in_debug() {
    let second = Server::trap();
    let target = second.url.clone();
    let first = Server::start(move |_, _| redirect(307, &target));
    let client = jumdata_api::Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_SECRET)
        .base_url(&first.url)
        .build()
        .unwrap();
    let err = client
        .credential_query(&jumdata_api::CredentialQuery::new(NAME, ID))
        .await
        .unwrap_err();
    let Error::Redirect { status, target, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 307);
    assert_eq!(target.as_deref(), Some(second.url.as_str()));
    assert_eq!(err.charged(), Charged::No);
    assert!(!err.is_retryable());
    let debug = format!("{err:?} {err}");
    assert_clean(&[&debug], &forbidden(&first.received()), "sdk redirect");
    assert_eq!(first.received().len(), 1, "sent more than once");
    assert_eq!(second.connections(), 0);
}

// ---------------------------------------------------------------------------------------
// 2. Error bodies that echo the request.

#[test]
fn error_bodies_echoing_the_request_are_redacted() {
    let mut seen = Vec::new();
    for (how, client_auth) in ECHOES
        .iter()
        .flat_map(|how| [(*how, "form"), (*how, "basic")])
    {
        let server = Server::start(move |req, _| echo(how, req));
        for (provider, args) in provider_commands(&server.url) {
            if client_auth == "basic" && provider != "zz-license" {
                continue;
            }
            for flags in [vec!["--json"], vec!["-vv"]] {
                let mut c = cred();
                c.env("ZZ_LICENSE_CLIENT_AUTH", client_auth);
                let (code, out, err) = run(c.args(&flags).args(&args));
                let context = format!("{provider} {how:?} {client_auth} {flags:?}");
                assert_ne!(code, 0, "{context}");
                assert_ne!(code, 101, "{context}: panic");
                assert_clean(&[&out, &err], &forbidden(&server.received()), &context);
            }
        }
        seen.extend(server.received());
    }
    // The server did see the secrets: the test would catch an echo.
    assert!(seen.iter().any(|r| r.field("sign").is_some()));
    assert!(seen.iter().any(|r| r.body.contains(NAME_PERCENT)));
    assert!(seen.iter().any(|r| r.path().contains(ONCE_TOKEN)));
    let basic = format!("Basic {ZZ_BASIC}");
    assert!(
        seen.iter()
            .any(|r| r.header("authorization") == Some(basic.clone()))
    );
    assert!(seen.iter().any(|r| r.body.contains(ZZ_CLIENT_SECRET)));
}

#[test]
fn share_call_errors_echoing_the_bearer_token_are_redacted() {
    for how in ECHOES {
        let server = Server::start(move |req, _| {
            if req.path().ends_with("/oauth/token") {
                token_answer("43199")
            } else {
                echo(how, req)
            }
        });
        let (_, args) = provider_commands(&server.url).remove(2);
        for flags in [vec!["--json"], vec!["-vv"]] {
            let (code, out, err) = run(cred().args(&flags).args(&args));
            assert_ne!(code, 0);
            let received = server.received();
            assert!(received.iter().any(|r| r.body.contains(TOKEN)));
            assert_clean(&[&out, &err], &forbidden(&received), &format!("{how:?}"));
        }
    }
}

#[tokio::test]
async fn sdk_echo_errors_are_clean_in_debug_for_every_provider() {
    let server = Server::start(|req, _| echo(Echo::Body, req));
    let mut errors: Vec<Error> = Vec::new();
    errors.push(
        jumdata_api::Client::builder()
            .app_id(JUMDATA_APP_ID)
            .app_secret(JUMDATA_SECRET)
            .base_url(&server.url)
            .build()
            .unwrap()
            .credential_query(&jumdata_api::CredentialQuery::new(NAME, ID))
            .await
            .unwrap_err(),
    );
    errors.push(
        juhe_api::Client::builder()
            .key(JUHE_KEY)
            .base_url(&server.url)
            .build()
            .unwrap()
            .con_lic_by_name(&juhe_api::ConLicByName::new("枣庄市某某建设集团有限公司"))
            .await
            .unwrap_err(),
    );
    errors.push(
        zz_license_api::Client::builder()
            .base_url(format!("{}{ROOT}", server.url))
            .username(ZZ_USER).password(ZZ_PASSWORD)
            .client_id(ZZ_CLIENT).client_secret(ZZ_CLIENT_SECRET)
            .audit(audit())
            .build()
            .unwrap()
            .share_query_cert_info(&zz_license_api::ShareQueryCertInfo::new(
                "1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8",
            ))
            .await
            .unwrap_err(),
    );
    let received = server.received();
    for err in &errors {
        let text = format!("{err} {err:?}");
        assert!(text.contains("HTTP 400"), "{text}");
        assert_clean(&[&text], &forbidden(&received), "sdk echo");
    }
}

// ---------------------------------------------------------------------------------------
// 3. Token answers with an unusable `expires_in`.

#[test]
fn token_answers_with_unusable_expires_in_neither_panic_nor_print_tokens() {
    for (expires_in, usable) in [
        ("1e30", true),
        ("0.5", true),
        ("18446744073709551615", true),
        ("9223372036854775807", true),
        ("-1", true),
        ("\"soon\"", false),
    ] {
        let server = Server::start(move |req, _| {
            if req.path().ends_with("/oauth/token") {
                token_answer(expires_in)
            } else {
                json(200, ZZ_NO_RECORD)
            }
        });
        let (_, args) = provider_commands(&server.url).remove(2);
        for flags in [vec!["--json"], vec![], vec!["-vv"]] {
            let (code, out, err) = run(cred().args(&flags).args(&args));
            let context = format!("expires_in {expires_in} {flags:?}");
            assert_eq!(code, if usable { 0 } else { 1 }, "{context}: {out} {err}");
            assert_clean(&[&out, &err], &forbidden(&server.received()), &context);
            if !usable && flags == ["--json"] {
                let e = error_json(&out);
                assert!(
                    e["message"].as_str().unwrap().contains("expires_in"),
                    "{out}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. Hostile input: refused before anything is sent.

#[test]
fn multi_byte_id_numbers_exit_2_with_nothing_sent() {
    let server = Server::trap();
    let zz = format!("{}{ROOT}", server.url);
    for (id, says) in [
        ("３２１０８３１９７８１２１６２１１９", "full-width"),
        ("3210831978121621１9", "full-width"),
        ("王王王王王王王王王王王王王王王王王王", "17 digits"),
    ] {
        for args in [
            vec![
                "jumdata",
                "credential",
                "--base-url",
                &server.url,
                "--name",
                NAME,
                "--idcard",
                id,
            ],
            vec!["check", "idcard", id],
            vec![
                "zz-license",
                "by-holder",
                "--base-url",
                &zz,
                "--holder-code",
                id,
                "--holder-type",
                "111",
                "--cert-type",
                "11100000MB0000001",
            ],
            vec![
                "zhima",
                "jobworth",
                "--base-url",
                &server.url,
                "--once-token",
                ONCE_TOKEN,
                "--cert-type",
                "0",
                "--cert-no",
                id,
            ],
        ] {
            let (code, out, err) = run(cred().args(&args));
            assert_eq!(code, 2, "{args:?}: {out} {err}");
            assert!(err.contains(says), "{err}");
            assert!(
                err.contains("nothing was sent") || args[0] == "check",
                "{err}"
            );
            assert_clean(&[&out, &err], &[id.to_owned(), NAME.to_owned()], id);
        }
    }
    assert_eq!(server.connections(), 0);
}

// ---------------------------------------------------------------------------------------
// 5. Downloads: links and redirects that lead elsewhere.

const LICENCE_ID: &str = "1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8";

fn link_answer(url: &str) -> Vec<u8> {
    json(
        200,
        &format!(
            r#"{{"head":{{"status":"0","message":"ok"}},"data":{{"total":1,"dataList":[{{"fileUrl":"{url}","fileFormat":"PDF"}}]}}}}"#
        ),
    )
}

#[test]
fn a_non_http_download_link_exits_1_and_says_the_link_request_was_sent() {
    let server = Server::start(|req, _| {
        if req.path().ends_with("/oauth/token") {
            token_answer("43199")
        } else {
            link_answer("file:///etc/passwd")
        }
    });
    let dir = std::env::temp_dir().join(format!("cred-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("licence.pdf");
    let zz = format!("{}{ROOT}", server.url);
    let (code, out, err) = run(cred().arg("--json").args([
        "zz-license",
        "download",
        "--base-url",
        &zz,
        "--certificate-id",
        LICENCE_ID,
        "--output",
        output.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{out} {err}");
    let message = error_json(&out)["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("link request itself was sent"),
        "{message}"
    );
    assert!(!message.contains("nothing was sent"), "{message}");
    assert!(!message.contains("/etc/passwd"), "{message}");
    assert!(!output.exists());
    assert_clean(&[&out, &err], &forbidden(&server.received()), "file link");
}

#[tokio::test]
async fn download_redirects_never_carry_the_token_elsewhere_nor_leave_http() {
    let other = Server::start(|_, _| {
        http(
            200,
            &[("Content-Type", "application/pdf")],
            "%PDF-1.7 other",
        )
    });
    let other_url = other.url.clone();
    let platform = Server::start(move |req, base| {
        let path = req.path();
        if path.ends_with("/oauth/token") {
            token_answer("43199")
        } else if path.contains("/to-other") {
            http(302, &[("Location", &format!("{other_url}/file.pdf"))], "")
        } else if path.contains("/to-file") {
            http(302, &[("Location", "file:///etc/passwd")], "")
        } else if path.contains("/same-origin") {
            http(302, &[("Location", &format!("{base}/final.pdf"))], "")
        } else if path.contains("/final.pdf") {
            http(200, &[("Content-Type", "application/pdf")], "%PDF-1.7 own")
        } else {
            json(404, "{}")
        }
    });
    let client = zz_license_api::Client::builder()
        .base_url(format!("{}{ROOT}", platform.url))
        .username(ZZ_USER)
        .password(ZZ_PASSWORD)
        .client_id(ZZ_CLIENT)
        .client_secret(ZZ_CLIENT_SECRET)
        .build()
        .unwrap();
    // Same origin: followed, the token sent on both hops.
    let mut sink = Vec::new();
    let d = client
        .download(&format!("{}{ROOT}/same-origin", platform.url), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink, b"%PDF-1.7 own");
    assert_eq!(d.format, zz_license_api::FileFormat::Pdf);
    let bearer = format!("Bearer {TOKEN}");
    let hops: Vec<_> = platform
        .received()
        .into_iter()
        .filter(|r| !r.path().ends_with("/oauth/token"))
        .collect();
    assert_eq!(hops.len(), 2);
    assert!(
        hops.iter()
            .all(|r| r.header("authorization") == Some(bearer.clone()))
    );
    // Another origin: followed, but without the token.
    let mut sink = Vec::new();
    client
        .download(&format!("{}{ROOT}/to-other", platform.url), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink, b"%PDF-1.7 other");
    let seen = other.received();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None, "{}", seen[0].head);
    assert_eq!(seen[0].header("referer"), None, "{}", seen[0].head);
    assert!(!seen[0].raw().contains(TOKEN));
    // A non-HTTP scheme: not followed, a typed error.
    let mut sink = Vec::new();
    let err = client
        .download(&format!("{}{ROOT}/to-file", platform.url), &mut sink)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirect { status: 302, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("/etc/passwd"), "{err}");
    assert!(sink.is_empty());
}

// ---------------------------------------------------------------------------------------
// 6. Intranet transport settings: a proxy from the environment or the command line, a CA
//    file that cannot be read.

#[test]
fn a_proxy_from_the_variable_or_the_flag_carries_every_request() {
    let body = r#"{"code":200,"msg":"成功","taskNo":"t-proxy","charge":true,"data":{"count":0,"items":[]}}"#;
    let proxy = Server::start(move |_, _| json(200, body));
    let args = [
        "--json",
        "jumdata",
        "credential",
        "--base-url",
        "http://provider.credkit.invalid",
        "--name",
        NAME,
        "--idcard",
        ID,
    ];
    let with_password = proxy.url.replace("http://", "http://ops:pr0xy-Secret-9@");
    let mut by_variable = cred();
    by_variable.env("JUMDATA_PROXY", &with_password);
    let mut by_flag = cred();
    by_flag.args(["--proxy", &with_password]);
    for (how, mut c) in [("variable", by_variable), ("flag", by_flag)] {
        let (code, out, err) = run(c.args(args));
        assert_eq!(code, 0, "{how}: {out} {err}");
        assert!(!out.contains("pr0xy-Secret-9") && !err.contains("pr0xy-Secret-9"));
    }
    let seen = proxy.received();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert!(
            r.head
                .starts_with("POST http://provider.credkit.invalid/credential/query "),
            "{}",
            r.head
        );
    }
    // Unreadable settings are configuration errors (exit 3), before anything is sent.
    let (code, out, _) = run(cred().args(["--ca-file", "/nonexistent/ca.pem"]).args(args));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("/nonexistent/ca.pem"), "{out}");
    let (code, out, _) = run(cred().args(["--proxy", "ftp://x"]).args(args));
    assert_eq!(code, 3, "{out}");
    let (code, out, _) = run(cred()
        .env("JUMDATA_CA_FILE", "/nonexistent/ca.pem")
        .args(args));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("JUMDATA_CA_FILE"), "{out}");
    assert_eq!(proxy.received().len(), 2);
}
