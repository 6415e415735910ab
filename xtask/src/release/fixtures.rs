//! Small fixture workspaces on disk: one that passes every check, and one broken copy
//! per check, each shown to fail `release verify` with a clear message.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::checks::static_checks;
use super::order::publish_order;
use super::publish::{Registry, Runner, Target, Wait, publish};
use super::semver_checks::{self, Baseline};
use super::{Workspace, bump, verify};

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

    /// Adds a publishable crate `name` in `dir` with `deps` (its `[dependencies]`) and
    /// `tables` (others) to the workspace.
    fn add_crate(&self, dir: &str, name: &str, deps: &str, tables: &str) {
        self.write(
            &format!("{dir}/Cargo.toml"),
            &manifest(name, deps, &format!("\n{tables}\n")),
        );
        self.write(&format!("{dir}/README.md"), &format!("# {name}\n"));
        self.write(
            &format!("{dir}/CHANGELOG.md"),
            &format!("# Changelog of `{name}`\n\n## [0.1.0] - Unreleased\n\n- First release.\n"),
        );
        self.write(
            &format!("{dir}/src/lib.rs"),
            "//! Fixture.\n\n/// Nothing.\npub fn f() {}\n",
        );
        self.edit(
            "Cargo.toml",
            "\"internal\"]",
            &format!("\"internal\", \"{dir}\"]"),
        );
    }

    /// `[package] version` of the crate in `dir`, read from its manifest.
    fn version(&self, dir: &str) -> String {
        let m: toml::Value = toml::from_str(&self.read(&format!("{dir}/Cargo.toml"))).unwrap();
        m["package"]["version"].as_str().unwrap().to_owned()
    }
}

/// `verify` (without `cargo package`) fails and the report names `check` and `needle`.
fn fails_with(f: &Fixture, check: &str, needle: &str) {
    let err = verify(&f.load(), false, None).unwrap_err();
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
    let report = verify(&f.load(), true, None).unwrap();
    assert!(report.contains("4 publishable crates pass"), "{report}");
    f.write(
        "b-api/src/lib.rs",
        "//! Broken.\n\npub fn f() -> u8 { \"not a number\" }\n",
    );
    let err = verify(&f.load(), true, None).unwrap_err();
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
    verify(&f.load(), true, None).unwrap();
    // Same name and version, new code: the dependent must be checked against it.
    f.write(
        "core/src/lib.rs",
        "//! Renamed.\n\n/// Renamed.\npub fn renamed() {}\n",
    );
    let err = verify(&f.load(), true, None).unwrap_err();
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
    let err = verify(&f.load(), false, None).unwrap_err();
    assert!(
        err.contains("[cycle] dependency cycle: fx-a-api -> fx-core -> fx-a-api"),
        "{err}"
    );
}

/// The bump report's line for crate `name`, naming its versions.
fn bumped(report: &str, name: &str, from: &str, to: &str) {
    assert!(
        report.contains(&format!("{name}: {from} -> {to} (")),
        "{name} {from} -> {to} missing from:\n{report}"
    );
}

