//! The engine: plan every row (validate, dedupe, consult the journal), then send the
//! pending ones in input order under a concurrency bound, each marked `sending` on disk
//! before its request leaves, stopping early when no later row can succeed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cred_core::{ApiRequest, Billing, Charged, Error};
use serde_json::json;
use tokio::sync::{Semaphore, watch};

use crate::input::Input;
use crate::journal::{Journal, STOP_KINDS, State};
use crate::operation::{Operation, error_json, record};
use crate::row::RowRead;
use crate::writer::Writer;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            max_charged: None,
            resend_unknown: false,
            shard: Shard::default(),
            drain_timeout: Duration::from_secs(60),
        }
    }
}

/// What a run will do (and what a dry run prints).
#[derive(Debug, Clone, Default, serde::Serialize)]
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

/// Why a run stopped before sending every row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum StopReason {
    /// An error no later row can escape (`auth`, `insufficient-balance`, ...).
    Kind {
        /// The error kind.
        kind: String,
        /// The row that met it.
        row: u64,
        /// The error's message.
        message: String,
    },
    /// `max_charged` was reached.
    MaxCharged {
        /// The limit.
        limit: u64,
    },
    /// Interrupted (Ctrl-C).
    Interrupted,
    /// The journal could not be written.
    Journal {
        /// Why.
        message: String,
    },
}

/// Asks a run to stop sending (shared with a Ctrl-C handler, for example).
#[derive(Debug)]
pub struct Stop {
    tx: watch::Sender<bool>,
    reason: Mutex<Option<StopReason>>,
}

impl Default for Stop {
    fn default() -> Self {
        Self {
            tx: watch::channel(false).0,
            reason: Mutex::new(None),
        }
    }
}

impl Stop {
    /// A handle nobody has pulled yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stops new sends; the first reason given is kept.
    pub fn request(&self, reason: StopReason) {
        if let Ok(mut r) = self.reason.lock()
            && r.is_none()
        {
            *r = Some(reason);
        }
        self.tx.send_replace(true);
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        *self.tx.borrow()
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Running counts of this run's calls, for progress displays.
#[derive(Debug, Default)]
pub struct Tally {
    /// Calls finished.
    pub sent: AtomicU64,
    /// Answered with a record.
    pub found: AtomicU64,
    /// Answered without one.
    pub not_found: AtomicU64,
    /// Charged (answers and errors the provider billed).
    pub charged: AtomicU64,
    /// Failed calls.
    pub errors: AtomicU64,
    /// Requests in flight.
    pub in_flight: AtomicU64,
}

impl Tally {
    fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}

/// What a progress display is told.
pub trait Progress: Send + Sync {
    /// The plan is known; `plan.to_send` calls follow.
    fn start(&self, plan: &Plan) {
        let _ = plan;
    }

    /// A call finished (or a stop was requested); `tally` holds the counts so far.
    fn update(&self, tally: &Tally) {
        let _ = tally;
    }
}

/// No display.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Rows of this shard by output status: `answered`, `invalid`, `duplicate`,
    /// `failed`, `unknown`, `skipped` (not sent: the run stopped first).
    pub statuses: Vec<(&'static str, u64)>,
    /// Answered rows with a record.
    pub found: u64,
    /// Answered rows without one.
    pub not_found: u64,
    /// Charged calls in the journal (all runs).
    pub charged: u64,
    /// Calls sent by this run.
    pub sent: u64,
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
    op: Arc<O>,
    input: Input,
    journal: PathBuf,
    settings: Settings,
}

impl<O: Operation> std::fmt::Debug for Batch<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("operation", &self.op.name())
            .field("input", &self.input.path)
            .field("journal", &self.journal)
            .field("settings", &self.settings)
            .finish()
    }
}

