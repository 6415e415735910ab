//! The SDK request each operation builds from named values: a gateway body's fields, or
//! a `cred batch` row's columns (the same names). One place, so a gateway call and a
//! batch row with the same values send the same request.
//!
//! Each builder applies the rules that need more than one value or a conversion (a
//! holder type's code, the licence platform's cross-parameter checks, a count that
//! cannot be negative); the request's own `validate` runs when it is sent.

use cred_core::Error;

/// Named values: `get` gives a value trimmed, `None` when absent or empty.
pub trait Named {
    /// The value of `name`.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Named for crate::Fields {
    fn get(&self, name: &str) -> Option<&str> {
        crate::Fields::get(self, name)
    }
}

fn text<'a>(values: &'a dyn Named, name: &str) -> &'a str {
    values.get(name).unwrap_or_default()
}

fn level(city: bool) -> zz_license_api::InterfaceType {
    if city {
        zz_license_api::InterfaceType::City
    } else {
        zz_license_api::InterfaceType::Province
    }
}

/// `jumdata credential`: `name`, `idcard`, `certificate-no`.
pub fn jumdata_credential(values: &dyn Named) -> jumdata_api::CredentialQuery {
    let mut q = jumdata_api::CredentialQuery::new(text(values, "name"), text(values, "idcard"));
    if let Some(no) = values.get("certificate-no") {
        q = q.certificate_no(no);
    }
    q
}

/// `jumdata idcard`: `name`, `idcard`.
pub fn jumdata_idcard(values: &dyn Named) -> jumdata_api::IdcardCheck {
    jumdata_api::IdcardCheck::new(text(values, "name"), text(values, "idcard"))
}

/// `juhe qualification`: `name`.
pub fn juhe_qualification(values: &dyn Named) -> juhe_api::ConLicByName {
    juhe_api::ConLicByName::new(text(values, "name"))
}

/// `juhe administrative-license`: `name`, `skip` (跳过条目数, a count: 0 or more).
pub fn juhe_administrative_license(
    values: &dyn Named,
) -> Result<juhe_api::AdministrativeLicenseListByName, Error> {
    let mut q = juhe_api::AdministrativeLicenseListByName::new(text(values, "name"));
    if let Some(skip) = values.get("skip") {
        let n = skip
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                Error::invalid("skip", "must be a whole number of records, 0 or more")
            })?;
        q = q.skip(n);
    }
    Ok(q)
}

/// `zz-license by-holder`: `holder-code`, `cert-type`, `holder-type`,
/// `certificate-number`; the city interface when `city`.
pub fn zz_by_holder(
    values: &dyn Named,
    city: bool,
) -> Result<zz_license_api::ShareQueryCertInfoByHolderCode, Error> {
    let mut q = zz_license_api::ShareQueryCertInfoByHolderCode::new(
        text(values, "holder-code"),
        text(values, "cert-type"),
    )
    .interface_type(level(city));
    if let Some(t) = values.get("holder-type") {
        let kind = zz_license_api::HolderCodeType::from_code(t)
            .map_err(|reason| Error::invalid("holder_type", reason))?;
        q = q.holder_code_type(kind);
    }
    if let Some(no) = values.get("certificate-number") {
        q = q.certificate_number(no);
    }
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zz-license info`: `certificate-id`.
pub fn zz_info(
    values: &dyn Named,
    city: bool,
) -> Result<zz_license_api::ShareQueryCertInfo, Error> {
    let q = zz_license_api::ShareQueryCertInfo::new(text(values, "certificate-id"))
        .interface_type(level(city));
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zz-license by-qrcode`: `qr`.
pub fn zz_by_qrcode(
    values: &dyn Named,
    city: bool,
) -> Result<zz_license_api::ShareQueryCertInfoByQrcode, Error> {
    let q = zz_license_api::ShareQueryCertInfoByQrcode::new(text(values, "qr"))
        .interface_type(level(city));
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zz-license verify`: `cert-type`, `holder-code`, `data`, `use-for`.
pub fn zz_verify(
    values: &dyn Named,
    city: bool,
) -> Result<zz_license_api::ShareVerifyCertInfo, Error> {
    let q = zz_license_api::ShareVerifyCertInfo::new(
        text(values, "cert-type"),
        text(values, "data"),
        text(values, "use-for"),
        text(values, "holder-code"),
    )
    .interface_type(level(city));
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zz-license verify-file`: `cert-type`, `file` (the file's bytes in base64, at most
/// `zz_license_api::MAX_FILE_BYTES` decoded), `use-cause`.
pub fn zz_verify_file(
    values: &dyn Named,
    city: bool,
) -> Result<zz_license_api::ShareVerifyCertFile, Error> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text(values, "file"))
        .map_err(|_| {
            Error::invalid(
                "file",
                "must be the file's bytes in base64 (standard alphabet, padded)",
            )
        })?;
    if bytes.is_empty() {
        return Err(Error::invalid("file", "is empty"));
    }
    if bytes.len() as u64 > zz_license_api::MAX_FILE_BYTES {
        return Err(Error::invalid(
            "file",
            format!(
                "is {} bytes, more than the {}-byte limit",
                bytes.len(),
                zz_license_api::MAX_FILE_BYTES
            ),
        ));
    }
    let q = zz_license_api::ShareVerifyCertFile::from_bytes(
        text(values, "cert-type"),
        &bytes,
        text(values, "use-cause"),
    )
    .interface_type(level(city));
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zz-license download-url` (and `download`): `certificate-id`, `expiry`.
pub fn zz_download_url(values: &dyn Named) -> Result<zz_license_api::ShareDownloadUrl, Error> {
    let mut q = zz_license_api::ShareDownloadUrl::new(text(values, "certificate-id"));
    if let Some(e) = values.get("expiry") {
        q = q.expiry_time(e);
    }
    zz_license_api::ZzRequest::check(&q)?;
    Ok(q)
}

/// `zhima jobworth`: `conn-key`, `once-token`, `query-type` (exact or dim),
/// `identity-type`, `service-id`, `user-id`, `open-id`, `cert-no`, `cert-type` (0 to 5).
pub fn zhima_jobworth(values: &dyn Named) -> Result<zhima_api::JobworthAuthentication, Error> {
    let mut q = zhima_api::JobworthAuthentication::new();
    if let Some(v) = values.get("conn-key") {
        q = q.conn_key(v);
    }
    if let Some(v) = values.get("once-token") {
        q = q.once_token(v);
    }
    if let Some(v) = values.get("query-type") {
        q = q.query_type(match v.to_ascii_lowercase().as_str() {
            "exact" => zhima_api::QueryType::Exact,
            "dim" => zhima_api::QueryType::Dim,
            _ => return Err(Error::invalid("query_type", "must be exact or dim")),
        });
    }
    if let Some(v) = values.get("identity-type") {
        q = q.identity_type(v);
    }
    if let Some(v) = values.get("service-id") {
        q = q.service_id(v);
    }
    if let Some(v) = values.get("user-id") {
        q = q.user_id(v);
    }
    if let Some(v) = values.get("open-id") {
        q = q.open_id(v);
    }
    if let Some(v) = values.get("cert-no") {
        q = q.cert_no(v);
    }
    if let Some(v) = values.get("cert-type") {
        let code = v
            .parse::<u8>()
            .ok()
            .and_then(zhima_api::CertType::from_code)
            .ok_or_else(|| Error::invalid("cert_type", "must be a number from 0 to 5"))?;
        q = q.cert_type(code);
    }
    Ok(q)
}
