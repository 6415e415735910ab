//! The ledger key (`<ledger>.key`): 32 random bytes, owner-only, kept apart from the
//! ledger. Every MAC of the chain, the head's tag and every subject's HMAC derive from
//! it, so whoever holds it can compute them: keep it where the ledger's readers are not.
//!
//! Format:
//!
//! ```text
//! credkit-ledger-key v1
//! ledger: <32 hex digits: the ledger it belongs to>
//! key: <base64 of 32 bytes>
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cred_core::seal::HmacKey;

use crate::error::Error;

const HEADER: &str = "credkit-ledger-key v1";

/// The key file beside `ledger`.
pub fn key_path(ledger: &Path) -> PathBuf {
    sibling(ledger, ".key")
}

/// The head file beside `ledger`.
pub fn head_path(ledger: &Path) -> PathBuf {
    sibling(ledger, ".head")
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The keys one ledger key gives.
#[derive(Clone)]
pub(crate) struct Keys {
    /// The ledger the key belongs to (hex).
    pub(crate) ledger_id: String,
    /// MACs of the chain.
    pub(crate) chain: HmacKey,
    /// HMACs of subjects (people, licences, companies).
    pub(crate) subject: HmacKey,
    /// The head's tag.
    pub(crate) head: HmacKey,
    /// What the database keeps to recognise its key (a MAC of a fixed text).
    pub(crate) check: String,
}

impl Keys {
    fn from_root(ledger_id: String, root: [u8; 32]) -> Self {
        let root = HmacKey::from_bytes(root);
        let derive =
            |label: &str| HmacKey::from_bytes(root.tag(&[b"credkit-ledger", label.as_bytes()]));
        let check = cred_core::digest::hex_lower(&root.tag(&[b"credkit-ledger", b"check"]));
        Self {
            chain: derive("chain"),
            subject: derive("subject"),
            head: derive("head"),
            check,
            ledger_id,
        }
    }
}

/// Creates a new key file at `path` (owner-only, never overwriting one).
pub(crate) fn create(path: &Path) -> Result<Keys, Error> {
    let mut id = [0u8; 16];
    let mut root = [0u8; 32];
    cred_core::seal::random_bytes(&mut id).map_err(|e| Error::Setup(e.to_string()))?;
    cred_core::seal::random_bytes(&mut root).map_err(|e| Error::Setup(e.to_string()))?;
    let ledger_id = cred_core::digest::hex_lower(&id);
    let text = format!(
        "{HEADER}\nledger: {ledger_id}\nkey: {}\n",
        STANDARD.encode(root)
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io("cannot create the ledger key", path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("cannot write the ledger key", path, e))?;
    Ok(Keys::from_root(ledger_id, root))
}

/// Reads the key file at `path`, refusing one that group or others may read.
pub(crate) fn read(path: &Path) -> Result<Keys, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::io("cannot read the ledger key", path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::Setup(format!(
                "the ledger key {} is readable by others (mode {mode:04o}): whoever reads it can rewrite the ledger's history and test guesses of ID numbers against it; run `chmod 600 {}` and try again",
                path.display(),
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io("cannot read the ledger key", path, e))?;
    parse(&text).ok_or_else(|| {
        Error::Setup(format!(
            "the ledger key {} is damaged (expected `{HEADER}`, a `ledger:` and a `key:` line)",
            path.display()
        ))
    })
}

fn parse(text: &str) -> Option<Keys> {
    let mut lines = text.lines();
    if lines.next()?.trim() != HEADER {
        return None;
    }
    let mut ledger_id = None;
    let mut root = None;
    for line in lines {
        if let Some(v) = line.strip_prefix("ledger: ") {
            let v = v.trim();
            if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                ledger_id = Some(v.to_ascii_lowercase());
            }
        } else if let Some(v) = line.strip_prefix("key: ") {
            let bytes = STANDARD.decode(v.trim()).ok()?;
            root = Some(<[u8; 32]>::try_from(bytes.as_slice()).ok()?);
        }
    }
    Some(Keys::from_root(ledger_id?, root?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_is_owner_only() {
        let dir = std::env::temp_dir().join(format!("ledger-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.key");
        let _ = std::fs::remove_file(&path);
        let made = create(&path).unwrap();
        let read_back = read(&path).unwrap();
        assert_eq!(made.ledger_id, read_back.ledger_id);
        assert_eq!(made.check, read_back.check);
        assert_eq!(made.chain.tag(&[b"x"]), read_back.chain.tag(&[b"x"]));
        assert_ne!(made.chain.tag(&[b"x"]), made.subject.tag(&[b"x"]));
        assert!(
            create(&path).is_err(),
            "an existing key is never overwritten"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = read(&path).err().unwrap().to_string();
            assert!(err.contains("chmod 600"), "{err}");
        }
        assert!(parse("credkit-ledger-key v1\nledger: 00\nkey: AAAA\n").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
