//! The `cred` binary end to end: against its in-process sandbox (`--sandbox`) and against
//! a sandbox started by the test (so the test can count what reached it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUHE_KEY, JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use serde_json::Value;

mod cli_common;
use cli_common::*;

const NAME: &str = "王小明";
const ID: &str = "321083197812162119";

fn sandbox_query(idcard: &str, extra: &[&str]) -> (i32, String, String) {
    let mut c = cred();
    c.arg("--sandbox").args(extra).args([
        "jumdata",
        "credential",
        "--name",
        NAME,
        "--idcard",
        idcard,
    ]);
    run(&mut c)
}

#[test]
fn the_readme_command_prints_the_certificates() {
    let (code, out, err) = sandbox_query(ID, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        out.starts_with("职业资格证书查询 (jumdata credential_query)\n"),
        "{out}"
    );
    assert!(
        out.contains("  found                     yes, 2 certificates\n"),
        "{out}"
    );
    assert!(out.contains("  charged                   yes\n"), "{out}");
    assert!(
        out.contains("  职业名称 occupation       电器计量工\n"),
        "{out}"
    );
    assert!(
        out.contains("  发证日期 issued on        2013-07-08\n"),
        "{out}"
    );
}

#[test]
fn json_success_is_one_object_with_the_contract_fields() {
    let (code, out, _) = sandbox_query(ID, &["--json"]);
    assert_eq!(code, 0);
    let v = one_json(&out);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "charged",
            "found",
            "operation",
            "provider",
            "request_id",
            "result"
        ]
    );
    assert_eq!(v["provider"], "jumdata");
    assert_eq!(v["operation"], "credential_query");
    assert_eq!(v["found"], true);
    assert_eq!(v["charged"], true);
    assert_eq!(v["request_id"].as_str().map(str::len), Some(20));
    assert_eq!(v["result"]["count"], 2);
    assert_eq!(v["result"]["items"][0]["occupation"], "电器计量工");
    assert_eq!(v["result"]["items"][0]["issuingTime"], "2013-07-08");
}

