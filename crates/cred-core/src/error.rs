//! The error model shared by every provider crate.
//!
//! Every message built here is safe to log: provider crates pass provider text through a
//! [`Redactor`](crate::mask::Redactor) before it lands in an error, and transport errors
//! never carry the request URL (which can hold a key).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The underlying error of a transport failure, kept for [`std::error::Error::source`]
/// (its text is never shown by credkit: it may quote a URL).
pub type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What failed on the way to the provider, for callers that react differently to a
/// refused connection, a name that does not resolve, a TLS failure or a timeout (see
/// [`Error::transport_failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailure {
    /// The connection was refused, or the host or network is unreachable. Nothing was
    /// sent.
    Connect,
    /// The host name did not resolve. Nothing was sent.
    Dns,
    /// The TLS handshake failed (an untrusted certificate, a protocol mismatch). Nothing
    /// was sent.
    Tls,
    /// No connection within the connect timeout. Nothing was sent.
    ConnectTimeout,
    /// No complete answer within the timeout of the attempt ([`Error::Timeout`]); the
    /// request may have reached the provider.
    Timeout,
    /// The connection broke while the request or its answer was on the wire; the request
    /// may have reached the provider.
    Connection,
    /// Shared state this call needs (a rate limit or a token store, for example on
    /// Redis) could not be used; nothing was sent.
    SharedState,
    /// The rate limit's queue is longer than the caller accepts; nothing was sent.
    QueueFull,
    /// Anything else.
    Other,
}

impl TransportFailure {
    /// Lower-case name (`connect`, `dns`, `tls`, `connect-timeout`, `timeout`,
    /// `connection`, `shared-state`, `queue-full`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportFailure::Connect => "connect",
            TransportFailure::Dns => "dns",
            TransportFailure::Tls => "tls",
            TransportFailure::ConnectTimeout => "connect-timeout",
            TransportFailure::Timeout => "timeout",
            TransportFailure::Connection => "connection",
            TransportFailure::SharedState => "shared-state",
            TransportFailure::QueueFull => "queue-full",
            TransportFailure::Other => "other",
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a call was going: the provider and the operation, as short static names
/// (built with [`CallSite::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CallSite {
    /// Provider id, e.g. `jumdata`.
    pub provider: &'static str,
    /// Operation id, e.g. `credential_query`.
    pub operation: &'static str,
}

impl CallSite {
    /// A call site for `provider` / `operation`.
    pub const fn new(provider: &'static str, operation: &'static str) -> Self {
        Self {
            provider,
            operation,
        }
    }
}

impl fmt::Display for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.provider, self.operation)
    }
}

/// Whether a call was billed, as far as anyone can tell. Exhaustive by design: a call
/// was billed, was not, or nobody can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Charged {
    /// The provider said the call was billed.
    Yes,
    /// The call was not billed (the provider said so, or it never reached the provider).
    No,
    /// Nobody can tell: the provider did not say, or the answer was lost.
    #[default]
    Unknown,
}

impl Charged {
    /// `Some(true)` -> `Yes`, `Some(false)` -> `No`, `None` -> `fallback`.
    pub fn from_flag(flag: Option<bool>, fallback: Charged) -> Charged {
        match flag {
            Some(true) => Charged::Yes,
            Some(false) => Charged::No,
            None => fallback,
        }
    }

    /// Lower-case name: `yes`, `no`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Charged::Yes => "yes",
            Charged::No => "no",
            Charged::Unknown => "unknown",
        }
    }
}

/// What kind of failure a provider (or the path to it) reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Credentials are wrong, expired or disabled.
    Auth,
    /// Credentials are fine but this API, IP or resource is not allowed.
    Permission,
    /// A parameter was missing or malformed.
    InvalidArgument,
    /// The endpoint or resource does not exist.
    NotFound,
    /// Too many requests right now; slowing down helps.
    Throttled,
    /// A call quota (daily, total, per key) is used up.
    QuotaExhausted,
    /// The account balance does not cover the call.
    InsufficientBalance,
    /// The provider (or the network to it) is down, in maintenance or timed out.
    Unavailable,
    /// The provider failed internally or answered something unreadable.
    Internal,
    /// Local configuration is missing or wrong.
    Config,
    /// The provider did not say, or said something we do not know.
    Unknown,
}

