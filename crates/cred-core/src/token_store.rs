//! Where an OAuth access token lives between calls, and who may renew it.
//!
//! A provider's token manager (the licence platform's, today) asks a [`TokenStore`] for
//! the current token of an account, and when there is none or it is about to expire,
//! takes a renewal *lease* so that one caller, of however many processes share the
//! store, asks the provider for a token while the others wait for it to be
//! [published](TokenStore::publish). A refused token is
//! [invalidated](TokenStore::invalidate) by generation, so that many callers reporting
//! the same refused token drop it once, and never drop the fresh one that replaced it.
//!
//! [`MemoryTokenStore`] keeps tokens in this process (the default). A shared store
//! (`cred_redis::RedisTokenStore`) makes every process with the same configuration
//! share one token.
//!
//! Invariants every implementation keeps:
//! - `account` is an opaque, already hashed key chosen by the token manager; stores never
//!   see a credential in the clear.
//! - A token is never returned after its lifetime has run out.
//! - A lease lasts at most its `ttl`: a holder that dies blocks nobody for longer.
//! - `invalidate` drops the stored token only if it is still the one numbered
//!   `generation`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::Error;
use crate::secret::Secret;

/// A token as a store hands it out (built with [`StoredToken::new`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredToken {
    /// The access token.
    pub access: Secret,
    /// The refresh token that came with it, if any.
    pub refresh: Option<Secret>,
    /// Numbers tokens of one account so a refused one is dropped once (see
    /// [`TokenStore::invalidate`]). Never 0.
    pub generation: u64,
    /// The lifetime the provider gave the token when it was obtained.
    pub lifetime: Duration,
    /// What is left of it now.
    pub remaining: Duration,
}

impl StoredToken {
    /// A token numbered `generation` (never 0), obtained with `lifetime`, of which
    /// `remaining` is left.
    pub fn new(
        access: Secret,
        refresh: Option<Secret>,
        generation: u64,
        lifetime: Duration,
        remaining: Duration,
    ) -> Self {
        Self {
            access,
            refresh,
            generation,
            lifetime,
            remaining,
        }
    }
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("generation", &self.generation)
            .field("lifetime", &self.lifetime)
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// A token just obtained from the provider, to be published (built with
/// [`NewToken::new`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct NewToken {
    /// The access token.
    pub access: Secret,
    /// The refresh token that came with it, if any.
    pub refresh: Option<Secret>,
    /// Its lifetime (zero: it expires at once; it is handed to the callers that waited
    /// for it and not kept).
    pub lifetime: Duration,
}

impl NewToken {
    /// A token valid for `lifetime`, with the refresh token that came with it.
    pub fn new(access: Secret, refresh: Option<Secret>, lifetime: Duration) -> Self {
        Self {
            access,
            refresh,
            lifetime,
        }
    }
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// The right to renew an account's token, until it is released or its ttl runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    id: String,
}

impl Lease {
    /// A lease with this id (stores make ids unique among the holders of one account).
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }

    /// A random lease id (128 bits).
    pub fn random() -> Self {
        Self::new(format!(
            "{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        ))
    }

    /// The lease's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Keeps the current token of each account and the lease on its renewal.
///
/// Errors are [`Error::Transport`] with `sent: false` (kind `unavailable`) when the
/// store cannot be reached, or [`Error::Config`] when it is misconfigured; the token
/// manager passes them on and sends nothing.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The current token of `account`, if there is one with lifetime left.
    async fn get(&self, account: &str) -> Result<Option<StoredToken>, Error>;

    /// Takes the renewal lease of `account` for at most `ttl`, unless someone holds it:
    /// `None` then (wait, and look for the token they publish).
    async fn try_lease(&self, account: &str, ttl: Duration) -> Result<Option<Lease>, Error>;

    /// Stores `token` as the current token of `account`, numbered anew, and releases
    /// `lease` if it is still held. Returns the token as stored.
    async fn publish(
        &self,
        account: &str,
        lease: &Lease,
        token: NewToken,
    ) -> Result<StoredToken, Error>;

    /// Releases `lease` without publishing (the renewal failed), if it is still held.
    async fn release(&self, account: &str, lease: &Lease) -> Result<(), Error>;

    /// Drops the current token of `account` if it is still the one numbered
    /// `generation`; `true` when it did.
    async fn invalidate(&self, account: &str, generation: u64) -> Result<bool, Error>;

    /// How often a caller waiting for someone else's renewal looks again (default
    /// 20 ms).
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(20)
    }

    /// The key to seal `account`'s tokens with at rest (feature `seal`), given by the
    /// token manager when
    /// it starts: derived from the account's own secrets, so every process sharing the
    /// token has it without one being distributed. A store that keeps tokens outside
    /// the process (Redis) seals with it unless it was configured with a key of its
    /// own; one that keeps them in memory may ignore it (the default).
    #[cfg(feature = "seal")]
    fn seal_account_with(&self, account: &str, key: crate::seal::SealingKey) {
        let _ = (account, key);
    }
}

struct Entry {
    token: Option<(StoredToken, Instant)>,
    lease: Option<(Lease, Instant)>,
    generation: u64,
}

