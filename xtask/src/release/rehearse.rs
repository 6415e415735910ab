//! `cargo xtask release rehearse`: the release for real, against a registry on loopback.
//!
//! 1. The workspace's files (`git ls-files`: tracked and untracked-but-not-ignored, as
//!    they are on disk) are copied to a temporary directory, outside any git repository.
//! 2. `cargo-http-registry <dir>` serves a fresh registry on `127.0.0.1` (an ephemeral
//!    port, read back from the `config.json` it writes): a git index served over HTTP
//!    at `/git`, and the publish and download API. A cargo configuration file names it
//!    `rehearse` (`index = "http://127.0.0.1:<port>/git"`, any token: it checks none;
//!    `net.git-fetch-with-cli`, since the index is served the "dumb" HTTP way).
//! 3. In the copy, every path dependency on a publishable crate gets
//!    `registry = "rehearse"`, so that the published manifests point there, and
//!    `publish::publish` publishes every crate in dependency order with
//!    `cargo publish --registry rehearse` (verified: each crate is built from its
//!    packaged sources against the crates already in the registry), asking the registry
//!    through `cargo info` whether each one is served.
//! 4. Two new crates outside the workspace, one depending only on `jumdata-api`, one only
//!    on `zhima-api`, both from `rehearse`, are fetched (`cargo fetch`), then built and
//!    run with `--offline`: only the local registry and cargo's download cache serve
//!    them. Their `Cargo.lock` must take the provider and `cred-core` from the local
//!    registry, not from a path.
//!
//! The server is killed, the temporary directory removed and cargo's cached copies of
//! the loopback registry dropped at the end, also on failure (drop guards). Builds go to
//! `target/release-verify`, the target directory of `release verify`'s `cargo package`
//! run: the third-party crates built there are the same (same profile, same versions,
//! each package built on its own) and are not built a second time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::checks::clear_fingerprints;
use super::edit::Manifest;
use super::order::publish_order;
use super::publish::{self, CargoInfo, Runner, System, Target, Wait};
use super::workspace::Workspace;

/// The registry server.
pub const SERVER: &str = "cargo-http-registry";
/// The command that installs it.
pub const INSTALL: &str = "cargo install --locked cargo-http-registry";
/// The name the rehearsal's cargo configuration gives the local registry.
const REGISTRY: &str = "rehearse";

/// A crate of its own that uses one provider, as a user would.
struct Consumer {
    /// The provider it depends on, alone.
    provider: &'static str,
    /// Its `src/main.rs`: the provider's public API, no network.
    main: &'static str,
}

const CONSUMERS: [Consumer; 2] = [
    Consumer {
        provider: "jumdata-api",
        main: r#"//! A user of jumdata-api alone, built from the rehearsal registry.

fn main() {
    let query = jumdata_api::CredentialQuery::new("王小明", "321083197812162119");
    let client = jumdata_api::Client::builder()
        .app_id("rehearsal-app-id").app_secret("rehearsal-app-secret")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("a client from literal credentials");
    let empty = jumdata_api::Client::builder().build();
    assert!(empty.is_err(), "a client without credentials is refused");
    let _ = query;
    println!("jumdata-api: client for {} built, query built, a client without credentials refused", client.base_url());
}
"#,
    },
    Consumer {
        provider: "zhima-api",
        main: r#"//! A user of zhima-api alone, built from the rehearsal registry.

use zhima_api::{CertType, Client, JobworthAuthentication};

fn main() {
    let request = JobworthAuthentication::new()
        .once_token("rehearsal-token")
        .identity_type("04")
        .cert_no("33010219200403064X")
        .cert_type(CertType::IdCard);
    let reading = zhima_api::check_reading(&request);
    assert!(reading.is_ok(), "{reading:?}");
    let client = Client::builder()
        .app_id("2021000000000001")
        .private_key("not a key")
        .alipay_public_key("not a key either")
        .build();
    assert!(client.is_err(), "a client with a malformed key is refused");
    println!("zhima-api: request built and read as credkit reads the document, a client with a malformed key refused");
}
"#,
    },
];

