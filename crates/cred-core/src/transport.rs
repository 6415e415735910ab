//! HTTP transport: one pooled `reqwest` client per SDK client, timeouts, a response-size
//! cap, and errors that never carry the URL.
//!
//! Architecture Invariant: API calls and token requests never follow a redirect and never
//! send a `Referer`: a 3xx is [`Error::Redirect`], so a request's credentials, signature
//! and personal data reach only the URL they were built for. Only file downloads follow
//! redirects, over HTTP(S) only, never from HTTPS down to HTTP, and `reqwest` drops the
//! `Authorization` header whenever the scheme, host or port changes.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::redirect;

use crate::auth::OutgoingRequest;
use crate::endpoint::{Encoding, Method};
use crate::error::{CallSite, Error, TransportFailure};
use crate::mask::Redactor;
use crate::ratelimit::RateLimiter;

/// Default overall timeout of one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on a response body (2 MiB): far above any verification answer.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// An extra trusted root certificate authority (PEM), for servers whose certificate is
/// issued by a private CA, as on many government intranets. It is trusted in addition
/// to the system's roots, never instead of them.
#[derive(Clone, PartialEq, Eq)]
pub struct RootCa {
    source: String,
    pem: Arc<[u8]>,
    count: usize,
}

impl fmt::Debug for RootCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootCa({}, {} certificate(s))", self.source, self.count)
    }
}

impl RootCa {
    /// Certificates in PEM (one or several `BEGIN CERTIFICATE` blocks); `source` names
    /// them in messages (a file name, `inline`).
    pub fn from_pem(source: impl Into<String>, pem: &[u8]) -> Result<Self, Error> {
        let source = source.into();
        let count = pem_certificates(&source, pem)?.len();
        if count == 0 {
            return Err(Error::config(format!(
                "{source}: holds no `-----BEGIN CERTIFICATE-----` block"
            )));
        }
        Ok(Self {
            source,
            pem: pem.into(),
            count,
        })
    }

    /// Reads [`RootCa::from_pem`] from a file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let pem = std::fs::read(path)
            .map_err(|e| Error::config(format!("CA file {}: {e}", path.display())))?;
        Self::from_pem(path.display().to_string(), &pem)
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always `false`: an empty bundle is refused when it is read.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn certificates(&self) -> Result<Vec<reqwest::Certificate>, Error> {
        pem_certificates(&self.source, &self.pem)
    }
}

/// The certificates of a PEM bundle, read by the TLS backend.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn pem_certificates(source: &str, pem: &[u8]) -> Result<Vec<reqwest::Certificate>, Error> {
    reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|_| Error::config(format!("{source}: not PEM certificates")))
}

/// Without a TLS feature there is nothing to trust a CA with.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn pem_certificates(source: &str, _pem: &[u8]) -> Result<Vec<()>, Error> {
    Err(Error::config(format!(
        "{source}: a root CA needs TLS, and this build has none: enable the `rustls` or `native-tls` feature"
    )))
}

/// An HTTP(S) proxy every request of a client goes through. Its password (in
/// `http://user:password@host:port`) never appears in `Debug`, `Display` or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(url::Url);

impl ProxyUrl {
    /// Parses `http://[user:password@]host:port` (or `https://`, `socks5://`).
    pub fn parse(url: &str) -> Result<Self, Error> {
        let parsed = url::Url::parse(url.trim()).map_err(|_| {
            Error::config("the proxy is not a URL (expected http://[user:password@]host:port)")
        })?;
        if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h")
            || parsed.host_str().is_none()
        {
            return Err(Error::config(
                "the proxy must be http://, https:// or socks5:// with a host",
            ));
        }
        Ok(Self(parsed))
    }

