//! The workspace as `cargo metadata` describes it: members, their release metadata and
//! their dependencies on each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One dependency declaration of a member.
#[derive(Debug, Clone)]
pub struct Dep {
    /// The dependency's package name.
    pub name: String,
    /// The version requirement (`*` when a path dependency carries no version).
    pub req: String,
    /// `normal`, `dev` or `build`.
    pub kind: String,
    /// Whether it is a path dependency.
    pub path: bool,
    /// The name the depending crate uses for it, when renamed (`core = { package = … }`).
    pub rename: Option<String>,
}

impl Dep {
    /// The identifier the depending crate's code uses for it (`cred-core` -> `cred_core`).
    pub fn ident(&self) -> String {
        self.rename
            .as_deref()
            .unwrap_or(&self.name)
            .replace('-', "_")
    }
}

/// One workspace member.
#[derive(Debug, Clone)]
pub struct Crate {
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: String,
    /// The directory holding its manifest.
    pub dir: PathBuf,
    /// Whether it may be published (no `publish = false`).
    pub publishable: bool,
    /// `[package]` fields that matter for publishing, by name (`None` when absent).
    pub fields: BTreeMap<&'static str, Option<String>>,
    /// Whether `[package.metadata.docs.rs]` exists.
    pub docs_rs: bool,
    /// Its dependencies, of every kind.
    pub deps: Vec<Dep>,
    /// `[package.metadata.release] private-dependencies`: workspace crates it depends on
    /// without exposing their types (every other normal dependency counts as public).
    pub private_deps: Vec<String>,
    /// The names of its targets (library, binaries, tests, ...) as rustc names their
    /// artifacts (`cred_core`, `cred`).
    pub targets: Vec<String>,
}

/// The members, plus the `[workspace.metadata.release]` configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root (where the root manifest is).
    pub root: PathBuf,
    /// The members, by name.
    pub crates: Vec<Crate>,
    /// Crates that must not depend on each other or on a consumer.
    pub providers: Vec<String>,
    /// Crates no provider may depend on (sandbox, CLI).
    pub consumers: Vec<String>,
}

/// `[package]` fields every published crate must fill.
pub const REQUIRED_FIELDS: &[&str] = &[
    "description",
    "license",
    "repository",
    "readme",
    "keywords",
    "categories",
    "rust_version",
];

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Array(a) if !a.is_empty() => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

impl Workspace {
    /// Runs `cargo metadata --no-deps --offline` for the workspace at `root`.
    pub fn load(root: &Path) -> Result<Workspace, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
                "--manifest-path",
            ])
            .arg(root.join("Cargo.toml"))
            .output()
            .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let json: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("cargo metadata printed something unreadable: {e}"))?;
        Self::from_metadata(root, &json)
    }

    /// Builds the model from `cargo metadata` JSON.
    pub fn from_metadata(root: &Path, json: &Value) -> Result<Workspace, String> {
        let members: Vec<&str> = json["workspace_members"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut crates = Vec::new();
        for p in json["packages"].as_array().into_iter().flatten() {
            if !members.contains(&p["id"].as_str().unwrap_or("")) {
                continue;
            }
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or(""));
            let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            let publishable = match &p["publish"] {
                Value::Array(a) => !a.is_empty(),
                _ => true,
            };
            let mut fields = BTreeMap::new();
            for f in REQUIRED_FIELDS
                .iter()
                .chain(&["documentation", "license_file"])
            {
                fields.insert(*f, text(&p[*f]));
            }
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| Dep {
                    name: d["name"].as_str().unwrap_or("").to_owned(),
                    req: d["req"].as_str().unwrap_or("*").to_owned(),
                    kind: d["kind"].as_str().unwrap_or("normal").to_owned(),
                    path: d.get("path").is_some_and(|v| !v.is_null()),
                    rename: d["rename"].as_str().map(str::to_owned),
                })
                .collect();
            let private_deps = p["metadata"]["release"]["private-dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let targets = p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["name"].as_str())
                .map(|n| n.replace('-', "_"))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            crates.push(Crate {
                name: p["name"].as_str().unwrap_or("").to_owned(),
                version: p["version"].as_str().unwrap_or("").to_owned(),
                dir,
                publishable,
                fields,
                docs_rs: !p["metadata"]["docs"]["rs"].is_null(),
                deps,
                private_deps,
                targets,
            });
        }
        crates.sort_by(|a, b| a.name.cmp(&b.name));
        let release = &json["metadata"]["release"];
        let list = |key: &str| -> Option<Vec<String>> {
            release[key].as_array().map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
        };
        let providers = list("providers").unwrap_or_else(|| {
            crates
                .iter()
                .filter(|c| c.publishable && c.name.ends_with("-api"))
                .map(|c| c.name.clone())
                .collect()
        });
        Ok(Workspace {
            root: root.to_path_buf(),
            crates,
            providers,
            consumers: list("consumers").unwrap_or_default(),
        })
    }

    /// The member named `name`.
    pub fn get(&self, name: &str) -> Option<&Crate> {
        self.crates.iter().find(|c| c.name == name)
    }

    /// The publishable members.
    pub fn publishable(&self) -> impl Iterator<Item = &Crate> {
        self.crates.iter().filter(|c| c.publishable)
    }

    /// Workspace-internal dependencies of `c` that count for publishing: normal and
    /// build ones, and dev ones that carry a version (cargo keeps those on publish).
    pub fn internal_deps<'a>(&'a self, c: &'a Crate) -> impl Iterator<Item = &'a Dep> + 'a {
        c.deps.iter().filter(move |d| {
            d.path && self.get(&d.name).is_some() && (d.kind != "dev" || d.req != "*")
        })
    }

    /// Whether `c` exposes `dep`'s types in its own API: a normal dependency on a
    /// workspace crate is public unless `c` lists it under `private-dependencies`.
    pub fn exposes(&self, c: &Crate, dep: &str) -> bool {
        c.deps
            .iter()
            .any(|d| d.name == dep && d.kind == "normal" && self.get(&d.name).is_some())
            && !c.private_deps.iter().any(|p| p == dep)
    }
}
