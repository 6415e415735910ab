//! # juhe-api
//!
//! Client for [Juhe (聚合数据)](https://www.juhe.cn) APIs, generated from `api.toml` on
//! top of [`cred_core`](https://docs.rs/cred-core).
//!
//! Quick start:
//!
//! ```no_run
//! use juhe_api::{Client, ConLicByName};
//!
//! # async fn run() -> Result<(), juhe_api::Error> {
//! let client = Client::from_env()?; // JUHE_KEY
//! let answer = client
//!     .con_lic_by_name(&ConLicByName::new("河南省建筑科学研究院有限公司"))
//!     .await?;
//! for q in answer.result().map(|r| r.items.as_slice()).unwrap_or_default() {
//!     println!("{:?} {:?} valid until {:?}", q.category, q.lic_no, q.validity_end);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - The key travels as the `key` form parameter (in the POST body, never in the URL)
//!   and never appears in errors, logs or `Debug` output.
//! - A company looked up by something shaped like a unified social credit code must
//!   carry a correct check character: a typo is rejected locally, nothing is billed.
//! - "No result" (`260204`) is an [`Answer`] whose `found()` is
//!   `false`; every other documented code maps to an
//!   [`ErrorKind`], and [`JuheCode`] splits a code into its
//!   system / service (data id + code) parts.
//! - The envelope's `sign` is kept as opaque metadata: `answer.meta().attribute("sign")`.
//!
//! **Runtime and features:** async on **tokio** (through reqwest and hyper). Features:
//! `rustls` (default), `native-tls`, `http2` (default), `metrics` (default); without a
//! TLS feature only `http://` works. Settings may be given in any order:
//! [`ClientBuilder`]'s named setters win over [`ClientBuilder::config`].

mod auth;
mod client;
mod code;
mod envelope;
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;

pub use client::Client;
pub use code::JuheCode;
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

/// Decodes a raw Juhe response (exposed for sandboxes and custom transports).
pub use envelope::decode as decode_envelope;
