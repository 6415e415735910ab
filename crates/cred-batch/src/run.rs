//! The engine: plan every row (validate, dedupe, consult the journal), then send the
//! pending ones in input order under a concurrency bound, each marked `sending` on disk
//! before its request leaves, stopping early when no later row can succeed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cred_core::{ApiRequest, Billing};
use serde_json::json;

use crate::control::{Progress, Stop, StopReason, Tally};
use crate::error::Error;
use crate::input::Input;
use crate::journal::{Journal, State};
use crate::operation::{Operation, error_json};
use crate::output::OutputFormat;
use crate::row::RowRead;
use crate::writer::{Reserve, Writer};

/// Which rows of the input this run takes: `K/N` takes rows `K, K+N, K+2N, ...`, so
/// `N` machines with `1/N` ... `N/N` cover every row exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 1, count: 1 }
    }
}

impl Shard {
    /// Shard `index` (1-based) of `count`.
    pub fn new(index: u64, count: u64) -> Result<Self, String> {
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: K/N needs 1 <= K <= N"));
        }
        Ok(Self { index, count })
    }

    /// Whether data row `row` (1-based) belongs to this shard.
    pub fn contains(&self, row: u64) -> bool {
        (row - 1) % self.count == self.index - 1
    }

    /// `all`, or `K/N`.
    pub fn label(&self) -> String {
        if self.count == 1 {
            "all".to_owned()
        } else {
            format!("{}/{}", self.index, self.count)
        }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (for example 2/4)"))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}` is not K/N (for example 2/4)"))
        };
        Shard::new(parse(k)?, parse(n)?)
    }
}

/// How a batch runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Requests in flight at most (default 8). The client's rate limit applies as well.
    pub concurrency: usize,
    /// Stop sending once this many answers were charged (`None`: no limit). Never
    /// exceeded: a request is only sent while charged + in flight stays below it.
    pub max_charged: Option<u64>,
    /// Send again the rows that were in flight when an earlier run died.
    pub resend_unknown: bool,
    /// Which rows this run takes.
    pub shard: Shard,
    /// After a stop, how long to wait for the requests in flight (default 60 s); those
    /// still running then are left `sending` (reported `unknown` next time).
    pub drain_timeout: Duration,
    /// Disk space a run keeps in reserve beside the journal (default 8 MiB), given up
    /// when the disk fills so that the answers of the requests in flight are still
    /// recorded. A run does not start without it.
    pub reserve_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            max_charged: None,
            resend_unknown: false,
            shard: Shard::default(),
            drain_timeout: Duration::from_secs(60),
            reserve_bytes: 8 << 20,
        }
    }
}

/// Where a run writes one line per row when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// A file, written beside its final name and renamed into place, owner-only.
    File(PathBuf),
    /// Standard output.
    Stdout,
}

