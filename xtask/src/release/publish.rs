//! `cargo xtask release publish [--dry-run]`: in dependency order, skip what the
//! registry already has, publish, wait until the registry serves the crate, tag it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::checks::{package_check, static_checks};
use super::order::publish_order;
use super::workspace::Workspace;

/// Runs external commands (real, or recorded in tests).
pub trait Runner {
    /// Runs `program args` in `dir`; its stdout, or an error with its stderr.
    fn run(&mut self, program: &str, args: &[&str], dir: &Path) -> Result<String, String>;
}

/// The registry, as far as publishing needs it.
pub trait Registry {
    /// Whether `name` `version` is published.
    fn is_published(&mut self, name: &str, version: &str) -> Result<bool, String>;
}

/// Runs commands for real.
pub struct System;

impl Runner for System {
    fn run(&mut self, program: &str, args: &[&str], dir: &Path) -> Result<String, String> {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{program} {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// A registry asked through `cargo info` (cargo's own registry access and
/// configuration): crates.io, or a named registry with extra configuration.
pub struct CargoInfo {
    /// The registry's name (`crates-io`, or one of `[registries]`).
    pub registry: String,
    /// Further arguments (`--config <file>`).
    pub args: Vec<String>,
}

impl CargoInfo {
    /// crates.io.
    pub fn crates_io() -> CargoInfo {
        CargoInfo {
            registry: "crates-io".to_owned(),
            args: Vec::new(),
        }
    }
}

impl Registry for CargoInfo {
    fn is_published(&mut self, name: &str, version: &str) -> Result<bool, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args([
                "info",
                &format!("{name}@{version}"),
                "--registry",
                &self.registry,
                "--quiet",
            ])
            .args(&self.args)
            // Outside the workspace, so cargo asks the registry, not the local manifests.
            .current_dir(std::env::temp_dir())
            .output()
            .map_err(|e| format!("cannot run cargo info: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            Ok(true)
        } else if stderr.contains("could not find") || stderr.contains("not found") {
            Ok(false)
        } else {
            Err(stderr
                .trim()
                .lines()
                .last()
                .unwrap_or("cargo info failed")
                .to_owned())
        }
    }
}

/// Where `publish` sends the crates.
pub struct Target {
    /// `cargo publish --registry <name>`; crates.io when `None`.
    pub registry: Option<String>,
    /// Further arguments to `cargo publish` (`--config <file>`, `--no-verify`).
    pub args: Vec<String>,
    /// Whether each crate published is tagged `<crate>-v<version>`.
    pub tag: bool,
}

impl Target {
    /// crates.io, tagging what is published.
    pub fn crates_io() -> Target {
        Target {
            registry: None,
            args: Vec::new(),
            tag: true,
        }
    }
}

/// How long and how often to wait for the registry to serve a new crate.
pub struct Wait {
    /// How many times to ask.
    pub attempts: u32,
    /// How long to wait between two asks.
    pub interval: Duration,
}

/// Publishes the workspace (or, with `dry_run`, does everything but upload, wait and
/// tag); a report of each step.
pub fn publish(
    ws: &Workspace,
    target: &Target,
    dry_run: bool,
    runner: &mut dyn Runner,
    registry: &mut dyn Registry,
    wait: &Wait,
) -> Result<String, String> {
    let problems = static_checks(ws);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        return Err(format!(
            "not publishing: release verify fails:\n{}",
            list.join("\n")
        ));
    }
    let order = publish_order(ws)?;
    let mut report = String::new();
    if dry_run {
        report.push_str("dry run: nothing is uploaded or tagged\n");
        if let Some(p) = package_check(ws) {
            return Err(format!("not publishing: {p}"));
        }
        report.push_str(&format!(
            "cargo package: {} crates packaged and verified against each other\n",
            order.len()
        ));
    }
    for (i, name) in order.iter().enumerate() {
        let Some(c) = ws.get(name) else { continue };
        let version = &c.version;
        let tag = format!("{name}-v{version}");
        let step = format!("{:>2}. {name} {version}", i + 1);
        let mut command = vec!["publish", "-p", name.as_str(), "--locked"];
        if let Some(r) = &target.registry {
            command.extend(["--registry", r.as_str()]);
        }
        command.extend(target.args.iter().map(String::as_str));
        let published = match registry.is_published(name, version) {
            Ok(p) => p,
            Err(e) if dry_run => {
                report.push_str(&format!(
                    "{step}: registry not reachable ({e}); treated as unpublished\n"
                ));
                false
            }
            Err(e) => return Err(format!("{name}: cannot ask the registry: {e}")),
        };
        if published {
            report.push_str(&format!("{step}: already on the registry, skipped\n"));
        } else if dry_run {
            report.push_str(&format!(
                "{step}: would run `cargo {}`, wait until the registry serves it{}\n",
                command.join(" "),
                if target.tag {
                    format!(", tag {tag}")
                } else {
                    String::new()
                }
            ));
            continue;
        } else {
            runner.run("cargo", &command, &ws.root)?;
            let mut served = false;
            for _ in 0..wait.attempts {
                if registry.is_published(name, version).unwrap_or(false) {
                    served = true;
                    break;
                }
                std::thread::sleep(wait.interval);
            }
            if !served {
                return Err(format!(
                    "{name} {version} was uploaded but the registry does not serve it yet; rerun publish later (it skips what is there)"
                ));
            }
            report.push_str(&format!("{step}: published, served by the registry\n"));
        }
        if dry_run || !target.tag {
            continue;
        }
        let exists = runner
            .run(
                "git",
                &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")],
                &ws.root,
            )
            .is_ok();
        if exists {
            report.push_str(&format!("    tag {tag} exists\n"));
        } else {
            runner.run("git", &["tag", &tag], &ws.root)?;
            report.push_str(&format!("    tagged {tag} (push with `git push --tags`)\n"));
        }
    }
    Ok(report)
}
