//! One rate limit for every process that spends one provider contract: GCRA in one Lua
//! script, timed by the Redis server's `TIME` so machines with different clocks agree.
//!
//! Each permit is one script call that *reserves* the next free slot of the key (its
//! theoretical arrival time, TAT, moves on by `1 / rate`) and answers how long the
//! caller must wait for it. Slots are `1 / rate` apart whatever the number of callers,
//! so no one-second window holds more than `rate` permits (plus `burst - 1` after a
//! quiet spell, when a burst is configured).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::key;
use async_trait::async_trait;
use cred_core::{CallSite, Error, LocalRateLimiter, RateLimiter, TransportFailure};

/// The GCRA step. `KEYS[1]`: the key holding the TAT (microseconds, server clock).
/// `ARGV`: emission interval, burst tolerance and the longest wait a caller accepts, all
/// in microseconds. Answers `{wait, tat before, tat after}`: the microseconds to wait
/// (`0`: go now; `-1` without reserving anything when the wait would be longer than
/// accepted), and the key's value before (`''` when it had none) and after, so that a
/// caller that gives up can give its slot back ([`UNRESERVE`]).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local tat = tonumber(stored)
if tat == nil or tat < now then
  tat = now
end
local wait = tat - tolerance - now
if wait < 0 then
  wait = 0
end
if wait > max_wait then
  return {-1, '', ''}
end
local new_tat = string.format('%.0f', tat + interval)
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return {wait, stored or '', new_tat}
";

/// Gives a reserved slot back. `KEYS[1]`: the TAT key; `ARGV`: the value before and after
/// the reservation. Only when the key still holds the reservation's value (nobody
/// reserved behind it) is the value before restored (or the key deleted).
const UNRESERVE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return 0
end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return 1
";

/// What a limiter does when Redis cannot be reached or does not answer in time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum WhenUnavailable {
    /// Refuse the call: an [`Error::Transport`] that was not sent (kind `unavailable`,
    /// `charged: no`). Nothing exceeds the shared rate, at the cost of availability.
    /// The default.
    FailClosed,
    /// Go on with a local limiter at `share` (0 to 1) of the configured rate: with N
    /// processes, `1 / N` keeps the sum within the rate while Redis is away. While
    /// switching over and back, calls already queued on one side meet the other's
    /// first permits, so a one-second window can briefly hold more than the rate.
    FallBack {
        /// The part of the rate this process may use alone.
        share: f64,
    },
}

/// Builds a [`RedisRateLimiter`].
#[derive(Debug, Clone)]
pub struct RedisRateLimiterBuilder {
    url: String,
    namespace: String,
    provider: String,
    account: String,
    per_second: NonZeroU32,
    burst: NonZeroU32,
    when_unavailable: WhenUnavailable,
    timeout: Duration,
    max_wait: Duration,
}

impl RedisRateLimiterBuilder {
    /// The key namespace (default `credkit`): processes share a limit when they use the
    /// same Redis, namespace, provider and account.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The provider (`jumdata`, `zz-license`, ...).
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// The account whose contract the limit belongs to: an app id or client id. It is
    /// hashed into the key, so even a key-like value is not readable in Redis.
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// The shared rate: at most `per_second` requests in any one-second window.
    pub fn per_second(mut self, per_second: NonZeroU32) -> Self {
        self.per_second = per_second;
        self
    }

    /// Lets bursts of up to `burst` through after a quiet spell (default 1: none).
    pub fn burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = burst;
        self
    }

    /// What to do when Redis is down or slow (default [`WhenUnavailable::FailClosed`]).
    pub fn when_unavailable(mut self, policy: WhenUnavailable) -> Self {
        self.when_unavailable = policy;
        self
    }

    /// How long one Redis round trip may take before Redis counts as unavailable
    /// (default 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest a caller waits for its slot (default 30 s, the default call
    /// timeout); a longer queue is refused without taking a slot.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Checks the settings and prepares the connection (made on first use; it
    /// reconnects by itself after Redis comes back).
    pub fn build(self) -> Result<RedisRateLimiter, Error> {
        let client = crate::client(&self.url)?;
        if self.provider.trim().is_empty() {
            return Err(Error::config("the shared rate limit needs a provider name"));
        }
        let fallback = match self.when_unavailable {
            WhenUnavailable::FailClosed => None,
            WhenUnavailable::FallBack { share } => {
                if !(share > 0.0 && share <= 1.0) {
                    return Err(Error::config(
                        "the fallback share of the rate must be above 0 and at most 1",
                    ));
                }
                let local = (f64::from(self.per_second.get()) * share).floor() as u32;
                Some(Arc::new(LocalRateLimiter::per_second(
                    NonZeroU32::new(local).unwrap_or(NonZeroU32::MIN),
                )))
            }
        };
        let interval = 1_000_000 / u64::from(self.per_second.get());
        Ok(RedisRateLimiter {
            key: key(&self.namespace, "ratelimit", &self.provider, &self.account),
            interval_us: interval.max(1),
            tolerance_us: interval * u64::from(self.burst.get() - 1),
            max_wait: self.max_wait,
            per_second: self.per_second,
            when_unavailable: self.when_unavailable,
            fallback,
            connection: Arc::new(crate::Connection::new(client, self.timeout)),
            script: Arc::new(redis::Script::new(GCRA)),
            unreserve: Arc::new(redis::Script::new(UNRESERVE)),
        })
    }
}

