//! What every provider command shares: the global options and, with `--sandbox`, the
//! in-process sandbox.

use std::time::Duration;

use cred_core::settings::Configurable;
use cred_core::{Error, ProxyUrl, RootCa};
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
        })
    }

    /// Applies the transport settings to a provider's builder: its `<PROVIDER>_CA_FILE`
    /// and `<PROVIDER>_PROXY` variables (not with `--sandbox`), then `--timeout`,
    /// `--ca-file` and `--proxy`.
    pub fn configure<B: Configurable>(&self, builder: B) -> Result<B, Error> {
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
        Ok(builder)
    }
}
