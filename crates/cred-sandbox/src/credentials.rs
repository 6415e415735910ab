//! Published sandbox credentials. **Test values**: generated for this project, accepted
//! only by the sandbox, worthless anywhere else. Safe to print and commit.

/// Jumdata `appId` the sandbox accepts.
pub const JUMDATA_APP_ID: &str = "credkit-sandbox-app";

/// Jumdata `appSecret` the sandbox signs with (test value, not a real key).
pub const JUMDATA_APP_SECRET: &str = "credkit-sandbox-secret-NOT-A-REAL-KEY";

/// Juhe `key` the sandbox accepts (test value, not a real key).
pub const JUHE_KEY: &str = "credkit-sandbox-juhe-key-NOT-REAL";
