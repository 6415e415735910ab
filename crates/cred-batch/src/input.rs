//! Reading rows: CSV (UTF-8, UTF-8 with a BOM, GBK as Excel writes it on Chinese
//! Windows), JSON Lines, and `.xlsx` (the first sheet). Every format is streamed, so
//! memory does not grow with the file; a spreadsheet is read within [`Limits`] (a zip
//! bomb is refused before it is unpacked).
//!
//! A CSV file's encoding is decided on the whole file and decoded strictly (see the
//! `encoding` rules in the crate documentation): a row that does not decode is
//! unreadable (reported invalid, never sent), never a garbled value that is paid for.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::encoding::{Decided, decide, decode_field, looks_utf8};
use crate::error::Error;
use crate::row::{ColumnMap, Row, RowRead};

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum Encoding {
    /// A byte-order mark decides; without one, the whole file: UTF-8 when it is valid
    /// UTF-8 throughout, GBK when it is valid GBK throughout (and not mostly UTF-8);
    /// a file valid in neither is refused, naming the first bad row (the default).
    #[default]
    Auto,
    /// UTF-8 (a BOM is skipped). Rows that are not valid UTF-8 are invalid.
    Utf8,
    /// GBK / GB 18030, what Excel writes on Chinese Windows ("CSV (逗号分隔)"). Rows that
    /// are not valid GBK are invalid.
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

/// How much of a spreadsheet is read: a workbook is a zip archive, and a small one can
/// unpack to gigabytes (a zip bomb). Every part is measured as it is unpacked, before
/// the spreadsheet reader sees it, in constant memory; a workbook over a limit is
/// refused ([`Error::Input`]). The defaults hold any sheet Excel itself can save of the
/// sizes a batch takes (1,048,576 rows) and keep the reader's memory under ~300 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The shared-strings part (every text cell of the workbook), unpacked: 128 MiB.
    pub shared_strings_bytes: u64,
    /// Entries of the shared-strings part: 4,194,304.
    pub shared_strings: u64,
    /// One worksheet, unpacked (streamed, not held): 512 MiB.
    pub sheet_bytes: u64,
    /// Any other part (styles, workbook, relationships), unpacked: 32 MiB.
    pub other_part_bytes: u64,
    /// The whole workbook, unpacked: 1 GiB.
    pub total_bytes: u64,
    /// The longest run of bytes between two XML tags, or within one (a single cell's
    /// text; Excel keeps at most 32,767 characters in a cell): 1 MiB.
    pub token_bytes: u64,
    /// Cells read from the first sheet: 64 Mi.
    pub cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            shared_strings_bytes: 128 << 20,
            shared_strings: 4 << 20,
            sheet_bytes: 512 << 20,
            other_part_bytes: 32 << 20,
            total_bytes: 1 << 30,
            token_bytes: 1 << 20,
            cells: 64 << 20,
        }
    }
}

/// Where the rows come from and how to read them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its format (`None`: from the file name).
    pub format: Option<Format>,
    /// A CSV file's encoding.
    pub encoding: Encoding,
    /// How headers become columns.
    pub columns: ColumnMap,
    /// How much of a spreadsheet is read.
    pub limits: Limits,
    /// The CSV encoding decided for `encoding` (one pass over the file, done once).
    decided: Arc<Mutex<Option<(Encoding, Decided)>>>,
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
            limits: Limits::default(),
            decided: Arc::default(),
        }
    }

    /// The format to read.
    pub fn format(&self) -> Result<Format, Error> {
        self.format
            .or_else(|| Format::from_path(&self.path))
            .ok_or_else(|| {
                Error::input(format!(
                    "cannot tell the format of {} from its name: give --format csv, jsonl or xlsx",
                    self.path.display()
                ))
            })
    }

    fn open(&self) -> Result<File, Error> {
        File::open(&self.path).map_err(|e| Error::Input {
            message: format!("cannot read {}: {e}", self.path.display()),
            source: Some(Arc::new(e)),
        })
    }

    /// How a CSV input is read (decided on the whole file once, then remembered).
    fn decided(&self) -> Result<Decided, Error> {
        let mut slot = self.decided.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((hint, decided)) = *slot
            && hint == self.encoding
        {
            return Ok(decided);
        }
        let decided = decide(&self.path, self.encoding)?;
        *slot = Some((self.encoding, decided));
        Ok(decided)
    }

    /// Opens the input and reads its header: the rows, streamed. The file can be opened
    /// again for a second pass (the engine reads it twice: plan, then send).
    pub fn rows(&self) -> Result<Rows, Error> {
        match self.format()? {
            Format::Csv => {
                let decided = self.decided()?;
                csv_rows(self.open()?, decided, &self.columns)
            }
            Format::JsonLines => Ok(Box::new(json_lines(self.open()?, self.columns.clone()))),
            Format::Xlsx => crate::xlsx::rows(&self.path, &self.columns, self.limits),
        }
    }

    /// The columns the header names more than once, with the headers that name each
    /// (`idcard` from `身份证号` and `idcard`): CSV and spreadsheets. JSON Lines has no
    /// header; a line giving a column twice is refused by itself.
    pub fn columns_given_twice(&self) -> Result<Vec<(String, Vec<String>)>, Error> {
        let headers = match self.format()? {
            Format::Csv => {
                let decided = self.decided()?;
                let mut reader = self.open()?;
                let mut skip = vec![0u8; decided.bom_len];
                reader.read_exact(&mut skip).map_err(|e| Error::Input {
                    message: format!("cannot read {}: {e}", self.path.display()),
                    source: Some(Arc::new(e)),
                })?;
                csv_header(reader, decided)?.1
            }
            Format::Xlsx => crate::xlsx::header(&self.path, self.limits)?,
            Format::JsonLines => return Ok(Vec::new()),
        };
        let mapped: Vec<(String, String)> = headers
            .iter()
            .map(|h| (self.columns.column(h), h.clone()))
            .collect();
        let twice = crate::row::duplicates(&mapped);
        Ok(twice
            .into_iter()
            .map(|column| {
                let named: Vec<String> = mapped
                    .iter()
                    .filter(|(c, _)| *c == column)
                    .map(|(_, h)| h.clone())
                    .collect();
                (column, named)
            })
            .collect())
    }
}

