//! # cred-core
//!
//! The shared runtime of the credkit SDKs. Provider crates (`jumdata-api`, ...) own the
//! shapes of their API and their signer; this crate owns the behaviour every provider
//! shares:
//!
//! - [`Error`] and [`ErrorKind`]: one error model, with billing ([`Charged`]) and
//!   retryability on every failure; "no record" is an [`Answer`] without a result.
//! - [`Transport`] and [`ClientCore`]: one pooled HTTP client per SDK client, timeouts,
//!   a response-size cap, `tracing` spans, and the validate → authorise → send → decode
//!   → retry pipeline.
//! - [`Authorizer`]: the hook through which each provider signs requests.
//! - [`RateLimiter`] ([`LocalRateLimiter`]) and [`RetryPolicy`] (never bills twice
//!   unless the caller opts in).
//! - [`TokenStore`] ([`MemoryTokenStore`]): where OAuth tokens live and who renews them;
//!   a shared store makes many processes share one token.
//! - [`mask`], [`validate`], [`digest`], [`secret`], [`date`], [`lenient`]: PII masking,
//!   local validators, hashing, secrets, provider dates, tolerant decoding.
//!
//! ```
//! use cred_core::validate;
//!
//! let id = validate::resident_id("321083197812162119").unwrap();
//! assert_eq!(id.to_string(), "3210**********2119"); // Display is masked
//! assert!(validate::uscc("91310110666007217A").is_err()); // wrong check character
//! ```
//!
//! **Runtime and features:** async on **tokio** (through reqwest and hyper). Features:
//! `rustls` (default), `native-tls`, `http2` (default), `metrics` (default), `seal`
//! (AES-GCM and HMAC on aws-lc-rs, for secrets kept outside the process). What may
//! change in a compatible release: [`stability`].

pub mod answer;
pub mod auth;
pub mod body;
pub mod call;
pub mod date;
pub mod digest;
pub mod endpoint;
pub mod error;
pub mod lenient;
pub mod mask;
pub mod ratelimit;
pub mod raw;
pub mod retry;
#[cfg(feature = "seal")]
pub mod seal;
pub mod secret;
pub mod settings;
pub mod stability;
pub mod telemetry;
mod text;
pub mod token_store;
pub mod transport;
pub mod validate;

pub use answer::{Answer, ResponseMeta};
pub use auth::{Authorizer, NoAuth, OutgoingRequest};
pub use call::{ClientCore, Decoder};
pub use endpoint::{
    ApiRequest, AuditSubject, Billing, CodeInfo, CodeOutcome, Encoding, Endpoint, Method, WireValue,
};
pub use error::{CallSite, Charged, Error, ErrorKind, ProviderError, TransportFailure};
pub use mask::{Pii, Redactor};
pub use ratelimit::{LocalRateLimiter, RateLimiter};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use settings::{ClientSettings, LimiterChoice};
pub use token_store::{Lease, MemoryTokenStore, NewToken, StoredToken, TokenStore};
pub use transport::{ProxyUrl, RawResponse, RootCa, Streamed, Transport, TransportConfig};

/// The `http` crate (1.x), whose `HeaderMap` is part of this API
/// ([`OutgoingRequest::headers`], [`RawResponse::headers`]). Re-exported deliberately:
/// a new major version of `http` in credkit is a breaking release of `cred-core`.
pub use http;
/// The `url` crate (2.x), whose `Url` is part of this API ([`OutgoingRequest::url`]).
/// Re-exported deliberately: a new major version of `url` in credkit is a breaking
/// release of `cred-core`.
pub use url;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Re-exports for generated code; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
