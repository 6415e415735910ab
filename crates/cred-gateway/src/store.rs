//! Where the gateway keeps what its replicas share: idempotency records, the callers'
//! rates (GCRA, on the Redis clock) and their daily budgets. In the process by default; in Redis with
//! [`RedisStore`] so that every replica sees the same.
//!
//! Stores hold opaque (already sealed) bytes under keys that hold no caller's text:
//! the gateway hashes idempotency keys with a secret before they get here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cred_core::{CallSite, Error, TransportFailure};

/// How long an idempotency record is kept.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

const SITE: CallSite = CallSite::new("gateway", "shared_state");

/// Shared state. Every method fails closed: an error means "not known", and the
/// gateway refuses the call (503) rather than risk paying twice or over budget.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Claims `key` with `record` unless it exists; returns the existing record if so.
    async fn claim(&self, key: &str, record: Vec<u8>) -> Result<Option<Vec<u8>>, Error>;
    /// Replaces the record of a claimed `key`.
    async fn finish(&self, key: &str, record: Vec<u8>) -> Result<(), Error>;
    /// Forgets a claim whose request never started (refused before sending).
    async fn release(&self, key: &str) -> Result<(), Error>;
    /// Counts one more charged call of `budget` (a caller's day) unless `limit` were
    /// passed: `Some(used)` after counting, `None` when the budget is used up.
    async fn reserve(&self, budget: &str, limit: u64) -> Result<Option<u64>, Error>;
    /// Gives back one reserved call (it was not charged).
    async fn refund(&self, budget: &str) -> Result<(), Error>;
    /// Admits one call of `caller` at `per_second` (bursts of up to `per_second`):
    /// `None` when admitted, else how long until a call would be.
    async fn admit(&self, caller: &str, per_second: u32) -> Result<Option<Duration>, Error>;
    /// Whether the store can be used now (`/readyz`).
    async fn ping(&self) -> Result<(), Error>;
}

/// GCRA: with `tat` the theoretical arrival time of the next call, a call at `now` is
/// admitted unless `tat - now` exceeds the burst's tolerance; admitted, `tat` moves one
/// interval on. What is returned: the new `tat`, or how long to wait.
fn gcra(now: Duration, tat: Duration, per_second: u32) -> Result<Duration, Duration> {
    let interval = Duration::from_secs(1) / per_second.max(1);
    let tolerance = interval * per_second.max(1).saturating_sub(1);
    let tat = tat.max(now);
    let allowed_from = tat.saturating_sub(tolerance);
    if now < allowed_from {
        return Err(allowed_from - now);
    }
    Ok(tat + interval)
}

/// The store of one gateway process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
    budgets: Mutex<HashMap<String, u64>>,
    /// Per caller: the theoretical arrival time of its next call (since `epoch`).
    rates: Mutex<HashMap<String, Duration>>,
    epoch: std::sync::OnceLock<Instant>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn claim(&self, key: &str, record: Vec<u8>) -> Result<Option<Vec<u8>>, Error> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        records.retain(|_, (at, _)| now.duration_since(*at) < IDEMPOTENCY_TTL);
        if let Some((_, existing)) = records.get(key) {
            return Ok(Some(existing.clone()));
        }
        records.insert(key.to_owned(), (now, record));
        Ok(None)
    }

    async fn finish(&self, key: &str, record: Vec<u8>) -> Result<(), Error> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.insert(key.to_owned(), (Instant::now(), record));
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), Error> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.remove(key);
        Ok(())
    }

    async fn reserve(&self, budget: &str, limit: u64) -> Result<Option<u64>, Error> {
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        // Only today's counts matter; yesterday's go.
        let day = budget.rsplit(':').next().unwrap_or_default().to_owned();
        budgets.retain(|k, _| k.ends_with(&day));
        let used = budgets.entry(budget.to_owned()).or_default();
        if *used >= limit {
            return Ok(None);
        }
        *used += 1;
        Ok(Some(*used))
    }

    async fn refund(&self, budget: &str) -> Result<(), Error> {
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(used) = budgets.get_mut(budget) {
            *used = used.saturating_sub(1);
        }
        Ok(())
    }

    async fn admit(&self, caller: &str, per_second: u32) -> Result<Option<Duration>, Error> {
        let epoch = *self.epoch.get_or_init(Instant::now);
        let now = epoch.elapsed();
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        let tat = rates.get(caller).copied().unwrap_or(now);
        Ok(match gcra(now, tat, per_second) {
            Ok(next) => {
                rates.insert(caller.to_owned(), next);
                None
            }
            Err(wait) => Some(wait),
        })
    }

    async fn ping(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// The store every replica shares, in Redis: records under
/// `<namespace>:gw:idem:<digest>`, budgets under `<namespace>:gw:budget:<caller>:<day>`.
pub struct RedisStore {
    connection: redis::aio::ConnectionManager,
    namespace: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("RedisStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    let mut text = e.to_string();
    for scheme in ["redis://", "rediss://", "redis+unix://"] {
        if let Some(start) = text.find(scheme) {
            text.truncate(start);
            text.push_str("<redis url>");
        }
    }
    Error::transport(
        SITE,
        TransportFailure::SharedState,
        format!("Redis could not be used to {what} ({text}); nothing was sent"),
        false,
    )
}

const RESERVE: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 172800)
return used
";

/// GCRA on the Redis clock (every replica shares it): ARGV[1] the interval and ARGV[2]
/// the tolerance, in microseconds. Returns 0 when admitted, else microseconds to wait.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowed_from = tat - tonumber(ARGV[2])
if now < allowed_from then return allowed_from - now end
local next = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], next, 'PX', math.floor((next - now) / 1000) + 1000)
return 0
";

