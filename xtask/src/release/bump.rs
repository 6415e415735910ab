//! `cargo xtask release bump <crate> <major|minor|patch>`: the crate's version, what its
//! dependents need because of it, every workspace requirement on the bumped crates, and
//! their CHANGELOG entries.
//!
//! A bump is breaking when a `^old` requirement refuses the new version (`0.1` -> `0.2`,
//! `1.x` -> `2.0`, any `0.0.x` bump). Then:
//! - every publishable crate that exposes it (a normal dependency not listed under
//!   `[package.metadata.release] private-dependencies`) gets a breaking bump too, and so
//!   on through what exposes those, each crate once: its users meet the new types
//!   through it;
//! - every other publishable crate that ships with it (a private normal dependency, or a
//!   build dependency) gets a patch release: its published version still pins the old
//!   series, so users would build both copies until it is released again;
//! - dev-only dependents just follow the requirement: nothing of them reaches users.
//!
//! A non-breaking bump changes only the requirements: the published dependents' `^old`
//! already accepts the new version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::edit::Manifest;
use super::semver::{self, Level, Version};
use super::workspace::Workspace;

/// Why a crate is bumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Asked for on the command line.
    Requested(Level),
    /// It exposes these crates' types, which had breaking bumps.
    Exposes(Vec<String>),
    /// It depends on these crates, which had breaking bumps, without exposing them.
    Ships(Vec<String>),
}

/// One crate's planned bump.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The crate.
    pub name: String,
    /// Its version now.
    pub old: Version,
    /// Its version after the bump.
    pub new: Version,
    /// Why.
    pub reason: Reason,
}

/// The bumps that `release bump <name> <level>` makes, the requested one first, then
/// the breaking cascade, then the patch releases (each by name).
pub fn plan(ws: &Workspace, name: &str, level: Level) -> Result<Vec<Planned>, String> {
    let krate = ws
        .get(name)
        .ok_or_else(|| format!("no workspace crate named `{name}`"))?;
    if !krate.publishable {
        return Err(format!("`{name}` is not published (publish = false)"));
    }
    let version_of = |n: &str| -> Result<Version, String> {
        let c = ws
            .get(n)
            .ok_or_else(|| format!("no workspace crate named `{n}`"))?;
        Manifest::open(&c.dir.join("Cargo.toml"))?.package_version()
    };
    let old = version_of(name)?;
    let new = semver::bump(&old, level);
    let mut out = vec![Planned {
        name: name.to_owned(),
        old: old.clone(),
        new: new.clone(),
        reason: Reason::Requested(level),
    }];
    if !semver::is_breaking(&old, &new) {
        return Ok(out);
    }
    // Every publishable crate that exposes a crate with a breaking bump, to a fixed point.
    let mut breaking: BTreeSet<&str> = BTreeSet::from([name]);
    loop {
        let more: Vec<&str> = ws
            .publishable()
            .filter(|c| !breaking.contains(c.name.as_str()))
            .filter(|c| breaking.iter().any(|b| ws.exposes(c, b)))
            .map(|c| c.name.as_str())
            .collect();
        if more.is_empty() {
            break;
        }
        breaking.extend(more);
    }
    let mut shipping = Vec::new();
    for c in ws.publishable().filter(|c| c.name != name) {
        let old = || version_of(&c.name);
        if breaking.contains(c.name.as_str()) {
            let exposed = breaking
                .iter()
                .filter(|b| ws.exposes(c, b))
                .map(|b| (*b).to_owned())
                .collect();
            let old = old()?;
            out.push(Planned {
                name: c.name.clone(),
                new: semver::next_breaking(&old),
                old,
                reason: Reason::Exposes(exposed),
            });
            continue;
        }
        let shipped: Vec<String> = c
            .deps
            .iter()
            .filter(|d| d.kind != "dev" && breaking.contains(d.name.as_str()))
            .map(|d| d.name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !shipped.is_empty() {
            let old = old()?;
            shipping.push(Planned {
                name: c.name.clone(),
                new: semver::bump(&old, Level::Patch),
                old,
                reason: Reason::Ships(shipped),
            });
        }
    }
    out.extend(shipping);
    Ok(out)
}

/// The new version of `name` in `plan`.
fn new_version<'a>(plan: &'a [Planned], name: &str) -> Option<&'a Version> {
    plan.iter().find(|p| p.name == name).map(|p| &p.new)
}

/// `fx-a 0.2 and fx-b 0.2`: the bumped crates' names and new series.
fn listed(plan: &[Planned], names: &[String]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| match new_version(plan, n) {
            Some(v) => format!("{n} {}", semver::series(v)),
            None => n.clone(),
        })
        .collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The CHANGELOG line for `p` (empty for the requested bump: the author fills it in).
