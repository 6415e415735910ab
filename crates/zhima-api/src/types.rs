//! The jobworth query's code lists: query type, certificate type, identity result.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use cred_core::WireValue;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `query_type`: how the identity is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryType {
    /// `exact`: 精确查询.
    Exact,
    /// `dim`: 模糊查询 (fuzzy).
    Dim,
}

impl WireValue for QueryType {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            QueryType::Exact => "exact",
            QueryType::Dim => "dim",
        })
    }
}

impl FromStr for QueryType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "exact" => Ok(QueryType::Exact),
            "dim" => Ok(QueryType::Dim),
            _ => Err("query type must be `exact` or `dim`".to_owned()),
        }
    }
}

/// `cert_type`: the kind of certificate `cert_no` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertType {
    /// `0` 身份证: resident ID card (GB 11643 number, checked locally).
    IdCard,
    /// `1` 护照: passport.
    Passport,
    /// `2` 回乡证: home-return permit.
    HomeReturnPermit,
    /// `3` 港澳往来通行证: Hong Kong / Macao travel permit.
    HongKongMacaoPermit,
    /// `4` 台湾往来通行证: Taiwan travel permit.
    TaiwanPermit,
    /// `5` 港澳证件: Hong Kong / Macao identity document.
    HongKongMacaoId,
}

impl CertType {
    /// The wire code, `0`-`5`.
    pub fn code(self) -> u8 {
        match self {
            CertType::IdCard => 0,
            CertType::Passport => 1,
            CertType::HomeReturnPermit => 2,
            CertType::HongKongMacaoPermit => 3,
            CertType::TaiwanPermit => 4,
            CertType::HongKongMacaoId => 5,
        }
    }

    /// The type of a wire code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => CertType::IdCard,
            1 => CertType::Passport,
            2 => CertType::HomeReturnPermit,
            3 => CertType::HongKongMacaoPermit,
            4 => CertType::TaiwanPermit,
            5 => CertType::HongKongMacaoId,
            _ => return None,
        })
    }
}

impl WireValue for CertType {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Owned(self.code().to_string())
    }
}

/// `identity_result`: the outcome of the authentication. Values Alipay adds later are
/// kept in [`IdentityResult::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityResult {
    /// `SUCCESS`: the identity is confirmed.
    Success,
    /// `FAILED`: the identity is not confirmed.
    Failed,
    /// `WAITING_VERIFY`: not decided yet; query again later.
    WaitingVerify,
    /// Any other value, as sent.
    Other(String),
}

impl IdentityResult {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            IdentityResult::Success => "SUCCESS",
            IdentityResult::Failed => "FAILED",
            IdentityResult::WaitingVerify => "WAITING_VERIFY",
            IdentityResult::Other(s) => s,
        }
    }

    /// Whether the identity is confirmed.
    pub fn is_success(&self) -> bool {
        *self == IdentityResult::Success
    }
}

impl From<&str> for IdentityResult {
    fn from(s: &str) -> Self {
        match s.trim() {
            "SUCCESS" => IdentityResult::Success,
            "FAILED" => IdentityResult::Failed,
            "WAITING_VERIFY" => IdentityResult::WaitingVerify,
            other => IdentityResult::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for IdentityResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IdentityResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdentityResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(IdentityResult::from(s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_results_round_trip_and_keep_unknown_values() {
        for v in ["SUCCESS", "FAILED", "WAITING_VERIFY", "NEW_STATE"] {
            let r: IdentityResult = serde_json::from_str(&format!("\"{v}\"")).unwrap();
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{v}\""));
        }
        assert!(IdentityResult::from("SUCCESS").is_success());
        assert_eq!(
            IdentityResult::from("NEW_STATE"),
            IdentityResult::Other("NEW_STATE".into())
        );
    }

    #[test]
    fn wire_codes() {
        assert_eq!(QueryType::Dim.wire_value(), "dim");
        for code in 0..=5 {
            assert_eq!(CertType::from_code(code).unwrap().code(), code);
        }
        assert_eq!(CertType::from_code(6), None);
        assert_eq!(CertType::TaiwanPermit.wire_value(), "4");
    }
}
