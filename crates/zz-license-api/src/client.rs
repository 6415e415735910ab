//! The licence-platform client, its builder and its configuration.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use cred_core::secret::{secret_from_env, var_from_env};
use cred_core::{
    Answer, ClientCore, ClientSettings, Endpoint, Error, MemoryTokenStore, Secret, TokenStore,
    Transport, call::normalize_base_url,
};

use crate::audit::{AuditContext, Audited, ZzRequest};
use crate::download::DEFAULT_MAX_DOWNLOAD_BYTES;
use crate::envelope;
use crate::token::{ClientAuth, Credentials, TOKEN, TokenAuth, TokenManager, TokenPlacement};

/// Default client-side rate limit (requests per second, same burst).
pub const DEFAULT_RATE_PER_SECOND: u32 = 20;

/// Default time before expiry at which the token is renewed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Base URL of the deployment, e.g. `http://10.0.0.1:8080/license-api-release` (required;
/// the platform has no public address).
pub const ENV_BASE_URL: &str = "ZZ_LICENSE_BASE_URL";
/// 访问标识 (username) the platform assigned.
pub const ENV_USERNAME: &str = "ZZ_LICENSE_USERNAME";
/// 应用认证信息 (password) the platform assigned.
pub const ENV_PASSWORD: &str = "ZZ_LICENSE_PASSWORD";
/// OAuth client id (`xxxx-oauth` in the standard).
pub const ENV_CLIENT_ID: &str = "ZZ_LICENSE_CLIENT_ID";
/// OAuth client secret (`xxxx-mobile` in the standard).
pub const ENV_CLIENT_SECRET: &str = "ZZ_LICENSE_CLIENT_SECRET";
/// Optional: `form` (default) or `basic`, how the client credentials are sent.
pub const ENV_CLIENT_AUTH: &str = "ZZ_LICENSE_CLIENT_AUTH";

/// Account and deployment. `Debug` never shows a credential.
#[derive(Clone)]
pub struct Config {
    /// Base URL of the deployment (`http://ip:port/license-api-release`).
    pub base_url: String,
    /// 访问标识 (username).
    pub username: Secret,
    /// 应用认证信息 (password).
    pub password: Secret,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Secret,
    /// How the client credentials reach the token endpoint.
    pub client_auth: ClientAuth,
    /// The audit context every call carries unless overridden.
    pub audit: AuditContext,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("client_auth", &self.client_auth)
            .field("audit", &self.audit)
            .finish()
    }
}

fn required(name: &str) -> Result<Secret, Error> {
    secret_from_env(name).ok_or_else(|| cred_core::secret::missing_var(name))
}

impl Config {
    /// A configuration with every credential; client credentials as form fields (the
    /// standard's 4.3.1) and an empty audit context.
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            username: Secret::from(username.into()),
            password: Secret::from(password.into()),
            client_id: client_id.into(),
            client_secret: Secret::from(client_secret.into()),
            client_auth: ClientAuth::default(),
            audit: AuditContext::default(),
        }
    }

    /// Reads `ZZ_LICENSE_BASE_URL`, `_USERNAME`, `_PASSWORD`, `_CLIENT_ID`,
    /// `_CLIENT_SECRET` (all required), `_CLIENT_AUTH` (optional) and the audit
    /// variables of [`crate::AUDIT_ENV`].
    pub fn from_env() -> Result<Self, Error> {
        let base_url = var_from_env(ENV_BASE_URL).ok_or_else(|| {
            Error::config(format!(
                "{ENV_BASE_URL} is not set (the deployment's address, e.g. http://ip:port/license-api-release; the platform has no public default)"
            ))
        })?;
        let client_auth = match var_from_env(ENV_CLIENT_AUTH) {
            Some(v) => v
                .parse()
                .map_err(|e| Error::config(format!("{ENV_CLIENT_AUTH} {e}")))?,
            None => ClientAuth::default(),
        };
        Ok(Self {
            base_url,
            username: required(ENV_USERNAME)?,
            password: required(ENV_PASSWORD)?,
            client_id: required(ENV_CLIENT_ID)?.expose().to_owned(),
            client_secret: required(ENV_CLIENT_SECRET)?,
            client_auth,
            audit: AuditContext::from_env()?,
        })
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    config: Option<Config>,
    settings: ClientSettings,
    paths: Vec<(&'static Endpoint, String)>,
    token_path: String,
    refresh_margin: Duration,
    placement: TokenPlacement,
    max_download_bytes: usize,
    token_store: Option<Arc<dyn TokenStore>>,
    token_lease: Option<Duration>,
    refresh_grant: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field(
                "paths",
                &self
                    .paths
                    .iter()
                    .map(|(e, p)| (e.site.operation, p))
                    .collect::<Vec<_>>(),
            )
            .field("token_path", &self.token_path)
            .field("refresh_margin", &self.refresh_margin)
            .field("placement", &self.placement)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("token_store", &self.token_store)
            .field("token_lease", &self.token_lease)
            .field("refresh_grant", &self.refresh_grant)
            .finish()
    }
}

