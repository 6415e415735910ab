//! The journal's writer: one thread owns the database connection and commits what the
//! callers send in groups.
//!
//! - Rows marked `sending` are committed with `synchronous=FULL` (an `fsync` of the WAL)
//!   and acknowledged only then: the sender starts their requests after the
//!   acknowledgement, so every request that leaves is on disk first.
//! - Outcomes are queued without waiting and committed with `synchronous=NORMAL`: on
//!   disk against a crash of the process at once, and against a crash of the machine
//!   at the next `sending` commit's `fsync` (which covers everything before it). An
//!   outcome lost to a machine crash leaves its row `sending`, reported `unknown` and
//!   never sent again unasked.
//! - A full disk: a run keeps a reserve file beside the journal (8 MiB by default). When
//!   a commit fails for want of space, the reserve is given up and the outcomes are
//!   committed again (the `sending` marks of that commit are refused: their requests
//!   never leave), and the run stops. Every answer already received is recorded.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::error::Error;
use crate::journal::{Journal, Record};

/// The reserve file beside a journal.
pub(crate) fn reserve_path(journal: &Path) -> PathBuf {
    crate::keyfile::sibling(journal, ".reserve")
}

/// Disk space set aside beside the journal for the end of a run: given up when the disk
/// fills, so the answers of the requests in flight can still be recorded.
#[derive(Debug)]
pub(crate) struct Reserve {
    path: PathBuf,
    held: bool,
}

impl Reserve {
    /// Writes `bytes` of reserve beside `journal` (a run refuses to start without it).
    pub(crate) fn create(journal: &Path, bytes: u64) -> Result<Self, Error> {
        let path = reserve_path(journal);
        let written = (|| {
            use std::io::Write as _;
            let mut file = crate::journal::create_private(&path)?;
            let block = vec![0u8; 1 << 20];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                file.write_all(&block[..n])?;
                left -= n as u64;
            }
            file.sync_all()
        })();
        match written {
            Ok(()) => Ok(Self { path, held: true }),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                let full = crate::error::is_disk_full(&e);
                Err(Error::Io {
                    message: if full {
                        format!(
                            "not enough free space beside the journal {} to start: a run keeps {} MiB in reserve there so that a full disk never loses an answer (free some space)",
                            journal.display(),
                            bytes >> 20
                        )
                    } else {
                        format!("cannot write {}: {e}", path.display())
                    },
                    disk_full: full,
                    source: Some(Arc::new(e)),
                })
            }
        }
    }

    /// Gives the space back; `false` when it was given up already.
    fn release(&mut self) -> bool {
        let held = std::mem::replace(&mut self.held, false);
        if held {
            let _ = std::fs::remove_file(&self.path);
        }
        held
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.release();
    }
}

/// How the journal's writer ended.
pub(crate) struct Finished {
    /// The journal, back from the writer thread.
    pub(crate) journal: Journal,
    /// The first error writing to it (the run stopped on it).
    pub(crate) failure: Option<Error>,
}

/// Most commands committed in one transaction.
const GROUP: usize = 1024;

enum Command {
    Sending(Vec<u64>, oneshot::Sender<Result<(), Error>>),
    Record(u64, Box<(Record, Vec<u8>)>),
}

/// The writer thread; [`WriterHandle`]s send it work.
pub(crate) struct Writer {
    handle: WriterHandle,
    thread: JoinHandle<Journal>,
}

/// Sends work to the writer thread (cheap to clone, one per task).
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::UnboundedSender<Command>,
    error: Arc<Mutex<Option<Error>>>,
}

impl Writer {
    /// Moves `journal` to its own thread, with the run's disk `reserve`.
    pub(crate) fn start(journal: Journal, reserve: Option<Reserve>) -> Result<Self, Error> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let error = Arc::new(Mutex::new(None));
        let thread_error = error.clone();
        let thread = std::thread::Builder::new()
            .name("cred-batch-journal".to_owned())
            .spawn(move || {
                let mut full = true;
                let mut reserve = reserve;
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    while group.len() < GROUP {
                        match rx.try_recv() {
                            Ok(c) => group.push(c),
                            Err(_) => break,
                        }
                    }
                    commit(&journal, group, &mut full, &thread_error, &mut reserve);
                }
                drop(reserve);
                journal
            })
            .map_err(|e| Error::io("cannot start the journal thread", e))?;
        Ok(Self {
            handle: WriterHandle { tx, error },
            thread,
        })
    }

    /// A handle for a task.
    pub(crate) fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// Stops the thread (once every handle is gone and everything queued is
    /// committed; blocking: call it off the runtime's threads) and returns the journal
    /// with the first error writing to it.
    pub(crate) fn finish(self) -> Result<Finished, Error> {
        let error = self.handle.error.clone();
        drop(self.handle);
        let journal = self
            .thread
            .join()
            .map_err(|_| Error::journal("the journal thread panicked"))?;
        Ok(Finished {
            journal,
            failure: error.lock().ok().and_then(|mut e| e.take()),
        })
    }
}

