//! A ledger of a million records, written through group commits, verifies whole; one
//! edited record near its end is still found and named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_core::Charged;
use cred_ledger::{Entry, Ledger, LedgerOptions, Outcome, SubjectKind, verify};

#[test]
fn a_million_records_verify() {
    let dir = std::env::temp_dir().join(format!("cred-ledger-million-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    const N: usize = 1_000_000;
    let mut last = None;
    for i in 0..N {
        let pending = ledger.record(
            Entry::new(
                "batch:ops",
                "jumdata",
                "credential",
                Outcome::Found,
                Charged::Yes,
            )
            .purpose(Some("annual re-check"))
            .subject(SubjectKind::IdNumber, "321083197812162119")
            .subject(SubjectKind::Name, "王小明"),
        );
        // Wait every 50,000 records, so the queue stays bounded.
        if i % 50_000 == 49_999 {
            assert_eq!(pending.wait().unwrap(), i as i64 + 1);
        } else {
            last = Some(pending);
        }
    }
    drop(last);
    drop(ledger);
    let started = std::time::Instant::now();
    let v = verify(&path, None).unwrap();
    let took = started.elapsed();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(
        (v.verified, v.last_seq, v.head_seq),
        (N as i64, N as i64, Some(N as i64))
    );
    eprintln!("verified {N} records in {took:?}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE records SET purpose = 'other' WHERE seq = 999990",
        [],
    )
    .unwrap();
    drop(conn);
    let problem = verify(&path, None).unwrap().problem.unwrap();
    assert_eq!(problem.seq, 999_990);
    std::fs::remove_dir_all(&dir).unwrap();
}
