//! `cargo xtask release bump`: the version in the crate's manifest, every workspace
//! requirement on it, and a new CHANGELOG entry. Edits are line-based so the manifests
//! keep their layout and comments.

use std::path::{Path, PathBuf};

use super::semver::Version;
use super::workspace::Workspace;

/// Replaces the value of `version = "…"` in `line`, if it has one.
fn replace_version(line: &str, new: &str) -> Option<String> {
    let at = line.find("version")?;
    let rest = &line[at + "version".len()..];
    let eq = rest.find('=')?;
    if !rest[..eq].trim().is_empty() {
        return None; // `version.workspace = true` or another key
    }
    let after = &rest[eq + 1..];
    let open = after.find('"')?;
    let close = after[open + 1..].find('"')? + open + 1;
    let start = at + "version".len() + eq + 1;
    Some(format!(
        "{}{}\"{new}\"{}",
        &line[..start],
        &after[..open],
        &after[close + 1..]
    ))
}

/// Bumps `[package] version` of the manifest at `path`; the old and new versions.
fn bump_manifest(path: &Path, level: &str) -> Result<(Version, Version), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut section = String::new();
    let mut result = None;
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.to_owned();
        }
        if section == "[package]" && result.is_none() && t.starts_with("version") {
            if t.starts_with("version.workspace") {
                return Err(format!(
                    "{}: the version is inherited from the workspace; give the crate its own version to release it on its own",
                    path.display()
                ));
            }
            let old = t
                .split('"')
                .nth(1)
                .ok_or_else(|| format!("{}: cannot read the version line", path.display()))?;
            let old = Version::parse(old)?;
            let new = old.bump(level)?;
            lines.push(replace_version(line, &new.to_string()).unwrap_or_else(|| line.to_owned()));
            result = Some((old, new));
            continue;
        }
        lines.push(line.to_owned());
    }
    let result = result.ok_or_else(|| format!("{}: no [package] version", path.display()))?;
    write_lines(path, &lines, &text)?;
    Ok(result)
}

fn write_lines(path: &Path, lines: &[String], original: &str) -> Result<(), String> {
    let mut out = lines.join("\n");
    if original.ends_with('\n') {
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// Rewrites every path-dependency requirement on `name` in the manifest at `path`;
/// whether anything changed.
fn update_requirements(path: &Path, name: &str, new: &str) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut section = String::new();
    let mut changed = false;
    let mut lines = Vec::new();
    let table_headers = [
        format!("[dependencies.{name}]"),
        format!("[dev-dependencies.{name}]"),
        format!("[build-dependencies.{name}]"),
        format!("[workspace.dependencies.{name}]"),
    ];
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.to_owned();
        }
        let inline = t.starts_with(&format!("{name} ")) || t.starts_with(&format!("{name}="));
        let in_table = table_headers.contains(&section) && t.starts_with("version");
        let candidate = (inline && t.contains("path")) || in_table;
        match candidate.then(|| replace_version(line, new)).flatten() {
            Some(updated) if updated != line => {
                changed = true;
                lines.push(updated);
            }
            _ => lines.push(line.to_owned()),
        }
    }
    if changed {
        write_lines(path, &lines, &text)?;
    }
    Ok(changed)
}

/// Opens a CHANGELOG entry for `version` (creating the file if needed).
fn open_changelog(dir: &Path, name: &str, version: &str) -> Result<PathBuf, String> {
    let path = dir.join("CHANGELOG.md");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|_| format!("# Changelog of `{name}`\n"));
    let entry = format!("## [{version}] - Unreleased\n\n- \n\n");
    let at = text.find("\n## ").map(|i| i + 1).unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + entry.len() + 1);
    out.push_str(&text[..at]);
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&entry);
    out.push_str(&text[at..]);
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Bumps crate `name` at `level`; a report of what changed.
pub fn bump(ws: &Workspace, name: &str, level: &str) -> Result<String, String> {
    let krate = ws
        .get(name)
        .ok_or_else(|| format!("no workspace crate named `{name}`"))?;
    if !krate.publishable {
        return Err(format!("`{name}` is not published (publish = false)"));
    }
    let manifest = krate.dir.join("Cargo.toml");
    let (old, new) = bump_manifest(&manifest, level)?;
    let new_s = new.to_string();
    let mut report = format!("{name}: {old} -> {new}\n  {}\n", rel(ws, &manifest));
    let mut manifests = vec![ws.root.join("Cargo.toml")];
    manifests.extend(ws.crates.iter().map(|c| c.dir.join("Cargo.toml")));
    manifests.dedup();
    for m in manifests {
        if update_requirements(&m, name, &new_s)? {
            report.push_str(&format!(
                "  {} (requirement on {name} -> {new_s})\n",
                rel(ws, &m)
            ));
        }
    }
    let changelog = open_changelog(&krate.dir, name, &new_s)?;
    report.push_str(&format!(
        "  {} (entry [{new_s}] opened: fill it in)\n",
        rel(ws, &changelog)
    ));
    Ok(report)
}

fn rel(ws: &Workspace, p: &Path) -> String {
    p.strip_prefix(&ws.root).unwrap_or(p).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_values_are_replaced_in_place() {
        assert_eq!(
            replace_version(
                r#"a = { path = "crates/a", version = "0.1.0" } # note"#,
                "0.2.0"
            )
            .unwrap(),
            r#"a = { path = "crates/a", version = "0.2.0" } # note"#
        );
        assert_eq!(
            replace_version(r#"version = "1.2.3""#, "1.2.4").unwrap(),
            r#"version = "1.2.4""#
        );
        assert_eq!(replace_version("version.workspace = true", "1.0.0"), None);
    }
}
