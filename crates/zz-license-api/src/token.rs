//! The OAuth2 token manager (4.3.1): password grant with `scope=read write`, client
//! credentials by HTTP Basic or as form fields, a cached token renewed ahead of
//! `expires_in` (by the password grant, the one the document gives; the `refresh_token`
//! grant first only when opted in), one token request however many
//! callers wait (single flight, across processes when the [`TokenStore`] is shared), and
//! the authorizer that puts the token on every call.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use cred_core::{
    Authorizer, Billing, CallSite, Encoding, Endpoint, Error, Lease, Method, NewToken,
    OutgoingRequest, RawResponse, Redactor, Secret, StoredToken, TokenStore, Transport,
    TransportFailure, body, lenient,
};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;

use crate::envelope::oauth_error;

/// The token endpoint (用户身份验证接口, 4.3.1).
pub static TOKEN: Endpoint = Endpoint::new(
    CallSite::new("zz_license", "token"),
    "用户身份验证",
    Method::Post,
    "/oauth/token",
    Encoding::Form,
    Billing::Free,
);

/// Token lifetime assumed when the server does not say (the standard: 12 hours).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Longest token lifetime believed: a larger `expires_in` is clamped to this (the
/// token is then renewed within a day; a refused one is renewed at once anyway).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Fields of token requests and answers whose values are secret wherever they appear.
const TOKEN_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "password",
    "client_secret",
    "username",
];

/// Fields of a token answer that are not secret (they explain a refusal).
const PUBLIC_ANSWER_FIELDS: &[&str] = &["error", "error_description", "token_type", "scope"];

/// How the client credentials (`client_id`, `client_secret`) reach the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields beside `grant_type`, `scope`,
    /// `username` and `password`: what the standard's parameter table for 4.3.1 lists (the
    /// default).
    #[default]
    Form,
    /// `Authorization: Basic base64(client_id:client_secret)`: stock Spring Security
    /// OAuth2, for deployments that do not allow form authentication of clients.
    Basic,
}

impl std::str::FromStr for ClientAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "basic" => Ok(ClientAuth::Basic),
            "form" => Ok(ClientAuth::Form),
            _ => Err("must be `basic` or `form`".to_owned()),
        }
    }
}

/// Where the access token goes on share calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenPlacement {
    /// `access_token` in the JSON body (as the standard lists it) and an
    /// `Authorization: Bearer` header (what Spring's resource filter reads). The default.
    #[default]
    BodyAndHeader,
    /// `access_token` in the JSON body only.
    Body,
    /// `access_token` in the query string and the `Authorization` header, for servers
    /// that read it only from request parameters. The token then appears in the
    /// server's access logs: use only where required.
    Query,
}

/// Credentials of one platform account. Everything but `client_id` is secret.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: Secret,
    pub(crate) password: Secret,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) client_auth: ClientAuth,
}

/// What this process remembers beside the store.
#[derive(Default)]
struct Local {
    /// The last refresh token seen (a token that expired in the store leaves it here).
    refresh: Option<Secret>,
    /// Tokens seen so far (newest last, a few), kept so that an error quoting one is
    /// still redacted.
    seen: Vec<Secret>,
    /// The renewal running now, if any: callers that need a token meanwhile wait for its
    /// outcome instead of repeating the request (even a failure, or a token the server
    /// said expires at once).
    flight: Option<Flight>,
}

impl Local {
    fn remember(&mut self, token: &StoredToken) {
        for secret in std::iter::once(&token.access).chain(token.refresh.iter()) {
            if !self.seen.iter().any(|s| s.expose() == secret.expose()) {
                self.seen.push(secret.clone());
                if self.seen.len() > 8 {
                    self.seen.remove(0);
                }
            }
        }
        if let Some(r) = &token.refresh {
            self.refresh = Some(r.clone());
        }
    }
}

/// How a renewal ended: a token, `None` when another process was renewing a token that
/// is still valid (an early renewal only), or the error.
type Outcome = Result<Option<StoredToken>, Error>;

/// A renewal running on a task of its own, so that it completes (publishing its token
/// or releasing the store's lease) even when every caller waiting for it is dropped:
/// a caller's timeout never leaves the lease held until it runs out.
#[derive(Clone)]
struct Flight {
    /// Whether it renews a token that is still valid (the refresh window before expiry)
    /// rather than a missing one.
    ahead: bool,
    outcome: tokio::sync::watch::Receiver<Option<Outcome>>,
}

