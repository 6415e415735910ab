//! `verify`: walks the chain from its start, checks every record's MAC and place, then
//! the head, and names the first record that is wrong.

use std::path::Path;

use serde::Serialize;

use crate::error::Error;
use crate::head;
use crate::record;
use crate::store::{self, COLUMNS, Paths};

/// What is wrong with a ledger, at the first place it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// The first record that is wrong (or missing).
    pub seq: i64,
    /// What is wrong with it.
    pub what: String,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verification {
    /// Records read whose chain is whole (up to the problem, if any).
    pub verified: i64,
    /// The last record's seq in the database.
    pub last_seq: i64,
    /// The head's seq (`None`: no head file).
    pub head_seq: Option<i64>,
    /// Records after the head: committed by a writer that stopped before updating the
    /// head (a crash). Checked like the others; not a problem.
    pub after_head: i64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

impl Verification {
    /// Whether the ledger verified.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies the ledger at `path` with its key (`<ledger>.key` unless `key` says where):
/// every record's MAC over its fields and the previous record's MAC, the seqs without a
/// gap, and the head (written apart) against the last records. Detects an edited,
/// deleted, inserted or reordered record, a cut tail, and another key.
///
/// An error is returned when the ledger cannot be read at all; a ledger that reads but
/// does not verify is an `Ok` with a [`Problem`].
pub fn verify(path: &Path, key: Option<&Path>) -> Result<Verification, Error> {
    let paths = Paths::new(path, key);
    let (conn, keys, key_matches) = store::open_unchecked(&paths)?;
    let failed = |e| Error::db("cannot read the ledger", &paths.db, e);
    let (first_seq, last_seq): (Option<i64>, Option<i64>) = conn
        .query_row("SELECT MIN(seq), MAX(seq) FROM records", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(failed)?;
    let last_seq = last_seq.unwrap_or(0);
    let mut problem: Option<Problem> = if !key_matches {
        Some(Problem {
            seq: 1,
            what: format!(
                "the key {} is not this ledger's (another ledger's key, or a replaced one): no record verifies under it",
                paths.key.display()
            ),
        })
    } else {
        first_seq.filter(|&s| s < 1).map(|first| Problem {
            seq: 1,
            what: format!("record {first} is out of place (records start at 1)"),
        })
    };
    if problem.is_none() && last_seq > 0 {
        // Each stored MAC is a checkpoint: the chain is cut into segments verified side
        // by side, each from the MAC stored at its start, which the segment before it
        // verifies. The first problem is the one with the lowest seq.
        let parts = if last_seq >= SEGMENT_MIN * 2 {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 8)
        } else {
            1
        };
        let bounds: Vec<(i64, i64)> = (0..parts as i64)
            .map(|i| {
                (
                    last_seq * i / parts as i64,
                    last_seq * (i + 1) / parts as i64,
                )
            })
            .collect();
        let results: Vec<Result<Option<Problem>, Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .iter()
                .map(|&(after, upto)| {
                    let (paths, keys) = (&paths, &keys);
                    scope.spawn(move || verify_segment(paths, keys, after, upto))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Setup("a verifying thread failed".to_owned()))
                    })
                })
                .collect()
        });
        for result in results {
            if let Some(p) = result?
                && problem.as_ref().is_none_or(|q| p.seq < q.seq)
            {
                problem = Some(p);
            }
        }
    }
    let verified = problem.as_ref().map_or(last_seq, |p| (p.seq - 1).max(0));
    let head = match head::read(&paths.head) {
        Ok(head) => head,
        Err(Error::Setup(what)) if problem.is_none() => {
            problem = Some(Problem {
                seq: last_seq,
                what,
            });
            None
        }
        Err(Error::Setup(_)) => None,
        Err(e) => return Err(e),
    };
    let head_seq = head.as_ref().map(|h| h.seq);
    let mut after_head = 0;
    if problem.is_none() {
        problem = match &head {
            None if last_seq == 0 => None,
            None => Some(Problem {
                seq: last_seq,
                what: format!(
                    "the head {} is missing: without it a cut tail cannot be ruled out",
                    paths.head.display()
                ),
            }),
            Some(h) if !h.is_authentic(&keys) => Some(Problem {
                seq: h.seq,
                what: "the head's tag is wrong: it was edited, or written with another key"
                    .to_owned(),
            }),
            Some(h) if h.seq > last_seq => Some(Problem {
                seq: last_seq + 1,
                what: format!(
                    "records {} to {} are missing: the ledger ends at {last_seq} but its head says {} (the tail was cut)",
                    last_seq + 1,
                    h.seq,
                    h.seq
                ),
            }),
            Some(h) => {
                after_head = last_seq - h.seq;
                let mac_at_head = if h.seq == 0 {
                    Some(String::new())
                } else {
                    head_mac(&conn, h.seq).map_err(failed)?
                };
                match mac_at_head {
                    Some(mac) if h.seq == 0 || mac == h.mac => None,
                    _ => Some(Problem {
                        seq: h.seq,
                        what: format!(
                            "record {} is not the one the head names: the ledger was rewritten from there",
                            h.seq
                        ),
                    }),
                }
            }
        };
    }
    Ok(Verification {
        verified,
        last_seq,
        head_seq,
        after_head,
        problem,
    })
}

