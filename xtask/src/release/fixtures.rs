//! Small fixture workspaces on disk: one that passes every check, and one broken copy
//! per check, each shown to fail `release verify` with a clear message.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::checks::static_checks;
use super::order::publish_order;
use super::publish::{Registry, Runner, Wait, publish};
use super::{Workspace, edit, verify};

struct Fixture {
    dir: PathBuf,
}

/// `cargo package` clears the unpacked overlay copies of the crates it packages in the
/// shared `$CARGO_HOME`; the fixtures all name their crates `fx-*`, so tests that
/// package take turns.
static PACKAGE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn package_lock() -> std::sync::MutexGuard<'static, ()> {
    PACKAGE_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn manifest(name: &str, deps: &str, extra: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
description = "Fixture crate {name}."
license = "MIT"
repository = "https://example.invalid/fixture"
readme = "README.md"
documentation = "https://docs.rs/{name}"
keywords = ["fixture"]
categories = ["development-tools"]
rust-version = "1.70"
{extra}
[dependencies]
{deps}
"#
    )
}

impl Fixture {
    /// core <- a-api, b-api <- cli; `internal` is unpublished.
    fn good(tag: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!("xtask-fixture-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let f = Fixture { dir };
        f.write(
            "Cargo.toml",
            r#"[workspace]
resolver = "2"
members = ["core", "a-api", "b-api", "cli", "internal"]

[workspace.metadata.release]
providers = ["fx-a-api", "fx-b-api"]
consumers = ["fx-cli"]
"#,
        );
        let crates = [
            ("core", "fx-core", "", ""),
            (
                "a-api",
                "fx-a-api",
                r#"fx-core = { path = "../core", version = "0.1.0" }"#,
                "",
            ),
            (
                "b-api",
                "fx-b-api",
                r#"fx-core = { path = "../core", version = "0.1.0" }"#,
                "",
            ),
            (
                "cli",
                "fx-cli",
                "fx-a-api = { path = \"../a-api\", version = \"0.1.0\" }\nfx-b-api = { path = \"../b-api\", version = \"0.1.0\" }",
                "",
            ),
            ("internal", "fx-internal", "", "publish = false"),
        ];
        for (dir, name, deps, extra) in crates {
            f.write(&format!("{dir}/Cargo.toml"), &manifest(name, deps, extra));
            f.write(&format!("{dir}/README.md"), &format!("# {name}\n"));
            f.write(
                &format!("{dir}/CHANGELOG.md"),
                &format!(
                    "# Changelog of `{name}`\n\n## [0.1.0] - Unreleased\n\n- First release.\n"
                ),
            );
            f.write(
                &format!("{dir}/src/lib.rs"),
                "//! Fixture.\n\n/// Nothing.\npub fn f() {}\n",
            );
        }
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn load(&self) -> Workspace {
        Workspace::load(&self.dir).unwrap()
    }
}

/// `verify` (without `cargo package`) fails and the report names `check` and `needle`.
fn fails_with(f: &Fixture, check: &str, needle: &str) {
    let err = verify(&f.load(), false).unwrap_err();
    assert!(
        err.contains(&format!("[{check}]")) && err.contains(needle),
        "expected [{check}] … {needle}, got:\n{err}"
    );
}

#[test]
fn the_good_fixture_passes_and_orders_dependencies_first() {
    let f = Fixture::good("good");
    let ws = f.load();
    assert_eq!(static_checks(&ws), vec![]);
    assert_eq!(
        publish_order(&ws).unwrap(),
        vec!["fx-core", "fx-a-api", "fx-b-api", "fx-cli"]
    );
    assert!(ws.get("fx-internal").is_some_and(|c| !c.publishable));
}

#[test]
fn cargo_package_runs_for_the_workspace_and_a_broken_crate_fails_it() {
    let _turn = package_lock();
    let f = Fixture::good("package");
    let report = verify(&f.load(), true).unwrap();
    assert!(report.contains("4 publishable crates pass"), "{report}");
    f.write(
        "b-api/src/lib.rs",
        "//! Broken.\n\npub fn f() -> u8 { \"not a number\" }\n",
    );
    let err = verify(&f.load(), true).unwrap_err();
    assert!(
        err.contains("[package]") && err.contains("cargo package"),
        "{err}"
    );
}

#[test]
fn a_change_without_a_version_bump_is_verified_fresh_not_from_an_earlier_run() {
    let _turn = package_lock();
    let f = Fixture::good("fresh");
    f.write(
        "a-api/src/lib.rs",
        "//! Uses core.\n\n/// Calls core.\npub fn g() {\n    fx_core::f();\n}\n",
    );
    verify(&f.load(), true).unwrap();
    // Same name and version, new code: the dependent must be checked against it.
    f.write(
        "core/src/lib.rs",
        "//! Renamed.\n\n/// Renamed.\npub fn renamed() {}\n",
    );
    let err = verify(&f.load(), true).unwrap_err();
    assert!(
        err.contains("[package]") && err.contains("fx_core"),
        "{err}"
    );
}

#[test]
fn missing_metadata_is_named() {
    let f = Fixture::good("metadata");
    f.edit(
        "a-api/Cargo.toml",
        "description = \"Fixture crate fx-a-api.\"\n",
        "",
    );
    fails_with(&f, "metadata", "crate `fx-a-api`: `description` is missing");
    let f = Fixture::good("docs");
    f.edit(
        "core/Cargo.toml",
        "documentation = \"https://docs.rs/fx-core\"\n",
        "",
    );
    fails_with(&f, "metadata", "crate `fx-core`: no docs metadata");
    let f = Fixture::good("keywords");
    f.edit("cli/Cargo.toml", "keywords = [\"fixture\"]\n", "");
    fails_with(&f, "metadata", "`keywords` is missing");
}

#[test]
fn a_missing_readme_is_named() {
    let f = Fixture::good("readme");
    std::fs::remove_file(f.path("b-api/README.md")).unwrap();
    fails_with(
        &f,
        "readme",
        "crate `fx-b-api`: readme file `README.md` does not exist",
    );
}

#[test]
fn a_changelog_without_the_current_version_is_named() {
    let f = Fixture::good("changelog");
    f.edit("cli/CHANGELOG.md", "## [0.1.0]", "## [0.0.9]");
    fails_with(
        &f,
        "changelog",
        "crate `fx-cli`: CHANGELOG.md has no `## [0.1.0]` entry",
    );
}

#[test]
fn path_dependencies_need_a_matching_version() {
    let f = Fixture::good("path-missing");
    f.edit(
        "cli/Cargo.toml",
        r#"fx-a-api = { path = "../a-api", version = "0.1.0" }"#,
        r#"fx-a-api = { path = "../a-api" }"#,
    );
    fails_with(
        &f,
        "path-version",
        "crate `fx-cli`: path dependency `fx-a-api` carries no version",
    );
    let f = Fixture::good("path-mismatch");
    f.edit(
        "a-api/Cargo.toml",
        r#"version = "0.1.0" }"#,
        r#"version = "0.2.0" }"#,
    );
    fails_with(
        &f,
        "path-version",
        "crate `fx-a-api`: requires `fx-core ^0.2.0` but the workspace has fx-core 0.1.0",
    );
}

#[test]
fn depending_on_an_unpublished_crate_is_named() {
    let f = Fixture::good("unpublished");
    f.edit(
        "core/Cargo.toml",
        "[dependencies]\n",
        "[dependencies]\nfx-internal = { path = \"../internal\", version = \"0.1.0\" }\n",
    );
    fails_with(
        &f,
        "unpublishable-dependency",
        "crate `fx-core` depends on `fx-internal`, which is not published",
    );
}

#[test]
fn a_provider_depending_on_another_provider_or_a_consumer_is_named() {
    let f = Fixture::good("isolation");
    f.edit(
        "a-api/Cargo.toml",
        "[dependencies]\n",
        "[dependencies]\nfx-b-api = { path = \"../b-api\", version = \"0.1.0\" }\n",
    );
    fails_with(
        &f,
        "provider-isolation",
        "provider `fx-a-api` depends on `fx-b-api` (fx-a-api -> fx-b-api)",
    );
    // Through another crate: core -> cli (a consumer) makes every provider reach it.
    let f = Fixture::good("isolation-transitive");
    f.edit(
        "core/Cargo.toml",
        "[dependencies]\n",
        "[dependencies]\nfx-cli = { path = \"../cli\", version = \"0.1.0\" }\n",
    );
    fails_with(
        &f,
        "provider-isolation",
        "provider `fx-b-api` depends on `fx-cli` (fx-b-api -> fx-core -> fx-cli)",
    );
}

#[test]
fn a_dependency_cycle_is_named() {
    let f = Fixture::good("cycle");
    f.edit(
        "core/Cargo.toml",
        "[dependencies]\n",
        "[dev-dependencies]\nfx-a-api = { path = \"../a-api\", version = \"0.1.0\" }\n\n[dependencies]\n",
    );
    let err = verify(&f.load(), false).unwrap_err();
    assert!(
        err.contains("[cycle] dependency cycle: fx-a-api -> fx-core -> fx-a-api"),
        "{err}"
    );
}

#[test]
fn bump_updates_the_version_every_requirement_and_the_changelog() {
    let f = Fixture::good("bump");
    let report = edit::bump(&f.load(), "fx-core", "minor").unwrap();
    assert!(report.contains("fx-core: 0.1.0 -> 0.2.0"), "{report}");
    assert!(f.read("core/Cargo.toml").contains("version = \"0.2.0\""));
    for dependent in ["a-api", "b-api"] {
        let m = f.read(&format!("{dependent}/Cargo.toml"));
        assert!(
            m.contains(r#"fx-core = { path = "../core", version = "0.2.0" }"#),
            "{m}"
        );
        assert!(
            m.contains("\nversion = \"0.1.0\"\n"),
            "the dependent's own version stays: {m}"
        );
    }
    assert!(
        f.read("core/CHANGELOG.md")
            .contains("## [0.2.0] - Unreleased")
    );
    assert_eq!(
        static_checks(&f.load()),
        vec![],
        "a bumped workspace still verifies"
    );
    assert!(edit::bump(&f.load(), "fx-internal", "patch").is_err());
    assert!(edit::bump(&f.load(), "fx-core", "huge").is_err());
}

/// Records commands; `cargo publish` makes the fake registry serve the crate.
struct Recorder<'a> {
    calls: Vec<String>,
    registry: &'a RefCell<BTreeSet<String>>,
}

impl Runner for Recorder<'_> {
    fn run(&mut self, program: &str, args: &[&str], _dir: &Path) -> Result<String, String> {
        let line = format!("{program} {}", args.join(" "));
        self.calls.push(line.clone());
        if let ["publish", "-p", name, ..] = args {
            self.registry.borrow_mut().insert(format!("{name}@0.1.0"));
        }
        if args.first() == Some(&"rev-parse") {
            return Err("no such tag".to_owned());
        }
        Ok(String::new())
    }
}

struct FakeRegistry<'a>(&'a RefCell<BTreeSet<String>>);