/// The consumer's package name.
fn user_name(consumer: &Consumer) -> String {
    format!("rehearse-{}-user", consumer.provider)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `cmd`; its stdout, or an error naming `what` with the end of its output.
fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run it: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    Err(format!(
        "{what} failed:\n    {}",
        lines[lines.len().saturating_sub(20)..].join("\n    ")
    ))
}

/// Runs commands for real, saying on stderr what runs and how long it took: a
/// rehearsal takes minutes.
struct Progress {
    started: Instant,
}

impl Runner for Progress {
    fn run(&mut self, program: &str, args: &[&str], dir: &Path) -> Result<String, String> {
        let line = format!("{program} {}", args.join(" "));
        eprintln!(
            "rehearse [{:>5.1}s] {line}",
            self.started.elapsed().as_secs_f64()
        );
        let at = Instant::now();
        let out = System.run(program, args, dir);
        eprintln!(
            "rehearse           {} in {:.1}s",
            if out.is_ok() { "done" } else { "failed" },
            at.elapsed().as_secs_f64()
        );
        // A failed build prints every error: its first line and its end are enough.
        out.map_err(|e| {
            let lines: Vec<&str> = e.lines().collect();
            if lines.len() <= 40 {
                return e;
            }
            format!(
                "{}\n    … ({} lines)\n{}",
                lines[0],
                lines.len() - 31,
                lines[lines.len() - 30..].join("\n")
            )
        })
    }
}

/// The temporary directory: removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The registry server: killed when dropped.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cargo's copies of loopback registries under `$CARGO_HOME/registry` (index, `.crate`
/// files, unpacked sources): dropped when this is dropped. A later rehearsal may get
/// the same port, hence the same cache directories, for crates of the same names and
/// versions but other contents, which cargo would take as they are.
struct LoopbackCache(Option<PathBuf>);

impl LoopbackCache {
    fn new() -> LoopbackCache {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
        let cache = LoopbackCache(home.map(|h| h.join("registry")));
        cache.clear();
        cache
    }

