//! `cred serve`: the gateway (cred-gateway) as a service, configured from a TOML file
//! and the providers' usual environment variables.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use cred_core::Error;
use cred_core::seal::SealingKey;
use cred_gateway::{Caller, Callers, Clients, Gateway, GatewayConfig};

use crate::cli::{ServeArgs, ServeCommand};
use crate::context::Context;
use crate::output::{Failure, emit, out};

/// The variable holding the key idempotency records are sealed with (base64 of 32
/// bytes); replicas sharing a Redis need the same.
pub const ENV_STATE_KEY: &str = "CRED_GATEWAY_STATE_KEY";

/// `cred serve keygen NAME`: no runtime, no network.
pub fn keygen(args: &ServeArgs) -> Option<ExitCode> {
    let Some(ServeCommand::Keygen { name }) = &args.command else {
        return None;
    };
    let result = cred_gateway::generate_key().and_then(|key| {
        // The name is checked as the configuration will check it.
        Caller::new(name, &key.digest, vec!["*".to_owned()]).map_err(Error::config)?;
        Ok(key)
    });
    Some(match result {
        Ok(key) => {
            out(&format!(
                "# API key for {name} (shown once; give it to the caller, keep it secret):\n{}\n\n# Add to the gateway configuration:\n[[caller]]\nname = \"{name}\"\nkey_sha256 = \"{}\"\noperations = [\"*\"]\n# rate_limit = 10       # calls a second\n# daily_budget = 1000   # charged calls a day (UTC)\n",
                key.key.expose(),
                key.digest
            ));
            ExitCode::SUCCESS
        }
        Err(e) => emit(Err(Failure::local(e)), false),
    })
}

fn read_config(path: Option<&Path>) -> Result<GatewayConfig, Error> {
    let Some(path) = path else {
        return GatewayConfig::parse("").map_err(Error::config);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    GatewayConfig::parse(&text).map_err(|e| Error::config(format!("{}: {e}", path.display())))
}

/// The provider clients that can be built; a provider without credentials is left out
/// (said on stderr), unless none can be built at all.
fn clients(ctx: &Context) -> Result<Clients, Error> {
    let mut clients = Clients::default();
    let mut missing = Vec::new();
    match crate::jumdata::client(ctx) {
        Ok(c) => clients.jumdata = Some(c),
        Err(e) => missing.push(("jumdata", e)),
    }
    match crate::juhe::client(ctx) {
        Ok(c) => clients.juhe = Some(c),
        Err(e) => missing.push(("juhe", e)),
    }
    match crate::zz_license::client(ctx, &crate::zz_license::no_audit_flags()) {
        Ok(c) => clients.zz_license = Some(c),
        Err(e) => missing.push(("zz-license", e)),
    }
    match crate::zhima::client(ctx) {
        Ok(c) => clients.zhima = Some(c),
        Err(e) => missing.push(("zhima", e)),
    }
    if clients.providers().is_empty() {
        let reasons: Vec<String> = missing.iter().map(|(p, e)| format!("{p}: {e}")).collect();
        return Err(Error::config(format!(
            "no provider can be offered ({}); or try --sandbox",
            reasons.join("; ")
        )));
    }
    for (provider, e) in missing {
        crate::output::err(&format!("cred serve: {provider} is not offered: {e}\n"));
    }
    Ok(clients)
}

/// The key idempotency records are sealed with: `CRED_GATEWAY_STATE_KEY`, else derived
/// from the provider secrets this gateway holds (every replica of a deployment holds
/// the same, so they agree without another secret to hand out).
fn state_key(ctx: &Context) -> Result<SealingKey, Error> {
    use base64::Engine as _;
    if let Some(text) = cred_core::secret::secret_from_env(ENV_STATE_KEY) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.expose().trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| Error::config(format!("{ENV_STATE_KEY} must be 32 bytes in base64")))?;
        return SealingKey::from_bytes(bytes);
    }
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    if ctx.sandbox.is_some() {
        use cred_sandbox::credentials as sc;
        secrets.push(sc::JUMDATA_APP_SECRET.as_bytes().to_vec());
        secrets.push(sc::JUHE_KEY.as_bytes().to_vec());
    } else {
        for name in [
            "JUMDATA_APP_SECRET",
            "JUHE_KEY",
            "ZZ_LICENSE_PASSWORD",
            "ZZ_LICENSE_CLIENT_SECRET",
            "ALIPAY_PRIVATE_KEY",
        ] {
            if let Some(v) = cred_core::secret::secret_from_env(name) {
                secrets.push(v.expose().as_bytes().to_vec());
            }
        }
    }
    let parts: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    SealingKey::derive("credkit gateway state", &parts, b"idempotency")
}

/// A Prometheus recorder for this process; `/metrics` renders it.
fn metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    const BUCKETS: &[f64] = &[
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .ok()?
        .install_recorder()
        .ok()?;
    cred_core::telemetry::describe();
    Some(handle)
}

