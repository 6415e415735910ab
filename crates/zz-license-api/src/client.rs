//! The licence-platform client. `Config`, `ClientBuilder` and `Client::{builder, new,
//! from_env}` are generated from the `[client]` table of `api.toml`; this file holds
//! what only this platform has: the token manager's options (store, lease, grant,
//! placement, paths) and how a checked configuration becomes a client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cred_core::raw::RawRequest;
use cred_core::{
    Answer, ClientCore, ClientSettings, Endpoint, Error, MemoryTokenStore, TokenStore, Transport,
    call::normalize_base_url,
};

use crate::audit::{AuditContext, AuditScope, Audited, RawAudited, ZzRequest};
use crate::download::DEFAULT_MAX_DOWNLOAD_BYTES;
use crate::envelope;
use crate::generated::{ClientBuilder, Settled};
use crate::token::{Credentials, TOKEN, TokenAuth, TokenManager, TokenPlacement};

/// Default time before expiry at which the token is renewed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The builder options only this platform has.
pub(crate) struct Extra {
    paths: Vec<(&'static Endpoint, String)>,
    token_path: String,
    refresh_margin: Duration,
    placement: TokenPlacement,
    max_download_bytes: usize,
    token_store: Option<Arc<dyn TokenStore>>,
    token_lease: Option<Duration>,
    refresh_grant: bool,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
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
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extra")
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

impl ClientBuilder {
    /// Sends `endpoint`'s calls to `path` below the base URL (deployments differ; the
    /// standard cuts the holder query's path off).
    pub fn path(mut self, endpoint: &'static Endpoint, path: impl Into<String>) -> Self {
        self.extra.paths.push((endpoint, path.into()));
        self
    }

    /// The token endpoint's path below the base URL (default `/oauth/token`).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.extra.token_path = path.into();
        self
    }

    /// How long before expiry the token is renewed (default 60 s, at most half its
    /// lifetime).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.extra.refresh_margin = margin;
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
        self.extra.refresh_grant = yes;
        self
    }

    /// Where the access token goes on share calls (default body and header).
    pub fn token_placement(mut self, placement: TokenPlacement) -> Self {
        self.extra.placement = placement;
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
    ///     .username("username").password("password")
    ///     .client_id("xxxx-oauth").client_secret("xxxx-mobile")
    ///     .token_store(store)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.extra.token_store = Some(store);
        self
    }

    /// How long one token renewal may hold the store's lease before another caller
    /// may try (default: the request timeout plus 5 s). A process that dies while
    /// renewing delays the others by at most this.
    pub fn token_lease(mut self, lease: Duration) -> Self {
        self.extra.token_lease = Some(lease);
        self
    }

    /// Cap on a downloaded file (default 20 MiB).
    pub fn max_download_bytes(mut self, bytes: usize) -> Self {
        self.extra.max_download_bytes = bytes;
        self
    }
}

/// Checks what only this platform needs (the audit context, the base URL and token
/// path, the lease) and builds the client. A bad base URL or path, or an audit value
/// that is too long, is an [`Error::Config`].
pub(crate) fn assemble(
    config: Settled,
    settings: ClientSettings,
    extra: Extra,
) -> Result<Client, Error> {
    config
        .audit
        .check()
        .map_err(|e| Error::config(format!("audit context: {e}")))?;
    let base_url = normalize_base_url(&config.base_url)?;
    if !extra.token_path.starts_with('/') || extra.token_path.contains(['?', '#']) {
        return Err(Error::config(format!(
            "token path `{}` must start with `/` and hold no query",
            extra.token_path
        )));
    }
    let token_url = reqwest::Url::parse(&format!("{base_url}{}", extra.token_path))
        .map_err(|e| Error::config(format!("cannot build the token URL: {e}")))?;
    let credentials = Credentials {
        username: config.username,
        password: config.password,
        client_id: config.client_id,
        client_secret: config.client_secret,
        client_auth: config.client_auth,
    };
    // Token requests are few and must not wait behind share calls: own transport,
    // no rate limiter.
    let token_transport = Transport::new(settings.transport.clone(), None)?;
    let lease = extra
        .token_lease
        .unwrap_or(settings.transport.timeout + Duration::from_secs(5));
    if lease.is_zero() {
        return Err(Error::config("the token lease must be longer than zero"));
    }
    let store = extra
        .token_store
        .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
    let tokens = Arc::new(TokenManager::new(
        token_transport,
        token_url,
        credentials,
        extra.refresh_margin,
        store,
        lease,
        extra.refresh_grant,
    )?);
    let auth = TokenAuth {
        tokens: tokens.clone(),
        placement: extra.placement,
    };
    let mut core = settings.build_core(Arc::new(auth), &base_url, crate::ENDPOINTS)?;
    for (endpoint, path) in &extra.paths {
        core = core.with_path(endpoint, path)?;
    }
    Ok(Client {
        core,
        tokens,
        audit: Arc::new(config.audit),
        max_download_bytes: extra.max_download_bytes,
    })
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

    /// Sends a request to an endpoint this crate's spec does not list, through the same
    /// pipeline as the generated methods: signing, the rate limit, the licence platform
    /// envelope and its code table, billing, the retry policy and redaction. The
    /// answer's payload is the raw JSON `data`. `scope` says which
    /// audit fields of the client's context go with it ([`AuditScope::Full`]: the
    /// required ones must be set).
    ///
    /// Parameter values are masked in errors and logs unless added with
    /// [`RawRequest::public_param`]; the call counts as paid (never sent twice when its
    /// outcome is unknown) unless the request says [`Billing::Free`](crate::Billing::Free).
    /// A path that does not start with `/` or holds a query is an
    /// [`Error::InvalidInput`] before anything is sent.
    ///
    /// ```no_run
    /// # async fn run(client: zz_license_api::Client) -> Result<(), zz_license_api::Error> {
    /// use zz_license_api::{AuditScope, Method, RawRequest};
    ///
    /// let request = RawRequest::new(Method::Post, "/some/other/api")
    ///     .param("name", "王小明")
    ///     .public_param("type", "1");
    /// let answer = client.call_raw(&request, AuditScope::Full).await?;
    /// if let Some(data) = answer.result() {
    ///     println!("{}", data["items"]);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn call_raw(
        &self,
        request: &RawRequest,
        scope: AuditScope,
    ) -> Result<Answer<serde_json::Value>, Error> {
        let bound = request.bind("zz_license")?;
        let audited = RawAudited {
            inner: bound,
            audit: &self.audit,
            scope,
        };
        self.core
            .execute(&audited, envelope::decode::<serde_json::Value>)
            .await
    }
}
