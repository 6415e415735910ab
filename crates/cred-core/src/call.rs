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
        self.url_ref(endpoint).map(std::borrow::Cow::into_owned)
    }

    /// [`ClientCore::url_for`], borrowed when the client parsed it already.
    fn url_ref(
        &self,
        endpoint: &'static Endpoint,
    ) -> Result<std::borrow::Cow<'_, url::Url>, Error> {
        match self
            .urls
            .iter()
            .find(|(op, _)| *op == endpoint.site.operation)
        {
            Some((_, url)) => Ok(std::borrow::Cow::Borrowed(url)),
            None => self.join(endpoint.path).map(std::borrow::Cow::Owned),
        }
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
        let (url, series) = self.prepare(request)?;
        let span = call_span(endpoint);
        let started = Instant::now();
        let call_span = &span;
        // The attempt's span wraps the exchange only when something listens.
        // One attempt: authorise, send, check and decode; the outcome, the
        // credential the authorizer used and the HTTP status of an answer.
        // Written once, expanded twice: awaited in place when nothing listens
        // to the attempt's span (no future to move), wrapped in it otherwise.
        // The synchronous steps are functions of their own and the transport's
        // future is polled through one: the state machine's own code and stack
        // frame stay small (its size, not its instruction count, is what an
        // idle-cached call pays for).
        macro_rules! exchange {
            ($outgoing:ident) => {
                'exchange: {
                    // Everything up to the HTTP request in one expression whose locals
                    // end with it: a coroutine keeps a moved-from local's room until its
                    // scope ends, and the outgoing request would otherwise take room in
                    // every call's future while the exchange is awaited.
                    let (credential, signed, redactor, sending) = match {
                        let mut outgoing = $outgoing;
                        // The permit first, then the signature or token: what is signed
                        // (a timestamp, a nonce) and the token's expiry are judged when
                        // the request leaves, not before a wait in the limiter's queue.
                        // Both are taken without a future when they need not wait;
                        // otherwise in one boxed future.
                        let fast = self.transport.try_permit(endpoint.site);
                        let ready = match fast
                            .then(|| self.auth.authorize_now(&mut outgoing))
                            .flatten()
                        {
                            Some(done) => done.map(|()| outgoing),
                            None => Box::pin(self.authorize_slowly(outgoing, fast)).await,
                        };
                        ready.map(|mut outgoing| {
                            // Built after authorising, so a token obtained just now is
                            // scrubbed from whatever the provider echoes back.
                            let redactor = self.redactor_for(request, &outgoing);
                            let (credential, signed) =
                                (outgoing.credential, outgoing.signed.take());
                            // reqwest does nothing before its future is polled.
                            let sending = self.transport.request_builder(outgoing).send();
                            (credential, signed, redactor, sending)
                        })
                    } {
                        Ok(prepared) => prepared,
                        Err(e) => break 'exchange (Err(e), 0, None),
                    };
                    let mut exchanging =
                        std::pin::pin!(self.transport.exchange(endpoint.site, sending, &redactor));
                    let sent =
                        std::future::poll_fn(|cx| poll_outlined(exchanging.as_mut(), cx)).await;
                    let (result, status) =
                        self.conclude(endpoint, signed.as_deref(), sent, &redactor, decode);
                    (result, credential, status)
                }
            };
        }
        // The call's attempts, as one expression. Written once, expanded twice: in place
        // when nothing listens to the call's span (no future of its own to build and
        // move: its size would be copied on every call), in a boxed future wrapped in
        // the span otherwise.
        macro_rules! attempts {
            () => {
                'call: {
                    let mut progress = Progress {
                        attempt: 1,
                        tries: 0,
                        reauthenticated: false,
                        reason: "first",
                    };
                    loop {
                        match series {
                            Some(s) => s.attempt(progress.reason),
                            None => crate::telemetry::attempt(endpoint.site, progress.reason),
                        }
                        let attempt_span = attempt_span(endpoint, &url);
                        let outgoing = outgoing_for(request, &url);
                        // Only the debug line of the attempt reads it: no clock read otherwise.
                        let sent_at = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
                        progress.tries += 1;
                        // The attempt and what follows it, in a block of their own: the
                        // result's storage ends with it, so the rare waits below (a
                        // re-authentication, a retry's delay) hold nothing large.
                        let next = {
                            let (result, credential, status): (
                                Result<Answer<R::Response>, Error>,
                                u64,
                                Option<u16>,
                            ) = if attempt_span.is_disabled() {
                                exchange!(outgoing)
                            } else {
                                // Boxed: a second copy of the exchange's state would double
                                // the size of every call's future, listened to or not.
                                Box::pin(
                                    async { exchange!(outgoing) }.instrument(attempt_span.clone()),
                                )
                                .await
                            };
                            if !attempt_span.is_disabled() {
                                record_attempt(&attempt_span, status, &result);
                            }
                            let line = AttemptLine {
                                tries: progress.tries,
                                endpoint,
                                url: &url,
                                status,
                                sent_at,
                            };
                            match result {
                                Ok(mut answer) => {
                                    let meta = answer.meta_mut();
                                    meta.attempts = progress.attempt;
                                    meta.elapsed = started.elapsed();
                                    // Recorded now, so that the lines below carry it (when
                                    // listened to).
                                    if !call_span.is_disabled()
                                        && let Some(id) = &meta.request_id
                                    {
                                        call_span.record("request_id", id.as_str());
                                    }
                                    if tracing::enabled!(tracing::Level::DEBUG) {
                                        answered_lines(&line, &answer);
                                    }
                                    break 'call Ok(answer);
                                }
                                Err(err) => {
                                    if !call_span.is_disabled()
                                        && let Some(id) = err.request_id()
                                    {
                                        call_span.record("request_id", id);
                                    }
                                    match self.after_error(&err, endpoint, &mut progress, &line) {
                                        Next::GiveUp => break 'call Err(err),
                                        Next::Reauthenticate => (Next::Reauthenticate, credential),
                                        retry => (retry, credential),
                                    }
                                }
                            }
                        };
                        match next {
                            (Next::Reauthenticate, credential) => {
                                self.auth.invalidate(credential).await;
                            }
                            (Next::Retry(delay), _) => Box::pin(tokio::time::sleep(delay)).await,
                            (Next::GiveUp, _) => {}
                        }
                    }
                }
            };
        }
        let result: Result<Answer<R::Response>, Error> = if span.is_disabled() {
            attempts!()
        } else {
            Box::pin(async { attempts!() }.instrument(span.clone())).await
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

    /// Before anything is sent: validates `request` (counting a refusal) and finds its
    /// URL and metric series.
    fn prepare<R: ApiRequest>(
        &self,
        request: &R,
    ) -> Result<
        (
            std::borrow::Cow<'_, url::Url>,
            Option<&crate::telemetry::SiteSeries>,
        ),
        Error,
    > {
        let endpoint = request.endpoint();
        if let Err(e) = request.validate() {
            if let Error::InvalidInput { field, .. } = &e {
                crate::telemetry::invalid_input(endpoint.site, field);
            }
            return Err(e);
        }
        // The client's parsed URL, borrowed: each attempt clones it once.
        let url = self.url_ref(endpoint)?;
        let series = self
            .series
            .iter()
            .find(|(op, _)| *op == endpoint.site.operation)
            .map(|(_, s)| s);
        Ok((url, series))
    }

    /// The permit (waited for unless `permitted` already) and the authorisation of
    /// `outgoing`, when either has to wait: a token to fetch, a rate limit to wait for.
    async fn authorize_slowly(
        &self,
        mut outgoing: OutgoingRequest,
        permitted: bool,
    ) -> Result<OutgoingRequest, Error> {
        if !permitted {
            self.transport.acquire(outgoing.endpoint.site).await?;
        }
        match self.auth.authorize_now(&mut outgoing) {
            Some(done) => done,
            None => self.auth.authorize(&mut outgoing).await,
        }?;
        Ok(outgoing)
    }

    /// The redactor of one attempt: the authorizer's secrets, the request's personal
    /// values, and the per-request secrets (a signature, a token in a header).
    #[inline(never)]
    fn redactor_for<'a, R: ApiRequest>(
        &'a self,
        request: &'a R,
        outgoing: &OutgoingRequest,
    ) -> Redactor<'a> {
        let mut redactor = Redactor::new();
        self.auth.register_secrets(&mut redactor);
        request.register_pii(&mut redactor);
        outgoing.register_secrets(self.auth.secret_fields(), &mut redactor);
        redactor
    }

    /// What one sent attempt came to: the response checked by the authorizer and
    /// decoded (a `Retry-After` kept on an error), with the HTTP status of an answer.
    #[inline(never)]
    fn conclude<T>(
        &self,
        endpoint: &'static Endpoint,
        signed: Option<&str>,
        sent: Result<RawResponse, Error>,
        redactor: &Redactor<'_>,
        decode: Decoder<T>,
    ) -> (Result<Answer<T>, Error>, Option<u16>) {
        let mut raw = match sent {
            Ok(raw) => raw,
            Err(e) => return (Err(e), None),
        };
        let status = Some(raw.status);
        let result = self
            .auth
            .check_response(endpoint, signed, &mut raw, redactor)
            .and_then(|()| decode(endpoint, &raw, redactor))
            .map_err(|e| match raw.retry_after() {
                Some(wait) => e.with_retry_after(Some(wait)),
                None => e,
            });
        (result, status)
    }

    /// After a failed attempt: re-authenticate once, retry as the policy allows, or give
    /// up; logs the attempt's line either way.
    #[cold]
    #[inline(never)]
    fn after_error(
        &self,
        err: &Error,
        endpoint: &'static Endpoint,
        progress: &mut Progress,
        line: &AttemptLine<'_>,
    ) -> Next {
        let outcome = match err.code() {
            Some(code) => format!("{} ({code})", err.kind()),
            None => err.kind().as_str().to_owned(),
        };
        // A rejected credential may be a stale cached token: drop it and try once more,
        // whatever the retry policy (nothing was billed). Failures of the token request
        // itself (another call site) are not retried this way.
        if err.kind() == ErrorKind::Auth
            && !progress.reauthenticated
            && err.site() == Some(endpoint.site)
            && err.charged() == crate::error::Charged::No
            && matches!(err, Error::Provider(_) | Error::HttpStatus { .. })
            && self.auth_is_refreshable()
        {
            line.log(&outcome, "re-authenticate, then replay once");
            progress.reauthenticated = true;
            progress.reason = "reauthentication";
            return Next::Reauthenticate;
        }
        if self
            .retry
            .should_retry(err, progress.attempt, endpoint.billing)
        {
            let delay = self.retry.delay_after(err, progress.attempt);
            line.log(
                &outcome,
                &format!(
                    "retry in {} ms ({} is retryable)",
                    delay.as_millis(),
                    err.kind()
                ),
            );
            progress.attempt += 1;
            progress.reason = crate::telemetry::retry_reason(err.kind());
            return Next::Retry(delay);
        }
        line.log(&outcome, "give up");
        Next::GiveUp
    }

    fn auth_is_refreshable(&self) -> bool {
        self.auth.is_refreshable()
    }
}

