//! A CSV file's text encoding: decided on the whole file's evidence, never on a sample,
//! and then decoded strictly, so that no garbled (but valid-looking) name is ever sent
//! and paid for.
//!
//! - A byte-order mark decides.
//! - A file that is valid UTF-8 throughout is UTF-8.
//! - A file whose non-ASCII text is mostly valid UTF-8 (more Chinese characters read as
//!   UTF-8 than bad sequences) but not all of it is refused: it names the first bad row
//!   and byte offset and suggests `--encoding`.
//! - Otherwise a file that is valid GBK (GB 18030) throughout is GBK; one that is not is
//!   refused the same way.
//!
//! Row by row, a field that does not decode in the encoding read makes its row
//! unreadable (`invalid`, never sent), wherever it is in the file; in a file detected as
//! GBK, a row whose text is valid UTF-8 with multi-byte characters (a row pasted from a
//! UTF-8 source) is refused the same way unless `--encoding gbk` was given.

use std::io::Read;
use std::path::Path;

use encoding_rs::{DecoderResult, Encoding as TextEncoding, GBK, UTF_8};

use crate::error::Error;
use crate::input::Encoding;

/// How a CSV file is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decided {
    /// The encoding.
    pub(crate) encoding: &'static TextEncoding,
    /// Bytes of byte-order mark to skip.
    pub(crate) bom_len: usize,
    /// Whether it was detected (not given): rows that look UTF-8 in a GBK file are then
    /// refused.
    pub(crate) detected: bool,
}

/// What a pass over the whole file found.
#[derive(Debug, Default)]
struct Evidence {
    /// Invalid UTF-8 sequences, and where the first one starts.
    utf8_bad: u64,
    utf8_first_bad: Option<u64>,
    /// Characters from U+2E80 up (CJK and full-width forms) in the valid UTF-8 parts.
    utf8_wide: u64,
    /// Where the first byte that is not GBK starts.
    gbk_first_bad: Option<u64>,
}

/// Decides how to read the CSV file at `path`: `hint` when given, else from the whole
/// file's evidence; refuses a file that is not valid in the encoding detected.
pub(crate) fn decide(path: &Path, hint: Encoding) -> Result<Decided, Error> {
    let io = |e: std::io::Error| Error::Input {
        message: format!("cannot read {}: {e}", path.display()),
        source: Some(std::sync::Arc::new(e)),
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut start = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        match file.read(&mut start[got..]).map_err(io)? {
            0 => break,
            n => got += n,
        }
    }
    let bom = TextEncoding::for_bom(&start[..got]);
    match (hint, bom) {
        (Encoding::Utf8, _) => Ok(Decided {
            encoding: UTF_8,
            bom_len: if bom.is_some_and(|(e, _)| e == UTF_8) {
                3
            } else {
                0
            },
            detected: false,
        }),
        (Encoding::Gbk, _) => Ok(Decided {
            encoding: GBK,
            bom_len: 0,
            detected: false,
        }),
        (Encoding::Auto, Some((encoding, len))) => Ok(Decided {
            encoding,
            bom_len: len,
            detected: true,
        }),
        (Encoding::Auto, None) => {
            let file = std::fs::File::open(path).map_err(io)?;
            let evidence = scan(file).map_err(io)?;
            let refuse = |name: &str, offset: u64, other: &str| {
                let row = match row_at(path, offset) {
                    Some(0) => "the header line".to_owned(),
                    Some(n) => format!("row {n}"),
                    None => "a row".to_owned(),
                };
                Error::input(format!(
                    "{} is not valid {name} throughout: {row} has bytes that are not {name} (at byte offset {offset}); fix the file, or give --encoding {name_flag} to read it as {name} (rows that do not decode are then reported invalid and never sent) or --encoding {other}",
                    path.display(),
                    name_flag = name.to_ascii_lowercase()
                ))
            };
            match (evidence.utf8_first_bad, evidence.gbk_first_bad) {
                (None, _) => Ok(Decided {
                    encoding: UTF_8,
                    bom_len: 0,
                    detected: true,
                }),
                (Some(bad), _) if evidence.utf8_wide > evidence.utf8_bad => {
                    Err(refuse("UTF-8", bad, "gbk"))
                }
                (Some(_), None) => Ok(Decided {
                    encoding: GBK,
                    bom_len: 0,
                    detected: true,
                }),
                (Some(_), Some(bad)) => Err(refuse("GBK", bad, "utf-8")),
            }
        }
    }
}