    fn password(&self) -> Option<&str> {
        self.0.password().filter(|p| !p.is_empty())
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if self.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

/// Transport settings: start from [`TransportConfig::default`] and set fields (new
/// fields may be added: build it no other way).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Overall timeout of one attempt (connect, send, read the whole body).
    pub timeout: Duration,
    /// Timeout for establishing a connection.
    pub connect_timeout: Duration,
    /// Largest response body read; larger ones fail with [`Error::ResponseTooLarge`].
    pub max_body_bytes: usize,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Root CAs trusted in addition to the system's.
    pub root_cas: Vec<RootCa>,
    /// A proxy for every request (`None`: the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`
    /// variables, as `reqwest` reads them).
    pub proxy: Option<ProxyUrl>,
}

impl TransportConfig {
    /// The same settings with an overall timeout of one attempt of `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same settings with a connect timeout of `timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The same settings, trusting `ca` as well.
    pub fn with_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    /// The same settings, sending every request through `proxy`.
    pub fn with_proxy(mut self, proxy: ProxyUrl) -> Self {
        self.proxy = Some(proxy);
        self
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: concat!("credkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            root_cas: Vec::new(),
            proxy: None,
        }
    }
}

/// A complete HTTP response, body read (within the cap).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// A response with `status`, `headers` and `body` (for decoders' tests, sandboxes
    /// and custom transports).
    pub fn new(status: u16, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
        }
    }

    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The wait a `Retry-After` header asks for on a 429 or 503 answer: delay-seconds or
    /// an HTTP date (a date in the past is no wait). `None` for other statuses, without
    /// the header, or when it is unreadable.
    pub fn retry_after(&self) -> Option<Duration> {
        if !matches!(self.status, 429 | 503) {
            return None;
        }
        parse_retry_after(self.header("retry-after")?, std::time::SystemTime::now())
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3) as a wait from `now`: delay-seconds, or an
/// HTTP date. Unreadable values are `None`.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Bytes of a download kept to recognise its format.
const PREFIX_BYTES: usize = 64;

/// What [`Transport::download`] streamed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Streamed {
    /// HTTP status code (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Bytes written to the sink.
    pub bytes: u64,
    /// The first bytes of the body (up to 64), to recognise its format.
    pub prefix: Vec<u8>,
}

/// `params` as a JSON object of strings, in order: the body of a JSON endpoint (and
/// what an authorizer that signs bodies signs).
pub fn json_object(params: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(
        16 + params
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>(),
    );
    out.push('{');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Serialising a `&str` cannot fail.
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        out.push_str(&serde_json::to_string(v).unwrap_or_default());
    }
    out.push('}');
    out
}

/// Redirects a download follows at most.
pub const MAX_DOWNLOAD_REDIRECTS: usize = 5;

/// Sends requests for one SDK client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    /// The client for file downloads (follows guarded redirects), built on first use.
    downloads: Arc<OnceLock<reqwest::Client>>,
    config: Arc<TransportConfig>,
    limiter: Option<Arc<dyn RateLimiter>>,
    http_series: Arc<crate::telemetry::HttpSeries>,
}

/// Reads a body whose length the server announced (at most the transport's cap, checked
/// before), borrowing `response`: `Response::bytes` would move it into a future of its
/// own, and the response would take room twice in every call's future while the body
/// is read. A body in one chunk (the usual case) is kept without a copy.
async fn read_announced(response: &mut reqwest::Response, len: u64) -> reqwest::Result<Bytes> {
    let mut first = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    while let Some(chunk) = response.chunk().await? {
        match &mut joined {
            None if first.is_empty() => first = chunk,
            None => {
                // `len` is at most the cap (a few MiB), checked by the caller.
                let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&chunk);
                joined = Some(buf);
            }
            Some(buf) => buf.extend_from_slice(&chunk),
        }
    }
    Ok(joined.map_or(first, Bytes::from))
}

/// Why API calls stop at a redirect.
const API_REDIRECT: &str =
    "API calls and token requests never follow redirects (check the base URL)";
/// Why a download stopped at a redirect.
const DOWNLOAD_REDIRECT: &str =
    "downloads follow at most 5 redirects, to http(s) URLs only and never from HTTPS down to HTTP";

/// The redirect policy of downloads: at most [`MAX_DOWNLOAD_REDIRECTS`] hops, HTTP(S)
/// only, never from HTTPS down to HTTP; any other redirect is handed back (and becomes
/// [`Error::Redirect`]). `reqwest` itself drops `Authorization` when the scheme, host or
/// port changes.
fn download_redirects(attempt: redirect::Attempt<'_>) -> redirect::Action {
    let next = attempt.url();
    let downgrade =
        next.scheme() == "http" && attempt.previous().iter().any(|u| u.scheme() == "https");
    if !matches!(next.scheme(), "http" | "https")
        || downgrade
        || attempt.previous().len() > MAX_DOWNLOAD_REDIRECTS
    {
        return attempt.stop();
    }
    attempt.follow()
}

