//! Project automation for the credkit workspace.
//!
//! ```text
//! cargo xtask codegen           render every crates/*/api.toml into src/generated.rs
//! cargo xtask codegen --check   fail (exit 1) naming each stale generated file
//! cargo xtask release plan      publishable crates in dependency order, with changes
//! cargo xtask release verify [--baseline-rev <rev>] [--no-semver]
//!                               every release check, `cargo package` included, then
//!                               `cargo semver-checks` of each crate against its last
//!                               release tag `<crate>-v<version>` (or <rev>)
//! cargo xtask release bump <crate> <major|minor|patch>
//!                               the version, the breaking cascade to the crates that
//!                               expose it, requirements, CHANGELOG entries
//! cargo xtask release publish [--dry-run]
//! cargo xtask release rehearse  publish everything to a registry on loopback
//!                               (cargo-http-registry), then build a user of each of
//!                               two providers from it, offline
//! cargo xtask readme-check      compile every README example against its crate alone
//! cargo xtask docs-check        Markdown files stand alone: no path outside the repository
//! ```
//!
//! Tools: `release verify` needs `cargo-semver-checks` and `release rehearse` needs
//! `cargo-http-registry` (`cargo install --locked cargo-semver-checks
//! cargo-http-registry`; `.ci/run` installs both). `cargo test -p xtask` runs
//! cargo-semver-checks on a fixture; when it is missing, that test fails under `CI` and
//! is skipped with a message naming the install command otherwise.

mod client;
mod codegen;
mod docs;
mod gateway_params;
mod readme;
mod release;
mod render;
mod spec;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask codegen [--check]\n       cargo xtask release plan | verify [--baseline-rev <rev>] [--no-semver] | bump <crate> <major|minor|patch> | publish [--dry-run] | rehearse\n       cargo xtask readme-check\n       cargo xtask docs-check";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&codegen::workspace_root(), codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(&codegen::workspace_root(), codegen::Mode::Check),
        ["release", rest @ ..] => release::run(&codegen::workspace_root(), rest),
        ["readme-check"] => readme::run(&codegen::workspace_root()),
        ["docs-check"] => docs::run(&codegen::workspace_root()),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    };
    match result {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
