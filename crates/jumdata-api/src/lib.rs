//! # jumdata-api
//!
//! Client for [Jumdata (聚美智数)](https://www.jumdata.com) verification APIs, generated
//! from `api.toml` on top of [`cred_core`](https://docs.rs/cred-core).
//!
//! Quick start:
//!
//! ```no_run
//! use jumdata_api::{Client, CredentialQuery};
//!
//! # async fn run() -> Result<(), jumdata_api::Error> {
//! let client = Client::from_env()?; // JUMDATA_APP_ID, JUMDATA_APP_SECRET
//! let answer = client
//!     .credential_query(&CredentialQuery::new("王小明", "321083197812162119"))
//!     .await?;
//! match answer.result() {
//!     Some(found) => {
//!         for cert in &found.items {
//!             println!("{:?} {:?} {:?}", cert.occupation, cert.qua_level, cert.issuing_time);
//!         }
//!     }
//!     None => println!("no record (charged: {:?})", answer.charged()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - Every request is signed `sign = sha256(appId + appSecret + timestamp)` ([`sign`]).
//! - Parameters are validated locally before anything is sent (ID number check
//!   character and birth date, name characters): a typo costs nothing.
//! - "No record" (`code 701`, `data: []`) is an [`Answer`] whose
//!   `found()` is `false`, with `charged` as the provider reported it.
//! - Errors carry the provider code, an [`ErrorKind`], the
//!   `taskNo` and whether the call was billed; names, ID numbers and the secret never
//!   appear in errors, logs or `Debug` output.
//!
//! **Runtime and features:** async on **tokio** (through reqwest and hyper). Features:
//! `rustls` (default), `native-tls`, `http2` (default), `metrics` (default); without a
//! TLS feature only `http://` works. Settings may be given in any order:
//! [`ClientBuilder`]'s named setters win over [`ClientBuilder::config`].

mod client;
mod envelope;
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;
mod signer;

pub use client::Client;
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
pub use signer::{Clock, sign};

/// Decodes a raw Jumdata response (exposed for sandboxes and custom transports).
pub use envelope::decode as decode_envelope;
