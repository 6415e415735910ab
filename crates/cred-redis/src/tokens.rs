//! One OAuth token for every process of an account: a [`cred_core::TokenStore`] on Redis.
//!
//! Per account (the token manager's hashed key, hashed once more here):
//! - `<ns>:token:{<h>}`: a hash with the token (`tok`), the refresh token (`ref`), the
//!   generation (`gen`) and the lifetime in ms (`life`), expiring with the token; what
//!   is left of its lifetime is the key's `PTTL`, timed by the Redis server;
//! - `<ns>:token:{<h>}:lease`: the renewal lease, `SET NX PX`, so a holder that dies
//!   blocks nobody past the lease;
//! - `<ns>:token:{<h>}:gen`: the generation counter.
//!
//! The braces keep an account's keys in one Redis Cluster slot. Tokens are stored
//! sealed with AES-256-GCM when a [`TokenKey`] is configured (see [`crate::sealing`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cred_core::{CallSite, Error, Lease, MemoryTokenStore, NewToken, StoredToken, TokenStore};

use crate::sealing::{TokenKey, open, seal};

/// Where store errors are reported (the token manager reports them as its own).
const SITE: CallSite = CallSite::new("redis", "token_store");

/// `KEYS[1]` token. Answers `{tok, ref, gen, life, pttl}` or nil.
const GET: &str = r"
local v = redis.call('HMGET', KEYS[1], 'tok', 'ref', 'gen', 'life')
if not v[1] then
  return false
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  return false
end
return {v[1], v[2] or '', v[3], v[4], ttl}
";

/// `KEYS`: token, lease, generation counter. `ARGV`: sealed token, sealed refresh token
/// (or ''), lifetime ms, lease id. Answers the new generation. A token without lifetime
/// is numbered but not kept.
const PUBLISH: &str = r"
local gen = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], 172800000)
local life = tonumber(ARGV[3])
if life > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'tok', ARGV[1], 'ref', ARGV[2], 'gen', gen, 'life', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], life)
end
if redis.call('GET', KEYS[2]) == ARGV[4] then
  redis.call('DEL', KEYS[2])
end
return gen
";

/// `KEYS[1]` lease, `ARGV[1]` lease id: deletes the lease if it is still that one.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// `KEYS[1]` token, `ARGV[1]` generation: deletes the token if it is still that one.
const INVALIDATE: &str = r"
if redis.call('HGET', KEYS[1], 'gen') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Lease ids of the local fallback store start with this.
const LOCAL_LEASE: &str = "local:";

/// Builds a [`RedisTokenStore`].
#[derive(Debug, Clone)]
pub struct RedisTokenStoreBuilder {
    url: String,
    namespace: String,
    key: Option<TokenKey>,
    timeout: Duration,
    fall_back: bool,
    poll_interval: Duration,
}

impl RedisTokenStoreBuilder {
    /// The key namespace (default `credkit`): processes share tokens when they use the
    /// same Redis and namespace (and the same account).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Seals tokens with AES-256-GCM under `key` instead of the account's own key.
    ///
    /// Without it, tokens are sealed all the same, under a key the token manager derives
    /// (HKDF) from the account's secrets (the licence platform: username, password,
    /// client id and client secret), which every process sharing the token already
    /// holds: reading Redis (or its dumps) without those secrets gives nothing usable.
    /// Set a key of your own to rotate it apart from the account's secrets; every
    /// process sharing the namespace must then use the same key.
    pub fn token_key(mut self, key: TokenKey) -> Self {
        self.key = Some(key);
        self
    }

    /// How long one Redis round trip may take before Redis counts as unavailable
    /// (default 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When Redis cannot be reached: `false` (the default) fails the call closed (a
    /// transport error, kind `unavailable`, nothing sent); `true` keeps the token in
    /// this process meanwhile (each process then asks for its own token).
    pub fn fall_back_to_local(mut self, fall_back: bool) -> Self {
        self.fall_back = fall_back;
        self
    }

    /// How often a caller waiting for another process's renewal looks again (default
    /// 20 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Checks the settings and prepares the connection (made on first use).
    pub fn build(self) -> Result<RedisTokenStore, Error> {
        let client = crate::client(&self.url)?;
        if self.namespace.trim().is_empty() {
            return Err(Error::config("the Redis namespace must not be empty"));
        }
        Ok(RedisTokenStore {
            namespace: self.namespace,
            key: self.key,
            account_keys: Arc::default(),
            fallback: self.fall_back.then(|| Arc::new(MemoryTokenStore::new())),
            poll_interval: self.poll_interval,
            connection: Arc::new(crate::Connection::new(client, self.timeout)),
            scripts: Arc::new(Scripts {
                get: redis::Script::new(GET),
                publish: redis::Script::new(PUBLISH),
                release: redis::Script::new(RELEASE),
                invalidate: redis::Script::new(INVALIDATE),
            }),
        })
    }
}

