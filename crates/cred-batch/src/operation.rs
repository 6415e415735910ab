//! How a provider operation plugs into the engine, and what a call's outcome looks like
//! in the journal and the output (the shapes of the `cred` command's `--json`).

use async_trait::async_trait;
use cred_core::{Answer, ApiRequest, Charged, Error, ResponseMeta};
use serde::Serialize;
use serde_json::{Value, json};

use crate::journal::{Record, State};
use crate::row::Row;

/// One provider operation a batch runs: how a row becomes a request, and how it is
/// sent. The request's [`ApiRequest`] implementation gives the rest: local validation,
/// the wire parameters (the input's identity, for duplicates and resume) and billing.
///
/// ```no_run
/// use async_trait::async_trait;
/// use cred_batch::{Operation, Row};
/// use cred_core::{Answer, Error};
/// use jumdata_api::{Client, CredentialQuery, CredentialQueryResult};
///
/// struct Credentials(Client);
///
/// #[async_trait]
/// impl Operation for Credentials {
///     type Request = CredentialQuery;
///     type Result = CredentialQueryResult;
///
///     fn name(&self) -> &str { "jumdata credential" }
///     fn provider(&self) -> &str { "jumdata" }
///     fn columns(&self) -> &[&'static str] { &["name", "idcard", "certificate-no"] }
///     fn request(&self, row: &Row) -> Result<CredentialQuery, Error> {
///         let mut q = CredentialQuery::new(
///             row.get("name").unwrap_or_default(),
///             row.get("idcard").unwrap_or_default(),
///         );
///         if let Some(no) = row.get("certificate-no") {
///             q = q.certificate_no(no);
///         }
///         Ok(q)
///     }
///     async fn call(&self, q: &CredentialQuery) -> Result<Answer<CredentialQueryResult>, Error> {
///         self.0.credential_query(q).await
///     }
/// }
/// ```
#[async_trait]
pub trait Operation: Send + Sync + 'static {
    /// The request type.
    type Request: ApiRequest + Send + Sync + 'static;
    /// The typed result, written to the output as JSON.
    type Result: Serialize + Send + 'static;

    /// The operation's name (`jumdata credential`): a journal serves one operation.
    fn name(&self) -> &str;

    /// The provider as the output names it (`jumdata`, `zz-license`).
    fn provider(&self) -> &str;

    /// The columns a row may have (named like the single command's flags).
    fn columns(&self) -> &[&'static str];

    /// The request of a row, not yet validated (the engine calls
    /// [`ApiRequest::validate`]). A missing column is an [`Error::InvalidInput`].
    fn request(&self, row: &Row) -> Result<Self::Request, Error>;

    /// Checks beyond [`ApiRequest::validate`] that the client applies before sending (a
    /// provider crate's own cross-parameter reading, for example), run when a row is
    /// planned so that a row the client would refuse is `invalid` from the start. The
    /// default accepts every request.
    fn check(&self, request: &Self::Request) -> Result<(), Error> {
        let _ = request;
        Ok(())
    }

    /// Sends the request.
    async fn call(&self, request: &Self::Request) -> Result<Answer<Self::Result>, Error>;

    /// The status of a licence an answer carries beside "not found" (`revoked`,
    /// `expired`, `restricted`: the licence platform's statuses 21-23), written to the
    /// output as `licence_status`. The default: none.
    fn licence_status(&self, meta: &ResponseMeta) -> Option<&'static str> {
        let _ = meta;
        None
    }
}

/// `true`, `false` or `null` for charged yes, no, unknown (as the single commands print).
pub fn charged_json(c: Charged) -> Value {
    match c {
        Charged::Yes => Value::Bool(true),
        Charged::No => Value::Bool(false),
        Charged::Unknown => Value::Null,
    }
}

/// `{provider, kind, code, message, retryable, charged, request_id}`: the `error`
/// object of the single commands' `--json`.
pub fn error_json(provider: &str, e: &Error) -> Value {
    json!({
        "provider": provider,
        "kind": e.kind().as_str(),
        "code": e.code(),
        "message": e.to_string(),
        "retryable": e.is_retryable(),
        "charged": charged_json(e.charged()),
        "request_id": e.request_id(),
    })
}

/// The journal record of a call's outcome.
pub fn record<T: Serialize>(provider: &str, outcome: &Result<Answer<T>, Error>) -> Record {
    match outcome {
        Ok(answer) => {
            let meta = answer.meta();
            Record {
                state: State::Answered,
                found: Some(answer.found()),
                charged: meta.charged.as_str(),
                kind: None,
                licence_status: None,
                retryable: false,
                request_id: meta.request_id.clone(),
                outcome: serde_json::to_string(&answer.result())
                    .unwrap_or_else(|_| "null".to_owned()),
            }
        }
        Err(e) => Record {
            state: State::Failed,
            found: None,
            charged: e.charged().as_str(),
            kind: Some(e.kind().as_str()),
            licence_status: None,
            retryable: e.is_retryable(),
            request_id: e.request_id().map(str::to_owned),
            outcome: json!({"error": error_json(provider, e)}).to_string(),
        },
    }
}
