//! `cargo xtask codegen [--check]`: every `crates/*/api.toml` -> `crates/*/src/generated.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::render::render;
use crate::spec::Spec;

/// Write the files, or only check that they are current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rewrite stale files.
    Write,
    /// Fail when any file is stale; write nothing.
    Check,
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Every spec below `root/crates`, sorted.
pub fn specs(root: &Path) -> Result<Vec<PathBuf>, String> {
    let crates = root.join("crates");
    let entries =
        std::fs::read_dir(&crates).map_err(|e| format!("cannot read {}: {e}", crates.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("api.toml"))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// The generated text for one spec, and where it goes.
pub fn generate(root: &Path, spec_path: &Path) -> Result<(PathBuf, String), String> {
    let rel = spec_path.strip_prefix(root).unwrap_or(spec_path);
    let rel_text = rel.to_string_lossy().replace('\\', "/");
    let text =
        std::fs::read_to_string(spec_path).map_err(|e| format!("cannot read {rel_text}: {e}"))?;
    let spec = Spec::parse(&text).map_err(|e| format!("{rel_text} is invalid:\n{e}"))?;
    let out = render(&spec, &rel_text)?;
    let target = spec_path
        .parent()
        .map(|d| d.join("src").join("generated.rs"))
        .ok_or_else(|| format!("{rel_text} has no parent directory"))?;
    Ok((target, out))
}

/// Every generated file and its text: each spec's `generated.rs`, and (when the
/// workspace has the gateway) the gateway's table of every spec's parameters.
fn outputs(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let specs = specs(root)?;
    if specs.is_empty() {
        return Err(format!("no crates/*/api.toml below {}", root.display()));
    }
    let mut out = Vec::new();
    let mut parsed = Vec::new();
    for spec_path in &specs {
        out.push(generate(root, spec_path)?);
        let rel = spec_path.strip_prefix(root).unwrap_or(spec_path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(spec_path).map_err(|e| format!("{rel}: {e}"))?;
        parsed.push((rel, Spec::parse(&text)?));
    }
    let gateway = root.join(crate::gateway_params::TARGET);
    if gateway.parent().is_some_and(Path::is_dir) {
        out.push((gateway, crate::gateway_params::render(&parsed)));
    }
    Ok(out)
}

/// Runs codegen over the workspace; the report lists what was written or found stale.
pub fn run(root: &Path, mode: Mode) -> Result<String, String> {
    let mut report = String::new();
    let mut stale = Vec::new();
    for (target, text) in outputs(root)? {
        let rel = target
            .strip_prefix(root)
            .unwrap_or(&target)
            .display()
            .to_string();
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current == text {
            let _ = writeln!(report, "up to date: {rel}");
            continue;
        }
        match mode {
            Mode::Check => stale.push(rel),
            Mode::Write => {
                std::fs::write(&target, &text).map_err(|e| format!("cannot write {rel}: {e}"))?;
                let _ = writeln!(report, "wrote: {rel}");
            }
        }
    }
    if stale.is_empty() {
        Ok(report)
    } else {
        Err(format!(
            "generated code is stale: {}\nrun `cargo xtask codegen` and commit the result",
            stale.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rust-analyzer pattern: the test suite fails when checked-in output is stale.
    #[test]
    fn generated_code_is_fresh() {
        let root = workspace_root();
        if let Err(e) = run(&root, Mode::Check) {
            panic!("{e}");
        }
    }

    #[test]
    fn check_mode_names_a_stale_file_and_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
        let krate = dir.join("crates").join("demo-api");
        std::fs::create_dir_all(krate.join("src")).unwrap();
        let root = workspace_root();
        let spec = std::fs::read_to_string(root.join("crates/jumdata-api/api.toml")).unwrap();
        std::fs::write(krate.join("api.toml"), spec).unwrap();
        std::fs::write(krate.join("src/generated.rs"), "// old\n").unwrap();

        let err = run(&dir, Mode::Check).unwrap_err();
        assert!(err.contains("crates/demo-api/src/generated.rs"), "{err}");
        assert_eq!(
            std::fs::read_to_string(krate.join("src/generated.rs")).unwrap(),
            "// old\n"
        );

        let wrote = run(&dir, Mode::Write).unwrap();
        assert!(
            wrote.contains("wrote: crates/demo-api/src/generated.rs"),
            "{wrote}"
        );
        let text = std::fs::read_to_string(krate.join("src/generated.rs")).unwrap();
        assert!(
            text.starts_with(
                "// @generated by `cargo xtask codegen` from crates/demo-api/api.toml."
            )
        );
        assert!(run(&dir, Mode::Check).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_invalid_spec_is_reported_with_its_path() {
        let dir = std::env::temp_dir().join(format!("xtask-bad-{}", std::process::id()));
        let krate = dir.join("crates").join("bad-api");
        std::fs::create_dir_all(krate.join("src")).unwrap();
        std::fs::write(
            krate.join("api.toml"),
            "[provider]\nname = \"Bad Name\"\ntitle = \"x\"\n",
        )
        .unwrap();
        let err = run(&dir, Mode::Check).unwrap_err();
        assert!(err.contains("crates/bad-api/api.toml is invalid"), "{err}");
        assert!(err.contains("snake_case"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Semver hazard: generated code that built a `cred_core` type with a struct literal
    /// would stop compiling when cred-core adds a field in a compatible release. Every
    /// generated file builds them through constructors only.
    #[test]
    fn generated_code_builds_no_cred_core_type_with_a_literal() {
        let root = workspace_root();
        for spec in specs(&root).unwrap() {
            let (_, text) = generate(&root, &spec).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if let Some(at) = code.find("::cred_core::") {
                    let rest = &code[at + "::cred_core::".len()..];
                    let path: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let after = rest[path.len()..].trim_start();
                    let last = path.rsplit("::").next().unwrap_or("");
                    let is_type = last.starts_with(|c: char| c.is_ascii_uppercase());
                    assert!(
                        !(is_type && after.starts_with('{')),
                        "{}:{}: a struct literal of cred_core::{path}: {line}",
                        spec.display(),
                        n + 1
                    );
                }
            }
            // And the endpoint statics use the const constructor.
            assert!(
                !text.contains("Endpoint = Endpoint {"),
                "{}",
                spec.display()
            );
        }
    }

    #[test]
    fn a_client_table_with_contradictions_is_refused() {
        let base = "[provider]\nname = \"demo\"\ntitle = \"Demo\"\n\n[client]\ntitle = \"Demo\"\nenv_prefix = \"DEMO\"\nuser_agent = \"credkit-demo-api\"\nrate_per_second = 5\n";
        let field = |extra: &str| {
            format!(
                "{base}\n[[client.field]]\nname = \"key\"\nlabel = \"the key\"\ndoc = \"The key.\"\n{extra}\n"
            )
        };
        assert!(
            Spec::parse(&field(
                "kind = \"secret\"\nenv = \"DEMO_KEY\"\nrequired = true"
            ))
            .is_ok()
        );
        for (extra, needle) in [
            ("kind = \"blob\"", "is not text, secret or typed"),
            ("kind = \"typed\"", "needs `ty`"),
            (
                "kind = \"text\"\nrequired = true\ndefault = \"x\"",
                "required and defaulted",
            ),
            ("kind = \"secret\"\ndefault = \"x\"", "only text fields"),
            (
                "kind = \"typed\"\nty = \"crate::X\"\nenv = \"A\"\nfrom_env = \"f\"",
                "not both",
            ),
        ] {
            let err = Spec::parse(&field(extra)).unwrap_err();
            assert!(err.contains(needle), "{extra}: {err}");
        }
    }
}