fn changelog_line(plan: &[Planned], p: &Planned) -> String {
    match &p.reason {
        Reason::Requested(_) => String::new(),
        Reason::Exposes(deps) => format!(
            "Breaking: depends on {}, whose types it re-exports.",
            listed(plan, deps)
        ),
        Reason::Ships(deps) => format!(
            "Depends on {}, a private dependency: this crate's API is unchanged.",
            listed(plan, deps)
        ),
    }
}

/// Bumps crate `name` at `level` (`major`, `minor`, `patch`) and what follows from it;
/// a report of every change.
pub fn bump(ws: &Workspace, name: &str, level: &str) -> Result<String, String> {
    let level: Level = level.parse()?;
    let plan = plan(ws, name, level)?;
    // Every manifest of the workspace, read before anything is written.
    let mut paths: Vec<PathBuf> = vec![ws.root.join("Cargo.toml")];
    paths.extend(ws.crates.iter().map(|c| c.dir.join("Cargo.toml")));
    let mut seen = BTreeSet::new();
    paths.retain(|p| seen.insert(p.clone()));
    let mut manifests: BTreeMap<PathBuf, Manifest> = BTreeMap::new();
    for p in &paths {
        manifests.insert(p.clone(), Manifest::open(p)?);
    }
    let mut report = String::new();
    let mut touched: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for p in &plan {
        let Some(c) = ws.get(&p.name) else { continue };
        let path = c.dir.join("Cargo.toml");
        if let Some(m) = manifests.get_mut(&path) {
            m.set_package_version(&p.new)?;
        }
        touched
            .entry(path)
            .or_default()
            .push(format!("version {} -> {}", p.old, p.new));
        for (path, m) in manifests.iter_mut() {
            for table in m.set_requirements(&p.name, &p.new.to_string()) {
                touched
                    .entry(path.clone())
                    .or_default()
                    .push(format!("{table} -> {}", p.new));
            }
        }
    }
    for p in &paths {
        if touched.contains_key(p)
            && let Some(m) = manifests.get(p)
        {
            m.save()?;
        }
    }
    for p in &plan {
        let Some(c) = ws.get(&p.name) else { continue };
        let line = changelog_line(&plan, p);
        let changelog = add_changelog_entry(&c.dir, &p.name, &p.new.to_string(), &line)?;
        let why = match &p.reason {
            Reason::Requested(level) if semver::is_breaking(&p.old, &p.new) => {
                format!("{level}, breaking: `^{}` does not accept {}", p.old, p.new)
            }
            Reason::Requested(level) => format!("{level}, compatible with {}", p.old),
            Reason::Exposes(_) | Reason::Ships(_) => line.clone(),
        };
        report.push_str(&format!("{}: {} -> {} ({why})\n", p.name, p.old, p.new));
        report.push_str(&format!(
            "  {} ({})\n",
            rel(ws, &changelog),
            if line.is_empty() {
                format!("entry [{}] opened: fill it in", p.new)
            } else {
                format!("entry [{}] written", p.new)
            }
        ));
    }
    report.push_str("manifests:\n");
    for (path, changes) in &touched {
        report.push_str(&format!("  {}: {}\n", rel(ws, path), changes.join("; ")));
    }
    let bumped: BTreeSet<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    let followers: Vec<&str> = ws
        .crates
        .iter()
        .filter(|c| !bumped.contains(c.name.as_str()))
        .filter(|c| c.deps.iter().any(|d| bumped.contains(d.name.as_str())))
        .map(|c| c.name.as_str())
        .collect();
    if !followers.is_empty() {
        report.push_str(&format!(
            "requirements followed, no release needed: {}\n",
            followers.join(", ")
        ));
    }
    Ok(report)
}

/// Adds a CHANGELOG entry for `version` (creating the file if needed) holding `line`
/// (`- ` alone when empty); when the entry exists, `line` is added to it.
pub fn add_changelog_entry(
    dir: &Path,
    name: &str,
    version: &str,
    line: &str,
) -> Result<PathBuf, String> {
    let path = dir.join("CHANGELOG.md");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|_| format!("# Changelog of `{name}`\n"));
    let heading = format!("## [{version}]");
    let bullet = format!("- {line}");
    let out = if let Some(at) = text.find(&heading) {
        if line.is_empty() || text.contains(&bullet) {
            text
        } else {
            // After the heading line and the blank line under it.
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            let body = if text[line_end..].starts_with('\n') {
                line_end + 1
            } else {
                line_end
            };
            format!("{}{bullet}\n{}", &text[..body], &text[body..])
        }
    } else {
        let entry = format!("{heading} - Unreleased\n\n{bullet}\n\n");
        let at = text.find("\n## ").map(|i| i + 1).unwrap_or(text.len());
        let mut out = String::with_capacity(text.len() + entry.len() + 1);
        out.push_str(&text[..at]);
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&entry);
        out.push_str(&text[at..]);
        out
    };
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `p` relative to the workspace root, for reports.
fn rel(ws: &Workspace, p: &Path) -> String {
    p.strip_prefix(&ws.root).unwrap_or(p).display().to_string()
}
