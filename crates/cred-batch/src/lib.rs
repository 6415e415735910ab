//! # cred-batch
//!
//! Batch verification for the credkit SDKs: thousands of checks from a spreadsheet,
//! each input paid for at most once. The engine behind `cred batch`, for services that
//! embed it.
//!
//! A batch reads rows ([`Input`]: CSV in UTF-8 or GBK, JSON Lines, `.xlsx`), turns each
//! into a provider request through an [`Operation`], and:
//!
//! 1. **checks** the paths (the output may not be the input or the journal) and takes
//!    the [`Journal`]'s lock: one run per journal at a time;
//! 2. **plans** every row before any paid call: invalid rows (local validation) and
//!    duplicates (the same normalised input as an earlier row) are recorded and never
//!    sent; rows already answered in the journal are not sent again;
//! 3. **sends** the rest in input order, at most [`Settings::concurrency`] at a time
//!    (and under the client's rate limit), each marked `sending` in the SQLite journal,
//!    on disk, before its request leaves;
//! 4. **stops early** when an error comes back that no later row can escape (`auth`,
//!    `permission`, `config`, `insufficient-balance`, `quota-exhausted`, shared state
//!    unavailable), when [`Settings::max_charged`] is reached, when the disk fills, or
//!    when asked ([`Stop`]);
//! 5. **writes the output** ([`Batch::output`]) from the journal: one line per row of
//!    the current input, in input order.
//!
//! Re-running the same batch resumes: answered rows are not sent again, failures that
//! cost nothing and may succeed later are retried, and rows that were in flight when a
//! process died are reported `unknown`, not re-sent unless
//! [`Settings::resend_unknown`]. The journal holds no plaintext identifier (inputs are
//! HMAC digests, answers are sealed; see [`journal`]).
//!
//! ```no_run
//! # async fn run<O: cred_batch::Operation>(op: O) -> Result<(), cred_batch::Error> {
//! use std::sync::Arc;
//! use cred_batch::output::OutputFormat;
//! use cred_batch::{Batch, Destination, Input, NoProgress, Settings, Stop};
//!
//! let input = Input::new("hires.csv");
//! let journal = cred_batch::default_journal(&input.path);
//! let batch = Batch::new(Arc::new(op), input, journal, Settings::default())
//!     .output(Destination::File("hires.results.jsonl".into()), OutputFormat::JsonLines);
//! let plan = batch.dry_run()?; // nothing sent (blocking: off the runtime in a service)
//! println!("{} rows, {} to send, {} invalid", plan.rows, plan.to_send, plan.invalid);
//! let summary = batch.run(Arc::new(NoProgress), Stop::new()).await?;
//! println!("{} sent, {:?} lines written", summary.sent, summary.written);
//! # Ok(()) }
//! ```
//!
//! Errors ([`Error`]) say what the operator must do: [`Error::Input`] (unreadable input,
//! not valid in its encoding, a spreadsheet over the [`Limits`], a column given twice),
//! [`Error::Paths`], [`Error::Locked`] (another run holds the journal),
//! [`Error::Journal`] (missing, empty or damaged beside its key file; a key file others
//! can read), [`Error::Io`] (a full disk), [`Error::Sdk`]; each keeps its cause as
//! [`std::error::Error::source`].
//!
//! **Runtime:** async on **tokio**; call it from a tokio runtime.

mod control;
mod encoding;
mod error;
pub mod input;
pub mod journal;
mod keyfile;
mod lock;
mod operation;
pub mod output;
mod paths;
mod row;
mod run;
mod send;
mod writer;
mod xlsx;

pub use control::{NoProgress, Progress, Stop, StopReason, Tally};
pub use error::{Error, Source};
pub use input::{Encoding, Format, Input, Limits};
pub use journal::{Journal, State};
pub use operation::{Operation, charged_json, error_json, record};
pub use row::{ColumnMap, Row, RowRead};
pub use run::{Batch, Destination, Plan, Settings, Shard, Summary, default_journal};
