//! The journal's key file (`<journal>.key`): the HMAC key of row inputs and the sealing
//! key of outcomes, bound to one journal (by a random id the journal also holds) and one
//! operation. Owner-only: a key file readable by group or others is refused, as ssh
//! refuses an open private key.
//!
//! Format (version 2; a file of one base64 line is version 1, still read):
//!
//! ```text
//! credkit-batch-key v2
//! journal: <32 hex digits>
//! operation: <operation name>
//! keys: <base64 of 64 bytes: HMAC key, then sealing key>
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cred_core::seal::{HmacKey, SealingKey};

use crate::error::Error;

const HEADER: &str = "credkit-batch-key v2";

/// The key file beside a journal.
pub fn key_path(journal: &Path) -> PathBuf {
    sibling(journal, ".key")
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What a key file holds.
#[derive(Clone)]
pub(crate) struct Keys {
    pub(crate) hmac: HmacKey,
    pub(crate) seal: SealingKey,
    /// The journal the keys belong to (`None` in a version 1 file).
    pub(crate) journal_id: Option<String>,
    /// The operation the journal serves (`None` in a version 1 file).
    pub(crate) operation: Option<String>,
}

impl Keys {
    /// New random keys for a new journal of `operation`.
    pub(crate) fn generate(operation: &str) -> Result<Self, Error> {
        let mut id = [0u8; 16];
        cred_core::seal::random_bytes(&mut id)?;
        Ok(Self {
            hmac: HmacKey::generate()?,
            seal: SealingKey::generate()?,
            journal_id: Some(cred_core::digest::hex_lower(&id)),
            operation: Some(operation.to_owned()),
        })
    }

    fn text(&self) -> String {
        let mut bytes = self.hmac.expose_bytes().to_vec();
        bytes.extend_from_slice(self.seal.expose_bytes());
        format!(
            "{HEADER}\njournal: {}\noperation: {}\nkeys: {}\n",
            self.journal_id.as_deref().unwrap_or(""),
            self.operation.as_deref().unwrap_or(""),
            STANDARD.encode(bytes)
        )
    }
}

/// Reads the key file at `path`, refusing one readable by group or others.
pub(crate) fn read(path: &Path) -> Result<Keys, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::journal(format!(
                "the journal's key file {} is readable by others (mode {mode:04o}): anyone who can read it can read the journal; run `chmod 600 {}` and try again",
                path.display(),
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, e))?;
    parse(&text).ok_or_else(|| {
        Error::journal(format!(
            "the journal's key file {} is damaged; without it the journal cannot be used",
            path.display()
        ))
    })
}

fn unreadable(path: &Path, e: std::io::Error) -> Error {
    Error::Journal {
        message: format!(
            "the journal's key file {} cannot be read ({e}); without it the journal cannot be used",
            path.display()
        ),
        source: Some(std::sync::Arc::new(e)),
    }
}

fn parse(text: &str) -> Option<Keys> {
    let mut journal_id = None;
    let mut operation = None;
    let encoded = if text.starts_with(HEADER) {
        let mut keys = None;
        for line in text.lines().skip(1) {
            if let Some(v) = line.strip_prefix("journal: ") {
                journal_id = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            } else if let Some(v) = line.strip_prefix("operation: ") {
                operation = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            } else if let Some(v) = line.strip_prefix("keys: ") {
                keys = Some(v.trim().to_owned());
            }
        }
        keys?
    } else {
        text.trim().to_owned()
    };
    let bytes = STANDARD.decode(encoded).ok().filter(|b| b.len() == 64)?;
    let mut h = [0u8; 32];
    let mut s = [0u8; 32];
    h.copy_from_slice(&bytes[..32]);
    s.copy_from_slice(&bytes[32..]);
    Some(Keys {
        hmac: HmacKey::from_bytes(h),
        seal: SealingKey::from_bytes(s).ok()?,
        journal_id,
        operation,
    })
}

/// Writes `keys` to `path` atomically: a private temporary file beside it, flushed to
/// disk, renamed into place, the directory flushed.
pub(crate) fn write(path: &Path, keys: &Keys) -> Result<(), Error> {
    let temp = sibling(path, ".creating");
    let written = crate::journal::create_private(&temp).and_then(|mut f| {
        f.write_all(keys.text().as_bytes())?;
        f.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temp, path))
        .and_then(|()| sync_dir(path))
        .map_err(|e| Error::io(format!("cannot write the key file {}", path.display()), e))
}

/// Flushes the directory holding `path` (a rename is durable once its directory is).
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_2_round_trips_and_version_1_is_still_read() {
        let keys = Keys::generate("jumdata credential").unwrap();
        let back = parse(&keys.text()).unwrap();
        assert_eq!(back.journal_id, keys.journal_id);
        assert_eq!(back.operation.as_deref(), Some("jumdata credential"));
        assert_eq!(back.seal.fingerprint(), keys.seal.fingerprint());
        let mut bytes = keys.hmac.expose_bytes().to_vec();
        bytes.extend_from_slice(keys.seal.expose_bytes());
        let v1 = parse(&format!("{}\n", STANDARD.encode(bytes))).unwrap();
        assert_eq!(v1.journal_id, None);
        assert_eq!(v1.seal.fingerprint(), keys.seal.fingerprint());
        assert!(parse("credkit-batch-key v2\nkeys: AAAA\n").is_none());
        assert!(parse("garbage").is_none());
    }
}
