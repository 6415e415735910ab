//! Checks across parameters, run before anything is sent.

use cred_core::{Error, validate};

use crate::generated::JobworthAuthentication;
use crate::types::CertType;

/// A resident ID number (`cert_type` 0) must pass GB 11643; `cert_type` needs a
/// `cert_no`.
pub(crate) fn jobworth(r: &JobworthAuthentication) -> Result<(), Error> {
    match (r.get_cert_type(), r.get_cert_no()) {
        (Some(CertType::IdCard), Some(no)) => validate::check_resident_id(no)
            .map(|_| ())
            .map_err(|e| Error::invalid("cert_no", e.reason)),
        (Some(_), None) => Err(Error::invalid("cert_no", "is required with cert_type")),
        _ => Ok(()),
    }
}