impl Flight {
    async fn wait(mut self) -> Outcome {
        match self.outcome.wait_for(Option::is_some).await {
            Ok(done) => done.clone().unwrap_or(Ok(None)),
            Err(_) => Err(Error::transport(
                TOKEN.site,
                TransportFailure::Other,
                "the token renewal stopped without an outcome; nothing was sent",
                false,
            )),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    refresh_token: Option<String>,
    /// Kept raw: servers send integers, numeric strings, fractions or worse
    /// ([`token_lifetime`] decides).
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    error: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    error_description: Option<String>,
}

enum Grant<'a> {
    Password,
    Refresh(&'a str),
}

/// Obtains, stores and renews the access token of one account, through a
/// [`TokenStore`]: in this process ([`cred_core::MemoryTokenStore`]) or shared by many.
pub(crate) struct TokenManager {
    transport: Transport,
    url: reqwest::Url,
    credentials: Credentials,
    margin: Duration,
    store: Arc<dyn TokenStore>,
    /// The account's key in the store: a hash of token URL, username and client id.
    account: String,
    /// How long one renewal may hold the store's lease.
    lease: Duration,
    local: Mutex<Local>,
    requests: AtomicU64,
    /// Whether the refresh grant is tried before the password grant (opted in, and not
    /// refused yet).
    refresh_grant: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("url", &self.url.as_str())
            .field("client_id", &self.credentials.client_id)
            .field("client_auth", &self.credentials.client_auth)
            .field("credentials", &"[redacted]")
            .field("refresh_margin", &self.margin)
            .field("store", &self.store)
            .field("lease", &self.lease)
            .field("token_requests", &self.requests.load(Ordering::Relaxed))
            .finish()
    }
}

/// The store key of an account: the first 32 hex digits of SHA-256 over the token URL,
/// username and client id, so nothing readable reaches a shared store.
pub(crate) fn account_key(url: &reqwest::Url, credentials: &Credentials) -> String {
    let material = format!(
        "zz-license\n{}\n{}\n{}",
        url.as_str(),
        credentials.username.expose(),
        credentials.client_id
    );
    cred_core::digest::sha256_hex(material.as_bytes())[..32].to_owned()
}

impl TokenManager {
    pub(crate) fn new(
        transport: Transport,
        url: reqwest::Url,
        credentials: Credentials,
        margin: Duration,
        store: Arc<dyn TokenStore>,
        lease: Duration,
        refresh_grant: bool,
    ) -> Result<Self, Error> {
        let account = account_key(&url, &credentials);
        // The key that seals this account's token wherever the store keeps it outside
        // the process: derived from the secrets every process sharing the token holds.
        let c = &credentials;
        let seal = cred_core::seal::SealingKey::derive(
            "credkit zz-license token seal v1",
            &[
                url.as_str().as_bytes(),
                c.username.expose().as_bytes(),
                c.password.expose().as_bytes(),
                c.client_id.as_bytes(),
                c.client_secret.expose().as_bytes(),
            ],
            account.as_bytes(),
        )?;
        store.seal_account_with(&account, seal);
        Ok(Self {
            account,
            transport,
            url,
            credentials,
            margin,
            store,
            lease,
            local: Mutex::new(Local::default()),
            requests: AtomicU64::new(0),
            refresh_grant: std::sync::atomic::AtomicBool::new(refresh_grant),
        })
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        // A panic elsewhere cannot leave the state half-written: recover it.
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account's key in the store.
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// Token requests this process sent so far (password and refresh grants).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The stored token, remembered for redaction.
    async fn stored(&self) -> Result<Option<StoredToken>, Error> {
        let token = self.store.get(&self.account).await.map_err(store_error)?;
        if let Some(t) = &token {
            self.local().remember(t);
        }
        Ok(token)
    }

    /// A valid token: the stored one, or one obtained now. However many callers (of
    /// however many processes sharing the store) find it cold or stale at once, one
    /// token request is made; during the refresh window before expiry the others keep
    /// using the still-valid token meanwhile.
    ///
    /// Cancel-safe: the renewal runs on a task of its own, which publishes its token
    /// (or releases the store's lease) whether or not anyone still waits for it.
    pub(crate) async fn token(self: &Arc<Self>) -> Result<StoredToken, Error> {
        if let Some(t) = self.stored().await? {
            let lead = self.margin.min(t.lifetime / 2);
            if t.remaining > lead {
                return Ok(t);
            }
            // Refresh window: renew if nobody in this process is, keep using this one
            // otherwise (and when the renewal fails).
            let flight = {
                let mut local = self.local();
                if local.flight.is_some() {
                    return Ok(t);
                }
                self.start(&mut local, true)
            };
            return match flight.wait().await {
                Ok(Some(fresh)) => Ok(fresh),
                Ok(None) => Ok(t), // another process is renewing
                Err(e) => {
                    tracing::warn!(
                        kind = e.kind().as_str(),
                        "renewing the access token ahead of expiry failed; using the current one"
                    );
                    Ok(t)
                }
            };
        }
        loop {
            let flight = {
                let mut local = self.local();
                match &local.flight {
                    Some(f) => f.clone(),
                    None => self.start(&mut local, false),
                }
            };
            let ahead = flight.ahead;
            match flight.wait().await {
                Ok(Some(t)) => return Ok(t),
                Err(e) => return Err(e),
                // An early renewal that left the token to another process: look again.
                Ok(None) if ahead => {
                    if let Some(t) = self.stored().await? {
                        return Ok(t);
                    }
                }
                Ok(None) => {
                    return Err(Error::transport(
                        TOKEN.site,
                        TransportFailure::Other,
                        "the token renewal ended without a token; nothing was sent",
                        false,
                    ));
                }
            }
        }
    }

    /// Starts the renewal task (the caller holds `local`, where it is recorded):
    /// `ahead` renews a still-valid token if no other process is at it; otherwise the
    /// token is obtained, or awaited from the process holding the lease.
    fn start(self: &Arc<Self>, local: &mut Local, ahead: bool) -> Flight {
        let (done, outcome) = tokio::sync::watch::channel(None);
        let flight = Flight { ahead, outcome };
        local.flight = Some(flight.clone());
        let manager = Arc::clone(self);
        tokio::spawn(async move {
            let outcome = if ahead {
                match manager
                    .store
                    .try_lease(&manager.account, manager.lease)
                    .await
                {
                    Ok(Some(lease)) => manager.renew_unless_published(&lease).await.map(Some),
                    Ok(None) => Ok(None),
                    Err(e) => Err(store_error(e)),
                }
            } else {
                manager.fresh().await.map(Some)
            };
            manager.local().flight = None;
            let _ = done.send(Some(outcome));
        });
        flight
    }

    /// The token once someone has one (on the renewal task): the stored one, or one
    /// obtained under the store's lease. While another process holds the
    /// lease, waits for its token; a holder that died blocks for at most the lease.
    async fn fresh(&self) -> Result<StoredToken, Error> {
        let started = Instant::now();
        let mut waited = false;
        loop {
            if let Some(t) = self.stored().await? {
                if waited {
                    tracing::debug!(
                        generation = t.generation,
                        waited_ms = started.elapsed().as_millis() as u64,
                        "access token published by another process"
                    );
                }
                return Ok(t);
            }
            let lease = self
                .store
                .try_lease(&self.account, self.lease)
                .await
                .map_err(store_error)?;
            if let Some(lease) = lease {
                return self.renew_unless_published(&lease).await;
            }
            // Two leases' time: the holder's, then one of ours.
            if started.elapsed() > self.lease * 2 {
                return Err(Error::transport(
                    TOKEN.site,
                    TransportFailure::SharedState,
                    format!(
                        "no access token appeared in the token store within {:.0} s while other processes held the renewal lease; nothing was sent",
                        started.elapsed().as_secs_f64()
                    ),
                    false,
                ));
            }
            waited = true;
            tokio::time::sleep(self.store.poll_interval()).await;
        }
    }

    /// Under a freshly taken `lease`: the token another holder published between this
    /// caller's look at the store and its lease (the lease is free again once they
    /// publish), or else a new one. Without this second look, two renewals could
    /// follow each other, the second revoking the first's token on servers that issue
    /// a new token per refresh.
    async fn renew_unless_published(&self, lease: &Lease) -> Result<StoredToken, Error> {
        let published = match self.stored().await {
            Ok(t) => t.filter(|t| t.remaining > self.margin.min(t.lifetime / 2)),
            Err(e) => {
                self.release(lease).await;
                return Err(e);
            }
        };
        if let Some(t) = published {
            self.release(lease).await;
            return Ok(t);
        }
        self.renew(lease).await
    }

    /// Releases `lease`; a failure only means it runs out by itself.
    async fn release(&self, lease: &Lease) {
        if let Err(e) = self.store.release(&self.account, lease).await {
            tracing::debug!(
                kind = e.kind().as_str(),
                "could not release the token lease; it runs out by itself"
            );
        }
    }

    /// Drops the stored token if it is still the one numbered `generation`.
    pub(crate) async fn invalidate(&self, generation: u64) {
        match self.store.invalidate(&self.account, generation).await {
            Ok(true) => tracing::debug!(generation, "access token refused; dropped it"),
            Ok(false) => {}
            Err(e) => tracing::warn!(
                kind = e.kind().as_str(),
                "could not drop the refused access token from the token store"
            ),
        }
    }

    /// Gets a new token under `lease` and publishes it (the lease is released either
    /// way): refresh grant first when a refresh token is known, the password grant
    /// otherwise or when it is refused.
    async fn renew(&self, lease: &Lease) -> Result<StoredToken, Error> {
        let result = match self.obtain().await {
            Ok(token) => self
                .store
                .publish(&self.account, lease, token)
                .await
                .map_err(store_error),
            Err(e) => {
                self.release(lease).await;
                Err(e)
            }
        };
        if let Ok(t) = &result {
            self.local().remember(t);
            tracing::debug!(
                generation = t.generation,
                expires_in_s = t.lifetime.as_secs(),
                "access token published"
            );
        }
        result
    }

    /// A new token: the password grant, the one the document gives (4.3.1, "grant_type
    /// 固定值为：password"). With the refresh grant opted in
    /// ([`crate::ClientBuilder::refresh_grant`]) and a refresh token known, that grant is
    /// tried first; the first time the server refuses it, for whatever reason, the
    /// password grant is used at once and this client stops using refresh tokens.
    async fn obtain(&self) -> Result<NewToken, Error> {
        let refresh = if self.refresh_grant.load(Ordering::Relaxed) {
            self.local().refresh.clone()
        } else {
            None
        };
        if let Some(refresh) = refresh {
            match self.request(Grant::Refresh(refresh.expose())).await {
                Ok(response) => match self.usable_token(response, "refresh_token") {
                    Ok(token) => return Ok(token),
                    Err(e) => self.refresh_refused(&e),
                },
                Err(e) if is_refusal(&e) => self.refresh_refused(&e),
                Err(e) => return Err(e),
            }
        }
        let response = self.request(Grant::Password).await?;
        self.usable_token(response, "password")
    }

    /// The server refused the refresh grant: this client uses the password grant from now
    /// on.
    fn refresh_refused(&self, e: &Error) {
        tracing::warn!(
            kind = e.kind().as_str(),
            code = e.code().unwrap_or_default(),
            "the refresh grant was refused; using the password grant, and no refresh grant again for this client"
        );
        self.refresh_grant.store(false, Ordering::Relaxed);
        self.local().refresh = None;
    }

    fn usable_token(&self, response: TokenResponse, grant: &str) -> Result<NewToken, Error> {
        let Usable {
            access,
            lifetime,
            refresh,
        } = usable(response)?;
        tracing::debug!(
            grant,
            expires_in_s = lifetime.as_secs(),
            "access token obtained"
        );
        let refresh = refresh.map(Secret::from);
        if let Some(r) = &refresh {
            self.local().refresh = Some(r.clone());
        }
        Ok(NewToken::new(Secret::from(access), refresh, lifetime))
    }

    async fn request(&self, grant: Grant<'_>) -> Result<TokenResponse, Error> {
        let c = &self.credentials;
        let mut params: Vec<(&'static str, String)> = Vec::with_capacity(6);
        let grant_name = match grant {
            Grant::Password => "password",
            Grant::Refresh(_) => "refresh_token",
        };
        match grant {
            Grant::Password => {
                params.push(("grant_type", "password".to_owned()));
                params.push(("scope", "read write".to_owned()));
                params.push(("username", c.username.expose().to_owned()));
                params.push(("password", c.password.expose().to_owned()));
            }
            Grant::Refresh(token) => {
                params.push(("grant_type", "refresh_token".to_owned()));
                params.push(("refresh_token", token.to_owned()));
            }
        }
        let mut headers = HeaderMap::new();
        match c.client_auth {
            ClientAuth::Basic => {
                let pair = format!("{}:{}", c.client_id, c.client_secret.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| Error::config("client credentials are not valid header text"))?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            ClientAuth::Form => {
                params.push(("client_id", c.client_id.clone()));
                params.push(("client_secret", c.client_secret.expose().to_owned()));
            }
        }
        let mut outgoing = OutgoingRequest::new(&TOKEN, self.url.clone());
        outgoing.headers = headers;
        outgoing.params = params;
        let mut redactor = Redactor::new();
        self.register(&mut redactor);
        // The Basic credential (header), the password and the refresh token, in every
        // form an echo may quote them.
        outgoing.register_secrets(TOKEN_FIELDS, &mut redactor);
        // A token request counts against the platform's rate limit like any other.
        self.transport.acquire(TOKEN.site).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = match self.transport.send(outgoing, &redactor).await {
            Ok(raw) => decode_answer(&raw, &mut redactor),
            Err(e) => Err(e),
        };
        cred_core::telemetry::token_request(
            TOKEN.site.provider,
            grant_name,
            result.as_ref().map(|_| ()),
        );
        result
    }

    /// Registers every credential and token for redaction.
    pub(crate) fn register<'a>(&'a self, redactor: &mut Redactor<'a>) {
        let c = &self.credentials;
        redactor.secret(c.username.expose());
        redactor.secret(c.password.expose());
        redactor.secret(c.client_secret.expose());
        let local = self.local();
        for t in local.seen.iter().chain(local.refresh.iter()) {
            redactor.secret(t.expose().to_owned());
        }
    }
}

/// Decodes a token endpoint's answer. Every value in it is a secret from the moment it
/// arrives: they are all registered with `redactor` before any error (which may quote
/// the body) is built.
fn decode_answer(raw: &RawResponse, redactor: &mut Redactor<'_>) -> Result<TokenResponse, Error> {
    // Token fields are scrubbed whatever their value, even in a body cut short.
    for field in TOKEN_FIELDS {
        redactor.secret_field(*field);
    }
    let value: serde_json::Value = body::parse_envelope(&TOKEN, raw, redactor).map_err(|e| {
        match e {
            // A 2xx body that is not JSON may be a token answer cut short: its values
            // cannot all be found, so none of it is quoted.
            Error::Decode { site, reason, .. } => Error::decode(
                site,
                reason,
                "(not shown: a token answer is secret)".to_owned(),
            ),
            other => other,
        }
    })?;
    let mut answer_secrets = Vec::new();
    collect_secret_values(&value, None, &mut answer_secrets);
    for secret in answer_secrets {
        redactor.secret(secret);
    }
    let response: TokenResponse = serde_json::from_value(value).map_err(|e| {
        Error::decode(
            TOKEN.site,
            format!(
                "the token answer does not have the documented shape: {}",
                lenient::describe_json_error(&e)
            ),
            body::snippet(raw, redactor),
        )
    })?;
    if let Some(error) = response.error.as_deref() {
        return Err(oauth_error(
            TOKEN.site,
            raw.status,
            error,
            response.error_description.as_deref(),
            redactor,
        ));
    }
    if !raw.is_success() {
        return Err(Error::http_status(
            TOKEN.site,
            raw.status,
            body::snippet(raw, redactor),
        ));
    }
    Ok(response)
}

/// What a successful token answer gives.
struct Usable {
    access: String,
    lifetime: Duration,
    refresh: Option<String>,
}

/// Checks a decoded token answer: an `access_token`, a bearer `token_type`, a usable
/// `expires_in` ([`token_lifetime`]). Errors never quote a value.
fn usable(response: TokenResponse) -> Result<Usable, Error> {
    let site = TOKEN.site;
    let decode = |reason: String| Error::decode(site, reason, String::new());
    let access = response
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| decode("the token answer has no `access_token`".to_owned()))?;
    if let Some(kind) = &response.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(decode(
            "the token answer's `token_type` is not `bearer`".to_owned(),
        ));
    }
    let lifetime = token_lifetime(response.expires_in.as_ref()).map_err(decode)?;
    Ok(Usable {
        access,
        lifetime,
        refresh: response.refresh_token.filter(|r| !r.trim().is_empty()),
    })
}

/// Checks a token endpoint answer (4.3.1) exactly as the token manager does and returns
/// the lifetime it would give the token. Exposed for sandboxes, custom transports and
/// property tests; errors never quote a value of the answer.
pub fn check_token_answer(raw: &RawResponse) -> Result<Duration, Error> {
    let mut redactor = Redactor::new();
    decode_answer(raw, &mut redactor)
        .and_then(usable)
        .map(|u| u.lifetime)
}

/// The string values of a token answer (at any depth) except those of
/// [`PUBLIC_ANSWER_FIELDS`]: tokens, ids and whatever else the server put there.
fn collect_secret_values(value: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if !key.is_some_and(|k| PUBLIC_ANSWER_FIELDS.contains(&k)) => {
            out.push(s.clone());
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_secret_values(item, key, out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                collect_secret_values(v, Some(k), out);
            }
        }
        _ => {}
    }
}

