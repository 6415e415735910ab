//! Small secrets at rest: AES-256-GCM from `aws-lc-rs`, a random nonce per seal, bound to
//! a context (where the value is stored), so that a sealed value moved elsewhere does
//! not open. Used for tokens in Redis and for answers in batch journals.
//!
//! ```
//! use cred_core::seal::SealingKey;
//!
//! let key = SealingKey::generate().unwrap();
//! let sealed = key.seal(b"row 7", b"personal data").unwrap();
//! assert_eq!(key.open(b"row 7", &sealed).unwrap(), b"personal data");
//! assert!(key.open(b"row 8", &sealed).is_none()); // another place: refused
//! ```

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

/// Bytes a sealed value is longer than its plaintext (nonce and tag).
pub const OVERHEAD: usize = NONCE_LEN + 16;

/// Fills `out` from the system's secure random generator.
pub fn random_bytes(out: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| Error::config("the system random generator failed"))
}

/// A 256-bit AES-GCM key. `Debug` shows only a fingerprint.
#[derive(Clone)]
pub struct SealingKey {
    bytes: [u8; 32],
    key: std::sync::Arc<LessSafeKey>,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl SealingKey {
    /// The key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, Error> {
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map(LessSafeKey::new)
            .map_err(|_| Error::config("not a usable AES-256 key"))?;
        Ok(Self {
            bytes,
            key: std::sync::Arc::new(key),
        })
    }

    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        random_bytes(&mut bytes)?;
        Self::from_bytes(bytes)
    }

    /// The key's bytes (to store it, e.g. base64 in a file only its owner may read).
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The first 8 hex digits of SHA-256 over the key: tells keys apart in messages.
    pub fn fingerprint(&self) -> String {
        crate::digest::sha256_hex(&self.bytes)[..8].to_owned()
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plain`, bound to `context`.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let mut out = Vec::with_capacity(plain.len() + OVERHEAD);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| Error::config("sealing failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// The plaintext of a value sealed with this key and `context`; `None` when it was
    /// sealed with another key or context, or altered.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < OVERHEAD {
            return None;
        }
        let nonce: [u8; NONCE_LEN] = sealed[..NONCE_LEN].try_into().ok()?;
        let mut data = sealed[NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut data,
            )
            .ok()?;
        let len = plain.len();
        data.truncate(len);
        Some(data)
    }
}

/// A 256-bit HMAC-SHA256 key: stable, unreadable identifiers for values that must not
/// be stored (ID numbers in a journal). `Debug` shows nothing of it.
#[derive(Clone)]
pub struct HmacKey {
    bytes: [u8; 32],
    key: hmac::Key,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey([redacted])")
    }
}

impl HmacKey {
    /// The key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            bytes,
        }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        random_bytes(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key's bytes (to store it).
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// HMAC-SHA256 of the concatenation of `parts`, each preceded by its length (so
    /// `["ab", "c"]` and `["a", "bc"]` differ).
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = SealingKey::generate().unwrap();
        let sealed = key.seal(b"ctx", b"secret value").unwrap();
        assert_eq!(sealed.len(), b"secret value".len() + OVERHEAD);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(b"ctx", &sealed).unwrap(), b"secret value");
        assert_ne!(
            sealed,
            key.seal(b"ctx", b"secret value").unwrap(),
            "random nonce"
        );
        assert!(key.open(b"other", &sealed).is_none());
        assert!(
            SealingKey::generate()
                .unwrap()
                .open(b"ctx", &sealed)
                .is_none()
        );
        let mut altered = sealed.clone();
        altered[NONCE_LEN] ^= 1;
        assert!(key.open(b"ctx", &altered).is_none());
        assert!(key.open(b"ctx", &sealed[..10]).is_none());
        let again = SealingKey::from_bytes(*key.expose_bytes()).unwrap();
        assert_eq!(again.open(b"ctx", &sealed).unwrap(), b"secret value");
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.expose_bytes())));
    }

    #[test]
    fn hmac_tags_are_keyed_and_unambiguous() {
        let a = HmacKey::generate().unwrap();
        let b = HmacKey::generate().unwrap();
        assert_eq!(a.tag(&[b"x", b"y"]), a.tag(&[b"x", b"y"]));
        assert_ne!(a.tag(&[b"x", b"y"]), b.tag(&[b"x", b"y"]));
        assert_ne!(a.tag(&[b"ab", b"c"]), a.tag(&[b"a", b"bc"]));
        assert_eq!(format!("{a:?}"), "HmacKey([redacted])");
    }
}
