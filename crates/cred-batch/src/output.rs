//! The output: one line per row of the shard, in input order, written from the journal
//! (so a resumed run rewrites the answers of earlier runs without sending them again).
//!
//! JSON Lines: `{"row", "status", "found", "licence_status"?, "charged", "request_id",
//! "result" | "error"}`, with `result` and `error` in the shapes of the `cred` command's
//! `--json` (`licence_status` only on an answer that carried one: `revoked`, `expired`,
//! `restricted`); duplicates also carry `of` (the row that was sent). CSV flattens the same objects: nested fields
//! become dotted columns (`result.items.0.name`), and a cell that a spreadsheet would
//! run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::Error;

use crate::journal::{Journal, State, Stored, create_private};

/// The output's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutputFormat {
    /// One JSON object per line (the default).
    #[default]
    JsonLines,
    /// A header line, then one flattened row per line.
    Csv,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "json-lines" | "ndjson" => Ok(OutputFormat::JsonLines),
            "csv" => Ok(OutputFormat::Csv),
            _ => Err("must be jsonl or csv".to_owned()),
        }
    }
}

/// The output object of one stored row. `original` is the row a duplicate points at.
pub fn line(stored: &Stored, original: Option<&Stored>, provider: &str) -> Value {
    let mut obj = Map::new();
    obj.insert("row".into(), json!(stored.row));
    match stored.state {
        State::Duplicate => {
            let of = stored.of.unwrap_or(0);
            let mut copied = original
                .map(|o| line(o, None, provider))
                .unwrap_or_else(|| json!({}));
            obj.insert("status".into(), json!("duplicate"));
            obj.insert("of".into(), json!(of));
            obj.insert(
                "of_status".into(),
                copied.get("status").cloned().unwrap_or(Value::Null),
            );
            obj.insert(
                "found".into(),
                copied.get("found").cloned().unwrap_or(Value::Null),
            );
            if let Some(status) = copied.get("licence_status") {
                obj.insert("licence_status".into(), status.clone());
            }
            // This row itself cost nothing.
            obj.insert("charged".into(), json!(false));
            obj.insert(
                "request_id".into(),
                copied.get("request_id").cloned().unwrap_or(Value::Null),
            );
            for key in ["result", "error"] {
                if let Some(v) = copied.as_object_mut().and_then(|c| c.remove(key)) {
                    obj.insert(key.into(), v);
                }
            }
        }
        State::Answered => {
            obj.insert("status".into(), json!("answered"));
            obj.insert("found".into(), json!(stored.found));
            if let Some(status) = &stored.licence_status {
                obj.insert("licence_status".into(), json!(status));
            }
            obj.insert("charged".into(), charged(stored.charged.as_deref()));
            obj.insert("request_id".into(), json!(stored.request_id));
            obj.insert("result".into(), parsed(stored));
        }
        State::Invalid | State::Failed => {
            let outcome = parsed(stored);
            let error = outcome["error"].clone();
            obj.insert("status".into(), json!(stored.state.as_str()));
            obj.insert("found".into(), Value::Null);
            obj.insert(
                "charged".into(),
                if stored.state == State::Invalid {
                    json!(false)
                } else {
                    charged(stored.charged.as_deref())
                },
            );
            obj.insert("request_id".into(), error["request_id"].clone());
            obj.insert("error".into(), error);
        }
        State::Unknown | State::Sending => {
            obj.insert("status".into(), json!("unknown"));
            obj.insert("found".into(), Value::Null);
            obj.insert("charged".into(), Value::Null);
            obj.insert("request_id".into(), Value::Null);
            obj.insert(
                "error".into(),
                json!({
                    "provider": provider,
                    "kind": "unknown",
                    "code": null,
                    "message": "the request was in flight when the process stopped: whether it was answered (and charged) is unknown; it is not sent again unless --resend-unknown is given",
                    "retryable": false,
                    "charged": null,
                    "request_id": null,
                }),
            );
        }
        State::Pending => {
            obj.insert("status".into(), json!("skipped"));
            obj.insert("found".into(), Value::Null);
            obj.insert("charged".into(), json!(false));
            obj.insert("request_id".into(), Value::Null);
        }
    }
    Value::Object(obj)
}

