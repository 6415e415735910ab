//! Manifest edits through `toml_edit`, which keeps comments, key order and layout: a
//! crate's own version, the requirements on a workspace crate in every dependency
//! table, and (for the registry rehearsal) the registry of internal dependencies.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, InlineTable, Item, TableLike, Value};

use super::semver::{self, Version};

/// The dependency tables of a manifest section: `[dependencies]` and its kin.
const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// A `Cargo.toml` opened for editing.
pub struct Manifest {
    path: PathBuf,
    doc: DocumentMut,
}

impl Manifest {
    /// Reads and parses the manifest at `path`.
    pub fn open(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Manifest::parse(path, &text)
    }

    /// Parses `text` as the manifest at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, String> {
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Manifest {
            path: path.to_path_buf(),
            doc,
        })
    }

    /// Writes the manifest back.
    pub fn save(&self) -> Result<(), String> {
        std::fs::write(&self.path, self.doc.to_string())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// `[package] version`; an error when it is missing or inherited from the workspace.
    pub fn package_version(&self) -> Result<Version, String> {
        let item = self
            .doc
            .get("package")
            .and_then(|p| p.get("version"))
            .ok_or_else(|| format!("{}: no [package] version", self.path.display()))?;
        match item.as_str() {
            Some(s) => semver::parse(s).map_err(|e| format!("{}: {e}", self.path.display())),
            None if item.is_table_like() => Err(format!(
                "{}: the version is inherited from the workspace; give the crate its own version to release it on its own",
                self.path.display()
            )),
            None => Err(format!(
                "{}: [package] version is not a string",
                self.path.display()
            )),
        }
    }

    /// Sets `[package] version` (after checking it can be read).
    pub fn set_package_version(&mut self, new: &Version) -> Result<(), String> {
        self.package_version()?;
        if let Some(item) = self
            .doc
            .get_mut("package")
            .and_then(|p| p.get_mut("version"))
        {
            set_string(item, &new.to_string());
        }
        Ok(())
    }

    /// Sets the version requirement of every path dependency on `package` (renamed or
    /// not, in any dependency table) to `req`; the tables changed, as `section: key`.
    pub fn set_requirements(&mut self, package: &str, req: &str) -> Vec<String> {
        let mut changed = Vec::new();
        for_each_internal(&mut self.doc, |section, key, item| {
            let Some(entry) = item.as_table_like_mut() else {
                return;
            };
            if entry_package(key, entry) != package {
                return;
            }
            if let Some(version) = entry.get_mut("version")
                && version.as_str() != Some(req)
            {
                set_string(version, req);
                changed.push(format!("{section}: {key}"));
            }
        });
        changed
    }

    /// Adds `registry = "<registry>"` to every path dependency on one of `packages`, so
    /// that publishing records them as coming from that registry rather than crates.io;
    /// how many entries changed.
    pub fn set_registry(&mut self, packages: &BTreeSet<String>, registry: &str) -> usize {
        let mut n = 0;
        for_each_internal(&mut self.doc, |_, key, item| {
            let named = item
                .as_table_like()
                .is_some_and(|entry| packages.contains(&entry_package(key, entry)));
            if !named {
                return;
            }
            if let Some(inline) = item.as_inline_table_mut() {
                append_inline(inline, "registry", registry);
            } else if let Some(entry) = item.as_table_like_mut() {
                entry.insert("registry", toml_edit::value(registry));
            }
            n += 1;
        });
        n
    }

    /// The manifest as text.
    #[cfg(test)]
    pub fn text(&self) -> String {
        self.doc.to_string()
    }
}

/// Replaces the string in `item`, keeping the whitespace and comment around it.
fn set_string(item: &mut Item, new: &str) {
    if let Some(v) = item.as_value_mut() {
        let decor = v.decor().clone();
        *v = Value::from(new);
        *v.decor_mut() = decor;
    }
}

/// Sets `key = "<value>"` in an inline table, laid out like its last entry: on the same
/// line (`{ path = "x", version = "1", registry = "r" }`) or on a line of its own in a
/// multi-line table. What followed the last value (the space before `}`, a comment)
/// now follows the new one.
fn append_inline(table: &mut InlineTable, key: &str, value: &str) {
    if table.contains_key(key) {
        if let Some(v) = table.get_mut(key) {
            let decor = v.decor().clone();
            *v = Value::from(value);
            *v.decor_mut() = decor;
        }
        return;
    }
    let last = table.iter().last().map(|(k, _)| k.to_owned());
    let mut key_prefix = None;
    let mut tail = None;
    if let Some(last) = &last {
        key_prefix = table
            .key(last)
            .and_then(|k| k.leaf_decor().prefix())
            .cloned();
        if let Some(v) = table.get_mut(last) {
            tail = v.decor().suffix().cloned();
            v.decor_mut().set_suffix("");
        }
    }
    let mut new = Value::from(value);
    new.decor_mut().set_prefix(" ");
    if let Some(tail) = tail {
        new.decor_mut().set_suffix(tail);
    }
    table.insert(key, new);
    if let (Some(prefix), Some(mut k)) = (key_prefix, table.key_mut(key)) {
        k.leaf_decor_mut().set_prefix(prefix);
    }
}

