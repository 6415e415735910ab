//! The TOML configuration of `cred serve` (`--config gateway.toml`). Secrets are not in
//! it: callers' keys appear only as digests, and the providers' credentials come from
//! their usual environment variables.
//!
//! ```toml
//! listen = "127.0.0.1:8710"
//! require_purpose = true
//!
//! [limits]
//! max_body_bytes = 65536
//! max_in_flight = 256
//!
//! [audit]
//! ledger = "/var/lib/credkit/audit.ledger"
//!
//! [[caller]]
//! name = "hr-portal"
//! key_sha256 = "sha256:…"          # from `cred serve keygen hr-portal`
//! operations = ["jumdata/*", "juhe/qualification"]
//! rate_limit = 20                  # calls a second (across replicas with Redis)
//! daily_budget = 5000              # charged calls a day (UTC)
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::callers::{Caller, Callers};
use crate::gateway::Limits;
use crate::serve::ServeOptions;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// Where to listen (default `127.0.0.1:8710`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Whether callers must send `X-Credkit-Purpose` (default `true`).
    #[serde(default = "yes")]
    pub require_purpose: bool,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// TLS.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// The audit ledger.
    #[serde(default)]
    pub audit: AuditConfig,
    /// The callers.
    #[serde(default, rename = "caller")]
    pub callers: Vec<CallerConfig>,
}

fn default_listen() -> String {
    "127.0.0.1:8710".to_owned()
}

fn yes() -> bool {
    true
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// Largest body (default 65536).
    pub max_body_bytes: Option<usize>,
    /// Largest `zz-license verify-file` body (default 28 MiB).
    pub max_file_body_bytes: Option<usize>,
    /// Seconds a body may take (default 10).
    pub body_timeout_secs: Option<f64>,
    /// Seconds a request head may take (default 10).
    pub header_timeout_secs: Option<f64>,
    /// Largest request head (default 16384).
    pub max_header_bytes: Option<usize>,
    /// Calls at once before 503 (default 256).
    pub max_in_flight: Option<usize>,
    /// Seconds a stop waits for accepted requests (default 30).
    pub shutdown_grace_secs: Option<f64>,
    /// Connections open at once (default 1024).
    pub max_connections: Option<usize>,
}

/// `[tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// `[audit]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditConfig {
    /// The ledger (default: `$XDG_DATA_HOME/credkit/audit.ledger`).
    pub ledger: Option<PathBuf>,
    /// Its key file (default: beside the ledger).
    pub key: Option<PathBuf>,
}

/// `[[caller]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CallerConfig {
    /// Its name.
    pub name: String,
    /// `sha256:<hex>` of its key.
    pub key_sha256: String,
    /// What it may call (default: everything).
    #[serde(default = "all")]
    pub operations: Vec<String>,
    /// Calls a second.
    pub rate_limit: Option<u32>,
    /// Charged calls a day.
    pub daily_budget: Option<u64>,
}

fn all() -> Vec<String> {
    vec!["*".to_owned()]
}

fn secs(v: Option<f64>, default: u64, what: &str) -> Result<Duration, String> {
    match v {
        None => Ok(Duration::from_secs(default)),
        Some(s) if s.is_finite() && s > 0.0 && s < 86_400.0 => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err(format!("{what} must be a number of seconds above 0")),
    }
}

impl GatewayConfig {
    /// Reads the file's text.
    pub fn parse(text: &str) -> Result<GatewayConfig, String> {
        let config: GatewayConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.callers()?;
        config.limits()?;
        config.serve_options()?;
        Ok(config)
    }

    /// The callers.
    pub fn callers(&self) -> Result<Callers, String> {
        let mut out = Vec::new();
        for c in &self.callers {
            if c.rate_limit == Some(0) {
                return Err(format!("caller {}: rate_limit must be above 0", c.name));
            }
            out.push(
                Caller::new(&c.name, &c.key_sha256, c.operations.clone())?
                    .rate_limit(c.rate_limit)
                    .daily_budget(c.daily_budget),
            );
        }
        Callers::new(out)
    }

    /// The gateway's limits.
    pub fn limits(&self) -> Result<Limits, String> {
        let d = Limits::default();
        let l = &self.limits;
        Ok(Limits {
            max_body_bytes: l.max_body_bytes.unwrap_or(d.max_body_bytes),
            max_file_body_bytes: l.max_file_body_bytes.unwrap_or(d.max_file_body_bytes),
            body_timeout: secs(l.body_timeout_secs, 10, "limits.body_timeout_secs")?,
            max_in_flight: match l.max_in_flight {
                Some(0) => return Err("limits.max_in_flight must be above 0".to_owned()),
                Some(n) => n,
                None => d.max_in_flight,
            },
        })
    }

    /// How connections are served (TLS is loaded by the caller from [`Self::tls`]).
    pub fn serve_options(&self) -> Result<ServeOptions, String> {
        let d = ServeOptions::default();
        let l = &self.limits;
        Ok(ServeOptions {
            header_timeout: secs(l.header_timeout_secs, 10, "limits.header_timeout_secs")?,
            max_header_bytes: l.max_header_bytes.unwrap_or(d.max_header_bytes),
            shutdown_grace: secs(l.shutdown_grace_secs, 30, "limits.shutdown_grace_secs")?,
            max_connections: match l.max_connections {
                Some(0) => return Err("limits.max_connections must be above 0".to_owned()),
                Some(n) => n,
                None => d.max_connections,
            },
            tls: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_file_and_refuses_mistakes() {
        let key = crate::callers::generate_key().unwrap_or_else(|e| unreachable!("{e}"));
        let text = format!(
            "listen = \"0.0.0.0:9000\"\n[limits]\nmax_in_flight = 8\n[[caller]]\nname = \"hr\"\nkey_sha256 = \"{}\"\nrate_limit = 5\ndaily_budget = 100\n",
            key.digest
        );
        let c = GatewayConfig::parse(&text).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert!(c.require_purpose);
        assert_eq!(c.limits().map(|l| l.max_in_flight), Ok(8));
        let callers = c.callers().unwrap_or_else(|e| unreachable!("{e}"));
        let hr = callers
            .authenticate(key.key.expose())
            .unwrap_or_else(|| unreachable!());
        assert_eq!((hr.rate_limit, hr.daily_budget), (Some(5), Some(100)));
        assert!(GatewayConfig::parse("lisen = \"x\"").is_err());
        assert!(GatewayConfig::parse("[[caller]]\nname = \"a\"\nkey_sha256 = \"nope\"").is_err());
        assert!(GatewayConfig::parse("[limits]\nbody_timeout_secs = -1").is_err());
    }
}
