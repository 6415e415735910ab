//! Idempotency keys, with the semantics Stripe documents: a request with an
//! `Idempotency-Key` executes once; a repeat with the same key and body gets the stored
//! answer (`Idempotent-Replayed: true`) without a provider call; the same key with
//! another body is refused (422); a repeat while the first is in flight is refused (409).
//! Only requests that started executing are kept: one refused before sending (invalid
//! input, over budget) leaves no record.
//!
//! Records are sealed (AES-256-GCM) and stored under an HMAC of the caller and the key,
//! so neither a stored answer nor a key a caller chose (which could embed an ID number)
//! is readable in Redis; the body is compared by an HMAC of it, never kept.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cred_core::Error;
use cred_core::seal::{HmacKey, SealingKey};

use crate::respond::Reply;
use crate::store::Store;

/// The longest idempotency key accepted (Stripe's limit).
pub const MAX_KEY_CHARS: usize = 255;

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    /// HMAC of the operation and body.
    fp: String,
    /// When the first request started (Unix seconds).
    since: u64,
    /// The answer, once there is one.
    reply: Option<Reply>,
}

/// What a claimed key says.
pub(crate) enum Claim {
    /// New: execute, then [`Idempotency::finish`] (or [`Idempotency::release`]).
    Fresh(String),
    /// Done before: send this.
    Replay(Reply),
    /// The first request with this key has not finished (for this many seconds).
    InFlight(u64),
    /// The key was used with another body.
    Mismatch,
}

pub(crate) struct Idempotency {
    store: Arc<dyn Store>,
    seal: SealingKey,
    mac: HmacKey,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    cred_core::digest::hex_lower(bytes)
}

impl Idempotency {
    pub fn new(store: Arc<dyn Store>, key: &SealingKey) -> Result<Self, Error> {
        // Two keys from one: sealing, and the HMAC of keys and bodies.
        let seal = SealingKey::derive(
            "credkit gateway idempotency",
            &[key.expose_bytes()],
            b"seal",
        )?;
        let mac_bytes =
            SealingKey::derive("credkit gateway idempotency", &[key.expose_bytes()], b"mac")?;
        Ok(Self {
            store,
            seal,
            mac: HmacKey::from_bytes(*mac_bytes.expose_bytes()),
        })
    }

    /// Checks a key as sent in the header.
    pub fn check_key(key: &str) -> Result<(), &'static str> {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err("must be 1 to 255 characters");
        }
        Ok(())
    }

    /// The store key of `caller`'s `key` (hashed: it may hold anything).
    pub fn storage_key(&self, caller: &str, key: &str) -> String {
        hex(&self.mac.tag(&[b"key", caller.as_bytes(), key.as_bytes()]))
    }

    fn fingerprint(&self, operation: &str, body: &[u8]) -> String {
        hex(&self.mac.tag(&[b"body", operation.as_bytes(), body]))
    }

    fn seal(&self, storage_key: &str, record: &Record) -> Result<Vec<u8>, Error> {
        let plain = serde_json::to_vec(record)
            .map_err(|e| Error::config(format!("cannot encode an idempotency record: {e}")))?;
        self.seal.seal(storage_key.as_bytes(), &plain)
    }

    /// Claims `key` for `operation` with `body`.
    pub async fn claim(
        &self,
        caller: &str,
        key: &str,
        operation: &str,
        body: &[u8],
    ) -> Result<Claim, Error> {
        let storage_key = self.storage_key(caller, key);
        let fp = self.fingerprint(operation, body);
        let record = Record {
            fp: fp.clone(),
            since: now(),
            reply: None,
        };
        let sealed = self.seal(&storage_key, &record)?;
        let Some(existing) = self.store.claim(&storage_key, sealed).await? else {
            return Ok(Claim::Fresh(storage_key));
        };
        let Some(plain) = self.seal.open(storage_key.as_bytes(), &existing) else {
            // Expired between two commands, or sealed under another key: what happened
            // to the first request cannot be told, so it is not sent again.
            return Ok(Claim::InFlight(0));
        };
        let stored: Record = serde_json::from_slice(&plain)
            .map_err(|_| Error::config("an idempotency record cannot be read"))?;
        if stored.fp != fp {
            return Ok(Claim::Mismatch);
        }
        Ok(match stored.reply {
            Some(reply) => Claim::Replay(reply),
            None => Claim::InFlight(now().saturating_sub(stored.since)),
        })
    }

    /// Stores the answer of a claimed key.
    pub async fn finish(
        &self,
        storage_key: &str,
        operation: &str,
        body: &[u8],
        reply: &Reply,
    ) -> Result<(), Error> {
        let record = Record {
            fp: self.fingerprint(operation, body),
            since: now(),
            reply: Some(reply.clone()),
        };
        let sealed = self.seal(storage_key, &record)?;
        self.store.finish(storage_key, sealed).await
    }

    /// Forgets a claim whose request was refused before it was sent.
    pub async fn release(&self, storage_key: &str) -> Result<(), Error> {
        self.store.release(storage_key).await
    }
}
