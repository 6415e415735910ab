//! `cargo xtask readme-check`: compiles every Rust example of the root README and of each
//! provider crate's README the way a user would: in a crate of its own, outside the
//! workspace, depending on that one provider crate (and `tokio`) only. A doctest cannot
//! show this: it sees the crate's dev-dependencies too, so an example that needs
//! `cred_core` would pass there and fail in the user's project.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One example: where it came from and its code.
struct Example {
    source: String,
    code: String,
}

/// The providers named in `[workspace.metadata.release] providers`.
fn providers(root: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let value: toml::Value = toml::from_str(&text).map_err(|e| format!("Cargo.toml: {e}"))?;
    let list = value
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("release"))
        .and_then(|r| r.get("providers"))
        .and_then(|p| p.as_array())
        .ok_or("Cargo.toml has no [workspace.metadata.release] providers")?;
    Ok(list
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// The ```rust blocks of a Markdown text (not `ignore`, `text` or `compile_fail`), with
/// rustdoc's hidden-line marks (`# `) removed.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let info = info.trim();
                    let rust = info == "rust" || info.starts_with("rust,");
                    let skipped = ["ignore", "compile_fail", "text"]
                        .iter()
                        .any(|s| info.contains(s));
                    if rust && !skipped {
                        current = Some(String::new());
                    }
                }
            }
            Some(code) => {
                if trimmed.starts_with("```") {
                    blocks.push(std::mem::take(code));
                    current = None;
                } else {
                    let line = if line == "#" {
                        ""
                    } else {
                        line.strip_prefix("# ").unwrap_or(line)
                    };
                    code.push_str(line);
                    code.push('\n');
                }
            }
        }
    }
    blocks
}

/// A block as a program: as it is when it has a `main`, otherwise wrapped in one (as
/// rustdoc does).
fn program(block: &str) -> String {
    let body = if block.contains("fn main") {
        block.to_owned()
    } else {
        format!("fn main() {{\n{block}}}\n")
    };
    format!("#![allow(unused, clippy::all)]\n{body}")
}

/// The examples that belong to `krate`: its README's, and the root README's that use it.
fn examples_of(root: &Path, krate: &str) -> Result<Vec<Example>, String> {
    let ident = krate.replace('-', "_");
    let mut out = Vec::new();
    let own = format!("crates/{krate}/README.md");
    let root_readme = "README.md".to_owned();
    for (source, only_if_used) in [(own, false), (root_readme, true)] {
        let Ok(text) = std::fs::read_to_string(root.join(&source)) else {
            continue;
        };
        for (i, code) in rust_blocks(&text).into_iter().enumerate() {
            if only_if_used && !code.contains(&format!("{ident}::")) {
                continue;
            }
            out.push(Example {
                source: format!("{source} block {}", i + 1),
                code,
            });
        }
    }
    Ok(out)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Builds the check crate of `krate` and returns where it is.
fn check_crate(root: &Path, krate: &str, examples: &[Example]) -> Result<PathBuf, String> {
    let dir = root.join("target/readme-check").join(krate);
    let _ = std::fs::remove_dir_all(dir.join("src"));
    let manifest = format!(
        "[package]\nname = \"readme-check-{krate}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{krate} = {{ path = {:?} }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n\
         # Its own workspace: nothing of credkit's but the dependency above.\n[workspace]\n",
        root.join("crates").join(krate).display().to_string()
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    // The workspace's lock file, so the check uses the versions CI tests.
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        write(&dir.join("Cargo.lock"), &lock)?;
    }
    for (i, example) in examples.iter().enumerate() {
        let text = format!("// {}\n{}", example.source, program(&example.code));
        write(&dir.join(format!("src/bin/example_{}.rs", i + 1)), &text)?;
    }
    Ok(dir)
}

/// Compiles every README example against its provider crate alone.
pub fn run(root: &Path) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut report = String::new();
    let mut total = 0;
    for krate in providers(root)? {
        let examples = examples_of(root, &krate)?;
        if examples.is_empty() {
            return Err(format!(
                "{krate}: its README has no Rust example (a quick start is expected)"
            ));
        }
        let dir = check_crate(root, &krate, &examples)?;
        let output = Command::new(&cargo)
            .args(["check", "--bins", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", root.join("target/readme-check/target"))
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            let sources: Vec<&str> = examples.iter().map(|e| e.source.as_str()).collect();
            return Err(format!(
                "{krate}: a README example does not compile with `{krate}` as the only dependency ({}):\n{}",
                sources.join(", "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        total += examples.len();
        let sources: Vec<&str> = examples.iter().map(|e| e.source.as_str()).collect();
        let _ = writeln!(report, "  {krate}: {}", sources.join(", "));
    }
    Ok(format!(
        "readme-check: {total} README examples compile with their provider crate as the only dependency\n{report}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_extracted_with_hidden_lines_shown() {
        let md = "text\n```rust,no_run\n# async fn run() {\nlet x = 1;\n# }\n```\n```text\nno\n```\n```rust,ignore\nno\n```\n```rust\nfn main() {}\n```\n";
        let blocks = rust_blocks(md);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0], "async fn run() {\nlet x = 1;\n}\n");
        assert!(program(&blocks[0]).contains("fn main() {\nasync fn run()"));
        assert_eq!(
            program(&blocks[1]),
            "#![allow(unused, clippy::all)]\nfn main() {}\n"
        );
    }
}
