//! The OAuth2 token manager (4.3.1): password grant with `scope=read write`, client
//! credentials by HTTP Basic or as form fields, a cached token renewed ahead of
//! `expires_in` (by the `refresh_token` grant first), one token request however many
//! callers wait (single flight), and the authorizer that puts the token on every call.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use cred_core::{
    Authorizer, Billing, CallSite, Encoding, Endpoint, Error, ErrorKind, ExposeSecret, Method,
    OutgoingRequest, RawResponse, Redactor, SecretString, Transport, body, lenient,
};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;

use crate::envelope::oauth_error;

/// The token endpoint (用户身份验证接口, 4.3.1).
pub static TOKEN: Endpoint = Endpoint {
    site: CallSite::new("zz_license", "token"),
    title: "用户身份验证",
    method: Method::Post,
    path: "/oauth/token",
    encoding: Encoding::Form,
    billing: Billing::Free,
    deprecated: false,
};

/// Token lifetime assumed when the server does not say (the seed: 12 hours).
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
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields beside `grant_type`, `scope`,
    /// `username` and `password`: what the seed's parameter table for 4.3.1 lists (the
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
pub enum TokenPlacement {
    /// `access_token` in the JSON body (as the seed lists it) and an
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
    pub(crate) username: SecretString,
    pub(crate) password: SecretString,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) client_auth: ClientAuth,
}

/// A token in the cache.
pub(crate) struct Token {
    pub(crate) access: SecretString,
    /// Numbers tokens in the order they were obtained (see `Authorizer::invalidate`).
    pub(crate) generation: u64,
    refresh_at: Instant,
    expires_at: Instant,
}

impl Token {
    fn expired(&self, now: Instant) -> bool {
        now >= self.expires_at
    }
}

#[derive(Default)]
struct State {
    current: Option<Arc<Token>>,
    refresh: Option<SecretString>,
    generation: u64,
    /// Tokens handed out before, kept so that an error quoting one is still redacted.
    retired: Vec<SecretString>,
    /// Renewals attempted so far, and how the last one failed (if it did): callers that
    /// waited on a failed renewal share its error instead of repeating the request.
    renewals: u64,
    last_failure: Option<Error>,
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

/// Obtains, caches and renews the access token of one account.
pub(crate) struct TokenManager {
    transport: Transport,
    url: reqwest::Url,
    credentials: Credentials,
    margin: Duration,
    state: Mutex<State>,
    /// Held while a token request is in flight: the single flight.
    renewing: tokio::sync::Mutex<()>,
    requests: AtomicU64,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("url", &self.url.as_str())
            .field("client_id", &self.credentials.client_id)
            .field("client_auth", &self.credentials.client_auth)
            .field("credentials", &"[redacted]")
            .field("refresh_margin", &self.margin)
            .field("token_requests", &self.requests.load(Ordering::Relaxed))
            .finish()
    }
}

impl TokenManager {
    pub(crate) fn new(
        transport: Transport,
        url: reqwest::Url,
        credentials: Credentials,
        margin: Duration,
    ) -> Self {
        Self {
            transport,
            url,
            credentials,
            margin,
            state: Mutex::new(State::default()),
            renewing: tokio::sync::Mutex::new(()),
            requests: AtomicU64::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-written: recover it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<Arc<Token>> {
        self.state().current.clone()
    }

    /// Token requests sent so far (password and refresh grants).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one, or one obtained now. However many callers find
    /// the cache cold or stale at once, one token request is made; during the refresh
    /// window before expiry the others keep using the still-valid token meanwhile.
    pub(crate) async fn token(&self) -> Result<Arc<Token>, Error> {
        let now = Instant::now();
        if let Some(t) = self.current() {
            if now < t.refresh_at {
                return Ok(t);
            }
            if !t.expired(now) {
                let Ok(_guard) = self.renewing.try_lock() else {
                    return Ok(t); // someone is renewing; this one is still good
                };
                return match self.renew(Some(&t)).await {
                    Ok(fresh) => Ok(fresh),
                    Err(e) => {
                        tracing::warn!(
                            kind = e.kind().as_str(),
                            "renewing the access token ahead of expiry failed; using the current one"
                        );
                        Ok(t)
                    }
                };
            }
        }
        let seen = self.state().renewals;
        let _guard = self.renewing.lock().await;
        let current = {
            let state = self.state();
            if state.renewals != seen {
                // A renewal finished while this caller waited: share its outcome (even a
                // token the server said expires at once), so one renewal serves all.
                if let Some(e) = &state.last_failure {
                    return Err(e.clone());
                }
                if let Some(t) = &state.current {
                    return Ok(t.clone());
                }
            }
            if let Some(t) = &state.current
                && Instant::now() < t.refresh_at
            {
                return Ok(t.clone()); // renewed while this caller waited
            }
            state.current.clone()
        };
        self.renew(current.as_ref()).await
    }

    /// Drops the cached token if it is still the one numbered `generation`.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut state = self.state();
        if state
            .current
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            tracing::debug!(generation, "access token refused; dropping it");
            if let Some(old) = state.current.take() {
                state.retired.push(old.access.clone());
            }
        }
    }

    /// Gets a new token (the caller holds `renewing`): refresh grant first when a
    /// refresh token is known, the password grant otherwise or when it is refused.
    async fn renew(&self, stale: Option<&Arc<Token>>) -> Result<Arc<Token>, Error> {
        let result = self.renew_inner(stale).await;
        let mut state = self.state();
        state.renewals += 1;
        state.last_failure = result.as_ref().err().cloned();
        result
    }