impl ErrorKind {
    /// Kebab-case name, as used in JSON output (`insufficient-balance`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::InvalidArgument => "invalid-argument",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Throttled => "throttled",
            ErrorKind::QuotaExhausted => "quota-exhausted",
            ErrorKind::InsufficientBalance => "insufficient-balance",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::Config => "config",
            ErrorKind::Unknown => "unknown",
        }
    }

    /// Parses a kebab-case or snake_case name (`insufficient-balance`).
    pub fn parse(name: &str) -> Option<ErrorKind> {
        Some(match name.replace('_', "-").as_str() {
            "auth" => ErrorKind::Auth,
            "permission" => ErrorKind::Permission,
            "invalid-argument" => ErrorKind::InvalidArgument,
            "not-found" => ErrorKind::NotFound,
            "throttled" => ErrorKind::Throttled,
            "quota-exhausted" => ErrorKind::QuotaExhausted,
            "insufficient-balance" => ErrorKind::InsufficientBalance,
            "unavailable" => ErrorKind::Unavailable,
            "internal" => ErrorKind::Internal,
            "config" => ErrorKind::Config,
            "unknown" => ErrorKind::Unknown,
            _ => return None,
        })
    }

    /// Whether waiting and trying again can help (throttled or unavailable).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer from a provider: a well-formed envelope with a failure code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderError {
    /// Provider and operation.
    pub site: CallSite,
    /// The provider's raw code, as text (`603`, `10012`, `TOKEN_INVALID`).
    pub code: String,
    /// The provider's message, redacted.
    pub message: String,
    /// The provider's request id (`taskNo`, `alipay-trace-id`, ...), if it sent one.
    pub request_id: Option<String>,
    /// Whether this failed call was billed.
    pub charged: Charged,
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// How long the provider asked callers to wait (a `Retry-After` header on a 429 or
    /// 503 answer), if it did.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A provider error; `message` must already be redacted.
    pub fn new(
        site: CallSite,
        code: impl Into<String>,
        message: impl Into<String>,
        kind: ErrorKind,
        charged: Charged,
        request_id: Option<String>,
    ) -> Self {
        Self {
            site,
            code: code.into(),
            message: message.into(),
            request_id,
            charged,
            kind,
            retry_after: None,
        }
    }

    /// The same error, with the wait the provider asked for.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: provider error {} ({}): {}",
            self.site, self.code, self.kind, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if self.charged == Charged::Yes {
            f.write_str(" [charged]")?;
        }
        Ok(())
    }
}

