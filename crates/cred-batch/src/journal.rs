//! The journal: one SQLite database (WAL, `synchronous=FULL`) per batch, holding each
//! row's state so that a run can stop anywhere and resume without paying twice.
//!
//! No plaintext identifier is stored. A row's input is kept as an HMAC-SHA256 under a
//! per-journal random key (duplicates and a changed input are still recognised), and
//! each answer, error or reason is sealed with AES-256-GCM under a second key, bound to
//! its row. Both keys live in `<journal>.key` beside the database, readable by its owner
//! only: the database alone reveals nothing, and ID numbers (a small space) cannot be
//! recovered from it by trying them all.
//!
//! Row states: `invalid` and `duplicate` (decided when planning), `pending` → `sending`
//! (committed before the request leaves) → `answered` or `failed`. A row found
//! `sending` when a run starts was in flight when a process died: it becomes `unknown`
//! and is sent again only on request.
//!
//! A journal is used by one run at a time: [`Journal::open`] takes the lock of
//! `<journal>.lock` first (see [`lock_path`]) and holds it until the journal (and every
//! [reopened](Journal::reopen) connection) is dropped. A new journal and its key file are
//! created under that lock, atomically: the database is written beside its final name,
//! the key file is put in place, then the database is renamed into place. A journal that
//! is missing, empty or damaged while its key file exists is an error, never a new
//! journal: the rows it answered would be paid again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cred_core::seal::{HmacKey, SealingKey};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::Error;
use crate::keyfile::{Keys, sibling};
use crate::lock::JournalLock;

pub use crate::keyfile::key_path;
pub use crate::lock::lock_path;

/// Schema version written to `meta`.
const VERSION: &str = "1";

/// Error kinds after which no later row can succeed: the run stops sending.
pub const STOP_KINDS: &[&str] = &[
    "auth",
    "permission",
    "config",
    "insufficient-balance",
    "quota-exhausted",
];

/// A row's state in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Refused locally; never sent.
    Invalid,
    /// The same input as an earlier row, which is the one sent.
    Duplicate,
    /// To be sent.
    Pending,
    /// Its request may be on the wire.
    Sending,
    /// The provider answered (found or not).
    Answered,
    /// The call failed.
    Failed,
    /// Was in flight when a process died: outcome unknown.
    Unknown,
}

impl State {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Invalid => "invalid",
            State::Duplicate => "duplicate",
            State::Pending => "pending",
            State::Sending => "sending",
            State::Answered => "answered",
            State::Failed => "failed",
            State::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Option<State> {
        Some(match s {
            "invalid" => State::Invalid,
            "duplicate" => State::Duplicate,
            "pending" => State::Pending,
            "sending" => State::Sending,
            "answered" => State::Answered,
            "failed" => State::Failed,
            "unknown" => State::Unknown,
            _ => return None,
        })
    }
}

/// The outcome of a call, as recorded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Record {
    /// `Answered` or `Failed`.
    pub state: State,
    /// Whether a record was found (answered rows).
    pub found: Option<bool>,
    /// `yes`, `no` or `unknown`.
    pub charged: &'static str,
    /// The error kind (failed rows).
    pub kind: Option<&'static str>,
    /// A licence's status the answer carries (answered rows): `revoked`, `expired`,
    /// `restricted` (see [`crate::Operation::licence_status`]). Stored in the `kind`
    /// column, which answered rows do not otherwise use.
    pub licence_status: Option<&'static str>,
    /// Whether the error is retryable.
    pub retryable: bool,
    /// The provider's request id (not personal data: kept as it is).
    pub request_id: Option<String>,
    /// The JSON text to seal: the result (answered rows) or `{"error": {...}}`.
    pub outcome: String,
}

