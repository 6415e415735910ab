//! The Juhe client, its builder and its configuration.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use cred_core::secret::{secret_from_env, var_from_env};
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error, Secret};

use crate::auth::KeyAuth;
use crate::envelope;

/// The provider's base URL (the documents show `http://`; credkit defaults to https).
pub const DEFAULT_BASE_URL: &str = "https://v.juhe.cn";

/// Default client-side rate limit (requests per second, same burst). Juhe answers
/// `10011`/`10012` when a key or IP goes beyond its limits; change it with
/// [`ClientBuilder::rate_limit`].
pub const DEFAULT_RATE_PER_SECOND: u32 = 20;

/// Environment variable holding the key.
pub const ENV_KEY: &str = "JUHE_KEY";
/// Environment variable overriding the base URL.
pub const ENV_BASE_URL: &str = "JUHE_BASE_URL";

/// Credentials and endpoint. `Debug` never shows the key.
#[derive(Clone)]
pub struct Config {
    /// The API key (个人中心 -> 我的数据); sent as the `key` parameter.
    pub key: Secret,
    /// Base URL; [`DEFAULT_BASE_URL`] unless overridden.
    pub base_url: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("key", &"[redacted]")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Config {
    /// A configuration for the production endpoint.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: Secret::from(key.into()),
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Reads `JUHE_KEY` and, optionally, `JUHE_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let key =
            secret_from_env(ENV_KEY).ok_or_else(|| cred_core::secret::missing_var(ENV_KEY))?;
        Ok(Self {
            key,
            base_url: var_from_env(ENV_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        })
    }

    /// Replaces the base URL (a sandbox, a proxy, a test server).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }
}

/// Builds a [`Client`]; every setting has a sensible default.
pub struct ClientBuilder {
    config: Option<Config>,
    settings: ClientSettings,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .finish()
    }
}

cred_core::impl_settings_setters!(ClientBuilder, "JUHE");

impl ClientBuilder {
    /// Uses `config` (key and base URL).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Sets the key, keeping the base URL already set (default production).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        let base_url = self
            .config
            .take()
            .map(|c| c.base_url)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        self.config = Some(Config::new(key).with_base_url(base_url));
        self
    }

    /// Overrides the base URL (after [`ClientBuilder::config`] or [`ClientBuilder::key`]
    /// to win over theirs).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        match &mut self.config {
            Some(c) => c.base_url = base_url,
            None => self.config = Some(Config::new(String::new()).with_base_url(base_url)),
        }
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let config = self
            .config
            .ok_or_else(|| Error::config(format!("Juhe key is not set (set {ENV_KEY})")))?;
        if config.key.expose().trim().is_empty() {
            return Err(Error::config(format!("Juhe key is empty (set {ENV_KEY})")));
        }
        let auth = KeyAuth {
            key: Secret::from(config.key.expose().trim().to_owned()),
        };
        let core = self
            .settings
            .build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
        Ok(Client { core })
    }
}

/// A Juhe client. Cheap to clone (clones share the connection pool and rate limiter);
/// `Send + Sync`. `Debug`, errors and logs never show the key.
///
/// The operation methods (`con_lic_by_name`, ...) are generated from `api.toml`.
#[derive(Clone)]
pub struct Client {
    core: ClientCore,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("key", &"[redacted]")
            .field("base_url", &self.core.base_url())
            .field("retry", self.core.retry_policy())
            .field("transport", self.core.transport().config())
            .finish()
    }
}

impl Client {
    /// A builder with default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: None,
            settings: ClientSettings::new(
                concat!("credkit-juhe-api/", env!("CARGO_PKG_VERSION")),
                NonZeroU32::new(DEFAULT_RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            ),
        }
    }

    /// A client for `config` with default settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A client configured from `JUHE_*` environment variables, with the
    /// transport variables `_CA_FILE` (extra root CAs, PEM) and `_PROXY` (a proxy URL).
    pub fn from_env() -> Result<Self, Error> {
        Self::builder()
            .config(Config::from_env()?)
            .transport_from_env()?
            .build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.core.base_url()
    }

    /// Sends any Juhe request (generated or hand-written [`ApiRequest`]) with the key,
    /// through the Juhe envelope decoder and the retry policy.
    pub async fn execute<R: ApiRequest>(&self, request: &R) -> Result<Answer<R::Response>, Error> {
        self.core
            .execute(request, envelope::decode::<R::Response>)
            .await
    }
}
