//! The ledger's errors: what went wrong and which file, never a personal value.

use std::path::Path;
use std::sync::Arc;

/// A ledger operation that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the ledger cannot be created, opened, read or written.
    #[error("{message}")]
    Io {
        /// What failed, naming the file.
        message: String,
        /// The operating system's error.
        #[source]
        source: Option<Arc<std::io::Error>>,
    },
    /// SQLite refused an operation on the ledger's database.
    #[error("{message}")]
    Database {
        /// What failed, naming the file.
        message: String,
        /// SQLite's error.
        #[source]
        source: Option<Arc<rusqlite::Error>>,
    },
    /// The ledger or its key is not what it should be: a missing key beside an existing
    /// ledger, a key of another ledger, a key file others may read, a damaged file.
    #[error("{0}")]
    Setup(String),
    /// A record cannot be written as given (a required purpose missing, a value too long).
    #[error("{0}")]
    Invalid(String),
    /// The ledger's writer has stopped (the ledger was closed, or a write failed before).
    #[error("the ledger's writer has stopped: {0}")]
    Stopped(String),
}

impl Error {
    pub(crate) fn io(what: &str, path: &Path, e: std::io::Error) -> Self {
        Error::Io {
            message: format!("{what} {}: {e}", path.display()),
            source: Some(Arc::new(e)),
        }
    }

    pub(crate) fn db(what: &str, path: &Path, e: rusqlite::Error) -> Self {
        Error::Database {
            message: format!("{what} {}: {e}", path.display()),
            source: Some(Arc::new(e)),
        }
    }
}