/// Every failure a credkit call can return.
///
/// The enum and each of its variants are `#[non_exhaustive]`: match with `..`, and build
/// errors with the constructors ([`Error::config`], [`Error::decode`], ...), so that a
/// new variant or field is not a breaking change.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input rejected locally; nothing was sent and nothing was charged.
    #[error("invalid {field}: {reason} (nothing was sent)")]
    #[non_exhaustive]
    InvalidInput {
        /// The parameter, by its Rust name.
        field: &'static str,
        /// Why it was rejected (never echoes the value).
        reason: String,
    },
    /// The client is not configured correctly (missing credential, bad base URL, ...).
    #[error("configuration error: {message}")]
    #[non_exhaustive]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The request could not be delivered or the connection broke (or the shared state
    /// it needs was unavailable). [`Error::transport_failure`] says what failed;
    /// [`std::error::Error::source`] gives the underlying error.
    #[error("{site}: transport error ({}): {message}", if *.sent { "the request may have reached the provider" } else { "the request was not sent" })]
    #[non_exhaustive]
    Transport {
        /// Provider and operation.
        site: CallSite,
        /// What failed, without the URL.
        message: String,
        /// Whether the request may have reached the provider.
        sent: bool,
        /// What failed.
        failure: TransportFailure,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
    /// No complete answer arrived in time.
    #[error("{site}: timed out after {:.1}s (the request may have reached the provider)", after.as_secs_f64())]
    #[non_exhaustive]
    Timeout {
        /// Provider and operation.
        site: CallSite,
        /// The timeout that expired.
        after: Duration,
    },
    /// The provider answered with an HTTP status and a body that is not its envelope.
    #[error("{site}: HTTP {status}: {snippet}")]
    #[non_exhaustive]
    HttpStatus {
        /// Provider and operation.
        site: CallSite,
        /// HTTP status code.
        status: u16,
        /// Start of the body, redacted.
        snippet: String,
        /// The wait a `Retry-After` header asked for (429 and 503 answers).
        retry_after: Option<Duration>,
    },
    /// The provider answered with a redirect (3xx). API calls and token requests never
    /// follow one: the request would carry its credentials, signature and personal data
    /// to another server. Nothing was processed, so nothing was charged.
    #[error("{site}: HTTP {status} redirect to {} not followed: {reason} (nothing was charged)", target.as_deref().unwrap_or("no location"))]
    #[non_exhaustive]
    Redirect {
        /// Provider and operation.
        site: CallSite,
        /// HTTP status code (3xx).
        status: u16,
        /// Scheme, host and port of the `Location` (never its path or query), if any.
        target: Option<String>,
        /// Why it was not followed.
        reason: &'static str,
    },
    /// The answer was larger than the configured cap; it was not read to the end.
    #[error("{site}: response body larger than the {limit}-byte cap")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// Provider and operation.
        site: CallSite,
        /// The cap in bytes.
        limit: usize,
    },
    /// The answer could not be decoded.
    #[error("{site}: unreadable response: {reason}; body starts: {snippet}")]
    #[non_exhaustive]
    Decode {
        /// Provider and operation.
        site: CallSite,
        /// What is wrong with it.
        reason: String,
        /// Start of the body, redacted.
        snippet: String,
    },
    /// The provider answered with an error code.
    #[error("{0}")]
    Provider(Box<ProviderError>),
    /// Writing a downloaded file to its destination failed.
    #[error("{site}: could not write the download: {message}")]
    #[non_exhaustive]
    Io {
        /// Provider and operation.
        site: CallSite,
        /// The I/O error, without the destination path.
        message: String,
    },
    /// A response failed signature verification (or a request signature was refused).
    #[error("{site}: signature error: {message}")]
    #[non_exhaustive]
    Signature {
        /// Provider and operation.
        site: CallSite,
        /// What was checked and what failed (never a secret).
        message: String,
    },
}

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Self {
        Error::Provider(Box::new(e))
    }
}

impl Error {
    /// A [`Error::Config`] with `message`.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// An [`Error::Transport`] without an underlying error.
    pub fn transport(
        site: CallSite,
        failure: TransportFailure,
        message: impl Into<String>,
        sent: bool,
    ) -> Self {
        Error::Transport {
            site,
            message: message.into(),
            sent,
            failure,
            source: None,
        }
    }

    /// An [`Error::HttpStatus`] without a `Retry-After`.
    pub fn http_status(site: CallSite, status: u16, snippet: impl Into<String>) -> Self {
        Error::HttpStatus {
            site,
            status,
            snippet: snippet.into(),
            retry_after: None,
        }
    }

    /// An [`Error::Transport`] with its underlying error (kept for
    /// [`std::error::Error::source`], never shown).
    pub fn transport_with_source(
        site: CallSite,
        failure: TransportFailure,
        message: impl Into<String>,
        sent: bool,
        source: Source,
    ) -> Self {
        Error::Transport {
            site,
            message: message.into(),
            sent,
            failure,
            source: Some(source),
        }
    }

    /// An [`Error::Timeout`] after `after`.
    pub fn timeout(site: CallSite, after: Duration) -> Self {
        Error::Timeout { site, after }
    }

    /// An [`Error::Redirect`]: `target` is the scheme, host and port of the `Location`
    /// only.
    pub fn redirect(
        site: CallSite,
        status: u16,
        target: Option<String>,
        reason: &'static str,
    ) -> Self {
        Error::Redirect {
            site,
            status,
            target,
            reason,
        }
    }

