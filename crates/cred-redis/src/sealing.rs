//! Tokens at rest in Redis: AES-256-GCM (`aws-lc-rs`) under a key from configuration,
//! bound to the Redis key and field they are stored under.
//!
//! Stored forms: `p1.<token>` (no key configured) and
//! `s1.<base64(nonce ‖ ciphertext ‖ tag)>` (sealed). A process must use the same key
//! as the others sharing the namespace; a mismatch is a configuration error, never a
//! silent second token.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cred_core::seal::SealingKey;
use cred_core::{Error, Secret};

/// The environment variable the `cred` CLI reads the token key from.
pub const ENV_TOKEN_KEY: &str = "CRED_REDIS_TOKEN_KEY";

/// A 256-bit key that seals tokens stored in Redis. `Debug` shows only a fingerprint.
#[derive(Clone)]
pub struct TokenKey {
    key: SealingKey,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl TokenKey {
    /// The key from 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> Result<Self, Error> {
        Ok(Self {
            key: SealingKey::from_bytes(key)?,
        })
    }

    /// The key from its text form: 32 bytes as 64 hex digits or as standard base64
    /// (`openssl rand -base64 32`). The error never quotes the text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .ok()
        } else {
            STANDARD.decode(text).ok()
        };
        let key: [u8; 32] = bytes
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::config(
                    "the token key must be 32 bytes, as 64 hex digits or base64 (for example `openssl rand -base64 32`)",
                )
            })?;
        Self::from_bytes(key)
    }

    /// A new random key (for tests and first-time setup).
    pub fn generate() -> Result<Self, Error> {
        Ok(Self {
            key: SealingKey::generate()?,
        })
    }

    /// The key as standard base64, the form [`TokenKey::parse`] reads.
    pub fn to_base64(&self) -> Secret {
        Secret::from(STANDARD.encode(self.key.expose_bytes()))
    }

    /// The first 8 hex digits of SHA-256 over the key: tells keys apart in logs.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }

    /// A token key from a sealing key (an account's derived key).
    pub(crate) fn from_sealing(key: SealingKey) -> Self {
        Self { key }
    }
}

/// Turns `secret` into its stored form; `context` (Redis key and field) is bound as
/// associated data, so a sealed value moved elsewhere does not open.
pub(crate) fn seal(
    key: Option<&TokenKey>,
    context: &str,
    secret: &Secret,
) -> Result<String, Error> {
    let Some(key) = key else {
        return Ok(format!("p1.{}", secret.expose()));
    };
    let sealed = key
        .key
        .seal(context.as_bytes(), secret.expose().as_bytes())?;
    Ok(format!("s1.{}", STANDARD.encode(sealed)))
}

/// Reads a stored form back. A sealed value without a key, a plain one with a key, or
/// one that does not open under the key is a configuration error (processes sharing a
/// namespace must share the key). Errors never quote the value.
pub(crate) fn open(key: Option<&TokenKey>, context: &str, stored: &str) -> Result<Secret, Error> {
    match (stored.split_once('.'), key) {
        (Some(("p1", plain)), None) => Ok(Secret::from(plain.to_owned())),
        (Some(("p1", _)), Some(_)) => Err(Error::config(
            "the token in Redis is stored unsealed but this process has a token key: every process sharing the namespace must use the same token key (or none)",
        )),
        (Some(("s1", _)), None) => Err(Error::config(format!(
            "the token in Redis is sealed and this process has no token key: set the same key as the other processes ({ENV_TOKEN_KEY})"
        ))),
        (Some(("s1", sealed)), Some(key)) => STANDARD
            .decode(sealed)
            .ok()
            .and_then(|data| key.key.open(context.as_bytes(), &data))
            .and_then(|plain| String::from_utf8(plain).ok())
            .map(Secret::from)
            .ok_or_else(|| {
                Error::config(format!(
                    "the token in Redis does not open with this token key (fingerprint {}): every process sharing the namespace must use the same key",
                    key.fingerprint()
                ))
            }),
        _ => Err(Error::config(
            "the token in Redis is in an unknown form (written by another program or version?)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::from(s.to_owned())
    }

    #[test]
    fn sealed_tokens_open_with_the_key_and_context_only() {
        let key = TokenKey::generate().unwrap();
        let stored = seal(Some(&key), "ns:token:{a}/tok", &secret("tok-123")).unwrap();
        assert!(stored.starts_with("s1."));
        assert!(!stored.contains("tok-123"));
        // Two seals of one token differ (random nonce).
        assert_ne!(
            stored,
            seal(Some(&key), "ns:token:{a}/tok", &secret("tok-123")).unwrap()
        );
        let opened = open(Some(&key), "ns:token:{a}/tok", &stored).unwrap();
        assert_eq!(opened.expose(), "tok-123");
        // Moved to another key or field, or opened under another key: refused.
        assert!(open(Some(&key), "ns:token:{b}/tok", &stored).is_err());
        let other = TokenKey::generate().unwrap();
        let err = open(Some(&other), "ns:token:{a}/tok", &stored).unwrap_err();
        assert!(err.to_string().contains(&other.fingerprint()), "{err}");
        assert!(open(None, "ns:token:{a}/tok", &stored).is_err());
        // Tampered: refused.
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(open(Some(&key), "ns:token:{a}/tok", &tampered).is_err());
    }

    #[test]
    fn plain_forms_and_mismatches() {
        let stored = seal(None, "c", &secret("tok")).unwrap();
        assert_eq!(stored, "p1.tok");
        assert_eq!(open(None, "c", &stored).unwrap().expose(), "tok");
        let key = TokenKey::generate().unwrap();
        assert!(open(Some(&key), "c", &stored).is_err());
        assert!(open(None, "c", "garbage").is_err());
        assert!(open(Some(&key), "c", "s1.!!!").is_err());
        assert!(open(Some(&key), "c", "s1.AAAA").is_err());
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_never_show() {
        let key = TokenKey::generate().unwrap();
        let b64 = key.to_base64();
        let parsed = TokenKey::parse(b64.expose()).unwrap();
        assert_eq!(parsed.fingerprint(), key.fingerprint());
        let hex = cred_core::digest::hex_lower(key.key.expose_bytes());
        assert_eq!(
            TokenKey::parse(&hex).unwrap().fingerprint(),
            key.fingerprint()
        );
        for bad in ["", "short", "AAAA", &hex[..62]] {
            let err = TokenKey::parse(bad).unwrap_err().to_string();
            assert!(err.contains("32 bytes"), "{err}");
        }
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(b64.expose()) && !shown.contains(&hex),
            "{shown}"
        );
    }
}
