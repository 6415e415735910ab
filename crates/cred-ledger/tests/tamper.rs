//! Tampering with a real ledger (SQLite files, key and head on disk): every kind of edit
//! is found and named; a clean ledger verifies; nothing personal is stored in clear.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};

use cred_core::Charged;
use cred_ledger::{Entry, GroupBy, Ledger, LedgerOptions, Outcome, Subject, SubjectKind, verify};
use rusqlite::Connection;

const PEOPLE: [(&str, &str); 3] = [
    ("王小明", "321083197812162119"),
    ("李四", "11010519491231002X"),
    ("张三丰", "440524188001010014"),
];
const LICENCE: &str = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N";

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cred-ledger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A ledger of `n` records: person `i % 3`, callers from the CLI, a batch and a gateway key.
fn ledger_with(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("audit.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let callers = ["cli:alice", "batch:bob", "hr-onboarding"];
    let pending: Vec<_> = (0..n)
        .map(|i| {
            let (name, id) = PEOPLE[i % 3];
            let mut entry = Entry::new(
                callers[i % 3],
                "jumdata",
                "credential",
                if i % 4 == 0 {
                    Outcome::NotFound
                } else {
                    Outcome::Found
                },
                if i % 4 == 0 {
                    Charged::No
                } else {
                    Charged::Yes
                },
            )
            .purpose(Some("onboarding"))
            .request_id(Some(&format!("task-{i}")))
            .idempotency_key(Some(&format!("idem-{i}")))
            .subject(SubjectKind::Name, name)
            .subject(SubjectKind::IdNumber, id);
            if i % 5 == 0 {
                entry = entry.subject(SubjectKind::LicenceId, LICENCE);
            }
            ledger.record(entry)
        })
        .collect();
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap(), i as i64 + 1);
    }
    drop(ledger);
    path
}

fn sql(path: &Path, statement: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn problem_at(path: &Path) -> (i64, String) {
    let v = verify(path, None).unwrap();
    let p = v
        .problem
        .clone()
        .unwrap_or_else(|| panic!("verified: {v:?}"));
    (p.seq, p.what)
}

#[test]
fn a_clean_ledger_verifies() {
    let d = dir("clean");
    let path = ledger_with(&d, 20);
    let v = verify(&path, None).unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(
        (v.verified, v.last_seq, v.head_seq, v.after_head),
        (20, 20, Some(20), 0)
    );
    // Reopened, it goes on from where it was.
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let seq = ledger
        .record(Entry::new(
            "cli:alice",
            "juhe",
            "con-lic",
            Outcome::Found,
            Charged::Yes,
        ))
        .wait()
        .unwrap();
    assert_eq!(seq, 21);
    drop(ledger);
    assert!(verify(&path, None).unwrap().is_ok());
}

#[test]
fn an_edited_field_is_named() {
    let d = dir("edit");
    let path = ledger_with(&d, 20);
    sql(&path, "UPDATE records SET charged = 'no' WHERE seq = 7");
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 7, "{what}");
    assert!(what.contains("does not match its MAC"), "{what}");
}

#[test]
fn a_deleted_record_is_named() {
    let d = dir("delete");
    let path = ledger_with(&d, 20);
    sql(&path, "DELETE FROM records WHERE seq = 9");
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 9, "{what}");
    assert!(what.contains("missing"), "{what}");
}

#[test]
fn an_inserted_record_is_named() {
    let d = dir("insert");
    let path = ledger_with(&d, 20);
    // Room made at 5 by renumbering, then a copy of record 2 put there.
    sql(
        &path,
        "UPDATE records SET seq = seq + 100 WHERE seq >= 5;
         UPDATE records SET seq = seq - 99 WHERE seq >= 105;
         INSERT INTO records SELECT 5, at_ms, caller, purpose, provider, operation, outcome, error_kind, charged, request_id, idempotency_key_hmac, latency_us, subjects, mac FROM records WHERE seq = 2;",
    );
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 5, "{what}");
    // And one added at the end, with a made-up MAC.
    let d = dir("append");
    let path = ledger_with(&d, 20);
    sql(
        &path,
        "INSERT INTO records SELECT 21, at_ms, caller, purpose, provider, operation, outcome, error_kind, charged, request_id, idempotency_key_hmac, latency_us, subjects, mac FROM records WHERE seq = 20;",
    );
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 21, "{what}");
}

