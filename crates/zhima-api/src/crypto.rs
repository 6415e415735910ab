//! Optional content encryption (内容加密): AES-128-CBC, PKCS#7 padding, all-zero IV,
//! base64, as Alipay specifies it. The key is the console's `encrypt_key` (base64 of 16
//! bytes).

use std::fmt;

use aws_lc_rs::cipher::{
    AES_128, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use base64::Engine as _;
use cred_core::Error;

/// The content-encryption key. `Debug` never shows it.
#[derive(Clone)]
pub struct EncryptKey([u8; 16]);

impl fmt::Debug for EncryptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptKey([redacted])")
    }
}

fn zero_iv() -> FixedLength<16> {
    FixedLength::from([0u8; 16])
}

impl EncryptKey {
    /// Parses the console's `encrypt_key`: base64 of 16 bytes.
    pub fn parse(text: &str) -> Result<EncryptKey, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| Error::config("ALIPAY_ENCRYPT_KEY is not base64"))?;
        let key: [u8; 16] = bytes.try_into().map_err(|b: Vec<u8>| {
            Error::config(format!(
                "ALIPAY_ENCRYPT_KEY must be 16 bytes (AES-128) in base64, got {} bytes",
                b.len()
            ))
        })?;
        Ok(EncryptKey(key))
    }

    /// Encrypts `plaintext`; base64 of the ciphertext.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, Error> {
        let fail = |_| Error::config("AES encryption failed");
        let key = UnboundCipherKey::new(&AES_128, &self.0).map_err(fail)?;
        let key = PaddedBlockEncryptingKey::cbc_pkcs7(key).map_err(fail)?;
        let mut data = plaintext.to_vec();
        key.less_safe_encrypt(&mut data, EncryptionContext::Iv128(zero_iv()))
            .map_err(fail)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(data))
    }

    /// Decrypts base64 ciphertext; `None` when it is not base64, not whole blocks or
    /// not padded as it should be (a wrong key, usually).
    pub fn decrypt(&self, ciphertext_b64: &[u8]) -> Option<Vec<u8>> {
        let trimmed = ciphertext_b64.trim_ascii();
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .ok()?;
        let key = UnboundCipherKey::new(&AES_128, &self.0).ok()?;
        let key = PaddedBlockDecryptingKey::cbc_pkcs7(key).ok()?;
        let plain = key
            .decrypt(&mut data, DecryptionContext::Iv128(zero_iv()))
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_and_round_trip() {
        // printf '{"a":"b"}' | openssl enc -aes-128-cbc -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 | base64
        let key = EncryptKey::parse("AAECAwQFBgcICQoLDA0ODw==").unwrap();
        let c = key.encrypt(br#"{"a":"b"}"#).unwrap();
        assert_eq!(c, KAT);
        assert_eq!(key.decrypt(c.as_bytes()).unwrap(), br#"{"a":"b"}"#);
        let other = EncryptKey::parse("AQECAwQFBgcICQoLDA0ODw==").unwrap();
        assert_ne!(
            other.decrypt(c.as_bytes()).as_deref(),
            Some(&br#"{"a":"b"}"#[..])
        );
        assert!(EncryptKey::parse("AAEC").is_err());
        assert_eq!(format!("{key:?}"), "EncryptKey([redacted])");
    }

    const KAT: &str = include_str!("../tests/fixtures/aes_kat.b64");
}
