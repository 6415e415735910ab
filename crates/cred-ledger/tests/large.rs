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
    // The chain is verified in segments side by side: the first problem is the one
    // with the lowest seq, whichever segment finds it, and a record deleted where two
    // segments meet is found too.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let sql = |statement: &str| conn.execute_batch(statement).unwrap();
    let first_problem = || verify(&path, None).unwrap().problem.map(|p| p.seq);
    sql("UPDATE records SET purpose = 'other' WHERE seq = 999990");
    assert_eq!(first_problem(), Some(999_990));
    sql("UPDATE records SET purpose = 'other' WHERE seq = 300000");
    assert_eq!(first_problem(), Some(300_000));
    sql("UPDATE records SET purpose = 'annual re-check' WHERE seq IN (300000, 999990)");
    assert_eq!(first_problem(), None, "restored, the chain is whole again");
    sql("DELETE FROM records WHERE seq = 500000");
    assert_eq!(first_problem(), Some(500_000));
    drop(conn);
    std::fs::remove_dir_all(&dir).unwrap();
}
