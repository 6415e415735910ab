//! What every provider command shares: the global options and, with `--sandbox`, the
//! in-process sandbox.

use std::time::Duration;

use std::num::NonZeroU32;
use std::sync::Arc;

use cred_core::LimiterChoice;
use cred_core::TokenStore;
use cred_core::settings::Configurable;
use cred_core::{Error, ProxyUrl, RootCa};
use cred_redis::{ENV_TOKEN_KEY, RedisRateLimiter, RedisTokenStore, TokenKey, WhenUnavailable};
use cred_sandbox::Sandbox;

use crate::cli::Cli;

/// Global options, resolved.
pub struct Context {
    /// The in-process sandbox, when `--sandbox` is given (stops when dropped).
    pub sandbox: Option<Sandbox>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--ca-file`, read once.
    pub root_ca: Option<RootCa>,
    /// `--proxy`.
    pub proxy: Option<ProxyUrl>,
    /// `--redis` (or `CRED_REDIS_URL`).
    pub redis: Option<String>,
    /// `--redis-namespace`.
    pub redis_namespace: String,
    /// `--redis-fallback`: the share of the rate a process may use alone while Redis
    /// is away (`None`: fail closed).
    pub redis_fallback: Option<f64>,
    /// `--rate-limit`.
    pub rate_limit: Option<u32>,
}

impl Context {
    /// Resolves the global options; starts the sandbox when asked to.
    pub async fn new(cli: &Cli) -> Result<Self, Error> {
        let sandbox = if cli.sandbox {
            let sandbox = Sandbox::start()
                .await
                .map_err(|e| Error::config(format!("cannot start the sandbox: {e}")))?;
            tracing::info!(base_url = sandbox.base_url(), "sandbox started");
            Some(sandbox)
        } else {
            None
        };
        Ok(Self {
            sandbox,
            base_url: cli.base_url.clone(),
            timeout: cli.timeout.map(Duration::from_secs_f64),
            root_ca: cli.ca_file.as_ref().map(RootCa::from_file).transpose()?,
            proxy: cli.proxy.as_deref().map(ProxyUrl::parse).transpose()?,
            redis: cli.redis.clone().filter(|u| !u.trim().is_empty()),
            redis_namespace: cli.redis_namespace.clone(),
            redis_fallback: cli.redis_fallback,
            rate_limit: cli.rate_limit,
        })
    }

    /// Applies the settings to a provider's builder: its `<PROVIDER>_CA_FILE` and
    /// `<PROVIDER>_PROXY` variables (not with `--sandbox`), then `--timeout`,
    /// `--ca-file`, `--proxy`, and the rate limit: `--rate-limit` or
    /// `<PROVIDER>_RATE_LIMIT` (else the provider's default), shared through Redis with
    /// `--redis` under a key of `provider` and `account` (an app or client id, hashed).
    pub fn configure<B: Configurable>(
        &self,
        builder: B,
        provider: &str,
        account: &str,
    ) -> Result<B, Error> {
        let mut builder = if self.sandbox.is_some() {
            builder
        } else {
            builder.settings_from_env()?
        };
        let settings = builder.settings_mut();
        if let Some(t) = self.timeout {
            settings.set_timeout(t);
        }
        if let Some(ca) = &self.root_ca {
            settings.transport.root_cas.push(ca.clone());
        }
        if let Some(proxy) = &self.proxy {
            settings.transport.proxy = Some(proxy.clone());
        }
        let variable = format!("{}_RATE_LIMIT", B::ENV_PREFIX);
        let rate = match self.rate_limit {
            Some(n) => Some(n),
            None => match cred_core::secret::var_from_env(&variable) {
                Some(v) => Some(v.trim().parse::<u32>().map_err(|_| {
                    Error::config(format!(
                        "{variable} must be a whole number of requests a second"
                    ))
                })?),
                None => None,
            },
        };
        let default_rate = match &settings.limiter {
            LimiterChoice::PerSecond(n) => Some(*n),
            LimiterChoice::Burst { per_second, .. } => Some(*per_second),
            _ => None,
        };
        match (rate.map(NonZeroU32::new), &self.redis) {
            // 0: no client-side limit at all.
            (Some(None), _) => settings.limiter = LimiterChoice::Off,
            (Some(Some(n)), None) => settings.limiter = LimiterChoice::PerSecond(n),
            (chosen, Some(url)) => {
                let per_second = chosen.flatten().or(default_rate).unwrap_or(NonZeroU32::MIN);
                let limiter = RedisRateLimiter::builder(url.as_str(), per_second)
                    .namespace(self.redis_namespace.as_str())
                    .provider(provider)
                    .account(account)
                    .max_wait(settings.transport.timeout)
                    .when_unavailable(match self.redis_fallback {
                        Some(share) => WhenUnavailable::FallBack { share },
                        None => WhenUnavailable::FailClosed,
                    })
                    .build()?;
                tracing::debug!(key = limiter.key(), per_second, "shared rate limit");
                settings.limiter = LimiterChoice::Custom(Arc::new(limiter));
            }
            (None, None) => {}
        }
        Ok(builder)
    }

    /// With `--redis`, the token store every `cred` process with the same Redis and
    /// namespace shares (tokens sealed with `CRED_REDIS_TOKEN_KEY` when it is set);
    /// `None` otherwise (the client keeps its token in memory).
    pub fn token_store(&self) -> Result<Option<Arc<dyn TokenStore>>, Error> {
        let Some(url) = &self.redis else {
            return Ok(None);
        };
        let mut builder = RedisTokenStore::builder(url.as_str())
            .namespace(self.redis_namespace.as_str())
            .fall_back_to_local(self.redis_fallback.is_some());
        if let Some(key) = cred_core::secret::secret_from_env(ENV_TOKEN_KEY) {
            let key = TokenKey::parse(key.expose())
                .map_err(|e| Error::config(format!("{ENV_TOKEN_KEY}: {e}")))?;
            builder = builder.token_key(key);
        }
        Ok(Some(Arc::new(builder.build()?)))
    }
}