impl WriterHandle {
    /// Marks `rows` as `sending`; returns once that is on disk (`fsync`ed).
    pub(crate) async fn sending(&self, rows: Vec<u64>) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::Sending(rows, ack))
            .map_err(|_| Error::journal("the journal thread stopped"))?;
        done.await
            .map_err(|_| Error::journal("the journal thread stopped"))?
    }

    /// Queues `row`'s outcome (`sealed`: its outcome sealed with the journal's
    /// [`crate::journal::Sealer`]). An error writing it is kept for [`Writer::finish`]
    /// and [`WriterHandle::failed`].
    pub(crate) fn record(&self, row: u64, record: Record, sealed: Vec<u8>) {
        if self
            .tx
            .send(Command::Record(row, Box::new((record, sealed))))
            .is_err()
        {
            self.fail(Error::journal("the journal thread stopped"));
        }
    }

    /// Whether writing an outcome failed (the run should stop).
    pub(crate) fn failed(&self) -> Option<String> {
        self.error
            .lock()
            .ok()
            .and_then(|e| e.as_ref().map(ToString::to_string))
    }

    fn fail(&self, e: Error) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
    }
}

fn commit(
    journal: &Journal,
    group: Vec<Command>,
    full: &mut bool,
    error: &Mutex<Option<Error>>,
    reserve: &mut Option<Reserve>,
) {
    let keep = |e: &Error| {
        if let Ok(mut slot) = error.lock() {
            slot.get_or_insert(e.clone());
        }
    };
    let wants_full = group.iter().any(|c| matches!(c, Command::Sending(..)));
    if wants_full != *full {
        match journal.set_full_sync(wants_full) {
            Ok(()) => *full = wants_full,
            Err(e) => keep(&e),
        }
    }
    let (results, committed) = write(journal, &group, true);
    let (results, committed) = match &committed {
        Err(Error::Io {
            disk_full: true, ..
        }) if reserve.as_mut().is_some_and(Reserve::release) => {
            // Out of space: the reserve is given up, the outcomes written again; the
            // `sending` marks are refused (those requests never leave); the run stops.
            if let Err(e) = &committed {
                keep(e);
            }
            let (retried, again) = write(journal, &group, false);
            if let Err(e) = &again {
                keep(e);
            }
            (retried, again)
        }
        _ => (results, committed),
    };
    for (command, result) in group.into_iter().zip(results) {
        let result = match (&committed, result) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), r) => r,
        };
        match command {
            Command::Sending(_, ack) => {
                let _ = ack.send(result);
            }
            Command::Record(..) => {
                if let Err(e) = result {
                    keep(&e);
                }
            }
        }
    }
}

/// One transaction of `group` (with `sending` marks unless `!marks`, when they are
/// refused): each command's result, and the commit's.
fn write(
    journal: &Journal,
    group: &[Command],
    marks: bool,
) -> (Vec<Result<(), Error>>, Result<(), Error>) {
    let mut results = Vec::with_capacity(group.len());
    let begun = journal.begin();
    for command in group {
        let r = match (&begun, command) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Command::Sending(..)) if !marks => Err(Error::Io {
                message: "the disk is full: no more rows are sent".to_owned(),
                disk_full: true,
                source: None,
            }),
            (Ok(()), Command::Sending(rows, _)) => {
                rows.iter().try_for_each(|row| journal.mark_sending(*row))
            }
            (Ok(()), Command::Record(row, record)) => {
                journal.record_sealed(*row, &record.0, &record.1)
            }
        };
        results.push(r);
    }
    let committed = match begun {
        Ok(()) => journal.commit(),
        Err(e) => Err(e),
    };
    if committed.is_err() {
        let _ = journal.rollback();
    }
    (results, committed)
}