/// Reads the header record: the reader positioned after it, and the header's fields.
fn csv_header<R: Read>(
    reader: R,
    decided: Decided,
) -> Result<(csv::Reader<R>, Vec<String>), Error> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let read = csv
        .read_byte_record(&mut record)
        .map_err(|e| Error::Input {
            message: format!("the CSV header cannot be read: {}", csv_reason(&e)),
            source: Some(Arc::new(e)),
        })?;
    if !read || record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
        return Err(Error::input(
            "the CSV file has no header line (it is empty, or starts with a blank line)",
        ));
    }
    let headers = record
        .iter()
        .map(|f| decode_field(decided.encoding, f))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| {
            Error::input(format!(
                "the CSV header line is not valid {}: give --encoding utf-8 or gbk",
                decided.encoding.name()
            ))
        })?;
    Ok((csv, headers))
}

/// CSV rows from `reader` (positioned at the file's start), decoded strictly in the
/// encoding `decided`.
pub(crate) fn csv_rows<R: Read + Send + 'static>(
    mut reader: R,
    decided: Decided,
    columns: &ColumnMap,
) -> Result<Rows, Error> {
    let mut skip = vec![0u8; decided.bom_len];
    reader.read_exact(&mut skip).map_err(|e| Error::Input {
        message: format!("cannot read the input: {e}"),
        source: Some(Arc::new(e)),
    })?;
    let (csv, headers) = csv_header(reader, decided)?;
    let headers: Vec<String> = headers.iter().map(|h| columns.column(h)).collect();
    let encoding = decided.encoding;
    let name = encoding.name();
    let mut number = 0u64;
    let mut records = csv.into_byte_records();
    let rows = std::iter::from_fn(move || {
        loop {
            let record = records.next()?;
            let offset = match &record {
                Ok(r) => r.position().map_or(0, csv::Position::byte),
                Err(e) => e.position().map_or(0, csv::Position::byte),
            };
            let read = match record {
                Ok(record) => {
                    if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        continue; // a blank line is not a row
                    }
                    number += 1;
                    let fields: Option<Vec<(String, String)>> = headers
                        .iter()
                        .zip(record.iter())
                        .map(|(h, v)| decode_field(encoding, v).map(|v| (h.clone(), v)))
                        .collect();
                    match fields {
                        None => RowRead::Unreadable {
                            number,
                            reason: format!(
                                "the row is not valid {name} (its record starts at byte offset {offset}): fix it, or give --encoding utf-8 or gbk"
                            ),
                        },
                        Some(_)
                            if decided.detected
                                && encoding == encoding_rs::GBK
                                && looks_utf8(&record) =>
                        {
                            RowRead::Unreadable {
                                number,
                                reason: format!(
                                    "the file reads as GBK but this row looks UTF-8 (its record starts at byte offset {offset}): save the file in one encoding, or give --encoding gbk if the row is right as GBK"
                                ),
                            }
                        }
                        Some(fields) => RowRead::Row(Row::new(number, fields)),
                    }
                }
                Err(e) => {
                    number += 1;
                    RowRead::Unreadable {
                        number,
                        reason: format!("the CSV record cannot be read: {}", csv_reason(&e)),
                    }
                }
            };
            return Some(read);
        }
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

/// A JSON object's members in order, duplicates kept (serde_json's map keeps only the
/// last of two equal keys).
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// JSON Lines rows: one object per non-empty line; strings, numbers and booleans
/// become values, `null` is absent. A line whose keys give one column twice (two equal
/// keys, or two keys mapped to one column) marks that column in [`Row::duplicated`].
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
        let object = serde_json::from_str::<Members>(text);
        Some(match object {
            Ok(Members(members)) => {
                let fields = members
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
            Err(_) if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
                RowRead::Unreadable {
                    number,
                    reason: "the line is JSON but not an object".to_owned(),
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{GBK, UTF_8};

    fn rows(r: Rows) -> Vec<RowRead> {
        r.collect()
    }

    fn values(read: &RowRead) -> Vec<(String, String)> {
        match read {
            RowRead::Row(r) => r.fields().to_vec(),
            RowRead::Unreadable { reason, .. } => panic!("unreadable: {reason}"),
        }
    }

    fn file(name: &str, bytes: &[u8]) -> Input {
        let dir = std::env::temp_dir().join(format!(
            "cred-batch-input-{}-{}",
            std::process::id(),
            cred_core::now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        Input::new(path)
    }

    fn decided(encoding: &'static encoding_rs::Encoding) -> Decided {
        Decided {
            encoding,
            bom_len: 0,
            detected: false,
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
        for (name, bytes) in [
            ("utf8.csv", text.as_bytes().to_vec()),
            ("bom.csv", with_bom),
            ("gbk.csv", gbk.into_owned()),
        ] {
            let mut input = file(name, &bytes);
            input.columns = map.clone();
            let got = rows(input.rows().unwrap());
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
    }

    #[test]
    fn a_row_that_does_not_decode_is_unreadable_wherever_it_is() {
        // Read as UTF-8 (given): the GBK row is unreadable, the others are rows.
        let mut bytes = "name,idcard\n王小明,321083197812162119\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(&GBK.encode("李四,11010519491231002X\n").0);
        bytes.extend_from_slice("张三,33010219200403064X\n".as_bytes());
        let got = rows(
            csv_rows(
                std::io::Cursor::new(bytes),
                decided(UTF_8),
                &ColumnMap::new(),
            )
            .unwrap(),
        );
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], RowRead::Row(_)));
        match &got[1] {
            RowRead::Unreadable { number: 2, reason } => {
                assert!(reason.contains("not valid UTF-8"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&got[2], RowRead::Row(r) if r.number == 3));
        // A GBK file (detected) with a row that is valid GBK but reads as UTF-8 (an even
        // number of bytes of Chinese text decodes as GBK too, garbled): refused.
        let mut bytes = GBK
            .encode("name,idcard\n王小明,321083197812162119\n")
            .0
            .into_owned();
        bytes.extend_from_slice("欧阳娜娜,11010519491231002X\n".as_bytes());
        let input = file("mixed.csv", &bytes);
        let got = rows(input.rows().unwrap());
        assert!(matches!(&got[0], RowRead::Row(_)));
        match &got[1] {
            RowRead::Unreadable { reason, .. } => {
                assert!(reason.contains("looks UTF-8"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        // Given as GBK: the operator said so.
        let mut input = file("mixed-given.csv", &bytes);
        input.encoding = Encoding::Gbk;
        assert!(
            rows(input.rows().unwrap())
                .iter()
                .all(|r| matches!(r, RowRead::Row(_)))
        );
    }

    #[test]
    fn an_empty_file_and_a_blank_header_are_input_errors() {
        for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\n\n"] {
            let err = match file("empty.csv", bytes).rows() {
                Err(e) => e,
                Ok(_) => panic!("accepted {bytes:?}"),
            };
            assert!(matches!(err, Error::Input { .. }), "{err:?}");
        }
    }

    #[test]
    fn columns_given_twice_are_found_after_mapping() {
        let mut input = file("twice.csv", "姓名,身份证号,idcard,备注,备注\n".as_bytes());
        input.columns = ColumnMap::new().map("身份证号", "idcard");
        let twice = input.columns_given_twice().unwrap();
        assert_eq!(
            twice,
            vec![
                (
                    "idcard".to_owned(),
                    vec!["身份证号".to_owned(), "idcard".to_owned()]
                ),
                (
                    "备注".to_owned(),
                    vec!["备注".to_owned(), "备注".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn a_malformed_record_is_an_unreadable_row_not_an_error() {
        let text = "name,idcard\n\"unclosed,1\nok,2\n";
        let got = rows(
            csv_rows(
                std::io::Cursor::new(text),
                decided(UTF_8),
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
        let text = "{\"name\":\"王小明\",\"idcard\":\"321083197812162119\",\"n\":1,\"x\":null}\n\n[1]\nnot json\n{\"idcard\":\"1\",\"idcard\":\"2\"}\n";
        let got: Vec<RowRead> = json_lines(std::io::Cursor::new(text), ColumnMap::new()).collect();
        assert_eq!(got.len(), 4);
        let fields = values(&got[0]);
        assert!(fields.contains(&("n".to_owned(), "1".to_owned())));
        assert!(!fields.iter().any(|(k, _)| k == "x"));
        assert!(
            matches!(&got[1], RowRead::Unreadable { number: 2, reason } if reason.contains("not an object"))
        );
        assert!(
            matches!(&got[2], RowRead::Unreadable { number: 3, reason } if reason.contains("not JSON"))
        );
        match &got[3] {
            RowRead::Row(r) => assert_eq!(r.duplicated, vec!["idcard".to_owned()]),
            other => panic!("{other:?}"),
        }
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
