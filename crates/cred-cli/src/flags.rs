//! Errors in the words a `cred` user typed: an SDK error about a parameter (`holder_code_type`,
//! `user_id`, `certificateCopyCause`) names the command's flag (`--holder-type`,
//! `--user-id`, `--cause`) and, where the flag has one, its environment variable.

use cred_core::Error;

/// One parameter of a command: the SDK's name for it (the field of an
/// `Error::InvalidInput`; a wire name for the audit context), its flag, and the variable
/// that can stand for the flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The SDK's name.
    pub field: &'static str,
    /// The flag, `--holder-type`.
    pub flag: &'static str,
    /// The environment variable the flag falls back to, if any.
    pub env: Option<&'static str>,
}

/// A flag without a variable.
pub const fn flag(field: &'static str, flag: &'static str) -> Flag {
    Flag {
        field,
        flag,
        env: None,
    }
}

/// A flag with a variable.
pub const fn with_env(field: &'static str, flag: &'static str, env: &'static str) -> Flag {
    Flag {
        field,
        flag,
        env: Some(env),
    }
}

/// The audit context of the licence platform: flag and variable of each field.
pub const AUDIT: &[Flag] = &[
    with_env(
        "certificateSystemName",
        "--system-name",
        "ZZ_LICENSE_SYSTEM_NAME",
    ),
    with_env(
        "certificateCallCategory",
        "--call-category",
        "ZZ_LICENSE_CALL_CATEGORY",
    ),
    with_env(
        "certificateMatterName",
        "--matter-name",
        "ZZ_LICENSE_MATTER_NAME",
    ),
    with_env(
        "certificateEventCode",
        "--event-code",
        "ZZ_LICENSE_EVENT_CODE",
    ),
    with_env("certificateCopyCause", "--cause", "ZZ_LICENSE_COPY_CAUSE"),
    with_env("callDistrict", "--district", "ZZ_LICENSE_CALL_DISTRICT"),
    with_env(
        "callDepartment",
        "--department",
        "ZZ_LICENSE_CALL_DEPARTMENT",
    ),
    with_env(
        "districtLevel",
        "--district-level",
        "ZZ_LICENSE_DISTRICT_LEVEL",
    ),
];

/// `e` in the command's words: an `InvalidInput` about one of `flags` names the flag
/// (and its variable), and every SDK name in its reason becomes its flag; anything else
/// is returned as it is.
pub fn name_flags(e: Error, flags: &[Flag]) -> Error {
    let Error::InvalidInput { field, reason, .. } = &e else {
        return e;
    };
    let Some(own) = flags.iter().find(|f| f.field == *field) else {
        return e;
    };
    let mut reason = reason.clone();
    // Builder advice of the SDK (`set it with AuditContext::cause (or VAR) ...`) becomes
    // the flag and the variable.
    if let Some((head, _)) = reason.split_once(": set it with") {
        reason = head.to_owned();
    }
    for f in flags {
        reason = replace_word(&reason, f.field, f.flag);
    }
    if let Some(env) = own.env
        && !reason.contains(env)
    {
        reason.push_str(&format!(" (give {} or set {env})", own.flag));
    }
    Error::invalid(own.flag, reason)
}

/// `text` with `word` (not part of a longer identifier) replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(ident) || after.is_some_and(ident) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A provider's configuration error from its variables, said for `cred`: which variables
/// to set, or `--sandbox` to try without them. (The SDK's own hint, the sandbox recipe
/// for a library user, gives way to the flag.)
pub fn missing_credentials(error: Error, variables: &str) -> Error {
    match error {
        Error::Config { message, .. } => {
            let message = message
                .split(cred_core::secret::SANDBOX_HINT)
                .next()
                .unwrap_or_default()
                .trim_end();
            Error::config(format!("{message} (set {variables}, or try --sandbox)"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_names_become_flags_and_variables() {
        let flags = [
            flag("user_id", "--user-id"),
            flag("open_id", "--open-id"),
            flag("cert_no", "--cert-no"),
        ];
        let e = name_flags(
            Error::invalid("user_id", "one of user_id, open_id or cert_no is required"),
            &flags,
        );
        assert_eq!(
            e.to_string(),
            "invalid --user-id: one of --user-id, --open-id or --cert-no is required (nothing was sent)"
        );
        let e = name_flags(
            Error::invalid(
                "certificateCopyCause",
                "is required by this interface: set it with AuditContext::copy_cause (or ZZ_LICENSE_COPY_CAUSE) on the client",
            ),
            AUDIT,
        );
        assert_eq!(
            e.to_string(),
            "invalid --cause: is required by this interface (give --cause or set ZZ_LICENSE_COPY_CAUSE) (nothing was sent)"
        );
        // Not a parameter of the command: as it was.
        let e = name_flags(Error::invalid("other", "x"), &flags);
        assert!(e.to_string().starts_with("invalid other"));
        assert_eq!(
            replace_word("cert_no_x cert_no", "cert_no", "--c"),
            "cert_no_x --c"
        );
    }
}
