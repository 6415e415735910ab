//! # zz-license-api
//!
//! Client for the Zaozhuang electronic-licence sharing platform (枣庄市电子证照共享服务,
//! DB3704/T 0042-2024; a Linewell `license-api-release` deployment), on top of
//! [`cred_core`](https://docs.rs/cred-core).
//!
//! Quick start:
//!
//! ```no_run
//! use zz_license_api::{Client, HolderCodeType, InterfaceType, ShareQueryCertInfoByHolderCode};
//!
//! # async fn run() -> Result<(), zz_license_api::Error> {
//! // ZZ_LICENSE_BASE_URL, _USERNAME, _PASSWORD, _CLIENT_ID, _CLIENT_SECRET and the
//! // audit context (ZZ_LICENSE_SYSTEM_NAME, _CALL_CATEGORY, _MATTER_NAME,
//! // _EVENT_CODE, _COPY_CAUSE).
//! let client = Client::from_env()?;
//! let request = ShareQueryCertInfoByHolderCode::new("321083197812162119", "11100000000013127D")
//!     .holder_code_type(HolderCodeType::ResidentId) // required by the city interface
//!     .interface_type(InterfaceType::City);
//! let answer = client.share_query_cert_info_by_holder_code(&request).await?;
//! match answer.result() {
//!     Some(licences) => println!("{} licence(s): {:?}", licences.len(), licences.identifiers()),
//!     None => println!("no licence"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - **Tokens** (4.3.1): password grant with `scope=read write`, client credentials as
//!   form fields (the standard's parameter table, the default) or by HTTP Basic
//!   ([`ClientAuth::Basic`]); cached, renewed
//!   ahead of `expires_in` by the `refresh_token` grant first; one token request however
//!   many calls find the cache cold (single flight); a call refused with
//!   `invalid_token` re-authenticates once and is replayed once. Credentials and tokens
//!   never appear in errors, logs or `Debug` output.
//! - **Every share interface** (4.3.2-4.3.7), generated from `api.toml`: download link,
//!   query by identifier, data check, file check, query by QR code, query by holder.
//!   Every path can be changed with [`ClientBuilder::path`].
//! - **Both answer shapes**: province and city answers decode into typed results
//!   ([`Licences`], [`DownloadLinks`], [`QrLicence`], [`DataVerification`],
//!   [`FileVerification`]) that say which shape they got. `head.status` may be a
//!   number or a string; a failure explained in `data` keeps that text.
//! - **A licence's status is an answer, not an error**: statuses 21 (证照已注销),
//!   22 (证照已过期) and 23 (证照已限制使用) come back as answers with no licence
//!   ([`Answer::found`] is `false`); [`LicenceStatus::of`] says which.
//! - **Audit context** ([`AuditContext`]) set once on the client, overridable per call
//!   ([`Client::with_audit`]), checked before anything is sent.
//! - **Downloads** ([`Client::download`]) streamed to a writer with a size cap, the
//!   format ([`FileFormat`]) recognised from the file.
//! - Holder code types ([`HolderCodeType`], GB/T 36903) and the GB/T 36904 licence
//!   identifier parser ([`license_id`]; a wrong check character is a warning).
//!
//! **Runtime and features:** async on **tokio** (through reqwest and hyper). Features:
//! `rustls` (default), `native-tls`, `http2` (default), `metrics` (default); without a
//! TLS feature only `http://` works. Settings may be given in any order:
//! [`ClientBuilder`]'s named setters win over [`ClientBuilder::config`].

mod audit;
mod client;
mod download;
mod envelope;
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;
mod requests;
mod results;
mod status;
mod token;
mod types;

pub use audit::{AUDIT_ENV, AuditContext, AuditScope, MAX_AUDIT_CHARS, MAX_CAUSE_CHARS, ZzRequest};
pub use client::{Client, DEFAULT_REFRESH_MARGIN};
pub use cred_core::validate::{LicenseId, license_id};
pub use download::{DEFAULT_MAX_DOWNLOAD_BYTES, DOWNLOAD, Download, FileFormat};
pub use generated::*;

/// The shared runtime, for what is not re-exported below (validators, masking, ...).
pub use cred_core;
/// What users of this crate need from the shared runtime, re-exported so that this crate
/// is the only dependency to add.
pub use cred_core::raw::RawRequest;
pub use cred_core::{
    Answer, Billing, Charged, ClientSettings, Encoding, Error, ErrorKind, LimiterChoice,
    LocalRateLimiter, MemoryTokenStore, Method, Pii, ProviderError, RateLimiter, ResponseMeta,
    RetryPolicy, TokenStore, TransportConfig,
};
pub use requests::{MAX_FILE_BYTES, check_holder_code};
pub use results::{DataVerification, DownloadLinks, FileVerification, Licences, QrLicence, Shaped};
pub use status::LicenceStatus;
pub use token::{
    ClientAuth, MAX_TOKEN_LIFETIME, TOKEN, TokenPlacement, check_token_answer, token_lifetime,
};
pub use types::{
    CallCategory, DataCheck, FileCheck, HolderCodeType, InterfaceType, LicenceCategory, Whose,
};

/// Decodes a raw share-interface answer (exposed for sandboxes and custom transports).
pub use envelope::decode as decode_envelope;

/// The crate README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
