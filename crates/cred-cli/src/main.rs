//! `cred`: the credkit command-line tool. See `cred --help` and the README.

mod audit;
mod batch;
mod check;
mod cli;
mod context;
mod flags;
mod juhe;
mod jumdata;
mod output;
mod sandbox;
mod serve;
mod zhima;
mod zz_license;

use std::process::ExitCode;

use clap::FromArgMatches;
use clap::error::ErrorKind as ClapErrorKind;
use cred_core::Error;

use crate::cli::{Cli, Command, SandboxCommand};
use crate::context::Context;
use crate::output::{EXIT_USAGE, Failure, Output, emit, emit_error};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json_mode = args.iter().any(|a| a == "--json");
    let (cli, matches) = match cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)))
    {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(e, json_mode),
    };
    // A global option that does nothing for the command given is refused rather than
    // ignored, so nobody believes `cred --sandbox check ...` checked anything against a
    // sandbox. (`--redis` from CRED_REDIS_URL, set for every command, is not refused.)
    if let Some((flag, what)) = cli::given_but_pointless(&matches) {
        let error = Error::invalid(flag, format!("does nothing for {what}"));
        return emit(Err(Failure::local(error)), json_mode);
    }
    if let Command::Completions { shell } = &cli.command {
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut cli::command(), "cred", &mut script);
        output::out(&String::from_utf8_lossy(&script));
        return ExitCode::SUCCESS;
    }
    if let Command::Serve(args) = &cli.command
        && let Some(code) = serve::keygen(args)
    {
        return code;
    }
    init_logging(cli.verbose, matches!(cli.command, Command::Serve(_)));
    // Reading a ledger is blocking file work: no runtime for it.
    if let Command::Audit(command) = &cli.command {
        return audit::run(command, cli.json);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let failure = Failure::local(Error::config(format!("cannot start the runtime: {e}")));
            emit_error(&failure, cli.json);
            return ExitCode::from(output::EXIT_AUTH);
        }
    };
    runtime.block_on(run(&cli))
}

async fn run(cli: &Cli) -> ExitCode {
    if let Command::Sandbox(SandboxCommand::Serve {
        addr,
        env,
        env_file,
        background,
    }) = &cli.command
    {
        let print = match (cli.json, env) {
            (true, _) => sandbox::Print::Json,
            (false, true) => sandbox::Print::Env,
            (false, false) => sandbox::Print::Table,
        };
        let served = match (background, env_file) {
            (true, Some(file)) => sandbox::background(*addr, file).await,
            _ => sandbox::serve(*addr, print, env_file.as_deref()).await,
        };
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(f) => emit(Err(f), cli.json),
        };
    }
    if let Command::Batch(command) = &cli.command {
        return match Context::new(cli).await {
            Err(e) => emit(Err(Failure::local(e)), cli.json),
            Ok(ctx) => batch::run(&ctx, command, cli.json).await,
        };
    }
    if let Command::Serve(args) = &cli.command {
        let served = match Context::new(cli).await {
            Err(e) => Err(e),
            Ok(ctx) => serve::run(&ctx, args).await,
        };
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => emit(Err(Failure::local(e)), false),
        };
    }
    let result = match &cli.command {
        Command::Check(args) => check::run(args),
        command => match Context::new(cli).await {
            Err(e) => Err(Failure::local(e)),
            Ok(ctx) => provider_command(&ctx, command).await,
        },
    };
    emit(result, cli.json)
}

async fn provider_command(ctx: &Context, command: &Command) -> Result<Output, Failure> {
    match command {
        Command::Jumdata(c) => jumdata::run(ctx, c).await,
        Command::Juhe(c) => juhe::run(ctx, c).await,
        Command::ZzLicense(c) => zz_license::run(ctx, c).await,
        Command::Zhima(c) => zhima::run(ctx, c).await,
        Command::Check(_)
        | Command::Sandbox(_)
        | Command::Serve(_)
        | Command::Audit(_)
        | Command::Completions { .. }
        | Command::Batch(_) => Err(Failure::local(Error::config(
            "internal: command dispatched twice",
        ))),
    }
}

/// Clap's help and version go to stdout with exit 0; usage errors exit 2 (as one JSON
/// object with --json).
fn usage_error(e: clap::Error, json_mode: bool) -> ExitCode {
    match e.kind() {
        ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ if json_mode => {
            // Clap's message without its usage and help hints, on one line.
            let rendered = e.render().to_string();
            let message = rendered
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.trim_start_matches("error:").trim().to_owned();
            emit_error(&Failure::local(Error::invalid("arguments", message)), true);
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            let _ = e.print();
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `-v`: credkit's own debug logs; `-vv`: everything at trace level; `cred serve`'s
/// access log (the gateway's info events) always. Logs go to stderr; credkit masks
/// personal data in every event and never logs secrets.
fn init_logging(verbose: u8, access_log: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = match verbose {
        0 if access_log => Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("cred_gateway", LevelFilter::INFO),
        0 => return,
        1 => Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("cred_core", LevelFilter::DEBUG)
            .with_target("jumdata_api", LevelFilter::DEBUG)
            .with_target("juhe_api", LevelFilter::DEBUG)
            .with_target("zz_license_api", LevelFilter::DEBUG)
            .with_target("zhima_api", LevelFilter::DEBUG)
            .with_target("cred_sandbox", LevelFilter::DEBUG)
            .with_target("cred_batch", LevelFilter::DEBUG)
            .with_target("cred_gateway", LevelFilter::DEBUG)
            .with_target("cred", LevelFilter::DEBUG),
        _ => Targets::new().with_default(LevelFilter::TRACE),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
