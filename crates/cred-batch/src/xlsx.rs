//! `.xlsx` input within [`Limits`]: every part of the workbook (a zip archive) is
//! unpacked once into nothing, measured, before the spreadsheet reader (`calamine`)
//! sees it, so a zip bomb is refused in constant memory; then the first sheet's cells
//! are streamed (never a dense range: one cell at `XFD1048576` costs nothing) on a
//! thread of their own, and rows are handed over a bounded channel.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, Reader, Xlsx};

use crate::error::Error;
use crate::input::{Limits, Rows};
use crate::row::{ColumnMap, Row, RowRead};

/// Rows read ahead of the engine at most.
const AHEAD: usize = 1024;

fn refuse(path: &Path, why: String) -> Error {
    Error::input(format!(
        "the workbook {} cannot be read within the limits: {why}",
        path.display()
    ))
}

/// Unpacks every part of the workbook into nothing, measuring it against `limits`.
pub(crate) fn check(path: &Path, limits: Limits) -> Result<(), Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::Input {
        message: format!("cannot read {}: {e}", path.display()),
        source: Some(Arc::new(e)),
    })?;
    let not_a_workbook = |e: zip::result::ZipError| Error::Input {
        message: format!(
            "{} is not an .xlsx workbook (not a readable zip archive: {e})",
            path.display()
        ),
        source: Some(Arc::new(e)),
    };
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(not_a_workbook)?;
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(not_a_workbook)?;
        let name = entry.name().to_owned();
        let (limit, shared) = if name.ends_with("sharedStrings.xml") {
            (limits.shared_strings_bytes, true)
        } else if name.starts_with("xl/worksheets/") {
            (limits.sheet_bytes, false)
        } else {
            (limits.other_part_bytes, false)
        };
        let mut size = 0u64;
        let mut run = 0u64; // bytes since the last `<` or `>`
        let mut strings = 0u64;
        let mut tail = [0u8; 3]; // the last bytes of the previous chunk, for `<si`
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    return Err(Error::Input {
                        message: format!(
                            "the workbook {} is damaged: its part {name} does not unpack ({e})",
                            path.display()
                        ),
                        source: Some(Arc::new(e)),
                    });
                }
            };
            size += n as u64;
            total += n as u64;
            if size > limit {
                return Err(refuse(
                    path,
                    format!(
                        "its part {name} unpacks to more than {} MiB (a zip bomb?)",
                        limit >> 20
                    ),
                ));
            }
            if total > limits.total_bytes {
                return Err(refuse(
                    path,
                    format!(
                        "it unpacks to more than {} MiB (a zip bomb?)",
                        limits.total_bytes >> 20
                    ),
                ));
            }
            let chunk = &buf[..n];
            for &b in chunk {
                if b == b'<' || b == b'>' {
                    run = 0;
                } else {
                    run += 1;
                    if run > limits.token_bytes {
                        return Err(refuse(
                            path,
                            format!(
                                "its part {name} holds a single text or tag of more than {} KiB",
                                limits.token_bytes >> 10
                            ),
                        ));
                    }
                }
            }
            if shared {
                strings += count_si(&tail, chunk);
                if strings > limits.shared_strings {
                    return Err(refuse(
                        path,
                        format!("it has more than {} shared strings", limits.shared_strings),
                    ));
                }
                let keep = chunk.len().min(3);
                tail = [0; 3];
                tail[3 - keep..].copy_from_slice(&chunk[chunk.len() - keep..]);
            }
        }
    }
    Ok(())
}

/// Occurrences of `<si>` or `<si ` in `tail ‖ chunk` that end inside `chunk`.
fn count_si(tail: &[u8; 3], chunk: &[u8]) -> u64 {
    let mut joined = Vec::with_capacity(chunk.len() + 3);
    joined.extend_from_slice(tail);
    joined.extend_from_slice(chunk);
    joined
        .windows(4)
        .filter(|w| w[..3] == *b"<si" && (w[3] == b'>' || w[3] == b' '))
        .count() as u64
}

/// The text of a cell as the engine reads it; `imprecise` when it is a whole number of
/// more than 15 digits (Excel keeps 15: the digits read are not the ones typed).
fn cell_text(cell: &DataRef<'_>) -> (String, bool) {
    match cell {
        DataRef::Empty => (String::new(), false),
        DataRef::String(s) => (s.clone(), false),
        DataRef::SharedString(s) => ((*s).to_owned(), false),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (format!("{f:.0}"), false),
        DataRef::Float(f) if f.fract() == 0.0 => (format!("{f:.0}"), true),
        DataRef::Int(i) => (i.to_string(), false),
        DataRef::Bool(b) => (b.to_string(), false),
        other => (calamine::Data::from(other.clone()).to_string(), false),
    }
}

/// Opens the workbook (after [`check`]) and streams the first sheet's cells to `f`
/// (row, column, text, imprecise) until it returns `false`.
fn stream(
    path: &Path,
    limits: Limits,
    mut f: impl FnMut(u32, u32, String, bool) -> bool,
) -> Result<(), Error> {
    check(path, limits)?;
    let bad = |e: &dyn std::fmt::Display| {
        Error::input(format!("cannot read the workbook {}: {e}", path.display()))
    };
    let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(|e| bad(&e))?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad(&"it has no sheet"))?;
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| bad(&e))?;
    let mut read = 0u64;
    while let Some(cell) = cells.next_cell().map_err(|e| bad(&e))? {
        read += 1;
        if read > limits.cells {
            return Err(refuse(
                path,
                format!("its first sheet has more than {} cells", limits.cells),
            ));
        }
        let (row, column) = cell.get_position();
        let (text, imprecise) = cell_text(cell.get_value());
        if !f(row, column, text, imprecise) {
            break;
        }
    }
    Ok(())
}