/// The package an entry names: its `package` key, or the key itself.
fn entry_package(key: &str, entry: &dyn TableLike) -> String {
    entry
        .get("package")
        .and_then(Item::as_str)
        .unwrap_or(key)
        .to_owned()
}

/// Calls `f(section, key, entry)` for every dependency entry with a `path` (a workspace
/// crate), in `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, each
/// `[target.<cfg>.*]` table and `[workspace.dependencies]`; inline tables, multi-line
/// inline tables and `[dependencies.<name>]` sub-tables alike.
fn for_each_internal(doc: &mut DocumentMut, mut f: impl FnMut(&str, &str, &mut Item)) {
    let mut visit = |section: String, table: Option<&mut Item>| {
        let Some(table) = table.and_then(Item::as_table_like_mut) else {
            return;
        };
        for (key, item) in table.iter_mut() {
            let has_path = item
                .as_table_like()
                .is_some_and(|entry| entry.contains_key("path"));
            // `name = "1.0"` and entries without a path: registry dependencies.
            if has_path {
                f(&section, key.get(), item);
            }
        }
    };
    let root = doc.as_table_mut();
    for kind in KINDS {
        visit(kind.to_owned(), root.get_mut(kind));
    }
    if let Some(targets) = root.get_mut("target").and_then(Item::as_table_like_mut) {
        for (cfg, target) in targets.iter_mut() {
            let cfg = cfg.get().to_owned();
            if let Some(target) = target.as_table_like_mut() {
                for kind in KINDS {
                    visit(format!("target.'{cfg}'.{kind}"), target.get_mut(kind));
                }
            }
        }
    }
    let deps = root
        .get_mut("workspace")
        .and_then(Item::as_table_like_mut)
        .and_then(|w| w.get_mut("dependencies"));
    visit("workspace.dependencies".to_owned(), deps);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::parse(Path::new("Cargo.toml"), text).unwrap()
    }

    /// `set_requirements(cred-core, 0.2.0)` on `before` gives exactly `after`.
    fn requirement_edit(before: &str, after: &str, tables: &[&str]) {
        let mut m = manifest(before);
        assert_eq!(m.set_requirements("cred-core", "0.2.0"), tables);
        assert_eq!(m.text(), after);
    }

    #[test]
    fn the_package_version_is_replaced_in_place() {
        let mut m = manifest(
            "[package]\nname = \"a\"\nversion   =   \"0.1.0\"   # released on its own\nedition = \"2024\"\n\n[dependencies]\nversion = { path = \"../version\", version = \"0.1.0\" }\n",
        );
        assert_eq!(m.package_version().unwrap().to_string(), "0.1.0");
        m.set_package_version(&semver::parse("0.2.0").unwrap())
            .unwrap();
        assert_eq!(
            m.text(),
            "[package]\nname = \"a\"\nversion   =   \"0.2.0\"   # released on its own\nedition = \"2024\"\n\n[dependencies]\nversion = { path = \"../version\", version = \"0.1.0\" }\n"
        );
        let inherited = manifest("[package]\nname = \"a\"\nversion.workspace = true\n");
        assert!(
            inherited
                .package_version()
                .unwrap_err()
                .contains("inherited from the workspace")
        );
        assert!(
            manifest("[package]\nname = \"a\"\n")
                .package_version()
                .is_err()
        );
    }

    #[test]
    fn inline_tables_in_every_dependency_table() {
        requirement_edit(
            r#"# a comment at the top
[dependencies]
cred-core = { path = "../cred-core", version = "0.1.0" } # why
serde = "1"

[dev-dependencies]
cred-core = { path = "../cred-core", version = "0.1.0", features = ["test"] }

[build-dependencies]
cred-core = {path="../cred-core",version="0.1.0"}
"#,
            r#"# a comment at the top
[dependencies]
cred-core = { path = "../cred-core", version = "0.2.0" } # why
serde = "1"

[dev-dependencies]
cred-core = { path = "../cred-core", version = "0.2.0", features = ["test"] }

[build-dependencies]
cred-core = {path="../cred-core",version="0.2.0"}
"#,
            &[
                "dependencies: cred-core",
                "dev-dependencies: cred-core",
                "build-dependencies: cred-core",
            ],
        );
    }

    #[test]
    fn target_tables() {
        requirement_edit(
            r#"[target.'cfg(unix)'.dependencies]
cred-core = { path = "../cred-core", version = "0.1.0" }

[target.x86_64-pc-windows-msvc.dev-dependencies]
cred-core = { path = "../cred-core", version = "0.1.0" }
"#,
            r#"[target.'cfg(unix)'.dependencies]
cred-core = { path = "../cred-core", version = "0.2.0" }

[target.x86_64-pc-windows-msvc.dev-dependencies]
cred-core = { path = "../cred-core", version = "0.2.0" }
"#,
            &[
                "target.'cfg(unix)'.dependencies: cred-core",
                "target.'x86_64-pc-windows-msvc'.dev-dependencies: cred-core",
            ],
        );
    }

    #[test]
    fn renamed_dependencies_match_by_package() {
        requirement_edit(
            r#"[dependencies]
core = { package = "cred-core", path = "../cred-core", version = "0.1.0" }
cred-core-old = { package = "cred-core", version = "0.0.9" }
other = { path = "../other", version = "0.1.0" }
"#,
            r#"[dependencies]
core = { package = "cred-core", path = "../cred-core", version = "0.2.0" }
cred-core-old = { package = "cred-core", version = "0.0.9" }
other = { path = "../other", version = "0.1.0" }
"#,
            &["dependencies: core"],
        );
    }

    #[test]
    fn multi_line_inline_tables_keep_their_lines() {
        requirement_edit(
            r#"[dependencies]
cred-core = {
    path = "../cred-core",   # the workspace copy
    version = "0.1.0",       # kept in step by release bump
    features = ["x"],
}
"#,
            r#"[dependencies]
cred-core = {
    path = "../cred-core",   # the workspace copy
    version = "0.2.0",       # kept in step by release bump
    features = ["x"],
}
"#,
            &["dependencies: cred-core"],
        );
    }

    #[test]
    fn dependency_sub_tables() {
        requirement_edit(
            r#"[dependencies.cred-core]
# the shared runtime
path = "../cred-core"
version = "0.1.0" # trailing

[dev-dependencies.core]
package = "cred-core"
path = "../cred-core"
version = "=0.1.0"
"#,
            r#"[dependencies.cred-core]
# the shared runtime
path = "../cred-core"
version = "0.2.0" # trailing

[dev-dependencies.core]
package = "cred-core"
path = "../cred-core"
version = "0.2.0"
"#,
            &["dependencies: cred-core", "dev-dependencies: core"],
        );
    }

    #[test]
    fn workspace_dependencies_and_inheriting_members() {
        requirement_edit(
            r#"[workspace]
members = ["crates/*"]

[workspace.dependencies]
# internal
cred-core = { path = "crates/cred-core", version = "0.1.0" }
serde = { version = "1", features = ["derive"] }
"#,
            r#"[workspace]
members = ["crates/*"]

[workspace.dependencies]
# internal
cred-core = { path = "crates/cred-core", version = "0.2.0" }
serde = { version = "1", features = ["derive"] }
"#,
            &["workspace.dependencies: cred-core"],
        );
        // A member inheriting the requirement has nothing of its own to change.
        let member = "[dependencies]\ncred-core.workspace = true\n\n[dev-dependencies]\ncred-core = { workspace = true, features = [\"x\"] }\n";
        requirement_edit(member, member, &[]);
    }

    #[test]
    fn registries_are_added_to_internal_dependencies_only() {
        let mut m = manifest(
            r#"[workspace.dependencies]
cred-core = { path = "crates/cred-core", version = "0.1.0" }
serde = "1"
other = { path = "crates/other", version = "0.1.0" }

[dependencies.core]
package = "cred-core"
path = "crates/cred-core"
version = "0.1.0"

[dev-dependencies]
cred-core = {
    path = "crates/cred-core",
    version = "0.1.0",
}
"#,
        );
        let names = BTreeSet::from(["cred-core".to_owned()]);
        assert_eq!(m.set_registry(&names, "rehearse"), 3);
        let after = r#"[workspace.dependencies]
cred-core = { path = "crates/cred-core", version = "0.1.0", registry = "rehearse" }
serde = "1"
other = { path = "crates/other", version = "0.1.0" }

[dependencies.core]
package = "cred-core"
path = "crates/cred-core"
version = "0.1.0"
registry = "rehearse"

[dev-dependencies]
cred-core = {
    path = "crates/cred-core",
    version = "0.1.0",
    registry = "rehearse",
}
"#;
        assert_eq!(m.text(), after);
        // Again: nothing more.
        assert_eq!(m.set_registry(&names, "rehearse"), 3);
        assert_eq!(m.text(), after);
    }
}