/// Ledgers shorter than twice this are verified by one thread.
const SEGMENT_MIN: i64 = 50_000;

/// Verifies records `after + 1 ..= upto`, starting from the MAC stored in record
/// `after` (the chain's start when `after` is 0); the first problem in the segment.
fn verify_segment(
    paths: &Paths,
    keys: &crate::key::Keys,
    after: i64,
    upto: i64,
) -> Result<Option<Problem>, Error> {
    let failed = |e| Error::db("cannot read the ledger", &paths.db, e);
    let conn = rusqlite::Connection::open_with_flags(
        &paths.db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(failed)?;
    let mut prev = if after == 0 {
        record::genesis(keys)
    } else {
        match head_mac(&conn, after)
            .map_err(failed)?
            .as_deref()
            .and_then(store::decode_mac)
        {
            Some(mac) => mac,
            // Missing or unreadable: the segment before this one names it.
            None => {
                return Ok(Some(Problem {
                    seq: after,
                    what: format!("record {after} is missing (deleted) or its MAC is unreadable"),
                }));
            }
        }
    };
    let mut statement = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM records WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
        ))
        .map_err(failed)?;
    let mut rows = statement.query([after, upto]).map_err(failed)?;
    let mut expected = after + 1;
    while let Some(row) = rows.next().map_err(failed)? {
        let r = store::row(row).map_err(failed)?;
        if r.seq != expected {
            return Ok(Some(Problem {
                seq: expected,
                what: format!(
                    "record {expected} is missing (deleted): the next record is {}",
                    r.seq
                ),
            }));
        }
        let mac = r.compute_mac(keys, &prev);
        if cred_core::digest::hex_lower(&mac) != r.mac {
            return Ok(Some(Problem {
                seq: r.seq,
                what: if r.seq == 1 {
                    "record 1 does not match its MAC: it was edited, or the ledger was written with another key".to_owned()
                } else {
                    format!(
                        "record {} does not match its MAC: it was edited, inserted, moved, or the record before it was removed",
                        r.seq
                    )
                },
            }));
        }
        prev = mac;
        expected += 1;
    }
    Ok((expected <= upto).then(|| Problem {
        seq: expected,
        what: format!("record {expected} is missing (deleted)"),
    }))
}

fn head_mac(conn: &rusqlite::Connection, seq: i64) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT mac FROM records WHERE seq = ?1", [seq], |r| {
        r.get(0)
    })
    .optional()
}

/// The ledger's current head, to keep elsewhere (`cred audit head`): with a copy kept
/// where the ledger's writers cannot change it, a later [`verify_against`] shows whether
/// the history up to it was rewritten.
pub fn current_head(path: &Path, key: Option<&Path>) -> Result<Option<head::Head>, Error> {
    let paths = Paths::new(path, key);
    let (_conn, keys) = store::open_for_reading(&paths)?;
    match head::read(&paths.head)? {
        Some(h) if !h.is_authentic(&keys) => Err(Error::Setup(format!(
            "the head {} does not verify under the ledger's key",
            paths.head.display()
        ))),
        other => Ok(other),
    }
}

/// Whether the record a head kept elsewhere names is still in the ledger, unchanged.
/// Run after [`verify`]: together they show the history up to `kept` was not rewritten.
pub fn verify_against(
    path: &Path,
    key: Option<&Path>,
    kept: &head::Head,
) -> Result<Option<Problem>, Error> {
    let paths = Paths::new(path, key);
    let (conn, keys) = store::open_for_reading(&paths)?;
    if !kept.is_authentic(&keys) {
        return Ok(Some(Problem {
            seq: kept.seq,
            what: "the kept head does not verify under this ledger's key (another ledger, or an edited copy)".to_owned(),
        }));
    }
    let mac =
        head_mac(&conn, kept.seq).map_err(|e| Error::db("cannot read the ledger", &paths.db, e))?;
    Ok(match mac {
        Some(mac) if mac == kept.mac => None,
        Some(_) => Some(Problem {
            seq: kept.seq,
            what: format!(
                "record {} differs from the kept head: the history up to it was rewritten",
                kept.seq
            ),
        }),
        None => Some(Problem {
            seq: kept.seq,
            what: format!(
                "record {} named by the kept head is gone: the ledger was cut or replaced",
                kept.seq
            ),
        }),
    })
}
