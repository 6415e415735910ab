//! The operations the gateway offers: `POST /v1/{provider}/{operation}`, named as on
//! the `cred` command line, with the body fields named as `cred batch` columns.
//!
//! This table drives routing, the body check ([`crate::Fields`]), the OpenAPI document
//! and the `/docs` page, so the three cannot disagree.

/// A body field's JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A JSON string.
    String,
    /// A whole number (a string of digits is accepted as well).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A file's bytes, base64-encoded (standard alphabet, padded).
    Base64,
}

impl FieldKind {
    /// What a value must be, in words.
    pub fn expected(self) -> &'static str {
        match self {
            FieldKind::String | FieldKind::Base64 => "a string",
            FieldKind::Integer => "a whole number",
            FieldKind::Boolean => "true or false",
        }
    }
}

/// One body field.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Field {
    /// The JSON name (the `cred batch` column).
    pub name: &'static str,
    /// The parameter's name in the SDK and its spec (what errors name).
    pub rust_name: &'static str,
    /// Its type.
    pub kind: FieldKind,
    /// Whether the body must give it.
    pub required: bool,
    /// What it is, for a field of the gateway's own (`None`: the provider's spec says,
    /// see [`Field::description`]).
    own_description: Option<&'static str>,
}

impl Field {
    /// What the field is: the provider spec's documentation of the parameter (with its
    /// wire name), or the gateway's own words for a field of its own.
    pub fn description(&self, op: &Operation) -> String {
        if let Some(own) = self.own_description {
            return own.to_owned();
        }
        match spec_param(op, self.rust_name) {
            Some(p) => format!("{} (`{}`)", p.doc, p.wire),
            None => String::new(),
        }
    }
}

/// The spec's parameter behind `rust_name` of `op`'s endpoint.
pub(crate) fn spec_param(op: &Operation, rust_name: &str) -> Option<&'static crate::params::Param> {
    let provider = op.provider.replace('-', "_");
    crate::params::PARAMS
        .iter()
        .find(|p| p.provider == provider && p.endpoint == op.endpoint && p.name == rust_name)
}

/// One operation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Operation {
    /// `jumdata`, `juhe`, `zz-license`, `zhima`.
    pub provider: &'static str,
    /// As on the command line: `credential`, `by-holder`, ...
    pub name: &'static str,
    /// The SDK client method (the spec's endpoint): `credential_query`, ...
    pub endpoint: &'static str,
    /// One line: what it answers (with the provider's Chinese name).
    pub summary: &'static str,
    /// The body's fields.
    pub fields: &'static [Field],
    /// Whether the answer is a file (`zz-license download`), not JSON.
    pub file: bool,
}

impl Operation {
    /// `/v1/{provider}/{operation}`.
    pub fn path(&self) -> String {
        format!("/v1/{}/{}", self.provider, self.name)
    }

    /// `provider/operation`, as caller permissions name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider, self.name)
    }
}

use FieldKind::{Base64, Boolean, Integer, String as Str};

/// A field backed by the spec's parameter `rust_name` (its documentation comes from the
/// spec).
const fn p(name: &'static str, rust_name: &'static str, kind: FieldKind, required: bool) -> Field {
    Field {
        name,
        rust_name,
        kind,
        required,
        own_description: None,
    }
}

const CITY: Field = Field {
    name: "city",
    rust_name: "interface_type",
    kind: Boolean,
    required: false,
    own_description: Some(
        "true: the city interface (市级, interfaceType 2) instead of the province one",
    ),
};

const CERTIFICATE_ID: Field = p("certificate-id", "certificate_id", Str, true);
const CERT_TYPE: Field = p("cert-type", "cert_type_code", Str, true);
const NAME: Field = p("name", "name", Str, true);
const IDCARD: Field = p("idcard", "idcard", Str, true);

const fn op(
    provider: &'static str,
    name: &'static str,
    endpoint: &'static str,
    summary: &'static str,
    fields: &'static [Field],
) -> Operation {
    Operation {
        provider,
        name,
        endpoint,
        summary,
        fields,
        file: false,
    }
}

