//! The Jumdata request signature: `sign = sha256_hex(appId + appSecret + timestamp)`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use cred_core::digest::sha256_hex_concat;
use cred_core::{Authorizer, Error, OutgoingRequest, Redactor, Secret};

/// A source of millisecond timestamps (the system clock unless replaced, e.g. in tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The Jumdata signature: lower-case hex SHA-256 of `app_id + app_secret + timestamp_ms`
/// (the timestamp in decimal milliseconds, exactly as sent in `timestamp`).
///
/// ```
/// // The example values of Jumdata's document.
/// let sign = jumdata_api::sign("xyzxy2121zxyz", "efcefcef1121cefcefc1212121", 1555378976238);
/// assert_eq!(sign, "6ddcdc405743c576cb6d34b17b47ed56e2b9b6670fae1fe85ed01244fd31558b");
/// ```
pub fn sign(app_id: &str, app_secret: &str, timestamp_ms: u64) -> String {
    let ts = timestamp_ms.to_string();
    sha256_hex_concat(&[app_id.as_bytes(), app_secret.as_bytes(), ts.as_bytes()])
}

/// Adds `appId`, `timestamp` and `sign` in front of every request's parameters.
pub(crate) struct JumdataAuth {
    pub(crate) app_id: String,
    pub(crate) app_secret: Secret,
    pub(crate) clock: Clock,
}

impl fmt::Debug for JumdataAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JumdataAuth")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .finish()
    }
}

#[async_trait]
impl Authorizer for JumdataAuth {
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        self.sign_request(request);
        Ok(())
    }

    fn authorize_now(&self, request: &mut OutgoingRequest) -> Option<Result<(), Error>> {
        self.sign_request(request);
        Some(Ok(()))
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["sign"]
    }

    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>) {
        redactor.secret(self.app_secret.expose());
    }
}

impl JumdataAuth {
    /// Adds `appId`, `timestamp` and `sign` before the request's own parameters.
    fn sign_request(&self, request: &mut OutgoingRequest) {
        let timestamp = (self.clock)();
        let signature = sign(&self.app_id, self.app_secret.expose(), timestamp);
        // First in the form, before the request's own parameters (appended, then
        // rotated to the front: cheaper than a splice).
        let params = &mut request.params;
        params.extend([
            ("appId", self.app_id.clone()),
            ("timestamp", timestamp.to_string()),
            ("sign", signature),
        ]);
        params.rotate_right(3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // The document's example; expected value from Python's hashlib.sha256.
        assert_eq!(
            sign(
                "xyzxy2121zxyz",
                "efcefcef1121cefcefc1212121",
                1_555_378_976_238
            ),
            "6ddcdc405743c576cb6d34b17b47ed56e2b9b6670fae1fe85ed01244fd31558b"
        );
        // Project test credentials (not real), same reference implementation.
        assert_eq!(
            sign(
                "credkit-test-app",
                "credkit-test-secret-not-real",
                1_700_000_000_000
            ),
            "d56ed3b5d281932dbb13c166d415a2922d49e262af0911d52bf2e936f7946a0e"
        );
    }

    #[test]
    fn sign_is_lowercase_hex() {
        let s = sign("a", "b", 1);
        assert_eq!(s.len(), 64);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
}
