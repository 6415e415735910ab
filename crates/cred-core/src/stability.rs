//! What may change in a compatible release, and the compile-time guards that keep it so.
//! (Documentation only: each example below must fail to compile; `cargo test --doc`
//! checks that it does, with the error code named.)
//!
//! Every provider crate re-exports `cred_core`, so a breaking change here is a breaking
//! release of every provider (`cargo xtask release bump` cascades it). To keep additions
//! compatible:
//!
//! - Structs and enums that may grow are `#[non_exhaustive]`: a new field, variant or
//!   error kind is a minor release. Outside this crate they are built with their
//!   constructors (`Endpoint::new`, `CodeInfo::new`, `RawResponse::new`, ...), which
//!   generated provider code uses too, and matched with a wildcard arm.
//! - Fields with invariants are private behind constructors and accessors (`Date`,
//!   `RetryPolicy`, `LicenseId`): `Date { month: 13, .. }` cannot skip `Date::new`.
//! - No pre-1.0 third-party type appears in a public signature: secrets are
//!   [`Secret`](crate::Secret) (not `secrecy`'s), URLs and headers are `url::Url` and
//!   `http::HeaderMap` (1.x, re-exported as [`crate::url`] and [`crate::http`]: a major
//!   bump of either is a breaking release of this crate).
//! - [`Charged`](crate::Charged) is exhaustive by design: billing is yes, no or unknown.
//! - Names: data types (a provider's `Config`, answers) have `with_*` setters and
//!   accessors named for the field; builders (`ClientBuilder`, generated requests,
//!   `AuditContext`) have setters named for the field and, where a getter is needed
//!   too, `get_*` (the split aws-sdk-rust's builders use, since the plain name is the
//!   setter's).
//!
//! A struct that may grow cannot be built with a literal:
//!
//! ```compile_fail,E0639
//! use cred_core::{Billing, CallSite, Encoding, Endpoint, Method};
//! static E: Endpoint = Endpoint {
//!     site: CallSite::new("p", "op"),
//!     title: "t",
//!     method: Method::Post,
//!     path: "/x",
//!     encoding: Encoding::Form,
//!     billing: Billing::Paid,
//!     deprecated: false,
//! };
//! ```
//!
//! (its constructor is `const`, so generated statics use it:)
//!
//! ```
//! use cred_core::{Billing, CallSite, Encoding, Endpoint, Method};
//! static E: Endpoint = Endpoint::new(
//!     CallSite::new("p", "op"), "t", Method::Post, "/x", Encoding::Form, Billing::Paid,
//! );
//! assert_eq!(E.path, "/x");
//! ```
//!
//! A date cannot skip its check:
//!
//! ```compile_fail,E0451
//! let d = cred_core::date::Date { year: 2024, month: 13, day: 1 };
//! ```
//!
//! ```
//! assert!(cred_core::date::Date::new(2024, 13, 1).is_none());
//! ```
//!
//! A retry policy's fields are read through accessors, not fields:
//!
//! ```compile_fail,E0616
//! let attempts = cred_core::RetryPolicy::default().max_attempts;
//! ```
//!
//! An error kind added later must not break a `match`:
//!
//! ```compile_fail,E0004
//! fn retry(kind: cred_core::ErrorKind) -> bool {
//!     use cred_core::ErrorKind::*;
//!     match kind {
//!         Auth | Permission | InvalidArgument | NotFound | Throttled | QuotaExhausted
//!         | InsufficientBalance | Unavailable | Internal | Config | Unknown => false,
//!     }
//! }
//! ```
//!
//! Nor a field added to an error variant:
//!
//! ```compile_fail,E0638
//! fn field(e: &cred_core::Error) -> Option<&'static str> {
//!     match e {
//!         cred_core::Error::InvalidInput { field, reason } => Some(field),
//!         _ => None,
//!     }
//! }
//! ```
//!
//! ```
//! fn field(e: &cred_core::Error) -> Option<&'static str> {
//!     match e {
//!         cred_core::Error::InvalidInput { field, .. } => Some(field),
//!         _ => None,
//!     }
//! }
//! ```
