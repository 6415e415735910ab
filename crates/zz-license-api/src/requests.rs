//! What the generated request types cannot say on their own: their audit scope, checks
//! across parameters, and building a file check from bytes or a path.

use std::path::Path;

use base64::Engine as _;
use cred_core::{Error, validate};

use crate::audit::{AuditScope, ZzRequest};
use crate::generated::{
    ShareDownloadUrl, ShareQueryCertInfo, ShareQueryCertInfoByHolderCode,
    ShareQueryCertInfoByQrcode, ShareVerifyCertFile, ShareVerifyCertInfo,
};
use crate::types::{HolderCodeType, InterfaceType};

/// Largest licence file [`ShareVerifyCertFile::from_path`] reads (20 MiB).
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

impl ZzRequest for ShareDownloadUrl {
    const AUDIT: AuditScope = AuditScope::Full;
}

impl ZzRequest for ShareQueryCertInfo {
    const AUDIT: AuditScope = AuditScope::Full;
}

impl ZzRequest for ShareQueryCertInfoByQrcode {
    const AUDIT: AuditScope = AuditScope::Full;
}

impl ZzRequest for ShareQueryCertInfoByHolderCode {
    const AUDIT: AuditScope = AuditScope::Full;

    /// The holder code type is required for the city interface (the standard: 省库数据非必填,
    /// 市库数据必填); a resident ID number (111) or credit code (001) must carry a correct
    /// check character; a page or size must be positive.
    fn check(&self) -> Result<(), Error> {
        match self.get_holder_code_type() {
            Some(kind) => check_holder_code(kind, self.get_certificate_holder_code())?,
            None if self.get_interface_type() == Some(&InterfaceType::City) => {
                return Err(Error::invalid(
                    "holder_code_type",
                    "is required by the city interface (interfaceType=1; 市库数据必填): the holder code's type, e.g. 111 for a resident ID number or 001 for a unified social credit code",
                ));
            }
            None => {}
        }
        for (field, v) in [("page", self.get_page()), ("size", self.get_size())] {
            if v.is_some_and(|v| v < 1) {
                return Err(Error::invalid(field, "must be at least 1"));
            }
        }
        Ok(())
    }
}

impl ZzRequest for ShareVerifyCertInfo {
    const AUDIT: AuditScope = AuditScope::District;

    /// `certificateData` must be a JSON object (the fields your department registered).
    fn check(&self) -> Result<(), Error> {
        match serde_json::from_str::<serde_json::Value>(self.get_certificate_data()) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(Error::invalid(
                "certificate_data",
                "must be a JSON object of the licence fields to check, e.g. {\"name\":\"...\"}",
            )),
        }
    }
}

impl ZzRequest for ShareVerifyCertFile {
    const AUDIT: AuditScope = AuditScope::District;

    /// `content` must be base64.
    fn check(&self) -> Result<(), Error> {
        let content = self.get_content().trim();
        let ok = content.len().is_multiple_of(4)
            && content
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "content",
                "must be standard base64 (use ShareVerifyCertFile::from_bytes for raw bytes)",
            ))
        }
    }
}

/// Checks a holder code against its type where the type has a check character.
pub fn check_holder_code(kind: &HolderCodeType, code: &str) -> Result<(), Error> {
    let field = "certificate_holder_code";
    match kind {
        HolderCodeType::ResidentId => validate::check_resident_id(code)
            .map(|_| ())
            .map_err(|e| Error::invalid(field, e.reason)),
        HolderCodeType::CreditCode => {
            validate::check_uscc(code).map_err(|e| Error::invalid(field, e.reason))
        }
        _ => Ok(()),
    }
}

impl ShareVerifyCertFile {
    /// A file check of `file` (the bytes of a PDF/OFD licence), base64-encoded here.
    pub fn from_bytes(
        cert_type_code: impl Into<String>,
        file: &[u8],
        use_cause: impl Into<String>,
    ) -> Self {
        let content = base64::engine::general_purpose::STANDARD.encode(file);
        Self::new(cert_type_code, content, use_cause)
    }

    /// A file check of the file at `path` (at most [`MAX_FILE_BYTES`]). An unreadable
    /// or oversized file is an [`Error::InvalidInput`]; nothing is sent.
    pub fn from_path(
        cert_type_code: impl Into<String>,
        path: impl AsRef<Path>,
        use_cause: impl Into<String>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let size = std::fs::metadata(path)
            .map_err(|e| Error::invalid("file", format!("cannot read it: {e}")))?
            .len();
        if size == 0 {
            return Err(Error::invalid("file", "is empty"));
        }
        if size > MAX_FILE_BYTES {
            return Err(Error::invalid(
                "file",
                format!("is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Error::invalid("file", format!("cannot read it: {e}")))?;
        Ok(Self::from_bytes(cert_type_code, &bytes, use_cause))
    }
}
