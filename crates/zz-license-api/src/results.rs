//! Typed answers. The province and city interfaces answer each query in a different
//! shape; every type here decodes both and says which one it got (`shape` in JSON).
//!
//! The shape is recognised from the records themselves (a province record carries a
//! `cert_identifier`, a city record `certificateNumber`, `fileUrl`, ...); `head.type`
//! (`1` province, `2` city) decides when the records do not (an empty list).

use serde::de::{Deserialize, Deserializer};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::generated::{
    CityDownloadLink, CityLicence, CityQrLicence, ProvinceCheck, ProvinceDownloadLink,
    ProvinceLicence,
};
use crate::types::{DataCheck, FileCheck, InterfaceType};

/// A result type the envelope decoder can build from `data` and `head.type`.
pub trait Shaped: Sized {
    /// Whether `data` may be a bare string (only the file check answers one).
    const ACCEPTS_TEXT: bool = false;

    /// Builds the result from `data`; `hint` is the level `head.type` named, if any.
    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String>;

    /// Whether the answer holds nothing (an empty list): reported as "not found".
    fn is_empty(&self) -> bool;
}

fn describe(e: serde_json::Error) -> String {
    cred_core::lenient::describe_json_error(&e)
}

/// `{total, dataList: [...]}` (some deployments name the list `data`).
fn list_parts(data: &Value) -> Result<(Option<i64>, &[Value]), String> {
    let Value::Object(map) = data else {
        return Err(format!(
            "expected an object with `dataList`, got {}",
            kind_of(data)
        ));
    };
    let total = match map.get("total") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let list = map.get("dataList").or_else(|| map.get("data"));
    match list {
        Some(Value::Array(items)) => Ok((total, items.as_slice())),
        None | Some(Value::Null) => Ok((total, &[])),
        Some(other) => Err(format!("`dataList` is {}, not a list", kind_of(other))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The level the records' keys show, if they show one.
fn sniff(items: &[Value], city_keys: &[&str], province_keys: &[&str]) -> Option<InterfaceType> {
    let first = items.iter().find_map(Value::as_object)?;
    if city_keys.iter().any(|k| first.contains_key(*k)) {
        Some(InterfaceType::City)
    } else if province_keys.iter().any(|k| first.contains_key(*k)) {
        Some(InterfaceType::Province)
    } else {
        None
    }
}

fn items<T: for<'de> Deserialize<'de>>(items: &[Value]) -> Result<Vec<T>, String> {
    items
        .iter()
        .map(|v| T::deserialize(v).map_err(describe))
        .collect()
}

macro_rules! deserialize_via_shape {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(d)?;
                <$t as Shaped>::from_data(&value, None).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Licences found by identifier (4.3.3) or by holder (4.3.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Licences {
    /// The province answer: identifiers with holder fields.
    Province {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The licences.
        items: Vec<ProvinceLicence>,
    },
    /// The city answer: full records.
    City {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The licences.
        items: Vec<CityLicence>,
    },
}

impl Licences {
    /// Which interface answered.
    pub fn shape(&self) -> InterfaceType {
        match self {
            Licences::Province { .. } => InterfaceType::Province,
            Licences::City { .. } => InterfaceType::City,
        }
    }

    /// Number of licences in the answer.
    pub fn len(&self) -> usize {
        match self {
            Licences::Province { items, .. } => items.len(),
            Licences::City { items, .. } => items.len(),
        }
    }

    /// Whether the answer lists no licence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The identifiers to ask download links for (4.3.2 `certificateID`): province
    /// `cert_identifier`s; city records' `fileNumber`s.
    ///
    /// The document's city example of the holder query (4.3.7) is cut off, and its 4.3.3
    /// city example carries no identifier; 4.3.2 says the holder and QR-code queries
    /// return the identifier ("证照持有主体代码获取证照信息接口/二维码获取证照信息接口有返回此值"),
    /// and the city QR-code answer calls it `fileNumber` ("此接口返回 fileNumber
    /// (证照标识)"): a city record's `fileNumber` is taken as its identifier, credkit's
    /// reading. A city record without one (its licence number, `certificateNumber`, is
    /// not documented as an identifier) gives none.
    pub fn identifiers(&self) -> Vec<&str> {
        match self {
            Licences::Province { items, .. } => items
                .iter()
                .filter_map(|l| l.cert_identifier.as_deref())
                .collect(),
            Licences::City { items, .. } => items
                .iter()
                .filter_map(|l| l.fields.get("fileNumber").and_then(Value::as_str))
                .collect(),
        }
    }
}

impl Shaped for Licences {
    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String> {
        let (total, list) = list_parts(data)?;
        let level = sniff(
            list,
            &[
                "certificateNumber",
                "certificateHolder",
                "certificateName",
                "issueDept",
                "certificateHolderCode",
            ],
            &["cert_identifier", "certIdentifier", "certno", "gmsfhm"],
        )
        .or(hint)
        .unwrap_or_default();
        Ok(match level {
            InterfaceType::Province => Licences::Province {
                total,
                items: items(list)?,
            },
            InterfaceType::City => Licences::City {
                total,
                items: items(list)?,
            },
        })
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

deserialize_via_shape!(Licences);

/// Download links of an annotated copy (4.3.2), valid about 10 minutes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "lowercase")]
#[non_exhaustive]
pub enum DownloadLinks {
    /// The province answer.
    Province {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The links.
        items: Vec<ProvinceDownloadLink>,
    },
    /// The city answer.
    City {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The links.
        items: Vec<CityDownloadLink>,
    },
}

impl DownloadLinks {
    /// Which interface answered.
    pub fn shape(&self) -> InterfaceType {
        match self {
            DownloadLinks::Province { .. } => InterfaceType::Province,
            DownloadLinks::City { .. } => InterfaceType::City,
        }
    }

    /// The download URLs, in order.
    pub fn urls(&self) -> Vec<&str> {
        match self {
            DownloadLinks::Province { items, .. } => {
                items.iter().filter_map(|l| l.content.as_deref()).collect()
            }
            DownloadLinks::City { items, .. } => {
                items.iter().filter_map(|l| l.file_url.as_deref()).collect()
            }
        }
    }

    /// The first download URL, if any.
    pub fn first_url(&self) -> Option<&str> {
        self.urls().into_iter().next()
    }

    /// The file format the platform announced for the first link (city answers only).
    pub fn announced_format(&self) -> Option<&str> {
        match self {
            DownloadLinks::City { items, .. } => items.first()?.file_format.as_deref(),
            DownloadLinks::Province { .. } => None,
        }
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        match self {
            DownloadLinks::Province { items, .. } => items.len(),
            DownloadLinks::City { items, .. } => items.len(),
        }
    }

    /// Whether the answer holds no link.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Shaped for DownloadLinks {
    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String> {
        let (total, list) = list_parts(data)?;
        let level = sniff(
            list,
            &["fileUrl", "fileFormat", "issueDept", "certificateNumber"],
            &[
                "certIdentifier",
                "cert_identifier",
                "content",
                "contentType",
            ],
        )
        .or(hint)
        .unwrap_or_default();
        Ok(match level {
            InterfaceType::Province => DownloadLinks::Province {
                total,
                items: items(list)?,
            },
            InterfaceType::City => DownloadLinks::City {
                total,
                items: items(list)?,
            },
        })
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

deserialize_via_shape!(DownloadLinks);

/// The licence behind a QR code (4.3.6).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "lowercase")]
#[non_exhaustive]
pub enum QrLicence {
    /// The province answer: a list of identifiers with holder fields.
    Province {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The licences.
        items: Vec<ProvinceLicence>,
    },
    /// The city answer: one record.
    City {
        /// The licence.
        licence: Box<CityQrLicence>,
    },
}

impl QrLicence {
    /// Which interface answered.
    pub fn shape(&self) -> InterfaceType {
        match self {
            QrLicence::Province { .. } => InterfaceType::Province,
            QrLicence::City { .. } => InterfaceType::City,
        }
    }

    /// The identifiers to ask download links for (province `cert_identifier`s, the city
    /// record's `fileNumber`).
    pub fn identifiers(&self) -> Vec<&str> {
        match self {
            QrLicence::Province { items, .. } => items
                .iter()
                .filter_map(|l| l.cert_identifier.as_deref())
                .collect(),
            QrLicence::City { licence } => licence.file_number.as_deref().into_iter().collect(),
        }
    }
}

impl Shaped for QrLicence {
    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String> {
        let is_list = data
            .as_object()
            .is_some_and(|m| m.contains_key("dataList") || m.contains_key("total"));
        if is_list || (hint == Some(InterfaceType::Province) && !data.is_object()) {
            let (total, list) = list_parts(data)?;
            return Ok(QrLicence::Province {
                total,
                items: items(list)?,
            });
        }
        if !data.is_object() {
            return Err(format!("expected an object, got {}", kind_of(data)));
        }
        Ok(QrLicence::City {
            licence: Box::new(CityQrLicence::deserialize(data).map_err(describe)?),
        })
    }

    fn is_empty(&self) -> bool {
        match self {
            QrLicence::Province { items, .. } => items.is_empty(),
            QrLicence::City { .. } => false,
        }
    }
}

deserialize_via_shape!(QrLicence);

fn truthy(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Result of a licence data check (4.3.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "lowercase")]
#[non_exhaustive]
pub enum DataVerification {
    /// The province answer: result codes 0-5 with their text.
    Province {
        /// `total` as the platform counted.
        total: Option<i64>,
        /// The results (normally one).
        items: Vec<ProvinceCheck>,
    },
    /// The city answer: `verifyResult`, `true` when the data checks out.
    City {
        /// `verifyResult` as sent.
        verify_result: Option<String>,
    },
}

impl DataVerification {
    /// Which interface answered.
    pub fn shape(&self) -> InterfaceType {
        match self {
            DataVerification::Province { .. } => InterfaceType::Province,
            DataVerification::City { .. } => InterfaceType::City,
        }
    }

    /// The outcome: the first province result code, or the city's true/false.
    pub fn outcome(&self) -> DataCheck {
        match self {
            DataVerification::Province { items, .. } => items
                .iter()
                .find_map(|i| i.result)
                .map(DataCheck::from_code)
                .unwrap_or(DataCheck::Unknown(-1)),
            DataVerification::City { verify_result } => match verify_result.as_deref() {
                Some(v) if v.trim().eq_ignore_ascii_case("true") => DataCheck::Valid,
                _ => DataCheck::Failed,
            },
        }
    }

    /// The platform's words for the outcome (province answers).
    pub fn message(&self) -> Option<&str> {
        match self {
            DataVerification::Province { items, .. } => {
                items.iter().find_map(|i| i.message.as_deref())
            }
            DataVerification::City { .. } => None,
        }
    }
}

impl Shaped for DataVerification {
    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String> {
        if let Some(map) = data.as_object()
            && map.contains_key("verifyResult")
        {
            return Ok(DataVerification::City {
                verify_result: truthy(map.get("verifyResult")),
            });
        }
        let (total, list) = list_parts(data)?;
        let _ = hint;
        Ok(DataVerification::Province {
            total,
            items: items(list)?,
        })
    }

    fn is_empty(&self) -> bool {
        match self {
            DataVerification::Province { items, .. } => items.is_empty(),
            DataVerification::City { verify_result } => verify_result.is_none(),
        }
    }
}

deserialize_via_shape!(DataVerification);

/// Result of a licence file check (4.3.5).
///
/// The standard documents `data.result` / `data.message` but its example answers `data` as
/// one opaque string; that string is kept in [`FileVerification::text`] and
/// [`FileVerification::outcome`] is then `None`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FileVerification {
    /// Which interface answered (as far as the answer shows).
    pub shape: InterfaceType,
    /// `result`: 0 passed, 1-5 failures (see [`FileCheck`]).
    pub result: Option<i64>,
    /// `message`: the platform's words for the result.
    pub message: Option<String>,
    /// City answers: `verifyResult` as sent.
    pub verify_result: Option<String>,
    /// `data` when the platform answered a bare string.
    pub text: Option<String>,
}

impl FileVerification {
    /// The outcome, when the answer carries one.
    pub fn outcome(&self) -> Option<FileCheck> {
        if let Some(code) = self.result {
            return Some(FileCheck::from_code(code));
        }
        let v = self.verify_result.as_deref()?;
        Some(if v.trim().eq_ignore_ascii_case("true") {
            FileCheck::Passed
        } else {
            FileCheck::Failed
        })
    }
}

impl Serialize for FileVerification {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("shape", &self.shape)?;
        m.serialize_entry("result", &self.result)?;
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("outcome", &self.outcome())?;
        m.serialize_entry("verify_result", &self.verify_result)?;
        m.serialize_entry("text", &self.text)?;
        m.end()
    }
}

impl Shaped for FileVerification {
    const ACCEPTS_TEXT: bool = true;

    fn from_data(data: &Value, hint: Option<InterfaceType>) -> Result<Self, String> {
        let mut out = FileVerification {
            shape: hint.unwrap_or_default(),
            result: None,
            message: None,
            verify_result: None,
            text: None,
        };
        match data {
            Value::String(text) => out.text = Some(text.clone()),
            Value::Object(map) if map.contains_key("verifyResult") => {
                out.shape = InterfaceType::City;
                out.verify_result = truthy(map.get("verifyResult"));
            }
            Value::Object(map) if map.contains_key("result") => {
                let check = ProvinceCheck::deserialize(data).map_err(describe)?;
                out.result = check.result;
                out.message = check.message;
                let _ = map;
            }
            Value::Object(_) => {
                let (_, list) = list_parts(data)?;
                let checks: Vec<ProvinceCheck> = items(list)?;
                if let Some(first) = checks.into_iter().next() {
                    out.result = first.result;
                    out.message = first.message;
                }
            }
            other => {
                return Err(format!(
                    "expected an object or text, got {}",
                    kind_of(other)
                ));
            }
        }
        Ok(out)
    }

    fn is_empty(&self) -> bool {
        self.result.is_none() && self.verify_result.is_none() && self.text.is_none()
    }
}

deserialize_via_shape!(FileVerification);

/// The raw `data` of an answer, as `Client::call_raw` returns it: anything the platform
/// sends (a bare string too); "not found" when it is `null` or an empty list.
impl Shaped for Value {
    const ACCEPTS_TEXT: bool = true;

    fn from_data(data: &Value, _hint: Option<InterfaceType>) -> Result<Self, String> {
        Ok(data.clone())
    }

    fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn licences_in_both_shapes() {
        let province = Licences::from_data(
            &json(r#"{"total":1,"dataList":[{"certno":"37082619880XXXXXX","gmsfhm":"37082619880XXXXXX","name":"XX","cert_identifier":"1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8","zzmc":"驾驶证"}]}"#),
            Some(InterfaceType::Province),
        )
        .unwrap();
        let Licences::Province { total, items } = &province else {
            panic!("{province:?}")
        };
        assert_eq!(*total, Some(1));
        assert_eq!(items[0].name.as_deref(), Some("XX"));
        assert_eq!(items[0].fields["zzmc"], "驾驶证");
        assert_eq!(province.identifiers().len(), 1);

        // No head.type in city answers: the records' keys decide.
        let city = Licences::from_data(
            &json(r#"{"total":"1","dataList":[{"certificateHolder":"陈 xx","certificateValidateStart":"2013 年 09 月 23 日","certificateValidateEnd":"2016 年 09 月 22 日","issueDept":"XX 市无线电管理处","certificateName":"中国 XXXX 操作证书","certificateHolderType":"111","certificateNumber":"A000002576","issueDeptCode":"12370400F49201558F","certificateHolderCode":"37040319XXX1209","detail":[],"issueDate":"2013 年 09 月 23 日","digitalSign":"","certificateType":"中国 XXXX 操作证书"}]}"#),
            None,
        )
        .unwrap();
        let Licences::City { total, items } = &city else {
            panic!("{city:?}")
        };
        assert_eq!(*total, Some(1));
        let l = &items[0];
        assert_eq!(l.certificate_number.as_deref(), Some("A000002576"));
        assert_eq!(
            l.valid_until
                .as_ref()
                .and_then(|d| d.date())
                .map(|d| d.to_string()),
            Some("2016-09-22".to_owned())
        );
        let debug = format!("{city:?}");
        assert!(
            !debug.contains("陈 xx") && !debug.contains("A000002576"),
            "{debug}"
        );
        let out = serde_json::to_value(&city).unwrap();
        assert_eq!(out["shape"], "city");
        assert_eq!(out["items"][0]["certificateNumber"], "A000002576");
    }

    #[test]
    fn empty_lists_follow_the_hint() {
        let empty = json(r#"{"total":0,"data":[]}"#);
        let city = Licences::from_data(&empty, Some(InterfaceType::City)).unwrap();
        assert_eq!(city.shape(), InterfaceType::City);
        assert!(city.is_empty());
        assert_eq!(
            Licences::from_data(&empty, None).unwrap().shape(),
            InterfaceType::Province
        );
    }

    #[test]
    fn download_links_in_both_shapes() {
        let p = DownloadLinks::from_data(
            &json(r#"{"total":1,"dataList":[{"certIdentifier":"1.2.156.3005.2.X.Y.Z.001.0","contentType":"http","content":"http://h/CertShare/zzgxp/download?id=fe7d"}]}"#),
            None,
        )
        .unwrap();
        assert_eq!(
            p.first_url(),
            Some("http://h/CertShare/zzgxp/download?id=fe7d")
        );
        let c = DownloadLinks::from_data(
            &json(r#"{"total":1,"dataList":[{"issueDept":"机构","certificateNumber":"N1","fileUrl":"http://h/x?fileId=a&fileFormat=OFD","issueDate":"2013 年 09 月 24 日","fileFormat":"OFD","CertificateType":"类型"}]}"#),
            None,
        )
        .unwrap();
        let DownloadLinks::City { items, .. } = &c else {
            panic!()
        };
        assert_eq!(items[0].certificate_type.as_deref(), Some("类型"));
        assert_eq!(c.announced_format(), Some("OFD"));
        assert_eq!(c.urls(), vec!["http://h/x?fileId=a&fileFormat=OFD"]);
    }

    #[test]
    fn verifications_in_both_shapes() {
        let p = DataVerification::from_data(
            &json(r#"{"total":1,"dataList":[{"result":"3","message":"信息正确且证照已失效"}]}"#),
            Some(InterfaceType::Province),
        )
        .unwrap();
        assert_eq!(p.outcome(), DataCheck::Invalid);
        assert_eq!(p.message(), Some("信息正确且证照已失效"));
        let c = DataVerification::from_data(&json(r#"{"verifyResult":"true"}"#), None).unwrap();
        assert_eq!(c.outcome(), DataCheck::Valid);
        let c = DataVerification::from_data(&json(r#"{"verifyResult":false}"#), None).unwrap();
        assert_eq!(c.outcome(), DataCheck::Failed);

        let f =
            FileVerification::from_data(&json(r#"{"result":1,"message":"签章校验失败"}"#), None)
                .unwrap();
        assert_eq!(f.outcome(), Some(FileCheck::SealInvalid));
        let f = FileVerification::from_data(&json(r#""04D4FB95943B9E04""#), None).unwrap();
        assert_eq!(f.outcome(), None);
        assert_eq!(f.text.as_deref(), Some("04D4FB95943B9E04"));
    }

    #[test]
    fn qr_answers_in_both_shapes() {
        let c = QrLicence::from_data(
            &json(r#"{"img_sign_fileid":"5b30","license_name":"中国 XXXX 操作证书","fileNumber":"02-12370400F49201558F-51-370481198304040037-00-A000102935","issue_unitname":"XX 市 XXX 局","valid_time_begin":"2017-11-15","holder":"张 XX","license_state":"正常有效","valid_time_end":"2020-11-14","licenseId":"46b8","abstractCode":"5cgedf2j6","license_number":"37082619880430XXXX"}"#),
            None,
        )
        .unwrap();
        assert_eq!(c.shape(), InterfaceType::City);
        assert_eq!(
            c.identifiers(),
            vec!["02-12370400F49201558F-51-370481198304040037-00-A000102935"]
        );
        let p = QrLicence::from_data(
            &json(r#"{"total":1,"dataList":[{"name":"张 XX","cert_identifier":"1.2.156.3005.2.A.B.C.001.8"}]}"#),
            None,
        )
        .unwrap();
        assert_eq!(p.identifiers(), vec!["1.2.156.3005.2.A.B.C.001.8"]);
    }

    #[test]
    fn wrong_shapes_are_described_without_values() {
        let err = Licences::from_data(&json(r#"{"dataList":"张三 321083197812162119"}"#), None)
            .unwrap_err();
        assert!(err.contains("not a list") && !err.contains("张三"), "{err}");
        let err =
            Licences::from_data(&json(r#"{"dataList":[{"name":["张三"]}]}"#), None).unwrap_err();
        assert!(!err.contains("张三"), "{err}");
    }
}
