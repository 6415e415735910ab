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
//! The text is padded to 256 bytes and written after each commit in place, in one
//! write at offset 0 (within one disk sector and one page: all or nothing), only
//! forward (under a lock on the file, so that two writers never move it back). A crash
//! between a commit and the head's write leaves the head behind the rows: `verify`
//! reports those records as after the head, and still checks them.

use std::path::Path;

use crate::error::Error;
use crate::key::Keys;

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

/// Bytes of the head in its file (padded): one disk sector and within one page, so that
/// writing it in place is all or nothing.
const SIZE: usize = 256;

/// The head in the file at `path` (`Ok(None)` when there is no file, or it is empty).
pub(crate) fn read(path: &Path) -> Result<Option<Head>, Error> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(|&b| b == 0) => Ok(None),
        Ok(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| Head::parse(t.trim_end_matches(['\0', ' ', '\n'])))
            .map(Some)
            .ok_or_else(|| {
                Error::Setup(format!("the ledger's head {} is damaged", path.display()))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read the ledger's head", path, e)),
    }
}

/// The head file, kept open by a writer: each update writes the head in place (256
/// bytes at offset 0, in one `pwrite`: no temporary file, no rename), under a lock on
/// the file so that writers in several processes only move it forward.
pub(crate) struct HeadFile {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl HeadFile {
    /// Opens (or creates, owner-only) the head file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| Error::io("cannot open the ledger's head", path, e))?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Moves the head forward to `head` (a head already further on, written by another
    /// writer, is kept); synced to disk only with `fsync`, as the rows are.
    pub(crate) fn advance(&self, keys: &Keys, head: &Head, fsync: bool) -> Result<(), Error> {
        use std::os::unix::fs::FileExt;
        let failed = |e| Error::io("cannot write the ledger's head", &self.path, e);
        self.file.lock().map_err(failed)?;
        let result = (|| {
            let mut bytes = [0u8; SIZE];
            let mut n = 0;
            while n < SIZE {
                match self
                    .file
                    .read_at(&mut bytes[n..], n as u64)
                    .map_err(failed)?
                {
                    0 => break,
                    k => n += k,
                }
            }
            let current = std::str::from_utf8(&bytes[..n])
                .ok()
                .and_then(|t| Head::parse(t.trim_end_matches(['\0', ' ', '\n'])))
                .filter(|h| h.is_authentic(keys));
            if current.is_some_and(|c| c.seq >= head.seq) {
                return Ok(());
            }
            let mut text = head.text().into_bytes();
            text.resize(SIZE, b' ');
            text[SIZE - 1] = b'\n';
            self.file.write_all_at(&text, 0).map_err(failed)?;
            if fsync {
                self.file.sync_data().map_err(failed)?;
            }
            Ok(())
        })();
        let _ = self.file.unlock();
        result
    }
}
