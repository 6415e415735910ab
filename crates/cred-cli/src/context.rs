//! What every provider command shares: the global options and, with `--sandbox`, the
//! in-process sandbox.

use std::time::Duration;

use cred_core::Error;
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
        })
    }
}
