//! The shared limiter against a real `redis-server` the tests start: several limiters in
//! one process, several OS processes against one sandbox (the sandbox's arrival times
//! are the judge), Redis stopped and started again in both failure modes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{RedisServer, max_per_second};
use cred_core::{CallSite, Error, RateLimiter};
use cred_redis::{RedisRateLimiter, WhenUnavailable};

const SITE: CallSite = CallSite::new("jumdata", "credential_query");

fn rate(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn limiter(url: &str, per_second: u32) -> RedisRateLimiter {
    RedisRateLimiter::builder(url, rate(per_second))
        .provider("jumdata")
        .account("credkit-test-app")
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiters_on_one_key_share_one_rate() {
    let Some(redis) = RedisServer::start("share") else {
        return;
    };
    let per_second = 200;
    let times = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut tasks = tokio::task::JoinSet::new();
    // Four limiters (four connections, as four processes would have), eight callers each.
    for _ in 0..4 {
        let limiter = Arc::new(limiter(&redis.url(), per_second));
        for _ in 0..8 {
            let (limiter, times) = (limiter.clone(), times.clone());
            tasks.spawn(async move {
                while Instant::now() < deadline {
                    limiter.acquire(SITE).await.unwrap();
                    times.lock().unwrap().push(cred_core::now_millis());
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let mut times = times.lock().unwrap().clone();
    times.sort_unstable();
    let max = max_per_second(&times);
    let span = (times[times.len() - 1] - times[0]) as f64 / 1000.0;
    let expected = per_second as f64 * span + 1.0;
    eprintln!(
        "4 limiters x 8 callers at {per_second}/s: {} admitted in {span:.2} s, max one-second window {max}",
        times.len()
    );
    assert!(max <= per_second as usize + 2, "window of {max}");
    let ratio = times.len() as f64 / expected;
    assert!(
        (0.97..=1.01).contains(&ratio),
        "admitted/expected = {ratio:.3}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_dropped_before_its_slot_gives_it_back() {
    let Some(redis) = RedisServer::start("give-back") else {
        return;
    };
    let limiter = limiter(&redis.url(), 1); // one a second
    limiter.acquire(SITE).await.unwrap();
    // The next slot is a second away; a caller that gives up after 50 ms ...
    let gave_up = tokio::time::timeout(Duration::from_millis(50), limiter.acquire(SITE)).await;
    assert!(gave_up.is_err());
    tokio::time::sleep(Duration::from_millis(50)).await; // the give-back runs on its own task
    // ... leaves the schedule as it was: the next caller waits one second from the
    // first permit, not two.
    let started = Instant::now();
    limiter.acquire(SITE).await.unwrap();
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(1_000), "waited {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_redis_password_is_a_configuration_error_not_a_wait() {
    let Some(redis) = RedisServer::start_with_password("password", "credkit-test-redis-pw") else {
        return;
    };
    limiter(&redis.url(), 100).acquire(SITE).await.unwrap();
    for url in [
        redis.url_with_password("wrong-password-not-real"),
        redis.url_with_password("").replace("?pass=", ""),
    ] {
        let err = limiter(&url, 100).acquire(SITE).await.unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(err.nothing_sent());
        assert!(
            !err.to_string().contains("wrong-password-not-real"),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_while_redis_is_down_then_recover_by_itself() {
    let Some(mut redis) = RedisServer::start("closed") else {
        return;
    };
    let limiter = limiter(&redis.url(), 100);
    limiter.acquire(SITE).await.unwrap();
    redis.stop();
    let started = Instant::now();
    let err = limiter.acquire(SITE).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "hung {:?}",
        started.elapsed()
    );
    let Error::Transport { sent, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(!sent);
    assert_eq!(
        err.transport_failure(),
        Some(cred_core::TransportFailure::SharedState)
    );
    assert!(std::error::Error::source(&err).is_some());
    assert!(message.contains("failing closed"), "{message}");
    assert!(!message.contains("redis.sock"), "the URL leaked: {message}");
    assert_eq!(err.charged(), cred_core::Charged::No);
    redis.restart();
    // The connection comes back by itself within a few tries.
    let mut ok = false;
    for _ in 0..40 {
        if limiter.acquire(SITE).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "no recovery after Redis came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fall_back_to_a_local_share_while_redis_is_down() {
    let Some(mut redis) = RedisServer::start("fallback") else {
        return;
    };
    let limiter = RedisRateLimiter::builder(redis.url(), rate(100))
        .provider("jumdata")
        .account("credkit-test-app")
        .when_unavailable(WhenUnavailable::FallBack { share: 0.25 })
        .build()
        .unwrap();
    redis.stop();
    let started = Instant::now();
    let mut times = Vec::new();
    while started.elapsed() < Duration::from_millis(1500) {
        limiter.acquire(SITE).await.unwrap();
        times.push(cred_core::now_millis());
    }
    let max = max_per_second(&times);
    eprintln!("fallback at 25% of 100/s: max one-second window {max}");
    assert!(max <= 26, "window of {max}");
    assert!(max >= 20, "window of {max}");
}

#[test]
fn bad_urls_are_config_errors_that_quote_nothing() {
    let err = RedisRateLimiter::builder("http://user:pw-secret@x", rate(1))
        .provider("jumdata")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw-secret"), "{err}");
    let l = RedisRateLimiter::builder("redis://:pw-secret@127.0.0.1:1", rate(1))
        .provider("jumdata")
        .account("app")
        .build()
        .unwrap();
    assert!(!format!("{l:?}").contains("pw-secret"));
    assert!(l.key().starts_with("credkit:ratelimit:jumdata:"));
    assert!(!l.key().contains("app"));
}