/// What the journal knows of one row.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stored {
    /// Its number.
    pub row: u64,
    /// Its state.
    pub state: State,
    /// The row it duplicates.
    pub of: Option<u64>,
    /// Found (answered rows).
    pub found: Option<bool>,
    /// `yes`, `no`, `unknown` (answered and failed rows).
    pub charged: Option<String>,
    /// The provider's request id (answered and failed rows).
    pub request_id: Option<String>,
    /// A licence's status the answer carried (answered rows): `expired`, ...
    pub licence_status: Option<String>,
    /// Its outcome, opened: JSON text (the result of an answered row, `{"error": ..}`
    /// of a failed or invalid one).
    pub outcome: Option<String>,
}

/// Seals outcomes for one journal, bound to their row.
#[derive(Clone)]
pub struct Sealer {
    key: SealingKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// `outcome` sealed for `row`.
    pub fn seal(&self, row: u64, outcome: &str) -> Result<Vec<u8>, Error> {
        Ok(self.key.seal(&row.to_be_bytes(), outcome.as_bytes())?)
    }
}

/// The journal of one batch.
pub struct Journal {
    conn: Connection,
    path: Option<PathBuf>,
    hmac: HmacKey,
    seal: SealingKey,
    /// Data rows of the input the last plan read: rows past it (an input cut short since
    /// an earlier run) stay recorded but are left out of counts and output.
    input_rows: Arc<AtomicU64>,
    /// This run's hold on the journal (shared by reopened connections).
    lock: Option<Arc<JournalLock>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

fn db(e: rusqlite::Error) -> Error {
    crate::error::sqlite(None, e)
}

/// Creates `path` for writing, readable and writable by its owner only.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Opens `path` for reading and writing, creating it owner-only when missing (never
/// truncating unless `truncate`).
pub(crate) fn open_private(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Whether a journal file is there with content, there but empty, or not there.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Missing,
    Empty,
    Present,
}

fn found(path: &Path) -> Result<Found, Error> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => Ok(Found::Empty),
        Ok(_) => Ok(Found::Present),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
    }
}

/// A journal being created: its database beside its final name until it is complete.
fn creating_path(journal: &Path) -> PathBuf {
    sibling(journal, ".creating")
}

/// The journal id recorded in the database at `path`, if it has one.
fn recorded_id(path: &Path) -> Option<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.query_row(
        "SELECT value FROM meta WHERE name = 'journal_id'",
        [],
        |r| r.get::<_, String>(0),
    )
    .ok()
}

impl Journal {
    /// Opens the journal at `path` for `operation`, creating it (and its key file) when
    /// neither exists. The journal's lock is taken first and held until the journal is
    /// dropped: another run on it fails with [`Error::Locked`] at once.
    ///
    /// Refused ([`Error::Journal`]): a journal of another operation or shard; one
    /// without its key file, or whose key file belongs to another journal or is readable
    /// by others; one that is missing, empty or damaged beside its key file.
    pub fn open(path: &Path, operation: &str, shard: &str) -> Result<Self, Error> {
        let lock = Arc::new(JournalLock::take(path)?);
        let keys_path = key_path(path);
        let key_found = found(&keys_path)? != Found::Missing;
        let keys = match (key_found, found(path)?) {
            (false, Found::Missing) => Self::create(path, &keys_path, operation, shard)?,
            (false, _) => {
                return Err(Error::journal(format!(
                    "the journal's key file {} is missing; without it the journal {} cannot be used (its rows are sealed under that key): restore the key file, or use another --journal for a new batch",
                    keys_path.display(),
                    path.display()
                )));
            }
            (true, state) => {
                let keys = crate::keyfile::read(&keys_path)?;
                if state != Found::Present {
                    Self::finish_creation(path, &keys, state)?;
                }
                keys
            }
        };
        if let Some(op) = &keys.operation
            && op != operation
        {
            return Err(Error::journal(format!(
                "the journal {} was written for `{op}`, not `{operation}`: use another --journal",
                path.display()
            )));
        }
        let conn = Connection::open(path).map_err(|e| crate::error::sqlite(Some(path), e))?;
        let journal = Self {
            conn,
            path: Some(path.to_owned()),
            hmac: keys.hmac.clone(),
            seal: keys.seal.clone(),
            input_rows: Arc::new(AtomicU64::new(u64::MAX)),
            lock: Some(lock),
        };
        journal.check_intact()?;
        journal.init(operation, shard, keys.journal_id.as_deref())?;
        Ok(journal)
    }