    /// Removes `registry/{index,cache,src}/127.0.0.1-*`: only loopback registries, which
    /// are rehearsals' by nature; never crates.io's.
    fn clear(&self) {
        let Some(registry) = &self.0 else { return };
        for kind in ["index", "cache", "src"] {
            let Ok(entries) = std::fs::read_dir(registry.join(kind)) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("127.0.0.1-") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

impl Drop for LoopbackCache {
    fn drop(&mut self) {
        self.clear();
    }
}

/// What the rehearsal builds of the workspace's crates and of its users in the shared
/// target directory: removed when dropped. Each rehearsal has a registry of its own (a
/// new port, so new package ids): nothing of these is reused, and every run would leave
/// hundreds of megabytes behind. Third-party builds stay, for the next run.
struct Leftovers {
    /// `<target>/debug/{deps,.fingerprint,build,incremental}`.
    dirs: Vec<PathBuf>,
    /// What was there before.
    before: BTreeSet<PathBuf>,
    /// Package and target names, both spellings (`cred-core`, `cred_core`, `cred`).
    names: BTreeSet<String>,
}

impl Leftovers {
    fn new(target: &Path, names: BTreeSet<String>) -> Leftovers {
        let dirs: Vec<PathBuf> = ["deps", ".fingerprint", "build", "incremental"]
            .iter()
            .map(|d| target.join("debug").join(d))
            .collect();
        let before = Self::entries(&dirs);
        Leftovers {
            dirs,
            before,
            names,
        }
    }

    fn entries(dirs: &[PathBuf]) -> BTreeSet<PathBuf> {
        dirs.iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|entries| entries.flatten().map(|e| e.path()))
            .collect()
    }

    /// Whether `file` (`libcred_core-<hash>.rlib`, `cred-core-<hash>`) is a build of
    /// one of `names`.
    fn ours(&self, file: &str) -> bool {
        let stem = file.rsplit_once('-').map_or(file, |(stem, _)| stem);
        self.names.contains(stem)
            || stem
                .strip_prefix("lib")
                .is_some_and(|s| self.names.contains(s))
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for path in Self::entries(&self.dirs) {
            let ours = path
                .file_name()
                .is_some_and(|n| self.ours(&n.to_string_lossy()));
            if ours && !self.before.contains(&path) {
                if path.is_dir() {
                    let _ = std::fs::remove_dir_all(&path);
                } else {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// Whether `cargo-http-registry` runs. It exits with 1 even for `--version` (the
/// version comes out as its error), so what it prints is what counts.
fn installed() -> bool {
    Command::new(SERVER)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains(SERVER)
                || String::from_utf8_lossy(&o.stderr).contains(SERVER)
        })
}

/// Copies the workspace's files (`git ls-files`, on disk as they are) to `to`.
fn copy_workspace(root: &Path, to: &Path) -> Result<usize, String> {
    let list = run(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
        "git ls-files (the rehearsal copies the repository's files)",
    )?;
    let mut n = 0;
    for rel in list.split('\0').filter(|s| !s.is_empty()) {
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(&from, &dest).map_err(|e| format!("{}: {e}", from.display()))?;
        n += 1;
    }
    Ok(n)
}

/// Starts the server on a fresh registry under `dir`; the server and its port.
fn start_server(dir: &Path) -> Result<(Server, u16), String> {
    let root = dir.join("registry");
    let log = dir.join("registry.log");
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let child = Command::new(SERVER)
        .arg(&root)
        .args(["--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {SERVER}: {e}"))?;
    let mut server = Server { child };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "{SERVER} stopped ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            ));
        }
        // `config.json` is written once the server is bound: its `api` holds the port.
        let api = std::fs::read_to_string(root.join("config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["api"].as_str().map(str::to_owned));
        let port = api
            .as_deref()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok());
        if let Some(port) = port
            && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        {
            return Ok((server, port));
        }
        if Instant::now() > deadline {
            let _ = server.child.kill();
            return Err(format!(
                "{SERVER} did not serve within 30 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `[package] version` of the copy's crate `name`.
fn version_of(ws: &Workspace, name: &str) -> Result<String, String> {
    ws.get(name)
        .map(|c| c.version.clone())
        .ok_or_else(|| format!("the workspace has no crate `{name}`"))
}

/// Builds and runs `consumer` in `dir`; what it printed, and the lock entries checked.
fn consumer_round_trip(
    consumer: &Consumer,
    version: &str,
    dir: &Path,
    seed_lock: &Path,
    config: &Path,
    target: &Path,
    index: &str,
) -> Result<String, String> {
    let name = user_name(consumer);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
{provider} = {{ version = "={version}", registry = "{REGISTRY}" }}

# Not part of any workspace around it.
[workspace]
"#,
        provider = consumer.provider,
    );
    let write = |rel: &str, text: &str| {
        std::fs::write(dir.join(rel), text).map_err(|e| format!("{}: {e}", dir.join(rel).display()))
    };
    write("Cargo.toml", &manifest)?;
    write("src/main.rs", consumer.main)?;
    // The workspace's lock file as a seed: cargo keeps the third-party versions it names
    // (already downloaded, already built in `target`) and drops what this crate does not
    // use; the workspace crates, path dependencies there, resolve anew from the registry.
    if seed_lock.is_file() {
        std::fs::copy(seed_lock, dir.join("Cargo.lock"))
            .map_err(|e| format!("{}: {e}", seed_lock.display()))?;
    }
    let cargo_in = |args: &[&str]| {
        let mut cmd = Command::new(cargo());
        cmd.args(args)
            .arg("--config")
            .arg(config)
            .arg("--target-dir")
            .arg(target)
            .current_dir(dir)
            .env_remove("CARGO_TARGET_DIR");
        cmd
    };
    // Online once: the local registry's index and crates, and whatever third-party
    // crate the cache lacks.
    run(
        Command::new(cargo())
            .arg("fetch")
            .arg("--config")
            .arg(config)
            .current_dir(dir),
        &format!("cargo fetch for {name}"),
    )?;
    run(
        &mut cargo_in(&["build", "--offline", "--quiet"]),
        &format!("cargo build --offline of {name}"),
    )?;
    let printed = run(
        &mut cargo_in(&["run", "--offline", "--quiet"]),
        &format!("cargo run --offline of {name}"),
    )?;
    let lock = std::fs::read_to_string(dir.join("Cargo.lock"))
        .map_err(|e| format!("{name}/Cargo.lock: {e}"))?;
    let lock: toml::Value = toml::from_str(&lock).map_err(|e| format!("{name}/Cargo.lock: {e}"))?;
    let packages = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let expected = format!("registry+{index}");
    let mut checked = Vec::new();
    for wanted in [consumer.provider, "cred-core"] {
        let entries: Vec<&toml::Value> = packages
            .iter()
            .filter(|p| p.get("name").and_then(toml::Value::as_str) == Some(wanted))
            .collect();
        let [entry] = entries.as_slice() else {
            return Err(format!(
                "{name}/Cargo.lock has {} entries for {wanted}, not one",
                entries.len()
            ));
        };
        let source = entry
            .get("source")
            .and_then(toml::Value::as_str)
            .unwrap_or("(none: a path)");
        let v = entry
            .get("version")
            .and_then(toml::Value::as_str)
            .unwrap_or("?");
        if source != expected {
            return Err(format!(
                "{name}/Cargo.lock takes {wanted} {v} from `{source}`, not from the local registry `{expected}`"
            ));
        }
        checked.push(format!("{wanted} {v}"));
    }
    Ok(format!(
        "{name}: built offline and ran: {}\n    Cargo.lock: {} from {expected}\n",
        printed.trim(),
        checked.join(", ")
    ))
}

/// Rehearses the release of `ws`; a report of each crate published and each consumer
/// built.
pub fn rehearse(ws: &Workspace) -> Result<String, String> {
    let started = Instant::now();
    if !installed() {
        return Err(format!(
            "{SERVER} is not installed; the rehearsal publishes to it on loopback: run `{INSTALL}`"
        ));
    }
    let tmp =
        TempDir(std::env::temp_dir().join(format!("credkit-rehearse-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    let copy = tmp.0.join("workspace");
    let files = copy_workspace(&ws.root, &copy)?;
    let mut report = format!(
        "rehearse: {files} files of {} copied to {}\n",
        ws.root.display(),
        copy.display()
    );

    let (server, port) = start_server(&tmp.0)?;
    let index = format!("http://127.0.0.1:{port}/git");
    let cache = LoopbackCache::new();
    let config = tmp.0.join("rehearse.toml");
    std::fs::write(
        &config,
        format!(
            "# The rehearsal's registry: cargo-http-registry on loopback (it checks no token,\n# cargo wants one).\n[registries.{REGISTRY}]\nindex = \"{index}\"\ntoken = \"rehearsal\"\n\n# The index is a git repository served as files (\"dumb\" HTTP): git's own client\n# fetches it.\n[net]\ngit-fetch-with-cli = true\n"
        ),
    )
    .map_err(|e| format!("{}: {e}", config.display()))?;
    report.push_str(&format!(
        "registry: `{SERVER} {}/registry --addr 127.0.0.1:0` serving {index}\n",
        tmp.0.display()
    ));

    // The copy, loaded before its manifests name the registry (cargo metadata would
    // then need the configuration); then every internal path dependency points there.
    let copied = Workspace::load(&copy)?;
    let names: BTreeSet<String> = copied.publishable().map(|c| c.name.clone()).collect();
    let mut manifests = vec![copy.join("Cargo.toml")];
    manifests.extend(copied.crates.iter().map(|c| c.dir.join("Cargo.toml")));
    let mut edited = 0;
    for path in manifests.iter().collect::<BTreeSet<_>>() {
        let mut m = Manifest::open(path)?;
        let n = m.set_registry(&names, REGISTRY);
        if n > 0 {
            m.save()?;
            edited += n;
        }
    }
    report.push_str(&format!(
        "{edited} internal path dependencies given registry = \"{REGISTRY}\"\n"
    ));

    let target = ws.root.join("target").join("release-verify");
    // Cargo takes registry crates as immutable: a build of the same name, version and
    // registry URL (a port used again) from an earlier rehearsal must not be reused.
    clear_fingerprints(&copied, &target);
    let mut names: BTreeSet<String> = BTreeSet::new();
    for c in copied.publishable() {
        names.insert(c.name.clone());
        names.insert(c.name.replace('-', "_"));
        names.extend(c.targets.iter().cloned());
    }
    for consumer in &CONSUMERS {
        let user = user_name(consumer);
        names.insert(user.replace('-', "_"));
        names.insert(user);
    }
    let leftovers = Leftovers::new(&target, names);
    let config_arg = config.display().to_string();
    let target_arg = target.display().to_string();
    let publish_target = Target {
        registry: Some(REGISTRY.to_owned()),
        // Verified (no --no-verify): each crate is built from its packaged sources with
        // its dependencies from the registry, as a user's build would.
        args: vec![
            "--config".to_owned(),
            config_arg.clone(),
            "--target-dir".to_owned(),
            target_arg,
        ],
        tag: false,
    };
    let mut info = CargoInfo {
        registry: REGISTRY.to_owned(),
        args: vec!["--config".to_owned(), config_arg],
    };
    let order = publish_order(&copied)?;
    let published_at = Instant::now();
    let published = publish::publish(
        &copied,
        &publish_target,
        false,
        &mut Progress { started },
        &mut info,
        &Wait {
            attempts: 10,
            interval: Duration::from_secs(1),
        },
    )?;
    report.push_str(&format!(
        "published {} crates to the local registry in {:.0} s:\n{published}",
        order.len(),
        published_at.elapsed().as_secs_f64()
    ));

    for consumer in &CONSUMERS {
        let at = Instant::now();
        eprintln!(
            "rehearse [{:>5.1}s] a user of {} alone",
            started.elapsed().as_secs_f64(),
            consumer.provider
        );
        let version = version_of(&copied, consumer.provider)?;
        let dir = tmp.0.join(format!("user-of-{}", consumer.provider));
        let line = consumer_round_trip(
            consumer,
            &version,
            &dir,
            &copy.join("Cargo.lock"),
            &config,
            &target,
            &index,
        )?;
        report.push_str(&line);
        report.push_str(&format!("    in {:.0} s\n", at.elapsed().as_secs_f64()));
    }
    drop(server);
    drop(cache);
    drop(leftovers);
    report.push_str(&format!(
        "rehearse: registry round trip passed in {:.0} s (server stopped, temporary files removed)\n",
        started.elapsed().as_secs_f64()
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_builds_of_the_named_crates_only() {
        let l = Leftovers {
            dirs: Vec::new(),
            before: BTreeSet::new(),
            names: ["cred-core", "cred_core", "cred", "rehearse_zhima_api_user"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        };
        for ours in [
            "libcred_core-10d22af82f1178e6.rlib",
            "libcred_core-10d22af82f1178e6.rmeta",
            "cred_core-10d22af82f1178e6.d",
            "cred-core-10d22af82f1178e6",
            "cred-2e7187f47790cb70",
            "cred-2jwpxixx1ks3a",
            "rehearse_zhima_api_user-15ee40e2f4b28c65",
        ] {
            assert!(l.ours(ours), "{ours}");
        }
        for theirs in [
            "libredis-8a9cba8970738c4e.rlib",
            "credible-0123456789abcdef",
            "libcred_core_extra-10d22af82f1178e6.rlib",
            "libcred.so",
        ] {
            assert!(!l.ours(theirs), "{theirs}");
        }
    }
}
