//! Charging-aware retry: exponential backoff with jitter, never in a way that can bill
//! twice unless the caller opted in.

use std::time::Duration;

use crate::endpoint::Billing;
use crate::error::{Charged, Error};

/// When and how often a failed call is tried again.
///
/// A failure is retried only when its kind is retryable (throttled, unavailable) **and**
/// one of:
/// - the failed attempt was certainly not billed (`charged: no`, or the request never
///   left), or
/// - it may have been billed but the operation is free, or the caller opted in with
///   [`RetryPolicy::retry_possibly_charged`].
///
/// An attempt the provider reports as billed is never retried.
///
/// Built from [`RetryPolicy::default`] or [`RetryPolicy::none`] and its `with_*`
/// methods, which keep it consistent (at least one attempt, a cap no lower than the
/// base delay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    retry_possibly_charged: bool,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms base, 3 s cap, no retry of possibly-charged calls.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(3),
            retry_possibly_charged: false,
        }
    }
}

impl RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Backoff before the first retry; doubles each time.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// Upper bound of one backoff.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// Whether paid calls whose outcome is unknown are retried (may bill twice).
    pub fn retries_possibly_charged(&self) -> bool {
        self.retry_possibly_charged
    }

    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in all (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the base and maximum backoff.
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Opts in to retrying paid calls whose outcome is unknown (a lost answer, a 5xx
    /// from a gateway). Such a retry may be billed a second time.
    pub fn retry_possibly_charged(mut self, yes: bool) -> Self {
        self.retry_possibly_charged = yes;
        self
    }

    /// Whether `error`, from attempt number `attempt` (1-based), may be retried. A
    /// `Retry-After` longer than [`RetryPolicy::max_delay`] is not waited for: the error
    /// is returned, [`Error::retry_after`] saying how long the provider asked for.
    pub fn should_retry(&self, error: &Error, attempt: u32, billing: Billing) -> bool {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return false;
        }
        if error
            .retry_after()
            .is_some_and(|wait| wait > self.max_delay)
        {
            return false;
        }
        match error.charged() {
            Charged::Yes => false,
            Charged::No => true,
            Charged::Unknown => billing == Billing::Free || self.retry_possibly_charged,
        }
    }

    /// The wait before retrying after `error` (attempt number `attempt`): the backoff,
    /// or the provider's `Retry-After` when that is longer.
    pub fn delay_after(&self, error: &Error, attempt: u32) -> Duration {
        let backoff = self.delay(attempt);
        error
            .retry_after()
            .map_or(backoff, |wait| wait.max(backoff))
    }

    /// Backoff before retry number `attempt` (1-based): exponential, capped, with the
    /// upper half jittered.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let half = cap / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CallSite, ErrorKind, ProviderError};

    const SITE: CallSite = CallSite::new("p", "op");

    fn provider(kind: ErrorKind, charged: Charged) -> Error {
        ProviderError::new(SITE, "x", "m", kind, charged, None).into()
    }

    #[test]
    fn never_retries_a_charged_answer() {
        let p = RetryPolicy::default().retry_possibly_charged(true);
        assert!(!p.should_retry(
            &provider(ErrorKind::Unavailable, Charged::Yes),
            1,
            Billing::Free
        ));
    }

    #[test]
    fn retries_uncharged_transient_failures() {
        let p = RetryPolicy::default();
        assert!(p.should_retry(
            &provider(ErrorKind::Throttled, Charged::No),
            1,
            Billing::Paid
        ));
        assert!(p.should_retry(
            &provider(ErrorKind::Throttled, Charged::No),
            2,
            Billing::Paid
        ));
        assert!(!p.should_retry(
            &provider(ErrorKind::Throttled, Charged::No),
            3,
            Billing::Paid
        ));
        let unsent = Error::transport(
            SITE,
            crate::error::TransportFailure::Connect,
            "refused",
            false,
        );
        assert!(p.should_retry(&unsent, 1, Billing::Paid));
    }

    #[test]
    fn unknown_outcome_of_paid_call_needs_opt_in() {
        let timeout = Error::Timeout {
            site: SITE,
            after: Duration::from_secs(1),
        };
        let p = RetryPolicy::default();
        assert!(!p.should_retry(&timeout, 1, Billing::Paid));
        assert!(p.should_retry(&timeout, 1, Billing::Free));
        assert!(
            p.clone()
                .retry_possibly_charged(true)
                .should_retry(&timeout, 1, Billing::Paid)
        );
        let bad_gateway = Error::HttpStatus {
            site: SITE,
            status: 502,
            snippet: String::new(),
            retry_after: None,
        };
        assert!(!p.should_retry(&bad_gateway, 1, Billing::Paid));
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let p = RetryPolicy::default().retry_possibly_charged(true);
        for kind in [
            ErrorKind::Auth,
            ErrorKind::InsufficientBalance,
            ErrorKind::QuotaExhausted,
        ] {
            assert!(!p.should_retry(&provider(kind, Charged::No), 1, Billing::Free));
        }
        assert!(!p.should_retry(&Error::invalid("x", "y"), 1, Billing::Free));
        assert!(!RetryPolicy::none().should_retry(
            &provider(ErrorKind::Throttled, Charged::No),
            1,
            Billing::Free
        ));
    }

    #[test]
    fn retry_after_is_honoured_within_the_policy() {
        let p = RetryPolicy::default(); // 3 s cap
        let throttled = |wait: u64| {
            Error::http_status(SITE, 429, "").with_retry_after(Some(Duration::from_secs(wait)))
        };
        assert!(p.should_retry(&throttled(2), 1, Billing::Paid));
        assert!(p.delay_after(&throttled(2), 1) >= Duration::from_secs(2));
        // Longer than the policy waits: not retried, the wait is the caller's to see.
        assert!(!p.should_retry(&throttled(60), 1, Billing::Paid));
        assert_eq!(throttled(60).retry_after(), Some(Duration::from_secs(60)));
        // Without the header: the backoff alone.
        let plain = Error::http_status(SITE, 429, "");
        assert!(p.delay_after(&plain, 1) <= Duration::from_millis(200));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(300));
        for _ in 0..50 {
            let d1 = p.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d5 = p.delay(5);
            assert!(
                d5 >= Duration::from_millis(150) && d5 <= Duration::from_millis(300),
                "{d5:?}"
            );
        }
    }
}
