//! `cred batch`: the thin front of `cred-batch` (input options, clients, progress, Ctrl-C,
//! summary, exit codes).

pub mod args;
mod audited;
mod ops;
mod progress;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cred_batch::{
    Batch, ColumnMap, Destination, Input, Operation, Plan, Settings, Stop, StopReason, Summary,
};
use serde_json::json;

use crate::context::Context;
use crate::output::{EXIT_AUTH, EXIT_PROVIDER, EXIT_UNAVAILABLE, EXIT_USAGE, Failure, emit_error};
use args::{BatchCommand, BatchJuhe, BatchJumdata, BatchOptions, BatchZhima, BatchZzLicense};

/// Exit code: `--max-charged` stopped the run.
pub const EXIT_MAX_CHARGED: u8 = 5;
/// Exit code: another run holds the journal; nothing was sent.
pub const EXIT_LOCKED: u8 = 6;
/// Exit code: a file could not be written (a full disk, permissions): the journal or the
/// output. Every answer received is in the journal.
pub const EXIT_IO: u8 = 7;
/// Exit code: the journal is missing, empty or damaged beside its key file, belongs to
/// another batch, or its key file is missing or readable by others; nothing was sent.
pub const EXIT_JOURNAL: u8 = 8;
/// Exit code: interrupted (Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// What `cred batch` can fail with: the engine's errors, or the SDK's (a client that
/// cannot be configured).
enum Failed {
    Batch(cred_batch::Error),
    Sdk(cred_core::Error),
}

impl From<cred_batch::Error> for Failed {
    fn from(e: cred_batch::Error) -> Self {
        match e {
            cred_batch::Error::Sdk(e) => Failed::Sdk(e),
            other => Failed::Batch(other),
        }
    }
}

impl From<cred_core::Error> for Failed {
    fn from(e: cred_core::Error) -> Self {
        Failed::Sdk(e)
    }
}

/// The exit code of a batch error (the contract in `cred batch --help`).
fn batch_exit_code(e: &cred_batch::Error) -> u8 {
    use cred_batch::Error as E;
    match e {
        E::Input { .. } | E::Paths { .. } => EXIT_USAGE,
        E::Locked { .. } => EXIT_LOCKED,
        E::Io { .. } => EXIT_IO,
        E::Journal { .. } => EXIT_JOURNAL,
        E::Sdk(e) => crate::output::exit_code(e),
        _ => EXIT_PROVIDER,
    }
}

/// Prints a batch error: one line on stderr, or `{"error": {...}}` on stdout.
fn emit_batch_error(e: &cred_batch::Error, json: bool) {
    use cred_batch::Error as E;
    let kind = match e {
        E::Input { .. } | E::Paths { .. } => "invalid-argument",
        E::Locked { .. } => "journal-locked",
        E::Io { .. } => "io",
        E::Journal { .. } => "journal",
        _ => "unknown",
    };
    if json {
        let obj = json!({"error": {
            "provider": null,
            "kind": kind,
            "code": null,
            "message": e.to_string(),
            "retryable": matches!(e, E::Locked { .. }),
            "charged": if e.nothing_sent() { json!(false) } else { json!(null) },
            "request_id": null,
        }});
        crate::output::out(&format!("{obj}\n"));
    } else {
        crate::output::err(&format!(
            "error: {}\n",
            e.to_string().replace(['\n', '\r'], " ")
        ));
    }
}

