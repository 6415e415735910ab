//! Reading rows: CSV (UTF-8, UTF-8 with a BOM, GBK as Excel writes it on Chinese
//! Windows), JSON Lines, and `.xlsx` (the first sheet). CSV and JSON Lines are streamed,
//! so memory does not grow with the file; a spreadsheet is read whole by `calamine`
//! (Excel itself stops at 1,048,576 rows).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use cred_core::Error;
use encoding_rs::{Encoding as TextEncoding, GBK, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use crate::row::{ColumnMap, Row, RowRead};

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line; keys are the columns.
    JsonLines,
    /// An Excel workbook: the first sheet, its first row the header.
    Xlsx,
}

impl Format {
    /// The format a file name implies (`.csv`, `.jsonl`/`.ndjson`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" => Ok(Format::JsonLines),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err("must be csv, jsonl or xlsx".to_owned()),
        }
    }
}

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// A byte-order mark decides; without one, UTF-8 if the start of the file is valid
    /// UTF-8, GBK otherwise (the default).
    #[default]
    Auto,
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// GBK / GB 18030, what Excel writes on Chinese Windows ("CSV (逗号分隔)").
    Gbk,
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" | "cp936" => Ok(Encoding::Gbk),
            _ => Err("must be auto, utf-8 or gbk".to_owned()),
        }
    }
}

/// Where the rows come from and how to read them.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its format (`None`: from the file name).
    pub format: Option<Format>,
    /// A CSV file's encoding.
    pub encoding: Encoding,
    /// How headers become columns.
    pub columns: ColumnMap,
}

/// A stream of rows.
pub type Rows = Box<dyn Iterator<Item = RowRead> + Send>;

impl Input {
    /// `path`, its format from its name, encoding detected, headers as they are.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            format: None,
            encoding: Encoding::Auto,
            columns: ColumnMap::new(),
        }
    }

    /// The format to read.
    pub fn format(&self) -> Result<Format, Error> {
        self.format
            .or_else(|| Format::from_path(&self.path))
            .ok_or_else(|| {
                Error::config(format!(
                    "cannot tell the format of {} from its name: give --format csv, jsonl or xlsx",
                    self.path.display()
                ))
            })
    }

    /// Opens the input and reads its header: the rows, streamed. The file can be opened
    /// again for a second pass (the engine reads it twice: plan, then send).
    pub fn rows(&self) -> Result<Rows, Error> {
        let io =
            |e: std::io::Error| Error::config(format!("cannot read {}: {e}", self.path.display()));
        match self.format()? {
            Format::Csv => {
                let file = File::open(&self.path).map_err(io)?;
                csv_rows(file, self.encoding, &self.columns)
            }
            Format::JsonLines => {
                let file = File::open(&self.path).map_err(io)?;
                Ok(Box::new(json_lines(file, self.columns.clone())))
            }
            Format::Xlsx => xlsx_rows(&self.path, &self.columns),
        }
    }
}

/// Decides a CSV file's encoding from its first bytes.
pub fn detect(start: &[u8], hint: Encoding) -> &'static TextEncoding {
    match hint {
        Encoding::Utf8 => UTF_8,
        Encoding::Gbk => GBK,
        Encoding::Auto => {
            if let Some((enc, _)) = TextEncoding::for_bom(start) {
                return enc;
            }
            match std::str::from_utf8(start) {
                Ok(_) => UTF_8,
                // Cut in the middle of a character at the end of the sample: still UTF-8.
                Err(e) if e.error_len().is_none() => UTF_8,
                Err(_) => GBK,
            }
        }
    }
}

