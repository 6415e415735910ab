//! Static descriptions of endpoints and provider code tables, as generated from `api.toml`.
//!
//! Every type here may grow (a new method, encoding, field): they are
//! `#[non_exhaustive]`, and generated code builds them with `const fn` constructors
//! ([`Endpoint::new`], [`CodeInfo::new`]) so that a provider crate keeps compiling
//! against a `cred-core` that adds one.

use crate::error::{CallSite, Charged, Error, ErrorKind};
use crate::mask::Redactor;

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`: parameters in the query string.
    Get,
    /// `POST`: parameters in the body.
    Post,
}

impl Method {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// How parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// `application/x-www-form-urlencoded` body (POST) or query string (GET).
    Form,
    /// Query string, whatever the method.
    Query,
    /// JSON object body.
    Json,
}

/// Whether a call costs money; decides what the retry policy may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Billing {
    /// The provider bills (some) calls: never retried when a charge may have happened,
    /// unless the caller opted in.
    Paid,
    /// The call is free: safe to retry after a lost answer.
    Free,
}

/// One endpoint of a provider. Built with [`Endpoint::new`]; its fields are read-only
/// outside this crate in spirit (they describe a provider's API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// Provider and operation id.
    pub site: CallSite,
    /// Human title, usually the provider's own (`职业资格证书查询`).
    pub title: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path below the base URL, starting with `/`.
    pub path: &'static str,
    /// Parameter encoding.
    pub encoding: Encoding,
    /// Billing class.
    pub billing: Billing,
    /// Whether the provider marks this endpoint discontinued.
    pub deprecated: bool,
}

impl Endpoint {
    /// An endpoint of `site` at `path` (below the base URL, starting with `/`), not
    /// deprecated.
    pub const fn new(
        site: CallSite,
        title: &'static str,
        method: Method,
        path: &'static str,
        encoding: Encoding,
        billing: Billing,
    ) -> Self {
        Self {
            site,
            title,
            method,
            path,
            encoding,
            billing,
            deprecated: false,
        }
    }

    /// The same endpoint, marked discontinued by the provider.
    pub const fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
}

/// What a provider's result code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeOutcome {
    /// Success with data.
    Ok,
    /// The query ran and found nothing: an empty answer, not an error.
    NoRecord,
    /// A failure of this kind.
    Error(ErrorKind),
}

/// One row of a provider's code table. Built with [`CodeInfo::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeInfo {
    /// The code as text (`603`, `260204`).
    pub code: &'static str,
    /// What it means for the caller.
    pub outcome: CodeOutcome,
    /// Whether a call answered with this code is billed (when the response does not say).
    pub charged: Charged,
    /// The provider's documented message.
    pub message: &'static str,
}

impl CodeInfo {
    /// The row of `code`: what it means, whether it is billed, the provider's message.
    pub const fn new(
        code: &'static str,
        outcome: CodeOutcome,
        charged: Charged,
        message: &'static str,
    ) -> Self {
        Self {
            code,
            outcome,
            charged,
            message,
        }
    }
}

/// Looks `code` up in a code table.
pub fn lookup_code(table: &'static [CodeInfo], code: &str) -> Option<&'static CodeInfo> {
    table.iter().find(|c| c.code == code)
}

/// A request to one endpoint, as generated from a provider's `api.toml`.
pub trait ApiRequest: Send + Sync {
    /// The typed result the endpoint answers with.
    type Response: serde::de::DeserializeOwned + Send;

    /// The endpoint this request goes to.
    fn endpoint(&self) -> &'static Endpoint;

    /// Checks every parameter locally; an error means nothing may be sent.
    fn validate(&self) -> Result<(), Error>;

    /// Appends the wire parameters (wire name, value); optional ones only when set.
    fn write_params(&self, out: &mut Vec<(&'static str, String)>);

    /// Registers the personal values of this request so errors and logs mask them.
    fn register_pii<'a>(&'a self, redactor: &mut Redactor<'a>);

    /// Whom this request is about, for an audit record: each identifying value with
    /// what it identifies. Generated from the spec (a param's `subject`, or its `pii`
    /// class); the default names nobody. The values are personal: an audit ledger
    /// stores keyed HMACs of them, never the values.
    fn subjects(&self) -> Vec<(AuditSubject, &str)> {
        Vec::new()
    }
}

/// What a request's identifying value identifies ([`ApiRequest::subjects`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditSubject {
    /// A person's name.
    Name,
    /// A resident ID number.
    IdNumber,
    /// A certificate number.
    CertificateNo,
    /// An electronic licence's identifier or number.
    LicenceId,
    /// A company, by name or by unified social credit code.
    Company,
}

/// A typed request parameter (an enum of documented codes) and its value on the wire.
/// Generated request types accept any type implementing it for a spec param whose `type`
/// names a type of the provider crate.
pub trait WireValue {
    /// The value as the provider expects it (`"0"`, `"111"`, ...).
    fn wire_value(&self) -> std::borrow::Cow<'_, str>;
}