/// Where a call's attempts stand.
struct Progress {
    /// The attempt the retry policy counts (re-authentication does not count).
    attempt: u32,
    /// Attempts sent, re-authentication included.
    tries: u32,
    reauthenticated: bool,
    /// Why the next attempt starts (a metric label).
    reason: &'static str,
}

/// What follows a failed attempt.
enum Next {
    Reauthenticate,
    Retry(std::time::Duration),
    GiveUp,
}

/// One line per attempt for operators (`cred -v`): where it went (host and path only:
/// the query may hold personal data), what came back, how long it took, and what
/// happens next.
struct AttemptLine<'a> {
    tries: u32,
    endpoint: &'static Endpoint,
    url: &'a url::Url,
    status: Option<u16>,
    sent_at: Option<Instant>,
}

impl AttemptLine<'_> {
    fn log(&self, outcome: &str, next: &str) {
        tracing::debug!(
            attempt = self.tries,
            method = self.endpoint.method.as_str(),
            host = self.url.host_str().unwrap_or(""),
            path = self.url.path(),
            status = self
                .status
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            latency_ms = self.sent_at.map_or(0, |t| t.elapsed().as_millis() as u64),
            outcome,
            next,
            "attempt"
        );
    }
}

/// The span of one call: OpenTelemetry's HTTP client conventions, plus credkit's own
/// attributes. (Spans are made in functions of their own: the macro's code stays out of
/// the call's state machine.)
#[inline(never)]
fn call_span(endpoint: &'static Endpoint) -> tracing::Span {
    tracing::debug_span!(
        "cred.call",
        credkit.provider = endpoint.site.provider,
        credkit.operation = endpoint.site.operation,
        credkit.charged = tracing::field::Empty,
        error.type = tracing::field::Empty,
        request_id = tracing::field::Empty,
    )
}

