//! Provider calls recorded in the audit ledger by the `cred` binary: a single call with
//! `--audit-ledger`, a purpose required before anything is sent, and a batch killed
//! (SIGKILL) mid-run whose ledger still verifies and goes on when the batch resumes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod batch_common;

use std::process::{Command, Stdio};
use std::time::Duration;

use batch_common::{Dir, csv, id};

const NAME: &str = "王小明";
const ID_NUMBER: &str = "321083197812162119";

fn cred() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cred"));
    c.env_remove("CRED_REDIS_URL")
        .env_remove("CRED_AUDIT_LEDGER")
        .env_remove("CRED_PURPOSE")
        .env("USER", "auditor");
    c
}

/// `cred --sandbox --audit-ledger LEDGER <global> jumdata credential --name NAME --idcard
/// IDCARD`, run.
fn single(ledger: &std::path::Path, global: &[&str], idcard: &str) -> std::process::Output {
    cred()
        .args(["--sandbox", "--audit-ledger"])
        .arg(ledger)
        .args(global)
        .args(["jumdata", "credential", "--name", NAME, "--idcard", idcard])
        .output()
        .unwrap()
}

fn records(ledger: &std::path::Path) -> Vec<cred_ledger::Record> {
    cred_ledger::find(
        ledger,
        None,
        &cred_ledger::Subject::new(cred_ledger::SubjectKind::Name, NAME),
    )
    .unwrap()
}

#[test]
fn a_single_call_is_recorded_with_its_purpose_and_subjects() {
    let dir = Dir::new("audit-single");
    let ledger = dir.path("audit.ledger");
    let out = single(&ledger, &["--purpose", "入职背景核查"], ID_NUMBER);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = cred_ledger::find(
        &ledger,
        None,
        &cred_ledger::Subject::new(cred_ledger::SubjectKind::IdNumber, ID_NUMBER),
    )
    .unwrap();
    assert_eq!(found.len(), 1);
    let r = &found[0];
    assert_eq!(
        (
            r.caller.as_str(),
            r.purpose.as_deref(),
            r.provider.as_str(),
            r.operation.as_str(),
            r.outcome.as_str(),
            r.charged.as_str()
        ),
        (
            "cli:auditor",
            Some("入职背景核查"),
            "jumdata",
            "credential",
            "found",
            "yes"
        )
    );
    assert!(r.request_id.is_some());
    // Invalid input is refused before the call: nothing sent, nothing recorded.
    let out = single(&ledger, &[], "321083197812162118");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(records(&ledger).len(), 1);
    assert!(cred_ledger::verify(&ledger, None).unwrap().is_ok());
}

#[test]
fn a_required_purpose_is_asked_for_before_anything_is_sent() {
    let dir = Dir::new("audit-purpose");
    let ledger = dir.path("audit.ledger");
    let out = single(&ledger, &["--require-purpose", "--json"], ID_NUMBER);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-argument");
    assert_eq!(v["error"]["charged"], false);
    assert!(v["error"]["message"].as_str().unwrap().contains("purpose"));
    assert!(records(&ledger).is_empty());
    // A broken ledger stops the command before the call, too.
    std::fs::remove_file(cred_ledger::key_path(&ledger)).unwrap();
    let out = single(&ledger, &[], ID_NUMBER);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its key"));
}