    async fn renew_inner(&self, _stale: Option<&Arc<Token>>) -> Result<Arc<Token>, Error> {
        let refresh = self.state().refresh.clone();
        if let Some(refresh) = refresh {
            match self.request(Grant::Refresh(refresh.expose_secret())).await {
                Ok(response) => return self.store(response, "refresh_token"),
                Err(e) if is_refusal(&e) => {
                    tracing::debug!("refresh token refused; using the password grant");
                    self.state().refresh = None;
                }
                Err(e) => return Err(e),
            }
        }
        let response = self.request(Grant::Password).await?;
        self.store(response, "password")
    }

    fn store(&self, response: TokenResponse, grant: &str) -> Result<Arc<Token>, Error> {
        let Usable {
            access,
            lifetime,
            refresh,
        } = usable(response)?;
        let now = Instant::now();
        // Renew `margin` before expiry, but never earlier than half-way.
        let lead = self.margin.min(lifetime / 2);
        let mut state = self.state();
        state.generation += 1;
        let token = Arc::new(Token {
            access: SecretString::from(access),
            generation: state.generation,
            refresh_at: now.checked_add(lifetime - lead).unwrap_or(now),
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        });
        if let Some(old) = state.current.replace(token.clone())
            && old.access.expose_secret() != token.access.expose_secret()
        {
            state.retired.push(old.access.clone());
        }
        if state.retired.len() > 4 {
            state.retired.remove(0);
        }
        if let Some(r) = refresh {
            state.refresh = Some(SecretString::from(r));
        }
        tracing::debug!(
            grant,
            generation = token.generation,
            expires_in_s = lifetime.as_secs(),
            "access token obtained"
        );
        Ok(token)
    }

    async fn request(&self, grant: Grant<'_>) -> Result<TokenResponse, Error> {
        let c = &self.credentials;
        let mut params: Vec<(&'static str, String)> = Vec::with_capacity(6);
        match grant {
            Grant::Password => {
                params.push(("grant_type", "password".to_owned()));
                params.push(("scope", "read write".to_owned()));
                params.push(("username", c.username.expose_secret().to_owned()));
                params.push(("password", c.password.expose_secret().to_owned()));
            }
            Grant::Refresh(token) => {
                params.push(("grant_type", "refresh_token".to_owned()));
                params.push(("refresh_token", token.to_owned()));
            }
        }
        let mut headers = HeaderMap::new();
        match c.client_auth {
            ClientAuth::Basic => {
                let pair = format!("{}:{}", c.client_id, c.client_secret.expose_secret());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| Error::config("client credentials are not valid header text"))?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            ClientAuth::Form => {
                params.push(("client_id", c.client_id.clone()));
                params.push(("client_secret", c.client_secret.expose_secret().to_owned()));
            }
        }
        let outgoing = OutgoingRequest {
            endpoint: &TOKEN,
            url: self.url.clone(),
            headers,
            params,
            body: None,
            credential: 0,
            signed: None,
        };
        let mut redactor = Redactor::new();
        self.register(&mut redactor);
        // The Basic credential (header), the password and the refresh token, in every
        // form an echo may quote them.
        outgoing.register_secrets(TOKEN_FIELDS, &mut redactor);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let raw = self.transport.send(outgoing, &redactor).await?;
        decode_answer(&raw, &mut redactor)
    }

    /// Registers every credential and token for redaction.
    pub(crate) fn register<'a>(&'a self, redactor: &mut Redactor<'a>) {
        let c = &self.credentials;
        redactor.secret(c.username.expose_secret());
        redactor.secret(c.password.expose_secret());
        redactor.secret(c.client_secret.expose_secret());
        let state = self.state();
        let tokens = state
            .current
            .iter()
            .map(|t| &t.access)
            .chain(state.refresh.iter())
            .chain(state.retired.iter());
        for t in tokens {
            redactor.secret(t.expose_secret().to_owned());
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
            Error::Decode { site, reason, .. } => Error::Decode {
                site,
                reason,
                snippet: "(not shown: a token answer is secret)".to_owned(),
            },
            other => other,
        }
    })?;
    let mut answer_secrets = Vec::new();
    collect_secret_values(&value, None, &mut answer_secrets);
    for secret in answer_secrets {
        redactor.secret(secret);
    }
    let response: TokenResponse = serde_json::from_value(value).map_err(|e| Error::Decode {
        site: TOKEN.site,
        reason: format!(
            "the token answer does not have the documented shape: {}",
            lenient::describe_json_error(&e)
        ),
        snippet: body::snippet(raw, redactor),
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
        return Err(Error::HttpStatus {
            site: TOKEN.site,
            status: raw.status,
            snippet: body::snippet(raw, redactor),
        });
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
    let decode = |reason: String| Error::Decode {
        site,
        reason,
        snippet: String::new(),
    };
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
/// - absent or `null`: 12 hours (the seed's documented lifetime);
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

/// Whether the server refused a grant (as opposed to failing to answer).
fn is_refusal(e: &Error) -> bool {
    match e {
        Error::Provider(p) => matches!(p.kind, ErrorKind::Auth | ErrorKind::Unknown),
        Error::HttpStatus { status, .. } => matches!(status, 400 | 401),
        _ => false,
    }
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
        let value = token.access.expose_secret();
        request.credential = token.generation;
        if matches!(
            self.placement,
            TokenPlacement::BodyAndHeader | TokenPlacement::Query
        ) {
            let mut header =
                HeaderValue::from_str(&format!("Bearer {value}")).map_err(|_| Error::Decode {
                    site: TOKEN.site,
                    reason: "the access token is not valid header text".to_owned(),
                    snippet: String::new(),
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
        self.tokens.invalidate(credential);
    }

    fn is_refreshable(&self) -> bool {
        true
    }

    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>) {
        self.tokens.register(redactor);
    }
}
