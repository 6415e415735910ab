//! Published sandbox credentials. **Test values**: generated for this project, accepted
//! only by the sandbox, worthless anywhere else. Safe to print and commit.

/// Jumdata `appId` the sandbox accepts.
pub const JUMDATA_APP_ID: &str = "credkit-sandbox-app";

/// Jumdata `appSecret` the sandbox signs with (test value, not a real key).
pub const JUMDATA_APP_SECRET: &str = "credkit-sandbox-secret-NOT-A-REAL-KEY";

/// Juhe `key` the sandbox accepts (test value, not a real key).
pub const JUHE_KEY: &str = "credkit-sandbox-juhe-key-NOT-REAL";

/// Licence-platform username (访问标识) the sandbox accepts (test value).
pub const ZZ_LICENSE_USERNAME: &str = "credkit-sandbox-user";

/// Licence-platform password (应用认证信息) the sandbox accepts (test value).
pub const ZZ_LICENSE_PASSWORD: &str = "credkit-sandbox-password-NOT-REAL";

/// Licence-platform OAuth client id the sandbox accepts (the seed's `xxxx-oauth`).
pub const ZZ_LICENSE_CLIENT_ID: &str = "credkit-oauth";

/// Licence-platform OAuth client secret the sandbox accepts (test value).
pub const ZZ_LICENSE_CLIENT_SECRET: &str = "credkit-mobile-NOT-REAL";
