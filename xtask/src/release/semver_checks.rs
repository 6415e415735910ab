//! The API check of `release verify`: `cargo semver-checks check-release` for every
//! publishable crate against its baseline (its last release tag `<crate>-v<version>`, or
//! a revision given with `--baseline-rev`). A break that the version change does not
//! announce is a problem naming the crate and cargo-semver-checks' findings.

use std::path::Path;
use std::process::Command;

use super::checks::{Problem, problem};
use super::order::publish_order;
use super::semver::{self, Version};
use super::workspace::{Crate, Workspace};

/// The command that installs the tool.
pub const INSTALL: &str = "cargo install --locked cargo-semver-checks";

/// Where each crate's baseline comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// The crate's last release tag: `<crate>-v<version>`, the highest version not above
    /// the current one.
    Tags,
    /// One git revision for every crate.
    Rev(String),
}

/// What the check found: one line per crate that passed or had no baseline, and the
/// problems.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `fx-core: 0.1.0 -> 0.2.0 against fx-core-v0.1.0: ok`, `never released: no baseline`.
    pub notes: Vec<String>,
    /// Unannounced breaks, and failures to run the check.
    pub problems: Vec<Problem>,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `git args` in `dir`; its trimmed stdout, or its stderr as the error.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The last release tag of crate `name` at or below `current`: the highest version among
/// the tags `<name>-v<version>` (versions ordered by semver, so `rc.10` follows `rc.9`).
/// An error when git cannot list tags.
pub fn last_release_tag(
    root: &Path,
    name: &str,
    current: &Version,
) -> Result<Option<(String, Version)>, String> {
    let prefix = format!("{name}-v");
    let tags = git(root, &["tag", "--list", &format!("{prefix}*")])?;
    Ok(tags
        .lines()
        .filter_map(|t| {
            let v = semver::parse(t.trim().strip_prefix(&prefix)?).ok()?;
            (v <= *current).then(|| (t.trim().to_owned(), v))
        })
        .max_by(|a, b| a.1.cmp(&b.1)))
}