/// `cred serve`.
pub async fn run(ctx: &Context, args: &ServeArgs) -> Result<(), Error> {
    let config = read_config(args.config.as_deref())?;
    let mut callers = config.callers().map_err(Error::config)?;
    let mut sandbox_key = None;
    if ctx.sandbox.is_some() {
        let key = cred_gateway::generate_key()?;
        let list =
            vec![Caller::new("sandbox", &key.digest, vec!["*".to_owned()]).map_err(Error::config)?];
        callers = merge(&callers, list)?;
        sandbox_key = Some(key);
    }
    if callers.is_empty() {
        return Err(Error::config(
            "no callers are configured: add one with `cred serve keygen NAME` and --config FILE (or try --sandbox)",
        ));
    }
    let clients = clients(ctx)?;
    let ledger = ledger(ctx, args, &config)?;
    let mut builder = Gateway::builder()
        .clients(clients)
        .callers(callers)
        .require_purpose(config.require_purpose)
        .limits(config.limits().map_err(Error::config)?)
        .state_key(state_key(ctx)?);
    if let Some(l) = ledger.clone() {
        builder = builder.ledger(l);
    }
    if let Some(url) = &ctx.redis {
        let store = cred_gateway::RedisStore::connect(url, &ctx.redis_namespace).await?;
        builder = builder.store(Arc::new(store));
    }
    if let Some(handle) = metrics() {
        builder = builder.metrics(move || handle.render());
    }
    let gateway = builder.build()?;
    let mut options = config.serve_options().map_err(Error::config)?;
    let tls = match (&args.tls_cert, &args.tls_key, &config.tls) {
        (Some(cert), Some(key), _) => Some((cert.clone(), key.clone())),
        (_, _, Some(t)) => Some((t.cert.clone(), t.key.clone())),
        _ => None,
    };
    if let Some((cert, key)) = &tls {
        options.tls = Some(cred_gateway::tls_config(cert, key).map_err(Error::config)?);
    }
    let listen = match args.listen {
        Some(a) => a.to_string(),
        None => config.listen.clone(),
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::config(format!("cannot listen on {listen}: {e}")))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut banner = format!("cred serve: listening on {scheme}://{addr}\n");
    if let Some(l) = &ledger {
        banner.push_str(&format!(
            "cred serve: every call is recorded in {}\n",
            l.path().display()
        ));
    }
    if let Some(key) = &sandbox_key {
        banner.push_str(&format!(
            "cred serve: sandbox caller key (a test key for this run only): {}\n",
            key.key.expose()
        ));
    }
    out(&banner);
    reload_on_hangup(
        gateway.clone(),
        args.config.clone(),
        sandbox_key.as_ref().map(|k| k.digest.clone()),
    );
    let stopping = gateway.clone();
    let shutdown = async move {
        stop_signal().await;
        crate::output::err("cred serve: stopping (answering the requests already accepted)\n");
        stopping.drain();
    };
    cred_gateway::serve(listener, gateway.router(), options, shutdown).await;
    Ok(())
}

/// The configured callers plus `extra`.
fn merge(callers: &Callers, extra: Vec<Caller>) -> Result<Callers, Error> {
    let mut all = callers.list();
    all.extend(extra);
    Callers::new(all).map_err(Error::config)
}

/// The ledger: --audit-ledger, else the configuration's, else the default one; none
/// with --no-audit.
fn ledger(
    ctx: &Context,
    args: &ServeArgs,
    config: &GatewayConfig,
) -> Result<Option<cred_ledger::Ledger>, Error> {
    if args.no_audit {
        if ctx.ledger.is_some() {
            return Err(Error::invalid(
                "--no-audit",
                "--no-audit and --audit-ledger (or CRED_AUDIT_LEDGER) were both given: choose one",
            ));
        }
        return Ok(None);
    }
    if let Some(l) = &ctx.ledger {
        return Ok(Some(l.clone()));
    }
    let path: PathBuf = match &config.audit.ledger {
        Some(p) => p.clone(),
        None => crate::context::default_ledger_path()?,
    };
    let mut options = cred_ledger::LedgerOptions::default();
    if let Some(key) = &config.audit.key {
        options = options.key(key);
    }
    let ledger = tokio::task::block_in_place(|| cred_ledger::Ledger::open(&path, options))
        .map_err(|e| Error::config(format!("audit ledger: {e}")))?;
    Ok(Some(ledger))
}

fn reload_on_hangup(gateway: Gateway, config: Option<PathBuf>, sandbox_digest: Option<String>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        return;
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let loaded = read_config(config.as_deref()).and_then(|c| {
                let callers = c.callers().map_err(Error::config)?;
                match &sandbox_digest {
                    Some(d) => merge(
                        &callers,
                        vec![
                            Caller::new("sandbox", d, vec!["*".to_owned()])
                                .map_err(Error::config)?,
                        ],
                    ),
                    None => Ok(callers),
                }
            });
            match loaded {
                Ok(callers) => {
                    let n = callers.len();
                    gateway.reload(callers);
                    crate::output::err(&format!(
                        "cred serve: configuration reloaded ({n} callers)\n"
                    ));
                }
                Err(e) => crate::output::err(&format!(
                    "cred serve: the configuration was not reloaded (the previous one stays): {e}\n"
                )),
            }
        }
    });
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
