//! `cargo xtask release verify`: every check a crate must pass before it ships. Each
//! problem names its check, the crate and what to do.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::order::publish_order;
use super::semver;
use super::workspace::{Crate, REQUIRED_FIELDS, Workspace};

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The check's id: `metadata`, `readme`, `changelog`, `path-version`,
    /// `unpublishable-dependency`, `private-dependency`, `provider-isolation`, `cycle`,
    /// `package`, `semver`.
    pub check: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.check, self.message)
    }
}

/// A problem of check `check`.
pub fn problem(check: &'static str, message: String) -> Problem {
    Problem { check, message }
}

/// Every check that needs no build: metadata, files, versions, dependency rules, order.
pub fn static_checks(ws: &Workspace) -> Vec<Problem> {
    let mut out = Vec::new();
    for c in ws.publishable() {
        for field in REQUIRED_FIELDS {
            let present = c.fields[field].is_some()
                || (*field == "license" && c.fields["license_file"].is_some());
            if !present {
                out.push(problem(
                    "metadata",
                    format!(
                        "crate `{}`: `{}` is missing from [package]",
                        c.name,
                        field.replace('_', "-")
                    ),
                ));
            }
        }
        if c.fields["documentation"].is_none() && !c.docs_rs {
            out.push(problem(
                "metadata",
                format!(
                    "crate `{}`: no docs metadata (`documentation` or [package.metadata.docs.rs])",
                    c.name
                ),
            ));
        }
        let readme = c.fields["readme"]
            .clone()
            .unwrap_or_else(|| "README.md".to_owned());
        if !c.dir.join(&readme).is_file() {
            out.push(problem(
                "readme",
                format!("crate `{}`: readme file `{readme}` does not exist", c.name),
            ));
        }
        out.extend(changelog_problem(&c.name, &c.version, &c.dir));
        for d in &c.deps {
            let Some(target) = ws.get(&d.name) else {
                continue;
            };
            if !d.path {
                continue;
            }
            if d.kind != "dev" && d.req == "*" {
                out.push(problem(
                    "path-version",
                    format!(
                        "crate `{}`: path dependency `{}` carries no version (add version = \"{}\")",
                        c.name, d.name, target.version
                    ),
                ));
            } else if d.req != "*" {
                let ok = semver::parse(&target.version)
                    .and_then(|v| semver::matches(&d.req, &v))
                    .unwrap_or(false);
                if !ok {
                    out.push(problem(
                        "path-version",
                        format!(
                            "crate `{}`: requires `{} {}` but the workspace has {} {}",
                            c.name, d.name, d.req, d.name, target.version
                        ),
                    ));
                }
            }
            let kept = d.kind != "dev" || d.req != "*";
            if kept && !target.publishable {
                out.push(problem(
                    "unpublishable-dependency",
                    format!(
                        "crate `{}` depends on `{}`, which is not published (publish = false)",
                        c.name, d.name
                    ),
                ));
            }
        }
        out.extend(private_dependency_problems(c));
    }
    out.extend(isolation_problems(ws));
    if let Err(e) = publish_order(ws) {
        out.push(problem("cycle", e));
    }
    out
}

/// `CHANGELOG.md` with a heading for `version` (`## [0.1.0]` or `## 0.1.0`).
pub fn changelog_problem(name: &str, version: &str, dir: &Path) -> Option<Problem> {
    let path = dir.join("CHANGELOG.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Some(problem(
            "changelog",
            format!("crate `{name}`: CHANGELOG.md does not exist"),
        ));
    };
    let has_entry = text.lines().any(|l| {
        l.starts_with("## ")
            && l[3..]
                .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
                .any(|w| w == version)
    });
    (!has_entry).then(|| {
        problem(
            "changelog",
            format!("crate `{name}`: CHANGELOG.md has no `## [{version}]` entry"),
        )
    })
}

/// `private-dependencies` names only real dependencies, none of which `src/` re-exports
/// (`pub use <ident>`): a re-exported dependency is public, and a breaking bump of it
/// must cascade to this crate.
fn private_dependency_problems(c: &Crate) -> Vec<Problem> {
    let mut out = Vec::new();
    for private in &c.private_deps {
        let Some(dep) = c
            .deps
            .iter()
            .find(|d| d.name == *private && d.kind != "dev")
        else {
            out.push(problem(
                "private-dependency",
                format!(
                    "crate `{}` lists `{private}` under private-dependencies but has no normal or build dependency on it",
                    c.name
                ),
            ));
            continue;
        };
        let ident = dep.ident();
        if let Some((file, line)) = find_reexport(&c.dir.join("src"), &ident) {
            out.push(problem(
                "private-dependency",
                format!(
                    "crate `{}` lists `{private}` under private-dependencies but re-exports it ({}: `{line}`): drop it from the list, or stop re-exporting it",
                    c.name,
                    file.strip_prefix(&c.dir).unwrap_or(&file).display()
                ),
            ));
        }
    }
    out
}

