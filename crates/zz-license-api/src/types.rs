//! The platform's small code lists as enums: interface level, call category, holder code
//! types (GB/T 36903), and the verification result codes.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use cred_core::WireValue;
use serde::{Deserialize, Serialize};

/// 接口类型 (`interfaceType`): which database answers, the province's (default) or the
/// city's. The two answer in different shapes; every result type decodes both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InterfaceType {
    /// `0`: 省接口, the provincial licence database (the platform's default).
    #[default]
    Province,
    /// `1`: 市接口, the city licence database.
    City,
}

impl InterfaceType {
    /// The wire code (`0`, `1`).
    pub fn code(self) -> &'static str {
        match self {
            InterfaceType::Province => "0",
            InterfaceType::City => "1",
        }
    }

    /// `province` or `city`.
    pub fn as_str(self) -> &'static str {
        match self {
            InterfaceType::Province => "province",
            InterfaceType::City => "city",
        }
    }

    /// The level a `head.type` value names (`1` province, `2` city).
    pub fn from_head_type(value: &str) -> Option<Self> {
        match value.trim() {
            "1" => Some(InterfaceType::Province),
            "2" => Some(InterfaceType::City),
            _ => None,
        }
    }
}

impl WireValue for InterfaceType {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.code())
    }
}

/// 调用类别 (`certificateCallCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CallCategory {
    /// `0`: 事项调用, a call made while handling a registered government matter.
    Matter,
    /// `1`: 非事项调用, any other call.
    NonMatter,
}

impl CallCategory {
    /// The wire code (`0`, `1`).
    pub fn code(self) -> &'static str {
        match self {
            CallCategory::Matter => "0",
            CallCategory::NonMatter => "1",
        }
    }
}

impl FromStr for CallCategory {
    type Err = String;

    /// `0`/`matter` or `1`/`non-matter`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "0" | "matter" => Ok(CallCategory::Matter),
            "1" | "non-matter" | "nonmatter" => Ok(CallCategory::NonMatter),
            _ => Err("call category must be 0 (matter) or 1 (non-matter)".to_owned()),
        }
    }
}

impl WireValue for CallCategory {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.code())
    }
}

/// 证照主体 (`whose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Whose {
    /// `0`: 个人, a natural person.
    Person,
    /// `1`: 法人, a legal person.
    LegalPerson,
}

impl WireValue for Whose {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Whose::Person => "0",
            Whose::LegalPerson => "1",
        })
    }
}

/// 证照类型 (`category`): a licence or an approval document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LicenceCategory {
    /// `1`: 证照.
    Licence,
    /// `0`: 批文.
    Approval,
}

impl WireValue for LicenceCategory {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            LicenceCategory::Licence => "1",
            LicenceCategory::Approval => "0",
        })
    }
}

/// 持证主体代码类型 (GB/T 36903): what a holder code is. Codes not listed here are
/// kept in [`HolderCodeType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HolderCodeType {
    /// `001` 统一社会信用代码: unified social credit code.
    CreditCode,
    /// `099` 其他法人或其他组织有效证照号码: other organisation code.
    OtherOrganisation,
    /// `111` 居民身份证: resident ID number.
    ResidentId,
    /// `114` 中国人民解放军军官证.
    MilitaryOfficer,
    /// `115` 中国人民武装警察部队警官证.
    ArmedPoliceOfficer,
    /// `118` 中国人民解放军士兵证.
    Soldier,
    /// `119` 中国人民武装警察部队士兵证.
    ArmedPoliceSoldier,
    /// `120` 中国人民解放军文职人员证.
    MilitaryCivilian,
    /// `122` 中国人民武装警察部队文职人员证.
    ArmedPoliceCivilian,
    /// `411` 外交护照.
    DiplomaticPassport,
    /// `412` 公务护照.
    ServicePassport,
    /// `413` 因公普通护照.
    OfficialOrdinaryPassport,
    /// `414` 普通护照.
    Passport,
    /// `511` 台湾居民来往大陆通行证.
    TaiwanPermit,
    /// `516` 港澳居民来往内地通行证.
    HongKongMacaoPermit,
    /// `999` 其他: other.
    OtherDocument,
    /// A three-digit code this list does not name.
    Other(String),
}

