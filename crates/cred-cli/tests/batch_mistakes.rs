//! `cred batch` on a normal day of operator mistakes: two runs on one journal, an output
//! path that names the input or the journal, a journal cut to nothing, files in the
//! wrong encoding, spreadsheet zip bombs, a column given twice, rows removed, a full
//! disk. Real `cred` processes against the sandbox; the sandbox's request counts judge
//! whether anything was paid for twice or sent at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod batch_common;
#[path = "../../cred-redis/tests/common/mod.rs"]
mod redis_server;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use batch_common::*;
use cred_sandbox::Sandbox;
use serde_json::Value;

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// `n` different people, each with a `note` column of `pad` bytes (to push a file past
/// a size).
fn people(n: u64, pad: usize) -> String {
    let mut text = "name,idcard,note\n".to_owned();
    for i in 1..=n {
        text.push_str(&format!("王小明,{},{}\n", id(i), "x".repeat(pad)));
    }
    text
}

fn spawn_batch(base_url: &str, input: &Path, output: &Path, extra: &[&str]) -> std::process::Child {
    cred(base_url)
        .args(["batch", "jumdata", "credential", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_a_journal_in_use_refuses_at_once_and_sends_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("overlap");
    let input = dir.write("in.csv", people(40, 0));
    // The first run takes ~4 s at 10/s; the second starts 0.8 s later (a cron job that
    // overlaps the previous one).
    let first = spawn_batch(
        sandbox.base_url(),
        &input,
        &dir.path("1.jsonl"),
        &["--rate-limit", "10"],
    );
    let pid = first.id();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let started = Instant::now();
    let second = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &dir.path("2.jsonl"),
            &["--rate-limit", "10"],
        )
    });
    let refused_after = started.elapsed();
    assert_eq!(code(&second), 6, "{}", stderr(&second));
    assert!(
        refused_after < Duration::from_secs(2),
        "refused only after {refused_after:?}"
    );
    let message = stderr(&second);
    assert!(message.contains("in.csv.journal"), "{message}");
    assert!(message.contains(&format!("process {pid}")), "{message}");
    assert!(message.contains("nothing was sent"), "{message}");
    assert!(!dir.path("2.jsonl").exists());
    let first = tokio::task::block_in_place(|| first.wait_with_output().unwrap());
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(sent(&sandbox).await, 40, "each input paid once");
    assert_eq!(lines(&dir.path("1.jsonl")).len(), 40);

    // Started at the same instant, with no journal yet: one run creates it, the other
    // refuses; never two journals, never a key that belongs to the other.
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("same-instant");
    let input = dir.write("in.csv", people(40, 0));
    let runs: Vec<_> = (0..2)
        .map(|i| {
            spawn_batch(
                sandbox.base_url(),
                &input,
                &dir.path(&format!("{i}.jsonl")),
                &["--rate-limit", "20"],
            )
        })
        .collect();
    let outs: Vec<Output> = tokio::task::block_in_place(|| {
        runs.into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    });
    let mut codes: Vec<i32> = outs.iter().map(code).collect();
    codes.sort_unstable();
    assert_eq!(codes, [0, 6], "{}\n{}", stderr(&outs[0]), stderr(&outs[1]));
    assert_eq!(sent(&sandbox).await, 40);
    // The journal resumes: nothing more is sent.
    let again = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("3.jsonl"), &[])
    });
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(sent(&sandbox).await, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_may_not_overwrite_the_input_or_the_journal() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("aliases");
    let input = dir.write("in.csv", people(3, 0));
    let original = std::fs::read(&input).unwrap();
    std::fs::create_dir_all(dir.path("sub")).unwrap();
    std::fs::hard_link(&input, dir.path("hard.csv")).unwrap();
    std::os::unix::fs::symlink(&input, dir.path("link.csv")).unwrap();
    for output in [
        input.clone(),
        dir.path("sub/../in.csv"),
        dir.path("hard.csv"),
        dir.path("link.csv"),
        dir.path("missing-dir/out.jsonl"),
    ] {
        let out = tokio::task::block_in_place(|| batch(sandbox.base_url(), &input, &output, &[]));
        assert_eq!(code(&out), 2, "{}: {}", output.display(), stderr(&out));
        assert!(
            stderr(&out).contains("nothing was sent"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read(&input).unwrap(),
        original,
        "the input is untouched"
    );
    assert_eq!(sent(&sandbox).await, 0);
    // A journal with answers in it: the output may not overwrite it nor its files.
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("ok.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 3);
    let journal = dir.path("in.csv.journal");
    let before = std::fs::read(&journal).unwrap();
    for output in [
        journal.clone(),
        dir.path("in.csv.journal.key"),
        dir.path("in.csv.journal-wal"),
        dir.path("in.csv.journal.lock"),
    ] {
        let out = tokio::task::block_in_place(|| batch(sandbox.base_url(), &input, &output, &[]));
        assert_eq!(code(&out), 2, "{}: {}", output.display(), stderr(&out));
    }
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the journal is untouched"
    );
    // ... and it still resumes: nothing is paid again.
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("again.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 3);
    assert_eq!(lines(&dir.path("again.jsonl")).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_lost_cut_or_damaged_beside_its_key_is_refused_never_restarted() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("cut");
    let input = dir.write("in.csv", people(5, 0));
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("1.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 5);
    let journal = dir.path("in.csv.journal");
    let saved = std::fs::read(&journal).unwrap();
    let wal = std::fs::read(dir.path("in.csv.journal-wal")).ok();
    type Damage<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let damage: [Damage<'_>; 3] = [
        (
            "cut to 0 bytes",
            Box::new(|| std::fs::File::create(&journal).map(|_| ()).unwrap()),
        ),
        (
            "deleted",
            Box::new(|| std::fs::remove_file(&journal).unwrap()),
        ),
        (
            "overwritten",
            Box::new(|| std::fs::write(&journal, vec![0x5a; saved.len()]).unwrap()),
        ),
    ];
    for (what, damage) in damage {
        let _ = std::fs::remove_file(dir.path("in.csv.journal-wal"));
        let _ = std::fs::remove_file(dir.path("in.csv.journal-shm"));
        damage();
        let out = tokio::task::block_in_place(|| {
            batch(sandbox.base_url(), &input, &dir.path("2.jsonl"), &[])
        });
        assert_eq!(code(&out), 8, "journal {what}: {}", stderr(&out));
        assert!(stderr(&out).contains("in.csv.journal"), "{}", stderr(&out));
        assert_eq!(
            sent(&sandbox).await,
            5,
            "journal {what}: nothing paid again"
        );
        std::fs::write(&journal, &saved).unwrap();
        if let Some(wal) = &wal {
            std::fs::write(dir.path("in.csv.journal-wal"), wal).unwrap();
        }
    }
    // A key file others can read: refused, with the command that fixes it.
    let key = dir.path("in.csv.journal.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("3.jsonl"), &[])
    });
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("chmod 600 {}", key.display())),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Restored: it resumes, and nothing is paid again.
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("4.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoding_is_never_a_guess_that_costs_money() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("encodings");
    // 200 rows of 400 bytes: well past the first 64 KiB.
    let text = people(200, 400);
    assert!(text.len() > 64 * 1024);
    // UTF-8 with one bad byte in row 150: refused whole, naming the row and offset.
    let mut bytes = text.clone().into_bytes();
    let row_150 = text.find(&id(150)).unwrap() - "王小明,".len();
    bytes[row_150 + 3] = 0xFF; // inside 小
    let input = dir.write("bad-utf8.csv", &bytes);
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("1.jsonl"), &[])
    });
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("row 150"), "{message}");
    assert!(
        message.contains(&format!("byte offset {}", row_150 + 3)),
        "{message}"
    );
    assert!(message.contains("--encoding"), "{message}");
    assert_eq!(sent(&sandbox).await, 0);
    // Told it is UTF-8: that row is invalid and never sent; the others are.
    let out = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &dir.path("2.jsonl"),
            &["--encoding", "utf-8"],
        )
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&dir.path("2.jsonl"));
    assert_eq!(got[149]["status"], "invalid", "{}", got[149]);
    assert_eq!(sent(&sandbox).await, 199);

    // GBK with a UTF-8 row after the first 64 KiB.
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    // Three characters (nine bytes) are not GBK: the file is refused, naming the row.
    let mut mixed = gbk.clone();
    mixed.extend_from_slice(format!("张小三,{},\n", id(201)).as_bytes());
    let input = dir.write("mixed-odd.csv", &mixed);
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("3.jsonl"), &[])
    });
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("row 201"), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 199);
    // Four characters decode as GBK too (garbled): the row is refused by itself.
    let mut mixed = gbk;
    mixed.extend_from_slice(format!("欧阳娜娜,{},\n", id(202)).as_bytes());
    let input = dir.write("mixed-even.csv", &mixed);
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("4.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&dir.path("4.jsonl"));
    assert_eq!(got.len(), 201);
    assert_eq!(got[200]["status"], "invalid", "{}", got[200]);
    assert!(
        got[200]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("looks UTF-8"),
        "{}",
        got[200]
    );
    assert_eq!(
        sent(&sandbox).await,
        199 + 200,
        "the garbled row is never sent"
    );
}

