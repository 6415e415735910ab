//! `cargo xtask release plan | verify | bump <crate> <major|minor|patch> |
//! publish [--dry-run]`: every crate is versioned and published on its own, in
//! dependency order, checked before it ships.

mod checks;
mod edit;
mod order;
mod publish;
mod semver;
mod workspace;

#[cfg(test)]
mod fixtures;

use std::path::Path;
use std::time::Duration;

pub use workspace::Workspace;

use publish::{CratesIo, Runner, System, Wait};

/// Usage of the release commands.
pub const USAGE: &str =
    "cargo xtask release plan | verify | bump <crate> <major|minor|patch> | publish [--dry-run]";

/// Runs a release command in the workspace at `root`; its report.
pub fn run(root: &Path, args: &[&str]) -> Result<String, String> {
    let ws = Workspace::load(root)?;
    match args {
        ["plan"] => plan(&ws, &mut System),
        ["verify"] => verify(&ws, true),
        ["bump", name, level] => edit::bump(&ws, name, level),
        ["publish"] => publish::publish(
            &ws,
            false,
            &mut System,
            &mut CratesIo,
            &Wait {
                attempts: 30,
                interval: Duration::from_secs(10),
            },
        ),
        ["publish", "--dry-run"] => publish::publish(
            &ws,
            true,
            &mut System,
            &mut CratesIo,
            &Wait {
                attempts: 0,
                interval: Duration::ZERO,
            },
        ),
        _ => Err(format!("usage: {USAGE}")),
    }
}

/// Every check; with `package`, `cargo package` too. An error lists every problem.
pub fn verify(ws: &Workspace, package: bool) -> Result<String, String> {
    let mut problems = checks::static_checks(ws);
    if problems.is_empty() && package {
        problems.extend(checks::package_check(ws));
    }
    if problems.is_empty() {
        let n = ws.publishable().count();
        return Ok(format!(
            "release verify: {n} publishable crates pass every check{}\n",
            if package {
                " (cargo package included)"
            } else {
                ""
            }
        ));
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