#[test]
fn swapped_records_are_named() {
    let d = dir("swap");
    let path = ledger_with(&d, 20);
    sql(
        &path,
        "UPDATE records SET seq = -3 WHERE seq = 3;
         UPDATE records SET seq = 3 WHERE seq = 11;
         UPDATE records SET seq = 11 WHERE seq = -3;",
    );
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 3, "{what}");
}

#[test]
fn a_cut_tail_is_named() {
    let d = dir("truncate");
    let path = ledger_with(&d, 20);
    sql(&path, "DELETE FROM records WHERE seq > 15");
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 16, "{what}");
    assert!(what.contains("16 to 20"), "{what}");
}

#[test]
fn another_key_is_named_at_the_first_record() {
    let d = dir("key");
    let path = ledger_with(&d, 20);
    let other = ledger_with(&dir("key-other"), 1);
    std::fs::copy(cred_ledger::key_path(&other), cred_ledger::key_path(&path)).unwrap();
    let (seq, what) = problem_at(&path);
    assert_eq!(seq, 1, "{what}");
    // Writing with it is refused.
    let err = Ledger::open(&path, LedgerOptions::default()).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn a_missing_or_edited_head_fails() {
    let d = dir("head");
    let path = ledger_with(&d, 20);
    let head = cred_ledger::head_path(&path);
    let text = std::fs::read_to_string(&head).unwrap();
    std::fs::write(&head, text.replace("seq: 20", "seq: 12")).unwrap();
    let (_, what) = problem_at(&path);
    assert!(what.contains("head's tag is wrong"), "{what}");
    std::fs::remove_file(&head).unwrap();
    let (_, what) = problem_at(&path);
    assert!(what.contains("head"), "{what}");
}

#[test]
fn a_head_kept_elsewhere_shows_a_rewritten_history() {
    let d = dir("kept");
    let path = ledger_with(&d, 10);
    let kept = cred_ledger::current_head(&path, None).unwrap().unwrap();
    assert_eq!(kept.seq, 10);
    assert!(
        cred_ledger::verify_against(&path, None, &kept)
            .unwrap()
            .is_none()
    );
    // Whoever holds the key rewrites record 10 and everything it chains to: the
    // ledger still verifies, but not against the head kept elsewhere.
    sql(&path, "DELETE FROM records WHERE seq = 10");
    std::fs::remove_file(cred_ledger::head_path(&path)).unwrap();
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    ledger
        .record(Entry::new(
            "cli:mallory",
            "jumdata",
            "credential",
            Outcome::Found,
            Charged::No,
        ))
        .wait()
        .unwrap();
    drop(ledger);
    assert!(verify(&path, None).unwrap().is_ok());
    let problem = cred_ledger::verify_against(&path, None, &kept)
        .unwrap()
        .unwrap();
    assert_eq!(problem.seq, 10);
}

#[test]
fn nothing_personal_is_stored_in_clear() {
    let d = dir("scan");
    let path = ledger_with(&d, 30);
    // Keep the WAL around (a writer still open) and scan it as well.
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    ledger
        .record(
            Entry::new(
                "cli:alice",
                "zz-license",
                "cert-info",
                Outcome::Found,
                Charged::No,
            )
            .subject(SubjectKind::IdNumber, PEOPLE[1].1)
            .subject(SubjectKind::Name, PEOPLE[1].0),
        )
        .wait()
        .unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(&d).unwrap() {
        let file = entry.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        files += 1;
        for (name, id) in PEOPLE {
            for needle in [
                name.as_bytes().to_vec(),
                id.as_bytes().to_vec(),
                id.to_ascii_lowercase().into_bytes(),
                id.as_bytes()[..14].to_vec(),
                LICENCE.as_bytes().to_vec(),
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{} holds a personal value",
                    file.display()
                );
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", file.display());
        }
    }
    assert!(files >= 5, "db, wal, shm, key and head expected: {files}");
    drop(ledger);
}

#[test]
fn find_returns_exactly_the_calls_about_a_subject() {
    let d = dir("find");
    let path = ledger_with(&d, 30);
    for (i, (name, id)) in PEOPLE.iter().enumerate() {
        let expected: Vec<i64> = (0..30)
            .filter(|j| j % 3 == i)
            .map(|j| j as i64 + 1)
            .collect();
        // The ID number in either case of its check character, with spaces around.
        for query in [id.to_string(), format!(" {} ", id.to_ascii_lowercase())] {
            let found =
                cred_ledger::find(&path, None, &Subject::new(SubjectKind::IdNumber, &query))
                    .unwrap();
            assert_eq!(found.iter().map(|r| r.seq).collect::<Vec<_>>(), expected);
        }
        let found = cred_ledger::find(&path, None, &Subject::new(SubjectKind::Name, name)).unwrap();
        assert_eq!(found.iter().map(|r| r.seq).collect::<Vec<_>>(), expected);
        // Callers from the CLI, a batch and a gateway key are all there.
        assert!(
            found
                .iter()
                .all(|r| r.purpose.as_deref() == Some("onboarding"))
        );
    }
    let licence =
        cred_ledger::find(&path, None, &Subject::new(SubjectKind::LicenceId, LICENCE)).unwrap();
    assert_eq!(
        licence.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 6, 11, 16, 21, 26]
    );
    // An ID number as a name finds nothing: kinds are kept apart.
    let none =
        cred_ledger::find(&path, None, &Subject::new(SubjectKind::Name, PEOPLE[0].1)).unwrap();
    assert!(none.is_empty());
    let nobody = cred_ledger::find(
        &path,
        None,
        &Subject::new(SubjectKind::IdNumber, "110105194912310021"),
    )
    .unwrap();
    assert!(nobody.is_empty());
}

