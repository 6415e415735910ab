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
    /// At most `per_second` requests a second, with bursts of up to `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: governor::RateLimiter::direct(quota),
            per_second,
            burst,
        }
    }

    /// At most `per_second` requests a second, bursts of the same size.
    pub fn per_second(per_second: NonZeroU32) -> Self {
        Self::new(per_second, per_second)
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
}