/// CSV rows from `reader`, decoded to UTF-8.
pub fn csv_rows<R: Read + Send + 'static>(
    mut reader: R,
    encoding: Encoding,
    columns: &ColumnMap,
) -> Result<Rows, Error> {
    let mut start = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < start.len() {
        match reader.read(&mut start[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(Error::config(format!("cannot read the input: {e}"))),
        }
    }
    start.truncate(filled);
    let enc = detect(&start, encoding);
    let decoded = DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .bom_override(true)
        .build(std::io::Cursor::new(start).chain(reader));
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(decoded);
    let headers = csv
        .headers()
        .map_err(|e| Error::config(format!("the CSV header cannot be read: {}", csv_reason(&e))))?
        .iter()
        .map(|h| columns.column(h))
        .collect::<Vec<_>>();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(Error::config("the CSV file has no header line"));
    }
    let mut number = 0u64;
    let rows = csv.into_records().filter_map(move |record| {
        let read = match record {
            Ok(record) => {
                let fields = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.clone(), v.to_owned()))
                    .collect();
                let row = Row::new(number + 1, fields);
                if row.is_blank() {
                    return None;
                }
                RowRead::Row(row)
            }
            Err(e) => RowRead::Unreadable {
                number: number + 1,
                reason: format!("the CSV record cannot be read: {}", csv_reason(&e)),
            },
        };
        number += 1;
        Some(read)
    });
    Ok(Box::new(rows))
}

/// A CSV error without the record's content.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "it is not valid text in the file's encoding (try --encoding gbk or utf-8)".to_owned()
        }
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => "malformed CSV (an unclosed quote?)".to_owned(),
    }
}

/// JSON Lines rows: one object per non-empty line; strings, numbers and booleans
/// become values, `null` is absent.
pub fn json_lines<R: Read + Send + 'static>(
    reader: R,
    columns: ColumnMap,
) -> impl Iterator<Item = RowRead> + Send {
    let mut number = 0u64;
    BufReader::new(reader).lines().filter_map(move |line| {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                number += 1;
                return Some(RowRead::Unreadable {
                    number,
                    reason: format!("the line cannot be read: {}", e.kind()),
                });
            }
        };
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            return None;
        }
        number += 1;
        Some(match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => {
                let fields = map
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let value = match v {
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Number(n) => n.to_string(),
                            serde_json::Value::Bool(b) => b.to_string(),
                            serde_json::Value::Null => return None,
                            other => other.to_string(),
                        };
                        Some((columns.column(&k), value))
                    })
                    .collect();
                RowRead::Row(Row::new(number, fields))
            }
            Ok(_) => RowRead::Unreadable {
                number,
                reason: "the line is JSON but not an object".to_owned(),
            },
            Err(e) => RowRead::Unreadable {
                number,
                reason: format!(
                    "the line is not JSON ({})",
                    cred_core::lenient::describe_json_error(&e)
                ),
            },
        })
    })
}