/// One pass over `reader`: UTF-8 validity (with how much of it reads as wide text) and
/// GBK validity, in constant memory.
fn scan(mut reader: impl Read) -> std::io::Result<Evidence> {
    let mut evidence = Evidence::default();
    let mut gbk = GBK.new_decoder_without_bom_handling();
    let mut scratch = String::with_capacity(128 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of an incomplete UTF-8 sequence carried over from the previous chunk.
    let mut carry: Vec<u8> = Vec::new();
    let mut offset = 0u64; // of buf[0] in the file
    let mut gbk_read = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        let last = n == 0;
        // UTF-8.
        let mut chunk = std::mem::take(&mut carry);
        let chunk_start = offset - chunk.len() as u64;
        chunk.extend_from_slice(&buf[..n]);
        let mut at = 0usize;
        while at < chunk.len() {
            match std::str::from_utf8(&chunk[at..]) {
                Ok(text) => {
                    evidence.utf8_wide += wide(text);
                    at = chunk.len();
                }
                Err(e) => {
                    let valid = &chunk[at..at + e.valid_up_to()];
                    evidence.utf8_wide += wide(std::str::from_utf8(valid).unwrap_or_default());
                    at += e.valid_up_to();
                    match e.error_len() {
                        Some(len) => {
                            evidence.utf8_bad += 1;
                            evidence
                                .utf8_first_bad
                                .get_or_insert(chunk_start + at as u64);
                            at += len;
                        }
                        None if !last => {
                            carry = chunk[at..].to_vec();
                            at = chunk.len();
                        }
                        None => {
                            // Cut short at the end of the file.
                            evidence.utf8_bad += 1;
                            evidence
                                .utf8_first_bad
                                .get_or_insert(chunk_start + at as u64);
                            at = chunk.len();
                        }
                    }
                }
            }
        }
        // GBK, until the first byte that is not.
        if evidence.gbk_first_bad.is_none() {
            let mut src = &buf[..n];
            loop {
                scratch.clear();
                let (result, read) =
                    gbk.decode_to_string_without_replacement(src, &mut scratch, last);
                gbk_read += read as u64;
                src = &src[read..];
                match result {
                    DecoderResult::InputEmpty => break,
                    DecoderResult::OutputFull => continue,
                    DecoderResult::Malformed(bad, _) => {
                        evidence.gbk_first_bad = Some(gbk_read.saturating_sub(u64::from(bad)));
                        break;
                    }
                }
            }
        }
        offset += n as u64;
        if last {
            return Ok(evidence);
        }
    }
}

/// Characters of `text` from U+2E80 up: CJK, kana, full-width forms.
fn wide(text: &str) -> u64 {
    text.chars().filter(|c| *c >= '\u{2e80}').count() as u64
}

/// The data row (1-based; 0 for the header) whose record holds byte `offset` of the CSV
/// file at `path`, counted as the reader counts them (blank lines are not rows).
fn row_at(path: &Path, offset: u64) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    let mut number = 0u64;
    let mut first = true;
    let mut current = None;
    loop {
        let start = csv.position().byte();
        if start > offset {
            return current;
        }
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            _ => return current,
        }
        if first {
            first = false;
            current = Some(0);
        } else if record
            .iter()
            .any(|f| !f.iter().all(u8::is_ascii_whitespace))
        {
            number += 1;
            current = Some(number);
        }
    }
}

/// Decodes one field strictly: `None` when it is not valid in `encoding`.
pub(crate) fn decode_field(encoding: &'static TextEncoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

/// Whether a row read as GBK looks like UTF-8 text instead: every field with non-ASCII
/// bytes is valid UTF-8 and at least one holds a multi-byte character.
pub(crate) fn looks_utf8(fields: &csv::ByteRecord) -> bool {
    let mut multibyte = false;
    for field in fields.iter().filter(|f| !f.is_ascii()) {
        match std::str::from_utf8(field) {
            Ok(_) => multibyte = true,
            Err(_) => return false,
        }
    }
    multibyte
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cred-batch-encoding-{}-{}",
            std::process::id(),
            cred_core::now_millis()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn people(n: usize) -> String {
        let mut text = "姓名,身份证号\n".to_owned();
        for i in 0..n {
            text.push_str(&format!("王小明{i},321083197812162119\n"));
        }
        text
    }

    #[test]
    fn the_whole_file_decides() {
        let utf8 = people(5000); // well past 64 KiB
        assert!(utf8.len() > 64 * 1024);
        let path = temp("utf8.csv", utf8.as_bytes());
        assert_eq!(decide(&path, Encoding::Auto).unwrap().encoding, UTF_8);
        let gbk = GBK.encode(&utf8).0.into_owned();
        let path = temp("gbk.csv", &gbk);
        assert_eq!(decide(&path, Encoding::Auto).unwrap().encoding, GBK);
        // UTF-8 with one bad byte, far from the start: refused, naming the row.
        let mut bad = utf8.clone().into_bytes();
        let at = utf8.find("王小明4000,").unwrap() + 3;
        bad[at] = 0xFF;
        let path = temp("bad-utf8.csv", &bad);
        let err = decide(&path, Encoding::Auto).unwrap_err().to_string();
        assert!(err.contains("not valid UTF-8"), "{err}");
        assert!(err.contains("row 4001"), "{err}");
        assert!(err.contains(&format!("byte offset {at}")), "{err}");
        assert!(err.contains("--encoding"), "{err}");
        // GBK with a UTF-8 row after the first 64 KiB: a three-character name (nine
        // bytes) is not GBK. (An even number of bytes can be: the row is then refused
        // by itself, see the input tests.)
        let mut mixed = gbk.clone();
        mixed.extend_from_slice("张小三,11010519491231002X\n".as_bytes());
        let path = temp("mixed.csv", &mixed);
        let err = decide(&path, Encoding::Auto).unwrap_err().to_string();
        assert!(err.contains("not valid GBK"), "{err}");
        assert!(err.contains("row 5001"), "{err}");
        // Given: as told, whatever the bytes.
        assert_eq!(decide(&path, Encoding::Gbk).unwrap().encoding, GBK);
        assert_eq!(decide(&path, Encoding::Utf8).unwrap().encoding, UTF_8);
    }

    #[test]
    fn utf8_looking_rows_are_told_apart() {
        let mut row = csv::ByteRecord::new();
        row.push_field("王小明".as_bytes());
        row.push_field(b"321083197812162119");
        assert!(looks_utf8(&row));
        let mut row = csv::ByteRecord::new();
        row.push_field(&GBK.encode("王小明").0);
        assert!(!looks_utf8(&row));
        let mut row = csv::ByteRecord::new();
        row.push_field(b"ascii only");
        assert!(!looks_utf8(&row));
    }
}