#[test]
fn report_counts_charged_calls_by_caller() {
    let d = dir("report");
    let path = ledger_with(&d, 12);
    let rows = cred_ledger::report(&path, None, 0, i64::MAX, GroupBy::Caller).unwrap();
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.group.as_str(), r.calls, r.charged, r.not_found))
        .collect();
    // i % 4 == 0 (0, 4, 8) is an uncharged "no record"; callers by i % 3.
    assert_eq!(
        summary,
        vec![
            ("batch:bob", 4, 3, 1),
            ("cli:alice", 4, 3, 1),
            ("hr-onboarding", 4, 3, 1)
        ]
    );
    let none = cred_ledger::report(&path, None, 0, 1, GroupBy::Operation).unwrap();
    assert!(none.is_empty());
}

#[test]
fn a_ledger_is_never_started_afresh_where_one_was() {
    let d = dir("afresh");
    let path = ledger_with(&d, 3);
    std::fs::rename(cred_ledger::key_path(&path), d.join("elsewhere.key")).unwrap();
    let err = Ledger::open(&path, LedgerOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("its key"), "{err}");
    // With the key's path given, it opens.
    let ledger =
        Ledger::open(&path, LedgerOptions::default().key(d.join("elsewhere.key"))).unwrap();
    drop(ledger);
    // A key left without its ledger: a wrong path, never a new ledger.
    std::fs::rename(&path, d.join("moved.ledger")).unwrap();
    std::fs::copy(d.join("elsewhere.key"), cred_ledger::key_path(&path)).unwrap();
    let err = Ledger::open(&path, LedgerOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("never started"), "{err}");
    // A directory that does not exist.
    let err = Ledger::open(d.join("nope/audit.ledger"), LedgerOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_required_purpose_is_checked_before_the_call() {
    let d = dir("purpose");
    let ledger = Ledger::open(
        d.join("p.ledger"),
        LedgerOptions::default().require_purpose(true),
    )
    .unwrap();
    assert!(ledger.check_purpose(None).is_err());
    assert!(ledger.check_purpose(Some("  ")).is_err());
    assert!(ledger.check_purpose(Some("hiring")).is_ok());
    let err = ledger
        .record(Entry::new(
            "cli:a",
            "jumdata",
            "credential",
            Outcome::Found,
            Charged::Yes,
        ))
        .wait()
        .unwrap_err();
    assert!(err.to_string().contains("purpose is required"), "{err}");
}

#[test]
fn concurrent_writers_share_commits_and_keep_one_chain() {
    let d = dir("threads");
    let path = d.join("audit.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let mut seqs: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let ledger = ledger.clone();
                s.spawn(move || {
                    (0..250)
                        .map(|i| {
                            ledger
                                .record(
                                    Entry::new(
                                        &format!("worker-{t}"),
                                        "jumdata",
                                        "credential",
                                        Outcome::Found,
                                        Charged::Yes,
                                    )
                                    .subject(SubjectKind::IdNumber, PEOPLE[i % 3].1),
                                )
                                .wait()
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=2000).collect::<Vec<_>>());
    // A second process-like writer on the same files (another open): one chain still.
    let second = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let a = ledger.record(Entry::new("a", "juhe", "x", Outcome::Found, Charged::No));
    let b = second.record(Entry::new("b", "juhe", "x", Outcome::Found, Charged::No));
    let mut two = [a.wait().unwrap(), b.wait().unwrap()];
    two.sort_unstable();
    assert_eq!(two, [2001, 2002]);
    drop(second);
    drop(ledger);
    let v = verify(&path, None).unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.last_seq, 2002);
}

#[test]
fn processes_opening_a_new_ledger_at_once_share_one() {
    let d = dir("race");
    let path = d.join("audit.ledger");
    let seqs: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                s.spawn(move || {
                    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
                    ledger
                        .record(Entry::new(
                            &format!("p{i}"),
                            "jumdata",
                            "credential",
                            Outcome::Found,
                            Charged::Yes,
                        ))
                        .wait()
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seqs = seqs;
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    assert!(verify(&path, None).unwrap().is_ok());
}

#[tokio::test]
async fn a_ledger_that_stops_writing_refuses_the_calls_after() {
    let d = dir("broken");
    let path = d.join("audit.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let entry = || {
        Entry::new(
            "cli:a",
            "jumdata",
            "credential",
            Outcome::Found,
            Charged::Yes,
        )
    };
    ledger.record(entry()).committed().await.unwrap();
    assert!(ledger.check_writable().is_ok());
    // Every insert from now on fails (as a full disk or a damaged file would).
    sql(
        &path,
        "CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    );
    assert!(ledger.record(entry()).committed().await.is_err());
    let err = ledger.check_writable().unwrap_err().to_string();
    assert!(err.contains("refused"), "{err}");
    // A call through the ledger is not made: its future is never polled.
    let request = jumdata_api::CredentialQuery::new("王小明", "321083197812162119");
    let (answer, recorded) = ledger
        .audit::<_, (), _>("cli:a", None, "jumdata", "credential", &request, async {
            panic!("the call was made")
        })
        .await;
    let answer = answer.unwrap_err();
    assert_eq!(answer.kind(), cred_core::ErrorKind::Config);
    assert_eq!(answer.charged(), Charged::No);
    assert!(
        answer.to_string().contains("the call was not made"),
        "{answer}"
    );
    assert!(recorded.is_err());
}
