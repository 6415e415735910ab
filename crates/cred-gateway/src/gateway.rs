//! The gateway: its state, its builder and its routes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cred_core::Error;
use cred_core::seal::SealingKey;
use tokio::sync::Semaphore;

use crate::callers::Callers;
use crate::calls::{Audit, Clients};
use crate::catalogue::{self, Operation};
use crate::fields::Fields;
use crate::idempotency::{Claim, Idempotency};
use crate::respond::Reply;
use crate::store::{MemoryStore, Store};

/// The header a caller gives its purpose in (the ledger's `purpose`; for the licence
/// platform also its 用证事由, `certificateCopyCause`).
pub const PURPOSE_HEADER: &str = "x-credkit-purpose";

/// Limits against careless and hostile callers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// The largest request body, in bytes (default 64 KiB).
    pub max_body_bytes: usize,
    /// The largest body of `zz-license verify-file` (a base64 file; default 28 MiB).
    pub max_file_body_bytes: usize,
    /// How long a body may take to arrive (default 10 s).
    pub body_timeout: Duration,
    /// Calls handled at once; more are refused with 503 (default 256).
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_file_body_bytes: 28 * 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            max_in_flight: 256,
        }
    }
}

type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// Builds a [`Gateway`].
#[must_use]
pub struct GatewayBuilder {
    clients: Clients,
    callers: Callers,
    ledger: Option<cred_ledger::Ledger>,
    require_purpose: bool,
    store: Option<Arc<dyn Store>>,
    state_key: Option<SealingKey>,
    limits: Limits,
    metrics: Option<Render>,
}

impl std::fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayBuilder")
            .field("clients", &self.clients)
            .field("callers", &self.callers.len())
            .finish_non_exhaustive()
    }
}

impl GatewayBuilder {
    /// The provider clients (a provider without one answers 503 `config`).
    pub fn clients(mut self, clients: Clients) -> Self {
        self.clients = clients;
        self
    }

    /// The callers and their keys.
    pub fn callers(mut self, callers: Callers) -> Self {
        self.callers = callers;
        self
    }

    /// The audit ledger every call is recorded in.
    pub fn ledger(mut self, ledger: cred_ledger::Ledger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Whether callers must send `X-Credkit-Purpose` (default: yes).
    pub fn require_purpose(mut self, required: bool) -> Self {
        self.require_purpose = required;
        self
    }

    /// Where idempotency records and budgets live (default: this process).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The key idempotency records are sealed with. Replicas sharing a store must share
    /// it; default: a random key (right for a store of this process only).
    pub fn state_key(mut self, key: SealingKey) -> Self {
        self.state_key = Some(key);
        self
    }

    /// The limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// What `/metrics` serves (the Prometheus text of the recorder the embedding program
    /// installed); without it `/metrics` is 404.
    pub fn metrics(mut self, render: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.metrics = Some(Arc::new(render));
        self
    }

    /// The gateway.
    pub fn build(self) -> Result<Gateway, Error> {
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn Store>);
        let key = match self.state_key {
            Some(k) => k,
            None => SealingKey::generate()?,
        };
        let idempotency = Idempotency::new(store.clone(), &key)?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                clients: self.clients,
                callers: RwLock::new(Arc::new(self.callers)),
                ledger: self.ledger,
                require_purpose: self.require_purpose,
                store,
                idempotency,
                in_flight: Arc::new(Semaphore::new(self.limits.max_in_flight.max(1))),
                limits: self.limits,
                metrics: self.metrics,
                draining: AtomicBool::new(false),
            }),
        })
    }
}

struct Inner {
    clients: Clients,
    callers: RwLock<Arc<Callers>>,
    ledger: Option<cred_ledger::Ledger>,
    require_purpose: bool,
    store: Arc<dyn Store>,
    idempotency: Idempotency,
    limits: Limits,
    in_flight: Arc<Semaphore>,
    metrics: Option<Render>,
    draining: AtomicBool,
}