#[test]
fn bump_updates_the_version_every_requirement_and_the_changelog() {
    // core <- a-api, b-api <- cli: a minor bump of core in 0.x is breaking, and every
    // publishable crate exposes what it depends on, so all of them have breaking bumps.
    let f = Fixture::good("bump");
    let report = bump::bump(&f.load(), "fx-core", "minor").unwrap();
    bumped(&report, "fx-core", "0.1.0", "0.2.0");
    assert!(
        report.contains("minor, breaking: `^0.1.0` does not accept 0.2.0"),
        "{report}"
    );
    assert_eq!(f.version("core"), "0.2.0");
    for dependent in ["a-api", "b-api"] {
        let m = f.read(&format!("{dependent}/Cargo.toml"));
        assert!(
            m.contains(r#"fx-core = { path = "../core", version = "0.2.0" }"#),
            "{m}"
        );
        assert_eq!(f.version(dependent), "0.2.0", "it exposes fx-core: {m}");
    }
    // The author of the requested bump fills its entry in; the cascade's are written.
    let core_log = f.read("core/CHANGELOG.md");
    assert!(
        core_log.contains("## [0.2.0] - Unreleased\n\n- \n\n## [0.1.0]"),
        "{core_log}"
    );
    assert!(
        f.read("a-api/CHANGELOG.md").contains(
            "## [0.2.0] - Unreleased\n\n- Breaking: depends on fx-core 0.2, whose types it re-exports.\n"
        )
    );
    // The unpublished crate has nothing to do with it.
    assert_eq!(f.version("internal"), "0.1.0");
    assert_eq!(
        static_checks(&f.load()),
        vec![],
        "a bumped workspace still verifies"
    );
    assert!(
        bump::bump(&f.load(), "fx-internal", "patch")
            .unwrap_err()
            .contains("not published")
    );
    assert!(
        bump::bump(&f.load(), "fx-core", "huge")
            .unwrap_err()
            .contains("not major, minor or patch")
    );
    assert!(bump::bump(&f.load(), "fx-nothing", "patch").is_err());
}

#[test]
fn a_breaking_bump_cascades_to_what_exposes_it_and_patches_what_ships_it_privately() {
    let f = Fixture::good("cascade");
    // b-api uses core without exposing it; tools uses it only in its tests.
    f.edit(
        "b-api/Cargo.toml",
        "[dependencies]\n",
        "[package.metadata.release]\nprivate-dependencies = [\"fx-core\"]\n\n[dependencies]\n",
    );
    f.add_crate(
        "tools",
        "fx-tools",
        "",
        "[dev-dependencies]\nfx-core = { path = \"../core\", version = \"0.1.0\" }",
    );
    assert_eq!(static_checks(&f.load()), vec![]);
    let report = bump::bump(&f.load(), "fx-core", "minor").unwrap();
    bumped(&report, "fx-core", "0.1.0", "0.2.0");
    bumped(&report, "fx-a-api", "0.1.0", "0.2.0");
    bumped(&report, "fx-b-api", "0.1.0", "0.1.1");
    // cli exposes a-api, which had a breaking bump; b-api's patch alone would not do.
    bumped(&report, "fx-cli", "0.1.0", "0.2.0");
    assert_eq!(f.version("core"), "0.2.0");
    assert_eq!(f.version("a-api"), "0.2.0");
    assert_eq!(f.version("b-api"), "0.1.1");
    assert_eq!(f.version("cli"), "0.2.0");
    assert_eq!(
        f.version("tools"),
        "0.1.0",
        "a dev-only dependent ships nothing"
    );
    assert!(
        f.read("a-api/CHANGELOG.md")
            .contains("- Breaking: depends on fx-core 0.2, whose types it re-exports.\n"),
        "{}",
        f.read("a-api/CHANGELOG.md")
    );
    assert!(
        f.read("b-api/CHANGELOG.md").contains(
            "## [0.1.1] - Unreleased\n\n- Depends on fx-core 0.2, a private dependency: this crate's API is unchanged.\n"
        ),
        "{}",
        f.read("b-api/CHANGELOG.md")
    );
    let cli_log = f.read("cli/CHANGELOG.md");
    assert!(
        cli_log.contains("- Breaking: depends on fx-a-api 0.2, whose types it re-exports.\n"),
        "{cli_log}"
    );
    assert!(!f.read("tools/CHANGELOG.md").contains("0.2.0"));
    // Every requirement follows, the dev-only one too.
    assert!(
        f.read("b-api/Cargo.toml")
            .contains(r#"fx-core = { path = "../core", version = "0.2.0" }"#)
    );
    assert!(
        f.read("tools/Cargo.toml")
            .contains(r#"fx-core = { path = "../core", version = "0.2.0" }"#)
    );
    let cli = f.read("cli/Cargo.toml");
    assert!(
        cli.contains(r#"fx-a-api = { path = "../a-api", version = "0.2.0" }"#),
        "{cli}"
    );
    assert!(
        cli.contains(r#"fx-b-api = { path = "../b-api", version = "0.1.1" }"#),
        "{cli}"
    );
    assert!(
        report.contains("requirements followed, no release needed: fx-tools"),
        "{report}"
    );
    assert_eq!(static_checks(&f.load()), vec![]);
}

#[test]
fn the_cascade_goes_through_crates_that_expose_a_crate_that_exposes_the_bumped_one() {
    // core <- a-api <- cli <- app, none of them depending on core directly but a-api.
    let f = Fixture::good("transitive");
    f.add_crate(
        "app",
        "fx-app",
        "fx-cli = { path = \"../cli\", version = \"0.1.0\" }",
        "",
    );
    let report = bump::bump(&f.load(), "fx-core", "major").unwrap();
    bumped(&report, "fx-core", "0.1.0", "1.0.0");
    bumped(&report, "fx-a-api", "0.1.0", "0.2.0");
    assert!(
        f.read("a-api/CHANGELOG.md")
            .contains("- Breaking: depends on fx-core 1.0, whose types it re-exports.\n")
    );
    bumped(&report, "fx-b-api", "0.1.0", "0.2.0");
    bumped(&report, "fx-cli", "0.1.0", "0.2.0");
    bumped(&report, "fx-app", "0.1.0", "0.2.0");
    assert!(
        f.read("cli/CHANGELOG.md").contains(
            "- Breaking: depends on fx-a-api 0.2 and fx-b-api 0.2, whose types it re-exports.\n"
        ),
        "{}",
        f.read("cli/CHANGELOG.md")
    );
    assert!(
        f.read("app/CHANGELOG.md")
            .contains("- Breaking: depends on fx-cli 0.2, whose types it re-exports.\n"),
        "{}",
        f.read("app/CHANGELOG.md")
    );
    assert!(
        f.read("app/Cargo.toml")
            .contains(r#"fx-cli = { path = "../cli", version = "0.2.0" }"#)
    );
    assert_eq!(f.version("internal"), "0.1.0");
    assert_eq!(static_checks(&f.load()), vec![]);
}

#[test]
fn a_compatible_bump_changes_only_the_requirements() {
    let f = Fixture::good("patch");
    let before_logs: Vec<String> = ["a-api", "b-api", "cli"]
        .iter()
        .map(|d| f.read(&format!("{d}/CHANGELOG.md")))
        .collect();
    let report = bump::bump(&f.load(), "fx-core", "patch").unwrap();
    bumped(&report, "fx-core", "0.1.0", "0.1.1");
    assert!(report.contains("patch, compatible with 0.1.0"), "{report}");
    assert_eq!(f.version("core"), "0.1.1");
    assert!(
        f.read("core/CHANGELOG.md")
            .contains("## [0.1.1] - Unreleased")
    );
    for d in ["a-api", "b-api"] {
        assert_eq!(f.version(d), "0.1.0");
        assert!(
            f.read(&format!("{d}/Cargo.toml"))
                .contains(r#"fx-core = { path = "../core", version = "0.1.1" }"#)
        );
    }
    assert_eq!(f.version("cli"), "0.1.0");
    let after_logs: Vec<String> = ["a-api", "b-api", "cli"]
        .iter()
        .map(|d| f.read(&format!("{d}/CHANGELOG.md")))
        .collect();
    assert_eq!(before_logs, after_logs, "no dependent is released");
    assert!(
        report.contains("requirements followed, no release needed: fx-a-api, fx-b-api"),
        "{report}"
    );
    assert_eq!(static_checks(&f.load()), vec![]);
}

#[test]
fn a_private_dependency_that_is_re_exported_is_named() {
    let f = Fixture::good("private-reexport");
    f.edit(
        "b-api/Cargo.toml",
        "[dependencies]\n",
        "[package.metadata.release]\nprivate-dependencies = [\"fx-core\"]\n\n[dependencies]\n",
    );
    assert_eq!(
        static_checks(&f.load()),
        vec![],
        "private and not re-exported"
    );
    f.write(
        "b-api/src/lib.rs",
        "//! Re-exports core.\n\n// pub use fx_core::f; (a comment does not count)\npub(crate) use fx_core as _core;\n\n/// Core's function.\npub use fx_core::f;\n",
    );
    fails_with(
        &f,
        "private-dependency",
        "crate `fx-b-api` lists `fx-core` under private-dependencies but re-exports it (src/lib.rs: `pub use fx_core::f;`)",
    );
    // A name that is no dependency at all.
    let f = Fixture::good("private-unknown");
    f.edit(
        "a-api/Cargo.toml",
        "[dependencies]\n",
        "[package.metadata.release]\nprivate-dependencies = [\"fx-b-api\"]\n\n[dependencies]\n",
    );
    fails_with(
        &f,
        "private-dependency",
        "crate `fx-a-api` lists `fx-b-api` under private-dependencies but has no normal or build dependency on it",
    );
}

/// Runs `git args` in `dir` (with an identity for commits), panicking on failure.
fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=fixture",
            "-c",
            "user.email=fixture@example.invalid",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo semver-checks` on a fixture released as `fx-core-v0.1.0`: a removed function
/// at the same version is a problem naming the crate and the function; the bump that
/// announces it passes; a field added to a `#[non_exhaustive]` struct needs none.
///
/// Needs `cargo-semver-checks` (`cargo install --locked cargo-semver-checks`; `.ci/run`
/// installs it). Without it the test fails when `CI` is set, as the Redis tests do, and
/// is skipped with a loud message otherwise, so that `cargo test --workspace` works on a
/// machine with only the Rust toolchain.
#[test]
fn semver_checks_catch_an_unannounced_break_against_the_release_tag() {
    let installed =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["semver-checks", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !installed {
        let message = format!(
            "cargo-semver-checks is not installed: run `{}`",
            semver_checks::INSTALL
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!(
            "SKIPPED semver_checks_catch_an_unannounced_break_against_the_release_tag: {message}"
        );
        return;
    }
    let f = Fixture::good("semver");
    f.write(
        "core/src/lib.rs",
        "//! Core.\n\n/// Kept.\npub fn f() {}\n\n/// Removed later.\npub fn g() {}\n\n/// Grows.\n#[non_exhaustive]\npub struct Settings {\n    /// The first field.\n    pub a: u8,\n}\n",
    );
    f.write(".gitignore", "target/\n");
    git(&f.dir, &["init", "-q", "-b", "main"]);
    git(&f.dir, &["add", "-A"]);
    git(&f.dir, &["commit", "-q", "-m", "release 0.1.0"]);
    git(&f.dir, &["tag", "fx-core-v0.1.0"]);

    // A field added to a non-exhaustive struct: no version needed.
    f.edit(
        "core/src/lib.rs",
        "    pub a: u8,\n",
        "    pub a: u8,\n    /// Added.\n    pub b: u16,\n",
    );
    let report = verify(&f.load(), false, Some(&Baseline::Tags)).unwrap();
    assert!(
        report.contains("fx-core: 0.1.0 -> 0.1.0 against fx-core-v0.1.0: no break"),
        "{report}"
    );
    assert!(
        report.contains("fx-a-api: never released: no baseline"),
        "{report}"
    );

    // A removed function at the same version.
    f.edit("core/src/lib.rs", "/// Removed later.\npub fn g() {}\n", "");
    let err = verify(&f.load(), false, Some(&Baseline::Tags)).unwrap_err();
    assert!(
        err.contains("[semver] crate `fx-core`")
            && err.contains("function_missing")
            && err.contains("function fx_core::g")
            && err.contains("cargo xtask release bump fx-core minor"),
        "{err}"
    );
    // The same against a revision given by hand.
    let err = verify(
        &f.load(),
        false,
        Some(&Baseline::Rev("fx-core-v0.1.0".to_owned())),
    )
    .unwrap_err();
    assert!(err.contains("function fx_core::g"), "{err}");

    // Announced: a breaking bump.
    bump::bump(&f.load(), "fx-core", "minor").unwrap();
    let report = verify(&f.load(), false, Some(&Baseline::Tags)).unwrap();
    assert!(
        report.contains("fx-core: 0.1.0 -> 0.2.0 against fx-core-v0.1.0: no break"),
        "{report}"
    );
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
    target: &Target,
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
        target,
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
    let (report, calls) = run_publish(&f, &Target::crates_io(), false, &["fx-core@0.1.0"]);
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
    let (report, calls) = run_publish(&f, &Target::crates_io(), true, &[]);
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
    let (result, calls) = run_publish(&f, &Target::crates_io(), false, &[]);
    let err = result.unwrap_err();
    assert!(err.contains("[changelog]"), "{err}");
    assert!(calls.is_empty());
}

#[test]
fn publish_to_a_named_registry_passes_its_arguments_and_tags_nothing() {
    let f = Fixture::good("publish-named");
    let target = Target {
        registry: Some("rehearse".to_owned()),
        args: vec!["--config".to_owned(), "/tmp/rehearse.toml".to_owned()],
        tag: false,
    };
    let (report, calls) = run_publish(&f, &target, false, &[]);
    let report = report.unwrap();
    assert!(
        report.contains("4. fx-cli 0.1.0: published, served by the registry"),
        "{report}"
    );
    assert_eq!(
        calls,
        vec![
            "cargo publish -p fx-core --locked --registry rehearse --config /tmp/rehearse.toml",
            "cargo publish -p fx-a-api --locked --registry rehearse --config /tmp/rehearse.toml",
            "cargo publish -p fx-b-api --locked --registry rehearse --config /tmp/rehearse.toml",
            "cargo publish -p fx-cli --locked --registry rehearse --config /tmp/rehearse.toml",
        ],
        "no git tag"
    );
}

/// On this workspace itself: a breaking `cred-core` bump is a breaking bump of every
/// provider (each re-exports `cred_core`) and of everything exposing them, planned
/// without writing anything.
#[test]
fn a_breaking_cred_core_bump_of_this_workspace_bumps_every_provider() {
    let ws = Workspace::load(&crate::codegen::workspace_root()).unwrap();
    let plan = bump::plan(&ws, "cred-core", super::semver::Level::Minor).unwrap();
    let breaking: BTreeSet<&str> = plan
        .iter()
        .filter(|p| super::semver::is_breaking(&p.old, &p.new))
        .map(|p| p.name.as_str())
        .collect();
    for provider in ["jumdata-api", "juhe-api", "zhima-api", "zz-license-api"] {
        assert!(breaking.contains(provider), "{provider}: {plan:?}");
    }
    assert!(breaking.contains("cred-core"));
    // Nothing unpublished is released.
    assert!(
        plan.iter()
            .all(|p| ws.get(&p.name).is_some_and(|c| c.publishable))
    );
}
