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
    /// The parameter's name in the SDK (what errors name).
    pub rust_name: &'static str,
    /// Its type.
    pub kind: FieldKind,
    /// Whether the body must give it.
    pub required: bool,
    /// What it is, with the provider's wire name.
    pub description: &'static str,
}

/// One operation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Operation {
    /// `jumdata`, `juhe`, `zz-license`, `zhima`.
    pub provider: &'static str,
    /// As on the command line: `credential`, `by-holder`, ...
    pub name: &'static str,
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

const fn f(
    name: &'static str,
    rust_name: &'static str,
    kind: FieldKind,
    required: bool,
    description: &'static str,
) -> Field {
    Field {
        name,
        rust_name,
        kind,
        required,
        description,
    }
}

use FieldKind::{Base64, Boolean, Integer, String as Str};

const CITY: Field = f(
    "city",
    "interface_type",
    Boolean,
    false,
    "true: the city interface (市级, interfaceType 2) instead of the province one",
);

const CERTIFICATE_ID: Field = f(
    "certificate-id",
    "certificate_id",
    Str,
    true,
    "证照标识: the licence's identifier (certificateIdentifier)",
);

const CERT_TYPE: Field = f(
    "cert-type",
    "cert_type_code",
    Str,
    true,
    "证照类型代码: the licence type (certificateTypeCode)",
);

/// Every operation, in the order of the docs.
pub static OPERATIONS: &[Operation] = &[
    Operation {
        provider: "jumdata",
        name: "credential",
        summary: "职业资格证书核验: a person's professional-qualification certificates",
        fields: &[
            f("name", "name", Str, true, "姓名: the holder's name (name)"),
            f(
                "idcard",
                "idcard",
                Str,
                true,
                "身份证号: the 18-character resident ID number (idcard)",
            ),
            f(
                "certificate-no",
                "certificate_no",
                Str,
                false,
                "证书编号: one certificate's number (certificateNo)",
            ),
        ],
        file: false,
    },
    Operation {
        provider: "jumdata",
        name: "idcard",
        summary: "身份证二要素核验: whether a name and an ID number belong together",
        fields: &[
            f("name", "name", Str, true, "姓名: the name (name)"),
            f(
                "idcard",
                "idcard",
                Str,
                true,
                "身份证号: the 18-character resident ID number (idcard)",
            ),
        ],
        file: false,
    },
    Operation {
        provider: "juhe",
        name: "administrative-license",
        summary: "行政许可信息: a company's administrative licences, by name",
        fields: &[
            f(
                "name",
                "name",
                Str,
                true,
                "企业名称或统一社会信用代码: the company (name)",
            ),
            f(
                "skip",
                "skip",
                Integer,
                false,
                "跳过条数: records to skip, for paging (skip)",
            ),
        ],
        file: false,
    },
    Operation {
        provider: "juhe",
        name: "qualification",
        summary: "建筑企业资质: a construction company's qualifications, by name",
        fields: &[f(
            "name",
            "name",
            Str,
            true,
            "企业名称: the company's name (name)",
        )],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "by-holder",
        summary: "证照持有主体代码获取证照信息: a holder's licences of one type",
        fields: &[
            f(
                "holder-code",
                "holder_code",
                Str,
                true,
                "证照持有主体代码: ID number or unified social credit code (certificateHolderCode)",
            ),
            f(
                "holder-type",
                "holder_type",
                Str,
                false,
                "持证主体代码类型: the holder code's type code (certificateHolderCodeType)",
            ),
            CERT_TYPE,
            f(
                "certificate-number",
                "certificate_number",
                Str,
                false,
                "证照编号: one licence's number (certificateNumber)",
            ),
            CITY,
        ],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "info",
        summary: "证照标识获取证照信息: one licence, by its identifier",
        fields: &[CERTIFICATE_ID, CITY],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "by-qrcode",
        summary: "二维码获取证照信息: the licence behind a licence QR code",
        fields: &[
            f(
                "qr",
                "qr_value",
                Str,
                true,
                "二维码内容: the QR code's text (qrCodeValue)",
            ),
            CITY,
        ],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "verify",
        summary: "证照数据核验: whether licence data matches the platform's record",
        fields: &[
            CERT_TYPE,
            f(
                "holder-code",
                "holder_code",
                Str,
                true,
                "证照持有主体代码: ID number or credit code (certificateHolderCode)",
            ),
            f(
                "data",
                "certificate_data",
                Str,
                true,
                "核验数据: the licence data to check, as the platform's JSON text (certificateData)",
            ),
            f(
                "use-for",
                "use_for",
                Str,
                true,
                "用途: what the check is for (useFor)",
            ),
            CITY,
        ],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "verify-file",
        summary: "证照文件核验: whether a licence file (PDF/OFD) is genuine",
        fields: &[
            CERT_TYPE,
            f(
                "file",
                "content",
                Base64,
                true,
                "the file's bytes, base64-encoded (at most 20 MiB before encoding)",
            ),
            f(
                "use-cause",
                "use_cause",
                Str,
                true,
                "核验事由: why the file is checked (useCause)",
            ),
            CITY,
        ],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "download-url",
        summary: "获取证照下载地址: a download link for a licence file",
        fields: &[
            CERTIFICATE_ID,
            f(
                "expiry",
                "expiry_time",
                Str,
                false,
                "链接有效期: how long the link stays valid (expiryTime)",
            ),
        ],
        file: false,
    },
    Operation {
        provider: "zz-license",
        name: "download",
        summary: "证照文件下载: the licence file itself (the link is asked and followed)",
        fields: &[CERTIFICATE_ID],
        file: true,
    },
    Operation {
        provider: "zhima",
        name: "jobworth",
        summary: "职得身份认证结果查询: an occupation-identity authentication's result",
        fields: &[
            f(
                "conn-key",
                "conn_key",
                Str,
                false,
                "第一步的 out_agreement_no (conn_key)",
            ),
            f(
                "once-token",
                "once_token",
                Str,
                false,
                "查询凭证: the one-time token (once_token)",
            ),
            f(
                "query-type",
                "query_type",
                Str,
                false,
                "exact or dim (query_type)",
            ),
            f(
                "identity-type",
                "identity_type",
                Str,
                false,
                "身份类型 (identity_type)",
            ),
            f(
                "service-id",
                "service_id",
                Str,
                false,
                "服务 id (service_id)",
            ),
            f("user-id", "user_id", Str, false, "支付宝用户 id (user_id)"),
            f("open-id", "open_id", Str, false, "open_id"),
            f("cert-no", "cert_no", Str, false, "证件号码 (cert_no)"),
            f(
                "cert-type",
                "cert_type",
                Str,
                false,
                "证件类型: a number from 0 to 5 (cert_type)",
            ),
        ],
        file: false,
    },
];

/// The operation `provider/name`, if offered.
pub fn find(provider: &str, name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.provider == provider && o.name == name)
}
