//! The call pipeline every provider client runs: validate, authorise, send, decode, retry.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use http::HeaderMap;
use tracing::Instrument;

use crate::answer::Answer;
use crate::auth::{Authorizer, OutgoingRequest};
use crate::endpoint::{ApiRequest, Endpoint};
use crate::error::{Error, ErrorKind};
use crate::mask::Redactor;
use crate::retry::RetryPolicy;
use crate::transport::{RawResponse, Transport};

/// Turns one raw response into an answer or an error. Provider crates implement their
/// envelope with it; `redactor` must be applied to any provider text kept in an error.
pub type Decoder<T> =
    fn(&'static Endpoint, &RawResponse, &Redactor<'_>) -> Result<Answer<T>, Error>;

/// The runtime shared by one SDK client's operations: transport, auth hook, retry policy
/// and base URL. Cheap to clone.
#[derive(Clone)]
pub struct ClientCore {
    transport: Transport,
    auth: Arc<dyn Authorizer>,
    retry: RetryPolicy,
    base_url: Arc<str>,
    /// Full URLs of the provider's known endpoints by operation, parsed once.
    urls: Arc<[(&'static str, url::Url)]>,
    /// The metric series of each endpoint, kept after first use.
    series: Arc<[(&'static str, crate::telemetry::SiteSeries)]>,
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("transport", &self.transport)
            .finish()
    }
}

/// Checks and normalises a base URL: `http` or `https`, a host, no query or fragment;
/// the trailing `/` is dropped.
pub fn normalize_base_url(base_url: &str) -> Result<String, Error> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|e| {
        let hint = if trimmed.contains("://") {
            String::new()
        } else {
            format!(" (did you mean `http://{trimmed}`?)")
        };
        Error::config(format!("base URL `{trimmed}` is not a URL: {e}{hint}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "base URL `{trimmed}` must start with http:// or https://"
        )));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "base URL `{trimmed}` must be scheme://host[:port][/path] without query or fragment"
        )));
    }
    Ok(trimmed.to_owned())
}

impl ClientCore {
    /// A runtime sending to `base_url` (checked with [`normalize_base_url`]).
    pub fn new(
        transport: Transport,
        auth: Arc<dyn Authorizer>,
        retry: RetryPolicy,
        base_url: &str,
    ) -> Result<Self, Error> {
        Ok(Self {
            transport,
            auth,
            retry,
            base_url: normalize_base_url(base_url)?.into(),
            urls: Arc::new([]),
            series: Arc::new([]),
        })
    }

    /// Parses the URLs of `endpoints` once, instead of on every call.
    pub fn with_endpoints(mut self, endpoints: &[&'static Endpoint]) -> Result<Self, Error> {
        let urls: Result<Vec<_>, Error> = endpoints
            .iter()
            .map(|e| Ok((e.site.operation, self.join(e.path)?)))
            .collect();
        self.urls = urls?.into();
        self.series = endpoints
            .iter()
            .map(|e| (e.site.operation, crate::telemetry::SiteSeries::new(e.site)))
            .collect::<Vec<_>>()
            .into();
        Ok(self)
    }

    /// Sends `endpoint`'s calls to `path` (below the base URL) instead of its documented
    /// path: deployments of one platform do not always agree on paths.
    pub fn with_path(mut self, endpoint: &'static Endpoint, path: &str) -> Result<Self, Error> {
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(Error::config(format!(
                "path `{path}` for {} must start with `/` and hold no query",
                endpoint.site
            )));
        }
        let url = self.join(path)?;
        let mut urls: Vec<_> = self
            .urls
            .iter()
            .filter(|(op, _)| *op != endpoint.site.operation)
            .cloned()
            .collect();
        urls.push((endpoint.site.operation, url));
        self.urls = urls.into();
        Ok(self)
    }

    /// The URL calls of `endpoint` go to.
    pub fn url_for(&self, endpoint: &'static Endpoint) -> Result<url::Url, Error> {
        if let Some((_, url)) = self
            .urls
            .iter()
            .find(|(op, _)| *op == endpoint.site.operation)
        {
            return Ok(url.clone());
        }
        self.join(endpoint.path)
    }

