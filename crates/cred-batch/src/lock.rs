//! One run per journal: an exclusive advisory lock on `<journal>.lock`, taken before the
//! journal or its key file is created or opened and held until the journal is closed.
//! The kernel drops the lock when the process ends, however it ends, so a run killed
//! with SIGKILL never leaves a stale lock behind; the file itself stays (removing it
//! would let two runs lock two different files of the same name).

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The lock file beside a journal.
pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The held lock of one journal (released when dropped, or when the process ends).
#[derive(Debug)]
pub(crate) struct JournalLock {
    _file: File,
}

impl JournalLock {
    /// Takes the lock of `journal` without waiting: [`Error::Locked`] (with the holder's
    /// process id) when another run holds it.
    pub(crate) fn take(journal: &Path) -> Result<Self, Error> {
        let path = lock_path(journal);
        let mut file = crate::journal::open_private(&path, false)
            .map_err(|e| Error::io(format!("cannot create the lock file {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(Error::Locked {
                    journal: journal.to_owned(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", path.display()), e));
            }
        }
        // Ours now: say who holds it.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(Self { _file: file })
    }
}
