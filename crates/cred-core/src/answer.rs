//! Successful answers: the typed result (or none) plus what the provider said about the call.

use std::time::Duration;

use crate::error::Charged;

/// What the provider reported about a call, beside its data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// Provider id, e.g. `jumdata`.
    pub provider: &'static str,
    /// Operation id, e.g. `credential_query`.
    pub operation: &'static str,
    /// The provider's request id (`taskNo`, `alipay-trace-id`, ...), if it sent one.
    pub request_id: Option<String>,
    /// Whether the call was billed.
    pub charged: Charged,
    /// The provider's result code, as text.
    pub code: String,
    /// The provider's message for that code.
    pub message: String,
    /// HTTP status of the final attempt.
    pub http_status: u16,
    /// Attempts made (1 unless the retry policy retried).
    pub attempts: u32,
    /// Wall time from first send to decoded answer.
    pub elapsed: Duration,
    /// Provider-specific envelope fields kept as opaque metadata (Juhe's `sign`, ...).
    pub attributes: Vec<(&'static str, String)>,
}

impl ResponseMeta {
    /// Metadata with the given identity and defaults elsewhere.
    pub fn new(provider: &'static str, operation: &'static str) -> Self {
        Self {
            provider,
            operation,
            request_id: None,
            charged: Charged::Unknown,
            code: String::new(),
            message: String::new(),
            http_status: 0,
            attempts: 1,
            elapsed: Duration::ZERO,
            attributes: Vec::new(),
        }
    }

    /// A provider-specific attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A provider's answer to a query: the result when something was found, `None` when the
/// provider reported "no record" (which is an answer, not an error), and the metadata.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    result: Option<T>,
    meta: ResponseMeta,
}

impl<T> Answer<T> {
    /// An answer carrying `result` (or none) and `meta`.
    pub fn new(result: Option<T>, meta: ResponseMeta) -> Self {
        Self { result, meta }
    }

    /// Whether the provider found a record.
    pub fn found(&self) -> bool {
        self.result.is_some()
    }

    /// The result, when found.
    pub fn result(&self) -> Option<&T> {
        self.result.as_ref()
    }

    /// Takes the result out.
    pub fn into_result(self) -> Option<T> {
        self.result
    }

    /// Splits into result and metadata.
    pub fn into_parts(self) -> (Option<T>, ResponseMeta) {
        (self.result, self.meta)
    }

    /// What the provider reported about the call.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Mutable metadata (for transports that fill in attempts and timing).
    pub fn meta_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }

    /// Whether the call was billed.
    pub fn charged(&self) -> Charged {
        self.meta.charged
    }

    /// The provider's request id.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }
}