    /// Creates a new journal and its key file (the caller holds the lock): the database
    /// complete beside its final name, then the key file, then the database renamed into
    /// place. A crash between the last two leaves a complete database that the next
    /// open puts in place ([`Journal::finish_creation`]).
    fn create(path: &Path, keys_path: &Path, operation: &str, shard: &str) -> Result<Keys, Error> {
        let creating = creating_path(path);
        for stale in [
            creating.clone(),
            sibling(&creating, "-journal"),
            sibling(keys_path, ".creating"),
        ] {
            let _ = std::fs::remove_file(stale);
        }
        let keys = Keys::generate(operation)?;
        let io = |e: std::io::Error| {
            Error::io(format!("cannot create the journal {}", path.display()), e)
        };
        create_private(&creating).map_err(io)?;
        {
            let conn =
                Connection::open(&creating).map_err(|e| crate::error::sqlite(Some(path), e))?;
            let journal = Self {
                conn,
                path: None,
                hmac: keys.hmac.clone(),
                seal: keys.seal.clone(),
                input_rows: Arc::new(AtomicU64::new(u64::MAX)),
                lock: None,
            };
            // Rollback journal while it is created (no `-wal` file to carry along).
            journal.schema("DELETE")?;
            journal.init(operation, shard, keys.journal_id.as_deref())?;
        }
        std::fs::File::open(&creating)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        crate::keyfile::write(keys_path, &keys)?;
        std::fs::rename(&creating, path).map_err(io)?;
        crate::keyfile::sync_dir(path).map_err(io)?;
        Ok(keys)
    }

    /// The journal is missing or empty beside its key file: finishes a creation that
    /// was cut short (its complete database is still beside the final name, with the
    /// key file's journal id), or refuses.
    fn finish_creation(path: &Path, keys: &Keys, state: Found) -> Result<(), Error> {
        let creating = creating_path(path);
        if let Some(id) = &keys.journal_id
            && creating.exists()
            && recorded_id(&creating).as_ref() == Some(id)
        {
            let io = |e: std::io::Error| {
                Error::io(format!("cannot create the journal {}", path.display()), e)
            };
            std::fs::rename(&creating, path).map_err(io)?;
            crate::keyfile::sync_dir(path).map_err(io)?;
            return Ok(());
        }
        let what = if state == Found::Empty {
            "is empty"
        } else {
            "is missing"
        };
        Err(Error::journal(format!(
            "the journal {} {what} but its key file {} is there: a journal is never started afresh beside its key (every row it answered would be paid again). Restore the journal from a copy; or, to start a new batch on purpose, use another --journal (or remove the key file)",
            path.display(),
            key_path(path).display()
        )))
    }

