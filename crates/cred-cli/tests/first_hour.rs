//! What a newcomer meets in the first hour, end to end: each message says what to do in
//! the words they typed (variables to check, a URL's missing scheme, how to try the
//! sandbox), readable views name what they show, the README's recipes work on a fresh
//! account, and a batch summary says plainly what was charged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUHE_KEY, JUMDATA_APP_ID};

mod cli_common;
use cli_common::*;

const NAME: &str = "王小明";
const ID: &str = "321083197812162119";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while `cred` runs
async fn auth_errors_name_the_variables_to_check() {
    let sandbox = Sandbox::start().await.unwrap();
    let (code, _, err) = run(cred()
        .env("JUMDATA_APP_ID", JUMDATA_APP_ID)
        .env("JUMDATA_APP_SECRET", "not-the-sandbox-secret")
        .args(["--base-url", sandbox.base_url(), "jumdata", "credential"])
        .args(["--name", NAME, "--idcard", ID]));
    assert_eq!(code, 3, "{err}");
    let line = one_error_line(&err);
    assert!(
        line.contains("(check JUMDATA_APP_ID and JUMDATA_APP_SECRET, and this machine's clock"),
        "{line}"
    );
    assert!(!line.contains("not-the-sandbox-secret"), "{line}");

    let (code, _, err) = run(cred()
        .env("JUHE_KEY", "not-the-sandbox-key")
        .args(["--base-url", sandbox.base_url(), "juhe", "qualification"])
        .args(["--name", "河南省建筑科学研究院有限公司"]));
    assert_eq!(code, 3, "{err}");
    let line = one_error_line(&err);
    assert!(line.ends_with("(check JUHE_KEY)"), "{line}");
    assert!(!line.contains("not-the-sandbox-key") && !line.contains(JUHE_KEY));
}

#[test]
fn configuration_errors_say_what_to_set_or_how_to_try() {
    // A missing variable: which ones to set, or --sandbox; once, not twice.
    let (code, _, err) =
        run(cred().args(["jumdata", "credential", "--name", NAME, "--idcard", ID]));
    assert_eq!(code, 3);
    let line = one_error_line(&err);
    assert!(
        line.ends_with(
            "JUMDATA_APP_ID is not set (set JUMDATA_APP_ID and JUMDATA_APP_SECRET, or try --sandbox)"
        ),
        "{line}"
    );
    assert_eq!(line.matches("sandbox").count(), 1, "{line}");
    // A base URL without a scheme: the URL it probably meant.
    let (code, _, err) = run(cred()
        .env("JUMDATA_APP_ID", "id")
        .env("JUMDATA_APP_SECRET", "secret")
        .args(["--base-url", "127.0.0.1:8787", "jumdata", "credential"])
        .args(["--name", NAME, "--idcard", ID]));
    assert_eq!(code, 3);
    assert!(
        one_error_line(&err).contains("did you mean `http://127.0.0.1:8787`?"),
        "{err}"
    );
}

#[test]
fn readable_views_name_what_they_show() {
    // The province answers' pinyin abbreviations carry a label.
    let licence = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N";
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "zz-license",
        "info",
        "--certificate-id",
        licence,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("证照类型 licence type (zzlx)  "), "{out}");
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("zzlx")),
        "{out}"
    );
    // A pending identity check is not shown as failed.
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "zhima",
        "jobworth",
        "--once-token",
        "SANDBOX-WAITING",
        "--user-id",
        "2088000000000001",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("… WAITING_VERIFY (not decided yet: ask again later)"),
        "{out}"
    );
    assert!(!out.contains('✗'), "{out}");
}

#[test]
fn the_completion_recipe_works_on_a_fresh_account() {
    let (code, help, _) = run(cred().args(["completions", "--help"]));
    assert_eq!(code, 0);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let recipe = "mkdir -p ~/.local/share/bash-completion/completions && cred completions bash > ~/.local/share/bash-completion/completions/cred";
    assert!(help.contains(recipe), "{help}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(
        readme.contains("mkdir -p ~/.local/share/bash-completion/completions")
            && readme.contains(
                "cred completions bash > ~/.local/share/bash-completion/completions/cred"
            ),
        "the README's recipe differs from --help's"
    );
    // Run as written, for an account with nothing under ~/.local.
    let home = std::env::temp_dir().join(format!("cred-fresh-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_cred"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(recipe)
        .env("HOME", &home)
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(status.success());
    let script =
        std::fs::read_to_string(home.join(".local/share/bash-completion/completions/cred"))
            .unwrap();
    assert!(script.contains("zz-license"), "not a completion script");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_batch_summary_says_plainly_what_was_charged() {
    let dir = std::env::temp_dir().join(format!("cred-first-hour-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("people.csv");
    // Found, no record (not charged), and found again.
    std::fs::write(
        &input,
        format!("name,idcard\n{NAME},{ID}\n{NAME},110101199003070011\n{NAME},11010519491231002X\n"),
    )
    .unwrap();
    let batch = |journal: &str| {
        run(cred()
            .args(["--sandbox", "batch", "jumdata", "credential", "--input"])
            .arg(&input)
            .arg("--journal")
            .arg(dir.join(journal))
            .arg("--output")
            .arg(dir.join("out.jsonl")))
    };
    let (code, _, err) = batch("people.journal");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("  charged    2 calls in all, 2 of them this run\n             by outcome: 2 found, 0 not found, 0 errors\n"),
        "{err}"
    );
    // Run again: nothing sent, nothing charged this time; the journal's total stays.
    let (code, _, err) = batch("people.journal");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("  charged    2 calls in all, 0 of them this run\n"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_discontinued_headline_query_fails_as_the_readme_says() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let head: String = readme.lines().take(10).collect::<Vec<_>>().join(" ");
    assert!(
        head.contains("which Jumdata lists as discontinued"),
        "the main job does not say its query is discontinued"
    );
    assert!(
        readme.contains("`cred` exits 3 or 1"),
        "the Example section"
    );
    let (_, help, _) = run(cred().args(["jumdata", "--help"]));
    assert!(help.contains("discontinued"), "{help}");
    // What the README says to expect once it stops answering: 604 exits 3, 404 exits 1,
    // neither charged.
    for (idcard, exit, kind, provider_code) in [
        ("110101199003070150", 3, "permission", "604"),
        ("110101199003070142", 1, "not-found", "404"),
    ] {
        let (code, out, _) = run(cred().args([
            "--sandbox",
            "--json",
            "jumdata",
            "credential",
            "--name",
            NAME,
            "--idcard",
            idcard,
        ]));
        assert_eq!(code, exit, "{out}");
        let error = &one_json(&out)["error"];
        assert_eq!(error["kind"], kind, "{out}");
        assert_eq!(error["code"], provider_code, "{out}");
        assert_eq!(error["charged"], false, "{out}");
    }
}