/// The first sheet's header (its first row with a cell), as written.
pub(crate) fn header(path: &Path, limits: Limits) -> Result<Vec<String>, Error> {
    let mut header: Vec<(u32, String)> = Vec::new();
    let mut first_row = None;
    stream(path, limits, |row, column, text, _| {
        if *first_row.get_or_insert(row) != row {
            return false;
        }
        header.push((column, text));
        true
    })?;
    if header.is_empty() {
        return Err(Error::input(format!(
            "the first sheet of {} is empty",
            path.display()
        )));
    }
    Ok(header.into_iter().map(|(_, h)| h).collect())
}

/// What the reading thread sends: a row, or the error that ended the reading.
enum Item {
    Row(RowRead),
    Failed(Error),
}

/// The first sheet's rows, its first row the header, streamed from a thread of their
/// own. Errors found before the first row (a zip bomb, not a workbook, an empty sheet)
/// are returned here; one found later ends the rows with an unreadable row saying so.
pub(crate) fn rows(path: &Path, columns: &ColumnMap, limits: Limits) -> Result<Rows, Error> {
    let (tx, rx) = sync_channel::<Item>(AHEAD);
    let (ready_tx, ready_rx) = sync_channel::<Result<(), Error>>(1);
    let path_owned = path.to_owned();
    let columns = columns.clone();
    std::thread::Builder::new()
        .name("cred-batch-xlsx".to_owned())
        .spawn(move || read_rows(&path_owned, &columns, limits, &tx, &ready_tx))
        .map_err(|e| Error::io("cannot start the spreadsheet reader", e))?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(Error::input("the spreadsheet reader stopped")),
    }
    Ok(Box::new(Received { rx, last: 0 }))
}

/// The rows coming from the reading thread.
struct Received {
    rx: Receiver<Item>,
    last: u64,
}

impl Iterator for Received {
    type Item = RowRead;

    fn next(&mut self) -> Option<RowRead> {
        match self.rx.recv().ok()? {
            Item::Row(read) => {
                self.last = read.number();
                Some(read)
            }
            Item::Failed(e) => Some(RowRead::Unreadable {
                number: self.last + 1,
                reason: format!("the rest of the sheet cannot be read: {e}"),
            }),
        }
    }
}

fn read_rows(
    path: &Path,
    columns: &ColumnMap,
    limits: Limits,
    tx: &SyncSender<Item>,
    ready: &SyncSender<Result<(), Error>>,
) {
    let mut header: Vec<(u32, String)> = Vec::new();
    let mut header_row: Option<u32> = None;
    let mut started = false;
    let mut current: Option<u32> = None;
    let mut cells: Vec<(u32, String, bool)> = Vec::new();
    let mut number = 0u64;
    let mut open = true;
    let mut emit = |cells: &mut Vec<(u32, String, bool)>, header: &[(u32, String)]| -> bool {
        let mut fields = Vec::with_capacity(header.len());
        let mut imprecise = Vec::new();
        for (column, name) in header {
            let (text, lost) = cells
                .iter()
                .find(|(c, _, _)| c == column)
                .map(|(_, t, l)| (t.clone(), *l))
                .unwrap_or_default();
            if lost {
                imprecise.push(name.clone());
            }
            fields.push((name.clone(), text));
        }
        cells.clear();
        let mut row = Row::new(number + 1, fields);
        if row.is_blank() {
            return true;
        }
        number += 1;
        row.imprecise = imprecise;
        tx.send(Item::Row(RowRead::Row(row))).is_ok()
    };
    let result = stream(path, limits, |row, column, text, imprecise| {
        match header_row {
            None => {
                header_row = Some(row);
                header.push((column, columns.column(&text)));
                return true;
            }
            Some(h) if h == row => {
                header.push((column, columns.column(&text)));
                return true;
            }
            Some(_) => {}
        }
        if !started {
            started = true;
            if ready.send(Ok(())).is_err() {
                return false;
            }
        }
        if current != Some(row) {
            if current.is_some() && !emit(&mut cells, &header) {
                open = false;
                return false;
            }
            current = Some(row);
        }
        // Only the header's columns are kept: a row's other cells cost nothing.
        if header.iter().any(|(c, _)| *c == column) {
            cells.push((column, text, imprecise));
        }
        true
    });
    match result {
        Err(e) if !started => {
            let _ = ready.send(Err(e));
        }
        Err(e) => {
            let _ = tx.send(Item::Failed(e));
        }
        Ok(()) if header_row.is_none() => {
            let _ = ready.send(Err(Error::input(format!(
                "the first sheet of {} is empty",
                path.display()
            ))));
        }
        Ok(()) => {
            if !started {
                let _ = ready.send(Ok(()));
            }
            if open && current.is_some() {
                emit(&mut cells, &header);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_strings_are_counted_across_chunks() {
        assert_eq!(count_si(&[0; 3], b"<si><t>a</t></si><si x=1>"), 2);
        assert_eq!(count_si(b"x<s", b"i>"), 1);
        assert_eq!(count_si(b"<si", b">"), 1);
        assert_eq!(count_si(&[0; 3], b"<sheet>"), 0);
    }
}
