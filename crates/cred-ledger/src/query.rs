//! `find` (every call about one subject) and `report` (calls, outcomes and charges by
//! caller, operation or purpose over a period).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::entry::Subject;
use crate::error::Error;
use crate::record::{self, Record};
use crate::store::{self, COLUMNS, Paths};

/// Every record about `subject`, oldest first: the answer to a person's request to know
/// (PIPL Art. 45). The value is turned into its keyed HMAC and compared with the stored
/// ones; it is never written.
pub fn find(path: &Path, key: Option<&Path>, subject: &Subject) -> Result<Vec<Record>, Error> {
    let paths = Paths::new(path, key);
    let (conn, keys) = store::open_for_reading(&paths)?;
    let kind = subject.kind().as_str();
    let needle = format!(
        "{kind}:{}",
        record::subject_tag(&keys, kind, subject.value())
    );
    let failed = |e| Error::db("cannot read the ledger", &paths.db, e);
    let mut statement = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM records WHERE instr(' ' || subjects || ' ', ?1) > 0 ORDER BY seq"
        ))
        .map_err(failed)?;
    let rows = statement
        .query_map([format!(" {needle} ")], store::row)
        .map_err(failed)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(failed)
}

/// What [`report`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupBy {
    /// The caller (a gateway key's name, `cli:<user>`, `batch:<user>`).
    Caller,
    /// `provider operation`.
    Operation,
    /// The purpose given.
    Purpose,
}

impl GroupBy {
    /// The kind a name (`caller`, `operation`, `purpose`) names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "caller" => Some(GroupBy::Caller),
            "operation" => Some(GroupBy::Operation),
            "purpose" => Some(GroupBy::Purpose),
            _ => None,
        }
    }
}

/// One group of a [`report`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportRow {
    /// The caller, operation or purpose (`-`: none given).
    pub group: String,
    /// Calls recorded.
    pub calls: u64,
    /// Calls the provider charged for.
    pub charged: u64,
    /// Calls whose charge is unknown (a paid call whose answer never arrived).
    pub charge_unknown: u64,
    /// Answers with a record.
    pub found: u64,
    /// Answers without one.
    pub not_found: u64,
    /// Errors.
    pub errors: u64,
}

/// Calls in `[since_ms, until_ms)` (milliseconds since the Unix epoch), grouped by
/// `by`, in the group's order.
pub fn report(
    path: &Path,
    key: Option<&Path>,
    since_ms: i64,
    until_ms: i64,
    by: GroupBy,
) -> Result<Vec<ReportRow>, Error> {
    let paths = Paths::new(path, key);
    let (conn, _keys) = store::open_for_reading(&paths)?;
    let failed = |e| Error::db("cannot read the ledger", &paths.db, e);
    let mut statement = conn
        .prepare(
            "SELECT caller, provider, operation, purpose, outcome, charged FROM records WHERE at_ms >= ?1 AND at_ms < ?2",
        )
        .map_err(failed)?;
    let mut rows = statement.query([since_ms, until_ms]).map_err(failed)?;
    let mut groups: BTreeMap<String, ReportRow> = BTreeMap::new();
    while let Some(row) = rows.next().map_err(failed)? {
        let caller: String = row.get(0).map_err(failed)?;
        let provider: String = row.get(1).map_err(failed)?;
        let operation: String = row.get(2).map_err(failed)?;
        let purpose: Option<String> = row.get(3).map_err(failed)?;
        let outcome: String = row.get(4).map_err(failed)?;
        let charged: String = row.get(5).map_err(failed)?;
        let group = match by {
            GroupBy::Caller => caller,
            GroupBy::Operation => format!("{provider} {operation}"),
            GroupBy::Purpose => purpose.unwrap_or_else(|| "-".to_owned()),
        };
        let entry = groups.entry(group.clone()).or_insert_with(|| ReportRow {
            group,
            ..ReportRow::default()
        });
        entry.calls += 1;
        match charged.as_str() {
            "yes" => entry.charged += 1,
            "unknown" => entry.charge_unknown += 1,
            _ => {}
        }
        match crate::entry::Outcome::parse(&outcome) {
            Some(crate::entry::Outcome::Found) => entry.found += 1,
            Some(crate::entry::Outcome::NotFound) => entry.not_found += 1,
            _ => entry.errors += 1,
        }
    }
    Ok(groups.into_values().collect())
}