fn parsed(stored: &Stored) -> Value {
    stored
        .outcome
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null)
}

/// An answered row's line, written straight from the stored text: the result is copied
/// as it is, not parsed and printed again. `None` for any other state.
fn answered_line(stored: &Stored, out: &mut impl Write) -> Option<Result<(), Error>> {
    if stored.state != State::Answered {
        return None;
    }
    let result = stored.outcome.as_deref()?;
    let head = match &stored.licence_status {
        None => json!({
            "row": stored.row,
            "status": "answered",
            "found": stored.found,
            "charged": charged(stored.charged.as_deref()),
            "request_id": stored.request_id,
        }),
        Some(status) => json!({
            "row": stored.row,
            "status": "answered",
            "found": stored.found,
            "licence_status": status,
            "charged": charged(stored.charged.as_deref()),
            "request_id": stored.request_id,
        }),
    }
    .to_string();
    // `{...}` without its closing brace, then `"result":<text>}`.
    let head = head.strip_suffix('}')?;
    Some(
        out.write_all(head.as_bytes())
            .and_then(|()| out.write_all(b",\"result\":"))
            .and_then(|()| out.write_all(result.as_bytes()))
            .and_then(|()| out.write_all(b"}\n"))
            .map_err(write_err),
    )
}

fn charged(c: Option<&str>) -> Value {
    match c {
        Some("yes") => json!(true),
        Some("no") => json!(false),
        _ => Value::Null,
    }
}

/// Rows written.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Written {
    /// Output lines (one per row of the shard).
    pub rows: u64,
}

