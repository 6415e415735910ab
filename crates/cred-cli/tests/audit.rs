//! `cred audit verify|head|find|report` on a real ledger, run as the `cred` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cred_core::Charged;
use cred_ledger::{Entry, Ledger, LedgerOptions, Outcome, SubjectKind};

const PEOPLE: [(&str, &str); 2] = [
    ("王小明", "321083197812162119"),
    ("李四", "11010519491231002X"),
];

fn cred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cred"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn no_personal_value(out: &Output) {
    let (stdout, stderr) = text(out);
    for (name, id) in PEOPLE {
        for needle in [name, id, &id.to_ascii_lowercase()] {
            assert!(
                !stdout.contains(needle) && !stderr.contains(needle),
                "{stdout}{stderr}"
            );
        }
    }
}

/// Six calls: person 0 by the CLI and a gateway key, person 1 by a batch.
fn ledger(dir: &Path) -> PathBuf {
    let path = dir.join("audit.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let calls = [
        ("cli:alice", 0, Outcome::Found, Charged::Yes),
        ("hr-portal", 0, Outcome::NotFound, Charged::No),
        ("batch:bob", 1, Outcome::Found, Charged::Yes),
        ("batch:bob", 1, Outcome::Error, Charged::Unknown),
        ("cli:alice", 0, Outcome::Found, Charged::Yes),
        ("batch:bob", 1, Outcome::Found, Charged::Yes),
    ];
    for (caller, person, outcome, charged) in calls {
        let (name, id) = PEOPLE[person];
        let mut entry = Entry::new(caller, "jumdata", "credential", outcome, charged)
            .purpose(Some("入职背景核查"))
            .subject(SubjectKind::IdNumber, id)
            .subject(SubjectKind::Name, name);
        if outcome == Outcome::Error {
            entry = entry.error_kind("timeout");
        }
        ledger.record(entry).wait().unwrap();
    }
    path
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cred-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn verify_head_and_a_kept_head() {
    let dir = tempdir("verify");
    let path = ledger(&dir);
    let p = path.to_str().unwrap();
    let out = cred(&["audit", "verify", p]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(
        text(&out).0.starts_with("verified: 6 records"),
        "{:?}",
        text(&out)
    );
    let out = cred(&["audit", "head", p]);
    assert_eq!(out.status.code(), Some(0));
    let kept = dir.join("kept.head");
    std::fs::write(&kept, &out.stdout).unwrap();
    let out = cred(&["audit", "verify", p, "--against", kept.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(text(&out).0.contains("record 6 matches the kept head"));
    // One field edited: exit 1, the record named.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE records SET caller = 'cli:mallory' WHERE seq = 4",
        [],
    )
    .unwrap();
    drop(conn);
    let out = cred(&["--json", "audit", "verify", p]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["problem"]["seq"], 4);
    // A ledger that is not there: exit 3, said plainly.
    let out = cred(&["audit", "verify", dir.join("nope.ledger").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).1.contains("there is no ledger"),
        "{:?}",
        text(&out)
    );
}

#[test]
fn find_answers_a_request_to_know() {
    let dir = tempdir("find");
    let path = ledger(&dir);
    let p = path.to_str().unwrap();
    let out = cred(&["--json", "audit", "find", p, "--idcard", PEOPLE[0].1]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    no_personal_value(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seqs: Vec<i64> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 5]);
    assert_eq!(v["records"][1]["caller"], "hr-portal");
    let out = cred(&["audit", "find", p, "--name", PEOPLE[1].0, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    no_personal_value(&out);
    let (stdout, _) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("seq,time,caller,purpose"), "{stdout}");
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[2].starts_with("4,") && lines[2].contains(",error,timeout,unknown,"),
        "{stdout}"
    );
    // A table names how many calls it found, on stderr.
    let out = cred(&["audit", "find", p, "--idcard", " 11010519491231002x "]);
    assert!(
        text(&out).1.contains("3 calls about this idcard"),
        "{:?}",
        text(&out)
    );
    no_personal_value(&out);
    // No subject: a usage error.
    let out = cred(&["audit", "find", p]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_counts_charged_calls() {
    let dir = tempdir("report");
    let path = ledger(&dir);
    let p = path.to_str().unwrap();
    let out = cred(&["audit", "report", p, "--by", "caller", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        text(&out).0,
        "caller,calls,charged,charge_unknown,found,not_found,errors\n\
         batch:bob,3,2,1,2,0,1\n\
         cli:alice,2,2,0,2,0,0\n\
         hr-portal,1,0,0,0,1,0\n"
    );
    let out = cred(&[
        "--json",
        "audit",
        "report",
        p,
        "--by",
        "purpose",
        "--since",
        "2020-01-01",
        "--until",
        "2099-12-31",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["groups"][0]["group"], "入职背景核查");
    assert_eq!(v["total"]["calls"], 6);
    assert_eq!(v["total"]["charged"], 4);
    // A period without calls, and a bad date.
    let out = cred(&["--json", "audit", "report", p, "--until", "2000-01-01"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["calls"], 0);
    let out = cred(&["audit", "report", p, "--since", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
}