const HOLDER_CODES: &[(&str, HolderCodeType, &str)] = &[
    ("001", HolderCodeType::CreditCode, "统一社会信用代码"),
    ("099", HolderCodeType::OtherOrganisation, "其他组织代码"),
    ("111", HolderCodeType::ResidentId, "居民身份证"),
    ("114", HolderCodeType::MilitaryOfficer, "军官证"),
    ("115", HolderCodeType::ArmedPoliceOfficer, "武警警官证"),
    ("118", HolderCodeType::Soldier, "士兵证"),
    ("119", HolderCodeType::ArmedPoliceSoldier, "武警士兵证"),
    ("120", HolderCodeType::MilitaryCivilian, "军队文职人员证"),
    ("122", HolderCodeType::ArmedPoliceCivilian, "武警文职人员证"),
    ("411", HolderCodeType::DiplomaticPassport, "外交护照"),
    ("412", HolderCodeType::ServicePassport, "公务护照"),
    (
        "413",
        HolderCodeType::OfficialOrdinaryPassport,
        "因公普通护照",
    ),
    ("414", HolderCodeType::Passport, "普通护照"),
    (
        "511",
        HolderCodeType::TaiwanPermit,
        "台湾居民来往大陆通行证",
    ),
    (
        "516",
        HolderCodeType::HongKongMacaoPermit,
        "港澳居民来往内地通行证",
    ),
    ("999", HolderCodeType::OtherDocument, "其他"),
];

impl HolderCodeType {
    /// The three-digit code.
    pub fn code(&self) -> &str {
        match self {
            HolderCodeType::Other(code) => code,
            known => HOLDER_CODES
                .iter()
                .find(|(_, t, _)| t == known)
                .map(|(c, _, _)| *c)
                .unwrap_or("999"),
        }
    }

    /// The Chinese name of a listed code (`None` for [`HolderCodeType::Other`]).
    pub fn title(&self) -> Option<&'static str> {
        HOLDER_CODES
            .iter()
            .find(|(_, t, _)| t == self)
            .map(|(_, _, n)| *n)
    }

    /// Parses a three-digit code; unknown codes become [`HolderCodeType::Other`].
    pub fn from_code(code: &str) -> Result<Self, String> {
        let code = code.trim();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                "holder code type must be a three-digit GB/T 36903 code (111 resident ID, 001 credit code, ...)"
                    .to_owned(),
            );
        }
        Ok(HOLDER_CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, t, _)| t.clone())
            .unwrap_or_else(|| HolderCodeType::Other(code.to_owned())))
    }
}

impl FromStr for HolderCodeType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HolderCodeType::from_code(s)
    }
}

impl fmt::Display for HolderCodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.title() {
            Some(title) => write!(f, "{} {title}", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

impl WireValue for HolderCodeType {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.code())
    }
}

/// Result of a licence data check (4.3.4, `data.dataList[].result`; the city interface
/// answers `verifyResult "true"` or something else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DataCheck {
    /// `0` 信息正确且有效: the data is right and the licence valid.
    Valid,
    /// `1` 信息正确且未激活: right, licence not activated.
    NotActivated,
    /// `2` 信息正确且证照暂时失效: right, licence temporarily invalid.
    TemporarilyInvalid,
    /// `3` 信息正确且证照已失效: right, licence no longer valid.
    Invalid,
    /// `4` 信息不全无法验证: not enough data to check.
    Incomplete,
    /// `5` 查无此信息: no such licence.
    NotFound,
    /// City interface: `verifyResult` other than `true` (the check failed).
    Failed,
    /// A code the platform does not document.
    Unknown(i64),
}