/// Writes every row of `journal` (of the current input) to `path` (or stdout when
/// `None`) in `format`. A file is written beside its final name and renamed into place,
/// owner-only; a path that is the journal or one of its files is refused
/// ([`Error::Paths`]).
pub fn write(
    journal: &Journal,
    path: Option<&Path>,
    format: OutputFormat,
    provider: &str,
) -> Result<Written, Error> {
    let io =
        |what: &Path, e: std::io::Error| Error::io(format!("cannot write {}", what.display()), e);
    if let (Some(path), Some(journal_path)) = (path, journal.path()) {
        crate::paths::check(None, journal_path, Some(path))?;
    }
    match (path, format) {
        (Some(path), _) => {
            let temp = sibling(path, ".partial");
            let written = {
                let file = create_private(&temp).map_err(|e| io(&temp, e))?;
                let mut out = BufWriter::new(file);
                let n = match format {
                    OutputFormat::JsonLines => jsonl(journal, provider, &mut out)?,
                    OutputFormat::Csv => csv(journal, provider, &mut out, path)?,
                };
                out.flush().map_err(|e| io(&temp, e))?;
                out.get_ref().sync_all().map_err(|e| io(&temp, e))?;
                n
            };
            std::fs::rename(&temp, path).map_err(|e| io(path, e))?;
            Ok(written)
        }
        (None, OutputFormat::JsonLines) => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let n = jsonl(journal, provider, &mut out)?;
            let _ = out.flush();
            Ok(n)
        }
        (None, OutputFormat::Csv) => {
            let temp = std::env::temp_dir().join(format!(
                "cred-batch-{}-{}.csv",
                std::process::id(),
                cred_core::now_millis()
            ));
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let n = csv(journal, provider, &mut out, &temp)?;
            let _ = out.flush();
            Ok(n)
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("cannot write the output", e)
}

/// Every row's object, in order.
fn each_line(
    journal: &Journal,
    provider: &str,
    mut f: impl FnMut(Value) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut rows = 0u64;
    journal.for_each(|stored| {
        let original = match (stored.state, stored.of) {
            (State::Duplicate, Some(of)) => journal.stored(of)?,
            _ => None,
        };
        rows += 1;
        f(line(&stored, original.as_ref(), provider))
    })?;
    Ok(rows)
}

fn jsonl(journal: &Journal, provider: &str, out: &mut impl Write) -> Result<Written, Error> {
    let mut rows = 0u64;
    journal.for_each(|stored| {
        rows += 1;
        if let Some(done) = answered_line(&stored, out) {
            return done;
        }
        let original = match (stored.state, stored.of) {
            (State::Duplicate, Some(of)) => journal.stored(of)?,
            _ => None,
        };
        let value = line(&stored, original.as_ref(), provider);
        serde_json::to_writer(&mut *out, &value)
            .map_err(|e| Error::io("cannot write the output", e.into()))?;
        out.write_all(b"\n").map_err(write_err)
    })?;
    Ok(Written { rows })
}

/// CSV: the lines go to a private scratch file first (JSON Lines), whose columns are
/// collected, then each line is flattened under that header.
fn csv(
    journal: &Journal,
    provider: &str,
    out: &mut impl Write,
    near: &Path,
) -> Result<Written, Error> {
    let scratch = sibling(near, ".lines");
    let result = (|| {
        let mut columns: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let rows = {
            let file = create_private(&scratch).map_err(write_err)?;
            let mut lines = BufWriter::new(file);
            let rows = each_line(journal, provider, |value| {
                let mut flat = Vec::new();
                flatten("", &value, &mut flat);
                for (k, _) in &flat {
                    if seen.insert(k.clone()) {
                        columns.push(k.clone());
                    }
                }
                serde_json::to_writer(&mut lines, &value)
                    .map_err(|e| Error::io("cannot write the output", e.into()))?;
                lines.write_all(b"\n").map_err(write_err)
            })?;
            lines.flush().map_err(write_err)?;
            rows
        };
        let mut writer = csv::Writer::from_writer(&mut *out);
        writer.write_record(&columns).map_err(csv_err)?;
        let file = std::fs::File::open(&scratch).map_err(write_err)?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(write_err)?;
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| Error::io("cannot re-read the output", e.into()))?;
            let mut flat = Vec::new();
            flatten("", &value, &mut flat);
            let map: std::collections::HashMap<String, String> = flat.into_iter().collect();
            let record: Vec<String> = columns
                .iter()
                .map(|c| map.get(c).map(|v| spreadsheet_safe(v)).unwrap_or_default())
                .collect();
            writer.write_record(&record).map_err(csv_err)?;
        }
        writer.flush().map_err(write_err)?;
        Ok(Written { rows })
    })();
    let _ = std::fs::remove_file(&scratch);
    result
}

fn csv_err(e: csv::Error) -> Error {
    Error::io("cannot write the CSV output", e.into())
}

/// `(dotted path, text)` for every leaf; `null` leaves are empty cells.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&key(&i.to_string()), v, out);
            }
        }
        Value::Null => out.push((prefix.to_owned(), String::new())),
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// A cell a spreadsheet would take for a formula gets a leading `'`.
fn spreadsheet_safe(value: &str) -> String {
    let risky =
        value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err();
    if risky {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_and_formula_guard() {
        let mut flat = Vec::new();
        flatten(
            "",
            &json!({"row": 1, "result": {"items": [{"name": "王"}, {"name": "李"}]}, "error": null}),
            &mut flat,
        );
        assert!(flat.contains(&("result.items.1.name".to_owned(), "李".to_owned())));
        assert!(flat.contains(&("error".to_owned(), String::new())));
        assert_eq!(spreadsheet_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(spreadsheet_safe("-1.5"), "-1.5");
        assert_eq!(spreadsheet_safe("@SUM"), "'@SUM");
        assert_eq!(spreadsheet_safe("王小明"), "王小明");
    }
}
