//! # cred-redis
//!
//! Shared state for the credkit SDKs on Redis, for users who run more than one process
//! against one provider contract: several pods of a backend, a pool of workers, batch
//! runs on several machines. Provider crates do not depend on it: it plugs into their
//! seams ([`cred_core::RateLimiter`], [`cred_core::TokenStore`]).
//!
//! Quick start: 50 requests a second for one Jumdata app, however many processes run.
//!
//! ```no_run
//! # fn run() -> Result<(), cred_core::Error> {
//! use std::num::NonZeroU32;
//! use std::sync::Arc;
//!
//! let limiter = cred_redis::RedisRateLimiter::builder(
//!     "redis://127.0.0.1:6379",
//!     NonZeroU32::new(50).unwrap(),
//! )
//! .provider("jumdata")
//! .account("my-app-id") // hashed into the key
//! .build()?;
//! // jumdata_api::Client::builder().rate_limiter(Arc::new(limiter)) ...
//! # let _ = Arc::new(limiter); Ok(()) }
//! ```
//!
//! - [`RedisRateLimiter`]: GCRA in one Lua script timed by the Redis server's `TIME`
//!   (machines with different clocks agree), one key per provider and account under a
//!   namespace; no one-second window admits more than the rate across all processes.
//! - When Redis is down or slow ([`WhenUnavailable`]): fail closed (the default; a typed
//!   error, nothing sent) or fall back to a local limiter at a share of the rate. The
//!   connection comes back by itself when Redis does.
//! - [`RedisTokenStore`]: one OAuth token for every process of a licence-platform
//!   account: one token request when it is cold or expiring (a renewal lease with
//!   expiry), one drop when it is refused (by generation); tokens optionally sealed
//!   with AES-256-GCM under a [`TokenKey`].
//! - Keys hold no secret: the account is hashed. `rediss://` URLs use TLS (rustls).
//!
//! **Runtime:** async on **tokio**; call it from a tokio runtime.

mod limiter;
pub mod sealing;
mod tokens;

pub use limiter::{RedisRateLimiter, RedisRateLimiterBuilder, WhenUnavailable};
pub use sealing::{ENV_TOKEN_KEY, TokenKey};
pub use tokens::{RedisTokenStore, RedisTokenStoreBuilder};

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cred_core::Error;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// While Redis is down it is asked again at most this often; in between, callers fail
/// closed or fall back at once instead of waiting for another timeout.
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// The connection to Redis: made on first use (inside the caller's runtime), then kept
/// by `redis`'s connection manager, which reconnects by itself. After a failure it
/// reports Redis down for [`PROBE_EVERY`] without trying.
pub(crate) struct Connection {
    client: redis::Client,
    timeout: Duration,
    manager: tokio::sync::OnceCell<ConnectionManager>,
    down_until: Mutex<Option<Instant>>,
}

impl Connection {
    pub(crate) fn new(client: redis::Client, timeout: Duration) -> Self {
        Self {
            client,
            timeout,
            manager: tokio::sync::OnceCell::new(),
            down_until: Mutex::new(None),
        }
    }

    /// A handle on the connection, or an error while Redis counts as down.
    pub(crate) async fn get(&self) -> Result<ConnectionManager, redis::RedisError> {
        let down = self
            .down_until
            .lock()
            .map(|d| d.is_some_and(|until| Instant::now() < until))
            .unwrap_or(false);
        if down {
            return Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "Redis was unreachable moments ago",
            )));
        }
        let manager = self
            .manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(PROBE_EVERY);
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(manager.clone())
    }

    /// Runs one Redis exchange within the timeout; a failure marks Redis down.
    pub(crate) async fn run<T, F, Fut>(&self, exchange: F) -> Result<T, redis::RedisError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.get().await?;
        match tokio::time::timeout(self.timeout, exchange(connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                self.mark_down();
                Err(e)
            }
            Err(_) => {
                self.mark_down();
                Err(timed_out())
            }
        }
    }

    /// Records a failure: Redis counts as down for [`PROBE_EVERY`].
    pub(crate) fn mark_down(&self) {
        if let Ok(mut d) = self.down_until.lock() {
            *d = Some(Instant::now() + PROBE_EVERY);
        }
    }
}

/// The error of a Redis call that did not answer in time.
pub(crate) fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no answer in time",
    ))
}

/// `<namespace>:<kind>:<provider>:<first 16 hex of sha256(account)>`.
pub(crate) fn key(namespace: &str, kind: &str, provider: &str, account: &str) -> String {
    let digest = cred_core::digest::sha256_hex(account.as_bytes());
    format!("{namespace}:{kind}:{provider}:{}", &digest[..16])
}

/// The error of a call refused because Redis could not be used: a transport failure
/// (`shared-state`, nothing sent) keeping Redis's error as its source, or a
/// configuration error when Redis refused our credentials (a wrong password, a user
/// without the rights): waiting does not help that.
pub(crate) fn unavailable(
    site: cred_core::CallSite,
    message: String,
    e: redis::RedisError,
) -> Error {
    if refused_credentials(&e) {
        return Error::config(format!(
            "{message} (Redis refused the credentials: check the password in the Redis URL)"
        ));
    }
    Error::transport_with_source(
        site,
        cred_core::TransportFailure::SharedState,
        message,
        false,
        std::sync::Arc::new(e),
    )
}

/// Whether Redis refused the connection's credentials (`NOAUTH`, `WRONGPASS`, ...).
pub(crate) fn refused_credentials(e: &redis::RedisError) -> bool {
    let text = e.to_string().to_ascii_uppercase();
    matches!(e.kind(), redis::ErrorKind::AuthenticationFailed)
        || text.contains("WRONGPASS")
        || text.contains("NOAUTH")
        || text.contains("NOPERM")
        || text.contains("INVALID PASSWORD")
}

/// A Redis client for `url`; the URL (which may hold a password) is never quoted.
pub(crate) fn client(url: &str) -> Result<redis::Client, Error> {
    redis::Client::open(url.trim()).map_err(|e| {
        Error::config(format!(
            "the Redis URL is not usable ({}); expected redis://[:password@]host[:port][/db], rediss:// or redis+unix://",
            describe(&e)
        ))
    })
}

/// A Redis error in words, without any URL or password it might carry.
pub(crate) fn describe(e: &redis::RedisError) -> String {
    let mut text = e.to_string();
    for scheme in ["redis://", "rediss://", "redis+unix://"] {
        while let Some(start) = text.find(scheme) {
            let end = text[start..]
                .find(char::is_whitespace)
                .map_or(text.len(), |n| start + n);
            text.replace_range(start..end, "<redis url>");
        }
    }
    text
}