/// The first sheet of a workbook, its first row the header.
fn xlsx_rows(path: &Path, columns: &ColumnMap) -> Result<Rows, Error> {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let bad = |e: &dyn std::fmt::Display| {
        Error::config(format!("cannot read the workbook {}: {e}", path.display()))
    };
    let mut book: Xlsx<_> = open_workbook(path).map_err(|e| bad(&e))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad(&"it has no sheet"))?
        .map_err(|e| bad(&e))?;
    let mut lines = range.rows();
    let headers: Vec<String> = lines
        .next()
        .ok_or_else(|| bad(&"the first sheet is empty"))?
        .iter()
        .map(|c| columns.column(&c.to_string()))
        .collect();
    let mut out = Vec::new();
    let mut number = 0u64;
    for cells in lines {
        let mut fields = Vec::with_capacity(headers.len());
        let mut imprecise = Vec::new();
        for (h, cell) in headers.iter().zip(cells) {
            let value = match cell {
                Data::Empty => String::new(),
                Data::String(s) => s.clone(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                Data::Float(f) if f.fract() == 0.0 => {
                    imprecise.push(h.clone());
                    format!("{f:.0}")
                }
                Data::Int(i) => i.to_string(),
                Data::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            fields.push((h.clone(), value));
        }
        let mut row = Row::new(number + 1, fields);
        if row.is_blank() {
            continue;
        }
        number += 1;
        row.imprecise = imprecise;
        out.push(RowRead::Row(row));
    }
    Ok(Box::new(out.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(r: Rows) -> Vec<RowRead> {
        r.collect()
    }

    fn values(read: &RowRead) -> Vec<(String, String)> {
        match read {
            RowRead::Row(r) => r.fields().to_vec(),
            RowRead::Unreadable { reason, .. } => panic!("unreadable: {reason}"),
        }
    }

    #[test]
    fn csv_in_utf8_with_or_without_bom_and_in_gbk() {
        let text = "姓名,身份证号\n王小明,321083197812162119\n\n李四,11010519491231002X\n";
        let map = ColumnMap::new()
            .map("姓名", "name")
            .map("身份证号", "idcard");
        let (gbk, _, _) = GBK.encode(text);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for bytes in [text.as_bytes().to_vec(), with_bom, gbk.into_owned()] {
            let got = rows(csv_rows(std::io::Cursor::new(bytes), Encoding::Auto, &map).unwrap());
            assert_eq!(got.len(), 2, "blank lines are not rows");
            assert_eq!(
                values(&got[0]),
                vec![
                    ("name".to_owned(), "王小明".to_owned()),
                    ("idcard".to_owned(), "321083197812162119".to_owned())
                ]
            );
            assert_eq!(got[1].number(), 2);
        }
        assert_eq!(detect(b"abc", Encoding::Auto), UTF_8);
        assert_eq!(detect("王".as_bytes(), Encoding::Auto), UTF_8);
        assert_eq!(detect(&"王".as_bytes()[..2], Encoding::Auto), UTF_8);
        assert_eq!(detect(&GBK.encode("王小明").0, Encoding::Auto), GBK);
    }

    #[test]
    fn a_malformed_record_is_an_unreadable_row_not_an_error() {
        let text = "name,idcard\n\"unclosed,1\nok,2\n";
        let got = rows(
            csv_rows(
                std::io::Cursor::new(text),
                Encoding::Utf8,
                &ColumnMap::new(),
            )
            .unwrap(),
        );
        assert!(!got.is_empty());
        for read in &got {
            if let RowRead::Unreadable { reason, .. } = read {
                assert!(!reason.contains("unclosed,1"), "{reason}");
            }
        }
    }

    #[test]
    fn json_lines_rows() {
        let text = "{\"name\":\"王小明\",\"idcard\":\"321083197812162119\",\"n\":1,\"x\":null}\n\n[1]\nnot json\n";
        let got: Vec<RowRead> = json_lines(std::io::Cursor::new(text), ColumnMap::new()).collect();
        assert_eq!(got.len(), 3);
        let fields = values(&got[0]);
        assert!(fields.contains(&("n".to_owned(), "1".to_owned())));
        assert!(!fields.iter().any(|(k, _)| k == "x"));
        assert!(matches!(&got[1], RowRead::Unreadable { number: 2, .. }));
        assert!(matches!(&got[2], RowRead::Unreadable { number: 3, .. }));
    }

    #[test]
    fn formats_and_encodings_parse() {
        assert_eq!(Format::from_path(Path::new("a.CSV")), Some(Format::Csv));
        assert_eq!(
            Format::from_path(Path::new("a.jsonl")),
            Some(Format::JsonLines)
        );
        assert_eq!(Format::from_path(Path::new("a.xlsx")), Some(Format::Xlsx));
        assert_eq!(Format::from_path(Path::new("a")), None);
        assert_eq!("GB18030".parse::<Encoding>(), Ok(Encoding::Gbk));
        assert_eq!("utf-8".parse::<Encoding>(), Ok(Encoding::Utf8));
        assert!("latin1".parse::<Encoding>().is_err());
    }
}