/// What a run will do (and what a dry run prints).
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// Data rows of this shard.
    pub rows: u64,
    /// Refused locally (never sent).
    pub invalid: u64,
    /// The first invalid rows: row number and reason.
    pub first_invalid: Vec<(u64, String)>,
    /// Rows whose input an earlier row already has.
    pub duplicates: u64,
    /// Rows the journal already has an answer for.
    pub answered: u64,
    /// Rows that failed in an earlier run and are not retried (charged or not
    /// retryable).
    pub failed: u64,
    /// Rows in flight when an earlier run died (not sent again without
    /// `resend_unknown`).
    pub unknown: u64,
    /// Rows to send now.
    pub to_send: u64,
    /// The most charged calls sending them can cost (free operations cost none).
    pub worst_case_charged: u64,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Rows of this shard by output status: `answered`, `invalid`, `duplicate`,
    /// `failed`, `unknown`, `skipped` (not sent: the run stopped first).
    pub statuses: Vec<(&'static str, u64)>,
    /// Answered rows with a record.
    pub found: u64,
    /// Answered rows without one.
    pub not_found: u64,
    /// Of those, the ones whose answer was a licence's status, by status (`expired`).
    pub licence_statuses: Vec<(String, u64)>,
    /// Charged calls in the journal (all runs).
    pub charged: u64,
    /// Those charged calls by the outcome label of `credkit_calls_total`: `answered`,
    /// `not_found`, `error`.
    pub charged_by_outcome: [(&'static str, u64); 3],
    /// Calls sent by this run (requests that may have reached the provider).
    pub sent: u64,
    /// Calls of this run that failed before their request left (shared state
    /// unavailable, a token that could not be had): not counted in `sent`.
    pub unsent: u64,
    /// Output lines written (one per row of the current input in this shard), when the
    /// run was given a destination.
    pub written: Option<u64>,
    /// Charged calls of this run.
    pub charged_this_run: u64,
    /// Seconds this run took.
    pub elapsed_s: f64,
    /// Why this run stopped early.
    pub stopped: Option<StopReason>,
    /// Whether rows are left to send (a re-run continues).
    pub unfinished: bool,
}

impl Summary {
    /// The count of `status`.
    pub fn count(&self, status: &str) -> u64 {
        self.statuses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// A batch: one operation over one input, with its journal.
pub struct Batch<O: Operation> {
    shared: Arc<Shared<O>>,
}

/// What a batch's tasks share.
struct Shared<O: Operation> {
    op: Arc<O>,
    input: Input,
    journal: PathBuf,
    settings: Settings,
    output: Option<(Destination, OutputFormat)>,
    /// The operation's endpoint, from a request built from nothing (it does not depend
    /// on a row's values); `None` when the operation builds none without values.
    endpoint: Option<&'static cred_core::Endpoint>,
}

impl<O: Operation> std::fmt::Debug for Batch<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.shared;
        f.debug_struct("Batch")
            .field("operation", &s.op.name())
            .field("input", &s.input.path)
            .field("journal", &s.journal)
            .field("output", &s.output)
            .field("settings", &s.settings)
            .finish()
    }
}

/// The journal path used when none is given: `<input>.journal` beside the input.
pub fn default_journal(input: &std::path::Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// The keyed digest of a request's identity: the operation and its wire parameters
/// (normalised by the request type), so equal inputs are recognised and none is readable.
pub(crate) fn identity<O: Operation>(op: &O, journal: &Journal, request: &O::Request) -> [u8; 32] {
    let mut params = Vec::new();
    request.write_params(&mut params);
    let endpoint = request.endpoint();
    let mut parts: Vec<&[u8]> = vec![op.name().as_bytes(), endpoint.site.operation.as_bytes()];
    for (k, v) in &params {
        parts.push(k.as_bytes());
        parts.push(v.as_bytes());
    }
    journal.input_key(&parts)
}

/// How a row turned out when planned.
enum Planned<R> {
    Valid(R, [u8; 32]),
    /// The error, the input's digest, and the parameter refused (for the metric).
    Invalid(serde_json::Value, [u8; 32], Option<&'static str>),
}

impl<O: Operation> Batch<O> {
    /// A batch of `op` over `input`, journaled at `journal`.
    pub fn new(op: Arc<O>, input: Input, journal: PathBuf, settings: Settings) -> Self {
        let empty = crate::row::Row::new(0, Vec::new());
        let endpoint = op.request(&empty).ok().map(|r| r.endpoint());
        Self {
            shared: Arc::new(Shared {
                endpoint,
                op,
                input,
                journal,
                settings,
                output: None,
            }),
        }
    }

    /// Writes one line per row to `destination` in `format` when the run ends (under the
    /// journal's lock, so no other run changes it meanwhile). The path is checked before
    /// anything is sent: it may not be the input, the journal or one of its files, and
    /// its directory must exist and be writable.
    pub fn output(mut self, destination: Destination, format: OutputFormat) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.output = Some((destination, format));
        }
        self
    }

    /// The journal's path.
    pub fn journal_path(&self) -> &Path {
        &self.shared.journal
    }

    /// Plans every row and says what a run would do, sending nothing and writing
    /// nothing: an existing journal is read (under its lock) in a transaction that is
    /// rolled back, a missing one is planned in a scratch database that is deleted
    /// afterwards. Blocking (file and database work): call it off an async runtime's
    /// threads (`tokio::task::spawn_blocking`).
    pub fn dry_run(&self) -> Result<Plan, Error> {
        self.shared.dry_run()
    }

    /// Checks the paths, takes the journal (one run at a time), plans, then sends every
    /// pending row, reporting to `progress`, until done or `stop` is requested; then
    /// writes the output when [`Batch::output`] gave a destination. File and database
    /// work runs on threads of its own, never on the runtime's.
    pub async fn run(
        &self,
        progress: Arc<dyn Progress>,
        stop: Arc<Stop>,
    ) -> Result<Summary, Error> {
        let started = Instant::now();
        let shared = self.shared.clone();
        let prepared = blocking(move || shared.prepare()).await?;
        let Prepared {
            journal,
            reader,
            plan,
            reserve,
        } = prepared;
        tracing::debug!(
            rows = plan.rows,
            to_send = plan.to_send,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "batch planned"
        );
        progress.start(&plan);
        let writer = Writer::start(journal, reserve)?;
        let tally = Arc::new(Tally::default());
        let sent = crate::send::send(crate::send::Sending {
            op: &self.shared.op,
            input: &self.shared.input,
            settings: &self.shared.settings,
            reader,
            writer: &writer,
            progress: progress.as_ref(),
            stop: &stop,
            tally: &tally,
        })
        .await;
        let finished = blocking(move || writer.finish()).await?;
        if let Some(failure) = &finished.failure {
            stop.request(StopReason::Journal {
                message: failure.to_string(),
            });
        }
        match sent {
            // Requests may have left before the input changed: a stop with a summary.
            Err(Error::Input { message, .. }) => stop.request(StopReason::Input { message }),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        tracing::debug!(
            sent = Tally::get(&tally.sent),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "batch sent"
        );
        progress.update(&tally);
        let shared = self.shared.clone();
        let journal = finished.journal;
        let reason = stop.reason();
        blocking(move || {
            let mut summary = shared.summary(&journal, &tally, reason, started)?;
            if let Some((destination, format)) = &shared.output {
                let path = match destination {
                    Destination::File(p) => Some(p.as_path()),
                    Destination::Stdout => None,
                };
                let written = crate::output::write(&journal, path, *format, shared.op.provider())?;
                summary.written = Some(written.rows);
            }
            Ok(summary)
        })
        .await
    }
}

/// Runs blocking work (files, SQLite) on the runtime's blocking threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::journal(format!("a batch task failed: {e}")))?
}

/// What is ready when the first request may leave.
struct Prepared {
    journal: Journal,
    reader: Journal,
    plan: Plan,
    reserve: Option<Reserve>,
}

impl<O: Operation> Shared<O> {
    fn output_path(&self) -> Option<&Path> {
        match &self.output {
            Some((Destination::File(p), _)) => Some(p),
            _ => None,
        }
    }

    /// Refuses an input whose header gives one of the operation's columns twice.
    fn check_columns(&self) -> Result<(), Error> {
        let twice: Vec<String> = self
            .input
            .columns_given_twice()?
            .into_iter()
            .filter(|(column, _)| self.op.columns().contains(&column.as_str()))
            .map(|(column, headers)| format!("`{column}` (headers {})", headers.join(", ")))
            .collect();
        if twice.is_empty() {
            return Ok(());
        }
        Err(Error::input(format!(
            "the input gives {} more than once: which value is meant cannot be told; remove one, or --map only one of them",
            twice.join(" and ")
        )))
    }

    /// Everything before the first request (blocking): paths, the journal's lock, the
    /// plan, the disk reserve.
    fn prepare(&self) -> Result<Prepared, Error> {
        crate::paths::check(Some(&self.input.path), &self.journal, self.output_path())?;
        self.check_columns()?;
        let journal = Journal::open(&self.journal, self.op.name(), &self.settings.shard.label())?;
        journal.begin()?;
        match self.plan_into(&journal) {
            Ok(()) => journal.commit()?,
            Err(e) => {
                let _ = journal.rollback();
                return Err(e);
            }
        }
        let plan = self.summarise_plan(&journal)?;
        let reserve = if plan.to_send > 0 && self.settings.reserve_bytes > 0 {
            Some(Reserve::create(&self.journal, self.settings.reserve_bytes)?)
        } else {
            None
        };
        let reader = journal.reopen()?;
        Ok(Prepared {
            journal,
            reader,
            plan,
            reserve,
        })
    }

    fn dry_run(&self) -> Result<Plan, Error> {
        crate::paths::check(Some(&self.input.path), &self.journal, self.output_path())?;
        self.check_columns()?;
        let shard = self.settings.shard.label();
        let on_disk = self.journal.exists() || crate::journal::key_path(&self.journal).exists();
        let journal = if on_disk {
            Journal::open(&self.journal, self.op.name(), &shard)?
        } else {
            Journal::scratch(self.op.name(), &shard)?
        };
        journal.begin()?;
        let planned = self
            .plan_into(&journal)
            .and_then(|()| self.summarise_plan(&journal));
        journal.rollback()?;
        planned
    }

    fn identity(&self, journal: &Journal, request: &O::Request) -> [u8; 32] {
        identity(self.op.as_ref(), journal, request)
    }

    fn plan_row(&self, journal: &Journal, read: &RowRead) -> Planned<O::Request> {
        let provider = self.op.provider();
        match read {
            RowRead::Unreadable { reason, .. } => {
                let e = cred_core::Error::invalid("row", reason.clone());
                Planned::Invalid(
                    json!({"error": error_json(provider, &e)}),
                    journal.input_key(&[b"unreadable", reason.as_bytes()]),
                    Some("row"),
                )
            }
            RowRead::Row(row) => {
                let read_by_op = |c: &&str| self.op.columns().contains(c);
                // A number Excel could not keep exactly is not what was typed: never sent.
                let lost: Vec<&str> = row
                    .imprecise
                    .iter()
                    .map(String::as_str)
                    .filter(read_by_op)
                    .collect();
                let twice: Vec<&str> = row
                    .duplicated
                    .iter()
                    .map(String::as_str)
                    .filter(read_by_op)
                    .collect();
                let request = if !twice.is_empty() {
                    Err(cred_core::Error::invalid(
                        "row",
                        format!(
                            "the row gives {} more than once: which value is meant cannot be told",
                            twice.join(", ")
                        ),
                    ))
                } else if lost.is_empty() {
                    self.op.request(row).and_then(|r| {
                        r.validate()?;
                        self.op.check(&r)?;
                        Ok(r)
                    })
                } else {
                    Err(cred_core::Error::invalid(
                        "row",
                        format!(
                            "the spreadsheet holds {} as a number of more than 15 digits, which Excel does not keep exactly (the digits read are not the ones typed): store it as text",
                            lost.join(", ")
                        ),
                    ))
                };
                match request {
                    Ok(r) => {
                        let key = self.identity(journal, &r);
                        Planned::Valid(r, key)
                    }
                    Err(e) => {
                        let error = error_json(provider, &e);
                        let mut parts: Vec<&[u8]> = vec![b"invalid"];
                        for (k, v) in row.fields() {
                            parts.push(k.as_bytes());
                            parts.push(v.as_bytes());
                        }
                        let param = match &e {
                            cred_core::Error::InvalidInput { field, .. } => Some(*field),
                            _ => None,
                        };
                        Planned::Invalid(json!({"error": error}), journal.input_key(&parts), param)
                    }
                }
            }
        }
    }

    /// Reads the whole input once and records every row's plan in `journal`.
    fn plan_into(&self, journal: &Journal) -> Result<(), Error> {
        journal.resume(self.settings.resend_unknown)?;
        let shard = self.settings.shard;
        let mut in_batch = 0u32;
        let mut last = 0u64;
        for read in self.input.rows()? {
            let number = read.number();
            last = last.max(number);
            if !shard.contains(number) {
                continue;
            }
            let planned = self.plan_row(journal, &read);
            let key = match &planned {
                Planned::Valid(_, k) | Planned::Invalid(_, k, _) => *k,
            };
            match journal.get(number)? {
                Some((_, stored)) if stored == key => {}
                Some((State::Invalid, _)) => {
                    // Fixed since the last run: plan it afresh.
                    journal.forget(number)?;
                    self.plan_new(journal, number, &planned)?;
                }
                Some(_) => {
                    return Err(Error::input(format!(
                        "row {number} of the input is not the row the journal recorded: the input changed since {} was written (use a new --journal for a new input)",
                        self.journal.display()
                    )));
                }
                None => self.plan_new(journal, number, &planned)?,
            }
            in_batch += 1;
            if in_batch == 10_000 {
                journal.commit()?;
                journal.begin()?;
                in_batch = 0;
            }
        }
        // Rows past the input's end (cut short since an earlier run) stay recorded, never
        // sent again, and are left out of counts and output.
        journal.set_input_rows(last)
    }

    fn plan_new(
        &self,
        journal: &Journal,
        number: u64,
        planned: &Planned<O::Request>,
    ) -> Result<(), Error> {
        match planned {
            Planned::Invalid(outcome, key, param) => {
                // Money saved: counted like the pipeline's own local refusals.
                if let (Some(endpoint), Some(param)) = (self.endpoint, param) {
                    cred_core::telemetry::invalid_input(endpoint.site, param);
                }
                journal.plan(
                    number,
                    key,
                    State::Invalid,
                    None,
                    Some(&outcome.to_string()),
                )
            }
            Planned::Valid(_, key) => match journal.original_of(key, number)? {
                Some(of) => journal.plan(number, key, State::Duplicate, Some(of), None),
                None => journal.plan(number, key, State::Pending, None, None),
            },
        }
    }

    fn summarise_plan(&self, journal: &Journal) -> Result<Plan, Error> {
        let mut plan = Plan::default();
        for (state, n) in journal.counts()? {
            plan.rows += n;
            match state {
                State::Invalid => plan.invalid += n,
                State::Duplicate => plan.duplicates += n,
                State::Pending => plan.to_send += n,
                State::Answered => plan.answered += n,
                State::Failed => plan.failed += n,
                State::Unknown | State::Sending => plan.unknown += n,
            }
        }
        plan.first_invalid = journal.first_invalid(5)?;
        plan.worst_case_charged = if self.paid() { plan.to_send } else { 0 };
        Ok(plan)
    }

    /// Whether the operation is billed (billed when unknown: the worst case).
    fn paid(&self) -> bool {
        self.endpoint.is_none_or(|e| e.billing == Billing::Paid)
    }

    fn summary(
        &self,
        journal: &Journal,
        tally: &Tally,
        stopped: Option<StopReason>,
        started: Instant,
    ) -> Result<Summary, Error> {
        let mut by_state = std::collections::HashMap::new();
        for (state, n) in journal.counts()? {
            by_state.insert(state, n);
        }
        let get = |s: State| by_state.get(&s).copied().unwrap_or(0);
        let skipped = get(State::Pending);
        let (found, not_found) = journal.found_counts()?;
        let (charged_answered, charged_not_found, charged_error) = journal.charged_by_outcome()?;
        Ok(Summary {
            statuses: vec![
                ("answered", get(State::Answered)),
                ("invalid", get(State::Invalid)),
                ("duplicate", get(State::Duplicate)),
                ("failed", get(State::Failed)),
                ("unknown", get(State::Unknown) + get(State::Sending)),
                ("skipped", skipped),
            ],
            found,
            not_found,
            licence_statuses: journal.licence_status_counts()?,
            charged: journal.charged()?,
            charged_by_outcome: [
                ("answered", charged_answered),
                ("not_found", charged_not_found),
                ("error", charged_error),
            ],
            sent: Tally::get(&tally.sent),
            unsent: Tally::get(&tally.unsent),
            written: None,
            charged_this_run: Tally::get(&tally.charged),
            elapsed_s: started.elapsed().as_secs_f64(),
            stopped,
            unfinished: skipped > 0,
        })
    }
}
