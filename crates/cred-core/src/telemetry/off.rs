//! Without the `metrics` feature: the same functions, recording nothing.

use std::time::Duration;

use crate::error::{CallSite, Charged, Error, ErrorKind};

/// Describes every series to the installed recorder; without the `metrics` feature
/// there is none, and this does nothing.
pub fn describe() {}

pub(crate) fn call(
    _site: CallSite,
    _found: Option<bool>,
    _charged: Charged,
    _error: Option<ErrorKind>,
    _elapsed: Duration,
) {
}

pub(crate) fn attempt(_site: CallSite, _reason: &'static str) {}

pub(crate) fn ratelimit_wait(_provider: &'static str, _waited: Duration) {}

/// A token request finished (recorded with the `metrics` feature only).
pub fn token_request(_provider: &'static str, _grant: &'static str, _result: Result<(), &Error>) {}

/// A call was refused locally (recorded with the `metrics` feature only).
pub fn invalid_input(_site: CallSite, _param: &'static str) {}

pub(crate) struct SiteSeries;

impl SiteSeries {
    pub(crate) fn new(_site: CallSite) -> Self {
        SiteSeries
    }

    pub(crate) fn attempt(&self, _reason: &'static str) {}

    pub(crate) fn call(
        &self,
        _found: Option<bool>,
        _charged: Charged,
        _error: Option<ErrorKind>,
        _elapsed: Duration,
    ) {
    }
}

#[derive(Default)]
pub(crate) struct HttpSeries;

impl HttpSeries {
    pub(crate) fn record(&self, _provider: &'static str, _status: Option<u16>, _elapsed: Duration) {
    }
}
