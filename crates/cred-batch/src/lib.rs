//! # cred-batch
//!
//! Batch verification for the credkit SDKs: thousands of checks from a spreadsheet,
//! each input paid for at most once. The engine behind `cred batch`, for services that
//! embed it.
//!
//! A batch reads rows ([`Input`]: CSV in UTF-8 or GBK, JSON Lines, `.xlsx`), turns each
//! into a provider request through an [`Operation`], and:
//!
//! 1. **plans** every row before any paid call: invalid rows (local validation) and
//!    duplicates (the same normalised input as an earlier row) are recorded and never
//!    sent; rows already answered in the journal are not sent again;
//! 2. **sends** the rest in input order, at most [`Settings::concurrency`] at a time
//!    (and under the client's rate limit), each marked `sending` in the SQLite
//!    [`Journal`] — on disk — before its request leaves;
//! 3. **stops early** when an error no later row can escape comes back (`auth`,
//!    `permission`, `config`, `insufficient-balance`, `quota-exhausted`), when
//!    [`Settings::max_charged`] is reached, or when asked ([`Stop`]);
//! 4. **writes the output** ([`output::write`]) from the journal: one line per row, in
//!    input order.
//!
//! Re-running the same batch resumes: answered rows are not sent again, failures that
//! cost nothing and may succeed later are retried, and rows that were in flight when a
//! process died are reported `unknown`, not re-sent unless
//! [`Settings::resend_unknown`]. The journal holds no plaintext identifier (inputs are
//! HMAC digests, answers are sealed; see [`journal`]).
//!
//! ```no_run
//! # async fn run<O: cred_batch::Operation>(op: O) -> Result<(), cred_core::Error> {
//! use std::sync::Arc;
//! use cred_batch::{Batch, Input, NoProgress, Settings, Stop, output};
//!
//! let input = Input::new("hires.csv");
//! let journal = cred_batch::default_journal(&input.path);
//! let batch = Batch::new(Arc::new(op), input, journal.clone(), Settings::default());
//! let plan = batch.dry_run()?; // nothing sent
//! println!("{} rows, {} to send, {} invalid", plan.rows, plan.to_send, plan.invalid);
//! let summary = batch.run(Arc::new(NoProgress), Stop::new()).await?;
//! let journal = cred_batch::Journal::open(&journal, "jumdata credential", "all")?;
//! output::write(&journal, Some("hires.results.jsonl".as_ref()), output::OutputFormat::JsonLines, "jumdata")?;
//! # let _ = summary; Ok(()) }
//! ```

mod control;
pub mod input;
pub mod journal;
mod operation;
pub mod output;
mod row;
mod run;
mod send;
mod writer;

pub use control::{NoProgress, Progress, Stop, StopReason, Tally};
pub use input::{Encoding, Format, Input};
pub use journal::{Journal, State};
pub use operation::{Operation, charged_json, error_json, record};
pub use row::{ColumnMap, Row, RowRead};
pub use run::{Batch, Plan, Settings, Shard, Summary, default_journal};