/// The gateway: cheap to clone; [`Gateway::router`] serves it.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("clients", &self.inner.clients)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A builder.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder {
            clients: Clients::default(),
            callers: Callers::default(),
            ledger: None,
            require_purpose: true,
            store: None,
            state_key: None,
            limits: Limits::default(),
            metrics: None,
        }
    }

    /// Replaces the callers (a reloaded configuration); calls already admitted finish
    /// under the callers they were admitted by.
    pub fn reload(&self, callers: Callers) {
        let mut slot = self
            .inner
            .callers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(callers);
    }

    /// Marks the gateway as stopping: `/readyz` answers 503 so load balancers move away.
    pub fn drain(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    /// The routes: `POST /v1/{provider}/{operation}`, `/healthz`, `/readyz`,
    /// `/metrics`, `/openapi.json`, `/docs`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/{provider}/{operation}", post(call))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(ready))
            .route("/metrics", get(metrics))
            .route("/openapi.json", get(openapi))
            .route("/docs", get(docs))
            .fallback(not_found)
            .with_state(self.clone())
    }
}

async fn not_found() -> Response {
    Reply::refusal(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such route: operations are POST /v1/{provider}/{operation} (see /docs)",
    )
    .into_response()
}

async fn openapi() -> Response {
    let mut r = crate::openapi::DOCUMENT.as_str().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn docs() -> Response {
    let mut r = crate::openapi::DOCS_PAGE.as_str().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

async fn metrics(State(g): State<Gateway>) -> Response {
    match &g.inner.metrics {
        Some(render) => {
            let mut r = render().into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        None => not_found().await,
    }
}

async fn ready(State(g): State<Gateway>) -> Response {
    let inner = &g.inner;
    let providers = inner.clients.providers();
    let store = inner.store.ping().await;
    let ledger = match &inner.ledger {
        None => Ok(()),
        Some(l) => l.check_writable().map_err(|e| e.to_string()),
    };
    let draining = inner.draining.load(Ordering::SeqCst);
    let ok = !providers.is_empty() && store.is_ok() && ledger.is_ok() && !draining;
    let body = serde_json::json!({
        "ready": ok,
        "providers": providers,
        "shared_state": if store.is_ok() { "ok" } else { "unavailable" },
        "audit_ledger": match (&inner.ledger, &ledger) {
            (None, _) => "off",
            (Some(_), Ok(())) => "ok",
            (Some(_), Err(_)) => "broken",
        },
        "stopping": draining,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// The purpose header: UTF-8 (raw bytes), trimmed.
fn purpose(headers: &HeaderMap) -> Result<Option<String>, &'static str> {
    let Some(v) = headers.get(PURPOSE_HEADER) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(v.as_bytes()).map_err(|_| "is not UTF-8 text")?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > 200 {
        return Err("is longer than 200 characters");
    }
    Ok(Some(text.to_owned()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Seconds to the next UTC midnight (when daily budgets start again).
fn until_tomorrow() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    86_400 - now % 86_400
}

fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    format!("d{days}")
}

/// What the access log and the metrics say of one call.
struct Seen {
    caller: String,
    route: String,
    replayed: bool,
    /// A streamed file's body (the reply holds its head).
    stream: Option<Body>,
}

async fn call(
    State(g): State<Gateway>,
    Path((provider, operation)): Path<(String, String)>,
    request: Request,
) -> Response {
    let started = std::time::Instant::now();
    let mut seen = Seen {
        caller: "-".to_owned(),
        route: "unknown".to_owned(),
        replayed: false,
        stream: None,
    };
    let reply = match g.inner.in_flight.clone().try_acquire_owned() {
        Err(_) => Reply::refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the gateway is handling as many calls as it may; nothing was sent: try again shortly",
        )
        .with("retry-after", "1"),
        Ok(permit) => {
            let reply = handle(&g, &provider, &operation, request, &mut seen).await;
            drop(permit);
            reply
        }
    };
    let status = reply.status;
    let charged = match reply.charged {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    let elapsed = started.elapsed();
    tracing::info!(
        target: "cred_gateway::access",
        caller = %seen.caller,
        route = %seen.route,
        status,
        charged,
        replayed = seen.replayed,
        ms = elapsed.as_secs_f64() * 1000.0,
        "call"
    );
    metrics::counter!(
        "credkit_gateway_requests_total",
        "caller" => seen.caller.clone(),
        "route" => seen.route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("credkit_gateway_request_duration_seconds", "route" => seen.route)
        .record(elapsed.as_secs_f64());
    let mut response = reply.into_response();
    if let Some(stream) = seen.stream.take() {
        *response.body_mut() = stream;
    }
    if seen.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    response
}

async fn read_body(
    g: &Gateway,
    op: &Operation,
    headers: &HeaderMap,
    body: Body,
) -> Result<bytes::Bytes, Reply> {
    use http_body_util::BodyExt as _;
    let limit = if op.name == "verify-file" {
        g.inner.limits.max_file_body_bytes
    } else {
        g.inner.limits.max_body_bytes
    };
    let too_large = || {
        Reply::refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the body is over the {limit}-byte limit; nothing was sent"),
        )
    };
    // Announced too large: refused before reading any of it.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, limit);
    match tokio::time::timeout(g.inner.limits.body_timeout, limited.collect()).await {
        Err(_) => Err(Reply::refusal(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the body did not arrive in time; nothing was sent",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(Reply::refusal(
            StatusCode::BAD_REQUEST,
            "invalid-argument",
            "the body could not be read; nothing was sent",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

async fn handle(
    g: &Gateway,
    provider: &str,
    operation: &str,
    request: Request,
    seen: &mut Seen,
) -> Reply {
    let Some(op) = catalogue::find(provider, operation) else {
        return Reply::refusal(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such operation (see /docs for the list)",
        );
    };
    seen.route = op.id();
    let (parts, body) = request.into_parts();
    // Who calls.
    let callers = g
        .inner
        .callers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(caller) = bearer(&parts.headers).and_then(|k| callers.authenticate(k)) else {
        return Reply::refusal(
            StatusCode::UNAUTHORIZED,
            "auth",
            "a valid API key is needed: Authorization: Bearer <key>",
        );
    };
    seen.caller = caller.name.clone();
    if !caller.may(op) {
        return Reply::refusal(
            StatusCode::FORBIDDEN,
            "permission",
            format!("caller {} may not call {}", caller.name, op.id()),
        );
    }
    // What is asked.
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Reply::refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "the body must be JSON (Content-Type: application/json); nothing was sent",
        );
    }
    let body = match read_body(g, op, &parts.headers, body).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let purpose = match purpose(&parts.headers) {
        Ok(p) => p,
        Err(why) => {
            return Reply::error(
                None,
                &Error::invalid("purpose", format!("X-Credkit-Purpose {why}")),
            );
        }
    };
    if purpose.is_none() && g.inner.require_purpose {
        return Reply::error(
            None,
            &Error::invalid(
                "purpose",
                "is required: say why you look this up in the X-Credkit-Purpose header (it is recorded in the audit ledger)",
            ),
        );
    }
    let fields = match Fields::parse(op, &body) {
        Ok(f) => f,
        Err(e) => return Reply::error(Some(op.provider), &e),
    };
    // Once only.
    let key = match parts.headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let Ok(k) = std::str::from_utf8(v.as_bytes()) else {
                return Reply::error(
                    None,
                    &Error::invalid("idempotency_key", "is not UTF-8 text"),
                );
            };
            if let Err(why) = Idempotency::check_key(k) {
                return Reply::error(None, &Error::invalid("idempotency_key", why));
            }
            Some(k.to_owned())
        }
    };
    let audit = Audit {
        ledger: g.inner.ledger.clone(),
        caller: format!("gateway:{}", caller.name),
        purpose,
        idempotency_key: key.clone(),
    };
    if let Some(ledger) = &g.inner.ledger
        && let Err(e) = ledger.check_writable()
    {
        return Reply::error(
            Some(op.provider),
            &Error::config(format!(
                "the audit ledger cannot be written, so nothing is sent: {e}"
            )),
        );
    }
    let pending = match crate::calls::prepare(op, &fields, &g.inner.clients, audit) {
        Ok(p) => p,
        Err(e) => return Reply::error(Some(op.provider), &e),
    };
    // From here on the request runs in a task of its own: a caller that goes away (a
    // client's timeout) cuts short neither the claim of its idempotency key nor the
    // call; the answer is still recorded, counted and stored for a retry with the key.
    let task_gateway = g.clone();
    let op_id = op.id();
    let provider_name = op.provider;
    let task = tokio::spawn(async move {
        let (claimed, budget) = match gate(&task_gateway, &caller, op, key.as_deref(), &body).await
        {
            Gate::Refused(reply) => return (reply, None, false),
            Gate::Replay(reply) => return (reply, None, true),
            Gate::Go { claimed, budget } => (claimed, budget),
        };
        let (result, recorded) = pending.await;
        if let Err(e) = recorded {
            tracing::error!(target: "cred_gateway", route = %op_id, "the call was made but its audit record could not be written: {e}");
        }
        let (reply, stream) = match result {
            Ok(done) => Reply::answer(done),
            Err(e) => (Reply::error(Some(provider_name), &e), None),
        };
        if let Some(name) = &budget
            && reply.charged == Some(false)
            && let Err(e) = task_gateway.inner.store.refund(name).await
        {
            tracing::warn!(target: "cred_gateway", "an uncharged call could not be given back to the budget: {e}");
        }
        if let Some(storage_key) = &claimed
            && let Err(e) = task_gateway
                .inner
                .idempotency
                .finish(storage_key, &op_id, &body, &reply)
                .await
        {
            tracing::error!(target: "cred_gateway", "the answer to an idempotent request could not be stored (a retry with its key is refused as in flight): {e}");
        }
        (reply, stream, false)
    });
    match task.await {
        Ok((reply, stream, replayed)) => {
            seen.stream = stream;
            seen.replayed = replayed;
            reply
        }
        Err(_) => Reply::unknown_outcome(
            "the call failed inside the gateway; whether it was sent, and charged, is unknown",
        ),
    }
}

/// What the idempotency record, the caller's rate and its budget say of a request.
enum Gate {
    /// Refused before sending.
    Refused(Reply),
    /// Answered before: this is the stored answer.
    Replay(Reply),
    /// To be sent: the claimed idempotency record and the budget counted, if any.
    Go {
        claimed: Option<String>,
        budget: Option<String>,
    },
}

async fn gate(
    g: &Gateway,
    caller: &crate::callers::Caller,
    op: &'static Operation,
    key: Option<&str>,
    body: &[u8],
) -> Gate {
    let claimed = match key {
        None => None,
        Some(k) => match g
            .inner
            .idempotency
            .claim(&caller.name, k, &op.id(), body)
            .await
        {
            Err(e) => return Gate::Refused(Reply::error(None, &e)),
            Ok(Claim::Replay(reply)) => return Gate::Replay(reply),
            Ok(Claim::Mismatch) => {
                return Gate::Refused(Reply::refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-mismatch",
                    "this Idempotency-Key was used with another operation or body; nothing was sent (use a new key for a new request)",
                ));
            }
            Ok(Claim::InFlight(secs)) => {
                return Gate::Refused(Reply::refusal(
                    StatusCode::CONFLICT,
                    "idempotency-in-flight",
                    format!(
                        "a request with this Idempotency-Key started {secs} s ago and has not finished; nothing was sent. Retry later for its answer; if its gateway stopped, whether it was charged is unknown, and only a new key sends again"
                    ),
                ));
            }
            Ok(Claim::Fresh(storage_key)) => Some(storage_key),
        },
    };
    // Within the caller's rate and budget.
    if let Some(per_second) = caller.rate_limit {
        match g.inner.store.admit(&caller.name, per_second).await {
            Err(e) => {
                release(g, claimed.as_deref()).await;
                return Gate::Refused(Reply::error(None, &e));
            }
            Ok(Some(wait)) => {
                release(g, claimed.as_deref()).await;
                let after = wait.as_secs_f64().ceil().max(1.0) as u64;
                return Gate::Refused(Reply::refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    format!(
                        "caller {} is over its rate of {per_second} calls a second; nothing was sent",
                        caller.name
                    ),
                )
                .with("retry-after", after.to_string()));
            }
            Ok(None) => {}
        }
    }
    let budget = match caller.daily_budget {
        None => None,
        Some(limit) => {
            let name = format!("{}:{}", caller.name, today());
            match g.inner.store.reserve(&name, limit).await {
                Err(e) => {
                    release(g, claimed.as_deref()).await;
                    return Gate::Refused(Reply::error(None, &e));
                }
                Ok(None) => {
                    release(g, claimed.as_deref()).await;
                    return Gate::Refused(Reply::refusal(
                        StatusCode::TOO_MANY_REQUESTS,
                        "quota-exhausted",
                        format!(
                            "caller {} has used its budget of {limit} charged calls today (UTC); nothing was sent",
                            caller.name
                        ),
                    )
                    .with("retry-after", until_tomorrow().to_string()));
                }
                Ok(Some(_)) => Some(name),
            }
        }
    };
    Gate::Go { claimed, budget }
}

async fn release(g: &Gateway, claimed: Option<&str>) {
    if let Some(k) = claimed
        && let Err(e) = g.inner.idempotency.release(k).await
    {
        tracing::warn!(target: "cred_gateway", "an idempotency key could not be released: {e}");
    }
}