/// The journal path used when none is given: `<input>.journal` beside the input.
pub fn default_journal(input: &std::path::Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// How a row turned out when planned.
enum Planned<R> {
    Valid(R, [u8; 32]),
    Invalid(serde_json::Value, [u8; 32]),
}

impl<O: Operation> Batch<O> {
    /// A batch of `op` over `input`, journaled at `journal`.
    pub fn new(op: Arc<O>, input: Input, journal: PathBuf, settings: Settings) -> Self {
        Self {
            op,
            input,
            journal,
            settings,
        }
    }

    /// The journal's path.
    pub fn journal_path(&self) -> &std::path::Path {
        &self.journal
    }

    fn identity(&self, journal: &Journal, request: &O::Request) -> [u8; 32] {
        let mut params = Vec::new();
        request.write_params(&mut params);
        let endpoint = request.endpoint();
        let mut parts: Vec<&[u8]> = vec![
            self.op.name().as_bytes(),
            endpoint.site.operation.as_bytes(),
        ];
        for (k, v) in &params {
            parts.push(k.as_bytes());
            parts.push(v.as_bytes());
        }
        journal.input_key(&parts)
    }

    fn plan_row(&self, journal: &Journal, read: &RowRead) -> Planned<O::Request> {
        let provider = self.op.provider();
        match read {
            RowRead::Unreadable { reason, .. } => {
                let e = Error::invalid("row", reason.clone());
                Planned::Invalid(
                    json!({"error": error_json(provider, &e)}),
                    journal.input_key(&[b"unreadable", reason.as_bytes()]),
                )
            }
            RowRead::Row(row) => {
                // A number Excel could not keep exactly is not what was typed: never sent.
                let lost: Vec<&str> = row
                    .imprecise
                    .iter()
                    .map(String::as_str)
                    .filter(|c| self.op.columns().contains(c))
                    .collect();
                let request = if lost.is_empty() {
                    self.op.request(row).and_then(|r| {
                        r.validate()?;
                        Ok(r)
                    })
                } else {
                    Err(Error::invalid(
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
                        Planned::Invalid(json!({"error": error}), journal.input_key(&parts))
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
        for read in self.input.rows()? {
            let number = read.number();
            if !shard.contains(number) {
                continue;
            }
            let planned = self.plan_row(journal, &read);
            let key = match &planned {
                Planned::Valid(_, k) | Planned::Invalid(_, k) => *k,
            };
            match journal.get(number)? {
                Some((_, stored)) if stored == key => {}
                Some((State::Invalid, _)) => {
                    // Fixed since the last run: plan it afresh.
                    journal.forget(number)?;
                    self.plan_new(journal, number, &planned)?;
                }
                Some(_) => {
                    return Err(Error::config(format!(
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
        Ok(())
    }

    fn plan_new(
        &self,
        journal: &Journal,
        number: u64,
        planned: &Planned<O::Request>,
    ) -> Result<(), Error> {
        match planned {
            Planned::Invalid(outcome, key) => {
                journal.plan(number, key, State::Invalid, None, Some(outcome))
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

    /// Whether the operation is billed: asked of a request built from nothing (the
    /// endpoint does not depend on the row's values).
    fn paid(&self) -> bool {
        let empty = crate::row::Row::new(0, Vec::new());
        self.op
            .request(&empty)
            .map(|r| r.endpoint().billing == Billing::Paid)
            .unwrap_or(true)
    }

    /// Plans every row and says what a run would do, sending nothing and writing
    /// nothing: an existing journal is read in a transaction that is rolled back, a
    /// missing one is planned in memory.
    pub fn dry_run(&self) -> Result<Plan, Error> {
        let shard = self.settings.shard.label();
        let journal = if self.journal.exists() {
            Journal::open(&self.journal, self.op.name(), &shard)?
        } else {
            Journal::in_memory(self.op.name(), &shard)?
        };
        journal.begin()?;
        let planned = self
            .plan_into(&journal)
            .and_then(|()| self.summarise_plan(&journal));
        journal.rollback()?;
        planned
    }

    /// Plans, then sends every pending row, reporting to `progress`, until done or
    /// `stop` is requested. Output is written afterwards with
    /// [`crate::output::write`] from the journal.
    pub async fn run(
        &self,
        progress: Arc<dyn Progress>,
        stop: Arc<Stop>,
    ) -> Result<Summary, Error> {
        let started = Instant::now();
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
        progress.start(&plan);
        let reader = journal.reopen()?;
        let writer = Writer::start(journal)?;
        let tally = Arc::new(Tally::default());
        let sent = self
            .send(&reader, &writer, progress.as_ref(), &stop, &tally)
            .await;
        let journal = writer.finish()?;
        sent?;
        progress.update(&tally);
        self.summary(&journal, &tally, stop.reason(), started)
    }

    async fn send(
        &self,
        reader: &Journal,
        writer: &Writer,
        progress: &dyn Progress,
        stop: &Arc<Stop>,
        tally: &Arc<Tally>,
    ) -> Result<(), Error> {
        let semaphore = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let finished = Arc::new(tokio::sync::Notify::new());
        let mut tasks = tokio::task::JoinSet::new();
        let mut rows = self.input.rows()?;
        let mut after = 0u64;
        let writer_errors = Arc::new(Mutex::new(None::<Error>));
        'chunks: loop {
            let chunk = reader.pending_after(after, 1000)?;
            if chunk.is_empty() {
                break;
            }
            for (number, key) in chunk {
                after = number;
                let row = loop {
                    match rows.next() {
                        Some(RowRead::Row(r)) if r.number == number => break r,
                        Some(read) if read.number() < number => continue,
                        _ => {
                            return Err(Error::config(format!(
                                "row {number} is no longer in the input: the input changed during the run"
                            )));
                        }
                    }
                };
                // Collect finished tasks (and their panics) as we go.
                while let Some(done) = tasks.try_join_next() {
                    done.map_err(|e| Error::config(format!("a batch task failed: {e}")))?;
                }
                if let Some(limit) = self.settings.max_charged {
                    loop {
                        let committed = Tally::get(&tally.charged) + Tally::get(&tally.in_flight);
                        if committed < limit || stop.requested() {
                            break;
                        }
                        if Tally::get(&tally.in_flight) == 0 {
                            stop.request(StopReason::MaxCharged { limit });
                            break;
                        }
                        let notified = finished.notified();
                        if Tally::get(&tally.in_flight) == 0 {
                            continue;
                        }
                        notified.await;
                    }
                }
                if stop.requested() {
                    break 'chunks;
                }
                let permit = tokio::select! {
                    permit = semaphore.clone().acquire_owned() => permit.map_err(|_| Error::config("the batch was closed"))?,
                    () = stop.wait() => break 'chunks,
                };
                let request = self.op.request(&row).and_then(|r| {
                    r.validate()?;
                    Ok(r)
                })?;
                if self.identity(reader, &request) != key {
                    return Err(Error::config(format!(
                        "row {number} of the input changed during the run"
                    )));
                }
                // Durable before the request leaves.
                if let Err(e) = writer.handle().sending(number).await {
                    stop.request(StopReason::Journal {
                        message: e.to_string(),
                    });
                    return Err(e);
                }
                tally.in_flight.fetch_add(1, Ordering::Relaxed);
                let (op, task_tally, task_stop, task_finished, errors) = (
                    self.op.clone(),
                    tally.clone(),
                    stop.clone(),
                    finished.clone(),
                    writer_errors.clone(),
                );
                let provider = self.op.provider().to_owned();
                let recorded = writer.handle();
                tasks.spawn(async move {
                    let (tally, stop, finished) = (task_tally, task_stop, task_finished);
                    let outcome = op.call(&request).await;
                    let rec = record(&provider, &outcome);
                    match &outcome {
                        Ok(answer) => {
                            let counter = if answer.found() {
                                &tally.found
                            } else {
                                &tally.not_found
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                            if answer.charged() == Charged::Yes {
                                tally.charged.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            if e.charged() == Charged::Yes {
                                tally.charged.fetch_add(1, Ordering::Relaxed);
                            }
                            let kind = e.kind().as_str();
                            if STOP_KINDS.contains(&kind) {
                                stop.request(StopReason::Kind {
                                    kind: kind.to_owned(),
                                    row: number,
                                    message: e.to_string(),
                                });
                            }
                        }
                    }
                    if let Err(e) = recorded.record(number, rec).await {
                        stop.request(StopReason::Journal {
                            message: e.to_string(),
                        });
                        if let Ok(mut slot) = errors.lock() {
                            slot.get_or_insert(e);
                        }
                    }
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                    tally.in_flight.fetch_sub(1, Ordering::Relaxed);
                    drop(permit);
                    finished.notify_waiters();
                });
                progress.update(tally);
            }
        }
        // Let the requests in flight finish (bounded); those that do not stay `sending`.
        let drain = async {
            while let Some(done) = tasks.join_next().await {
                progress.update(tally);
                if let Err(e) = done {
                    tracing::warn!(error = %e, "a batch task failed");
                }
            }
        };
        if tokio::time::timeout(self.settings.drain_timeout, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = Tally::get(&tally.in_flight),
                "requests still in flight after the drain timeout: left `sending` (reported unknown on the next run)"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        match writer_errors.lock().ok().and_then(|mut e| e.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
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
            charged: journal.charged()?,
            sent: Tally::get(&tally.sent),
            charged_this_run: Tally::get(&tally.charged),
            elapsed_s: started.elapsed().as_secs_f64(),
            stopped,
            unfinished: skipped > 0,
        })
    }
}