/// The lifetime a token answer's `expires_in` gives, in whole seconds:
///
/// - absent or `null`: 12 hours (the standard's documented lifetime);
/// - a positive number, or a numeric string: that many seconds, fractions dropped,
///   clamped to [`MAX_TOKEN_LIFETIME`] (`1e30` and `18446744073709551615` included);
/// - zero, negative, or below one second (`0.5`): **expires now**: the token is used for
///   the calls that waited for it, and the next call asks for a new one;
/// - anything else (`"soon"`, `true`, an object, `NaN`): an error saying so; the value
///   is never quoted (a token answer is secret).
pub fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Result<Duration, String> {
    use serde_json::Value;
    let seconds = match expires_in {
        None | Some(Value::Null) => return Ok(DEFAULT_LIFETIME),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(DEFAULT_LIFETIME),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let seconds = seconds
        .filter(|s| !s.is_nan())
        .ok_or_else(|| "the token answer's `expires_in` is not a number of seconds".to_owned())?;
    if seconds < 1.0 {
        return Ok(Duration::ZERO);
    }
    let max = MAX_TOKEN_LIFETIME.as_secs();
    let whole = if seconds >= max as f64 {
        max
    } else {
        seconds as u64
    };
    Ok(Duration::from_secs(whole))
}

/// A token store's failure as this platform's: reported at the token endpoint, so that
/// callers see which provider's call did not go out.
fn store_error(e: Error) -> Error {
    match e {
        Error::Transport {
            message,
            sent,
            failure,
            source,
            ..
        } => {
            let message = format!("token store: {message}");
            match source {
                Some(source) => {
                    Error::transport_with_source(TOKEN.site, failure, message, sent, source)
                }
                None => Error::transport(TOKEN.site, failure, message, sent),
            }
        }
        other => other,
    }
}

/// Whether the server answered a grant with a refusal of any kind (as opposed to not
/// answering: a transport failure or a timeout).
fn is_refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::Provider(_)
            | Error::HttpStatus { .. }
            | Error::Decode { .. }
            | Error::Redirect { .. }
            | Error::ResponseTooLarge { .. }
    )
}

