//! What can stop a batch before or while it runs, kept apart by what the operator must do
//! about it, with the underlying error as [`std::error::Error::source`].

use std::path::PathBuf;
use std::sync::Arc;

/// The underlying error of a batch failure.
pub type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A batch failure. Every variant but [`Error::Sdk`] and [`Error::Io`] is raised before
/// any request is sent; [`Error::Io`] during a run leaves the journal consistent (every
/// answer received is recorded; see the crate documentation on a full disk).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input cannot be used as it is: unreadable, not in the encoding it was read
    /// with, a spreadsheet over the limits, a column given twice, no header. Nothing was
    /// sent.
    #[error("{message} (nothing was sent)")]
    Input {
        /// What is wrong, and how to fix it (never a value of the input).
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Source>,
    },
    /// The paths given cannot be used together (the output would overwrite the input or
    /// the journal) or cannot be written (a missing directory). Nothing was sent.
    #[error("{message} (nothing was sent)")]
    Paths {
        /// What is wrong, naming the paths.
        message: String,
    },
    /// Another run holds the journal: a journal is used by one run at a time. Nothing
    /// was sent.
    #[error("the journal {} is in use by another run{} (nothing was sent): wait for it to finish, or give this run another --journal", journal.display(), pid.map(|p| format!(" (process {p})")).unwrap_or_default())]
    Locked {
        /// The journal.
        journal: PathBuf,
        /// The process holding it, when it said.
        pid: Option<u32>,
    },
    /// The journal cannot be used: missing or empty beside its key file, damaged, of
    /// another batch, or its key file is missing or readable by others. A journal is
    /// never started afresh in its place. Nothing was sent.
    #[error("{message} (nothing was sent)")]
    Journal {
        /// What is wrong, and what to do.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Source>,
    },
    /// A file could not be read or written: a full disk, permissions, a failing device.
    #[error("{message}")]
    Io {
        /// What could not be done, naming the file.
        message: String,
        /// Whether the cause is a full disk (or quota).
        disk_full: bool,
        /// The underlying error.
        #[source]
        source: Option<Source>,
    },
    /// An error of the SDK: an operation or client that cannot be used (configuration),
    /// or a row refused as a whole batch would be (invalid input).
    #[error(transparent)]
    Sdk(#[from] cred_core::Error),
}

impl Error {
    /// An [`Error::Input`] without a source.
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Journal`] without a source.
    pub fn journal(message: impl Into<String>) -> Self {
        Error::Journal {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Io`] for `what` (a sentence naming the file), from `e`.
    pub fn io(what: impl Into<String>, e: std::io::Error) -> Self {
        let disk_full = is_disk_full(&e);
        Error::Io {
            message: format!("{}: {e}", what.into()),
            disk_full,
            source: Some(Arc::new(e)),
        }
    }

    /// Whether nothing was sent because of this error (everything but an I/O failure
    /// during a run and SDK errors that say otherwise).
    pub fn nothing_sent(&self) -> bool {
        match self {
            Error::Input { .. }
            | Error::Paths { .. }
            | Error::Locked { .. }
            | Error::Journal { .. } => true,
            Error::Io { .. } => false,
            Error::Sdk(e) => e.nothing_sent(),
        }
    }
}

/// Whether an I/O error is a full disk or an exceeded quota.
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// A SQLite error of the journal at `path`: a full disk and I/O failures are
/// [`Error::Io`]; a file that is not a database, or a damaged one, is [`Error::Journal`].
pub(crate) fn sqlite(path: Option<&std::path::Path>, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as C;
    let name = path.map_or_else(|| "of this batch".to_owned(), |p| p.display().to_string());
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(C::DiskFull) => Error::Io {
            message: format!("cannot write the journal {name}: the disk is full"),
            disk_full: true,
            source: Some(Arc::new(e)),
        },
        Some(C::SystemIoFailure | C::CannotOpen | C::ReadOnly | C::PermissionDenied) => Error::Io {
            message: format!("cannot use the journal {name}: {e}"),
            disk_full: false,
            source: Some(Arc::new(e)),
        },
        Some(C::NotADatabase | C::DatabaseCorrupt) => Error::Journal {
            message: format!(
                "the journal {name} is damaged ({e}); it is never started afresh in its place: restore it from a copy, or start a new batch with another --journal (rows it answered would be paid again)"
            ),
            source: Some(Arc::new(e)),
        },
        _ => Error::Journal {
            message: format!("journal {name}: {e}"),
            source: Some(Arc::new(e)),
        },
    }
}
