//! The workspace as `cargo metadata` describes it: members, their release metadata and
//! their dependencies on each other.

use std::collections::BTreeMap;
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
}

/// One workspace member.
#[derive(Debug, Clone)]
pub struct Crate {
    pub name: String,
    pub version: String,
    pub dir: PathBuf,
    pub publishable: bool,
    /// `[package]` fields that matter for publishing, by name (`None` when absent).
    pub fields: BTreeMap<&'static str, Option<String>>,
    /// Whether `[package.metadata.docs.rs]` exists.
    pub docs_rs: bool,
    pub deps: Vec<Dep>,
}

/// The members, plus the `[workspace.metadata.release]` configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
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
                })
                .collect();
            crates.push(Crate {
                name: p["name"].as_str().unwrap_or("").to_owned(),
                version: p["version"].as_str().unwrap_or("").to_owned(),
                dir,
                publishable,
                fields,
                docs_rs: !p["metadata"]["docs"]["rs"].is_null(),
                deps,
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
}