/// Whether `cargo semver-checks` runs.
fn installed() -> bool {
    Command::new(cargo())
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The bump command that announces what cargo-semver-checks asks for (`major` or
/// `minor`) at `v`: in `0.x`, a minor bump is the breaking one.
fn suggested_level(v: &Version, required: &str) -> &'static str {
    match (required, v.major, v.minor) {
        ("major", 0, 0) | ("minor", 0, _) => "patch",
        ("major", 0, _) => "minor",
        ("major", _, _) => "major",
        _ => "minor",
    }
}

/// Checks every publishable crate against its baseline.
pub fn check(ws: &Workspace, baseline: &Baseline) -> Outcome {
    let mut out = Outcome::default();
    if !installed() {
        out.problems.push(problem(
            "semver",
            format!(
                "cargo-semver-checks is not installed; it compares each crate's API with its last release: run `{INSTALL}`"
            ),
        ));
        return out;
    }
    if let Baseline::Rev(rev) = baseline
        && let Err(e) = git(
            &ws.root,
            &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
        )
    {
        out.problems.push(problem(
            "semver",
            format!("--baseline-rev `{rev}` is not a commit of this repository: {e}"),
        ));
        return out;
    }
    let order = publish_order(ws).unwrap_or_default();
    for c in order.iter().filter_map(|n| ws.get(n)) {
        match check_crate(ws, c, baseline) {
            Ok(note) => out.notes.push(format!("{}: {note}", c.name)),
            Err(p) => out.problems.push(p),
        }
    }
    out
}

/// One crate: a note when it passes or has no baseline, a problem when it breaks.
fn check_crate(ws: &Workspace, c: &Crate, baseline: &Baseline) -> Result<String, Problem> {
    let fail = |m: String| problem("semver", format!("crate `{}`: {m}", c.name));
    let current = semver::parse(&c.version).map_err(fail)?;
    let (rev, from) = match baseline {
        Baseline::Tags => match last_release_tag(&ws.root, &c.name, &current) {
            Ok(Some((tag, v))) => (tag, v.to_string()),
            Ok(None) => return Ok("never released: no baseline".to_owned()),
            Err(e) => return Ok(format!("never released: no baseline (git: {e})")),
        },
        Baseline::Rev(rev) => {
            let dir = c.dir.strip_prefix(&ws.root).unwrap_or(&c.dir);
            let manifest = format!("{rev}:{}", dir.join("Cargo.toml").display());
            if git(&ws.root, &["cat-file", "-e", &manifest]).is_err() {
                return Ok(format!("not in {rev}: no baseline"));
            }
            let text = git(&ws.root, &["show", &manifest]).unwrap_or_default();
            let version = toml::from_str::<toml::Value>(&text)
                .ok()
                .and_then(|v| {
                    v.get("package")?
                        .get("version")?
                        .as_str()
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "?".to_owned());
            (rev.clone(), version)
        }
    };
    let run = Command::new(cargo())
        .args(["semver-checks", "check-release", "--color", "never", "-p"])
        .arg(&c.name)
        .arg("--baseline-rev")
        .arg(&rev)
        .arg("--manifest-path")
        .arg(ws.root.join("Cargo.toml"))
        .current_dir(&ws.root)
        .output()
        .map_err(|e| fail(format!("cannot run cargo semver-checks: {e}")))?;
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let summary = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Summary"))
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    if run.status.success() {
        return Ok(format!(
            "{from} -> {} against {rev}: no break the version does not allow ({summary})",
            c.version
        ));
    }
    let findings = findings(&stdout);
    if findings.is_empty() {
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(12)..].join("\n      ");
        return Err(fail(format!(
            "cargo semver-checks could not compare it with {rev}:\n      {tail}"
        )));
    }
    let required = if summary.contains("new major version") {
        "major"
    } else {
        "minor"
    };
    Err(fail(format!(
        "{from} -> {} breaks the API against {rev} without a version that says so ({summary}); bump it (`cargo xtask release bump {} {}`) or restore the API. cargo-semver-checks found:\n      {}",
        c.version,
        c.name,
        suggested_level(&current, required),
        findings.join("\n      ")
    )))
}

/// The findings in cargo-semver-checks' report: each `--- failure …` heading and the
/// items under its `Failed in:`.
fn findings(stdout: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut listing = false;
    for line in stdout.lines() {
        let t = line.trim();
        if t.starts_with("--- failure") || t.starts_with("--- warning") {
            out.push(t.to_owned());
            listing = false;
        } else if t == "Failed in:" {
            listing = true;
        } else if t.is_empty() {
            listing = false;
        } else if listing {
            out.push(format!("  {t}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_the_failures_and_their_items() {
        let report = "\n--- failure function_missing: pub fn removed or renamed ---\n\nDescription:\nA publicly-visible function cannot be imported.\n        ref: https://example.invalid\n\nFailed in:\n  function fx_core::f, previously in file core/src/lib.rs:3\n  function fx_core::g, previously in file core/src/lib.rs:5\n";
        assert_eq!(
            findings(report),
            vec![
                "--- failure function_missing: pub fn removed or renamed ---",
                "  function fx_core::f, previously in file core/src/lib.rs:3",
                "  function fx_core::g, previously in file core/src/lib.rs:5",
            ]
        );
    }

    #[test]
    fn the_suggested_bump_is_the_breaking_one_for_the_series() {
        let v = |s: &str| semver::parse(s).unwrap();
        assert_eq!(suggested_level(&v("0.1.0"), "major"), "minor");
        assert_eq!(suggested_level(&v("0.0.3"), "major"), "patch");
        assert_eq!(suggested_level(&v("1.2.0"), "major"), "major");
        assert_eq!(suggested_level(&v("1.2.0"), "minor"), "minor");
        assert_eq!(suggested_level(&v("0.1.0"), "minor"), "patch");
    }
}
