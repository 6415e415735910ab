//! Client settings every provider builder shares (timeouts, body cap, user agent, rate
//! limit, retry), and the macro that gives a provider's builder their setters.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Authorizer;
use crate::call::ClientCore;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::ratelimit::{LocalRateLimiter, RateLimiter};
use crate::retry::RetryPolicy;
use crate::transport::{ProxyUrl, RootCa, Transport, TransportConfig};

/// Which client-side rate limiter a client uses.
#[derive(Clone)]
#[non_exhaustive]
pub enum LimiterChoice {
    /// A [`LocalRateLimiter`] at this many requests a second, burst 1: no one-second
    /// window admits more.
    PerSecond(NonZeroU32),
    /// A [`LocalRateLimiter`] at `per_second` with bursts of up to `burst`.
    Burst {
        /// The sustained rate.
        per_second: NonZeroU32,
        /// The largest burst.
        burst: NonZeroU32,
    },
    /// No client-side limit.
    Off,
    /// A custom (for example shared, multi-process) limiter.
    Custom(Arc<dyn RateLimiter>),
}

impl fmt::Debug for LimiterChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimiterChoice::PerSecond(n) => write!(f, "PerSecond({n})"),
            LimiterChoice::Burst { per_second, burst } => {
                write!(f, "Burst({per_second}/s, burst {burst})")
            }
            LimiterChoice::Off => f.write_str("Off"),
            LimiterChoice::Custom(l) => write!(f, "Custom({l:?})"),
        }
    }
}

/// Transport, rate-limit and retry settings of one client (built by
/// [`ClientSettings::new`]; new fields may be added).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Timeouts, body cap, user agent.
    pub transport: TransportConfig,
    /// Client-side rate limiting.
    pub limiter: LimiterChoice,
    /// Retry policy.
    pub retry: RetryPolicy,
}

impl ClientSettings {
    /// Defaults: [`TransportConfig::default`] with `user_agent`, a limiter of
    /// `default_rate` requests a second, [`RetryPolicy::default`].
    pub fn new(user_agent: &str, default_rate: NonZeroU32) -> Self {
        Self {
            transport: TransportConfig {
                user_agent: user_agent.to_owned(),
                ..TransportConfig::default()
            },
            limiter: LimiterChoice::PerSecond(default_rate),
            retry: RetryPolicy::default(),
        }
    }

    /// Builds the runtime: transport with its limiter, `auth`, retry, and the parsed URLs
    /// of `endpoints` under `base_url`.
    pub fn build_core(
        self,
        auth: Arc<dyn Authorizer>,
        base_url: &str,
        endpoints: &[&'static Endpoint],
    ) -> Result<ClientCore, Error> {
        let limiter: Option<Arc<dyn RateLimiter>> = match self.limiter {
            LimiterChoice::PerSecond(n) => Some(Arc::new(LocalRateLimiter::per_second(n))),
            LimiterChoice::Burst { per_second, burst } => {
                Some(Arc::new(LocalRateLimiter::new(per_second, burst)))
            }
            LimiterChoice::Off => None,
            LimiterChoice::Custom(l) => Some(l),
        };
        let transport = Transport::new(self.transport, limiter)?;
        ClientCore::new(transport, auth, self.retry, base_url)?.with_endpoints(endpoints)
    }

    /// Sets the overall timeout of one attempt.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.transport.timeout = timeout;
    }

    /// Reads the transport variables of a provider whose variables start with `prefix`:
    /// `<PREFIX>_CA_FILE` (a PEM file of extra root CAs) and `<PREFIX>_PROXY` (a proxy
    /// URL for every request). Unset variables change nothing.
    pub fn apply_env(&mut self, prefix: &str) -> Result<(), Error> {
        if let Some(path) = crate::secret::var_from_env(&format!("{prefix}_CA_FILE")) {
            self.transport.root_cas.push(
                RootCa::from_file(path.trim()).map_err(|e| {
                    Error::config(format!("{prefix}_CA_FILE: {}", config_message(&e)))
                })?,
            );
        }
        if let Some(url) = crate::secret::var_from_env(&format!("{prefix}_PROXY")) {
            self.transport.proxy =
                Some(ProxyUrl::parse(&url).map_err(|e| {
                    Error::config(format!("{prefix}_PROXY: {}", config_message(&e)))
                })?);
        }
        Ok(())
    }
}

fn config_message(e: &Error) -> String {
    match e {
        Error::Config { message } => message.clone(),
        other => other.to_string(),
    }
}

/// A builder with [`ClientSettings`]: what [`impl_settings_setters!`](crate::impl_settings_setters)
/// gives every provider's builder, so that a front end (the CLI, a batch runner) can set
/// timeouts, CAs and proxies on any provider's builder alike.
pub trait Configurable: Sized {
    /// The provider's variable prefix (`JUMDATA`, `ZZ_LICENSE`, ...).
    const ENV_PREFIX: &'static str;