#[test]
fn no_record_is_an_answer_with_exit_0() {
    let (code, out, _) = sandbox_query("110101199003070011", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("  found       no (查无记录)\n"), "{out}");
    assert!(out.contains("  charged     no\n"), "{out}");
    let (code, out, _) = sandbox_query("110101199003070011", &["--json"]);
    assert_eq!(code, 0);
    let v = one_json(&out);
    assert_eq!(v["found"], false);
    assert_eq!(v["charged"], false);
    assert_eq!(v["result"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn an_invalid_id_exits_2_and_nothing_reaches_the_provider() {
    let sandbox = Sandbox::start().await.unwrap();
    for (idcard, name) in [("321083197812162118", NAME), ("1234", NAME), (ID, "王1明")] {
        let mut c = cred();
        c.env("JUMDATA_APP_ID", JUMDATA_APP_ID)
            .env("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
            .args(["--base-url", sandbox.base_url(), "jumdata", "credential"])
            .args(["--name", name, "--idcard", idcard]);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 2, "{idcard}: {err}");
        assert!(out.is_empty());
        let line = one_error_line(&err);
        assert!(line.ends_with("(nothing was sent)"), "{line}");
        assert!(!line.contains(idcard), "the ID number is echoed: {line}");
    }
    assert_eq!(sandbox.requests(), 0, "a request reached the sandbox");
}

#[test]
fn each_error_family_has_its_exit_code() {
    let cases: &[(&str, i32, &str)] = &[
        ("11010119900307002X", 1, "insufficient-balance"),
        ("110101199003070046", 4, "throttled"),
        ("110101199003070134", 1, "unknown"),
        ("110101199003070038", 4, "throttled"),
        ("110101199003070054", 4, "unavailable"),
        ("110101199003070097", 4, "unavailable"),
        ("110101199003070062", 3, "auth"),
        ("110101199003070070", 3, "permission"),
        ("110101199003070089", 3, "permission"),
        ("110101199003070118", 4, "unavailable"), // HTTP 502 HTML page
        ("11010119900307010X", 1, "internal"),    // truncated JSON
    ];
    for &(idcard, exit, kind) in cases {
        let (code, out, err) = sandbox_query(idcard, &[]);
        assert_eq!(code, exit, "{idcard}: {err}");
        assert!(out.is_empty(), "{idcard}: {out}");
        let line = one_error_line(&err);
        assert!(
            line.starts_with("error: jumdata credential_query: "),
            "{line}"
        );

        let (code, out, err) = sandbox_query(idcard, &["--json"]);
        assert_eq!(code, exit, "{idcard}");
        assert!(err.is_empty(), "{idcard}: {err}");
        let v = one_json(&out);
        let e = &v["error"];
        assert_eq!(e["provider"], "jumdata");
        assert_eq!(e["kind"], kind, "{idcard}");
        assert_eq!(e["retryable"], exit == 4, "{idcard}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("jumdata credential_query: ")
        );
        assert!(e.get("code").is_some());
    }
}

#[test]
fn html_and_truncated_bodies_are_one_clean_line() {
    let (_, _, err) = sandbox_query("110101199003070118", &[]);
    let line = one_error_line(&err);
    assert!(
        line.contains("HTTP 502") && line.contains("502 Bad Gateway"),
        "{line}"
    );
    let (_, _, err) = sandbox_query("11010119900307010X", &[]);
    let line = one_error_line(&err);
    assert!(
        line.contains("unreadable response: malformed JSON: EOF while parsing"),
        "{line}"
    );
}

#[test]
fn a_slow_answer_times_out_with_exit_4() {
    let (code, _, err) = sandbox_query("110101199003070126", &["--timeout", "1"]);
    assert_eq!(code, 4);
    assert!(
        one_error_line(&err).contains("timed out after 1.0s"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn bad_credentials_exit_3() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut c = cred();
    c.env("JUMDATA_APP_ID", JUMDATA_APP_ID)
        .env("JUMDATA_APP_SECRET", "not-the-sandbox-secret")
        .args([
            "--base-url",
            sandbox.base_url(),
            "--json",
            "jumdata",
            "credential",
        ])
        .args(["--name", NAME, "--idcard", ID]);
    let (code, out, _) = run(&mut c);
    assert_eq!(code, 3);
    let v = one_json(&out);
    assert_eq!(v["error"]["kind"], "auth");
    assert_eq!(v["error"]["code"], "400");
    assert!(!out.contains("not-the-sandbox-secret"));

    // Missing credentials are a configuration error, with a hint.
    let mut c = cred();
    c.args(["jumdata", "credential", "--name", NAME, "--idcard", ID]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 3);
    assert!(
        one_error_line(&err).contains("JUMDATA_APP_ID is not set"),
        "{err}"
    );
    assert!(err.contains("--sandbox"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn verbose_logs_mask_the_id_number_and_never_print_the_secret() {
    let secret = "verbose-test-secret-value";
    let sandbox = Sandbox::start().await.unwrap();
    for (app_secret, idcard) in [
        (JUMDATA_APP_SECRET, ID),
        (secret, ID),
        (JUMDATA_APP_SECRET, "11010119900307002X"),
    ] {
        let mut c = cred();
        c.env("JUMDATA_APP_ID", JUMDATA_APP_ID)
            .env("JUMDATA_APP_SECRET", app_secret)
            .args([
                "-vv",
                "--base-url",
                sandbox.base_url(),
                "jumdata",
                "credential",
            ])
            .args(["--name", NAME, "--idcard", idcard]);
        let (_, out, err) = run(&mut c);
        assert!(err.contains("cred.call"), "no logs: {err}");
        for text in [&out, &err] {
            assert!(!text.contains(app_secret), "secret printed: {text}");
            assert!(!text.contains(idcard), "ID number printed: {text}");
            assert!(!text.contains(NAME), "name printed: {text}");
        }
    }
    // --sandbox -v too (its test secret is public, but still not logged).
    let (_, out, err) = sandbox_query(ID, &["-v"]);
    assert!(err.contains("sandbox started"), "{err}");
    assert!(!err.contains(JUMDATA_APP_SECRET) && !out.contains(JUMDATA_APP_SECRET));
    assert!(!err.contains(ID));
}

#[test]
fn check_accepts_valid_values_and_rejects_invalid_ones() {
    let ok: &[(&str, &str, &str)] = &[
        ("idcard", "33010219200403064X", "1920-04-03"),
        ("idcard", "150102198807303035", "1988-07-30"),
        ("uscc", "91310110666007217T", "666007217"),
        ("uscc", "91310115591693856A", "591693856"),
        (
            "license-id",
            "1.2.156.3005.2.W011.11430000006122244L.20230000403.001.B",
            "(matches)",
        ),
    ];
    for &(kind, value, expect) in ok {
        let (code, out, err) = run(cred().args(["check", kind, value]));
        assert_eq!(code, 0, "{kind} {value}: {err}");
        assert!(out.contains(expect), "{out}");
        let (code, out, _) = run(cred().args(["--json", "check", kind, value]));
        assert_eq!(code, 0);
        assert_eq!(one_json(&out)["valid"], true);
    }
    // The ID number itself is shown masked.
    let (_, out, _) = run(cred().args(["check", "idcard", "33010219200403064X"]));
    assert!(
        out.contains("3301**********064X") && !out.contains("33010219200403064X"),
        "{out}"
    );

    let bad: &[(&str, &str, &str)] = &[
        ("idcard", "321083197812162118", "check character"),
        ("idcard", "32108319781316211X", "birth date"),
        ("uscc", "91310110666007217A", "check character"),
        ("uscc", "9131011066600721", "18 characters"),
        ("license-id", "1.2.156.3005.2.W011.1143.001.B", "5 parts"),
    ];
    for &(kind, value, why) in bad {
        let (code, out, err) = run(cred().args(["check", kind, value]));
        assert_eq!(code, 2, "{kind} {value}");
        assert!(out.is_empty());
        assert!(one_error_line(&err).contains(why), "{err}");
        let (code, out, _) = run(cred().args(["--json", "check", kind, value]));
        assert_eq!(code, 2);
        assert_eq!(one_json(&out)["error"]["kind"], "invalid-argument");
    }
    // A non-standard check character is a warning, not a rejection.
    let sample_id = "1.2.156.3005.2.11100010000013127D001.11370000004504927A.CFD93524173848F3A2ED4AB7A36E7A50.001.8";
    let (code, out, err) = run(cred().args(["check", "license-id", sample_id]));
    assert_eq!(code, 0);
    assert!(err.starts_with("warning: check character `8`"), "{err}");
    assert!(out.contains("non-standard"), "{out}");
}

#[test]
fn usage_errors_exit_2_and_json_mode_still_prints_one_object() {
    let (code, _, err) = run(cred().args(["jumdata", "credential", "--name", NAME]));
    assert_eq!(code, 2);
    assert!(err.contains("--idcard"), "{err}");
    let (code, out, _) = run(cred().args(["--json", "jumdata", "credential", "--name", NAME]));
    assert_eq!(code, 2);
    let v = one_json(&out);
    assert_eq!(v["error"]["kind"], "invalid-argument");
    assert!(v["error"]["message"].as_str().unwrap().contains("--idcard"));
    let (code, out, _) =
        run(cred().args(["--sandbox", "--base-url", "http://x", "check", "idcard", ID]));
    assert_eq!(code, 2, "{out}");
}

#[test]
fn help_lists_the_whole_contract() {
    let (code, out, _) = run(cred().arg("--help"));
    assert_eq!(code, 0);
    for word in [
        "jumdata",
        "juhe",
        "zz-license",
        "zhima",
        "check",
        "sandbox",
        "--sandbox",
        "--base-url",
        "--json",
        "--timeout",
        "--verbose",
        "Exit codes",
    ] {
        assert!(out.contains(word), "--help lacks {word}");
    }
    let (_, out, _) = run(cred().args(["zz-license", "--help"]));
    for word in [
        "by-holder",
        "info",
        "by-qrcode",
        "verify",
        "verify-file",
        "download-url",
        "download",
    ] {
        assert!(out.contains(word), "zz-license --help lacks {word}");
    }
    let (_, out, _) = run(cred().args(["zz-license", "by-holder", "--help"]));
    for word in [
        "--holder-code",
        "--holder-type",
        "--cert-type",
        "--certificate-number",
        "--city",
        "--system-name",
        "ZZ_LICENSE_COPY_CAUSE",
    ] {
        assert!(out.contains(word), "by-holder --help lacks {word}");
    }
    let (_, out, _) = run(cred().args(["zhima", "jobworth", "--help"]));
    for word in [
        "--conn-key",
        "--once-token",
        "--query-type",
        "--identity-type",
        "--service-id",
        "--user-id",
        "--open-id",
        "--cert-no",
        "--cert-type",
    ] {
        assert!(out.contains(word), "jobworth --help lacks {word}");
    }
}

#[test]
fn zhima_jobworth_against_the_sandbox() {
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "zhima",
        "jobworth",
        "--once-token",
        "t-1",
        "--conn-key",
        "教师 认证",
        "--cert-no",
        "33010219200403064X",
        "--cert-type",
        "0",
        "--query-type",
        "exact",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("✓ SUCCESS") && out.contains("verified"),
        "{out}"
    );
    let (code, out, _) = run(cred().args([
        "--sandbox",
        "--json",
        "zhima",
        "jobworth",
        "--once-token",
        "SANDBOX-FAILED",
        "--user-id",
        "2088102910292100",
    ]));
    assert_eq!(code, 0);
    let v = one_json(&out);
    assert_eq!(v["result"]["identity_result"], "FAILED");
    assert_eq!(v["charged"], true);
    for (token, exit, code_name) in [
        ("SANDBOX-TOKEN-INVALID", 1, "TOKEN_INVALID"),
        ("SANDBOX-NOT-AUTHORIZED", 3, "USER_NOT_AUTHORIZE"),
        ("SANDBOX-THROTTLED", 4, "app-call-limited"),
    ] {
        let (code, out, _) = run(cred().args([
            "--sandbox",
            "--json",
            "zhima",
            "jobworth",
            "--once-token",
            token,
            "--user-id",
            "2088102910292100",
        ]));
        assert_eq!(code, exit, "{token}");
        assert_eq!(one_json(&out)["error"]["code"], code_name, "{token}");
    }
    let (code, _, err) = run(cred().args([
        "--sandbox",
        "zhima",
        "jobworth",
        "--once-token",
        "SANDBOX-BAD-SIGNATURE",
        "--open-id",
        "074a1CcTG1Lel",
    ]));
    assert_eq!(code, 3);
    assert!(one_error_line(&err).contains("signature error"), "{err}");
    // A mistyped ID number is refused locally.
    let (code, _, err) = run(cred().args([
        "--sandbox",
        "zhima",
        "jobworth",
        "--once-token",
        "t-2",
        "--cert-no",
        "33010219200403064A",
        "--cert-type",
        "0",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        one_error_line(&err).ends_with("(nothing was sent)"),
        "{err}"
    );
}

#[test]
fn requests_that_cannot_be_answered_are_refused_before_sending() {
    // zhima jobworth: a once_token and a member id or ID number are needed.
    for args in [
        vec!["zhima", "jobworth"],
        vec!["zhima", "jobworth", "--once-token", "t"],
        vec!["zhima", "jobworth", "--user-id", "2088102910292100"],
    ] {
        let (code, out, err) = run(cred().arg("--sandbox").args(&args));
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(
            one_error_line(&err).ends_with("(nothing was sent)"),
            "{err}"
        );
    }
    // GB/T 36904 identifiers: structure checked before every call that takes one.
    for sub in ["info", "download-url"] {
        let (code, _, err) = zz(&[sub, "--certificate-id", "1.2.156.3005.2.X.Y"]);
        assert_eq!(code, 2, "{sub}: {err}");
        assert!(
            one_error_line(&err).contains("invalid --certificate-id"),
            "{err}"
        );
    }
    // 4.3.7: the holder code type is required by the city interface only.
    let holder = ["by-holder", "--holder-code", ID, "--cert-type", "T01"];
    let (code, _, err) = zz(&[&holder[..], &["--city"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(one_error_line(&err).contains("市库数据必填"), "{err}");
    let (code, out, err) = zz(&holder);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("province interface"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn zhima_from_variables_and_a_wrong_public_key_is_caught_before_sending() {
    use cred_sandbox::credentials::*;
    let sandbox = Sandbox::start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("cred-zhima-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("app_private.pem");
    std::fs::write(&key_file, ALIPAY_APP_PRIVATE_KEY).unwrap();
    let mut c = cred();
    c.env("ALIPAY_APP_ID", ALIPAY_APP_ID)
        .env("ALIPAY_PRIVATE_KEY", format!("@{}", key_file.display()))
        .env("ALIPAY_PUBLIC_KEY", ALIPAY_PUBLIC_KEY)
        .env("ALIPAY_BASE_URL", sandbox.base_url())
        .args([
            "zhima",
            "jobworth",
            "--once-token",
            "t",
            "--user-id",
            "2088102910292100",
        ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUCCESS"), "{out}");
    let before = sandbox.requests();
    // The app's own public key where Alipay's belongs: refused before anything is sent.
    let mut c = cred();
    c.env("ALIPAY_APP_ID", ALIPAY_APP_ID)
        .env("ALIPAY_PRIVATE_KEY", ALIPAY_APP_PRIVATE_KEY)
        .env("ALIPAY_PUBLIC_KEY", ALIPAY_APP_PUBLIC_KEY)
        .env("ALIPAY_BASE_URL", sandbox.base_url())
        .args([
            "zhima",
            "jobworth",
            "--once-token",
            "t",
            "--user-id",
            "2088102910292100",
        ]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 3, "{err}");
    assert!(
        one_error_line(&err).contains("your app's own public key"),
        "{err}"
    );
    assert!(!err.contains(&ALIPAY_APP_PRIVATE_KEY[..40]), "{err}");
    assert_eq!(sandbox.requests(), before);
    std::fs::remove_dir_all(&dir).ok();
    let (code, _, err) = run(cred().args([
        "zhima",
        "jobworth",
        "--once-token",
        "t",
        "--user-id",
        "2088102910292100",
    ]));
    assert_eq!(code, 3);
    assert!(one_error_line(&err).contains("ALIPAY_APP_ID"), "{err}");
}

const LICENCE: &str = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N";

fn zz(args: &[&str]) -> (i32, String, String) {
    run(cred().arg("--sandbox").arg("zz-license").args(args))
}

#[test]
fn zz_license_queries_in_both_shapes() {
    let by_holder = [
        "by-holder",
        "--holder-code",
        ID,
        "--holder-type",
        "111",
        "--cert-type",
        "T01",
    ];
    let (code, out, err) = zz(&by_holder);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("yes, 2 licences (province interface)"),
        "{out}"
    );
    assert!(out.contains(LICENCE), "{out}");
    assert!(
        !out.contains(ID),
        "the human view masks the holder code: {out}"
    );

    let (code, out, err) = run(cred()
        .args(["--sandbox", "--json", "zz-license"])
        .args(by_holder)
        .arg("--city"));
    assert_eq!(code, 0, "{err}");
    let v = one_json(&out);
    assert_eq!(v["provider"], "zz-license");
    assert_eq!(v["operation"], "share_query_cert_info_by_holder_code");
    assert_eq!(v["charged"], false);
    assert_eq!(v["result"]["shape"], "city");
    assert_eq!(
        v["result"]["items"][0]["certificateNumber"],
        "JY13704020012345"
    );

    let (code, out, _) = zz(&["info", "--certificate-id", LICENCE, "--city"]);
    assert_eq!(code, 0);
    assert!(out.contains("食品经营许可证"), "{out}");
    let (code, out, _) = zz(&["by-qrcode", "--qr", "https://zz.example/qr/1", "--city"]);
    assert_eq!(code, 0);
    assert!(out.contains("正常有效"), "{out}");
    let (code, out, _) = zz(&[
        "download-url",
        "--certificate-id",
        LICENCE,
        "--expiry",
        "2030-01-31",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("/CertShare/zzgxp/download?id="), "{out}");
    let (code, out, err) = zz(&[
        "verify",
        "--cert-type",
        "T01",
        "--holder-code",
        "370402199003070186",
        "--data",
        r#"{"xm":"张三"}"#,
        "--use-for",
        "核验",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("✗ 信息正确且证照已失效"), "{out}");
}

#[test]
fn the_city_file_number_of_the_document_goes_to_download_url_info_and_download() {
    // 4.3.6 city answer: "fileNumber": "02-12370400F49201558F-51-370481198304040037-00-
    // A000102935", and "此接口返回 fileNumber (证照标识),可以凭此参数调用《证照标识获取下载地址接口》";
    // 4.3.2 and 4.3.3 take it as `certificateID`.
    let sample = "02-12370400F49201558F-51-370481198304040037-00-A000102935";
    let (code, out, err) = zz(&["download-url", "--certificate-id", sample]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/CertShare/zzgxp/download?id="), "{out}");
    let (code, out, err) = zz(&["info", "--certificate-id", sample, "--city"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("食品经营许可证"), "{out}");
    let dir = std::env::temp_dir().join(format!("cred-city-download-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("licence.pdf");
    let (code, out, err) = zz(&[
        "download",
        "--certificate-id",
        sample,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("PDF"), "{out}");
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));
    // What `by-qrcode --city` and `by-holder --city` print is what `download` takes.
    let (code, out, _) = zz(&["by-qrcode", "--qr", "https://zz.example/qr/1", "--city"]);
    assert_eq!(code, 0);
    let printed = |out: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix("证照标识 identifier"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no identifier in {out}"))
    };
    let from_qr = printed(&out);
    let (code, out, _) = zz(&[
        "by-holder",
        "--holder-code",
        ID,
        "--holder-type",
        "111",
        "--cert-type",
        "T01",
        "--city",
    ]);
    assert_eq!(code, 0, "{out}");
    let from_holder = printed(&out);
    for id in [from_qr, from_holder] {
        assert!(id.starts_with("02-"), "{id}");
        let (code, out, err) = zz(&[
            "download",
            "--certificate-id",
            &id,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{id}: {out} {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn zz_license_status_families_and_local_refusals() {
    let revoked = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.REVOKED21.001.0";
    let (code, out, err) = zz(&["info", "--certificate-id", revoked]);
    assert_eq!(code, 0, "an answer about the licence: {err}");
    assert!(
        out.contains("no: the licence is revoked (证照已注销, status 21)"),
        "{out}"
    );
    let no_service = "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.NOSERVICE02.001.R";
    let (code, _, err) = zz(&["info", "--certificate-id", no_service]);
    assert_eq!(
        code, 1,
        "the source does not offer this interface: not-found"
    );
    assert!(
        one_error_line(&err).contains("证照源未提供此服务接口"),
        "{err}"
    );
    let (code, out, _) = zz(&[
        "by-holder",
        "--holder-code",
        "370402199003070119",
        "--holder-type",
        "111",
        "--cert-type",
        "T01",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("found") && out.contains("no ("), "{out}");
    for (args, field) in [
        (
            vec![
                "by-holder",
                "--holder-code",
                "321083197812162118",
                "--holder-type",
                "111",
                "--cert-type",
                "T",
            ],
            "--holder-code",
        ),
        (
            vec![
                "by-holder",
                "--holder-code",
                ID,
                "--holder-type",
                "1x1",
                "--cert-type",
                "T",
            ],
            "--holder-type",
        ),
        (
            vec![
                "download-url",
                "--certificate-id",
                LICENCE,
                "--expiry",
                "2030-02-30",
            ],
            "--expiry",
        ),
        (
            vec![
                "verify",
                "--cert-type",
                "T",
                "--holder-code",
                ID,
                "--data",
                "xm=张三",
                "--use-for",
                "x",
            ],
            "--data",
        ),
        (
            vec!["info", "--certificate-id", LICENCE, "--call-category", "7"],
            "--call-category",
        ),
    ] {
        let (code, _, err) = zz(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        let line = one_error_line(&err);
        assert!(line.contains(&format!("invalid {field}")), "{line}");
        assert!(line.ends_with("(nothing was sent)"), "{line}");
    }
}

#[test]
fn zz_license_download_and_file_check_round_trip() {
    let dir = std::env::temp_dir().join(format!("cred-zz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("licence.pdf");
    let (code, out, err) = run(cred()
        .args([
            "--sandbox",
            "--json",
            "zz-license",
            "download",
            "--certificate-id",
            LICENCE,
            "--output",
        ])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let v = one_json(&out);
    // The documented success shape, like every other command's.
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "charged",
            "found",
            "operation",
            "provider",
            "request_id",
            "result"
        ]
    );
    assert_eq!(
        (v["provider"].as_str(), v["operation"].as_str()),
        (Some("zz-license"), Some("download"))
    );
    assert_eq!(v["charged"], false);
    assert_eq!(
        (v["found"].as_bool(), v["result"]["format"].as_str()),
        (Some(true), Some("pdf"))
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(v["result"]["bytes"].as_u64(), Some(bytes.len() as u64));
    assert!(!dir.join("licence.pdf.part").exists());

    let (code, out, err) = run(cred()
        .args([
            "--sandbox",
            "zz-license",
            "verify-file",
            "--cert-type",
            "T01",
            "--use-cause",
            "核验",
            "--file",
        ])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("✓ 验证通过"), "{out}");
    let (code, _, err) = run(cred()
        .args([
            "--sandbox",
            "zz-license",
            "verify-file",
            "--cert-type",
            "T01",
            "--use-cause",
            "x",
            "--file",
        ])
        .arg(dir.join("missing.pdf")));
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn zz_license_from_variables_needs_the_audit_context_and_the_right_password() {
    use cred_sandbox::credentials::*;
    let sandbox = Sandbox::start().await.unwrap();
    let base = sandbox.zz_license_base_url();
    let with_account = |c: &mut Command| {
        c.env("ZZ_LICENSE_BASE_URL", &base)
            .env("ZZ_LICENSE_USERNAME", ZZ_LICENSE_USERNAME)
            .env("ZZ_LICENSE_PASSWORD", ZZ_LICENSE_PASSWORD)
            .env("ZZ_LICENSE_CLIENT_ID", ZZ_LICENSE_CLIENT_ID)
            .env("ZZ_LICENSE_CLIENT_SECRET", ZZ_LICENSE_CLIENT_SECRET);
    };
    let mut c = cred();
    with_account(&mut c);
    c.args(["zz-license", "info", "--certificate-id", LICENCE]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 2, "{err}");
    assert!(one_error_line(&err).contains("--system-name"), "{err}");
    assert_eq!(
        sandbox.requests(),
        0,
        "nothing may be sent without the audit context"
    );

    let audited = |c: &mut Command| {
        c.env("ZZ_LICENSE_SYSTEM_NAME", "人社一体化平台")
            .env("ZZ_LICENSE_CALL_CATEGORY", "0")
            .env("ZZ_LICENSE_MATTER_NAME", "参保证明打印")
            .env("ZZ_LICENSE_EVENT_CODE", "1137000000450258552372014020002")
            .env("ZZ_LICENSE_COPY_CAUSE", "窗口核验");
    };
    let mut c = cred();
    with_account(&mut c);
    audited(&mut c);
    c.args(["zz-license", "info", "--certificate-id", LICENCE]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("yes, 1 licence"), "{out}");

    let mut c = cred();
    with_account(&mut c);
    audited(&mut c);
    c.env("ZZ_LICENSE_PASSWORD", "not-the-password").args([
        "zz-license",
        "info",
        "--certificate-id",
        LICENCE,
    ]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 3, "{err}");
    let line = one_error_line(&err);
    assert!(line.contains("invalid_grant"), "{line}");
    assert!(!err.contains("not-the-password"), "{err}");

    let (code, _, err) = run(cred().args(["zz-license", "info", "--certificate-id", LICENCE]));
    assert_eq!(code, 3);
    assert!(
        one_error_line(&err).contains("ZZ_LICENSE_BASE_URL"),
        "{err}"
    );
}

#[test]
fn sandbox_serve_prints_its_url_and_credentials_and_serves() {
    let mut child = cred()
        .args(["--json", "sandbox", "serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let base = info["base_url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!(info["credentials"]["JUMDATA_APP_ID"], JUMDATA_APP_ID);
    assert_eq!(
        info["credentials"]["JUMDATA_APP_SECRET"],
        JUMDATA_APP_SECRET
    );
    assert_eq!(
        info["credentials"]["ZZ_LICENSE_BASE_URL"],
        format!("{base}/license-api-release")
    );

    let mut c = cred();
    c.env("JUMDATA_APP_ID", JUMDATA_APP_ID)
        .env("JUMDATA_APP_SECRET", JUMDATA_APP_SECRET)
        .env("JUMDATA_BASE_URL", &base)
        .args([
            "--json",
            "jumdata",
            "credential",
            "--name",
            NAME,
            "--idcard",
            ID,
        ]);
    let (code, out, err) = run(&mut c);
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(code, 0, "{err}");
    assert_eq!(one_json(&out)["found"], true);
}

const COMPANY: &str = "河南省建筑科学研究院有限公司";

fn juhe(name: &str, extra: &[&str]) -> (i32, String, String) {
    let mut c = cred();
    c.arg("--sandbox")
        .args(extra)
        .args(["juhe", "qualification", "--name", name]);
    run(&mut c)
}

#[test]
fn juhe_qualification_prints_the_certificates() {
    let (code, out, err) = juhe(COMPANY, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("企业工程资质资格查询 (juhe con_lic_by_name)\n"),
        "{out}"
    );
    assert!(
        out.contains("  found                 yes, 2 qualifications\n"),
        "{out}"
    );
    assert!(
        out.contains("  证书编号 licence no   B241001611\n"),
        "{out}"
    );
    assert!(out.contains("  有效期至 valid until  长期\n"), "{out}");
    let (code, out, _) = juhe(COMPANY, &["--json"]);
    assert_eq!(code, 0);
    let v = one_json(&out);
    assert_eq!(v["provider"], "juhe");
    assert_eq!(v["operation"], "con_lic_by_name");
    assert_eq!(v["charged"], true);
    assert_eq!(v["request_id"], Value::Null);
    assert_eq!(v["result"]["items"][0]["lic_no"], "B241001611");
    assert_eq!(v["result"]["items"][0]["validity_start"], "2015-08-26");
    assert_eq!(v["result"]["items"][1]["validity_end"], "长期");
}

#[test]
fn juhe_no_result_and_error_families() {
    let (code, out, _) = juhe("查无结果有限公司", &["--json"]);
    assert_eq!(code, 0);
    assert_eq!(one_json(&out)["found"], false);
    for (name, exit, kind) in [
        ("超限测试有限公司", 4, "quota-exhausted"),
        ("网络超时有限公司", 4, "unavailable"),
        ("维护测试有限公司", 4, "unavailable"),
        ("停用测试有限公司", 3, "permission"),
        ("异常测试有限公司", 1, "internal"),
        ("网关错误有限公司", 4, "unavailable"),
        ("截断测试有限公司", 1, "internal"),
    ] {
        let (code, out, _) = juhe(name, &["--json"]);
        assert_eq!(code, exit, "{name}");
        assert_eq!(one_json(&out)["error"]["kind"], kind, "{name}");
        let (_, _, err) = juhe(name, &[]);
        assert!(
            one_error_line(&err).starts_with("error: juhe con_lic_by_name: "),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the sandbox serves while the test blocks on `cred`
async fn juhe_bad_key_exits_3_and_a_bad_credit_code_sends_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let with_key = |key: &str, name: &str| {
        let mut c = cred();
        c.env("JUHE_KEY", key).args([
            "--base-url",
            sandbox.base_url(),
            "juhe",
            "qualification",
            "--name",
            name,
        ]);
        run(&mut c)
    };
    let (code, _, err) = with_key("credkit-wrong-key-0000", "91310110666007217A");
    assert_eq!(code, 2);
    assert!(one_error_line(&err).contains("check character"), "{err}");
    assert!(!err.contains("credkit-wrong-key-0000"));
    assert_eq!(sandbox.requests(), 0);

    let (code, out, err) = with_key("credkit-wrong-key-0000", COMPANY);
    assert_eq!(code, 3);
    let line = one_error_line(&err);
    assert!(
        line.contains("provider error 10001 (auth): 错误的请求KEY"),
        "{line}"
    );
    assert!(!out.contains("credkit-wrong-key-0000") && !err.contains("credkit-wrong-key-0000"));

    let (code, _, _) = with_key(JUHE_KEY, COMPANY);
    assert_eq!(code, 0);
}

#[test]
fn zz_license_trace_logs_carry_no_credential_or_token() {
    use cred_sandbox::credentials::{ZZ_LICENSE_CLIENT_SECRET, ZZ_LICENSE_PASSWORD};
    let (code, _, err) = run(cred().args([
        "--sandbox",
        "-vv",
        "zz-license",
        "by-holder",
        "--holder-code",
        ID,
        "--holder-type",
        "111",
        "--cert-type",
        "T01",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("access token obtained"), "{err}");
    for needle in [
        ZZ_LICENSE_PASSWORD,
        ZZ_LICENSE_CLIENT_SECRET,
        "Bearer ",
        "Basic ",
        ID,
    ] {
        assert!(!err.contains(needle), "{needle} in the logs: {err}");
    }
}

#[test]
fn each_provider_help_lists_every_variable_its_crate_reads() {
    let cases: &[(&str, &[&str])] = &[
        (
            "jumdata",
            &[
                jumdata_api::ENV_APP_ID,
                jumdata_api::ENV_APP_SECRET,
                jumdata_api::ENV_BASE_URL,
                "JUMDATA_CA_FILE",
                "JUMDATA_PROXY",
            ],
        ),
        (
            "juhe",
            &[
                juhe_api::ENV_KEY,
                juhe_api::ENV_BASE_URL,
                "JUHE_CA_FILE",
                "JUHE_PROXY",
            ],
        ),
        (
            "zz-license",
            &[
                zz_license_api::ENV_BASE_URL,
                zz_license_api::ENV_USERNAME,
                zz_license_api::ENV_PASSWORD,
                zz_license_api::ENV_CLIENT_ID,
                zz_license_api::ENV_CLIENT_SECRET,
                zz_license_api::ENV_CLIENT_AUTH,
                "ZZ_LICENSE_SYSTEM_NAME",
                "ZZ_LICENSE_CALL_CATEGORY",
                "ZZ_LICENSE_MATTER_NAME",
                "ZZ_LICENSE_EVENT_CODE",
                "ZZ_LICENSE_COPY_CAUSE",
                "ZZ_LICENSE_CALL_DISTRICT",
                "ZZ_LICENSE_CALL_DEPARTMENT",
                "ZZ_LICENSE_DISTRICT_LEVEL",
                "ZZ_LICENSE_CA_FILE",
                "ZZ_LICENSE_PROXY",
            ],
        ),
        (
            "zhima",
            &[
                zhima_api::ENV_APP_ID,
                zhima_api::ENV_PRIVATE_KEY,
                zhima_api::ENV_PUBLIC_KEY,
                zhima_api::ENV_ENCRYPT_KEY,
                zhima_api::ENV_BASE_URL,
                zhima_api::ENV_APP_CERT,
                zhima_api::ENV_ALIPAY_CERT,
                zhima_api::ENV_ROOT_CERT,
                "ALIPAY_CA_FILE",
                "ALIPAY_PROXY",
            ],
        ),
    ];
    for (provider, vars) in cases {
        let (code, out, _) = run(cred().args([provider, "--help"]));
        assert_eq!(code, 0);
        for var in *vars {
            assert!(out.contains(var), "cred {provider} --help lacks {var}");
        }
        assert!(!out.contains(", ...)"), "cred {provider} --help says `...`");
    }
    // Options are described, not just named after their wire names.
    let (_, out, _) = run(cred().args(["zhima", "jobworth", "--help"]));
    assert!(out.contains("查询身份认证结果的凭证"), "{out}");
    assert!(!out.contains("          once_token.\n"), "{out}");
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, err) = run(cred().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            out.contains("zz-license") && out.contains("jobworth"),
            "{shell}"
        );
    }
    let (code, _, _) = run(cred().args(["completions", "tcsh"]));
    assert_eq!(code, 2);
}

#[test]
fn the_sandbox_recipe_cannot_race_and_a_taken_address_says_what_to_do() {
    let dir = std::env::temp_dir().join(format!("cred-sandbox-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sandbox.env");
    std::fs::write(&file, "stale").unwrap();
    // Returns once the file is there, whole: sourcing it right after cannot race.
    let (code, out, err) = run(cred()
        .args(["sandbox", "serve", "--addr", "127.0.0.1:0", "--env-file"])
        .arg(&file)
        .arg("--background"));
    assert_eq!(code, 0, "{out} {err}");
    let text = std::fs::read_to_string(&file).unwrap();
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(|v| v.trim_matches('\'').to_owned())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let base = var("JUMDATA_BASE_URL");
    let pid = var("CRED_SANDBOX_PID");
    assert!(out.contains(&base) && out.contains(&pid), "{out}");
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read as _, Write as _};
    stream
        .write_all(b"GET /__sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The address is taken now: the error says how to pick another.
    let (code, _, err) = run(cred().args(["sandbox", "serve", "--addr", addr]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--addr"), "{err}");
    let (code, _, err) = run(cred()
        .args(["sandbox", "serve", "--addr", addr, "--env-file"])
        .arg(dir.join("second.env"))
        .arg("--background"));
    assert_ne!(code, 0);
    assert!(err.contains("--addr"), "{err}");
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_readmes_commands_exist_for_every_sdk_operation() {
    // The crate table lists Jumdata 身份证实名核验 and Juhe 企业行政许可: the CLI has them.
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "--json",
        "jumdata",
        "idcard",
        "--name",
        "王小明",
        "--idcard",
        ID,
    ]));
    assert_eq!(code, 0, "{err}");
    let v = one_json(&out);
    assert_eq!(v["operation"], "idcard_check");
    assert_eq!(v["result"]["result"], 0);
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "jumdata",
        "idcard",
        "--name",
        "王小明",
        "--idcard",
        ID,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("一致"), "{out}");
    let (code, out, err) = run(cred().args([
        "--sandbox",
        "--json",
        "juhe",
        "administrative-license",
        "--name",
        "河南省建筑科学研究院有限公司",
        "--skip",
        "0",
    ]));
    assert_eq!(code, 0, "{err}");
    let v = one_json(&out);
    assert_eq!(v["operation"], "administrative_license_list_by_name");
    assert!(
        v["result"]["items"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{v}"
    );
    // Checked locally like every command: nothing sent for a bad ID number.
    let (code, _, err) = run(cred().args([
        "--sandbox",
        "jumdata",
        "idcard",
        "--name",
        "王小明",
        "--idcard",
        "123",
    ]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn errors_name_the_flags_typed_and_their_variables() {
    // The city interface needs the holder code's type: the error names --holder-type and
    // a value, not the SDK's field or a Rust type.
    let (code, _, err) = zz(&[
        "by-holder",
        "--holder-code",
        ID,
        "--cert-type",
        "T01",
        "--city",
    ]);
    assert_eq!(code, 2, "{err}");
    let line = one_error_line(&err);
    assert!(line.starts_with("error: invalid --holder-type:"), "{line}");
    assert!(line.contains("111"), "{line}");
    assert!(
        !line.contains("holder_code_type") && !line.contains("HolderCodeType"),
        "{line}"
    );
    // zhima: the once token, then one of the three ids, each by its flag.
    let (code, _, err) = run(cred().args(["--sandbox", "zhima", "jobworth"]));
    assert_eq!(code, 2);
    assert!(
        one_error_line(&err).starts_with("error: invalid --once-token:"),
        "{err}"
    );
    let (code, _, err) =
        run(cred().args(["--sandbox", "zhima", "jobworth", "--once-token", "tok"]));
    assert_eq!(code, 2);
    let line = one_error_line(&err);
    assert!(
        line.contains("one of --user-id, --open-id or --cert-no"),
        "{line}"
    );
    assert!(line.contains("--skip-reading-checks"), "{line}");
    assert!(
        !line.contains("user_id") && !line.contains("reading_checks("),
        "{line}"
    );
    let (code, _, err) = run(cred().args([
        "--sandbox",
        "zhima",
        "jobworth",
        "--once-token",
        "tok",
        "--cert-no",
        "33010219200403064A",
        "--cert-type",
        "0",
    ]));
    assert_eq!(code, 2);
    assert!(
        one_error_line(&err).starts_with("error: invalid --cert-no:"),
        "{err}"
    );
    // A missing audit field names its flag and its variable.
    let (code, _, err) = run(cred()
        .env(
            "ZZ_LICENSE_BASE_URL",
            "http://127.0.0.1:9/license-api-release",
        )
        .env("ZZ_LICENSE_USERNAME", "u")
        .env("ZZ_LICENSE_PASSWORD", "p")
        .env("ZZ_LICENSE_CLIENT_ID", "c")
        .env("ZZ_LICENSE_CLIENT_SECRET", "s")
        .args([
            "zz-license",
            "info",
            "--certificate-id",
            LICENCE,
            "--system-name",
            "s",
            "--matter-name",
            "m",
            "--event-code",
            "e",
            "--call-category",
            "1",
        ]));
    assert_eq!(code, 2, "{err}");
    let line = one_error_line(&err);
    assert!(line.starts_with("error: invalid --cause:"), "{line}");
    assert!(line.contains("ZZ_LICENSE_COPY_CAUSE"), "{line}");
}
