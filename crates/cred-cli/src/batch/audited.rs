//! Every row's call recorded in the audit ledger: an [`Operation`] wrapper that commits
//! the call's record before the engine marks the row done.

use async_trait::async_trait;
use cred_batch::{Operation, Row};
use cred_core::{Answer, Error, ResponseMeta};

/// `inner`, with each call recorded in `ledger` (when there is one) as made by
/// `caller` for `purpose`.
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
}

#[async_trait]
impl<O: Operation> Operation for Audited<O> {
    type Request = O::Request;
    type Result = O::Result;

    fn name(&self) -> &str {
        self.inner.name()
    }
    fn provider(&self) -> &str {
        self.inner.provider()
    }
    fn columns(&self) -> &[&'static str] {
        self.inner.columns()
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        self.inner.request(row)
    }
    fn check(&self, request: &Self::Request) -> Result<(), Error> {
        self.inner.check(request)
    }
    fn licence_status(&self, meta: &ResponseMeta) -> Option<&'static str> {
        self.inner.licence_status(meta)
    }
    /// The call, then its record, committed before the row is marked done: a crash
    /// after the commit keeps the record; one before it happens while the call is
    /// still in flight for the journal too.
    async fn call(&self, request: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        let Some(ledger) = &self.ledger else {
            return self.inner.call(request).await;
        };
        let (result, recorded) = ledger
            .audit(
                &self.caller,
                self.purpose.as_deref(),
                self.names.0,
                self.names.1,
                request,
                self.inner.call(request),
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
