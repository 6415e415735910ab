//! The ledger's files: the SQLite database (WAL, owner-only), its key, and its head.
//!
//! Architecture Invariant: the ledger is never started afresh where one was. A database
//! without its key, a key without its database, or a key of another ledger is an error;
//! only a path with neither file creates a new ledger (both owner-only).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::Error;
use crate::key::{self, Keys};
use crate::record::{self, Record};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    caller TEXT NOT NULL,
    purpose TEXT,
    provider TEXT NOT NULL,
    operation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error_kind TEXT,
    charged TEXT NOT NULL,
    request_id TEXT,
    idempotency_key_hmac TEXT,
    latency_us INTEGER NOT NULL,
    subjects TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_at ON records (at_ms);
";

/// The columns of [`Record`], in its order.
pub(crate) const COLUMNS: &str = "seq, at_ms, caller, purpose, provider, operation, outcome, error_kind, charged, request_id, idempotency_key_hmac, latency_us, subjects, mac";

/// A ledger's paths.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) db: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) head: PathBuf,
}

impl Paths {
    pub(crate) fn new(db: &Path, key: Option<&Path>) -> Self {
        Self {
            db: db.to_owned(),
            key: key.map_or_else(|| key::key_path(db), Path::to_owned),
            head: key::head_path(db),
        }
    }
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Opens the ledger at `paths` for writing, creating it (and its key) when neither the
/// database nor the key exists.
pub(crate) fn open_for_writing(paths: &Paths, fsync: bool) -> Result<(Connection, Keys), Error> {
    // Two processes opening a new ledger at once: one creates it, the other opens what
    // the first created (never a key without its ledger, never two keys).
    let lock_path = key::sibling(&paths.db, ".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let lock = match options.open(&lock_path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Setup(format!(
                "cannot create the ledger {}: its directory does not exist",
                paths.db.display()
            )));
        }
        Err(e) => return Err(Error::io("cannot open the ledger's lock", &lock_path, e)),
    };
    lock.lock()
        .map_err(|e| Error::io("cannot lock the ledger", &lock_path, e))?;
    let opened = open_locked(paths, fsync);
    drop(lock);
    opened
}

fn open_locked(paths: &Paths, fsync: bool) -> Result<(Connection, Keys), Error> {
    let (db, key) = (exists(&paths.db), exists(&paths.key));
    let keys = match (db, key) {
        (false, false) => {
            if let Some(dir) = paths.db.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                return Err(Error::Setup(format!(
                    "cannot create the ledger {}: the directory {} does not exist",
                    paths.db.display(),
                    dir.display()
                )));
            }
            let keys = key::create(&paths.key)?;
            create_owner_only(&paths.db)?;
            keys
        }
        (true, true) => key::read(&paths.key)?,
        (true, false) => {
            return Err(Error::Setup(format!(
                "the ledger {} exists but its key {} does not: without the key it can be neither written nor verified (restore the key, or give its path with --audit-key)",
                paths.db.display(),
                paths.key.display()
            )));
        }
        (false, true) => {
            return Err(Error::Setup(format!(
                "the ledger {} does not exist but a ledger key does at {}: a mistyped path, or a ledger that was moved or deleted; a new ledger is never started beside an old key",
                paths.db.display(),
                paths.key.display()
            )));
        }
    };
    let conn = Connection::open(&paths.db)
        .map_err(|e| Error::db("cannot open the ledger", &paths.db, e))?;
    let pragmas = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA busy_timeout = 10000;",
        if fsync { "FULL" } else { "NORMAL" }
    );
    conn.execute_batch(&pragmas)
        .and_then(|()| conn.execute_batch(SCHEMA))
        .map_err(|e| Error::db("cannot prepare the ledger", &paths.db, e))?;
    bind_key(&conn, paths, &keys)?;
    Ok((conn, keys))
}

/// Opens an existing ledger read-only, with its key.
pub(crate) fn open_for_reading(paths: &Paths) -> Result<(Connection, Keys), Error> {
    let (conn, keys, matches) = open_unchecked(paths)?;
    if !matches {
        return Err(Error::Setup(format!(
            "the key {} does not belong to the ledger {} (another ledger's key, or a replaced one)",
            paths.key.display(),
            paths.db.display()
        )));
    }
    Ok((conn, keys))
}

