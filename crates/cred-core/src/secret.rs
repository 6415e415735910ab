//! Secrets: credentials are [`Secret`]s, exposed only inside a signer.

use std::fmt;

/// A credential (an app secret, a key, a password, a token): `Debug` never shows it, it
/// is zeroed in memory when dropped, and [`Secret::expose`] is the one way to read it,
/// meant for signers and token requests only.
///
/// credkit's own type, so that no third-party pre-1.0 type is part of the public API
/// (it wraps `secrecy`'s `SecretString`, an implementation detail).
///
/// ```
/// use cred_core::Secret;
///
/// let secret = Secret::from("hunter2-hunter2");
/// assert_eq!(format!("{secret:?}"), "Secret([redacted])");
/// assert_eq!(secret.expose(), "hunter2-hunter2");
/// ```
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(secrecy::SecretString::from(value.into()))
    }

    /// The secret's value. Call it only where the value is used (a signature, a token
    /// request), never to print or log it.
    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }

    /// Whether the value is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.expose().trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Reads an environment variable as a secret; `None` when unset or empty.
pub fn secret_from_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim()))
}

/// Reads a non-secret environment variable; `None` when unset or empty.
pub fn var_from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Reads an environment variable holding a value or `@path`, the path of a file holding
/// it (keys and certificates); `None` when unset or empty. A file that cannot be read
/// is an [`Error::Config`](crate::Error::Config) naming the variable and the path.
pub fn value_or_file(name: &str) -> Result<Option<String>, crate::Error> {
    let Some(value) = var_from_env(name) else {
        return Ok(None);
    };
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path.trim())
            .map(Some)
            .map_err(|e| crate::Error::config(format!("{name}: cannot read {}: {e}", path.trim()))),
        None => Ok(Some(value)),
    }
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
        let s = Secret::from("hunter2-hunter2".to_owned());
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert_eq!(s.expose(), "hunter2-hunter2");
        assert!(Secret::from(" \t").is_blank() && !s.is_blank());
    }
}