/// Runs `command` and reads its peak resident memory (VmHWM, in bytes) from /proc while
/// it runs.
fn run_measured(mut command: Command) -> (Output, u64) {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&status)
                    && let Some(kib) = text
                        .lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak.fetch_max(kib * 1024, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    done.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    (out, peak.load(Ordering::Relaxed))
}

/// Writes a part of a workbook.
type Part<'a> = &'a dyn Fn(&mut dyn std::io::Write);

/// An `.xlsx` with the header `name,idcard`, one row, and `extra` parts written by
/// their writers (a zip bomb's part, deflated).
fn workbook(path: &Path, sheet_tail: Part<'_>, shared: Option<Part<'_>>) {
    use zip::write::SimpleFileOptions;
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let parts: [(&str, &str); 3] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is><t>idcard</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>王小明</t></is></c><c r="B2" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            id(1)
        )
        .as_bytes(),
    )
    .unwrap();
    sheet_tail(&mut zip);
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    if let Some(shared) = shared {
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        shared(&mut zip);
    }
    zip.finish().unwrap();
}

/// Writes `unit` repeated until `bytes` are written.
fn repeat(out: &mut dyn std::io::Write, unit: &[u8], bytes: usize) {
    let block = unit.repeat((1 << 20) / unit.len());
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len());
        out.write_all(&block[..n]).unwrap();
        left -= n;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spreadsheet_zip_bombs_are_refused_in_bounded_memory() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("bombs");
    const LIMIT: u64 = 300 << 20;
    // One cell of 400 MB of text.
    let cell = dir.path("cell.xlsx");
    workbook(
        &cell,
        &|out| {
            out.write_all(br#"<row r="3"><c r="A3" t="inlineStr"><is><t>"#)
                .unwrap();
            repeat(out, b"a", 400 << 20);
            out.write_all(b"</t></is></c></row>").unwrap();
        },
        None,
    );
    // 400 MB of shared strings (`<si><t>x</t></si>`, 24 million of them).
    let strings = dir.path("strings.xlsx");
    workbook(
        &strings,
        &|_| {},
        Some(&|out| {
            out.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#).unwrap();
            repeat(out, b"<si><t>x</t></si>", 400 << 20);
            out.write_all(b"</sst>").unwrap();
        }),
    );
    for bomb in [&cell, &strings] {
        let size = std::fs::metadata(bomb).unwrap().len();
        assert!(size < 1 << 20, "{} is {size} bytes", bomb.display());
        let mut command = cred(sandbox.base_url());
        command
            .args(["batch", "jumdata", "credential", "--input"])
            .arg(bomb)
            .arg("--output")
            .arg(dir.path("out.jsonl"));
        let (out, peak) = tokio::task::block_in_place(|| run_measured(command));
        assert_eq!(code(&out), 2, "{}: {}", bomb.display(), stderr(&out));
        assert!(
            stderr(&out).contains("within the limits"),
            "{}",
            stderr(&out)
        );
        assert!(peak < LIMIT, "{}: peak {} MiB", bomb.display(), peak >> 20);
        eprintln!("{}: refused, peak {} MiB", bomb.display(), peak >> 20);
    }
    // A cell far away (the sheet's dimension claims 17 billion cells): read in a stream,
    // nothing allocated for the empty ones.
    let far = dir.path("far.xlsx");
    workbook(
        &far,
        &|out| {
            out.write_all(br#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>"#)
                .unwrap();
        },
        None,
    );
    let mut command = cred(sandbox.base_url());
    command
        .args(["batch", "jumdata", "credential", "--input"])
        .arg(&far)
        .arg("--output")
        .arg(dir.path("far.jsonl"));
    let (out, peak) = tokio::task::block_in_place(|| run_measured(command));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(peak < LIMIT, "peak {} MiB", peak >> 20);
    assert_eq!(sent(&sandbox).await, 1);
    // Not a workbook at all, and an empty CSV: unreadable input, exit 2.
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (name, bytes) in [("random.xlsx", random), ("empty.csv", Vec::new())] {
        let input = dir.write(name, bytes);
        let out = tokio::task::block_in_place(|| {
            batch(sandbox.base_url(), &input, &dir.path("x.jsonl"), &[])
        });
        assert_eq!(code(&out), 2, "{name}: {}", stderr(&out));
    }
    assert_eq!(sent(&sandbox).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_given_twice_is_refused_and_removed_rows_leave_the_output() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("columns");
    // Two headers mapped to `idcard`, with different values: which one was meant?
    let input = dir.write(
        "twice.csv",
        format!("name,身份证号,idcard\n王小明,{},{}\n", id(1), id(2)),
    );
    let out = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &dir.path("1.jsonl"),
            &["--map", "身份证号=idcard"],
        )
    });
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`idcard` (headers 身份证号, idcard)"),
        "{}",
        stderr(&out)
    );
    // In JSON Lines, the line that gives it twice is invalid; the others go.
    let input = dir.write(
        "twice.jsonl",
        format!(
            "{{\"name\":\"王小明\",\"idcard\":\"{}\",\"idcard\":\"{}\"}}\n{{\"name\":\"李四\",\"idcard\":\"{}\"}}\n",
            id(1),
            id(2),
            id(3)
        ),
    );
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("2.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        statuses(&lines(&dir.path("2.jsonl"))),
        ["invalid", "answered"]
    );
    assert_eq!(sent(&sandbox).await, 1);
    // Twelve rows answered; the last removed from the input: eleven lines, nothing sent.
    let input = dir.write("twelve.csv", people(12, 0));
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("3.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sent(&sandbox).await, 13);
    let text = people(12, 0);
    let eleven: String = text.lines().take(12).map(|l| format!("{l}\n")).collect();
    std::fs::write(&input, eleven).unwrap();
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("4.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&dir.path("4.jsonl")).len(), 11);
    assert!(stderr(&out).contains("11 rows"), "{}", stderr(&out));
    // Put back: its answer comes from the journal, not paid again.
    std::fs::write(&input, text).unwrap();
    let out = tokio::task::block_in_place(|| {
        batch(sandbox.base_url(), &input, &dir.path("5.jsonl"), &[])
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&dir.path("5.jsonl")).len(), 12);
    assert_eq!(sent(&sandbox).await, 13);
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped; `None` (after
/// saying so) where mounting is not allowed, unless `CI` is set.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("cred-tmpfs-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&dir);
            if std::env::var_os("CI").is_some() {
                panic!("cannot mount a tmpfs (CI runs as root): the full-disk test needs one");
            }
            eprintln!("\n*** SKIPPED {name}: mounting a tmpfs needs root ***\n");
            return None;
        }
        Some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_run_with_its_own_code_and_loses_no_answer() {
    let Some(disk) = Tmpfs::mount("full", "10m") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("full");
    let rows = 4000;
    let input = dir.write("in.csv", people(rows, 0));
    let journal = disk.0.join("in.journal");
    let out = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &dir.path("1.jsonl"),
            &["--journal", journal.to_str().unwrap(), "--json"],
        )
    });
    assert_eq!(
        code(&out),
        7,
        "{}\n{}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stopped"]["reason"], "journal", "{summary}");
    assert!(
        summary["stopped"]["message"]
            .as_str()
            .unwrap()
            .contains("full"),
        "{summary}"
    );
    assert_eq!(
        summary["statuses"]["unknown"], 0,
        "every answer received is recorded: {summary}"
    );
    let first = sent(&sandbox).await;
    assert!(
        first > 0 && first < rows,
        "the disk filled mid-run ({first} sent)"
    );
    assert_eq!(summary["sent_this_run"], first);
    // On a disk with room (the journal copied off the tmpfs): the rest is sent, nothing
    // twice, nothing unknown.
    let moved = dir.path("in.journal");
    for suffix in ["", ".key", "-wal"] {
        let from = format!("{}{suffix}", journal.display());
        if Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", moved.display())).unwrap();
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        format!("{}.key", moved.display()),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    drop(disk);
    let out = tokio::task::block_in_place(|| {
        batch(
            sandbox.base_url(),
            &input,
            &dir.path("2.jsonl"),
            &["--journal", moved.to_str().unwrap(), "--json"],
        )
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["statuses"]["answered"], rows, "{summary}");
    assert_eq!(summary["statuses"]["unknown"], 0, "{summary}");
    assert_eq!(sent(&sandbox).await, rows, "each input paid exactly once");
}

/// `cred --redis URL --rate-limit 50 batch jumdata credential` on `input`.
fn redis_batch(
    sandbox: &Sandbox,
    redis: &str,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> Output {
    let command = cred_with(
        sandbox.base_url(),
        &["--rate-limit", "50", "--redis", redis],
    );
    batch_with(command, input, output, extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_trouble_stops_the_batch_with_its_code_and_no_password_is_printed() {
    const PASSWORD: &str = "credkit-test-redis-password-NOT-REAL";
    let Some(redis) = redis_server::RedisServer::start_with_password("batch-redis", PASSWORD)
    else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let dir = Dir::new("redis");
    let input = dir.write("in.csv", people(3, 0));
    // Unreachable: try later (4), nothing sent, nothing counted as sent, the cause said.
    let down = "redis+unix:///nonexistent-credkit-dir/redis.sock";
    let out = tokio::task::block_in_place(|| {
        redis_batch(&sandbox, down, &input, &dir.path("1.jsonl"), &[])
    });
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("0 sent this run"), "{message}");
    assert!(
        message.contains("shared rate limit is unavailable"),
        "{message}"
    );
    assert_eq!(sent(&sandbox).await, 0);
    // A wrong password: a configuration error (3), not a wait; nothing sent.
    let wrong = redis.url_with_password("not-the-password");
    let out = tokio::task::block_in_place(|| {
        redis_batch(&sandbox, &wrong, &input, &dir.path("2.jsonl"), &["--json"])
    });
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["sent_this_run"], 0, "{summary}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("not-the-password"));
    assert!(!stderr(&out).contains("not-the-password"));
    assert_eq!(sent(&sandbox).await, 0);
    // The right one: the run goes, and the command that resumes it names the variable
    // instead of the password, on stderr and in --json.
    let url = redis.url();
    for (i, json) in [(3, false), (4, true)] {
        let input = dir.write(&format!("in{i}.csv"), people(3, 0));
        let mut extra = vec!["--max-charged", "1"];
        if json {
            extra.push("--json");
        }
        let out = tokio::task::block_in_place(|| {
            redis_batch(
                &sandbox,
                &url,
                &input,
                &dir.path(&format!("{i}.jsonl")),
                &extra,
            )
        });
        assert_eq!(code(&out), 5, "{}", stderr(&out));
        let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(!printed.contains(PASSWORD), "{printed}");
        assert!(printed.contains("$CRED_REDIS_URL"), "{printed}");
        assert!(printed.contains("set CRED_REDIS_URL"), "{printed}");
        if json {
            let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(
                summary["resume"]
                    .as_str()
                    .unwrap()
                    .contains("--redis \"$CRED_REDIS_URL\""),
                "{summary}"
            );
        }
    }
}
