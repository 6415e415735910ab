//! RSA keys as Alipay hands them out: the app private key as PKCS#8 (the key tool's
//! default) or PKCS#1, PEM or bare base64; the Alipay public key as a base64
//! SubjectPublicKeyInfo (or PEM, or PKCS#1). Parsed once, at build time.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rsa::{KeyPair, PublicKey};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use cred_core::Error;

use crate::digest_hex;

/// Smallest modulus accepted (Alipay's RSA2 keys are 2048 bits).
const MIN_BITS: usize = 2048;

/// DER bytes from PEM text or bare base64.
pub(crate) fn der_from_text(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let body: String = if text.contains("-----BEGIN") {
        text.lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect()
    } else {
        text.split_whitespace().collect()
    };
    if body.is_empty() {
        return Err("it is empty".to_owned());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "it is neither PEM nor base64".to_owned())
}

/// `SHA256:` and the first 16 hex digits of the SHA-256 of the key's PKCS#1 DER: names a
/// key in error messages without revealing anything.
fn fingerprint(pkcs1_public: &[u8]) -> String {
    format!("SHA256:{}", &digest_hex(pkcs1_public)[..16])
}

/// The app's private key (应用私钥), parsed once. `Debug` shows its fingerprint only.
#[derive(Clone)]
pub struct AppKey {
    pair: Arc<KeyPair>,
    public_pkcs1: Arc<[u8]>,
    fingerprint: Arc<str>,
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppKey({})", self.fingerprint)
    }
}

impl AppKey {
    /// Parses a private key: PKCS#8 or PKCS#1, PEM or bare base64. Errors never quote
    /// the key.
    pub fn parse(text: &str) -> Result<AppKey, Error> {
        let der = der_from_text(text).map_err(|why| {
            Error::config(format!(
                "the app private key (ALIPAY_PRIVATE_KEY) is unreadable: {why}"
            ))
        })?;
        let pair = KeyPair::from_pkcs8(&der)
            .or_else(|_| KeyPair::from_der(&der))
            .map_err(|_| {
                Error::config(
                    "the app private key (ALIPAY_PRIVATE_KEY) is not an RSA private key in PKCS#8 or PKCS#1 form (PEM or base64); a public key or certificate was given?",
                )
            })?;
        let bits = pair.public_modulus_len() * 8;
        if bits < MIN_BITS {
            return Err(Error::config(format!(
                "the app private key is {bits} bits; Alipay RSA2 needs at least {MIN_BITS}"
            )));
        }
        let public_pkcs1: Arc<[u8]> = pair.public_key().as_ref().into();
        Ok(AppKey {
            fingerprint: fingerprint(&public_pkcs1).into(),
            public_pkcs1,
            pair: Arc::new(pair),
        })
    }

    /// Signs `content` (RSASSA-PKCS1-v1_5, SHA-256); standard base64.
    pub fn sign(&self, content: &[u8]) -> Result<String, Error> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                content,
                &mut signature,
            )
            .map_err(|_| Error::config("RSA signing failed"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(signature))
    }

    /// The key's fingerprint (`SHA256:0123abcd…`).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public half, PKCS#1 DER.
    pub fn public_pkcs1(&self) -> &[u8] {
        &self.public_pkcs1
    }
}

/// The Alipay public key (支付宝公钥) responses are verified with, parsed once.
#[derive(Clone)]
pub struct AlipayPublicKey {
    key: Arc<ParsedPublicKey>,
    pkcs1: Arc<[u8]>,
    fingerprint: Arc<str>,
}

impl fmt::Debug for AlipayPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlipayPublicKey({})", self.fingerprint)
    }
}

impl AlipayPublicKey {
    /// Parses a public key: SubjectPublicKeyInfo (Alipay's form) or PKCS#1, base64 or
    /// PEM.
    pub fn parse(text: &str) -> Result<AlipayPublicKey, Error> {
        let der = der_from_text(text).map_err(|why| {
            Error::config(format!(
                "the Alipay public key (ALIPAY_PUBLIC_KEY) is unreadable: {why}"
            ))
        })?;
        Self::from_der(&der)
    }

    /// A key from DER (SubjectPublicKeyInfo or PKCS#1).
    pub fn from_der(der: &[u8]) -> Result<AlipayPublicKey, Error> {
        let public = PublicKey::from_der(der).map_err(|_| {
            Error::config(
                "the Alipay public key (ALIPAY_PUBLIC_KEY) is not an RSA public key (base64 SubjectPublicKeyInfo, as the Alipay console shows it); a private key or certificate was given?",
            )
        })?;
        let pkcs1: Arc<[u8]> = public.as_ref().into();
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|_| Error::config("the Alipay public key is not a 2048-8192-bit RSA key"))?;
        Ok(AlipayPublicKey {
            fingerprint: fingerprint(&pkcs1).into(),
            pkcs1,
            key: Arc::new(key),
        })
    }

    /// Whether `signature_b64` is a valid signature of `content` by this key.
    pub fn verify(&self, content: &[u8], signature_b64: &str) -> bool {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim())
        else {
            return false;
        };
        self.key.verify_sig(content, &signature).is_ok()
    }

    /// The key's fingerprint (`SHA256:0123abcd…`).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether this is the public half of `app` (the most common configuration
    /// mistake: pasting the app's own public key where Alipay's belongs).
    pub fn is_public_half_of(&self, app: &AppKey) -> bool {
        *self.pkcs1 == *app.public_pkcs1()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS8: &str = include_str!("../tests/fixtures/app_private_pkcs8.pem");
    const PKCS1: &str = include_str!("../tests/fixtures/app_private_pkcs1.pem");
    const APP_PUBLIC: &str = include_str!("../tests/fixtures/app_public.pem");

    fn bare(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn all_four_private_key_forms_are_the_same_key() {
        let forms = [PKCS8.to_owned(), PKCS1.to_owned(), bare(PKCS8), bare(PKCS1)];
        let prints: Vec<String> = forms
            .iter()
            .map(|f| AppKey::parse(f).unwrap().fingerprint().to_owned())
            .collect();
        assert!(prints.windows(2).all(|w| w[0] == w[1]), "{prints:?}");
    }

    #[test]
    fn bad_keys_are_config_errors_that_quote_nothing() {
        for text in ["", "not base64 at all!", "QUJD", APP_PUBLIC] {
            let err = AppKey::parse(text).unwrap_err();
            assert_eq!(err.kind(), cred_core::ErrorKind::Config, "{err}");
        }
        let err = AppKey::parse(&bare(PKCS8)[..200]).unwrap_err().to_string();
        assert!(!err.contains(&bare(PKCS8)[..40]), "{err}");
        assert!(AlipayPublicKey::parse(PKCS8).is_err());
    }

    #[test]
    fn the_apps_own_public_key_is_recognised() {
        let app = AppKey::parse(PKCS8).unwrap();
        let own = AlipayPublicKey::parse(&bare(APP_PUBLIC)).unwrap();
        assert!(own.is_public_half_of(&app));
        let alipay =
            AlipayPublicKey::parse(include_str!("../tests/fixtures/alipay_public.pem")).unwrap();
        assert!(!alipay.is_public_half_of(&app));
        assert!(format!("{app:?}").starts_with("AppKey(SHA256:"));
    }
}
