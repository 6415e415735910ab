//! The paths of a batch, checked before anything is sent: the output may not be the
//! input, the journal or one of the journal's files, and its directory must exist and
//! be writable; the journal may not be the input. Paths are compared canonically (`..`
//! and symbolic links resolved) and, for files that exist, by device and inode (hard
//! links caught).

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::keyfile::{key_path, sibling};

/// What identifies a file: its canonical path and, when it exists, device and inode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    canonical: PathBuf,
    inode: Option<(u64, u64)>,
}

impl Identity {
    fn same(&self, other: &Identity) -> bool {
        self.canonical == other.canonical
            || matches!((self.inode, other.inode), (Some(a), Some(b)) if a == b)
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(meta) => Some(Identity {
            canonical: std::fs::canonicalize(path).ok()?,
            inode: inode(&meta),
        }),
        Err(_) => {
            let dir = std::fs::canonicalize(parent(path)).ok()?;
            Some(Identity {
                canonical: dir.join(path.file_name()?),
                inode: None,
            })
        }
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Every file a journal at `journal` uses.
pub(crate) fn journal_files(journal: &Path) -> Vec<(PathBuf, &'static str)> {
    let key = key_path(journal);
    vec![
        (journal.to_owned(), "the journal"),
        (key.clone(), "the journal's key file"),
        (crate::lock::lock_path(journal), "the journal's lock file"),
        (sibling(journal, "-wal"), "the journal's -wal file"),
        (sibling(journal, "-shm"), "the journal's -shm file"),
        (sibling(journal, "-journal"), "the journal's -journal file"),
        (sibling(journal, ".creating"), "the journal being created"),
        (sibling(&key, ".creating"), "the key file being created"),
        (
            crate::writer::reserve_path(journal),
            "the journal's reserve file",
        ),
    ]
}

/// The files writing the output at `output` uses (itself and its temporary files).
pub(crate) fn output_files(output: &Path) -> Vec<PathBuf> {
    vec![
        output.to_owned(),
        sibling(output, ".partial"),
        sibling(output, ".lines"),
    ]
}

/// Checks the paths of a batch before anything is sent (see the module documentation);
/// `input` is `None` when only the output is written (from a journal).
pub fn check(input: Option<&Path>, journal: &Path, output: Option<&Path>) -> Result<(), Error> {
    let refuse = |message: String| Err(Error::Paths { message });
    let input_id = input.and_then(identity);
    let input = input.unwrap_or(Path::new(""));
    let journal_dir = parent(journal);
    if !journal_dir.is_dir() {
        return refuse(format!(
            "the journal's directory {} does not exist",
            journal_dir.display()
        ));
    }
    let journal_ids: Vec<(Option<Identity>, PathBuf, &str)> = journal_files(journal)
        .into_iter()
        .map(|(p, what)| (identity(&p), p, what))
        .collect();
    if let Some(input_id) = &input_id {
        for (id, p, what) in &journal_ids {
            if id.as_ref().is_some_and(|id| id.same(input_id)) {
                return refuse(format!(
                    "{what} {} would be the input {}: give another --journal",
                    p.display(),
                    input.display()
                ));
            }
        }
    }
    let Some(output) = output else {
        return Ok(());
    };
    for file in output_files(output) {
        let Some(out_id) = identity(&file) else {
            continue;
        };
        if input_id.as_ref().is_some_and(|i| i.same(&out_id)) {
            return refuse(format!(
                "the output {} would overwrite the input {}: give another --output",
                output.display(),
                input.display()
            ));
        }
        for (id, p, what) in &journal_ids {
            if id.as_ref().is_some_and(|id| id.same(&out_id)) {
                return refuse(format!(
                    "the output {} would overwrite {what} {} (the record of what was paid): give another --output",
                    output.display(),
                    p.display()
                ));
            }
        }
    }
    if output.is_dir() {
        return refuse(format!(
            "the output {} is a directory: give a file name",
            output.display()
        ));
    }
    let dir = parent(output);
    if !dir.is_dir() {
        return refuse(format!(
            "the output's directory {} does not exist: create it first, or give another --output",
            dir.display()
        ));
    }
    // Writable: the output is written beside its final name and renamed into place.
    let probe = dir.join(format!(".cred-batch-probe-{}", std::process::id()));
    match crate::journal::create_private(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => refuse(format!(
            "the output's directory {} is not writable ({e}): give another --output",
            dir.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_of_the_input_and_the_journal_are_refused() {
        let dir = std::env::temp_dir().join(format!(
            "cred-batch-paths-{}-{}",
            std::process::id(),
            cred_core::now_millis()
        ));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let input = dir.join("in.csv");
        std::fs::write(&input, "name\n").unwrap();
        let journal = dir.join("in.csv.journal");
        std::fs::write(&journal, "x").unwrap();
        std::fs::write(key_path(&journal), "x").unwrap();
        let ok = dir.join("out.jsonl");
        assert!(check(Some(&input), &journal, Some(&ok)).is_ok());
        let hard = dir.join("hard.csv");
        std::fs::hard_link(&input, &hard).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&input, dir.join("link.csv")).unwrap();
        let mut bad = vec![
            input.clone(),
            dir.join("sub/../in.csv"),
            hard.clone(),
            journal.clone(),
            key_path(&journal),
            sibling(&journal, "-wal"),
            sibling(&journal, "-shm"),
            crate::lock::lock_path(&journal),
        ];
        #[cfg(unix)]
        bad.push(dir.join("link.csv"));
        for output in bad {
            let err = check(Some(&input), &journal, Some(&output)).unwrap_err();
            assert!(matches!(err, Error::Paths { .. }), "{output:?}: {err}");
        }
        // The journal may not be the input either.
        assert!(check(Some(&input), &input, None).is_err());
        assert!(check(Some(&input), &hard, None).is_err());
        // A missing directory: refused before anything is sent.
        let err = check(Some(&input), &journal, Some(&dir.join("missing/out.jsonl"))).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