struct Scripts {
    get: redis::Script,
    publish: redis::Script,
    release: redis::Script,
    invalidate: redis::Script,
}

/// A [`TokenStore`] shared through Redis: every process with the same Redis, namespace
/// and account uses one token, renewed by one of them at a time.
#[derive(Clone)]
pub struct RedisTokenStore {
    namespace: String,
    key: Option<TokenKey>,
    /// Each account's own sealing key, from its token manager.
    account_keys: Arc<Mutex<HashMap<String, TokenKey>>>,
    fallback: Option<Arc<MemoryTokenStore>>,
    poll_interval: Duration,
    connection: Arc<crate::Connection>,
    scripts: Arc<Scripts>,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("namespace", &self.namespace)
            .field(
                "token_key",
                &self
                    .key
                    .as_ref()
                    .map_or_else(|| "each account's own".to_owned(), TokenKey::fingerprint),
            )
            .field("fall_back_to_local", &self.fallback.is_some())
            .finish()
    }
}

/// The Redis keys of one account.
struct Keys {
    token: String,
    lease: String,
    generation: String,
}

impl RedisTokenStore {
    /// A store on the Redis at `url` (`redis://`, `rediss://` for TLS, `redis+unix://`).
    pub fn builder(url: impl Into<String>) -> RedisTokenStoreBuilder {
        RedisTokenStoreBuilder {
            url: url.into(),
            namespace: "credkit".to_owned(),
            key: None,
            timeout: Duration::from_millis(500),
            fall_back: false,
            poll_interval: Duration::from_millis(20),
        }
    }

    /// The Redis key holding `account`'s token (for operators: `PTTL`, `DEL`).
    pub fn token_key_name(&self, account: &str) -> String {
        self.keys(account).token
    }

    fn keys(&self, account: &str) -> Keys {
        let hashed = &cred_core::digest::sha256_hex(account.as_bytes())[..32];
        let token = format!("{}:token:{{{hashed}}}", self.namespace);
        Keys {
            lease: format!("{token}:lease"),
            generation: format!("{token}:gen"),
            token,
        }
    }

    /// A Redis failure as the caller sees it (the URL never quoted).
    fn unavailable(e: &redis::RedisError) -> Error {
        crate::unavailable(
            SITE,
            format!(
                "the shared token store is unavailable (Redis: {}); failing closed, nothing was sent",
                crate::describe(e)
            ),
            e.clone(),
        )
    }

    /// The key `account`'s tokens are sealed with: the configured one, else the
    /// account's own; `None` only for an account whose manager gave none.
    fn key_for(&self, account: &str) -> Option<TokenKey> {
        self.key.clone().or_else(|| {
            self.account_keys
                .lock()
                .ok()
                .and_then(|keys| keys.get(account).cloned())
        })
    }

    fn local_lease(lease: &Lease) -> Option<Lease> {
        lease.id().strip_prefix(LOCAL_LEASE).map(Lease::new)
    }

    /// The stored token; the outer error is Redis's, the inner one a token that cannot
    /// be read with this configuration.
    async fn get_remote(
        &self,
        account: &str,
    ) -> Result<Result<Option<StoredToken>, Error>, redis::RedisError> {
        let keys = self.keys(account);
        let invocation = self.scripts.get.key(&keys.token);
        let found = self
            .connection
            .run(|mut c| async move {
                invocation
                    .invoke_async::<Option<(String, String, u64, u64, i64)>>(&mut c)
                    .await
            })
            .await?;
        let Some((tok, refresh, generation, life_ms, pttl_ms)) = found else {
            return Ok(Ok(None));
        };
        let Ok(remaining) = u64::try_from(pttl_ms) else {
            return Ok(Ok(None));
        };
        let key = self.key_for(account);
        if key.is_some() && tok.starts_with("p1.") {
            // Stored unsealed by an earlier version: not used, replaced at the next
            // renewal (sealed).
            tracing::warn!(
                "the token in Redis is stored unsealed (an earlier credkit version); renewing it sealed"
            );
            return Ok(Ok(None));
        }
        let read = || -> Result<StoredToken, Error> {
            let access = open(key.as_ref(), &format!("{}/tok", keys.token), &tok)?;
            let refresh = if refresh.is_empty() {
                None
            } else {
                Some(open(
                    key.as_ref(),
                    &format!("{}/ref", keys.token),
                    &refresh,
                )?)
            };
            Ok(StoredToken::new(
                access,
                refresh,
                generation,
                Duration::from_millis(life_ms),
                Duration::from_millis(remaining),
            ))
        };
        Ok(read().map(Some))
    }