/// A [`RateLimiter`] shared through Redis by every process with the same Redis,
/// namespace, provider and account.
#[derive(Clone)]
pub struct RedisRateLimiter {
    key: String,
    interval_us: u64,
    tolerance_us: u64,
    max_wait: Duration,
    per_second: NonZeroU32,
    when_unavailable: WhenUnavailable,
    fallback: Option<Arc<LocalRateLimiter>>,
    connection: Arc<crate::Connection>,
    script: Arc<redis::Script>,
    unreserve: Arc<redis::Script>,
}

/// A slot reserved in Redis: the wait, and the key's value before and after.
struct Reserved {
    wait: Duration,
    before: String,
    after: String,
}

/// Gives the slot back (on a task of its own) when the waiting caller is dropped.
struct Waiting {
    limiter: Option<RedisRateLimiter>,
    before: String,
    after: String,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let Some(limiter) = self.limiter.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (before, after) = (
            std::mem::take(&mut self.before),
            std::mem::take(&mut self.after),
        );
        runtime.spawn(async move {
            let mut invocation = limiter.unreserve.key(&limiter.key);
            invocation.arg(before).arg(after);
            let _ = limiter
                .connection
                .run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
                .await;
        });
    }
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("key", &self.key)
            .field("per_second", &self.per_second)
            .field("when_unavailable", &self.when_unavailable)
            .finish()
    }
}

impl RedisRateLimiter {
    /// A limiter on the Redis at `url` (`redis://`, `rediss://` for TLS,
    /// `redis+unix://`), for the provider and account set on the builder.
    pub fn builder(url: impl Into<String>, per_second: NonZeroU32) -> RedisRateLimiterBuilder {
        RedisRateLimiterBuilder {
            url: url.into(),
            namespace: "credkit".to_owned(),
            provider: String::new(),
            account: String::new(),
            per_second,
            burst: NonZeroU32::MIN,
            when_unavailable: WhenUnavailable::FailClosed,
            timeout: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }

    /// The Redis key holding this limit's state (namespace, provider, hashed account).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Reserves the next slot; `None` when the wait would be longer than accepted.
    async fn reserve(&self) -> Result<Option<Reserved>, redis::RedisError> {
        let max_wait = self.max_wait.as_micros().min(u128::from(u64::MAX)) as u64;
        let mut invocation = self.script.key(&self.key);
        invocation
            .arg(self.interval_us)
            .arg(self.tolerance_us)
            .arg(max_wait);
        let (wait, before, after) = self
            .connection
            .run(|mut connection| async move {
                invocation
                    .invoke_async::<(i64, String, String)>(&mut connection)
                    .await
            })
            .await?;
        Ok(u64::try_from(wait).ok().map(|wait| Reserved {
            wait: Duration::from_micros(wait),
            before,
            after,
        }))
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(&self, site: CallSite) -> Result<(), Error> {
        match self.reserve().await {
            Ok(Some(reserved)) => {
                if !reserved.wait.is_zero() {
                    // Dropped while waiting: the slot goes back if nobody queued behind.
                    let mut waiting = Waiting {
                        limiter: Some(self.clone()),
                        before: reserved.before,
                        after: reserved.after,
                    };
                    tokio::time::sleep(reserved.wait).await;
                    waiting.limiter = None;
                }
                Ok(())
            }
            Ok(None) => Err(Error::transport(
                site,
                TransportFailure::QueueFull,
                format!(
                    "the shared rate limit ({}/s) has a queue longer than {:.0} s: nothing was sent",
                    self.per_second,
                    self.max_wait.as_secs_f64()
                ),
                false,
            )),
            Err(e) => match &self.fallback {
                // A refused password is a configuration error: never hidden by a fallback.
                Some(local) if !crate::refused_credentials(&e) => {
                    tracing::warn!(
                        error = %crate::describe(&e),
                        "Redis unavailable: using the local share of the rate limit"
                    );
                    local.acquire(site).await
                }
                _ => Err(crate::unavailable(
                    site,
                    format!(
                        "the shared rate limit is unavailable (Redis: {}); failing closed, nothing was sent",
                        crate::describe(&e)
                    ),
                    e,
                )),
            },
        }
    }
}
