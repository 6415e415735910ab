//! The series, recorded through the `metrics` facade (feature `metrics`).

use std::time::Duration;

use metrics::{counter, histogram};

use super::*;
use crate::error::{CallSite, Charged, Error};

/// Describes every series (help text and unit) to the installed recorder; exporters
/// call it once after installing theirs.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        CALLS,
        "Provider calls by outcome, error kind and whether they were charged"
    );
    describe_counter!(
        ATTEMPTS,
        "HTTP attempts of provider calls: first, retries after an error kind, re-authentication"
    );
    describe_histogram!(
        CALL_DURATION,
        Unit::Seconds,
        "Duration of whole provider calls, retries included"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Duration of one HTTP exchange with a provider"
    );
    describe_histogram!(
        RATELIMIT_WAIT,
        Unit::Seconds,
        "Time requests waited for the client-side rate limiter"
    );
    describe_counter!(TOKEN_REQUESTS, "OAuth2 token requests by grant and outcome");
    describe_counter!(
        INVALID_INPUT,
        "Calls refused locally for invalid input: nothing sent, nothing paid"
    );
}

/// One logical call finished.
pub(crate) fn call(
    site: CallSite,
    found: Option<bool>,
    charged: Charged,
    error: Option<ErrorKind>,
    elapsed: Duration,
) {
    let outcome = match (error, found) {
        (Some(_), _) => "error",
        (None, Some(false)) => "not_found",
        (None, _) => "answered",
    };
    let kind = error.map_or("none", ErrorKind::as_str);
    counter!(CALLS, "provider" => site.provider, "operation" => site.operation, "outcome" => outcome, "kind" => kind, "charged" => charged.as_str()).increment(1);
    histogram!(CALL_DURATION, "provider" => site.provider, "operation" => site.operation, "outcome" => outcome).record(elapsed.as_secs_f64());
}

/// One attempt starts: `first`, a retry after `kind`, or a re-authentication.
pub(crate) fn attempt(site: CallSite, reason: &'static str) {
    counter!(ATTEMPTS, "provider" => site.provider, "operation" => site.operation, "reason" => reason).increment(1);
}

/// One HTTP exchange finished (`status` `None`: no answer came).
pub(crate) fn http(provider: &'static str, status: Option<u16>, elapsed: Duration) {
    let status: metrics::SharedString = match status {
        Some(200) => "200".into(),
        Some(s) => s.to_string().into(),
        None => "none".into(),
    };
    histogram!(HTTP_DURATION, "provider" => provider, "status" => status)
        .record(elapsed.as_secs_f64());
}

/// A request waited `waited` for the rate limiter.
pub(crate) fn ratelimit_wait(provider: &'static str, waited: Duration) {
    histogram!(RATELIMIT_WAIT, "provider" => provider).record(waited.as_secs_f64());
}

/// A token request finished with `result`.
pub fn token_request(provider: &'static str, grant: &'static str, result: Result<(), &Error>) {
    let outcome = match result {
        Ok(()) => "ok",
        Err(e) => e.kind().as_str(),
    };
    counter!(TOKEN_REQUESTS, "provider" => provider, "grant" => grant, "outcome" => outcome)
        .increment(1);
}

/// A call was refused locally: `param` (its Rust name) was invalid. The pipeline counts
/// its own refusals; a front end that validates ahead of it (a batch's plan) calls this
/// for the inputs it refuses.
pub fn invalid_input(site: CallSite, param: &'static str) {
    counter!(INVALID_INPUT, "provider" => site.provider, "operation" => site.operation, "param" => param).increment(1);
}

/// The common series of one call site, registered with the recorder on first use and
/// then kept: a call's success path costs no key building or lookup, with a recorder or
/// without. (A recorder installed after the first call of a client is used by the
/// series registered after it: install it at start.) Other outcomes go through the
/// macros.
pub(crate) struct SiteSeries {
    site: CallSite,
    handles: std::sync::OnceLock<Handles>,
}

struct Handles {
    first: metrics::Counter,
    /// By charged: yes, no, unknown.
    answered: [metrics::Counter; 3],
    not_found: [metrics::Counter; 3],
    answered_duration: metrics::Histogram,
    not_found_duration: metrics::Histogram,
}

fn charged_index(c: Charged) -> usize {
    match c {
        Charged::Yes => 0,
        Charged::No => 1,
        Charged::Unknown => 2,
    }
}

impl SiteSeries {
    pub(crate) fn new(site: CallSite) -> Self {
        Self {
            site,
            handles: std::sync::OnceLock::new(),
        }
    }

    fn handles(&self) -> &Handles {
        self.handles.get_or_init(|| {
            let (p, o) = (self.site.provider, self.site.operation);
            let calls = |outcome: &'static str| {
                [Charged::Yes, Charged::No, Charged::Unknown].map(|c| {
                    counter!(CALLS, "provider" => p, "operation" => o, "outcome" => outcome, "kind" => "none", "charged" => c.as_str())
                })
            };
            Handles {
                first: counter!(ATTEMPTS, "provider" => p, "operation" => o, "reason" => "first"),
                answered: calls("answered"),
                not_found: calls("not_found"),
                answered_duration: histogram!(CALL_DURATION, "provider" => p, "operation" => o, "outcome" => "answered"),
                not_found_duration: histogram!(CALL_DURATION, "provider" => p, "operation" => o, "outcome" => "not_found"),
            }
        })
    }

    /// An attempt starts (see [`attempt`]).
    pub(crate) fn attempt(&self, reason: &'static str) {
        if reason == "first" {
            self.handles().first.increment(1);
        } else {
            attempt(self.site, reason);
        }
    }

    /// A call finished (see [`call`]).
    pub(crate) fn call(
        &self,
        found: Option<bool>,
        charged: Charged,
        error: Option<ErrorKind>,
        elapsed: Duration,
    ) {
        let h = self.handles();
        match (error, found) {
            (None, Some(false)) => {
                h.not_found[charged_index(charged)].increment(1);
                h.not_found_duration.record(elapsed.as_secs_f64());
            }
            (None, _) => {
                h.answered[charged_index(charged)].increment(1);
                h.answered_duration.record(elapsed.as_secs_f64());
            }
            (Some(_), _) => call(self.site, found, charged, error, elapsed),
        }
    }
}

/// A transport's `HTTP 200` duration series, kept after first use (a transport serves
/// one provider); other statuses go through the macro.
#[derive(Default)]
pub(crate) struct HttpSeries {
    ok: std::sync::OnceLock<(&'static str, metrics::Histogram)>,
}

impl HttpSeries {
    /// One HTTP exchange finished (see [`http`]).
    pub(crate) fn record(&self, provider: &'static str, status: Option<u16>, elapsed: Duration) {
        if status == Some(200) {
            let (p, h) = self.ok.get_or_init(|| {
                (
                    provider,
                    histogram!(HTTP_DURATION, "provider" => provider, "status" => "200"),
                )
            });
            if *p == provider {
                h.record(elapsed.as_secs_f64());
                return;
            }
        }
        http(provider, status, elapsed);
    }
}