fn http_client(
    config: &TransportConfig,
    policy: redirect::Policy,
) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .user_agent(config.user_agent.clone())
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(policy)
        .referer(false);
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    for ca in &config.root_cas {
        builder = builder.tls_certs_merge(ca.certificates()?);
    }
    if let Some(proxy) = &config.proxy {
        let proxy = reqwest::Proxy::all(proxy.0.as_str())
            .map_err(|_| Error::config(format!("cannot use the proxy {proxy}")))?;
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(|e| {
        let mut message = format!("cannot build the HTTP client: {e}");
        if let Some(secret) = config.proxy.as_ref().and_then(ProxyUrl::password) {
            message = message.replace(secret, "***");
        }
        Error::config(message)
    })
}

/// The [`Error::Redirect`] for a 3xx `response` (its `headers` already taken).
fn redirect_error(
    site: CallSite,
    response: &reqwest::Response,
    headers: &HeaderMap,
    redactor: &Redactor<'_>,
    reason: &'static str,
) -> Error {
    Error::Redirect {
        site,
        status: response.status().as_u16(),
        target: redirect_target(response.url(), headers).map(|t| redactor.redact(&t)),
        reason,
    }
}

/// `scheme://host[:port]` of a redirect's `Location` (resolved against `from`), never its
/// path or query.
fn redirect_target(from: &url::Url, headers: &HeaderMap) -> Option<String> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let url = from.join(location.trim()).ok()?;
    match url.host_str() {
        Some(_) => Some(url.origin().ascii_serialization()),
        None => Some(format!("a `{}:` URL", url.scheme())),
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .field("limiter", &self.limiter)
            .finish()
    }
}

