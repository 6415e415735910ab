//! Checks across parameters, run before anything is sent.

use cred_core::{Error, validate};

use crate::generated::JobworthAuthentication;
use crate::types::CertType;

/// A `once_token` and one of `user_id`, `open_id`, `cert_no` are required; a resident ID
/// number (`cert_type` 0) must pass GB 11643; `cert_type` needs a `cert_no`.
pub(crate) fn jobworth(r: &JobworthAuthentication) -> Result<(), Error> {
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    // The seed: the query is answered for a once_token (查询身份认证结果的凭证), and the
    // member id or the ID number is to be passed (蚂蚁统一会员ID 和身份证任选一个传入).
    // Without them the gateway cannot answer: refuse before a paid call.
    if blank(r.get_once_token()) {
        return Err(Error::invalid(
            "once_token",
            "is required: it is the credential of the query (查询身份认证结果的凭证), handed out when the user went through the authentication",
        ));
    }
    if blank(r.get_user_id()) && blank(r.get_open_id()) && blank(r.get_cert_no()) {
        return Err(Error::invalid(
            "user_id",
            "one of user_id, open_id or cert_no is required (蚂蚁统一会员ID 和身份证任选一个传入)",
        ));
    }
    match (r.get_cert_type(), r.get_cert_no()) {
        (Some(CertType::IdCard), Some(no)) => validate::check_resident_id(no)
            .map(|_| ())
            .map_err(|e| Error::invalid("cert_no", e.reason)),
        (Some(_), None) => Err(Error::invalid("cert_no", "is required with cert_type")),
        _ => Ok(()),
    }
}
