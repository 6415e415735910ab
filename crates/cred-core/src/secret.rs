//! Secrets: credentials are [`SecretString`]s, exposed only inside a signer.

pub use secrecy::{ExposeSecret, SecretString};

/// Reads an environment variable as a secret; `None` when unset or empty.
pub fn secret_from_env(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| SecretString::from(v.trim().to_owned()))
}

/// Reads a non-secret environment variable; `None` when unset or empty.
pub fn var_from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The error of a `Config::from_env` whose variable `name` is not set: names it, and how
/// to try the SDK without credentials (the `cred` command's sandbox writes every provider's
/// variables).
pub fn missing_var(name: &str) -> crate::Error {
    crate::Error::config(format!(
        "{name} is not set{SANDBOX_HINT}`cred sandbox serve --env-file sandbox.env --background && . ./sandbox.env` sets every provider's variables to the sandbox's test values)"
    ))
}

/// Where [`missing_var`]'s hint begins (a tool with a better one, such as `cred`'s
/// `--sandbox`, cuts the message there).
pub const SANDBOX_HINT: &str = " (to try without credentials: ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_secret_is_redacted() {
        let s = SecretString::from("hunter2-hunter2".to_owned());
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert_eq!(s.expose_secret(), "hunter2-hunter2");
    }
}
