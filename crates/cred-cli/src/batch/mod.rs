//! `cred batch`: the thin front of `cred-batch` (input options, clients, progress, Ctrl-C,
//! summary, exit codes).

pub mod args;
mod ops;
mod progress;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cred_batch::{
    Batch, ColumnMap, Input, Journal, Operation, Plan, Settings, Stop, StopReason, Summary, output,
};
use cred_core::Error;
use serde_json::json;

use crate::context::Context;
use crate::output::{EXIT_AUTH, EXIT_PROVIDER, EXIT_UNAVAILABLE, Failure, emit_error};
use args::{BatchCommand, BatchJuhe, BatchJumdata, BatchOptions, BatchZhima, BatchZzLicense};

/// Exit code: `--max-charged` stopped the run.
pub const EXIT_MAX_CHARGED: u8 = 5;
/// Exit code: interrupted (Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs a `cred batch` command.
pub async fn run(ctx: &Context, command: &BatchCommand, json: bool) -> ExitCode {
    let result = match command {
        BatchCommand::Jumdata(BatchJumdata::Credential(o)) => match crate::jumdata::client(ctx) {
            Ok(c) => run_op(ops::JumdataCredential(c), o, json).await,
            Err(e) => Err(e),
        },
        BatchCommand::Juhe(BatchJuhe::Qualification(o)) => match crate::juhe::client(ctx) {
            Ok(c) => run_op(ops::JuheQualification(c), o, json).await,
            Err(e) => Err(e),
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
                    ZzOp::ByHolder(op) => run_op(op, &zz.options, json).await,
                    ZzOp::Info(op) => run_op(op, &zz.options, json).await,
                    ZzOp::Verify(op) => run_op(op, &zz.options, json).await,
                },
                Err(e) => Err(crate::zz_license::with_flag_hint(e)),
            }
        }
        BatchCommand::Zhima(BatchZhima::Jobworth(o)) => match crate::zhima::client(ctx) {
            Ok(c) => run_op(ops::ZhimaJobworth(c), o, json).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = crate::output::exit_code(&e);
            emit_error(&Failure::local(e), json);
            ExitCode::from(code)
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
    Input {
        path: options.input.clone(),
        format: options.format,
        encoding: options.encoding,
        columns,
    }
}

/// Refuses an input none of whose columns the operation reads (every row would be
/// invalid): a wrong file or a missing `--map`.
fn check_columns<O: Operation>(op: &O, input: &Input) -> Result<(), Error> {
    let first = input.rows()?.find_map(|r| match r {
        cred_batch::RowRead::Row(row) => Some(row),
        cred_batch::RowRead::Unreadable { .. } => None,
    });
    let Some(row) = first else {
        return Ok(());
    };
    let names: Vec<&str> = row.fields().iter().map(|(k, _)| k.as_str()).collect();
    if names.iter().any(|n| op.columns().contains(n)) {
        return Ok(());
    }
    Err(Error::invalid(
        "input",
        format!(
            "none of its columns ({}) is one `{}` reads ({}): name the headers like the flags or map them with --map HEADER=column",
            names.join(", "),
            op.name(),
            op.columns().join(", ")
        ),
    ))
}

async fn run_op<O: Operation>(
    op: O,
    options: &BatchOptions,
    json: bool,
) -> Result<ExitCode, Error> {
    let input = input_of(options);
    if !input.path.is_file() {
        return Err(Error::invalid(
            "input",
            format!("{} is not a readable file", input.path.display()),
        ));
    }
    check_columns(&op, &input)?;
    if json && options.output.is_none() && !options.dry_run {
        return Err(Error::invalid(
            "output",
            "--json prints the summary on stdout: give --output FILE for the rows",
        ));
    }
    let journal = options
        .journal
        .clone()
        .unwrap_or_else(|| cred_batch::default_journal(&input.path));
    let settings = Settings {
        concurrency: usize::from(options.concurrency),
        max_charged: options.max_charged,
        resend_unknown: options.resend_unknown,
        shard: options.shard.unwrap_or_default(),
        ..Settings::default()
    };
    let shard = settings.shard.label();
    let provider = op.provider().to_owned();
    let name = op.name().to_owned();
    let batch = Batch::new(Arc::new(op), input, journal.clone(), settings);
    if options.dry_run {
        let plan = batch.dry_run()?;
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
    let journal_db = Journal::open(&journal, &name, &shard)?;
    let written = output::write(
        &journal_db,
        options.output.as_deref(),
        options.output_format,
        &provider,
    )?;
    drop(journal_db);
    print_summary(&name, &summary, options, &journal, written.rows, json);
    Ok(ExitCode::from(exit_code(summary.stopped.as_ref())))
}

/// Serves `/metrics` (Prometheus text format) at `addr` for as long as the process runs.
fn serve_metrics(addr: std::net::SocketAddr) -> Result<(), Error> {
    // Seconds: from a fast loopback answer to a slow provider behind a rate limit.
    const BUCKETS: &[f64] = &[
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(BUCKETS)
        .map_err(|e| Error::config(format!("metrics buckets: {e}")))?
        .install()
        .map_err(|e| Error::config(format!("cannot serve metrics on {addr}: {e}")))?;
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
        Some(StopReason::Journal { .. }) => EXIT_PROVIDER,
        Some(StopReason::Kind { kind, .. }) => match kind.as_str() {
            "auth" | "permission" | "config" => EXIT_AUTH,
            "quota-exhausted" => EXIT_UNAVAILABLE,
            _ => EXIT_PROVIDER,
        },
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

/// The command that resumes this run: the same arguments.
fn resume_command() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_summary(
    name: &str,
    summary: &Summary,
    options: &BatchOptions,
    journal: &Path,
    written: u64,
    json: bool,
) {
    let resume = (summary.unfinished || summary.stopped.is_some()).then(resume_command);
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
            "charged": summary.charged,
            "charged_by_outcome": summary
                .charged_by_outcome
                .iter()
                .map(|(o, n)| ((*o).to_owned(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
            "sent_this_run": summary.sent,
            "charged_this_run": summary.charged_this_run,
            "elapsed_s": (summary.elapsed_s * 1000.0).round() / 1000.0,
            "stopped": summary.stopped,
            "unfinished": summary.unfinished,
            "journal": journal.display().to_string(),
            "output": options.output.as_ref().map(|p| p.display().to_string()),
            "resume": resume,
        });
        crate::output::out(&format!("{obj}\n"));
        return;
    }
    let mut text = format!(
        "batch `{name}`: {written} rows in {:.1} s; {} sent this run\n",
        summary.elapsed_s, summary.sent
    );
    for (status, n) in &summary.statuses {
        let extra = if *status == "answered" {
            format!(
                " (found {}, not found {})",
                summary.found, summary.not_found
            )
        } else {
            String::new()
        };
        text.push_str(&format!("  {status:<10} {n}{extra}\n"));
    }
    let [(_, answered), (_, not_found), (_, errors)] = summary.charged_by_outcome;
    text.push_str(&format!(
        "  charged    {} ({} this run): answered {answered}, not found {not_found}, errors {errors}\n",
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
            "stopped: the journal could not be written: {message}\n"
        )),
        None => {}
    }
    if let Some(cmd) = resume {
        text.push_str(&format!("resume with: {cmd}\n"));
    }
    if summary.count("unknown") > 0 {
        text.push_str(&format!(
            "{} rows were in flight when a run died: their outcome (and charge) is unknown; add --resend-unknown to send them again\n",
            summary.count("unknown")
        ));
    }
    crate::output::err(&text);
}
