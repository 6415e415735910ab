//! What every provider call costs, as metrics through the [`metrics`](https://docs.rs/metrics) facade. The
//! pipeline emits them; the library installs no recorder, so they cost next to nothing
//! until an application installs one (`metrics-exporter-prometheus`, an OpenTelemetry
//! bridge, ...).
//!
//! | series | type | labels |
//! |---|---|---|
//! | `credkit_calls_total` | counter | `provider`, `operation`, `outcome` (`answered`, `not_found`, `error`), `kind` (an [`ErrorKind`] or `none`), `charged` (`yes`, `no`, `unknown`) |
//! | `credkit_attempts_total` | counter | `provider`, `operation`, `reason` (`first`, `retry_after_<kind>`, `reauthentication`) |
//! | `credkit_call_duration_seconds` | histogram | `provider`, `operation`, `outcome` |
//! | `credkit_http_duration_seconds` | histogram | `provider`, `status` (the HTTP status, or `none` when no answer came) |
//! | `credkit_ratelimit_wait_seconds` | histogram | `provider` (requests that had to wait) |
//! | `credkit_token_requests_total` | counter | `provider`, `grant` (`password`, `refresh_token`), `outcome` (`ok` or an [`ErrorKind`]) |
//! | `credkit_invalid_input_total` | counter | `provider`, `operation`, `param` (refused locally: nothing sent, nothing paid) |
//!
//! Without the `metrics` feature (on by default), the same functions do nothing and the
//! `metrics` crate is not compiled.
//!
//! Label values come from fixed sets (call sites, kinds, parameter names, HTTP
//! statuses): never a personal value, a secret, a request id or a URL.

use crate::error::ErrorKind;

#[cfg(feature = "metrics")]
mod record;
#[cfg(not(feature = "metrics"))]
#[path = "telemetry/off.rs"]
mod record;

pub(crate) use record::{HttpSeries, SiteSeries, attempt, call, ratelimit_wait};
pub use record::{describe, invalid_input, token_request};

/// Logical calls, by outcome.
pub const CALLS: &str = "credkit_calls_total";
/// Attempts (HTTP requests of calls), by reason.
pub const ATTEMPTS: &str = "credkit_attempts_total";
/// Duration of whole calls.
pub const CALL_DURATION: &str = "credkit_call_duration_seconds";
/// Duration of one attempt's HTTP exchange.
pub const HTTP_DURATION: &str = "credkit_http_duration_seconds";
/// Time requests waited for the rate limiter.
pub const RATELIMIT_WAIT: &str = "credkit_ratelimit_wait_seconds";
/// Token requests (the licence platform's OAuth2).
pub const TOKEN_REQUESTS: &str = "credkit_token_requests_total";
/// Calls refused locally for invalid input.
pub const INVALID_INPUT: &str = "credkit_invalid_input_total";

/// The `reason` label of a retry after `kind`.
pub(crate) fn retry_reason(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "retry_after_auth",
        ErrorKind::Permission => "retry_after_permission",
        ErrorKind::InvalidArgument => "retry_after_invalid_argument",
        ErrorKind::NotFound => "retry_after_not_found",
        ErrorKind::Throttled => "retry_after_throttled",
        ErrorKind::QuotaExhausted => "retry_after_quota_exhausted",
        ErrorKind::InsufficientBalance => "retry_after_insufficient_balance",
        ErrorKind::Unavailable => "retry_after_unavailable",
        ErrorKind::Internal => "retry_after_internal",
        ErrorKind::Config => "retry_after_config",
        ErrorKind::Unknown => "retry_after_unknown",
    }
}