/// The first `pub use <ident>…` (or `pub extern crate <ident>`) under `dir`: its file and
/// line. `pub(crate) use` is not a re-export; comment lines are skipped.
fn find_reexport(dir: &Path, ident: &str) -> Option<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.starts_with("//") {
                continue;
            }
            let rest = ["pub use ::", "pub use ", "pub extern crate "]
                .iter()
                .find_map(|p| words.strip_prefix(p));
            let Some(rest) = rest else { continue };
            let named = rest.strip_prefix(ident).is_some_and(|after| {
                !after.starts_with(|ch: char| ch.is_alphanumeric() || ch == '_')
            });
            if named {
                return Some((file, words));
            }
        }
    }
    None
}

/// No provider's dependency closure (normal and build) holds another provider or a
/// consumer.
fn isolation_problems(ws: &Workspace) -> Vec<Problem> {
    let mut out = Vec::new();
    for provider in &ws.providers {
        let Some(start) = ws.get(provider) else {
            continue;
        };
        // Breadth-first over workspace crates, remembering how each was reached.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue: Vec<(String, Vec<String>)> =
            vec![(start.name.clone(), vec![start.name.clone()])];
        while let Some((name, path)) = queue.pop() {
            let Some(c) = ws.get(&name) else { continue };
            for d in c.deps.iter().filter(|d| d.kind != "dev") {
                if ws.get(&d.name).is_none() || !seen.insert(d.name.clone()) {
                    continue;
                }
                let mut p = path.clone();
                p.push(d.name.clone());
                let forbidden = (ws.providers.contains(&d.name) && d.name != *provider)
                    || ws.consumers.contains(&d.name);
                if forbidden {
                    out.push(problem(
                        "provider-isolation",
                        format!(
                            "provider `{provider}` depends on `{}` ({}): a user of one provider must get only it and cred-core",
                            d.name,
                            p.join(" -> ")
                        ),
                    ));
                }
                queue.push((d.name.clone(), p));
            }
        }
    }
    out
}

/// `cargo package` for every publishable crate at once, so each dependent is verified
/// against the freshly packaged crates it depends on (cargo's local overlay).
pub fn package_check(ws: &Workspace) -> Option<Problem> {
    let names: Vec<&str> = ws.publishable().map(|c| c.name.as_str()).collect();
    if names.is_empty() {
        return None;
    }
    clear_stale_overlay(ws);
    // Its own target directory, whose fingerprints of these crates are dropped first:
    // cargo takes registry crates as immutable and would reuse a build of the same
    // name and version made from older code.
    let target = ws.root.join("target").join("release-verify");
    clear_fingerprints(ws, &target);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&ws.root)
        .args([
            "package",
            "--offline",
            "--allow-dirty",
            "--quiet",
            "--target-dir",
        ])
        .arg(&target);
    for n in &names {
        cmd.args(["-p", n]);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = tail[tail.len().saturating_sub(12)..].join("\n    ");
            Some(problem(
                "package",
                format!("`cargo package` failed for the workspace:\n    {tail}"),
            ))
        }
        Err(e) => Some(problem("package", format!("cannot run cargo package: {e}"))),
    }
}

/// Removes what earlier `cargo package` runs left in `$CARGO_HOME/registry` for these
/// crates. Cargo unpacks the freshly packaged crates of its local overlay there, keyed
/// by name and version only, and reuses an unpacked copy that exists: after a change
/// without a version bump, dependents would be verified against the old code. Only the
/// overlay's registries (directories named `-<hash>`) are touched, never crates.io's.
fn clear_stale_overlay(ws: &Workspace) {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let Some(home) = home else { return };
    for (kind, suffix) in [("src", ""), ("cache", ".crate")] {
        let Ok(registries) = std::fs::read_dir(home.join("registry").join(kind)) else {
            continue;
        };
        for registry in registries.flatten() {
            if !registry.file_name().to_string_lossy().starts_with('-') {
                continue;
            }
            for c in ws.publishable() {
                let p = registry
                    .path()
                    .join(format!("{}-{}{suffix}", c.name, c.version));
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(&p);
                } else if p.is_file() {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
}

/// Drops the build fingerprints of the publishable crates under `target`.
pub fn clear_fingerprints(ws: &Workspace, target: &Path) {
    let Ok(profiles) = std::fs::read_dir(target) else {
        return;
    };
    for profile in profiles.flatten() {
        let Ok(entries) = std::fs::read_dir(profile.path().join(".fingerprint")) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = ws.publishable().any(|c| {
                name.strip_prefix(&c.name)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|hash| hash.chars().all(|ch| ch.is_ascii_hexdigit()))
            });
            if ours {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}
