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

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use cred_core::Error;
use tokio::sync::{mpsc, oneshot};

use crate::journal::{Journal, Record};

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
    /// Moves `journal` to its own thread.
    pub(crate) fn start(journal: Journal) -> Result<Self, Error> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let error = Arc::new(Mutex::new(None));
        let thread_error = error.clone();
        let thread = std::thread::Builder::new()
            .name("cred-batch-journal".to_owned())
            .spawn(move || {
                let mut full = true;
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    while group.len() < GROUP {
                        match rx.try_recv() {
                            Ok(c) => group.push(c),
                            Err(_) => break,
                        }
                    }
                    commit(&journal, group, &mut full, &thread_error);
                }
                journal
            })
            .map_err(|e| Error::config(format!("cannot start the journal thread: {e}")))?;
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
    /// committed) and returns the journal, or the first error writing an outcome.
    pub(crate) fn finish(self) -> Result<Journal, Error> {
        let error = self.handle.error.clone();
        drop(self.handle);
        let journal = self
            .thread
            .join()
            .map_err(|_| Error::config("the journal thread panicked"))?;
        match error.lock().ok().and_then(|mut e| e.take()) {
            Some(e) => Err(e),
            None => Ok(journal),
        }
    }
}

impl WriterHandle {
    /// Marks `rows` as `sending`; returns once that is on disk (`fsync`ed).
    pub(crate) async fn sending(&self, rows: Vec<u64>) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::Sending(rows, ack))
            .map_err(|_| Error::config("the journal thread stopped"))?;
        done.await
            .map_err(|_| Error::config("the journal thread stopped"))?
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
            self.fail(Error::config("the journal thread stopped"));
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

fn commit(journal: &Journal, group: Vec<Command>, full: &mut bool, error: &Mutex<Option<Error>>) {
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
    let mut results = Vec::with_capacity(group.len());
    let begun = journal.begin();
    for command in &group {
        let r = match (&begun, command) {
            (Err(e), _) => Err(e.clone()),
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