/// The span of one attempt (host and path only: the query may hold personal data).
#[inline(never)]
fn attempt_span(endpoint: &'static Endpoint, url: &url::Url) -> tracing::Span {
    tracing::debug_span!(
        "cred.attempt",
        http.request.method = endpoint.method.as_str(),
        server.address = url.host_str().unwrap_or(""),
        url.path = url.path(),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// The debug lines of an answered call (only called when debug is on).
#[cold]
#[inline(never)]
fn answered_lines<T>(line: &AttemptLine<'_>, answer: &Answer<T>) {
    let outcome = if answer.found() {
        "answered"
    } else {
        "answered: no record"
    };
    line.log(outcome, "done");
    tracing::debug!(
        found = answer.found(),
        charged = answer.charged().as_str(),
        "answered"
    );
}

/// Records an attempt's status and error kind on its span (only when listened to).
#[cold]
#[inline(never)]
fn record_attempt<T>(span: &tracing::Span, status: Option<u16>, result: &Result<T, Error>) {
    if let Some(code) = status {
        span.record("http.response.status_code", code);
    }
    if let Err(e) = result {
        span.record("error.type", e.kind().as_str());
    }
}

/// The request of one attempt, before authorisation: its parameters as they go on
/// the wire.
#[inline(never)]
fn outgoing_for<R: ApiRequest>(request: &R, url: &url::Url) -> OutgoingRequest {
    let mut params = Vec::with_capacity(8);
    request.write_params(&mut params);
    OutgoingRequest {
        endpoint: request.endpoint(),
        url: url.clone(),
        headers: HeaderMap::new(),
        params,
        body: None,
        credential: 0,
        signed: None,
    }
}

/// Polls `future` in a function of its own: its code and locals stay out of the
/// caller's state machine (see [`ClientCore::execute`]).
#[inline(never)]
fn poll_outlined<F: std::future::Future>(
    future: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<F::Output> {
    future.poll(cx)
}
