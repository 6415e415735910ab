//! A licence's status as the platform answers it: revoked, expired or restricted.
//!
//! `head.status` 21 (证照已注销), 22 (证照已过期) and 23 (证照已限制使用) say something
//! about the licence asked for, not that the call failed: the query ran, and no usable
//! licence comes back. The client returns them as answers ([`Answer::found`] is `false`,
//! and no payload is decoded even when one is sent) and [`LicenceStatus::of`] names the
//! status, so that "the call failed" (an [`Error`](cred_core::Error)) is never confused
//! with "the licence is expired".
//!
//! The standard (DB3704/T 0042-2024) publishes only statuses 0 and 2; the meanings of
//! 21-23 are those of the same vendor's other deployments (see the code table in
//! `api.toml`).

use std::fmt;

use cred_core::{Answer, ResponseMeta};

/// The status of a licence that exists but may not be used, from `head.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LicenceStatus {
    /// `21` 证照已注销: the licence was revoked (cancelled).
    Revoked,
    /// `22` 证照已过期: the licence expired.
    Expired,
    /// `23` 证照已限制使用: the licence's use is restricted.
    Restricted,
}

impl LicenceStatus {
    /// Every status, in code order.
    pub const ALL: [LicenceStatus; 3] = [
        LicenceStatus::Revoked,
        LicenceStatus::Expired,
        LicenceStatus::Restricted,
    ];

    /// The status a `head.status` code names (`"22"`), if it names one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The status an answer of this crate's client carries, if any: `None` for a found
    /// licence, for "no matching licence" (status 10), and for any other provider's
    /// answer.
    ///
    /// ```
    /// use zz_license_api::{Answer, LicenceStatus, ResponseMeta};
    ///
    /// let mut meta = ResponseMeta::new("zz_license", "share_query_cert_info");
    /// meta.code = "22".to_owned();
    /// let answer: Answer<()> = Answer::new(None, meta);
    /// assert!(!answer.found());
    /// assert_eq!(LicenceStatus::of(&answer), Some(LicenceStatus::Expired));
    /// ```
    pub fn of<T>(answer: &Answer<T>) -> Option<Self> {
        Self::of_meta(answer.meta())
    }

    /// [`LicenceStatus::of`] from an answer's metadata.
    pub fn of_meta(meta: &ResponseMeta) -> Option<Self> {
        if meta.provider != "zz_license" {
            return None;
        }
        Self::from_code(&meta.code)
    }

    /// The `head.status` code: `21`, `22`, `23`.
    pub fn code(self) -> &'static str {
        match self {
            LicenceStatus::Revoked => "21",
            LicenceStatus::Expired => "22",
            LicenceStatus::Restricted => "23",
        }
    }

    /// `revoked`, `expired` or `restricted` (its JSON form too).
    pub fn as_str(self) -> &'static str {
        match self {
            LicenceStatus::Revoked => "revoked",
            LicenceStatus::Expired => "expired",
            LicenceStatus::Restricted => "restricted",
        }
    }

    /// The platform's words: 证照已注销, 证照已过期, 证照已限制使用.
    pub fn description(self) -> &'static str {
        match self {
            LicenceStatus::Revoked => "证照已注销",
            LicenceStatus::Expired => "证照已过期",
            LicenceStatus::Restricted => "证照已限制使用",
        }
    }
}

impl fmt::Display for LicenceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_other_providers_are_not_read() {
        for s in LicenceStatus::ALL {
            assert_eq!(LicenceStatus::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for code in ["0", "2", "10", "20", "24", "100", ""] {
            assert_eq!(LicenceStatus::from_code(code), None, "{code}");
        }
        let mut meta = ResponseMeta::new("jumdata", "credential_query");
        meta.code = "22".to_owned();
        assert_eq!(LicenceStatus::of_meta(&meta), None);
        meta.provider = "zz_license";
        assert_eq!(LicenceStatus::of_meta(&meta), Some(LicenceStatus::Expired));
    }
}