const REFUND: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

impl RedisStore {
    /// Connects to `url` (`redis://`, `rediss://`, `redis+unix://`); keys go under
    /// `namespace`.
    pub async fn connect(url: &str, namespace: &str) -> Result<RedisStore, Error> {
        let client = redis::Client::open(url.trim()).map_err(|e| {
            Error::config(format!(
                "the Redis URL is not usable ({}); expected redis://[:password@]host[:port][/db]",
                e.category()
            ))
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            Duration::from_secs(5),
            redis::aio::ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| unavailable("connect", "timed out"))?
        .map_err(|e| unavailable("connect", e))?;
        Ok(RedisStore {
            connection,
            namespace: namespace.to_owned(),
            timeout: Duration::from_secs(2),
        })
    }

    fn record_key(&self, key: &str) -> String {
        format!("{}:gw:idem:{key}", self.namespace)
    }

    fn budget_key(&self, budget: &str) -> String {
        format!("{}:gw:budget:{budget}", self.namespace)
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        cmd: &mut redis::Cmd,
    ) -> Result<T, Error> {
        let mut c = self.connection.clone();
        tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut c))
            .await
            .map_err(|_| unavailable(what, "timed out"))?
            .map_err(|e| unavailable(what, e))
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn claim(&self, key: &str, record: Vec<u8>) -> Result<Option<Vec<u8>>, Error> {
        let k = self.record_key(key);
        let ttl = IDEMPOTENCY_TTL.as_secs();
        let set: Option<String> = self
            .run(
                "claim an idempotency key",
                redis::cmd("SET")
                    .arg(&k)
                    .arg(record)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl),
            )
            .await?;
        if set.is_some() {
            return Ok(None);
        }
        let existing: Option<Vec<u8>> = self
            .run("read an idempotency key", redis::cmd("GET").arg(&k))
            .await?;
        // Gone between the two commands (expired): an empty record says "in flight".
        Ok(Some(existing.unwrap_or_default()))
    }

    async fn finish(&self, key: &str, record: Vec<u8>) -> Result<(), Error> {
        let ttl = IDEMPOTENCY_TTL.as_secs();
        let _: Option<String> = self
            .run(
                "store an idempotent answer",
                redis::cmd("SET")
                    .arg(self.record_key(key))
                    .arg(record)
                    .arg("EX")
                    .arg(ttl),
            )
            .await?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), Error> {
        let _: i64 = self
            .run(
                "release an idempotency key",
                redis::cmd("DEL").arg(self.record_key(key)),
            )
            .await?;
        Ok(())
    }

    async fn reserve(&self, budget: &str, limit: u64) -> Result<Option<u64>, Error> {
        let used: i64 = self
            .run(
                "count a charged call",
                redis::cmd("EVAL")
                    .arg(RESERVE)
                    .arg(1)
                    .arg(self.budget_key(budget))
                    .arg(limit),
            )
            .await?;
        Ok(u64::try_from(used).ok())
    }

    async fn refund(&self, budget: &str) -> Result<(), Error> {
        let _: i64 = self
            .run(
                "give back a budgeted call",
                redis::cmd("EVAL")
                    .arg(REFUND)
                    .arg(1)
                    .arg(self.budget_key(budget)),
            )
            .await?;
        Ok(())
    }

    async fn admit(&self, caller: &str, per_second: u32) -> Result<Option<Duration>, Error> {
        let interval = 1_000_000 / u64::from(per_second.max(1));
        let tolerance = interval * u64::from(per_second.max(1).saturating_sub(1));
        let wait: i64 = self
            .run(
                "check a caller's rate",
                redis::cmd("EVAL")
                    .arg(ADMIT)
                    .arg(1)
                    .arg(format!("{}:gw:rate:{caller}", self.namespace))
                    .arg(interval)
                    .arg(tolerance),
            )
            .await?;
        Ok((wait > 0).then(|| Duration::from_micros(wait.unsigned_abs())))
    }

    async fn ping(&self) -> Result<(), Error> {
        let _: String = self.run("answer a ping", &mut redis::cmd("PING")).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_admits_a_burst_then_one_per_interval() {
        let ms = Duration::from_millis;
        // 4 a second: bursts of 4, then one every 250 ms.
        let mut tat = ms(0);
        for _ in 0..4 {
            tat = gcra(ms(0), tat, 4).unwrap_or_else(|w| unreachable!("{w:?}"));
        }
        assert_eq!(gcra(ms(0), tat, 4), Err(ms(250)));
        assert_eq!(gcra(ms(100), tat, 4), Err(ms(150)));
        assert!(gcra(ms(250), tat, 4).is_ok());
        // Idle for long: a full burst again, no more.
        let rested = gcra(ms(10_000), tat, 4);
        assert_eq!(rested, Ok(ms(10_250)));
    }
}
