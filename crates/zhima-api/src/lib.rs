//! # zhima-api
//!
//! Alipay OpenAPI v3 client on top of [`cred_core`](https://docs.rs/cred-core), and the Zhima jobworth
//! occupation-identity query (芝麻职得身份认证查询).
//!
//! Quick start:
//!
//! ```no_run
//! use zhima_api::{CertType, Client, JobworthAuthentication, QueryType};
//!
//! # async fn run() -> Result<(), zhima_api::Error> {
//! let client = Client::from_env()?; // ALIPAY_APP_ID, ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY
//! let query = JobworthAuthentication::new()
//!     .once_token("3a1f…")
//!     .query_type(QueryType::Exact)
//!     .identity_type("04")
//!     .cert_no("33010219200403064X")
//!     .cert_type(CertType::IdCard);
//! let answer = client.jobworth_authentication(&query).await?;
//! if let Some(r) = answer.result() {
//!     println!("{:?} (token {:?})", r.identity_result, r.token_status);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - **Request signing**: `authorization: ALIPAY-SHA256withRSA app_id=…,nonce=…,
//!   timestamp=…,sign=…` over `authString\nMETHOD\npath?query\nbody\n`, RSASSA-PKCS1-v1_5
//!   SHA-256 with `aws-lc-rs`; the query is built once and the signed bytes are the sent
//!   bytes (non-ASCII and spaces percent-encoded). Private keys as PKCS#8 or PKCS#1,
//!   PEM or bare base64, parsed once at build time ([`AppKey`]).
//! - **Response verification, on by default**: `alipay-timestamp\nalipay-nonce\nbody\n`
//!   against the Alipay public key; a 2xx without a valid signature is
//!   [`Error::Signature`], never data. Switching it off is
//!   [`ClientBuilder::dangerously_accept_unverified_responses`].
//! - **Diagnosable failures**: an "Alipay public key" that is really the app's own is
//!   refused at build time; a refused request signature and a failed verification say
//!   what was signed (method, path and query, body length and digest, key fingerprint),
//!   never a secret; error bodies in GBK are decoded by their declared charset.
//! - Optional **AES content encryption** ([`EncryptKey`]) and **certificate mode**
//!   ([`ClientBuilder::app_cert`], `alipay_cert`, `root_cert`: `app_cert_sn`, `alipay-root-cert-sn`, `alipay-sn` checked).
//!
//! **Runtime and features:** async on **tokio** (through reqwest and hyper). Features:
//! `rustls` (default), `native-tls`, `http2` (default), `metrics` (default); without a
//! TLS feature only `http://` works. Settings may be given in any order:
//! [`ClientBuilder`]'s named setters win over [`ClientBuilder::config`].

mod auth;
mod cert;
mod checks;
mod client;
mod crypto;
mod envelope;
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;
mod keys;
pub mod signer;
mod types;

pub use cert::{CertSns, cert_sn, root_cert_sn};
pub use checks::check_reading;
pub use client::{Client, DEFAULT_RESPONSE_TIME_WINDOW};
pub use crypto::EncryptKey;
pub use generated::*;

/// The shared runtime, for what is not re-exported below (validators, masking, ...).
pub use cred_core;
/// What users of this crate need from the shared runtime, re-exported so that this crate
/// is the only dependency to add.
pub use cred_core::raw::RawRequest;
pub use cred_core::{
    Answer, Billing, Charged, ClientSettings, Encoding, Error, ErrorKind, LimiterChoice,
    LocalRateLimiter, Method, Pii, ProviderError, RateLimiter, ResponseMeta, RetryPolicy,
    TransportConfig,
};
pub use keys::{AlipayPublicKey, AppKey};
pub use types::{CertType, IdentityResult, QueryType};

/// Decodes a raw, already verified v3 answer (exposed for sandboxes and custom
/// transports).
pub use envelope::decode as decode_envelope;

/// Lower-case hex SHA-256.
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    cred_core::digest::sha256_hex(bytes)
}

/// The crate README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
