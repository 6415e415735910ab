//! # cred-sandbox
//!
//! An offline stand-in for the credkit providers, all on one loopback port (their paths
//! do not collide). It behaves like the provider, not like a mock: it checks credentials
//! and signatures exactly as the provider documents them, refuses stale timestamps,
//! answers in the provider's exact envelope, and reaches every error family through
//! documented **magic inputs** (see the crate README, [`jumdata::MAGIC`],
//! [`juhe::MAGIC`], [`zz_license::MAGIC`] and [`zhima::MAGIC`]).
//!
//! It is written from the providers' documents, independently of the SDK crates (it
//! depends on none of them), so a bug in an SDK signer is caught rather than mirrored.
//!
//! Its credentials are published test values ([`credentials`]); they work nowhere else.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let sandbox = cred_sandbox::Sandbox::start().await?;
//! println!("Jumdata at {}", sandbox.base_url());
//! // point a client at sandbox.base_url() with cred_sandbox::credentials::JUMDATA_APP_ID ...
//! # Ok(()) }
//! ```

mod common;
pub mod credentials;
pub mod juhe;
pub mod jumdata;
pub mod stats;
pub mod zhima;
pub mod zz_license;

pub use common::Behaviour;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;

/// How a sandbox is started.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to listen on; port 0 picks a free one. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// How long the "slow response" magic input waits before answering. Default 3 s.
    pub slow_delay: Duration,
    /// How far a request timestamp may be from the sandbox clock. Default 10 minutes.
    pub timestamp_window: Duration,
    /// How long a licence-platform access token lives. Default 43199 s, as
    /// DB3704/T 0042-2024 (4.3.1) shows; shorten it to exercise expiry.
    pub zz_token_ttl: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            slow_delay: Duration::from_secs(3),
            timestamp_window: Duration::from_secs(600),
            zz_token_ttl: Duration::from_secs(43199),
        }
    }
}

/// State shared by every provider module.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    requests: AtomicU64,
    pub(crate) zz_tokens: zz_license::Tokens,
    pub(crate) zhima_keys: Option<zhima::Keys>,
    /// `once_token`s whose final result was already answered (answered once only).
    pub(crate) zhima_spent: std::sync::Mutex<std::collections::HashSet<String>>,
    /// What reached the sandbox (`GET /__sandbox/stats`).
    pub(crate) stats: stats::Stats,
}

/// A running sandbox. Stops when dropped (or on [`Sandbox::shutdown`]).
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Starts a sandbox on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox with `config`.
    pub async fn start_with(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            requests: AtomicU64::new(0),
            zz_tokens: Default::default(),
            zhima_keys: zhima::Keys::load(),
            zhima_spent: Default::default(),
            stats: Default::default(),
        });
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            // The server only ends when the task is aborted.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Sandbox {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            task,
        })
    }

    /// The base URL every provider is served under (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The licence platform's base URL (`http://127.0.0.1:PORT/license-api-release`).
    pub fn zz_license_base_url(&self) -> String {
        format!("{}{}", self.base_url, zz_license::ROOT)
    }

    /// Token requests the licence platform answered so far (any outcome).
    pub fn zz_license_token_requests(&self) -> u64 {
        zz_license::token_requests(&self.shared)
    }

    /// Requests received so far (any provider, any outcome).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn count(shared: Arc<Shared>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/__sandbox/") {
        shared.requests.fetch_add(1, Ordering::SeqCst);
        shared.stats.record(request.uri().path(), now_millis());
    }
    next.run(request).await
}

/// Every provider's routes on one router; a provider is one module adding its routes.
fn router(shared: Arc<Shared>) -> Router {
    let counter = shared.clone();
    Router::new()
        .merge(jumdata::routes(shared.clone()))
        .merge(juhe::routes(shared.clone()))
        .merge(zz_license::routes(shared.clone()))
        .merge(zhima::routes(shared.clone()))
        .merge(stats::routes(shared))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            count(counter.clone(), req, next)
        }))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
