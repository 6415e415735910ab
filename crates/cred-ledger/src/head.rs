//! The head (`<ledger>.head`): the last record's seq and MAC, tagged with the ledger
//! key, kept in a file apart from the rows. Rows cut from the end of the database leave
//! a chain that is still whole; the head is what says records are missing.
//!
//! Format:
//!
//! ```text
//! credkit-ledger-head v1
//! ledger: <32 hex digits>
//! seq: <the last record's seq>
//! mac: <its MAC, 64 hex digits>
//! tag: <HMAC of the above under the ledger key, 64 hex digits>
//! ```
//!
//! The head is written after each commit, only forward (under a lock, so that two
//! writers never move it back). A crash between a commit and the head's write leaves
//! the head behind the rows: `verify` reports those records as after the head, and
//! still checks them.

use std::io::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::key::{Keys, sibling};

const HEADER: &str = "credkit-ledger-head v1";

/// A head as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The ledger it belongs to.
    pub ledger_id: String,
    /// The last record's seq (0: no record yet).
    pub seq: i64,
    /// The last record's MAC (hex).
    pub mac: String,
    /// Its tag (hex).
    pub tag: String,
}

impl Head {
    /// The head after record `seq` with MAC `mac`.
    pub(crate) fn new(keys: &Keys, seq: i64, mac: &[u8; 32]) -> Self {
        let mac = cred_core::digest::hex_lower(mac);
        let tag = tag(keys, seq, &mac);
        Self {
            ledger_id: keys.ledger_id.clone(),
            seq,
            mac,
            tag,
        }
    }

    /// Whether its tag is right under `keys` (a head the key holder wrote).
    pub(crate) fn is_authentic(&self, keys: &Keys) -> bool {
        self.ledger_id == keys.ledger_id && self.tag == tag(keys, self.seq, &self.mac)
    }

    /// The file's text; also what `cred audit head` prints to ship elsewhere.
    pub fn text(&self) -> String {
        format!(
            "{HEADER}\nledger: {}\nseq: {}\nmac: {}\ntag: {}\n",
            self.ledger_id, self.seq, self.mac, self.tag
        )
    }

    /// Reads a head from its text (`None` when it is not one).
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        if lines.next()?.trim() != HEADER {
            return None;
        }
        let (mut ledger_id, mut seq, mut mac, mut tag) = (None, None, None, None);
        for line in lines {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("ledger: ") {
                ledger_id = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("seq: ") {
                seq = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("mac: ") {
                mac = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("tag: ") {
                tag = Some(v.to_owned());
            }
        }
        Some(Self {
            ledger_id: ledger_id?,
            seq: seq?,
            mac: mac?,
            tag: tag?,
        })
    }
}

fn tag(keys: &Keys, seq: i64, mac: &str) -> String {
    cred_core::digest::hex_lower(&keys.head.tag(&[
        b"credkit-ledger-head v1",
        keys.ledger_id.as_bytes(),
        &seq.to_be_bytes(),
        mac.as_bytes(),
    ]))
}

/// Reads the head at `path` (`Ok(None)` when there is no file).
pub(crate) fn read(path: &Path) -> Result<Option<Head>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Head::parse(&text).ok_or_else(|| {
            Error::Setup(format!("the ledger's head {} is damaged", path.display()))
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read the ledger's head", path, e)),
    }
}

/// Moves the head at `path` forward to `head` (never back: a head already further on,
/// written by another writer, is kept); synced to disk only with `fsync`, as the rows are.
pub(crate) fn advance(path: &Path, keys: &Keys, head: &Head, fsync: bool) -> Result<(), Error> {
    let lock_path = sibling(path, ".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let lock = options
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open the head's lock", &lock_path, e))?;
    lock.lock()
        .map_err(|e| Error::io("cannot lock the head", &lock_path, e))?;
    if let Ok(Some(current)) = read(path)
        && current.is_authentic(keys)
        && current.seq >= head.seq
    {
        return Ok(());
    }
    let tmp = sibling(path, ".tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .map_err(|e| Error::io("cannot write the ledger's head", &tmp, e))?;
    file.write_all(head.text().as_bytes())
        .and_then(|()| if fsync { file.sync_data() } else { Ok(()) })
        .map_err(|e| Error::io("cannot write the ledger's head", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("cannot write the ledger's head", path, e))
}