/// Puts the access token on every share call; re-authenticates once when it is refused.
pub(crate) struct TokenAuth {
    pub(crate) tokens: Arc<TokenManager>,
    pub(crate) placement: TokenPlacement,
}

impl fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuth")
            .field("tokens", &self.tokens)
            .field("placement", &self.placement)
            .finish()
    }
}

#[async_trait]
impl Authorizer for TokenAuth {
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        let token = self.tokens.token().await?;
        let value = token.access.expose();
        request.credential = token.generation;
        if matches!(
            self.placement,
            TokenPlacement::BodyAndHeader | TokenPlacement::Query
        ) {
            let mut header = HeaderValue::from_str(&format!("Bearer {value}")).map_err(|_| {
                Error::decode(
                    TOKEN.site,
                    "the access token is not valid header text".to_owned(),
                    String::new(),
                )
            })?;
            header.set_sensitive(true);
            request.headers.insert(AUTHORIZATION, header);
        }
        match self.placement {
            TokenPlacement::Query => {
                request
                    .url
                    .query_pairs_mut()
                    .append_pair("access_token", value);
            }
            TokenPlacement::BodyAndHeader | TokenPlacement::Body => {
                request.params.insert(0, ("access_token", value.to_owned()));
            }
        }
        Ok(())
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        TOKEN_FIELDS
    }

    async fn invalidate(&self, credential: u64) {
        self.tokens.invalidate(credential).await;
    }

    fn is_refreshable(&self) -> bool {
        true
    }

    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>) {
        self.tokens.register(redactor);
    }
}
