//! credkit over HTTP, for callers in any language: an [`axum::Router`] that offers every
//! credkit query operation (`POST /v1/{provider}/{operation}`) with the same guarantees
//! as the SDK: input validated before any paid call, a possibly-charged request never
//! sent twice, nothing personal in logs or metrics, every call in the audit ledger.
//! `cred serve` runs it; a Rust service can embed it.
//!
//! - **Answers** are the `cred --json` shapes; each error kind has its HTTP status
//!   ([`respond`] lists them) and every error says whether anything was charged.
//! - **Callers** present API keys (`Authorization: Bearer …`) kept only as digests
//!   ([`Callers`]); each may be limited to some operations, a rate and a daily budget
//!   of charged calls.
//! - **Idempotency keys** (`Idempotency-Key`) execute a request once; repeats replay the
//!   stored answer ([`store`] keeps them, in Redis across replicas).
//! - **Cancel safety**: once a call is admitted it runs in a task of its own, so a
//!   caller that disconnects (a client timeout) does not cut a paid call short: it is
//!   still recorded, counted and, with an idempotency key, kept for the retry.
//!
//! ```no_run
//! # async fn run(jumdata: jumdata_api::Client) -> Result<(), cred_core::Error> {
//! use cred_gateway::{Caller, Callers, Clients, Gateway};
//!
//! let key = cred_gateway::generate_key()?; // give key.key to the caller, once
//! let callers = Callers::new(vec![Caller::new("hr-portal", &key.digest, vec!["*".into()])
//!     .map_err(cred_core::Error::config)?])
//!     .map_err(cred_core::Error::config)?;
//! let mut clients = Clients::default();
//! clients.jumdata = Some(jumdata);
//! let gateway = Gateway::builder().clients(clients).callers(callers).build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8710").await.map_err(|e| cred_core::Error::config(e.to_string()))?;
//! cred_gateway::serve(listener, gateway.router(), Default::default(), std::future::pending()).await;
//! # Ok(()) }
//! ```

mod callers;
mod calls;
pub mod catalogue;
pub mod config;
mod fields;
mod gateway;
mod idempotency;
pub mod openapi;
#[rustfmt::skip]
mod params;
pub mod requests;
pub mod respond;
mod serve;
pub mod store;

pub use callers::{Caller, Callers, KEY_PREFIX, NewKey, generate_key, key_digest};
pub use calls::Clients;
pub use config::GatewayConfig;
pub use fields::Fields;
pub use gateway::{Gateway, GatewayBuilder, Limits, PURPOSE_HEADER};
pub use serve::{ServeOptions, serve, tls_config};
pub use store::{MemoryStore, RedisStore, Store};

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
