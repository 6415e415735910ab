//! Every row's call recorded in the audit ledger: an [`Operation`] wrapper that commits
//! the call's record before the engine marks the row done.

use async_trait::async_trait;
use cred_batch::{Operation, Row};
use cred_core::{Answer, ApiRequest, AuditSubject, Endpoint, Error, Redactor, ResponseMeta};

/// A row's request and the row's own purpose (its `purpose` column), which the ledger
/// records instead of `--purpose`. Everything else is the request's: the purpose is not
/// sent, and it is not part of the input's identity (two rows that differ only in it
/// are duplicates).
pub struct Purposed<R> {
    request: R,
    purpose: Option<String>,
}

impl<R: ApiRequest> ApiRequest for Purposed<R> {
    type Response = R::Response;

    fn endpoint(&self) -> &'static Endpoint {
        self.request.endpoint()
    }
    fn validate(&self) -> Result<(), Error> {
        self.request.validate()
    }
    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        self.request.write_params(out);
    }
    fn register_pii<'a>(&'a self, redactor: &mut Redactor<'a>) {
        self.request.register_pii(redactor);
    }
    fn subjects(&self) -> Vec<(AuditSubject, &str)> {
        self.request.subjects()
    }
}

/// `inner`, with each call recorded in `ledger` (when there is one) as made by
/// `caller` for the row's `purpose` column, else `purpose`.
pub struct Audited<O> {
    /// The operation.
    pub inner: O,
    /// The ledger (`None`: nothing recorded).
    pub ledger: Option<cred_ledger::Ledger>,
    /// `batch:<user>`.
    pub caller: String,
    /// `--purpose`, or the licence platform's 用证事由.
    pub purpose: Option<String>,
    /// The provider and operation as the ledger names them (`jumdata`, `credential`).
    pub names: (&'static str, &'static str),
    /// The operation's columns and `purpose`.
    pub columns: Vec<&'static str>,
    /// `--require-purpose`: a row without a purpose (column or flag) is invalid.
    pub require_purpose: bool,
}

#[async_trait]
impl<O: Operation> Operation for Audited<O> {
    type Request = Purposed<O::Request>;
    type Result = O::Result;

    fn name(&self) -> &str {
        self.inner.name()
    }
    fn provider(&self) -> &str {
        self.inner.provider()
    }
    fn columns(&self) -> &[&'static str] {
        &self.columns
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        Ok(Purposed {
            request: self.inner.request(row)?,
            purpose: row
                .get("purpose")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        })
    }
    fn check(&self, request: &Self::Request) -> Result<(), Error> {
        if self.require_purpose
            && self.ledger.is_some()
            && request.purpose.is_none()
            && self.purpose.is_none()
        {
            return Err(Error::invalid(
                "purpose",
                "is required for every call recorded in the audit ledger (a purpose column, or --purpose)",
            ));
        }
        self.inner.check(&request.request)
    }
    fn licence_status(&self, meta: &ResponseMeta) -> Option<&'static str> {
        self.inner.licence_status(meta)
    }
    /// The call, then its record, committed before the row is marked done: a crash
    /// after the commit keeps the record; one before it happens while the call is
    /// still in flight for the journal too.
    async fn call(&self, request: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        let Some(ledger) = &self.ledger else {
            return self.inner.call(&request.request).await;
        };
        let (result, recorded) = ledger
            .audit(
                &self.caller,
                request.purpose.as_deref().or(self.purpose.as_deref()),
                self.names.0,
                self.names.1,
                &request.request,
                self.inner.call(&request.request),
            )
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "a call was made but its audit record could not be written");
            crate::output::err(&format!(
                "warning: a call was made but its audit record could not be written: {e}\n"
            ));
        }
        result
    }
}