cred_core::impl_settings_setters!(ClientBuilder, "ZZ_LICENSE");

impl ClientBuilder {
    /// Uses `config` (deployment, credentials, audit context).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    fn config_mut(&mut self) -> &mut Config {
        self.config
            .get_or_insert_with(|| Config::new("", "", "", "", ""))
    }

    /// Sets the base URL (`http://ip:port/license-api-release`).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config_mut().base_url = base_url.into();
        self
    }

    /// Sets the account: 访问标识 (username) and 应用认证信息 (password).
    pub fn user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        let c = self.config_mut();
        c.username = Secret::from(username.into());
        c.password = Secret::from(password.into());
        self
    }

    /// Sets the OAuth client credentials.
    pub fn client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let c = self.config_mut();
        c.client_id = client_id.into();
        c.client_secret = Secret::from(client_secret.into());
        self
    }

    /// How the client credentials reach the token endpoint (default form fields, as the
    /// standard lists them).
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.config_mut().client_auth = client_auth;
        self
    }

    /// The audit context every call carries (override per call with
    /// [`Client::with_audit`]).
    pub fn audit(mut self, audit: AuditContext) -> Self {
        self.config_mut().audit = audit;
        self
    }

    /// Sends `endpoint`'s calls to `path` below the base URL (deployments differ; the
    /// standard cuts the holder query's path off).
    pub fn path(mut self, endpoint: &'static Endpoint, path: impl Into<String>) -> Self {
        self.paths.push((endpoint, path.into()));
        self
    }

    /// The token endpoint's path below the base URL (default `/oauth/token`).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// How long before expiry the token is renewed (default 60 s, at most half its
    /// lifetime).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Renews the token with the `refresh_token` grant before the password grant (default
    /// `false`). The document gives one grant, the password grant ("grant_type 固定值为：
    /// password", 4.3.1), which is what a client uses by default; stock Spring OAuth2
    /// servers also take the refresh grant. Opted in, the first refusal of the refresh
    /// grant, whatever its reason (`unsupported_grant_type`, `invalid_grant`,
    /// `invalid_scope`, ...), makes the client use the password grant at once and never
    /// the refresh grant again.
    pub fn refresh_grant(mut self, yes: bool) -> Self {
        self.refresh_grant = yes;
        self
    }

    /// Where the access token goes on share calls (default body and header).
    pub fn token_placement(mut self, placement: TokenPlacement) -> Self {
        self.placement = placement;
        self
    }

    /// Where the access token is kept (default: a [`MemoryTokenStore`] of this client
    /// and its clones). A shared store (`cred_redis::RedisTokenStore`) makes every
    /// process with the same base URL, username and client id share one token: one
    /// token request when it is cold or expiring, one drop when it is refused.
    ///
    /// ```no_run
    /// # fn run(store: std::sync::Arc<dyn cred_core::TokenStore>) -> Result<(), cred_core::Error> {
    /// let client = zz_license_api::Client::builder()
    ///     .base_url("http://10.0.0.1:8080/license-api-release")
    ///     .user("username", "password")
    ///     .client("xxxx-oauth", "xxxx-mobile")
    ///     .token_store(store)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// How long one token renewal may hold the store's lease before another caller
    /// may try (default: the request timeout plus 5 s). A process that dies while
    /// renewing delays the others by at most this.
    pub fn token_lease(mut self, lease: Duration) -> Self {
        self.token_lease = Some(lease);
        self
    }

    /// Cap on a downloaded file (default 20 MiB).
    pub fn max_download_bytes(mut self, bytes: usize) -> Self {
        self.max_download_bytes = bytes;
        self
    }

    /// Checks the configuration and builds the client. A missing credential, a bad
    /// base URL or path, or an audit value that is too long is an [`Error::Config`].
    pub fn build(self) -> Result<Client, Error> {
        let config = self
            .config
            .ok_or_else(|| Error::config(format!("{ENV_BASE_URL} and the account are not set")))?;
        if config.base_url.trim().is_empty() {
            return Err(Error::config(format!(
                "the base URL is not set ({ENV_BASE_URL}); the platform has no public default"
            )));
        }
        for (value, what, var) in [
            (config.username.expose(), "username", ENV_USERNAME),
            (config.password.expose(), "password", ENV_PASSWORD),
            (config.client_id.as_str(), "client id", ENV_CLIENT_ID),
            (
                config.client_secret.expose(),
                "client secret",
                ENV_CLIENT_SECRET,
            ),
        ] {
            if value.trim().is_empty() {
                return Err(Error::config(format!("the {what} is not set ({var})")));
            }
        }
        config
            .audit
            .check()
            .map_err(|e| Error::config(format!("audit context: {e}")))?;
        let base_url = normalize_base_url(&config.base_url)?;
        if !self.token_path.starts_with('/') || self.token_path.contains(['?', '#']) {
            return Err(Error::config(format!(
                "token path `{}` must start with `/` and hold no query",
                self.token_path
            )));
        }
        let token_url = reqwest::Url::parse(&format!("{base_url}{}", self.token_path))
            .map_err(|e| Error::config(format!("cannot build the token URL: {e}")))?;
        let credentials = Credentials {
            username: Secret::from(config.username.expose().trim().to_owned()),
            password: Secret::from(config.password.expose().to_owned()),
            client_id: config.client_id.trim().to_owned(),
            client_secret: Secret::from(config.client_secret.expose().trim().to_owned()),
            client_auth: config.client_auth,
        };
        // Token requests are few and must not wait behind share calls: own transport,
        // no rate limiter.
        let token_transport = Transport::new(self.settings.transport.clone(), None)?;
        let lease = self
            .token_lease
            .unwrap_or(self.settings.transport.timeout + Duration::from_secs(5));
        if lease.is_zero() {
            return Err(Error::config("the token lease must be longer than zero"));
        }
        let store = self
            .token_store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        let tokens = Arc::new(TokenManager::new(
            token_transport,
            token_url,
            credentials,
            self.refresh_margin,
            store,
            lease,
            self.refresh_grant,
        )?);
        let auth = TokenAuth {
            tokens: tokens.clone(),
            placement: self.placement,
        };
        let mut core = self
            .settings
            .build_core(Arc::new(auth), &base_url, crate::ENDPOINTS)?;
        for (endpoint, path) in &self.paths {
            core = core.with_path(endpoint, path)?;
        }
        Ok(Client {
            core,
            tokens,
            audit: Arc::new(config.audit),
            max_download_bytes: self.max_download_bytes,
        })
    }
}

