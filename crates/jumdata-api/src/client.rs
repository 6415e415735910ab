//! The Jumdata client, its builder and its configuration.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use cred_core::secret::{secret_from_env, var_from_env};
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error, Secret};

use crate::envelope;
use crate::signer::{Clock, JumdataAuth};

/// The provider's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.jumdata.com";

/// Default client-side rate limit (requests per second, same burst). Jumdata answers
/// `609 请求过于频繁` when a customer goes faster than its contract allows; change it
/// with [`ClientBuilder::rate_limit`].
pub const DEFAULT_RATE_PER_SECOND: u32 = 50;

/// Environment variable holding the app id.
pub const ENV_APP_ID: &str = "JUMDATA_APP_ID";
/// Environment variable holding the app secret.
pub const ENV_APP_SECRET: &str = "JUMDATA_APP_SECRET";
/// Environment variable overriding the base URL.
pub const ENV_BASE_URL: &str = "JUMDATA_BASE_URL";

/// Credentials and endpoint. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Config {
    /// 客户唯一标识 `appId`, assigned by Jumdata.
    pub app_id: String,
    /// `appSecret`, assigned by Jumdata; used only to sign.
    pub app_secret: Secret,
    /// Base URL; [`DEFAULT_BASE_URL`] unless overridden.
    pub base_url: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Config {
    /// A configuration for the production endpoint.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: Secret::from(app_secret.into()),
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Reads `JUMDATA_APP_ID`, `JUMDATA_APP_SECRET` and, optionally, `JUMDATA_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let app_id =
            var_from_env(ENV_APP_ID).ok_or_else(|| cred_core::secret::missing_var(ENV_APP_ID))?;
        let app_secret = secret_from_env(ENV_APP_SECRET)
            .ok_or_else(|| cred_core::secret::missing_var(ENV_APP_SECRET))?;
        Ok(Self {
            app_id,
            app_secret,
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
    clock: Option<Clock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

cred_core::impl_settings_setters!(ClientBuilder, "JUMDATA");

impl ClientBuilder {
    /// Uses `config` (credentials and base URL).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Sets the credentials, keeping the base URL already set (default production).
    pub fn credentials(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        let base_url = self
            .config
            .take()
            .map(|c| c.base_url)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        self.config = Some(Config::new(app_id, app_secret).with_base_url(base_url));
        self
    }

    /// Overrides the base URL (must be set after [`ClientBuilder::config`] or
    /// [`ClientBuilder::credentials`] to win over theirs).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        match &mut self.config {
            Some(c) => c.base_url = base_url,
            None => {
                self.config = Some(Config {
                    app_id: String::new(),
                    app_secret: Secret::from(String::new()),
                    base_url,
                })
            }
        }
        self
    }

    /// Replaces the millisecond clock used for `timestamp` (tests, clock-skew fixes).
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let config = self
            .config
            .ok_or_else(|| Error::config("Jumdata credentials are not set (app id and secret)"))?;
        if config.app_id.trim().is_empty() {
            return Err(Error::config(format!(
                "Jumdata app id is empty (set {ENV_APP_ID})"
            )));
        }
        if config.app_secret.expose().trim().is_empty() {
            return Err(Error::config(format!(
                "Jumdata app secret is empty (set {ENV_APP_SECRET})"
            )));
        }
        let auth = JumdataAuth {
            app_id: config.app_id.trim().to_owned(),
            app_secret: config.app_secret.clone(),
            clock: self
                .clock
                .unwrap_or_else(|| Arc::new(cred_core::now_millis)),
        };
        let core = self
            .settings
            .build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
        Ok(Client {
            core,
            app_id: config.app_id,
        })
    }
}

/// A Jumdata client. Cheap to clone (clones share the connection pool and rate limiter);
/// `Send + Sync`. `Debug` never shows the secret.
///
/// The operation methods (`credential_query`, ...) are generated from `api.toml`.
#[derive(Clone)]
pub struct Client {
    core: ClientCore,
    app_id: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
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
                concat!("credkit-jumdata-api/", env!("CARGO_PKG_VERSION")),
                NonZeroU32::new(DEFAULT_RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            ),
            clock: None,
        }
    }

    /// A client for `config` with default settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A client configured from `JUMDATA_*` environment variables, with the
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

    /// Sends any Jumdata request (generated or hand-written [`ApiRequest`]) through the
    /// signer, the Jumdata envelope decoder and the retry policy.
    pub async fn execute<R: ApiRequest>(&self, request: &R) -> Result<Answer<R::Response>, Error> {
        self.core
            .execute(request, envelope::decode::<R::Response>)
            .await
    }
}