    /// An [`Error::ResponseTooLarge`] at the cap of `limit` bytes.
    pub fn response_too_large(site: CallSite, limit: usize) -> Self {
        Error::ResponseTooLarge { site, limit }
    }

    /// An [`Error::Decode`]: `reason` and `snippet` must already be redacted.
    pub fn decode(site: CallSite, reason: impl Into<String>, snippet: impl Into<String>) -> Self {
        Error::Decode {
            site,
            reason: reason.into(),
            snippet: snippet.into(),
        }
    }

    /// An [`Error::Io`] (writing a download); `message` names no path.
    pub fn io(site: CallSite, message: impl Into<String>) -> Self {
        Error::Io {
            site,
            message: message.into(),
        }
    }

    /// An [`Error::Signature`]; `message` holds no secret.
    pub fn signature(site: CallSite, message: impl Into<String>) -> Self {
        Error::Signature {
            site,
            message: message.into(),
        }
    }

    /// The message of an [`Error::Config`], the reason of an [`Error::InvalidInput`],
    /// the message of other variants that carry one (`None` otherwise): the text
    /// without the site and the variant's framing.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { reason, .. } => Some(reason),
            Error::Config { message }
            | Error::Transport { message, .. }
            | Error::Io { message, .. }
            | Error::Signature { message, .. } => Some(message),
            Error::Decode { reason, .. } => Some(reason),
            Error::Provider(p) => Some(&p.message),
            _ => None,
        }
    }

    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// The failure's kind. Local and transport failures map onto the nearest kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidArgument,
            Error::Config { .. } => ErrorKind::Config,
            Error::Transport { .. } | Error::Timeout { .. } => ErrorKind::Unavailable,
            Error::HttpStatus { status, .. } => match status {
                401 => ErrorKind::Auth,
                403 => ErrorKind::Permission,
                404 => ErrorKind::NotFound,
                429 => ErrorKind::Throttled,
                500..=599 => ErrorKind::Unavailable,
                _ => ErrorKind::Unknown,
            },
            Error::ResponseTooLarge { .. } | Error::Decode { .. } | Error::Io { .. } => {
                ErrorKind::Internal
            }
            Error::Redirect { .. } => ErrorKind::Unknown,
            Error::Provider(p) => p.kind,
            Error::Signature { .. } => ErrorKind::Auth,
        }
    }

    /// Whether the failure is of a kind where trying again later can help.
    ///
    /// This says nothing about billing: see [`RetryPolicy`](crate::retry::RetryPolicy),
    /// which also looks at [`Error::charged`].
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// Whether the failed call may have been billed.
    pub fn charged(&self) -> Charged {
        match self {
            Error::InvalidInput { .. } | Error::Config { .. } => Charged::No,
            Error::Transport { sent: false, .. } => Charged::No,
            // A redirect is not an answer: the provider did not process the request.
            Error::Redirect { .. } => Charged::No,
            // The gateway refused the request before it was processed.
            Error::HttpStatus {
                status: 401 | 403 | 429,
                ..
            } => Charged::No,
            Error::Provider(p) => p.charged,
            _ => Charged::Unknown,
        }
    }

    /// What failed on the way to the provider: `Some` for [`Error::Transport`] and
    /// [`Error::Timeout`] ([`TransportFailure::Timeout`]).
    pub fn transport_failure(&self) -> Option<TransportFailure> {
        match self {
            Error::Transport { failure, .. } => Some(*failure),
            Error::Timeout { .. } => Some(TransportFailure::Timeout),
            _ => None,
        }
    }

    /// Whether this error proves the request never left: refused locally
    /// ([`Error::InvalidInput`], [`Error::Config`]) or a transport failure before
    /// sending (a refused connection, a name that does not resolve, shared state
    /// unavailable). `false` means it may have reached the provider.
    pub fn nothing_sent(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput { .. }
                | Error::Config { .. }
                | Error::Transport { sent: false, .. }
        )
    }

    /// How long the provider asked callers to wait before trying again (a `Retry-After`
    /// header on a 429 or 503 answer), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::HttpStatus { retry_after, .. } => *retry_after,
            Error::Provider(p) => p.retry_after,
            _ => None,
        }
    }

    /// The same error with `retry_after` recorded (HTTP status and provider errors only).
    pub fn with_retry_after(self, wait: Option<Duration>) -> Self {
        match self {
            Error::HttpStatus {
                site,
                status,
                snippet,
                ..
            } => Error::HttpStatus {
                site,
                status,
                snippet,
                retry_after: wait,
            },
            Error::Provider(mut p) => {
                p.retry_after = wait;
                Error::Provider(p)
            }
            other => other,
        }
    }

    /// The provider's request id, when the provider sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Provider(p) => p.request_id.as_deref(),
            _ => None,
        }
    }

    /// The provider's raw code for provider errors, the HTTP status for HTTP errors.
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Provider(p) => Some(p.code.clone()),
            Error::HttpStatus { status, .. } | Error::Redirect { status, .. } => {
                Some(status.to_string())
            }
            _ => None,
        }
    }

    /// The call site, when the error happened on the way to a provider.
    pub fn site(&self) -> Option<CallSite> {
        match self {
            Error::Transport { site, .. }
            | Error::Timeout { site, .. }
            | Error::HttpStatus { site, .. }
            | Error::Redirect { site, .. }
            | Error::ResponseTooLarge { site, .. }
            | Error::Decode { site, .. }
            | Error::Signature { site, .. }
            | Error::Io { site, .. } => Some(*site),
            Error::Provider(p) => Some(p.site),
            Error::InvalidInput { .. } | Error::Config { .. } => None,
        }
    }

    /// The provider error, if this is one.
    pub fn as_provider(&self) -> Option<&ProviderError> {
        match self {
            Error::Provider(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: CallSite = CallSite::new("jumdata", "credential_query");

    #[test]
    fn kinds_round_trip_through_names() {
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Permission,
            ErrorKind::InvalidArgument,
            ErrorKind::NotFound,
            ErrorKind::Throttled,
            ErrorKind::QuotaExhausted,
            ErrorKind::InsufficientBalance,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
            ErrorKind::Config,
            ErrorKind::Unknown,
        ] {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            ErrorKind::parse("quota_exhausted"),
            Some(ErrorKind::QuotaExhausted)
        );
        assert_eq!(ErrorKind::parse("nope"), None);
    }

    #[test]
    fn retryability_follows_kind() {
        let throttled = Error::from(ProviderError::new(
            SITE,
            "609",
            "请求过于频繁",
            ErrorKind::Throttled,
            Charged::No,
            None,
        ));
        assert!(throttled.is_retryable());
        let balance = Error::from(ProviderError::new(
            SITE,
            "603",
            "余额不足请充值",
            ErrorKind::InsufficientBalance,
            Charged::No,
            Some("t-1".into()),
        ));
        assert!(!balance.is_retryable());
        assert_eq!(balance.request_id(), Some("t-1"));
        assert_eq!(balance.code().as_deref(), Some("603"));
        assert_eq!(
            balance.to_string(),
            "jumdata credential_query: provider error 603 (insufficient-balance): 余额不足请充值 [request id t-1]"
        );
    }

    #[test]
    fn charging_of_local_and_transport_failures() {
        assert_eq!(Error::invalid("idcard", "bad").charged(), Charged::No);
        let unsent = Error::transport(SITE, TransportFailure::Connect, "connection refused", false);
        assert_eq!(unsent.charged(), Charged::No);
        assert!(unsent.to_string().contains("was not sent"));
        let timeout = Error::Timeout {
            site: SITE,
            after: Duration::from_millis(1500),
        };
        assert_eq!(timeout.charged(), Charged::Unknown);
        assert_eq!(
            timeout.to_string(),
            "jumdata credential_query: timed out after 1.5s (the request may have reached the provider)"
        );
        let status = |s| Error::http_status(SITE, s, "");
        assert_eq!(status(429).kind(), ErrorKind::Throttled);
        assert_eq!(status(429).charged(), Charged::No);
        assert_eq!(status(502).kind(), ErrorKind::Unavailable);
        assert_eq!(status(502).charged(), Charged::Unknown);
        assert_eq!(status(401).kind(), ErrorKind::Auth);
    }
}