/// Runs a `cred batch` command.
pub async fn run(ctx: &Context, command: &BatchCommand, json: bool) -> ExitCode {
    let result = match command {
        BatchCommand::Jumdata(BatchJumdata::Credential(o)) => match crate::jumdata::client(ctx) {
            Ok(c) => {
                run_op(
                    ctx,
                    ("jumdata", "credential"),
                    None,
                    ops::JumdataCredential(c),
                    o,
                    json,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        BatchCommand::Jumdata(BatchJumdata::Idcard(o)) => match crate::jumdata::client(ctx) {
            Ok(c) => {
                run_op(
                    ctx,
                    ("jumdata", "idcard"),
                    None,
                    ops::JumdataIdcard(c),
                    o,
                    json,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        BatchCommand::Juhe(BatchJuhe::Qualification(o)) => match crate::juhe::client(ctx) {
            Ok(c) => {
                run_op(
                    ctx,
                    ("juhe", "qualification"),
                    None,
                    ops::JuheQualification(c),
                    o,
                    json,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        BatchCommand::Juhe(BatchJuhe::AdministrativeLicense(o)) => match crate::juhe::client(ctx) {
            Ok(c) => {
                run_op(
                    ctx,
                    ("juhe", "administrative-license"),
                    None,
                    ops::JuheAdministrative(c),
                    o,
                    json,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        BatchCommand::ZzLicense(z) => {
            let (zz, build): (&args::BatchZz, fn(zz_license_api::Client, bool) -> ZzOp) =
                match z.as_ref() {
                    BatchZzLicense::ByHolder(zz) => (zz, |client, city| {
                        ZzOp::ByHolder(ops::ZzByHolder { client, city })
                    }),
                    BatchZzLicense::Info(zz) => {
                        (zz, |client, city| ZzOp::Info(ops::ZzInfo { client, city }))
                    }
                    BatchZzLicense::Verify(zz) => (zz, |client, city| {
                        ZzOp::Verify(ops::ZzVerify { client, city })
                    }),
                };
            match crate::zz_license::client(ctx, &zz.audit).and_then(|c| {
                // The audit context is the same for every row: refused once, up front.
                c.audit().check_complete()?;
                Ok(c)
            }) {
                Ok(client) => match build(client, zz.city) {
                    ZzOp::ByHolder(op) => {
                        run_op(
                            ctx,
                            ("zz-license", "by-holder"),
                            zz.audit.cause.as_deref(),
                            op,
                            &zz.options,
                            json,
                        )
                        .await
                    }
                    ZzOp::Info(op) => {
                        run_op(
                            ctx,
                            ("zz-license", "info"),
                            zz.audit.cause.as_deref(),
                            op,
                            &zz.options,
                            json,
                        )
                        .await
                    }
                    ZzOp::Verify(op) => {
                        run_op(
                            ctx,
                            ("zz-license", "verify"),
                            zz.audit.cause.as_deref(),
                            op,
                            &zz.options,
                            json,
                        )
                        .await
                    }
                },
                Err(e) => Err(Failed::Sdk(crate::zz_license::with_flag_hint(e))),
            }
        }
        BatchCommand::Zhima(BatchZhima::Jobworth(o)) => match crate::zhima::client(ctx) {
            Ok(c) => {
                run_op(
                    ctx,
                    ("zhima", "jobworth"),
                    None,
                    ops::ZhimaJobworth(c),
                    o,
                    json,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    };
    match result {
        Ok(code) => code,
        Err(Failed::Sdk(e)) => {
            let code = crate::output::exit_code(&e);
            emit_error(&Failure::local(e), json);
            ExitCode::from(code)
        }
        Err(Failed::Batch(e)) => {
            emit_batch_error(&e, json);
            ExitCode::from(batch_exit_code(&e))
        }
    }
}

enum ZzOp {
    ByHolder(ops::ZzByHolder),
    Info(ops::ZzInfo),
    Verify(ops::ZzVerify),
}

fn input_of(options: &BatchOptions) -> Input {
    let mut columns = ColumnMap::new();
    for (from, to) in &options.map {
        columns = columns.map(from, to);
    }
    let mut input = Input::new(options.input.clone());
    input.format = options.format;
    input.encoding = options.encoding;
    input.columns = columns;
    input
}

/// Refuses an input none of whose columns the operation reads (every row would be
/// invalid): a wrong file or a missing `--map`.
fn check_columns<O: Operation>(op: &O, input: &Input) -> Result<(), cred_batch::Error> {
    let first = input.rows()?.find_map(|r| match r {
        cred_batch::RowRead::Row(row) => Some(row),
        _ => None,
    });
    let Some(row) = first else {
        return Ok(());
    };
    let names: Vec<&str> = row.fields().iter().map(|(k, _)| k.as_str()).collect();
    if names.iter().any(|n| op.columns().contains(n)) {
        return Ok(());
    }
    Err(cred_batch::Error::input(format!(
        "none of its columns ({}) is one `{}` reads ({}): name the headers like the flags or map them with --map HEADER=column",
        names.join(", "),
        op.name(),
        op.columns().join(", ")
    )))
}

/// Runs blocking work (files) off the runtime's threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, cred_batch::Error> + Send + 'static,
) -> Result<T, cred_batch::Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| cred_batch::Error::input(format!("a batch task failed: {e}")))?
}

async fn run_op<O: Operation>(
    ctx: &Context,
    names: (&'static str, &'static str),
    cause: Option<&str>,
    op: O,
    options: &BatchOptions,
    json: bool,
) -> Result<ExitCode, Failed> {
    let mut columns = op.columns().to_vec();
    columns.push("purpose");
    let op = audited::Audited {
        columns,
        require_purpose: ctx.require_purpose,
        inner: op,
        ledger: ctx.ledger.clone(),
        caller: format!("batch:{}", crate::context::os_user()),
        purpose: ctx.purpose.clone().or(cause.map(str::to_owned)),
        names,
    };
    let input = input_of(options);
    if !input.path.is_file() {
        return Err(cred_batch::Error::input(format!(
            "{} is not a readable file",
            input.path.display()
        ))
        .into());
    }
    if json && options.output.is_none() && !options.dry_run {
        return Err(cred_batch::Error::input(
            "--json prints the summary on stdout: give --output FILE for the rows",
        )
        .into());
    }
    let op = Arc::new(op);
    {
        let (op, input) = (op.clone(), input.clone());
        blocking(move || check_columns(op.as_ref(), &input)).await?;
    }
    let journal = options
        .journal
        .clone()
        .unwrap_or_else(|| cred_batch::default_journal(&input.path));
    let mut settings = Settings::default();
    settings.concurrency = usize::from(options.concurrency);
    settings.max_charged = options.max_charged;
    settings.resend_unknown = options.resend_unknown;
    settings.shard = options.shard.unwrap_or_default();
    let name = op.name().to_owned();
    let destination = match &options.output {
        Some(path) => Destination::File(path.clone()),
        None => Destination::Stdout,
    };
    let batch = Arc::new(
        Batch::new(op, input, journal.clone(), settings).output(destination, options.output_format),
    );
    if options.dry_run {
        let planner = batch.clone();
        let plan = blocking(move || planner.dry_run()).await?;
        print_plan(&name, &plan, json);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(addr) = options.metrics_addr {
        serve_metrics(addr)?;
    }
    let stop = Stop::new();
    interrupt_on_ctrl_c(stop.clone());
    let display = Arc::new(progress::Display::new(json));
    let summary = batch.run(display.clone(), stop.clone()).await;
    display.finish();
    let summary = summary?;
    print_summary(&name, &summary, options, &journal, json);
    if !json && let Some(ledger) = &ctx.ledger {
        crate::output::err(&format!(
            "  audit      every call recorded in {} (`cred audit verify` checks it)\n",
            ledger.path().display()
        ));
    }
    Ok(ExitCode::from(exit_code(summary.stopped.as_ref())))
}

/// Serves `/metrics` (Prometheus text format) at `addr` for as long as the process runs.
fn serve_metrics(addr: std::net::SocketAddr) -> Result<(), cred_core::Error> {
    // Seconds: from a fast loopback answer to a slow provider behind a rate limit.
    const BUCKETS: &[f64] = &[
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(BUCKETS)
        .map_err(|e| cred_core::Error::config(format!("metrics buckets: {e}")))?
        .install()
        .map_err(|e| cred_core::Error::config(format!("cannot serve metrics on {addr}: {e}")))?;
    cred_core::telemetry::describe();
    Ok(())
}

/// The first Ctrl-C stops new sends (in-flight requests finish, the journal is
/// flushed, the summary printed, exit 130); a second exits at once (the journal
/// resumes correctly either way).
fn interrupt_on_ctrl_c(stop: Arc<Stop>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        crate::output::err(
            "\ninterrupted: sending no more rows; waiting for the requests in flight (Ctrl-C again to quit at once: the journal resumes either way)\n",
        );
        stop.request(StopReason::Interrupted);
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
}

fn exit_code(stopped: Option<&StopReason>) -> u8 {
    match stopped {
        None => 0,
        Some(StopReason::Interrupted) => EXIT_INTERRUPTED,
        Some(StopReason::MaxCharged { .. }) => EXIT_MAX_CHARGED,
        Some(StopReason::Journal { .. }) => EXIT_IO,
        Some(StopReason::SharedState { .. }) => EXIT_UNAVAILABLE,
        Some(StopReason::Input { .. }) => EXIT_PROVIDER,
        Some(StopReason::Kind { kind, .. }) => match kind.as_str() {
            "auth" | "permission" | "config" => EXIT_AUTH,
            "quota-exhausted" => EXIT_UNAVAILABLE,
            _ => EXIT_PROVIDER,
        },
        Some(_) => EXIT_PROVIDER,
    }
}

fn print_plan(name: &str, plan: &Plan, json: bool) {
    if json {
        let invalid: Vec<_> = plan
            .first_invalid
            .iter()
            .map(|(row, reason)| json!({"row": row, "reason": reason}))
            .collect();
        let obj = json!({
            "operation": name,
            "dry_run": true,
            "rows": plan.rows,
            "invalid": plan.invalid,
            "first_invalid": invalid,
            "duplicates": plan.duplicates,
            "answered": plan.answered,
            "failed": plan.failed,
            "unknown": plan.unknown,
            "to_send": plan.to_send,
            "worst_case_charged": plan.worst_case_charged,
        });
        crate::output::out(&format!("{obj}\n"));
        return;
    }
    let mut text = format!("dry run of `{name}` (nothing sent)\n");
    let lines = [
        ("rows", plan.rows),
        ("invalid", plan.invalid),
        ("duplicates", plan.duplicates),
        ("already answered", plan.answered),
        ("failed before", plan.failed),
        ("unknown", plan.unknown),
        ("to send", plan.to_send),
        ("charged at most", plan.worst_case_charged),
    ];
    for (label, n) in lines {
        text.push_str(&format!("  {label:<17} {n}\n"));
    }
    for (row, reason) in &plan.first_invalid {
        text.push_str(&format!("  invalid row {row}: {reason}\n"));
    }
    crate::output::out(&text);
}

/// The command that resumes this run: the same arguments, with no secret in them. A
/// `--redis` URL holding a password becomes `"$CRED_REDIS_URL"` (the variable `--redis`
/// reads); a password in any other URL argument is masked as `***`. The notes say what
/// to set or type again.
fn resume_command() -> (String, Vec<&'static str>) {
    resume_command_of(std::env::args())
}

fn resume_command_of(args: impl IntoIterator<Item = String>) -> (String, Vec<&'static str>) {
    let quote = |a: &str| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
        {
            a.to_owned()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut notes = Vec::new();
    let mut out = Vec::new();
    let mut after_redis = false;
    for arg in args {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (Some(f.to_owned()), v.to_owned()),
            _ => (None, arg.clone()),
        };
        let is_redis = after_redis || flag.as_deref() == Some("--redis");
        after_redis = arg == "--redis";
        let secret = url::Url::parse(&value).ok().filter(|u| {
            u.password().is_some_and(|p| !p.is_empty())
                || u.query_pairs().any(|(k, _)| k == "pass" || k == "password")
        });
        let shown = match secret {
            Some(_) if is_redis => {
                if !notes.contains(&NOTE_REDIS) {
                    notes.push(NOTE_REDIS);
                }
                "\"$CRED_REDIS_URL\"".to_owned()
            }
            Some(mut url) => {
                if !notes.contains(&NOTE_MASKED) {
                    notes.push(NOTE_MASKED);
                }
                let _ = url.set_password(Some("***"));
                let masked: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "pass" || k == "password" {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                if url.query().is_some() {
                    url.query_pairs_mut().clear().extend_pairs(masked);
                }
                quote(url.as_str())
            }
            None => quote(&value),
        };
        out.push(match flag {
            Some(f) => format!("{f}={shown}"),
            None => shown,
        });
    }
    (out.join(" "), notes)
}

const NOTE_REDIS: &str =
    "the Redis URL holds a password and is not repeated: set CRED_REDIS_URL to it before resuming";
const NOTE_MASKED: &str = "a password in an argument is masked as ***: type it again";

fn print_summary(
    name: &str,
    summary: &Summary,
    options: &BatchOptions,
    journal: &Path,
    json: bool,
) {
    let written = summary.written.unwrap_or(0);
    let (resume, notes) = match summary.unfinished || summary.stopped.is_some() {
        true => {
            let (command, notes) = resume_command();
            (Some(command), notes)
        }
        false => (None, Vec::new()),
    };
    if json {
        let statuses: serde_json::Map<String, serde_json::Value> = summary
            .statuses
            .iter()
            .map(|(s, n)| ((*s).to_owned(), json!(n)))
            .collect();
        let obj = json!({
            "operation": name,
            "rows": written,
            "statuses": statuses,
            "found": summary.found,
            "not_found": summary.not_found,
            "licence_statuses": summary
                .licence_statuses
                .iter()
                .map(|(s, n)| (s.clone(), serde_json::json!(n)))
                .collect::<serde_json::Map<_, _>>(),
            "charged": summary.charged,
            "charged_by_outcome": summary
                .charged_by_outcome
                .iter()
                .map(|(o, n)| ((*o).to_owned(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
            "sent_this_run": summary.sent,
            "unsent_this_run": summary.unsent,
            "charged_this_run": summary.charged_this_run,
            "elapsed_s": (summary.elapsed_s * 1000.0).round() / 1000.0,
            "stopped": summary.stopped,
            "unfinished": summary.unfinished,
            "journal": journal.display().to_string(),
            "output": options.output.as_ref().map(|p| p.display().to_string()),
            "resume": resume,
            "resume_notes": notes,
        });
        crate::output::out(&format!("{obj}\n"));
        return;
    }
    let mut text = format!(
        "batch `{name}`: {written} rows in {:.1} s; {} sent this run\n",
        summary.elapsed_s, summary.sent
    );
    if summary.unsent > 0 {
        text.push_str(&format!(
            "  {} calls failed before their request left (not sent, not charged)\n",
            summary.unsent
        ));
    }
    for (status, n) in &summary.statuses {
        let extra = if *status == "answered" {
            let statuses: Vec<String> = summary
                .licence_statuses
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            let statuses = if statuses.is_empty() {
                String::new()
            } else {
                format!(": licence {}", statuses.join(", "))
            };
            format!(
                " (found {}, not found {}{statuses})",
                summary.found, summary.not_found
            )
        } else {
            String::new()
        };
        text.push_str(&format!("  {status:<10} {n}{extra}\n"));
    }
    let [(_, answered), (_, not_found), (_, errors)] = summary.charged_by_outcome;
    text.push_str(&format!(
        "  charged    {} calls in all, {} of them this run\n             by outcome: {answered} found, {not_found} not found, {errors} errors\n",
        summary.charged, summary.charged_this_run
    ));
    if let Some(out) = &options.output {
        text.push_str(&format!("  output     {}\n", out.display()));
    }
    text.push_str(&format!("  journal    {}\n", journal.display()));
    match &summary.stopped {
        Some(StopReason::Kind { kind, row, message }) => text.push_str(&format!(
            "stopped: row {row} failed with `{kind}`, which no later row can escape: {message}\n"
        )),
        Some(StopReason::MaxCharged { limit }) => text.push_str(&format!(
            "stopped: {limit} charged answers (--max-charged)\n"
        )),
        Some(StopReason::Interrupted) => text.push_str("stopped: interrupted\n"),
        Some(StopReason::Journal { message }) => text.push_str(&format!(
            "stopped: the journal could not be written: {message}; every answer received is recorded\n"
        )),
        Some(StopReason::SharedState { row, message }) => text.push_str(&format!(
            "stopped: row {row} could not be sent: {message}\n"
        )),
        Some(StopReason::Input { message }) => text.push_str(&format!(
            "stopped: the input changed during the run: {message}\n"
        )),
        Some(other) => text.push_str(&format!("stopped: {other:?}\n")),
        None => {}
    }
    if let Some(cmd) = resume {
        text.push_str(&format!("resume with: {cmd}\n"));
        for note in notes {
            text.push_str(&format!("  ({note})\n"));
        }
    }
    if summary.count("unknown") > 0 {
        text.push_str(&format!(
            "{} rows were in flight when a run died: their outcome (and charge) is unknown; add --resend-unknown to send them again\n",
            summary.count("unknown")
        ));
    }
    crate::output::err(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_resume_command_holds_no_password() {
        let (cmd, notes) = resume_command_of(args(&[
            "cred",
            "--redis",
            "redis://:s3cret-pw@10.0.0.5:6379/0",
            "--proxy=http://user:proxy-pw@proxy:3128",
            "batch",
            "jumdata",
            "credential",
            "--input",
            "my file.csv",
        ]));
        assert!(
            !cmd.contains("s3cret-pw") && !cmd.contains("proxy-pw"),
            "{cmd}"
        );
        assert!(cmd.contains(r#"--redis "$CRED_REDIS_URL""#), "{cmd}");
        assert!(cmd.contains("user:***@proxy:3128"), "{cmd}");
        assert!(cmd.contains("'my file.csv'"), "{cmd}");
        assert_eq!(notes, vec![NOTE_REDIS, NOTE_MASKED]);
        // The unix-socket form keeps its password in the query.
        let (cmd, _) = resume_command_of(args(&[
            "cred",
            "--redis=redis+unix:///run/redis.sock?pass=s3cret-pw",
            "batch",
        ]));
        assert!(!cmd.contains("s3cret-pw"), "{cmd}");
        // No password: as typed.
        let (cmd, notes) =
            resume_command_of(args(&["cred", "--redis", "redis://10.0.0.5", "batch"]));
        assert_eq!(cmd, "cred --redis redis://10.0.0.5 batch");
        assert!(notes.is_empty());
    }
}
