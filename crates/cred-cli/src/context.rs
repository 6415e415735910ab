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
    /// `--audit-ledger`, opened (with its key) before any call.
    pub ledger: Option<cred_ledger::Ledger>,
    /// `--purpose`.
    pub purpose: Option<String>,
    /// `--require-purpose`.
    pub require_purpose: bool,
    /// Who calls, as the ledger records it (`cli:<user>`; a batch run makes it
    /// `batch:<user>`).
    pub caller: String,
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
            // SQLite and files: off the runtime's worker (this thread may block).
            ledger: tokio::task::block_in_place(|| open_ledger(cli))?,
            purpose: cli.purpose.clone().filter(|p| !p.trim().is_empty()),
            require_purpose: cli.require_purpose,
            caller: format!("cli:{}", os_user()),
        })
    }

    /// Runs `call` (the SDK call for `request`) and, with `--audit-ledger`, records it:
    /// its outcome, whether it was charged, the purpose, and whom `request` is about
    /// (keyed HMACs). The record is committed before the answer is shown; a record that
    /// cannot be written is said on stderr (the call itself was made).
    /// `purpose` stands in for `--purpose` when that is not given (the licence
    /// platform's 用证事由).
    pub async fn audited<R, T, F>(
        &self,
        provider: &str,
        operation: &str,
        request: &R,
        purpose: Option<&str>,
        call: F,
    ) -> Result<cred_core::Answer<T>, Error>
    where
        R: cred_core::ApiRequest,
        F: std::future::Future<Output = Result<cred_core::Answer<T>, Error>>,
    {
        let Some(ledger) = &self.ledger else {
            return call.await;
        };
        let (result, recorded) = ledger
            .audit(
                &self.caller,
                self.purpose.as_deref().or(purpose),
                provider,
                operation,
                request,
                call,
            )
            .await;
        if let Err(e) = recorded {
            crate::output::err(&format!(
                "warning: the call was made, but its audit record could not be written: {e}\n"
            ));
        }
        result
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

/// Opens `--audit-ledger` (before anything is sent: a broken ledger or key stops the
/// command), checking `--purpose` when `--require-purpose` asks for one.
fn open_ledger(cli: &Cli) -> Result<Option<cred_ledger::Ledger>, Error> {
    // A batch records by default; --no-audit turns it off.
    if let crate::cli::Command::Batch(b) = &cli.command
        && b.options().no_audit
        && cli.audit_ledger.is_some()
    {
        return Err(Error::invalid(
            "--no-audit",
            "--no-audit and --audit-ledger (or CRED_AUDIT_LEDGER) were both given: choose one",
        ));
    }
    let batch_default = match &cli.command {
        crate::cli::Command::Batch(b) if !b.options().no_audit && cli.audit_ledger.is_none() => {
            Some(default_ledger_path()?)
        }
        _ => None,
    };
    let Some(path) = cli.audit_ledger.as_ref().or(batch_default.as_ref()) else {
        if cli.require_purpose {
            return Err(Error::config(
                "--require-purpose needs --audit-ledger (the ledger the purpose is recorded in)",
            ));
        }
        return Ok(None);
    };
    let mut options = cred_ledger::LedgerOptions::default().require_purpose(cli.require_purpose);
    if let Some(key) = &cli.audit_key {
        options = options.key(key);
    }
    let ledger = cred_ledger::Ledger::open(path, options)
        .map_err(|e| Error::config(format!("audit ledger: {e}")))?;
    let cause = match &cli.command {
        crate::cli::Command::ZzLicense(c) => crate::zz_license::cause_of(c),
        _ => None,
    };
    // A batch's rows may carry their own purpose (a purpose column): checked per row.
    if matches!(
        cli.command,
        crate::cli::Command::Batch(_) | crate::cli::Command::Serve(_)
    ) {
        return Ok(Some(ledger));
    }
    ledger
        .check_purpose(cli.purpose.as_deref().or(cause))
        .map_err(|e| Error::invalid("purpose", e.to_string()))?;
    Ok(Some(ledger))
}

/// The operating-system user running `cred` (from `USER`, `LOGNAME` or `USERNAME`).
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Where a batch records its calls when no ledger is given: `$XDG_DATA_HOME/credkit/
/// audit.ledger`, else `$HOME/.local/share/credkit/audit.ledger` (the directory created
/// owner-only).
pub(crate) fn default_ledger_path() -> Result<std::path::PathBuf, Error> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|p| !p.is_empty());
    let data = match (nonempty("XDG_DATA_HOME"), nonempty("HOME")) {
        (Some(dir), _) => std::path::PathBuf::from(dir),
        (None, Some(home)) => std::path::PathBuf::from(home).join(".local/share"),
        (None, None) => {
            return Err(Error::config(
                "a batch records every call in an audit ledger, and there is no default place for it (neither XDG_DATA_HOME nor HOME is set): give --audit-ledger PATH, or --no-audit",
            ));
        }
    };
    let dir = data.join("credkit");
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir).map_err(|e| {
            Error::config(format!(
                "cannot create {} for the audit ledger ({e}): give --audit-ledger PATH, or --no-audit",
                dir.display()
            ))
        })?;
    }
    Ok(dir.join("audit.ledger"))
}