    /// Refuses a damaged database before anything is planned or sent.
    fn check_intact(&self) -> Result<(), Error> {
        let path = self.path.as_deref();
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| crate::error::sqlite(path, e))?;
        if verdict != "ok" {
            return Err(Error::journal(format!(
                "the journal {} is damaged ({verdict}); it is never started afresh in its place: restore it from a copy, or start a new batch with another --journal (rows it answered would be paid again)",
                path.map_or_else(String::new, |p| p.display().to_string())
            )));
        }
        Ok(())
    }

    /// A scratch journal (a dry run with no journal on disk yet): SQLite's private
    /// temporary database, spilled to a temporary file beyond its page cache (so memory
    /// stays flat however long the input) and deleted when closed.
    pub fn scratch(operation: &str, shard: &str) -> Result<Self, Error> {
        let journal = Self {
            conn: Connection::open("").map_err(db)?,
            path: None,
            hmac: HmacKey::generate()?,
            seal: SealingKey::generate()?,
            input_rows: Arc::new(AtomicU64::new(u64::MAX)),
            lock: None,
        };
        journal.init(operation, shard, None)?;
        Ok(journal)
    }

    /// Another connection to the same database (the sender reads while the writer
    /// writes), with the same keys, under the same lock.
    pub fn reopen(&self) -> Result<Self, Error> {
        let path = self
            .path
            .as_ref()
            .ok_or_else(|| Error::journal("a scratch journal cannot be reopened"))?;
        let conn = Connection::open(path).map_err(|e| crate::error::sqlite(Some(path), e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db)?;
        Ok(Self {
            conn,
            path: self.path.clone(),
            hmac: self.hmac.clone(),
            seal: self.seal.clone(),
            input_rows: self.input_rows.clone(),
            lock: self.lock.clone(),
        })
    }

    /// The database file (`None` for a scratch journal).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Records how many data rows the input has now (rows past it are left out of
    /// counts and output).
    pub fn set_input_rows(&self, rows: u64) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('input_rows', ?1)",
                [rows.to_string()],
            )
            .map_err(db)?;
        self.input_rows.store(rows, Ordering::Relaxed);
        Ok(())
    }

    /// The data rows of the input as last planned (`u64::MAX` before any plan).
    pub fn input_rows(&self) -> u64 {
        self.input_rows.load(Ordering::Relaxed)
    }

    /// The row bound of counts and output, as an SQL integer.
    fn bound(&self) -> i64 {
        i64::try_from(self.input_rows()).unwrap_or(i64::MAX)
    }

    fn schema(&self, mode: &str) -> Result<(), Error> {
        self.conn
            .execute_batch(&format!(
                "PRAGMA journal_mode={mode};
                 PRAGMA synchronous=FULL;
                 CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS rows (
                   row INTEGER PRIMARY KEY,
                   input BLOB NOT NULL,
                   state TEXT NOT NULL,
                   of INTEGER,
                   found INTEGER,
                   charged TEXT,
                   kind TEXT,
                   retryable INTEGER,
                   rid TEXT,
                   attempts INTEGER NOT NULL DEFAULT 0
                 );
                 CREATE TABLE IF NOT EXISTS outcomes (row INTEGER PRIMARY KEY, data BLOB NOT NULL);
                 CREATE INDEX IF NOT EXISTS rows_input ON rows(input);"
            ))
            .map_err(|e| crate::error::sqlite(self.path.as_deref(), e))
    }

    fn init(&self, operation: &str, shard: &str, journal_id: Option<&str>) -> Result<(), Error> {
        self.schema("WAL")?;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db)?;
        let check = self.seal.seal(b"key-check", b"credkit batch journal")?;
        let mut entries = vec![
            ("version", VERSION.to_owned()),
            ("operation", operation.to_owned()),
            ("shard", shard.to_owned()),
            ("key_check", STANDARD.encode(check)),
        ];
        if let Some(id) = journal_id {
            entries.push(("journal_id", id.to_owned()));
        }
        for (name, value) in entries {
            let existing: Option<String> = self
                .conn
                .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?;
            match existing {
                None => {
                    self.conn
                        .execute(
                            "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                            params![name, value],
                        )
                        .map_err(db)?;
                }
                Some(old) if name == "key_check" => {
                    let opens = STANDARD
                        .decode(old.trim())
                        .ok()
                        .and_then(|b| self.seal.open(b"key-check", &b))
                        .is_some();
                    if !opens {
                        return Err(Error::journal(
                            "the journal's key file does not belong to this journal (another batch's key?): restore the right key file",
                        ));
                    }
                }
                Some(old) if name == "journal_id" && old != value => {
                    return Err(Error::journal(
                        "the journal's key file belongs to another journal: restore the right key file",
                    ));
                }
                Some(old) if old != value => {
                    return Err(Error::journal(format!(
                        "the journal was written for {name} `{old}`, not `{value}`: use another --journal"
                    )));
                }
                Some(_) => {}
            }
        }
        let rows: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE name = 'input_rows'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if let Some(n) = rows.and_then(|r| r.parse::<u64>().ok()) {
            self.input_rows.store(n, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The keyed digest of a row's input (never the input itself).
    pub fn input_key(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.hmac.tag(parts)
    }

    /// `synchronous=FULL` (an `fsync` at every commit) or `NORMAL` (WAL: on disk against
    /// a crash of the process; against one of the machine at the next full commit).
    pub fn set_full_sync(&self, full: bool) -> Result<(), Error> {
        let mode = if full { "FULL" } else { "NORMAL" };
        self.conn
            .execute_batch(&format!("PRAGMA synchronous={mode}"))
            .map_err(db)
    }

    /// Starts a transaction (plans are written in batches of rows).
    pub fn begin(&self) -> Result<(), Error> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    /// Commits the transaction.
    pub fn commit(&self) -> Result<(), Error> {
        self.conn.execute_batch("COMMIT").map_err(db)
    }

    /// Abandons the transaction (a dry run).
    pub fn rollback(&self) -> Result<(), Error> {
        self.conn.execute_batch("ROLLBACK").map_err(db)
    }

    /// At the start of a run: rows left `sending` by a dead process become `unknown`
    /// (and `pending` again with `resend_unknown`); failures that cost nothing and that a
    /// later run may escape (retryable kinds, or the kinds that stopped the run) become
    /// `pending`.
    pub fn resume(&self, resend_unknown: bool) -> Result<u64, Error> {
        let unknown = self
            .conn
            .execute(
                "UPDATE rows SET state = 'unknown' WHERE state = 'sending'",
                [],
            )
            .map_err(db)?;
        let stop = STOP_KINDS
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(",");
        self.conn
            .execute(
                &format!(
                    "UPDATE rows SET state = 'pending'
                     WHERE state = 'failed' AND charged = 'no' AND (retryable = 1 OR kind IN ({stop}))"
                ),
                [],
            )
            .map_err(db)?;
        if resend_unknown {
            self.conn
                .execute(
                    "UPDATE rows SET state = 'pending' WHERE state = 'unknown'",
                    [],
                )
                .map_err(db)?;
        }
        Ok(unknown as u64)
    }

    /// The state and input digest of `row`, if planned before.
    pub fn get(&self, row: u64) -> Result<Option<(State, [u8; 32])>, Error> {
        self.conn
            .prepare_cached("SELECT state, input FROM rows WHERE row = ?1")
            .map_err(db)?
            .query_row([row as i64], |r| {
                let state: String = r.get(0)?;
                let input: Vec<u8> = r.get(1)?;
                Ok((state, input))
            })
            .optional()
            .map_err(db)?
            .map(|(state, input)| {
                let state = State::parse(&state)
                    .ok_or_else(|| Error::journal(format!("journal: unknown state `{state}`")))?;
                let input: [u8; 32] = input
                    .try_into()
                    .map_err(|_| Error::journal("journal: a row's input digest is damaged"))?;
                Ok((state, input))
            })
            .transpose()
    }

    /// The first row before `row` with the same input that is (or will be) sent.
    pub fn original_of(&self, input: &[u8; 32], row: u64) -> Result<Option<u64>, Error> {
        self.conn
            .prepare_cached(
                "SELECT row FROM rows WHERE input = ?1 AND row < ?2
                 AND state NOT IN ('invalid', 'duplicate') ORDER BY row LIMIT 1",
            )
            .map_err(db)?
            .query_row(params![&input[..], row as i64], |r| r.get::<_, i64>(0))
            .optional()
            .map_err(db)
            .map(|r| r.map(|n| n as u64))
    }

    /// Plans a new row: `Pending`, `Invalid` (with its error) or `Duplicate` of `of`.
    pub fn plan(
        &self,
        row: u64,
        input: &[u8; 32],
        state: State,
        of: Option<u64>,
        outcome: Option<&str>,
    ) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO rows (row, input, state, of, charged) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db)?
            .execute(params![
                row as i64,
                &input[..],
                state.as_str(),
                of.map(|o| o as i64),
                (state == State::Invalid || state == State::Duplicate).then_some("no"),
            ])
            .map_err(db)?;
        if let Some(outcome) = outcome {
            self.put_outcome(row, outcome)?;
        }
        Ok(())
    }

    /// Forgets a row (an invalid row fixed since: it is planned afresh).
    pub fn forget(&self, row: u64) -> Result<(), Error> {
        for table in ["rows", "outcomes"] {
            self.conn
                .execute(&format!("DELETE FROM {table} WHERE row = ?1"), [row as i64])
                .map_err(db)?;
        }
        Ok(())
    }

    /// Answered rows with and without a record.
    pub fn found_counts(&self) -> Result<(u64, u64), Error> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(found = 1), 0), COALESCE(SUM(found = 0), 0) FROM rows WHERE state = 'answered' AND row <= ?1",
                [self.bound()],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(db)
    }

    /// Answered rows that carried a licence status, by status (`expired`), in name order.
    pub fn licence_status_counts(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT kind, COUNT(*) FROM rows WHERE state = 'answered' AND kind IS NOT NULL AND row <= ?1 GROUP BY kind ORDER BY kind",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([self.bound()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    /// Pending rows after `after`, in order, at most `limit`, with their input digests.
    pub fn pending_after(&self, after: u64, limit: u32) -> Result<Vec<(u64, [u8; 32])>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT row, input FROM rows WHERE state = 'pending' AND row > ?1 AND row <= ?3 ORDER BY row LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![after as i64, limit, self.bound()], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (row, input) = r.map_err(db)?;
            let input: [u8; 32] = input
                .try_into()
                .map_err(|_| Error::journal("journal: a row's input digest is damaged"))?;
            out.push((row, input));
        }
        Ok(out)
    }

    /// Marks rows `sending` (the caller commits before their requests leave).
    pub fn mark_sending(&self, row: u64) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "UPDATE rows SET state = 'sending', attempts = attempts + 1 WHERE row = ?1",
            )
            .map_err(db)?
            .execute([row as i64])
            .map_err(db)?;
        Ok(())
    }

    /// Records a call's outcome.
    pub fn record(&self, row: u64, record: &Record) -> Result<(), Error> {
        let sealed = self.sealer().seal(row, &record.outcome)?;
        self.record_sealed(row, record, &sealed)
    }

    /// Records a call's outcome already sealed with [`Journal::sealer`] (the sender
    /// seals on its tasks, so the writer thread only writes).
    pub fn record_sealed(&self, row: u64, record: &Record, sealed: &[u8]) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "UPDATE rows SET state = ?2, found = ?3, charged = ?4, kind = ?5, retryable = ?6, rid = ?7 WHERE row = ?1",
            )
            .map_err(db)?
            .execute(params![
                row as i64,
                record.state.as_str(),
                record.found,
                record.charged,
                record.kind.or(record.licence_status),
                record.retryable,
                record.request_id,
            ])
            .map_err(db)?;
        self.put_sealed(row, sealed)
    }

    /// Stores a row's outcome, sealed, in its own table (the row table stays small, so
    /// state changes rewrite few pages).
    fn put_outcome(&self, row: u64, outcome: &str) -> Result<(), Error> {
        let sealed = self.sealer().seal(row, outcome)?;
        self.put_sealed(row, &sealed)
    }

    fn put_sealed(&self, row: u64, sealed: &[u8]) -> Result<(), Error> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO outcomes (row, data) VALUES (?1, ?2)")
            .map_err(db)?
            .execute(params![row as i64, sealed])
            .map_err(db)?;
        Ok(())
    }

    /// What seals this journal's outcomes (cheap to clone).
    pub fn sealer(&self) -> Sealer {
        Sealer {
            key: self.seal.clone(),
        }
    }

    fn open_outcome(&self, row: u64, sealed: &[u8]) -> Result<String, Error> {
        let plain = self
            .seal
            .open(&row.to_be_bytes(), sealed)
            .ok_or_else(|| Error::journal(format!("journal: row {row}'s outcome does not open")))?;
        String::from_utf8(plain)
            .map_err(|_| Error::journal(format!("journal: row {row}'s outcome is damaged")))
    }

    /// Counts of rows by state.
    pub fn counts(&self) -> Result<Vec<(State, u64)>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM rows WHERE row <= ?1 GROUP BY state")
            .map_err(db)?;
        let rows = stmt
            .query_map([self.bound()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (state, n) = r.map_err(db)?;
            if let Some(s) = State::parse(&state) {
                out.push((s, n as u64));
            }
        }
        Ok(out)
    }

    /// Charged calls recorded (answers and errors with `charged: yes`).
    pub fn charged(&self) -> Result<u64, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM rows WHERE charged = 'yes' AND state IN ('answered', 'failed') AND row <= ?1",
                [self.bound()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db)
    }

    /// Charged calls by the outcome label of `credkit_calls_total`: answered (found),
    /// not found, error.
    pub fn charged_by_outcome(&self) -> Result<(u64, u64, u64), Error> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(state = 'answered' AND found = 1), 0),
                        COALESCE(SUM(state = 'answered' AND found = 0), 0),
                        COALESCE(SUM(state = 'failed'), 0)
                 FROM rows WHERE charged = 'yes' AND row <= ?1",
                [self.bound()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .map_err(db)
    }

    /// The first `limit` invalid rows with their reasons.
    pub fn first_invalid(&self, limit: u32) -> Result<Vec<(u64, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.row, o.data FROM rows r LEFT JOIN outcomes o ON o.row = r.row
                 WHERE r.state = 'invalid' AND r.row <= ?2 ORDER BY r.row LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![limit, self.bound()], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<Vec<u8>>>(1)?))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (row, sealed) = r.map_err(db)?;
            let reason = match sealed {
                Some(s) => serde_json::from_str::<serde_json::Value>(&self.open_outcome(row, &s)?)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "invalid".to_owned()),
                None => "invalid".to_owned(),
            };
            out.push((row, reason));
        }
        Ok(out)
    }

    /// One row, its outcome opened.
    pub fn stored(&self, row: u64) -> Result<Option<Stored>, Error> {
        let raw = self
            .conn
            .prepare_cached(
                "SELECT r.row, r.state, r.of, r.found, r.charged, r.rid, r.kind, o.data FROM rows r
                 LEFT JOIN outcomes o ON o.row = r.row WHERE r.row = ?1",
            )
            .map_err(db)?
            .query_row([row as i64], raw_stored)
            .optional()
            .map_err(db)?;
        raw.map(|r| self.finish_stored(r)).transpose()
    }

    /// Every row in order, outcomes opened, `chunk` rows at a time (memory stays flat).
    pub fn for_each(&self, mut f: impl FnMut(Stored) -> Result<(), Error>) -> Result<(), Error> {
        let mut after = 0i64;
        loop {
            let batch = {
                let mut stmt = self
                    .conn
                    .prepare_cached(
                        "SELECT r.row, r.state, r.of, r.found, r.charged, r.rid, r.kind, o.data FROM rows r
                         LEFT JOIN outcomes o ON o.row = r.row WHERE r.row > ?1 AND r.row <= ?2 ORDER BY r.row LIMIT 2000",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![after, self.bound()], raw_stored)
                    .map_err(db)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(db)?
            };
            if batch.is_empty() {
                return Ok(());
            }
            for raw in batch {
                after = raw.0;
                f(self.finish_stored(raw)?)?;
            }
        }
    }

    fn finish_stored(&self, raw: RawStored) -> Result<Stored, Error> {
        let (row, state, of, found, charged, request_id, kind, outcome) = raw;
        let row = row as u64;
        let state = State::parse(&state)
            .ok_or_else(|| Error::journal(format!("journal: unknown state `{state}`")))?;
        Ok(Stored {
            row,
            state,
            of: of.map(|o| o as u64),
            found,
            charged,
            request_id,
            licence_status: kind.filter(|_| state == State::Answered),
            outcome: outcome.map(|o| self.open_outcome(row, &o)).transpose()?,
        })
    }
}

