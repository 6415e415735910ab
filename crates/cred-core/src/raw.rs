//! An escape hatch: a request to an endpoint that a provider crate's spec does not list,
//! sent through the same pipeline as the generated ones (signing, envelope, billing,
//! retry, rate limit, redaction) by the provider's `Client::call_raw`, which answers
//! `Answer<serde_json::Value>`.
//!
//! ```
//! use cred_core::raw::RawRequest;
//! use cred_core::{Billing, Method};
//!
//! let request = RawRequest::new(Method::Post, "/credential/other")
//!     .param("name", "王小明") // personal by default: masked in errors and logs
//!     .param("idcard", "321083197812162119")
//!     .public_param("type", "1") // a code, shown as it is
//!     .billing(Billing::Paid);
//! assert_eq!(request.path(), "/credential/other");
//! // Debug shows names, never values.
//! assert!(!format!("{request:?}").contains("3210831978"));
//! ```
//!
//! Each distinct (provider, method, path, encoding, billing) and each parameter name is
//! kept for the life of the process (endpoints are `'static` throughout the pipeline),
//! so build paths from constants, not from per-call data: a process refuses more than
//! [`MAX_RAW_ENDPOINTS`] distinct raw endpoints or [`MAX_RAW_NAMES`] distinct
//! parameter names with an [`Error::Config`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, OnceLock};

use crate::endpoint::{ApiRequest, Billing, Encoding, Endpoint, Method};
use crate::error::{CallSite, Error};
use crate::mask::{Pii, Redactor};

/// How many distinct raw endpoints a process may use.
pub const MAX_RAW_ENDPOINTS: usize = 256;
/// How many distinct raw parameter names a process may use.
pub const MAX_RAW_NAMES: usize = 1024;

/// A request to any path of a provider, with string parameters. Parameter values are
/// treated as personal data (masked in errors, logs and `Debug`) unless added with
/// [`RawRequest::public_param`].
#[derive(Clone)]
pub struct RawRequest {
    method: Method,
    path: String,
    encoding: Encoding,
    billing: Billing,
    params: Vec<(String, String, Option<Pii>)>,
}

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _, _)| n.as_str()).collect();
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("encoding", &self.encoding)
            .field("billing", &self.billing)
            .field("params", &names)
            .finish()
    }
}

impl RawRequest {
    /// A request to `path` (below the client's base URL, starting with `/`). Parameters
    /// travel as a form for `POST` and in the query for `GET` unless
    /// [`RawRequest::encoding`] says otherwise; the call counts as paid unless
    /// [`RawRequest::billing`] says it is free (a paid call whose outcome is unknown is
    /// never sent twice without the caller's opt-in).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let encoding = match method {
            Method::Get => Encoding::Query,
            _ => Encoding::Form,
        };
        RawRequest {
            method,
            path: path.into(),
            encoding,
            billing: Billing::Paid,
            params: Vec::new(),
        }
    }

    /// How the parameters travel.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Whether the provider bills the call.
    pub fn billing(mut self, billing: Billing) -> Self {
        self.billing = billing;
        self
    }

    /// Adds a parameter whose value is personal data: masked wherever it could appear
    /// (fully, except its length).
    pub fn param(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.param_as(name, value, Pii::Other)
    }

    /// Adds a personal parameter masked as `class` (`Pii::IdNumber` keeps the first 4 and
    /// last 4 characters, ...).
    pub fn param_as(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        class: Pii,
    ) -> Self {
        self.params.push((name.into(), value.into(), Some(class)));
        self
    }

    /// Adds a parameter that is not personal (a code, a flag, a page number): shown as
    /// it is in errors and logs.
    pub fn public_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into(), None));
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path below the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request bound to `provider`'s pipeline: what a provider crate's `call_raw`
    /// executes. Checks the path (starts with `/`, no query, fragment or whitespace)
    /// and the parameter names (not empty) before anything is sent.
    pub fn bind(&self, provider: &'static str) -> Result<BoundRaw<'_>, Error> {
        let bad_path = !self.path.starts_with('/')
            || self.path.contains(['?', '#'])
            || self.path.chars().any(char::is_whitespace);
        if bad_path {
            return Err(Error::invalid(
                "path",
                "a raw request's path starts with `/` and holds no query, fragment or space",
            ));
        }
        if self.params.iter().any(|(n, _, _)| n.trim().is_empty()) {
            return Err(Error::invalid("param", "a parameter name is empty"));
        }
        let endpoint = intern_endpoint(provider, self)?;
        let names = self
            .params
            .iter()
            .map(|(n, _, _)| intern_name(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BoundRaw {
            request: self,
            endpoint,
            names,
        })
    }
}

/// A [`RawRequest`] bound to a provider: an [`ApiRequest`] answering JSON.
pub struct BoundRaw<'a> {
    request: &'a RawRequest,
    endpoint: &'static Endpoint,
    names: Vec<&'static str>,
}

