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

    /// A key derived (HKDF-SHA256) from secrets that every process needing it already
    /// holds, for example an account's password and client secret: no key to distribute.
    /// `label` names the purpose (the HKDF salt), `context` what the key is for (the
    /// HKDF info). The key is as strong as the secrets together: weak secrets make a
    /// weak key.
    pub fn derive(label: &str, secrets: &[&[u8]], context: &[u8]) -> Result<Self, Error> {
        use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
        struct Len32;
        impl KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        // Each secret with its length first, so that no two lists give one input.
        let mut ikm = Vec::new();
        for secret in secrets {
            ikm.extend_from_slice(&(secret.len() as u64).to_be_bytes());
            ikm.extend_from_slice(secret);
        }
        let prk = Salt::new(HKDF_SHA256, label.as_bytes()).extract(&ikm);
        ikm.fill(0);
        let info = [context];
        let mut bytes = [0u8; 32];
        prk.expand(&info, Len32)
            .and_then(|okm| okm.fill(&mut bytes))
            .map_err(|_| Error::config("key derivation failed"))?;
        Self::from_bytes(bytes)
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
    fn derived_keys_depend_on_every_secret_and_the_context() {
        let k = |secrets: &[&[u8]], context: &[u8]| {
            SealingKey::derive("credkit test", secrets, context)
                .unwrap()
                .fingerprint()
        };
        let base = k(&[b"user", b"password"], b"account-1");
        assert_eq!(
            base,
            k(&[b"user", b"password"], b"account-1"),
            "deterministic"
        );
        assert_ne!(base, k(&[b"user", b"passwore"], b"account-1"));
        assert_ne!(base, k(&[b"user", b"password"], b"account-2"));
        // Boundaries count: ("userp", "assword") is another input.
        assert_ne!(base, k(&[b"userp", b"assword"], b"account-1"));
        let a = SealingKey::derive("credkit test", &[b"user", b"password"], b"account-1").unwrap();
        let b = SealingKey::derive("credkit test", &[b"user", b"password"], b"account-1").unwrap();
        let sealed = a.seal(b"ctx", b"token").unwrap();
        assert_eq!(b.open(b"ctx", &sealed).unwrap(), b"token");
        // RFC 5869 test case 1 through the same HKDF (salt, ikm and info as given there).
        use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let prk = Salt::new(HKDF_SHA256, &salt).extract(&ikm);
        let mut okm = [0u8; 42];
        struct L42;
        impl aws_lc_rs::hkdf::KeyType for L42 {
            fn len(&self) -> usize {
                42
            }
        }
        prk.expand(&[&info], L42).unwrap().fill(&mut okm).unwrap();
        assert_eq!(
            crate::digest::hex_lower(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

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