type RawStored = (
    i64,
    String,
    Option<i64>,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
);

fn raw_stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawStored> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cred-batch-journal-{}-{name}-{}",
            std::process::id(),
            cred_core::now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("batch.journal")
    }

    #[test]
    fn rows_round_trip_sealed_and_states_resume() {
        let path = temp("roundtrip");
        let j = Journal::open(&path, "jumdata credential", "all").unwrap();
        let k1 = j.input_key(&[b"321083197812162119"]);
        j.plan(1, &k1, State::Pending, None, None).unwrap();
        j.plan(2, &k1, State::Duplicate, Some(1), None).unwrap();
        let reason =
            serde_json::json!({"error": {"message": "idcard: bad check digit"}}).to_string();
        j.plan(
            3,
            &j.input_key(&[b"x"]),
            State::Invalid,
            None,
            Some(&reason),
        )
        .unwrap();
        assert_eq!(j.original_of(&k1, 2).unwrap(), Some(1));
        assert_eq!(j.original_of(&k1, 1).unwrap(), None);
        j.mark_sending(1).unwrap();
        drop(j);
        // The process died with row 1 in flight.
        let j = Journal::open(&path, "jumdata credential", "all").unwrap();
        assert_eq!(j.resume(false).unwrap(), 1);
        assert_eq!(j.get(1).unwrap().unwrap().0, State::Unknown);
        assert_eq!(
            j.first_invalid(5).unwrap(),
            vec![(3, "idcard: bad check digit".to_owned())]
        );
        j.resume(true).unwrap();
        assert_eq!(j.get(1).unwrap().unwrap().0, State::Pending);
        let record = Record {
            state: State::Answered,
            found: Some(true),
            charged: "yes",
            kind: None,
            licence_status: None,
            retryable: false,
            request_id: Some("r1".to_owned()),
            outcome: serde_json::json!({"name": "王小明"}).to_string(),
        };
        j.record(1, &record).unwrap();
        let stored = j.stored(1).unwrap().unwrap();
        let outcome: serde_json::Value = serde_json::from_str(&stored.outcome.unwrap()).unwrap();
        assert_eq!(outcome["name"], "王小明");
        assert_eq!(stored.request_id.as_deref(), Some("r1"));
        assert_eq!(j.charged().unwrap(), 1);
        // Nothing readable at rest: neither the ID number nor the answer.
        drop(j);
        let raw = std::fs::read(&path).unwrap();
        let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
        for bytes in [&raw, &wal] {
            for needle in [
                "321083197812162119".as_bytes(),
                "王小明".as_bytes(),
                b"bad check digit",
            ] {
                assert!(!bytes.windows(needle.len()).any(|w| w == needle));
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [path.clone(), key_path(&path)] {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
        }
        // Another operation, or a lost key file: refused.
        assert!(Journal::open(&path, "juhe qualification", "all").is_err());
        assert!(Journal::open(&path, "jumdata credential", "1/2").is_err());
        std::fs::remove_file(key_path(&path)).unwrap();
        let err = Journal::open(&path, "jumdata credential", "all").unwrap_err();
        assert!(err.to_string().contains("key file"), "{err}");
    }

    #[test]
    fn failures_that_cost_nothing_are_retried_on_resume() {
        let j = Journal::scratch("op", "all").unwrap();
        for (row, kind, charged, retryable) in [
            (1, "throttled", "no", true),
            (2, "insufficient-balance", "no", false),
            (3, "invalid-argument", "no", false),
            (4, "unavailable", "unknown", true),
            (5, "internal", "yes", false),
        ] {
            j.plan(
                row,
                &j.input_key(&[&row.to_be_bytes()]),
                State::Pending,
                None,
                None,
            )
            .unwrap();
            let record = Record {
                state: State::Failed,
                found: None,
                charged,
                kind: Some(kind),
                licence_status: None,
                retryable,
                request_id: None,
                outcome: serde_json::json!({"error": {}}).to_string(),
            };
            j.record(row, &record).unwrap();
        }
        j.resume(false).unwrap();
        let states: Vec<State> = (1..=5).map(|r| j.get(r).unwrap().unwrap().0).collect();
        assert_eq!(
            states,
            [
                State::Pending,
                State::Pending,
                State::Failed,
                State::Failed,
                State::Failed
            ]
        );
    }
}
