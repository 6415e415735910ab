//! The credkit audit ledger: one record per provider call, saying who called, why, which
//! operation, how it ended and whether it was charged, and about whom, with people,
//! licences and companies kept only as keyed HMACs.
//!
//! What it proves, and what it does not:
//! - **Edits, deletions, insertions, reordering**: each record's MAC (HMAC-SHA256 under
//!   the ledger key) covers its fields and the previous record's MAC. [`verify`] names
//!   the first record where the chain breaks.
//! - **A cut tail**: the head (`<ledger>.head`, apart from the rows, tagged with the
//!   key) names the last record; rows missing after a chain that is still whole show
//!   against it.
//! - **Not against the key's holder**: whoever holds the ledger key (`<ledger>.key`)
//!   and can write the head can rewrite the whole history and its head. Keep copies of
//!   the head where the ledger's writers cannot change them ([`current_head`], `cred
//!   audit head`, e.g. shipped daily to a log store or another team's mailbox); a later
//!   [`verify_against`] shows whether the history up to a kept head was rewritten.
//! - **Subjects**: an ID number or a name is stored as `HMAC(subject key, kind,
//!   value)`. Without the key nobody can test a guess against the ledger; with it,
//!   [`find`] answers a person's request to know.
//!
//! Writing: [`Ledger::open`] then [`Ledger::record`]; one writer thread commits what
//! has queued in one transaction (a group commit), so concurrent calls share a commit.
//! A record is in the ledger once its [`Pending`] says so: a crash of the process after
//! that loses nothing (SQLite's WAL); records still queued are lost with the process,
//! and those are the records of calls that had not returned yet. A power loss can also
//! lose the last commits unless [`LedgerOptions::fsync`] is on.

mod entry;
mod error;
mod head;
mod key;
mod ledger;
mod query;
mod record;
mod store;
mod verify;

pub use entry::{Entry, Outcome, Subject, SubjectKind};
pub use error::Error;
pub use head::Head;
pub use key::{head_path, key_path};
pub use ledger::{Ledger, LedgerOptions, Pending};
pub use query::{GroupBy, ReportRow, find, report};
pub use record::Record;
pub use verify::{Problem, Verification, current_head, verify, verify_against};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