/// Tokens kept in this process: what a client uses unless given a shared store.
/// Clients built with the same `Arc<MemoryTokenStore>` share tokens.
#[derive(Default)]
pub struct MemoryTokenStore {
    accounts: Mutex<HashMap<String, Entry>>,
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accounts = self.accounts.lock().map(|a| a.len()).unwrap_or(0);
        f.debug_struct("MemoryTokenStore")
            .field("accounts", &accounts)
            .finish()
    }
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, account: &str, f: impl FnOnce(&mut Entry, Instant) -> T) -> T {
        // A panic elsewhere cannot leave an entry half-written: recover the map.
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = accounts.entry(account.to_owned()).or_insert(Entry {
            token: None,
            lease: None,
            generation: 0,
        });
        f(entry, Instant::now())
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn get(&self, account: &str) -> Result<Option<StoredToken>, Error> {
        Ok(self.with(account, |e, now| {
            let (token, expires) = e.token.as_ref()?;
            let remaining = expires
                .checked_duration_since(now)
                .filter(|r| !r.is_zero())?;
            Some(StoredToken {
                remaining,
                ..token.clone()
            })
        }))
    }

    async fn try_lease(&self, account: &str, ttl: Duration) -> Result<Option<Lease>, Error> {
        Ok(self.with(account, |e, now| {
            if e.lease.as_ref().is_some_and(|(_, until)| now < *until) {
                return None;
            }
            let lease = Lease::random();
            e.lease = Some((lease.clone(), now.checked_add(ttl).unwrap_or(now)));
            Some(lease)
        }))
    }

    async fn publish(
        &self,
        account: &str,
        lease: &Lease,
        token: NewToken,
    ) -> Result<StoredToken, Error> {
        Ok(self.with(account, |e, now| {
            e.generation += 1;
            let stored = StoredToken {
                access: token.access,
                refresh: token.refresh,
                generation: e.generation,
                lifetime: token.lifetime,
                remaining: token.lifetime,
            };
            let expires = now.checked_add(token.lifetime).unwrap_or(now);
            e.token = Some((stored.clone(), expires));
            if e.lease.as_ref().is_some_and(|(l, _)| l == lease) {
                e.lease = None;
            }
            stored
        }))
    }

    async fn release(&self, account: &str, lease: &Lease) -> Result<(), Error> {
        self.with(account, |e, _| {
            if e.lease.as_ref().is_some_and(|(l, _)| l == lease) {
                e.lease = None;
            }
        });
        Ok(())
    }

    async fn invalidate(&self, account: &str, generation: u64) -> Result<bool, Error> {
        Ok(self.with(account, |e, _| {
            if e.token
                .as_ref()
                .is_some_and(|(t, _)| t.generation == generation)
            {
                e.token = None;
                true
            } else {
                false
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_token(value: &str, lifetime: Duration) -> NewToken {
        NewToken {
            access: Secret::from(value.to_owned()),
            refresh: None,
            lifetime,
        }
    }

    #[tokio::test]
    async fn one_lease_at_a_time_until_released_or_expired() {
        let store = MemoryTokenStore::new();
        let first = store.try_lease("a", Duration::from_secs(60)).await.unwrap();
        assert!(first.is_some());
        assert!(
            store
                .try_lease("a", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );
        // Another account has its own lease.
        assert!(
            store
                .try_lease("b", Duration::from_secs(60))
                .await
                .unwrap()
                .is_some()
        );
        store.release("a", &first.unwrap()).await.unwrap();
        let short = store
            .try_lease("a", Duration::from_millis(30))
            .await
            .unwrap();
        assert!(short.is_some());
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The holder never released it: the lease ran out by itself.
        assert!(
            store
                .try_lease("a", Duration::from_secs(1))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_published_token_is_numbered_and_invalidated_once() {
        let store = MemoryTokenStore::new();
        assert!(store.get("a").await.unwrap().is_none());
        let lease = store
            .try_lease("a", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        let first = store
            .publish("a", &lease, new_token("t1", Duration::from_secs(60)))
            .await
            .unwrap();
        // Publishing released the lease.
        let lease = store
            .try_lease("a", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        let got = store.get("a").await.unwrap().unwrap();
        assert_eq!(got.access.expose(), "t1");
        assert_eq!(got.generation, first.generation);
        assert!(got.remaining <= Duration::from_secs(60));
        let second = store
            .publish("a", &lease, new_token("t2", Duration::from_secs(60)))
            .await
            .unwrap();
        assert_ne!(first.generation, second.generation);
        // A late report about the first token does not drop the second.
        assert!(!store.invalidate("a", first.generation).await.unwrap());
        assert!(store.get("a").await.unwrap().is_some());
        assert!(store.invalidate("a", second.generation).await.unwrap());
        assert!(!store.invalidate("a", second.generation).await.unwrap());
        assert!(store.get("a").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_expired_or_zero_lifetime_token_is_never_returned() {
        let store = MemoryTokenStore::new();
        let lease = Lease::random();
        store
            .publish("a", &lease, new_token("now", Duration::ZERO))
            .await
            .unwrap();
        assert!(store.get("a").await.unwrap().is_none());
        store
            .publish("a", &lease, new_token("short", Duration::from_millis(20)))
            .await
            .unwrap();
        assert!(store.get("a").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(store.get("a").await.unwrap().is_none());
    }

    #[test]
    fn debug_shows_no_token() {
        let t = StoredToken {
            access: Secret::from("tok-secret".to_owned()),
            refresh: Some(Secret::from("ref-secret".to_owned())),
            generation: 3,
            lifetime: Duration::from_secs(1),
            remaining: Duration::from_secs(1),
        };
        let shown = format!("{t:?} {:?}", new_token("tok-secret", Duration::ZERO));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