#[cfg(unix)]
#[test]
fn a_batch_killed_mid_run_leaves_a_ledger_that_verifies() {
    let dir = Dir::new("audit-kill");
    let ids: Vec<String> = (300..312).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| (NAME, i.as_str())).collect();
    let input = dir.write("people.csv", csv(&rows));
    let ledger = dir.path("audit.ledger");
    let run = |dir: &Dir, extra: &[&str]| {
        cred()
            .args([
                "--sandbox",
                "--rate-limit",
                "5",
                "--purpose",
                "annual re-check",
                "--audit-ledger",
            ])
            .arg(&ledger)
            .args(["batch", "jumdata", "credential", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(dir.path("out.jsonl"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = run(&dir, &[]);
    // Five a second: killed once a few calls are in the ledger.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = cred_ledger::verify(&ledger, None)
            .map(|v| v.last_seq)
            .unwrap_or(0);
        if n >= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no calls recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let v = cred_ledger::verify(&ledger, None).unwrap();
    assert!(v.is_ok(), "{v:?}");
    let before = v.last_seq;
    assert!((3..12).contains(&before), "{v:?}");
    // Resumed, with the rows in flight at the kill sent again (they were recorded as
    // sending, so their outcome is unknown): the chain goes on, and every row's call is
    // in the ledger (a row whose call and record were both made before the kill, but
    // not its journal entry, is recorded twice: it was sent twice).
    let out = run(&dir, &["--resend-unknown"]).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = cred_ledger::verify(&ledger, None).unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert!(
        v.last_seq >= 12,
        "{v:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = records(&ledger);
    assert_eq!(all.len() as i64, v.last_seq);
    assert!(all.iter().all(|r| r.caller == "batch:auditor" && r.purpose.as_deref() == Some("annual re-check")));
    for i in &ids {
        let about = cred_ledger::find(
            &ledger,
            None,
            &cred_ledger::Subject::new(cred_ledger::SubjectKind::IdNumber, i),
        )
        .unwrap();
        assert!(!about.is_empty(), "a row's call is not in the ledger");
    }
}

#[test]
fn a_batch_records_by_default_unless_told_not_to() {
    let dir = Dir::new("audit-default");
    let ids: Vec<String> = (320..324).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| (NAME, i.as_str())).collect();
    let input = dir.write("people.csv", csv(&rows));
    let batch = |extra: &[&str], env: &[(&str, &std::path::Path)]| {
        let mut c = cred();
        c.env_remove("XDG_DATA_HOME");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args([
            "--sandbox",
            "--rate-limit",
            "0",
            "batch",
            "jumdata",
            "credential",
            "--input",
        ])
        .arg(&input)
        .arg("--output")
        .arg(dir.path("out.jsonl"))
        .arg("--journal")
        .arg(dir.path(&format!("j{}.journal", extra.len())))
        .args(extra)
        .output()
        .unwrap()
    };
    let data = dir.path("data");
    let out = batch(&[], &[("XDG_DATA_HOME", &data)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ledger = data.join("credkit/audit.ledger");
    assert!(String::from_utf8_lossy(&out.stderr).contains("every call recorded in"));
    assert_eq!(cred_ledger::verify(&ledger, None).unwrap().last_seq, 4);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("credkit"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }
    // Told not to: nothing recorded.
    let out = batch(&["--no-audit"], &[("XDG_DATA_HOME", &data)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(cred_ledger::verify(&ledger, None).unwrap().last_seq, 4);
    // No place for it: refused before anything is sent.
    let mut c = cred();
    let out = c
        .env_remove("XDG_DATA_HOME")
        .env_remove("HOME")
        .args(["--sandbox", "batch", "jumdata", "credential", "--input"])
        .arg(&input)
        .arg("--journal")
        .arg(dir.path("none.journal"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-audit"));
    assert!(
        !dir.path("none.journal").exists(),
        "nothing may start without its ledger"
    );
}

#[test]
fn a_purpose_column_is_recorded_per_row_and_can_be_required() {
    let dir = Dir::new("audit-column");
    let ids: Vec<String> = (330..333).map(id).collect();
    let input = dir.write(
        "people.csv",
        format!(
            "name,idcard,purpose\n{NAME},{},入职背景核查\n{NAME},{},\n{NAME},{},年度复核\n",
            ids[0], ids[1], ids[2]
        ),
    );
    let ledger = dir.path("audit.ledger");
    let out = cred()
        .args([
            "--sandbox",
            "--rate-limit",
            "0",
            "--require-purpose",
            "--audit-ledger",
        ])
        .arg(&ledger)
        .args(["batch", "jumdata", "credential", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.path("out.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let output = std::fs::read_to_string(dir.path("out.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // The row without a purpose is invalid: refused before anything was sent.
    assert_eq!(lines[1]["status"], "invalid", "{output}");
    assert!(
        lines[1]["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("purpose"),
        "{output}"
    );
    let mut purposes: Vec<Option<String>> =
        records(&ledger).into_iter().map(|r| r.purpose).collect();
    purposes.sort();
    assert_eq!(
        purposes,
        vec![Some("入职背景核查".to_owned()), Some("年度复核".to_owned())]
    );
}

#[test]
fn a_batch_stops_sending_when_its_ledger_stops_writing() {
    let dir = Dir::new("audit-broken");
    let ids: Vec<String> = (340..345).map(id).collect();
    let rows: Vec<(&str, &str)> = ids.iter().map(|i| (NAME, i.as_str())).collect();
    let input = dir.write("people.csv", csv(&rows));
    let ledger = dir.path("audit.ledger");
    // A ledger whose inserts fail (as on a full disk).
    assert!(single(&ledger, &[], ID_NUMBER).status.success());
    rusqlite::Connection::open(&ledger)
        .unwrap()
        .execute_batch("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'refused'); END;")
        .unwrap();
    let out = cred()
        .args(["--sandbox", "--rate-limit", "0", "--audit-ledger"])
        .arg(&ledger)
        .args([
            "batch",
            "jumdata",
            "credential",
            "--concurrency",
            "1",
            "--input",
        ])
        .arg(&input)
        .arg("--output")
        .arg(dir.path("out.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("audit record could not be written"),
        "{stderr}"
    );
    assert!(stderr.contains("the call was not made"), "{stderr}");
    // The first row's call was made (its record failed); no later row was sent.
    assert!(stderr.contains("answered   1"), "{stderr}");
}