impl Registry for FakeRegistry<'_> {
    fn is_published(&mut self, name: &str, version: &str) -> Result<bool, String> {
        Ok(self.0.borrow().contains(&format!("{name}@{version}")))
    }
}

/// Runs `publish` on `f` against a fake registry that already has `published`; the
/// outcome and the commands it ran.
fn run_publish(
    f: &Fixture,
    dry_run: bool,
    published: &[&str],
) -> (Result<String, String>, Vec<String>) {
    let registry = RefCell::new(published.iter().map(|s| (*s).to_owned()).collect());
    let mut runner = Recorder {
        calls: Vec::new(),
        registry: &registry,
    };
    let wait = Wait {
        attempts: 2,
        interval: std::time::Duration::ZERO,
    };
    let result = publish(
        &f.load(),
        dry_run,
        &mut runner,
        &mut FakeRegistry(&registry),
        &wait,
    );
    (result, runner.calls)
}

#[test]
fn publish_goes_in_order_skips_what_is_published_and_tags() {
    let f = Fixture::good("publish");
    let (report, calls) = run_publish(&f, false, &["fx-core@0.1.0"]);
    let report = report.unwrap();
    assert!(
        report.contains("1. fx-core 0.1.0: already on the registry, skipped"),
        "{report}"
    );
    let publishes: Vec<&str> = calls
        .iter()
        .filter(|c| c.starts_with("cargo publish"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        publishes,
        vec![
            "cargo publish -p fx-a-api --locked",
            "cargo publish -p fx-b-api --locked",
            "cargo publish -p fx-cli --locked"
        ]
    );
    let tags: Vec<&str> = calls
        .iter()
        .filter(|c| c.starts_with("git tag"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        tags,
        vec![
            "git tag fx-core-v0.1.0",
            "git tag fx-a-api-v0.1.0",
            "git tag fx-b-api-v0.1.0",
            "git tag fx-cli-v0.1.0"
        ]
    );
}

#[test]
fn a_dry_run_packages_everything_and_uploads_nothing() {
    let _turn = package_lock();
    let f = Fixture::good("dry-run");
    let (report, calls) = run_publish(&f, true, &[]);
    let report = report.unwrap();
    assert!(
        report.contains("cargo package: 4 crates packaged"),
        "{report}"
    );
    assert!(
        report.contains("4. fx-cli 0.1.0: would run `cargo publish -p fx-cli --locked`"),
        "{report}"
    );
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn publish_refuses_a_workspace_that_does_not_verify() {
    let f = Fixture::good("publish-broken");
    f.edit("cli/CHANGELOG.md", "## [0.1.0]", "## [0.0.1]");
    let (result, calls) = run_publish(&f, false, &[]);
    let err = result.unwrap_err();
    assert!(err.contains("[changelog]"), "{err}");
    assert!(calls.is_empty());
}
