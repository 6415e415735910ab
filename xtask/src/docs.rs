//! `cargo xtask docs-check`: the Markdown files of the repository stand alone. A user has
//! the repository only, so no Markdown file may link to (or name) a path outside it, and
//! none may use the project's private word for the providers' documents ("seed"): they
//! are cited by their own titles and sections.

use std::path::{Component, Path, PathBuf};

/// Words that belong to the project's private notes, not to its documentation.
const PRIVATE_WORDS: &[&str] = &["seed", "seeds"];

/// Checks every Markdown file git tracks under `root`.
pub fn run(root: &Path) -> Result<String, String> {
    let listed = std::process::Command::new("git")
        .args(["ls-files", "*.md"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !listed.status.success() {
        return Err("git ls-files failed".to_owned());
    }
    let files: Vec<PathBuf> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| root.join(l))
        .collect();
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let shown = file.strip_prefix(root).unwrap_or(file);
        for problem in check(root, file, &text) {
            problems.push(format!("{}:{problem}", shown.display()));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "docs-check: {} Markdown files stand alone (no path outside the repository, no private words)\n",
            files.len()
        ))
    } else {
        Err(format!(
            "docs-check: {} problem(s):\n{}",
            problems.len(),
            problems.join("\n")
        ))
    }
}

/// The problems of one Markdown file (`file`, inside `root`): `line: what`.
pub fn check(root: &Path, file: &Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let dir = file.parent().unwrap_or(root);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        for word in line
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if PRIVATE_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                out.push(format!(
                    "{n}: the word `{word}`: cite the provider's document by its title and section"
                ));
            }
        }
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() {
                continue;
            }
            if Path::new(path).is_absolute() || !inside(root, &dir.join(path)) {
                out.push(format!("{n}: `{target}` points outside the repository"));
            }
        }
        // A path written in code that leaves the repository (`../shared/...`).
        for piece in line.split('`').skip(1).step_by(2) {
            let path = piece.trim();
            if path.starts_with("../") && !inside(root, &dir.join(path)) {
                out.push(format!("{n}: `{path}` is outside the repository"));
            }
        }
    }
    out
}

/// The targets of Markdown links `[text](target)` on a line.
fn link_targets(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end..];
            }
            None => break,
        }
    }
    out
}

/// Whether `path` (lexically normalised) stays within `root`.
fn inside(root: &Path, path: &Path) -> bool {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !normal.pop() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    normal.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_and_private_words_are_found() {
        let root = Path::new("/repo");
        let file = Path::new("/repo/crates/a/README.md");
        let text = "See [core](../cred-core/README.md) and [top](../../README.md#x).\n\
                    Facts are in [design](../../../shared/DESIGN.md).\n\
                    The seed says so; Seeds too; seedless words are fine.\n\
                    [site](https://example.com/a) [anchor](#b)";
        let problems = check(root, file, text);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("2: `../../../shared/DESIGN.md` points")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("`seed`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("`Seeds`")),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        // A path in code at the top level that climbs out.
        let top = check(
            root,
            Path::new("/repo/ARCHITECTURE.md"),
            "in `../shared/DESIGN.md`",
        );
        assert_eq!(top.len(), 1, "{top:?}");
    }
}