impl fmt::Debug for BoundRaw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundRaw")
            .field("endpoint", &self.endpoint.site)
            .field("request", self.request)
            .finish()
    }
}

impl ApiRequest for BoundRaw<'_> {
    type Response = serde_json::Value;

    fn endpoint(&self) -> &'static Endpoint {
        self.endpoint
    }

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        for (name, (_, value, _)) in self.names.iter().zip(&self.request.params) {
            out.push((name, value.clone()));
        }
    }

    fn register_pii<'b>(&'b self, redactor: &mut Redactor<'b>) {
        for (_, value, class) in &self.request.params {
            if let Some(class) = class {
                redactor.pii(*class, value.as_str());
            }
        }
    }
}

/// The operation name raw calls carry in metrics, spans and errors.
pub const RAW_OPERATION: &str = "call_raw";

type EndpointKey = (&'static str, Method, String, Encoding, Billing);

fn intern_endpoint(provider: &'static str, r: &RawRequest) -> Result<&'static Endpoint, Error> {
    static ENDPOINTS: OnceLock<Mutex<HashMap<EndpointKey, &'static Endpoint>>> = OnceLock::new();
    let map = ENDPOINTS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    let key = (provider, r.method, r.path.clone(), r.encoding, r.billing);
    if let Some(e) = map.get(&key) {
        return Ok(e);
    }
    if map.len() >= MAX_RAW_ENDPOINTS {
        return Err(Error::config(format!(
            "more than {MAX_RAW_ENDPOINTS} distinct raw endpoints in one process: build raw paths from constants, not from per-call data"
        )));
    }
    let path: &'static str = Box::leak(r.path.clone().into_boxed_str());
    let endpoint: &'static Endpoint = Box::leak(Box::new(Endpoint::new(
        CallSite::new(provider, RAW_OPERATION),
        "raw request",
        r.method,
        path,
        r.encoding,
        r.billing,
    )));
    map.insert(key, endpoint);
    Ok(endpoint)
}

fn intern_name(name: &str) -> Result<&'static str, Error> {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let set = NAMES.get_or_init(Default::default);
    let mut set = set.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(n) = set.get(name) {
        return Ok(n);
    }
    if set.len() >= MAX_RAW_NAMES {
        return Err(Error::config(format!(
            "more than {MAX_RAW_NAMES} distinct raw parameter names in one process"
        )));
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(leaked);
    Ok(leaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_reuses_endpoints_and_names() {
        let a = RawRequest::new(Method::Post, "/x/y").param("idcard", "1");
        let b = RawRequest::new(Method::Post, "/x/y").param("idcard", "2");
        let (ba, bb) = (a.bind("t").unwrap(), b.bind("t").unwrap());
        assert!(std::ptr::eq(ba.endpoint(), bb.endpoint()));
        assert_eq!(ba.endpoint().site.operation, RAW_OPERATION);
        assert_eq!(ba.endpoint().encoding, Encoding::Form);
        let mut out = Vec::new();
        bb.write_params(&mut out);
        assert_eq!(out, vec![("idcard", "2".to_owned())]);
        let get = RawRequest::new(Method::Get, "/x/y");
        let get = get.bind("t").unwrap();
        assert!(!std::ptr::eq(get.endpoint(), ba.endpoint()));
        assert_eq!(get.endpoint().encoding, Encoding::Query);
    }

    #[test]
    fn bad_paths_and_names_are_refused_before_sending() {
        for path in ["x/y", "/x?y=1", "/x#f", "/x y", ""] {
            let err = RawRequest::new(Method::Post, path).bind("t").unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{path}: {err}");
        }
        let err = RawRequest::new(Method::Post, "/x")
            .param(" ", "v")
            .bind("t")
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }

    #[test]
    fn values_are_registered_as_personal_unless_public() {
        let r = RawRequest::new(Method::Post, "/x")
            .param_as("idcard", "321083197812162119", Pii::IdNumber)
            .public_param("type", "T01");
        let bound = r.bind("t").unwrap();
        let mut redactor = Redactor::new();
        bound.register_pii(&mut redactor);
        let text = redactor.redact("id 321083197812162119 type T01");
        assert!(!text.contains("321083197812162119"), "{text}");
        assert!(text.contains("T01"), "{text}");
    }
}
