//! Client-side rate limiting.
//!
//! [`RateLimiter`] is the seam: the bundled [`GovernorRateLimiter`] limits one process;
//! a shared implementation (Redis, a database) can be plugged in without touching the
//! provider crates.

use std::fmt;
use std::num::NonZeroU32;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota};

use crate::error::{CallSite, Error};

/// Decides when the next request to a provider may leave.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until a request to `site` may be sent, or fails if it never may.
    async fn acquire(&self, site: CallSite) -> Result<(), Error>;

    /// Takes a permit without waiting when one is free; `false` means "call
    /// [`RateLimiter::acquire`]". The default always says `false`.
    fn try_acquire(&self, site: CallSite) -> bool {
        let _ = site;
        false
    }
}

/// An in-process GCRA limiter ([`governor`]) shared by every operation of one client.
pub struct GovernorRateLimiter {
    limiter: DefaultDirectRateLimiter,
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl fmt::Debug for GovernorRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernorRateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish()
    }
}

impl GovernorRateLimiter {
    /// At most `per_second` requests a second on average, with bursts of up to `burst`
    /// (a burst above 1 lets `burst - 1` requests more than the rate into a one-second
    /// window after a quiet spell).
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: governor::RateLimiter::direct(quota),
            per_second,
            burst,
        }
    }

    /// At most `per_second` requests in any one-second window, from the first second
    /// on: requests are spaced `1 / per_second` apart (burst 1), which is what providers
    /// enforce (Jumdata `609`, Juhe `10011`, Alipay `app-call-limited`).
    pub fn per_second(per_second: NonZeroU32) -> Self {
        Self::new(per_second, NonZeroU32::MIN)
    }

    /// The burst allowed above the sustained rate.
    pub fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// The sustained rate.
    pub fn rate(&self) -> NonZeroU32 {
        self.per_second
    }
}

#[async_trait]
impl RateLimiter for GovernorRateLimiter {
    async fn acquire(&self, _site: CallSite) -> Result<(), Error> {
        self.limiter.until_ready().await;
        Ok(())
    }

    fn try_acquire(&self, _site: CallSite) -> bool {
        self.limiter.check().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const SITE: CallSite = CallSite::new("test", "op");

    #[tokio::test]
    async fn bursts_pass_then_requests_wait() {
        let limiter = GovernorRateLimiter::new(
            NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN),
        );
        let start = Instant::now();
        for _ in 0..2 {
            assert!(limiter.acquire(SITE).await.is_ok());
        }
        let after_burst = start.elapsed();
        // The third must wait roughly one period (50 ms at 20/s).
        assert!(limiter.acquire(SITE).await.is_ok());
        let waited = start.elapsed() - after_burst;
        assert!(waited.as_millis() >= 30, "waited only {waited:?}");
        assert!(format!("{limiter:?}").contains("per_second: 20"));
    }

    #[tokio::test]
    async fn no_one_second_window_admits_more_than_the_rate_from_the_start() {
        // Before burst 1 was the default, `per_second(200)` let 399 requests into the
        // first second (a full second of burst, then the rate).
        let rate = 200usize;
        let limiter = GovernorRateLimiter::per_second(
            NonZeroU32::new(rate as u32).unwrap_or(NonZeroU32::MIN),
        );
        assert_eq!(limiter.burst().get(), 1);
        let start = Instant::now();
        let mut admitted = Vec::with_capacity(2 * rate + 1);
        for _ in 0..=2 * rate {
            if !limiter.try_acquire(SITE) {
                assert!(limiter.acquire(SITE).await.is_ok());
            }
            admitted.push(start.elapsed());
        }
        // The (i + rate)-th admission is at least one second after the i-th (GCRA spaces
        // them 1/rate apart; 5 ms allows for the time between admission and the clock
        // read).
        for i in 0..admitted.len() - rate {
            let span = admitted[i + rate] - admitted[i];
            assert!(
                span.as_millis() >= 995,
                "{} admitted within {span:?} from #{i}",
                rate + 1
            );
        }
    }
}
