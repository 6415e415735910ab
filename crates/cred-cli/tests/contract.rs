//! `cred`'s contract with scripts and readers, end to end: the exit code of every
//! verification status as the README and `--help` document it (single commands and
//! batches), each command's `--help` showing its own options first and only the global
//! options that apply, and pointless global options refused the same way everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use serde_json::Value;

mod cli_common;
use cli_common::*;

const FOUND: &str = "321083197812162119";
const SERIAL: &str = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.";

fn serial(s: &str) -> String {
    format!("{SERIAL}{s}.001.0")
}

fn by_holder(holder: &str) -> Vec<String> {
    ["by-holder", "--holder-code", holder, "--cert-type", "T01"]
        .map(str::to_owned)
        .to_vec()
}

fn info(serial_part: &str) -> Vec<String> {
    vec![
        "info".to_owned(),
        "--certificate-id".to_owned(),
        serial(serial_part),
    ]
}

/// What a case must give: the exit code, then for an answer `found` and
/// `licence_status`, for a failure the error kind.
#[derive(Debug)]
enum Expect {
    Answer(bool, Option<&'static str>),
    Failure(i32, &'static str),
}

#[test]
fn every_licence_status_keeps_the_exit_code_contract() {
    use Expect::*;
    let cases: Vec<(Vec<String>, Expect)> = vec![
        (by_holder(FOUND), Answer(true, None)),
        (by_holder("370402199003070119"), Answer(false, None)),
        (
            by_holder("370402199003070127"),
            Answer(false, Some("revoked")),
        ),
        (
            by_holder("370402199003070135"),
            Answer(false, Some("expired")),
        ),
        (
            by_holder("370402199003070207"),
            Answer(false, Some("restricted")),
        ),
        (by_holder("370402199003070143"), Failure(3, "permission")),
        (by_holder("370402199003070151"), Failure(1, "not-found")),
        (info("REVOKED21"), Answer(false, Some("revoked"))),
        (info("EXPIRED22"), Answer(false, Some("expired"))),
        (info("RESTRICTED23"), Answer(false, Some("restricted"))),
        (info("NORECORD10"), Answer(false, None)),
        (
            ["by-qrcode", "--qr", "SANDBOX-QR-EXPIRED"]
                .map(str::to_owned)
                .to_vec(),
            Answer(false, Some("expired")),
        ),
        (
            vec![
                "download-url".to_owned(),
                "--certificate-id".to_owned(),
                serial("EXPIRED22"),
            ],
            Answer(false, Some("expired")),
        ),
    ];
    for (args, expect) in &cases {
        let (code, out, err) = run(cred()
            .args(["--sandbox", "--json", "zz-license"])
            .args(args));
        let json = one_json(&out);
        match expect {
            Answer(found, status) => {
                assert_eq!(code, 0, "{args:?}: {out} {err}");
                assert!(err.is_empty(), "{args:?}: an answer prints no error: {err}");
                assert_eq!(json["found"], *found, "{args:?}: {out}");
                assert_eq!(
                    json.get("licence_status").and_then(Value::as_str),
                    *status,
                    "{args:?}: {out}"
                );
                if status.is_some() {
                    assert_eq!(json["result"], Value::Null, "{args:?}: no licence data");
                    assert_eq!(json["charged"], false, "{args:?}");
                }
            }
            Failure(exit, kind) => {
                assert_eq!(code, *exit, "{args:?}: {out} {err}");
                assert_eq!(json["error"]["kind"], *kind, "{args:?}: {out}");
                assert!(json.get("licence_status").is_none(), "{args:?}");
            }
        }
        // The readable view says the same, on stdout, with the same exit code.
        let (readable_code, out, err) = run(cred().args(["--sandbox", "zz-license"]).args(args));
        assert_eq!(readable_code, code, "{args:?}: {out} {err}");
        if let Answer(false, Some(status)) = expect {
            assert!(
                out.contains(&format!("found  no: the licence is {status} (证照已")),
                "{args:?}: {out}"
            );
            assert!(err.is_empty(), "{err}");
        }
    }
    // `download` of an expired licence: an answer, and no file left behind.
    let dir = tempdir("download");
    let file = dir.join("licence.pdf");
    let (code, out, err) = run(cred()
        .args(["--sandbox", "zz-license", "download", "--certificate-id"])
        .arg(serial("EXPIRED22"))
        .arg("--output")
        .arg(&file));
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("no: the licence is expired"), "{out}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_documents_state_the_contract_the_tests_assert() {
    let (code, help, _) = run(cred().arg("--help"));
    assert_eq!(code, 0);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "Exit codes: 0 answered (found, not found, or a licence revoked, expired or restricted: `licence_status` in --json)"
        ),
        "{help}"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(
            "| 0 | answered: found, not found, or a licence's status (revoked, expired, restricted: `licence_status` in `--json`) |"
        ),
        "the cred-cli README's exit-code table"
    );
    assert!(
        readme.contains("`licence_status` (only"),
        "the batch line's fields"
    );
}

