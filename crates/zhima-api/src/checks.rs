//! Checks across parameters, run before anything is sent.

use cred_core::{Error, validate};

use crate::generated::JobworthAuthentication;
use crate::types::CertType;

/// The checks that follow from a rule (a resident ID number, `cert_type` 0, must pass
/// GB 11643; `cert_type` needs a `cert_no`): every request, however the client is built.
pub(crate) fn jobworth(r: &JobworthAuthentication) -> Result<(), Error> {
    match (r.get_cert_type(), r.get_cert_no()) {
        (Some(CertType::IdCard), Some(no)) => validate::check_resident_id(no)
            .map(|_| ())
            .map_err(|e| Error::invalid("cert_no", e.reason)),
        (Some(_), None) => Err(Error::invalid("cert_no", "is required with cert_type")),
        _ => Ok(()),
    }
}

/// credkit's reading of the jobworth document, checked before anything is sent unless
/// the client was built with [`crate::ClientBuilder::reading_checks`]`(false)`.
///
/// The document marks every parameter `[optional]`, but describes the query as
/// "根据一次性token查询用户身份认证结果" (the authentication result, read with the one-time
/// token) and says of `user_id` and `open_id` "蚂蚁统一会员ID 和身份证任选一个传入" (pass the
/// member id or the ID number). credkit reads that as: a `once_token`, and one of
/// `user_id`, `open_id` or `cert_no`. `cred batch zhima jobworth` applies it to every row
/// when it plans.
pub fn check_reading(r: &JobworthAuthentication) -> Result<(), Error> {
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    if blank(r.get_once_token()) {
        return Err(Error::invalid(
            "once_token",
            "is required by credkit's reading of the document (\"根据一次性token查询用户身份认证结果\": the result is read with the one-time token handed out when the user went through the authentication); the document marks it optional: build the client with reading_checks(false) to send without it",
        ));
    }
    if blank(r.get_user_id()) && blank(r.get_open_id()) && blank(r.get_cert_no()) {
        return Err(Error::invalid(
            "user_id",
            "one of user_id, open_id or cert_no is required by credkit's reading of the document (\"蚂蚁统一会员ID 和身份证任选一个传入\"); the document marks them optional: build the client with reading_checks(false) to send without them",
        ));
    }
    Ok(())
}