/// A client of one platform account. Cheap to clone (clones share the connection
/// pool, the rate limiter and the token cache); `Send + Sync`. `Debug`, errors and logs
/// never show a credential or token.
///
/// The share interfaces (`share_query_cert_info`, ...) are generated from `api.toml`.
#[derive(Clone)]
pub struct Client {
    pub(crate) core: ClientCore,
    pub(crate) tokens: Arc<TokenManager>,
    audit: Arc<AuditContext>,
    pub(crate) max_download_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.core.base_url())
            .field("tokens", &self.tokens)
            .field("audit", &self.audit)
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
                concat!("credkit-zz-license-api/", env!("CARGO_PKG_VERSION")),
                NonZeroU32::new(DEFAULT_RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            ),
            paths: Vec::new(),
            token_path: TOKEN.path.to_owned(),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            placement: TokenPlacement::default(),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            token_store: None,
            token_lease: None,
            refresh_grant: false,
        }
    }

    /// A client for `config` with default settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A client configured from `ZZ_LICENSE_*` environment variables, with the
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

    /// The audit context calls carry.
    pub fn audit(&self) -> &AuditContext {
        &self.audit
    }

    /// A client (sharing pool, limiter and token cache) whose calls carry this client's
    /// audit context with every field `overrides` sets replaced.
    ///
    /// ```no_run
    /// # use zz_license_api::{AuditContext, Client, ShareQueryCertInfo};
    /// # async fn run(client: Client) -> Result<(), cred_core::Error> {
    /// let answer = client
    ///     .with_audit(&AuditContext::new().copy_cause("不动产登记窗口核验"))
    ///     .share_query_cert_info(&ShareQueryCertInfo::new("1.2.156.3005.2.…"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn with_audit(&self, overrides: &AuditContext) -> Client {
        Client {
            audit: Arc::new(self.audit.merged(overrides)),
            ..self.clone()
        }
    }

    /// The account's key in the token store: the first 32 hex digits of SHA-256 over
    /// the token URL, username and client id (nothing readable). Shared stores derive
    /// their keys from it (`cred_redis::RedisTokenStore::token_key_name`).
    pub fn token_account(&self) -> &str {
        self.tokens.account()
    }

    /// Token requests this client (and its clones) sent so far; with a shared token
    /// store, those of this process only.
    pub fn token_requests(&self) -> u64 {
        self.tokens.requests()
    }

    /// Sends any request of this platform with the token and the audit context, through
    /// the envelope decoder and the retry policy. Invalid input (including a missing
    /// required audit field) is an [`Error::InvalidInput`] before anything is sent, the
    /// token request included.
    pub async fn execute<R: ZzRequest>(&self, request: &R) -> Result<Answer<R::Response>, Error> {
        let audited = Audited {
            inner: request,
            audit: &self.audit,
        };
        self.core
            .execute(&audited, envelope::decode::<R::Response>)
            .await
    }
}
