//! Property tests of the input decoders: whatever bytes a file holds (cut anywhere, in
//! any encoding), reading it never panics, every row is numbered in order, and a row
//! that cannot be read is reported without quoting it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_batch::input::{Encoding, Input, json_lines};
use cred_batch::{ColumnMap, RowRead};
use proptest::prelude::*;

/// A value that must never appear in an error: planted in the input.
const PLANTED: &str = "321083197812162119";

fn check_rows(rows: Vec<RowRead>) -> Result<(), TestCaseError> {
    let mut last = 0;
    for read in rows {
        prop_assert!(read.number() > last, "rows numbered in order");
        last = read.number();
        match &read {
            RowRead::Unreadable { reason, .. } => {
                prop_assert!(!reason.contains(PLANTED), "{reason}");
            }
            // Decoded strictly: never a replacement character standing for bytes that
            // did not decode (the inputs here hold none of their own).
            RowRead::Row(row) => {
                for (_, value) in row.fields() {
                    prop_assert!(!value.contains('\u{fffd}'), "a garbled value was read");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The CSV rows of `bytes` read as `encoding`, through a file (detection reads the
/// whole file).
fn csv_rows(bytes: &[u8], encoding: Encoding) -> Option<Vec<RowRead>> {
    let path = std::env::temp_dir().join(format!(
        "cred-batch-prop-{}-{:?}-{}.csv",
        std::process::id(),
        std::thread::current().id(),
        encoding as u8
    ));
    std::fs::write(&path, bytes).unwrap();
    let mut input = Input::new(&path);
    input.encoding = encoding;
    let rows = input.rows().ok().map(|r| r.collect());
    let _ = std::fs::remove_file(&path);
    rows
}

fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just(PLANTED.to_owned()),
        Just("王小明".to_owned()),
        Just("\"".to_owned()),
        Just("\"a,b\"".to_owned()),
        "[ -~]{0,8}",
        "\\PC{0,4}",
    ];
    let line = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    (
        prop::collection::vec(line, 0..12),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(lines, gbk, cut)| {
            let text = format!("name,idcard\n{}", lines.join("\n"));
            let mut bytes = if gbk {
                encoding_rs::GBK.encode(&text).0.into_owned()
            } else {
                text.into_bytes()
            };
            let keep = bytes.len() * usize::from(cut) / 255;
            bytes.truncate(keep.max(1));
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn csv_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assume!(!bytes.windows(3).any(|w| w == "\u{fffd}".as_bytes()));
        for encoding in [Encoding::Auto, Encoding::Utf8, Encoding::Gbk] {
            if let Some(rows) = csv_rows(&bytes, encoding) {
                check_rows(rows)?;
            }
        }
    }

    #[test]
    fn csv_shaped_input_cut_anywhere(bytes in csv_like()) {
        prop_assume!(!bytes.windows(3).any(|w| w == "\u{fffd}".as_bytes()));
        if let Some(rows) = csv_rows(&bytes, Encoding::Auto) {
            check_rows(rows)?;
        }
    }

    #[test]
    fn json_lines_never_panic(lines in prop::collection::vec(prop_oneof![
        Just(format!("{{\"idcard\":\"{PLANTED}\"}}")),
        Just(format!("{{\"idcard\":\"{PLANTED}\"")),
        Just(format!("[\"{PLANTED}\"]")),
        Just(format!("\"{PLANTED}\"")),
        "\\PC{0,20}",
    ], 0..10)) {
        let text = lines.join("\n");
        check_rows(json_lines(std::io::Cursor::new(text), ColumnMap::new()).collect())?;
    }
}