    fn join(&self, path: &str) -> Result<url::Url, Error> {
        url::Url::parse(&format!("{}{}", self.base_url, path))
            .map_err(|e| Error::config(format!("cannot build the request URL: {e}")))
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Runs `request`: validates it (an error here means nothing was sent), then per
    /// attempt takes the rate limit's permit, authorises (signs, or fetches a token),
    /// sends and decodes, retrying as the policy allows (a `Retry-After` within the
    /// policy's cap is waited for).
    ///
    /// Cancel-safe: dropping the future at any await leaves nothing that delays another
    /// call (an unused rate-limit slot is given back when nobody queued behind it; a
    /// token renewal in flight completes on its own task).
    pub async fn execute<R: ApiRequest>(
        &self,
        request: &R,
        decode: Decoder<R::Response>,
    ) -> Result<Answer<R::Response>, Error> {
        let endpoint = request.endpoint();
        if let Err(e) = request.validate() {
            if let Error::InvalidInput { field, .. } = &e {
                crate::telemetry::invalid_input(endpoint.site, field);
            }
            return Err(e);
        }
        let url = self.url_for(endpoint)?;
        let series = self
            .series
            .iter()
            .find(|(op, _)| *op == endpoint.site.operation)
            .map(|(_, s)| s);

        // OpenTelemetry's HTTP client conventions, plus credkit's own attributes.
        let span = tracing::debug_span!(
            "cred.call",
            credkit.provider = endpoint.site.provider,
            credkit.operation = endpoint.site.operation,
            credkit.charged = tracing::field::Empty,
            error.type = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let started = Instant::now();
        let call_span = &span;
        let call = async move {
            let mut attempt = 1;
            let mut tries = 0u32;
            let mut reauthenticated = false;
            let mut reason = "first";
            loop {
                match series {
                    Some(s) => s.attempt(reason),
                    None => crate::telemetry::attempt(endpoint.site, reason),
                }
                let attempt_span = tracing::debug_span!(
                    "cred.attempt",
                    http.request.method = endpoint.method.as_str(),
                    server.address = url.host_str().unwrap_or(""),
                    url.path = url.path(),
                    http.response.status_code = tracing::field::Empty,
                    error.type = tracing::field::Empty,
                );
                let mut params = Vec::with_capacity(8);
                request.write_params(&mut params);
                let outgoing = OutgoingRequest {
                    endpoint,
                    url: url.clone(),
                    headers: HeaderMap::new(),
                    params,
                    body: None,
                    credential: 0,
                    signed: None,
                };
                // Only the debug line of the attempt reads it: no clock read otherwise.
                let sent_at = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
                tries += 1;
                // The attempt's span wraps the exchange only when something listens.
                // One attempt: authorise, send, check and decode; the outcome, the
                // credential the authorizer used and the HTTP status of an answer.
                // Written once, expanded twice: awaited in place when nothing listens
                // to the attempt's span (no future to move), wrapped in it otherwise.
                macro_rules! exchange {
                    ($outgoing:ident) => {{
                        let mut outgoing = $outgoing;
                        // The permit first, then the signature or token: what is signed
                        // (a timestamp, a nonce) and the token's expiry are judged when
                        // the request leaves, not before a wait in the limiter's queue.
                        let permitted = self.transport.acquire(endpoint.site).await;
                        let authorized = match permitted {
                            Ok(()) => self.auth.authorize(&mut outgoing).await,
                            Err(e) => Err(e),
                        };
                        match authorized {
                            Err(e) => (Err(e), 0, None),
                            Ok(()) => {
                                let credential = outgoing.credential;
                                let signed = outgoing.signed.clone();
                                // Built after authorising, so a token obtained just now
                                // is scrubbed from whatever the provider echoes back.
                                let mut redactor = Redactor::new();
                                self.auth.register_secrets(&mut redactor);
                                request.register_pii(&mut redactor);
                                // Per-request secrets (a signature, a token in a header).
                                outgoing.register_secrets(self.auth.secret_fields(), &mut redactor);
                                match self.transport.send(outgoing, &redactor).await {
                                    Ok(mut raw) => {
                                        let status = Some(raw.status);
                                        let result = self
                                            .auth
                                            .check_response(
                                                endpoint,
                                                signed.as_deref(),
                                                &mut raw,
                                                &redactor,
                                            )
                                            .and_then(|()| decode(endpoint, &raw, &redactor))
                                            .map_err(|e| match raw.retry_after() {
                                                Some(wait) => e.with_retry_after(Some(wait)),
                                                None => e,
                                            });
                                        (result, credential, status)
                                    }
                                    Err(e) => (Err(e), credential, None),
                                }
                            }
                        }
                    }};
                }
                let (result, credential, status): (
                    Result<Answer<R::Response>, Error>,
                    u64,
                    Option<u16>,
                ) = if attempt_span.is_disabled() {
                    exchange!(outgoing)
                } else {
                    // Boxed: a second copy of the exchange's state would double the
                    // size of every call's future, listened to or not.
                    Box::pin(async { exchange!(outgoing) }.instrument(attempt_span.clone())).await
                };
                if let Some(code) = status {
                    attempt_span.record("http.response.status_code", code);
                }
                if let Err(e) = &result {
                    attempt_span.record("error.type", e.kind().as_str());
                }
                // One line per attempt for operators (`cred -v`): where it went (host and
                // path only: the query may hold personal data), what came back, how long
                // it took, and what happens next.
                let attempt_line = |outcome: &str, next: &str| {
                    tracing::debug!(
                        attempt = tries,
                        method = endpoint.method.as_str(),
                        host = url.host_str().unwrap_or(""),
                        path = url.path(),
                        status = status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                        latency_ms = sent_at.map_or(0, |t| t.elapsed().as_millis() as u64),
                        outcome,
                        next,
                        "attempt"
                    );
                };
                match result {
                    Ok(mut answer) => {
                        let meta = answer.meta_mut();
                        meta.attempts = attempt;
                        meta.elapsed = started.elapsed();
                        // Recorded now, so that the lines below carry it (when listened to).
                        if !call_span.is_disabled()
                            && let Some(id) = &meta.request_id
                        {
                            call_span.record("request_id", id.as_str());
                        }
                        let outcome = if answer.found() {
                            "answered"
                        } else {
                            "answered: no record"
                        };
                        attempt_line(outcome, "done");
                        tracing::debug!(
                            found = answer.found(),
                            charged = answer.charged().as_str(),
                            "answered"
                        );
                        return Ok(answer);
                    }
                    Err(err) => {
                        if !call_span.is_disabled()
                            && let Some(id) = err.request_id()
                        {
                            call_span.record("request_id", id);
                        }
                        let outcome = match err.code() {
                            Some(code) => format!("{} ({code})", err.kind()),
                            None => err.kind().as_str().to_owned(),
                        };
                        // A rejected credential may be a stale cached token: drop it and
                        // try once more, whatever the retry policy (nothing was billed).
                        // Failures of the token request itself (another call site) are
                        // not retried this way.
                        if err.kind() == ErrorKind::Auth
                            && !reauthenticated
                            && err.site() == Some(endpoint.site)
                            && err.charged() == crate::error::Charged::No
                            && matches!(err, Error::Provider(_) | Error::HttpStatus { .. })
                            && self.auth_is_refreshable()
                        {
                            attempt_line(&outcome, "re-authenticate, then replay once");
                            reauthenticated = true;
                            reason = "reauthentication";
                            self.auth.invalidate(credential).await;
                            continue;
                        }
                        if self.retry.should_retry(&err, attempt, endpoint.billing) {
                            let delay = self.retry.delay_after(&err, attempt);
                            attempt_line(
                                &outcome,
                                &format!(
                                    "retry in {} ms ({} is retryable)",
                                    delay.as_millis(),
                                    err.kind()
                                ),
                            );
                            tokio::time::sleep(delay).await;
                            attempt += 1;
                            reason = crate::telemetry::retry_reason(err.kind());
                            continue;
                        }
                        attempt_line(&outcome, "give up");
                        return Err(err);
                    }
                }
            }
        };
        // Wrapped in the call's span only when something listens (no move otherwise).
        let result = if span.is_disabled() {
            call.await
        } else {
            // Boxed, as the attempt's: one copy of the call's state in the future.
            Box::pin(call.instrument(span.clone())).await
        };
        let (found, charged, kind, elapsed) = match &result {
            Ok(answer) => (
                Some(answer.found()),
                answer.charged(),
                None,
                answer.meta().elapsed,
            ),
            Err(e) => (None, e.charged(), Some(e.kind()), started.elapsed()),
        };
        if !span.is_disabled() {
            span.record("credkit.charged", charged.as_str());
            if let Some(kind) = kind {
                span.record("error.type", kind.as_str());
            }
        }
        match series {
            Some(s) => s.call(found, charged, kind, elapsed),
            None => crate::telemetry::call(endpoint.site, found, charged, kind, elapsed),
        }
        result
    }

    fn auth_is_refreshable(&self) -> bool {
        self.auth.is_refreshable()
    }
}