impl DataCheck {
    /// The meaning of a province result code.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => DataCheck::Valid,
            1 => DataCheck::NotActivated,
            2 => DataCheck::TemporarilyInvalid,
            3 => DataCheck::Invalid,
            4 => DataCheck::Incomplete,
            5 => DataCheck::NotFound,
            other => DataCheck::Unknown(other),
        }
    }

    /// Whether the data matched a valid licence.
    pub fn is_valid(self) -> bool {
        self == DataCheck::Valid
    }

    /// The standard's words for it.
    pub fn description(self) -> &'static str {
        match self {
            DataCheck::Valid => "信息正确且有效",
            DataCheck::NotActivated => "信息正确且未激活",
            DataCheck::TemporarilyInvalid => "信息正确且证照暂时失效",
            DataCheck::Invalid => "信息正确且证照已失效",
            DataCheck::Incomplete => "信息不全无法验证",
            DataCheck::NotFound => "查无此信息",
            DataCheck::Failed => "校验失败",
            DataCheck::Unknown(_) => "未知结果",
        }
    }
}

/// Result of a licence file check (4.3.5, `data.result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FileCheck {
    /// `0` 验证通过: seal, file and licence all check out.
    Passed,
    /// `1` 签章校验失败: the seal does not verify.
    SealInvalid,
    /// `2` 文件校验失败: the file was altered or is damaged.
    FileInvalid,
    /// `3` 证照未激活: licence not activated.
    NotActivated,
    /// `4` 证照暂时失效: licence temporarily invalid.
    TemporarilyInvalid,
    /// `5` 证照已失效: licence no longer valid.
    Invalid,
    /// City interface: `verifyResult` other than `true`.
    Failed,
    /// A code the platform does not document.
    Unknown(i64),
}

impl FileCheck {
    /// The meaning of a result code.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => FileCheck::Passed,
            1 => FileCheck::SealInvalid,
            2 => FileCheck::FileInvalid,
            3 => FileCheck::NotActivated,
            4 => FileCheck::TemporarilyInvalid,
            5 => FileCheck::Invalid,
            other => FileCheck::Unknown(other),
        }
    }

    /// Whether the file passed every check.
    pub fn is_valid(self) -> bool {
        self == FileCheck::Passed
    }

    /// The standard's words for it.
    pub fn description(self) -> &'static str {
        match self {
            FileCheck::Passed => "验证通过",
            FileCheck::SealInvalid => "签章校验失败",
            FileCheck::FileInvalid => "文件校验失败",
            FileCheck::NotActivated => "证照未激活",
            FileCheck::TemporarilyInvalid => "证照暂时失效",
            FileCheck::Invalid => "证照已失效",
            FileCheck::Failed => "校验失败",
            FileCheck::Unknown(_) => "未知结果",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_code_types_round_trip() {
        for (code, t, _) in HOLDER_CODES {
            assert_eq!(HolderCodeType::from_code(code).unwrap(), *t);
            assert_eq!(t.code(), *code);
        }
        assert_eq!(
            HolderCodeType::from_code("123").unwrap(),
            HolderCodeType::Other("123".into())
        );
        assert_eq!(HolderCodeType::Other("123".into()).code(), "123");
        assert_eq!(HolderCodeType::ResidentId.to_string(), "111 居民身份证");
        for bad in ["11", "1111", "abc", ""] {
            assert!(HolderCodeType::from_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn result_codes_have_the_standards_meanings() {
        assert_eq!(DataCheck::from_code(0), DataCheck::Valid);
        assert_eq!(DataCheck::from_code(4).description(), "信息不全无法验证");
        assert_eq!(DataCheck::from_code(5), DataCheck::NotFound);
        assert_eq!(DataCheck::from_code(9), DataCheck::Unknown(9));
        assert_eq!(FileCheck::from_code(1).description(), "签章校验失败");
        assert_eq!(FileCheck::from_code(5), FileCheck::Invalid);
        assert!(FileCheck::from_code(0).is_valid());
    }

    #[test]
    fn wire_codes() {
        assert_eq!(InterfaceType::City.wire_value(), "1");
        assert_eq!(InterfaceType::default().wire_value(), "0");
        assert_eq!(CallCategory::NonMatter.wire_value(), "1");
        assert_eq!(
            "matter".parse::<CallCategory>().unwrap(),
            CallCategory::Matter
        );
        assert_eq!(Whose::LegalPerson.wire_value(), "1");
        assert_eq!(LicenceCategory::Approval.wire_value(), "0");
    }
}