/// [`open_for_reading`], saying whether the key is the ledger's instead of refusing
/// one that is not (`verify` names the record that shows it).
pub(crate) fn open_unchecked(paths: &Paths) -> Result<(Connection, Keys, bool), Error> {
    if !exists(&paths.db) {
        return Err(Error::Setup(format!(
            "there is no ledger at {}",
            paths.db.display()
        )));
    }
    if !exists(&paths.key) {
        return Err(Error::Setup(format!(
            "the key of the ledger {} is missing (expected at {}; give another path with --key)",
            paths.db.display(),
            paths.key.display()
        )));
    }
    let keys = key::read(&paths.key)?;
    let conn = Connection::open_with_flags(&paths.db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::db("cannot open the ledger", &paths.db, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| Error::db("cannot open the ledger", &paths.db, e))?;
    let meta = read_meta(&conn, &paths.db)?;
    let matches = match check_meta(meta, paths, &keys) {
        Ok(()) => true,
        Err(Error::Setup(m)) if m.contains("does not belong") => false,
        Err(e) => return Err(e),
    };
    Ok((conn, keys, matches))
}

fn create_owner_only(path: &Path) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| Error::io("cannot create the ledger", path, e))
}

type Meta = (Option<String>, Option<String>);

fn read_meta(conn: &Connection, db: &Path) -> Result<Meta, Error> {
    let get = |name: &str| -> Result<Option<String>, Error> {
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| Error::db("cannot read the ledger", db, e))
    };
    Ok((get("ledger")?, get("key-check")?))
}

fn check_meta(meta: Meta, paths: &Paths, keys: &Keys) -> Result<(), Error> {
    match meta {
        (Some(id), Some(check)) if id == keys.ledger_id && check == keys.check => Ok(()),
        (Some(_), Some(_)) => Err(Error::Setup(format!(
            "the key {} does not belong to the ledger {} (another ledger's key, or a replaced one)",
            paths.key.display(),
            paths.db.display()
        ))),
        _ => Err(Error::Setup(format!(
            "{} is not a credkit ledger, or it is damaged (no ledger id)",
            paths.db.display()
        ))),
    }
}

/// Records the key's ledger id in a new database, or checks it in an existing one.
fn bind_key(conn: &Connection, paths: &Paths, keys: &Keys) -> Result<(), Error> {
    let meta = read_meta(conn, &paths.db)?;
    if meta == (None, None) {
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))
            .map_err(|e| Error::db("cannot read the ledger", &paths.db, e))?;
        if count > 0 {
            return Err(Error::Setup(format!(
                "{} holds records but no ledger id: it is damaged",
                paths.db.display()
            )));
        }
        conn.execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| {
                conn.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('format', '1'), ('ledger', ?1), ('key-check', ?2)",
                    params![keys.ledger_id, keys.check],
                )
            })
            .and_then(|_| conn.execute_batch("COMMIT"))
            .map_err(|e| Error::db("cannot initialise the ledger", &paths.db, e))?;
        return check_meta(read_meta(conn, &paths.db)?, paths, keys);
    }
    check_meta(meta, paths, keys)
}

/// Appends `entries` in one transaction after the ledger's last record; returns each
/// entry's seq and the new last (seq, MAC).
pub(crate) fn append(
    conn: &mut Connection,
    paths: &Paths,
    keys: &Keys,
    entries: &[crate::Entry],
) -> Result<(Vec<i64>, i64, [u8; 32]), Error> {
    let failed = |e| Error::db("cannot write to the ledger", &paths.db, e);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(failed)?;
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, mac FROM records ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(failed)?;
    let (mut seq, mut prev) = match last {
        None => (0, record::genesis(keys)),
        Some((seq, mac)) => (seq, decode_mac(&mac).unwrap_or([0; 32])),
    };
    let mut seqs = Vec::with_capacity(entries.len());
    {
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT INTO records ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))
            .map_err(failed)?;
        for entry in entries {
            seq += 1;
            let (r, mac) = Record::seal(entry, keys, seq, &prev);
            insert
                .execute(params![
                    r.seq,
                    r.at_ms,
                    r.caller,
                    r.purpose,
                    r.provider,
                    r.operation,
                    r.outcome,
                    r.error_kind,
                    r.charged,
                    r.request_id,
                    r.idempotency_key_hmac,
                    r.latency_us,
                    r.subjects,
                    r.mac
                ])
                .map_err(failed)?;
            seqs.push(seq);
            prev = mac;
        }
    }
    tx.commit().map_err(failed)?;
    Ok((seqs, seq, prev))
}

/// A MAC from its hex form.
pub(crate) fn decode_mac(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// Reads one stored row.
pub(crate) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        seq: r.get(0)?,
        at_ms: r.get(1)?,
        caller: r.get(2)?,
        purpose: r.get(3)?,
        provider: r.get(4)?,
        operation: r.get(5)?,
        outcome: r.get(6)?,
        error_kind: r.get(7)?,
        charged: r.get(8)?,
        request_id: r.get(9)?,
        idempotency_key_hmac: r.get(10)?,
        latency_us: r.get(11)?,
        subjects: r.get(12)?,
        mac: r.get(13)?,
    })
}
