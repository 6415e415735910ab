//! `cargo xtask release plan | verify [--baseline-rev <rev>] [--no-semver] |
//! bump <crate> <major|minor|patch> | publish [--dry-run] | rehearse`: every crate is
//! versioned and published on its own, in dependency order, checked before it ships
//! (its API against its last release too), and the whole chain can be rehearsed
//! against a registry on loopback.

mod bump;
mod checks;
mod edit;
mod order;
mod publish;
mod rehearse;
mod semver;
mod semver_checks;
mod workspace;

#[cfg(test)]
mod fixtures;

use std::path::Path;
use std::time::Duration;

pub use workspace::Workspace;

use publish::{CargoInfo, Runner, System, Target, Wait};
use semver_checks::Baseline;

/// Usage of the release commands.
pub const USAGE: &str = "cargo xtask release plan | verify [--baseline-rev <rev>] [--no-semver] | bump <crate> <major|minor|patch> | publish [--dry-run] | rehearse";

/// Runs a release command in the workspace at `root`; its report.
pub fn run(root: &Path, args: &[&str]) -> Result<String, String> {
    let ws = Workspace::load(root)?;
    match args {
        ["plan"] => plan(&ws, &mut System),
        ["verify", options @ ..] => verify(&ws, true, verify_options(options)?.as_ref()),
        ["bump", name, level] => bump::bump(&ws, name, level),
        ["publish"] => publish::publish(
            &ws,
            &Target::crates_io(),
            false,
            &mut System,
            &mut CargoInfo::crates_io(),
            &Wait {
                attempts: 30,
                interval: Duration::from_secs(10),
            },
        ),
        ["publish", "--dry-run"] => publish::publish(
            &ws,
            &Target::crates_io(),
            true,
            &mut System,
            &mut CargoInfo::crates_io(),
            &Wait {
                attempts: 0,
                interval: Duration::ZERO,
            },
        ),
        ["rehearse"] => rehearse::rehearse(&ws),
        _ => Err(format!("usage: {USAGE}")),
    }
}

/// The semver baseline that `verify`'s options ask for: the release tags by default,
/// one revision with `--baseline-rev <rev>`, none with `--no-semver`.
fn verify_options(options: &[&str]) -> Result<Option<Baseline>, String> {
    match options {
        [] => Ok(Some(Baseline::Tags)),
        ["--baseline-rev", rev] => Ok(Some(Baseline::Rev((*rev).to_owned()))),
        ["--no-semver"] => Ok(None),
        _ => Err(format!("usage: {USAGE}")),
    }
}

/// Every check; with `package`, `cargo package` too; with `semver`, each publishable
/// crate's API against that baseline (`cargo semver-checks`). Each stage runs when the
/// ones before it pass. An error lists every problem.
pub fn verify(ws: &Workspace, package: bool, semver: Option<&Baseline>) -> Result<String, String> {
    let mut problems = checks::static_checks(ws);
    if problems.is_empty() && package {
        problems.extend(checks::package_check(ws));
    }
    let mut notes = Vec::new();
    if problems.is_empty()
        && let Some(baseline) = semver
    {
        let outcome = semver_checks::check(ws, baseline);
        notes = outcome.notes;
        problems.extend(outcome.problems);
    }
    if problems.is_empty() {
        let n = ws.publishable().count();
        let mut stages = Vec::new();
        if package {
            stages.push("cargo package".to_owned());
        }
        match semver {
            Some(Baseline::Tags) => stages.push("semver checks against release tags".to_owned()),
            Some(Baseline::Rev(rev)) => stages.push(format!("semver checks against {rev}")),
            None => {}
        }
        let mut report = format!(
            "release verify: {n} publishable crates pass every check{}\n",
            if stages.is_empty() {
                String::new()
            } else {
                format!(" ({} included)", stages.join(", "))
            }
        );
        if !notes.is_empty() {
            report.push_str("semver checks:\n");
            for note in &notes {
                report.push_str(&format!("  {note}\n"));
            }
        }
        return Ok(report);
    }
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    Err(format!(
        "release verify: {} problem(s):\n{}",
        problems.len(),
        list.join("\n")
    ))
}

/// The publishable crates in dependency order, with what their dependents require and
/// what changed since their last release tag.
fn plan(ws: &Workspace, git: &mut dyn Runner) -> Result<String, String> {
    let order = order::publish_order(ws)?;
    let mut out = String::from("publish order (dependencies first):\n");
    for (i, name) in order.iter().enumerate() {
        let Some(c) = ws.get(name) else { continue };
        let required: Vec<String> = ws
            .crates
            .iter()
            .flat_map(|d| {
                d.deps
                    .iter()
                    .filter(|dep| dep.name == *name && dep.path)
                    .map(move |dep| {
                        let kind = if dep.kind == "normal" {
                            String::new()
                        } else {
                            format!(" ({})", dep.kind)
                        };
                        format!("{} {}{kind}", d.name, dep.req)
                    })
            })
            .collect();
        let tag = format!("{name}-v{}", c.version);
        let dir = c
            .dir
            .strip_prefix(&ws.root)
            .unwrap_or(&c.dir)
            .display()
            .to_string();
        let changes = match git.run(
            "git",
            &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")],
            &ws.root,
        ) {
            Ok(_) => {
                let log = git
                    .run(
                        "git",
                        &["log", "--oneline", &format!("{tag}..HEAD"), "--", &dir],
                        &ws.root,
                    )
                    .unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                if lines.is_empty() {
                    format!("nothing since {tag}")
                } else {
                    let mut s = format!("{} commit(s) since {tag}:", lines.len());
                    for l in lines.iter().take(5) {
                        s.push_str(&format!("\n        {l}"));
                    }
                    if lines.len() > 5 {
                        s.push_str("\n        …");
                    }
                    s
                }
            }
            Err(_) => {
                let count = git
                    .run(
                        "git",
                        &["rev-list", "--count", "HEAD", "--", &dir],
                        &ws.root,
                    )
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_else(|_| "?".to_owned());
                format!("never released (no tag {tag}); {count} commit(s) touch {dir}")
            }
        };
        out.push_str(&format!(
            "{:>2}. {name} {}\n    required by: {}\n    changes: {changes}\n",
            i + 1,
            c.version,
            if required.is_empty() {
                "nothing in the workspace".to_owned()
            } else {
                required.join(", ")
            }
        ));
    }
    let skipped: Vec<&str> = ws
        .crates
        .iter()
        .filter(|c| !c.publishable)
        .map(|c| c.name.as_str())
        .collect();
    if !skipped.is_empty() {
        out.push_str(&format!("not published: {}\n", skipped.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_checks_the_api_against_the_tags_unless_told_otherwise() {
        assert_eq!(verify_options(&[]).unwrap(), Some(Baseline::Tags));
        assert_eq!(
            verify_options(&["--baseline-rev", "v1"]).unwrap(),
            Some(Baseline::Rev("v1".to_owned()))
        );
        assert_eq!(verify_options(&["--no-semver"]).unwrap(), None);
        assert!(verify_options(&["--baseline-rev"]).is_err());
        assert!(verify_options(&["--baseline-rev", "v1", "--no-semver"]).is_err());
        assert!(verify_options(&["--package"]).is_err());
    }
}