    /// The settings the builder will use.
    fn settings_mut(&mut self) -> &mut ClientSettings;

    /// Applies `<PREFIX>_CA_FILE` and `<PREFIX>_PROXY` ([`ClientSettings::apply_env`]).
    fn settings_from_env(mut self) -> Result<Self, Error> {
        self.settings_mut().apply_env(Self::ENV_PREFIX)?;
        Ok(self)
    }
}

/// Adds the shared setters (`timeout`, `connect_timeout`, `max_body_bytes`, `user_agent`,
/// `rate_limit`, `rate_limiter`, `retry`, `root_ca`, `proxy`, `transport_from_env`) and
/// [`Configurable`] to a provider's builder, which must have a field
/// `settings: cred_core::settings::ClientSettings`. `$prefix` is the provider's variable
/// prefix (`"JUMDATA"` reads `JUMDATA_CA_FILE`, `JUMDATA_PROXY`).
#[macro_export]
macro_rules! impl_settings_setters {
    ($builder:ty, $prefix:literal) => {
        impl $crate::settings::Configurable for $builder {
            const ENV_PREFIX: &'static str = $prefix;

            fn settings_mut(&mut self) -> &mut $crate::settings::ClientSettings {
                &mut self.settings
            }
        }

        impl $builder {
            /// Trusts `ca` (root certificates in PEM, e.g. a government intranet's CA) in
            /// addition to the system's roots.
            pub fn root_ca(mut self, ca: $crate::RootCa) -> Self {
                self.settings.transport.root_cas.push(ca);
                self
            }

            /// Sends every request through `proxy` (otherwise `HTTP_PROXY` /
            /// `HTTPS_PROXY` / `NO_PROXY` apply).
            pub fn proxy(mut self, proxy: $crate::ProxyUrl) -> Self {
                self.settings.transport.proxy = Some(proxy);
                self
            }

            #[doc = concat!("Reads `", $prefix, "_CA_FILE` (extra root CAs, PEM) and `", $prefix, "_PROXY` (a proxy URL), if set.")]
            pub fn transport_from_env(self) -> Result<Self, $crate::Error> {
                $crate::settings::Configurable::settings_from_env(self)
            }

            /// Overall timeout of one attempt: connect, send, read the whole body (default 30 s).
            pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.settings.transport.timeout = timeout;
                self
            }

            /// Connect timeout (default 5 s).
            pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.settings.transport.connect_timeout = timeout;
                self
            }

            /// Largest response body accepted (default 2 MiB).
            pub fn max_body_bytes(mut self, bytes: usize) -> Self {
                self.settings.transport.max_body_bytes = bytes;
                self
            }

            /// `User-Agent` header.
            pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
                self.settings.transport.user_agent = user_agent.into();
                self
            }

            /// Client-side limit of `per_second` requests in any one-second window
            /// (requests spaced `1 / per_second` apart, burst 1); `0` switches
            /// client-side limiting off.
            pub fn rate_limit(mut self, per_second: u32) -> Self {
                self.settings.limiter = match ::std::num::NonZeroU32::new(per_second) {
                    Some(n) => $crate::settings::LimiterChoice::PerSecond(n),
                    None => $crate::settings::LimiterChoice::Off,
                };
                self
            }

            /// Client-side limit of `per_second` requests a second on average, letting
            /// bursts of up to `burst` through after a quiet spell (a window may then
            /// hold `burst - 1` more than the rate). `per_second == 0` switches limiting
            /// off.
            pub fn rate_limit_with_burst(mut self, per_second: u32, burst: u32) -> Self {
                self.settings.limiter = match ::std::num::NonZeroU32::new(per_second) {
                    Some(per_second) => $crate::settings::LimiterChoice::Burst {
                        per_second,
                        burst: ::std::num::NonZeroU32::new(burst)
                            .unwrap_or(::std::num::NonZeroU32::MIN),
                    },
                    None => $crate::settings::LimiterChoice::Off,
                };
                self
            }

            /// Uses a custom (for example shared, multi-process) rate limiter.
            pub fn rate_limiter(
                mut self,
                limiter: ::std::sync::Arc<dyn $crate::RateLimiter>,
            ) -> Self {
                self.settings.limiter = $crate::settings::LimiterChoice::Custom(limiter);
                self
            }

            /// Retry policy (default [`RetryPolicy::default`]($crate::RetryPolicy::default),
            /// which never retries a call that may have been billed).
            pub fn retry(mut self, policy: $crate::RetryPolicy) -> Self {
                self.settings.retry = policy;
                self
            }
        }
    };
}