/// Every operation, in the order of the docs.
pub static OPERATIONS: &[Operation] = &[
    op(
        "jumdata",
        "credential",
        "credential_query",
        "职业资格证书核验: a person's professional-qualification certificates",
        &[
            NAME,
            IDCARD,
            p("certificate-no", "certificate_no", Str, false),
        ],
    ),
    op(
        "jumdata",
        "idcard",
        "idcard_check",
        "身份证二要素核验: whether a name and an ID number belong together",
        &[NAME, IDCARD],
    ),
    op(
        "juhe",
        "administrative-license",
        "administrative_license_list_by_name",
        "行政许可信息: a company's administrative licences, by name",
        &[NAME, p("skip", "skip", Integer, false)],
    ),
    op(
        "juhe",
        "qualification",
        "con_lic_by_name",
        "建筑企业资质: a construction company's qualifications, by name",
        &[NAME],
    ),
    op(
        "zz-license",
        "by-holder",
        "share_query_cert_info_by_holder_code",
        "证照持有主体代码获取证照信息: a holder's licences of one type",
        &[
            p("holder-code", "certificate_holder_code", Str, true),
            p("holder-type", "holder_code_type", Str, false),
            CERT_TYPE,
            p("certificate-number", "certificate_number", Str, false),
            CITY,
        ],
    ),
    op(
        "zz-license",
        "info",
        "share_query_cert_info",
        "证照标识获取证照信息: one licence, by its identifier",
        &[CERTIFICATE_ID, CITY],
    ),
    op(
        "zz-license",
        "by-qrcode",
        "share_query_cert_info_by_qrcode",
        "二维码获取证照信息: the licence behind a licence QR code",
        &[p("qr", "qr_value", Str, true), CITY],
    ),
    op(
        "zz-license",
        "verify",
        "share_verify_cert_info",
        "证照数据核验: whether licence data matches the platform's record",
        &[
            CERT_TYPE,
            p("holder-code", "certificate_holder_code", Str, true),
            p("data", "certificate_data", Str, true),
            p("use-for", "use_for", Str, true),
            CITY,
        ],
    ),
    op(
        "zz-license",
        "verify-file",
        "share_verify_cert_file",
        "证照文件核验: whether a licence file (PDF/OFD) is genuine",
        &[
            CERT_TYPE,
            Field {
                name: "file",
                rust_name: "content",
                kind: Base64,
                required: true,
                own_description: Some(
                    "the licence file's bytes, base64-encoded (at most 20 MiB before encoding); sent as `content`",
                ),
            },
            p("use-cause", "use_cause", Str, true),
            CITY,
        ],
    ),
    op(
        "zz-license",
        "download-url",
        "share_download_url",
        "获取证照下载地址: a download link for a licence file",
        &[CERTIFICATE_ID, p("expiry", "expiry_time", Str, false)],
    ),
    Operation {
        file: true,
        ..op(
            "zz-license",
            "download",
            "share_download_url",
            "证照文件下载: the licence file itself (the link is asked and followed)",
            &[CERTIFICATE_ID],
        )
    },
    op(
        "zhima",
        "jobworth",
        "jobworth_authentication",
        "职得身份认证结果查询: an occupation-identity authentication's result",
        &[
            p("conn-key", "conn_key", Str, false),
            p("once-token", "once_token", Str, false),
            p("query-type", "query_type", Str, false),
            p("identity-type", "identity_type", Str, false),
            p("service-id", "service_id", Str, false),
            p("user-id", "user_id", Str, false),
            p("open-id", "open_id", Str, false),
            p("cert-no", "cert_no", Str, false),
            p("cert-type", "cert_type", Str, false),
        ],
    ),
];

/// The operation `provider/name`, if offered.
pub fn find(provider: &str, name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.provider == provider && o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table agrees with the specs: every field but the gateway's own is a
    /// parameter of its operation's endpoint, required exactly when the spec says, of a
    /// kind its type allows; every required parameter has a field.
    #[test]
    fn every_field_is_a_spec_parameter_of_a_matching_kind() {
        for op in OPERATIONS {
            for f in op.fields {
                let Some(param) = spec_param(op, f.rust_name) else {
                    assert!(
                        f.own_description.is_some(),
                        "{} {}: {} is in no spec",
                        op.provider,
                        op.name,
                        f.rust_name
                    );
                    continue;
                };
                if f.own_description.is_none() {
                    assert_eq!(
                        f.required, param.required,
                        "{} {}: {}",
                        op.provider, op.name, f.name
                    );
                }
                let fits = match f.kind {
                    FieldKind::Integer => param.ty == "int",
                    FieldKind::Boolean => param.ty == "bool" || param.ty == "InterfaceType",
                    FieldKind::String | FieldKind::Base64 => {
                        param.ty != "int" && param.ty != "bool"
                    }
                };
                assert!(
                    fits,
                    "{} {}: {} is {:?}, the spec says {}",
                    op.provider, op.name, f.name, f.kind, param.ty
                );
                assert!(!f.description(op).is_empty());
            }
            let provider = op.provider.replace('-', "_");
            for param in crate::params::PARAMS
                .iter()
                .filter(|p| p.provider == provider && p.endpoint == op.endpoint && p.required)
            {
                assert!(
                    op.fields.iter().any(|f| f.rust_name == param.name),
                    "{} {}: the required {} has no field",
                    op.provider,
                    op.name,
                    param.name
                );
            }
        }
    }
}