#[test]
fn a_licence_status_is_an_answered_row_and_never_stops_a_batch() {
    let dir = tempdir("batch");
    let input = dir.join("holders.csv");
    // The restricted licence first: it used to be a `permission` error, which stops a
    // run (no later row could succeed with an account that lacks a permission).
    std::fs::write(
        &input,
        "holder-code,cert-type\n\
         370402199003070207,T01\n\
         370402199003070135,T01\n\
         370402199003070127,T01\n\
         321083197812162119,T01\n\
         370402199003070119,T01\n\
         370402199003070135,T01\n",
    )
    .unwrap();
    let output = dir.join("out.jsonl");
    let (code, out, err) = run(cred()
        .args(["--sandbox", "--json", "batch", "zz-license", "by-holder"])
        .args(["--concurrency", "1", "--input"])
        .arg(&input)
        .arg("--journal")
        .arg(dir.join("holders.journal"))
        .arg("--output")
        .arg(&output));
    assert_eq!(code, 0, "{out} {err}");
    let summary = one_json(&out);
    assert_eq!(summary["statuses"]["answered"], 5, "{out}");
    assert_eq!(summary["statuses"]["failed"], 0, "{out}");
    assert_eq!(summary["found"], 1, "{out}");
    assert_eq!(summary["not_found"], 4, "{out}");
    assert_eq!(
        summary["licence_statuses"],
        serde_json::json!({"expired": 1, "restricted": 1, "revoked": 1}),
        "{out}"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &Value, Option<&str>)> = lines
        .iter()
        .map(|l| {
            (
                l["status"].as_str().unwrap(),
                &l["found"],
                l.get("licence_status").and_then(Value::as_str),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("answered", &Value::Bool(false), Some("restricted")),
            ("answered", &Value::Bool(false), Some("expired")),
            ("answered", &Value::Bool(false), Some("revoked")),
            ("answered", &Value::Bool(true), None),
            ("answered", &Value::Bool(false), None),
            ("duplicate", &Value::Bool(false), Some("expired")),
        ]
    );
    // The readable summary counts them too.
    let (code, _, err) = run(cred()
        .args(["--sandbox", "batch", "zz-license", "by-holder", "--input"])
        .arg(&input)
        .arg("--journal")
        .arg(dir.join("holders.journal"))
        .arg("--output")
        .arg(&output));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("found 1, not found 4: licence expired 1, restricted 1, revoked 1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The index of `needle` in `text`, or a failure naming both.
fn at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("no {needle} in {text}"))
}

#[test]
fn a_commands_help_lists_its_own_options_first() {
    for (args, own) in [
        (vec!["zz-license", "by-holder"], "--holder-code"),
        (vec!["zz-license", "by-holder"], "--cause"),
        (vec!["zhima", "jobworth"], "--once-token"),
        (vec!["jumdata", "credential"], "--certificate-no"),
        (vec!["juhe", "administrative-license"], "--skip"),
        (vec!["batch", "zz-license", "by-holder"], "--journal"),
    ] {
        let (code, help, _) = run(cred().args(&args).arg("--help"));
        assert_eq!(code, 0, "{args:?}");
        let global = at(&help, "Global options:");
        assert!(at(&help, own) < global, "{args:?}: {own} after the globals");
        for flag in ["--sandbox", "--base-url", "--redis ", "--timeout", "--json"] {
            assert!(at(&help, flag) > global, "{args:?}: {flag} among its own");
        }
    }
    // The licence platform's audit context has a heading of its own, between the two.
    let (_, help, _) = run(cred().args(["zz-license", "by-holder", "--help"]));
    let audit = at(&help, "Audit context (调用审计):");
    assert!(at(&help, "--holder-code") < audit && audit < at(&help, "Global options:"));
    assert!(at(&help, "--cause") > audit);

    // Only the global options that apply are shown.
    for (args, shown, hidden) in [
        (
            vec!["check", "idcard"],
            &["--json", "--verbose"][..],
            &["--sandbox", "--base-url", "--redis", "--timeout", "--proxy"][..],
        ),
        (
            vec!["sandbox", "serve"],
            &["--json", "--verbose", "--env-file"][..],
            &["--sandbox", "--base-url", "--rate-limit", "--ca-file"][..],
        ),
        (
            vec!["completions"],
            &[][..],
            &["--sandbox", "--json", "--verbose", "--redis"][..],
        ),
    ] {
        let (code, help, _) = run(cred().args(&args).arg("--help"));
        assert_eq!(code, 0, "{args:?}");
        for flag in shown {
            assert!(help.contains(flag), "{args:?}: {flag} missing\n{help}");
        }
        for flag in hidden {
            assert!(!help.contains(flag), "{args:?}: {flag} shown\n{help}");
        }
    }
}

#[test]
fn global_options_that_do_nothing_are_refused_everywhere() {
    let id = FOUND;
    for (args, flag) in [
        (vec!["--sandbox", "check", "idcard", id], "--sandbox"),
        (
            vec!["--base-url", "http://x", "check", "idcard", id],
            "--base-url",
        ),
        (
            vec!["--redis", "redis://x", "check", "idcard", id],
            "--redis",
        ),
        (
            vec!["check", "--redis-namespace", "x", "idcard", id],
            "--redis-namespace",
        ),
        (
            vec!["--timeout", "3", "check", "uscc", "91310110666007217T"],
            "--timeout",
        ),
        (
            vec![
                "--proxy",
                "http://x:1",
                "sandbox",
                "serve",
                "--addr",
                "127.0.0.1:0",
            ],
            "--proxy",
        ),
        (
            vec![
                "sandbox",
                "serve",
                "--rate-limit",
                "3",
                "--addr",
                "127.0.0.1:0",
            ],
            "--rate-limit",
        ),
        (vec!["--sandbox", "completions", "bash"], "--sandbox"),
        (
            vec!["--redis", "redis://x", "completions", "bash"],
            "--redis",
        ),
        (vec!["completions", "bash", "-v"], "-v"),
    ] {
        let (code, out, err) = run(cred().args(&args));
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        let line = one_error_line(&err);
        assert!(
            line.contains(&format!("invalid {flag}: does nothing for `cred ")),
            "{args:?}: {line}"
        );
    }
    // With --json the refusal is one JSON object.
    let (code, out, _) = run(cred().args(["--json", "completions", "bash"]));
    assert_eq!(code, 2);
    let error = &one_json(&out)["error"];
    assert_eq!(error["kind"], "invalid-argument", "{out}");
    assert!(
        error["message"].as_str().unwrap().contains("--json"),
        "{out}"
    );
    // CRED_REDIS_URL is set for every command: not refused, and what applies still runs.
    let (code, out, err) = run(cred()
        .env("CRED_REDIS_URL", "redis://127.0.0.1:1")
        .args(["check", "idcard", id]));
    assert_eq!(code, 0, "{out} {err}");
    let (code, out, _) = run(cred()
        .env("CRED_REDIS_URL", "redis://127.0.0.1:1")
        .args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(out.contains("zz-license"));
    let (code, out, _) = run(cred().args(["--json", "check", "idcard", id]));
    assert_eq!(code, 0);
    assert_eq!(one_json(&out)["valid"], true, "{out}");
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cred-contract-{what}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