    async fn publish_remote(
        &self,
        account: &str,
        lease: &Lease,
        token: &NewToken,
    ) -> Result<u64, Error> {
        let keys = self.keys(account);
        let key = self.key_for(account);
        let tok = seal(key.as_ref(), &format!("{}/tok", keys.token), &token.access)?;
        let refresh = match &token.refresh {
            Some(r) => seal(key.as_ref(), &format!("{}/ref", keys.token), r)?,
            None => String::new(),
        };
        let life_ms = token.lifetime.as_millis().min(u128::from(u64::MAX)) as u64;
        let mut invocation = self.scripts.publish.key(&keys.token);
        invocation
            .key(&keys.lease)
            .key(&keys.generation)
            .arg(tok)
            .arg(refresh)
            .arg(life_ms)
            .arg(lease.id());
        self.connection
            .run(|mut c| async move { invocation.invoke_async::<u64>(&mut c).await })
            .await
            .map_err(|e| Self::unavailable(&e))
    }
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn get(&self, account: &str) -> Result<Option<StoredToken>, Error> {
        match self.get_remote(account).await {
            Ok(found) => found,
            Err(e) => match &self.fallback {
                // A refused password is a configuration error: never hidden by a fallback.
                Some(local) if !crate::refused_credentials(&e) => {
                    tracing::warn!(
                        error = %crate::describe(&e),
                        "Redis unavailable: keeping the access token in this process"
                    );
                    local.get(account).await
                }
                _ => Err(Self::unavailable(&e)),
            },
        }
    }

    async fn try_lease(&self, account: &str, ttl: Duration) -> Result<Option<Lease>, Error> {
        let keys = self.keys(account);
        let lease = Lease::random();
        let ttl_ms = ttl.as_millis().clamp(1, u128::from(u64::MAX)) as u64;
        let id = lease.id().to_owned();
        let taken = self
            .connection
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&keys.lease)
                    .arg(id)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await;
        match taken {
            Ok(Some(_)) => Ok(Some(lease)),
            Ok(None) => Ok(None),
            Err(e) => match &self.fallback {
                // A refused password is a configuration error: never hidden by a fallback.
                Some(local) if !crate::refused_credentials(&e) => Ok(local
                    .try_lease(account, ttl)
                    .await?
                    .map(|l| Lease::new(format!("{LOCAL_LEASE}{}", l.id())))),
                _ => Err(Self::unavailable(&e)),
            },
        }
    }

    async fn publish(
        &self,
        account: &str,
        lease: &Lease,
        token: NewToken,
    ) -> Result<StoredToken, Error> {
        if let (Some(local), Some(lease)) = (&self.fallback, Self::local_lease(lease)) {
            return local.publish(account, &lease, token).await;
        }
        let generation = self.publish_remote(account, lease, &token).await?;
        Ok(StoredToken::new(
            token.access,
            token.refresh,
            generation,
            token.lifetime,
            token.lifetime,
        ))
    }

    async fn release(&self, account: &str, lease: &Lease) -> Result<(), Error> {
        if let (Some(local), Some(lease)) = (&self.fallback, Self::local_lease(lease)) {
            return local.release(account, &lease).await;
        }
        let keys = self.keys(account);
        let mut invocation = self.scripts.release.key(&keys.lease);
        invocation.arg(lease.id());
        self.connection
            .run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
            .map_err(|e| Self::unavailable(&e))
    }

    async fn invalidate(&self, account: &str, generation: u64) -> Result<bool, Error> {
        let keys = self.keys(account);
        let mut invocation = self.scripts.invalidate.key(&keys.token);
        invocation.arg(generation);
        let dropped = self
            .connection
            .run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await;
        match dropped {
            Ok(n) => Ok(n > 0),
            Err(e) => match &self.fallback {
                // A refused password is a configuration error: never hidden by a fallback.
                Some(local) if !crate::refused_credentials(&e) => {
                    local.invalidate(account, generation).await
                }
                _ => Err(Self::unavailable(&e)),
            },
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn seal_account_with(&self, account: &str, key: cred_core::seal::SealingKey) {
        if let Ok(mut keys) = self.account_keys.lock() {
            keys.insert(account.to_owned(), TokenKey::from_sealing(key));
        }
    }
}
