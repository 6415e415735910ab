//! Client-side rate limiting.
//!
//! [`RateLimiter`] is the seam: the bundled [`LocalRateLimiter`] limits one process;
//! a shared implementation (Redis, a database) can be plugged in without touching the
//! provider crates.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::{CallSite, Error};

/// Decides when the next request to a provider may leave.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until a request to `site` may be sent, or fails if it never may.
    ///
    /// Implementations must be cancel-safe: a caller dropped while it waits (a timeout
    /// around the call) gives its slot back when no later caller has reserved one
    /// behind it, so a dropped call never delays the next.
    async fn acquire(&self, site: CallSite) -> Result<(), Error>;

    /// Takes a permit without waiting when one is free; `false` means "call
    /// [`RateLimiter::acquire`]". The default always says `false`.
    fn try_acquire(&self, site: CallSite) -> bool {
        let _ = site;
        false
    }
}

/// An in-process GCRA limiter shared by every operation of one client, that
/// **reserves** slots: each caller takes the next free slot (`1 / rate` after the
/// previous one) and sleeps until it, so a wake-up that comes late delays that one
/// request, not the schedule. (`governor` checks on wake-up instead, and at burst 1 every
/// late wake-up loses part of a slot: it admitted about 93 % of 1,000/s on a 2-core
/// machine, where reserving admits the rate.)
///
/// At most `rate` slots fall in any one-second window (plus `burst - 1` after a quiet
/// spell when a burst is allowed). A caller that gives up while waiting (a cancelled
/// call) gives its slot back when it is still the last one reserved; otherwise the
/// callers behind it keep their places and the slot stays unused.
pub struct LocalRateLimiter {
    interval: Duration,
    tolerance: Duration,
    /// The theoretical arrival time of the next request (`None`: idle from the start).
    tat: Mutex<Option<Instant>>,
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl fmt::Debug for LocalRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish()
    }
}

impl LocalRateLimiter {
    /// At most `per_second` requests a second on average, with bursts of up to `burst`
    /// (a burst above 1 lets `burst - 1` requests more than the rate into a one-second
    /// window after a quiet spell).
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let interval = Duration::from_secs(1) / per_second.get();
        Self {
            interval,
            tolerance: interval * (burst.get() - 1),
            tat: Mutex::new(None),
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

    /// Reserves the next slot and returns it; with `only_now`, only a slot that is
    /// free right now (nothing reserved otherwise).
    fn reserve(&self, only_now: bool) -> Option<Reservation> {
        let now = Instant::now();
        // A panic elsewhere cannot leave an instant half-written: recover it.
        let mut tat = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        let due = tat.unwrap_or(now).max(now);
        let slot = due.checked_sub(self.tolerance).unwrap_or(now).max(now);
        if only_now && slot > now {
            return None;
        }
        let before = *tat;
        let after = due.max(slot) + self.interval;
        *tat = Some(after);
        Some(Reservation {
            slot,
            before,
            after,
        })
    }

    /// Gives a reservation back if it is still the last one made.
    fn give_back(&self, reservation: &Reservation) {
        let mut tat = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        if *tat == Some(reservation.after) {
            *tat = reservation.before;
        }
    }
}

/// One reserved slot, and the limiter's state before and after it.
struct Reservation {
    slot: Instant,
    before: Option<Instant>,
    after: Instant,
}

/// Gives the slot back when the waiting caller is dropped before its slot.
struct Waiting<'a> {
    limiter: &'a LocalRateLimiter,
    reservation: Option<Reservation>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(r) = &self.reservation {
            self.limiter.give_back(r);
        }
    }
}

#[async_trait]
impl RateLimiter for LocalRateLimiter {
    async fn acquire(&self, _site: CallSite) -> Result<(), Error> {
        if let Some(reservation) = self.reserve(false)
            && reservation.slot > Instant::now()
        {
            let slot = reservation.slot;
            let mut waiting = Waiting {
                limiter: self,
                reservation: Some(reservation),
            };
            tokio::time::sleep_until(slot.into()).await;
            // Slept to the end: the slot is used.
            waiting.reservation = None;
        }
        Ok(())
    }

    fn try_acquire(&self, _site: CallSite) -> bool {
        self.reserve(true).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const SITE: CallSite = CallSite::new("test", "op");

    #[tokio::test]
    async fn a_waiter_dropped_before_its_slot_gives_it_back() {
        let limiter = LocalRateLimiter::per_second(NonZeroU32::MIN); // one a second
        assert!(limiter.try_acquire(SITE));
        // The next slot is a second away: a caller that gives up after 50 ms ...
        let gave_up = tokio::time::timeout(Duration::from_millis(50), limiter.acquire(SITE)).await;
        assert!(gave_up.is_err());
        // ... leaves the schedule as it was: the next caller waits one second from the
        // first permit, not two.
        let start = Instant::now();
        assert!(limiter.acquire(SITE).await.is_ok());
        let waited = start.elapsed();
        assert!(waited < Duration::from_millis(1_100), "waited {waited:?}");
        // A dropped waiter with another behind it cannot give its slot back: the one
        // behind keeps its place (no two requests in one slot).
        let limiter = std::sync::Arc::new(LocalRateLimiter::per_second(
            NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
        ));
        assert!(limiter.try_acquire(SITE));
        let first = {
            let l = limiter.clone();
            tokio::spawn(async move { l.acquire(SITE).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = {
            let l = limiter.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                l.acquire(SITE).await.map(|()| t.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        first.abort();
        let waited = second
            .await
            .unwrap_or(Ok(Duration::ZERO))
            .unwrap_or(Duration::ZERO);
        assert!(waited >= Duration::from_millis(150), "waited {waited:?}");
    }

    #[tokio::test]
    async fn bursts_pass_then_requests_wait() {
        let limiter = LocalRateLimiter::new(
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_waiters_get_every_slot() {
        // Sixty-four callers at 500/s for 1 s: reserving loses no slot to late wake-ups
        // (governor, checking on wake-up, admitted about 93 % of the rate).
        let limiter = std::sync::Arc::new(LocalRateLimiter::per_second(
            NonZeroU32::new(500).unwrap_or(NonZeroU32::MIN),
        ));
        let admitted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (limiter, admitted) = (limiter.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    limiter.acquire(SITE).await.unwrap_or(());
                    if start.elapsed() >= Duration::from_secs(1) {
                        break;
                    }
                    admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap_or(());
        }
        let n = admitted.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            (495..=501).contains(&n),
            "{n} admitted in one second at 500/s"
        );
    }

    #[tokio::test]
    async fn no_one_second_window_admits_more_than_the_rate_from_the_start() {
        // Before burst 1 was the default, `per_second(200)` let 399 requests into the
        // first second (a full second of burst, then the rate).
        let rate = 200usize;
        let limiter =
            LocalRateLimiter::per_second(NonZeroU32::new(rate as u32).unwrap_or(NonZeroU32::MIN));
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