const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Transport {
    /// A transport with its own connection pool (rustls, HTTP/1.1 and HTTP/2).
    pub fn new(
        config: TransportConfig,
        limiter: Option<Arc<dyn RateLimiter>>,
    ) -> Result<Self, Error> {
        let client = http_client(&config, redirect::Policy::none())?;
        Ok(Self {
            client,
            downloads: Arc::new(OnceLock::new()),
            config: Arc::new(config),
            limiter,
            http_series: Arc::default(),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Takes the rate limiter's permit for one request to `site` if it is free right
    /// now (always, without a limiter), without waiting: `false` means
    /// [`Transport::acquire`] has to wait for one.
    pub fn try_permit(&self, site: CallSite) -> bool {
        self.limiter
            .as_ref()
            .is_none_or(|limiter| limiter.try_acquire(site))
    }

    /// Waits for the rate limiter's permit to send one request to `site` (at once when
    /// there is no limiter). Call it **before** signing or authorising the request, so
    /// that timestamps, nonces and signatures are made when the request leaves, and a
    /// token is checked for expiry then; then [`Transport::send`] it.
    ///
    /// Cancel-safe: a caller dropped while it waits gives its slot back when no later
    /// caller has reserved one behind it (see [`RateLimiter::acquire`]).
    pub async fn acquire(&self, site: CallSite) -> Result<(), Error> {
        if let Some(limiter) = &self.limiter
            && !limiter.try_acquire(site)
        {
            let waiting = std::time::Instant::now();
            limiter.acquire(site).await?;
            crate::telemetry::ratelimit_wait(site.provider, waiting.elapsed());
        }
        Ok(())
    }

    /// Sends one attempt and reads the body (within the cap). A redirect is
    /// [`Error::Redirect`] (never followed); any other status is the caller's to judge.
    /// The rate limit is not applied here: take its permit first with
    /// [`Transport::acquire`].
    ///
    /// The HTTP request is built before the future is made, so the future holds only
    /// what the exchange needs (it is moved into every caller's state: its size is
    /// paid on every call).
    pub fn send<'a>(
        &'a self,
        request: OutgoingRequest,
        redactor: &'a Redactor<'_>,
    ) -> impl std::future::Future<Output = Result<RawResponse, Error>> + Send + 'a {
        let site = request.endpoint.site;
        // reqwest does nothing before its future is polled.
        let sending = self.request_builder(request).send();
        self.exchange(site, sending, redactor)
    }

    /// The HTTP request of `request`: its parameters in the query, a form or a JSON
    /// body as its endpoint says.
    #[inline(never)]
    pub(crate) fn request_builder(&self, request: OutgoingRequest) -> reqwest::RequestBuilder {
        let endpoint = request.endpoint;
        let mut url = request.url;
        let method = match endpoint.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let params_in_body = (endpoint.encoding == Encoding::Form
            && endpoint.method == Method::Post)
            || (endpoint.encoding == Encoding::Json && request.body.is_none());
        if !params_in_body && !request.params.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &request.params {
                q.append_pair(k, v);
            }
        }
        // A content type the authorizer set (an encrypted body is text/plain) wins.
        let has_type = request.headers.contains_key(CONTENT_TYPE);
        let mut builder = self.client.request(method, url);
        if !request.headers.is_empty() {
            builder = builder.headers(request.headers);
        }
        if params_in_body && endpoint.encoding == Encoding::Form {
            let body = form_urlencoded::Serializer::new(String::with_capacity(128))
                .extend_pairs(request.params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            builder = builder.header(CONTENT_TYPE, FORM).body(body);
        } else if let Some(body) = request.body {
            if !has_type {
                builder = builder.header(CONTENT_TYPE, JSON);
            }
            builder = builder.body(body);
        } else if endpoint.encoding == Encoding::Json {
            if !has_type {
                builder = builder.header(CONTENT_TYPE, JSON);
            }
            builder = builder.body(json_object(&request.params));
        }
        builder
    }

    /// Awaits the request `sending` and reads the answer: its status and headers, then
    /// its body within the cap (read in place when its length is announced).
    pub(crate) async fn exchange(
        &self,
        site: CallSite,
        sending: impl std::future::Future<Output = Result<reqwest::Response, reqwest::Error>>,
        redactor: &Redactor<'_>,
    ) -> Result<RawResponse, Error> {
        let started = std::time::Instant::now();
        let series = &self.http_series;
        let mut response = match sending.await {
            Ok(r) => r,
            Err(e) => {
                series.record(site.provider, None, started.elapsed());
                return Err(self.map_error(site, e, redactor));
            }
        };
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        if response.status().is_redirection() {
            series.record(site.provider, Some(status), started.elapsed());
            return Err(redirect_error(
                site,
                &response,
                &headers,
                redactor,
                API_REDIRECT,
            ));
        }
        let limit = self.config.max_body_bytes;
        let body = match response.content_length() {
            Some(len) if len > limit as u64 => Err(Error::ResponseTooLarge { site, limit }),
            Some(len) => read_announced(&mut response, len)
                .await
                .map_err(|e| self.map_error(site, e, redactor)),
            None => Box::pin(self.read_body(site, response, redactor)).await,
        };
        series.record(site.provider, Some(status), started.elapsed());
        Ok(RawResponse {
            status,
            headers,
            body: body?,
        })
    }

    /// Streams the body of a `GET url` into `sink`, at most `max_bytes` bytes. A non-2xx
    /// answer is an [`Error::HttpStatus`] (its start kept, redacted); nothing is written
    /// for it. A body over the cap fails with [`Error::ResponseTooLarge`] after the
    /// bytes already written (the caller discards the partial file). Like
    /// [`Transport::send`], it takes no rate-limit permit: [`Transport::acquire`] first.
    pub async fn download(
        &self,
        site: CallSite,
        url: url::Url,
        headers: HeaderMap,
        max_bytes: usize,
        sink: &mut (dyn std::io::Write + Send),
        redactor: &Redactor<'_>,
    ) -> Result<Streamed, Error> {
        let client = match self.downloads.get() {
            Some(c) => c,
            None => {
                let built =
                    http_client(&self.config, redirect::Policy::custom(download_redirects))?;
                self.downloads.get_or_init(|| built)
            }
        };
        let mut response = client
            .get(url)
            .headers(headers)
            .send()
            .await
            .map_err(|e| self.map_error(site, e, redactor))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        if response.status().is_redirection() {
            // Only a redirect the policy would not follow ends here.
            let reason = DOWNLOAD_REDIRECT;
            return Err(redirect_error(site, &response, &headers, redactor, reason));
        }
        if !response.status().is_success() {
            let body = self
                .read_body(site, response, redactor)
                .await
                .unwrap_or_default();
            return Err(Error::HttpStatus {
                site,
                status,
                snippet: redactor
                    .snippet(&String::from_utf8_lossy(&body), crate::body::SNIPPET_CHARS),
                retry_after: None,
            });
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ["text/html", "application/json", "text/plain", "text/xml"]
            .iter()
            .any(|t| content_type.starts_with(t))
        {
            // A page or an error envelope, not a file: say so instead of saving it.
            let body = self
                .read_body(site, response, redactor)
                .await
                .unwrap_or_default();
            return Err(Error::Decode {
                site,
                reason: format!(
                    "expected a file, got `{content_type}` (an expired or invalid download link?)"
                ),
                snippet: redactor
                    .snippet(&String::from_utf8_lossy(&body), crate::body::SNIPPET_CHARS),
            });
        }
        if response
            .content_length()
            .is_some_and(|len| len > max_bytes as u64)
        {
            return Err(Error::ResponseTooLarge {
                site,
                limit: max_bytes,
            });
        }
        let mut written = 0usize;
        let mut prefix = Vec::with_capacity(PREFIX_BYTES);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.map_error(site, e, redactor))?
        {
            if written + chunk.len() > max_bytes {
                return Err(Error::ResponseTooLarge {
                    site,
                    limit: max_bytes,
                });
            }
            if prefix.len() < PREFIX_BYTES {
                let take = (PREFIX_BYTES - prefix.len()).min(chunk.len());
                prefix.extend_from_slice(&chunk[..take]);
            }
            sink.write_all(&chunk).map_err(|e| Error::Io {
                site,
                message: e.to_string(),
            })?;
            written += chunk.len();
        }
        sink.flush().map_err(|e| Error::Io {
            site,
            message: e.to_string(),
        })?;
        Ok(Streamed {
            status,
            headers,
            bytes: written as u64,
            prefix,
        })
    }

    async fn read_body(
        &self,
        site: CallSite,
        mut response: reqwest::Response,
        redactor: &Redactor<'_>,
    ) -> Result<Bytes, Error> {
        let limit = self.config.max_body_bytes;
        match response.content_length() {
            Some(len) if len > limit as u64 => Err(Error::ResponseTooLarge { site, limit }),
            Some(len) => read_announced(&mut response, len)
                .await
                .map_err(|e| self.map_error(site, e, redactor)),
            None => {
                let mut buf = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| self.map_error(site, e, redactor))?
                {
                    if buf.len() + chunk.len() > limit {
                        return Err(Error::ResponseTooLarge { site, limit });
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(Bytes::from(buf))
            }
        }
    }

    fn map_error(&self, site: CallSite, e: reqwest::Error, redactor: &Redactor<'_>) -> Error {
        let error = self.map_error_inner(site, e, redactor);
        // The proxy's password is the transport's own secret, not the call's.
        match (
            self.config.proxy.as_ref().and_then(ProxyUrl::password),
            error,
        ) {
            (
                Some(secret),
                Error::Transport {
                    site,
                    message,
                    sent,
                    failure,
                    source,
                },
            ) => Error::Transport {
                site,
                message: message.replace(secret, "***"),
                sent,
                failure,
                source,
            },
            (_, error) => error,
        }
    }

    fn map_error_inner(&self, site: CallSite, e: reqwest::Error, redactor: &Redactor<'_>) -> Error {
        let failure = classify(&e);
        if e.is_timeout() && !e.is_connect() {
            return Error::Timeout {
                site,
                after: self.config.timeout,
            };
        }
        let e = e.without_url();
        let (message, sent) = if e.is_connect() || failure == TransportFailure::ConnectTimeout {
            // Refused, unreachable, unresolved, a failed handshake or a connect timeout:
            // the request never left.
            let message = if failure == TransportFailure::ConnectTimeout {
                format!(
                    "could not connect within {:.1}s",
                    self.config.connect_timeout.as_secs_f64()
                )
            } else {
                redactor.redact(&error_chain(&e))
            };
            (message, false)
        } else {
            (redactor.redact(&error_chain(&e)), !e.is_builder())
        };
        Error::Transport {
            site,
            message,
            sent,
            failure,
            source: Some(std::sync::Arc::new(e)),
        }
    }
}

/// What a `reqwest` error says failed, from its kind and its chain of sources.
fn classify(e: &reqwest::Error) -> TransportFailure {
    if e.is_connect() && e.is_timeout() {
        return TransportFailure::ConnectTimeout;
    }
    if e.is_timeout() {
        return TransportFailure::Timeout;
    }
    let mut refused = false;
    let mut text = String::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            refused |= matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::AddrNotAvailable
            );
            if io.kind() == K::TimedOut && e.is_connect() {
                return TransportFailure::ConnectTimeout;
            }
        }
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push('\n');
        source = s.source();
    }
    // hyper-util's connector says "dns error" for a failed lookup; rustls errors name
    // certificates, handshakes and alerts.
    if text.contains("dns error") || text.contains("failed to lookup address") {
        TransportFailure::Dns
    } else if text.contains("certificate")
        || text.contains("handshake")
        || text.contains("tls")
        || text.contains("corrupt message")
        || text.contains("invalidcontenttype")
        || text.contains("received fatal alert")
    {
        TransportFailure::Tls
    } else if refused || e.is_connect() {
        TransportFailure::Connect
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportFailure::Connection
    } else {
        TransportFailure::Other
    }
}

/// `e` and its sources, joined by `: `, with repeated text dropped.
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
