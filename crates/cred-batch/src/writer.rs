//! The journal's writer: one thread owns the database connection and commits what the
//! callers send in groups (one `fsync` for every request marked `sending` or answered
//! meanwhile), acknowledging each only once it is durable.

use std::thread::JoinHandle;

use cred_core::Error;
use tokio::sync::{mpsc, oneshot};

use crate::journal::{Journal, Record};

/// Most commands committed in one transaction.
const GROUP: usize = 512;

enum Command {
    Sending(Vec<u64>, oneshot::Sender<Result<(), Error>>),
    Record(u64, Box<Record>, oneshot::Sender<Result<(), Error>>),
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
}

impl Writer {
    /// Moves `journal` to its own thread.
    pub(crate) fn start(journal: Journal) -> Result<Self, Error> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("cred-batch-journal".to_owned())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    while group.len() < GROUP {
                        match rx.try_recv() {
                            Ok(c) => group.push(c),
                            Err(_) => break,
                        }
                    }
                    commit(&journal, group);
                }
                journal
            })
            .map_err(|e| Error::config(format!("cannot start the journal thread: {e}")))?;
        Ok(Self {
            handle: WriterHandle { tx },
            thread,
        })
    }

    /// A handle for a task.
    pub(crate) fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// Stops the thread (once every handle is gone) and returns the journal.
    pub(crate) fn finish(self) -> Result<Journal, Error> {
        drop(self.handle);
        self.thread
            .join()
            .map_err(|_| Error::config("the journal thread panicked"))
    }
}

impl WriterHandle {
    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), Error>>) -> Command,
    ) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(make(ack))
            .map_err(|_| Error::config("the journal thread stopped"))?;
        done.await
            .map_err(|_| Error::config("the journal thread stopped"))?
    }

    /// Marks `rows` as `sending`; returns once that is on disk.
    pub(crate) async fn sending(&self, rows: Vec<u64>) -> Result<(), Error> {
        self.ask(|ack| Command::Sending(rows, ack)).await
    }

    /// Records `row`'s outcome; returns once it is on disk.
    pub(crate) async fn record(&self, row: u64, record: Record) -> Result<(), Error> {
        self.ask(|ack| Command::Record(row, Box::new(record), ack))
            .await
    }
}

fn commit(journal: &Journal, group: Vec<Command>) {
    let mut results = Vec::with_capacity(group.len());
    let begun = journal.begin();
    for command in &group {
        let r = match (&begun, command) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Command::Sending(rows, _)) => {
                rows.iter().try_for_each(|row| journal.mark_sending(*row))
            }
            (Ok(()), Command::Record(row, record, _)) => journal.record(*row, record),
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
        let ack = match command {
            Command::Sending(_, ack) | Command::Record(_, _, ack) => ack,
        };
        let _ = ack.send(result);
    }
}
