//! [`Ledger`]: the writing side. One writer thread per open ledger takes records from a
//! channel and commits whatever has queued in one transaction (a group commit), so that
//! concurrent calls share a commit instead of paying one each.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::entry::Entry;
use crate::error::Error;
use crate::head::{self, Head};
use crate::store::{self, Paths};

/// How an open ledger writes.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LedgerOptions {
    /// The key file (default: `<ledger>.key`).
    pub key: Option<PathBuf>,
    /// Refuse records without a purpose ([`Ledger::check_purpose`] says so before a call).
    pub require_purpose: bool,
    /// Sync every group commit to disk (SQLite `synchronous = FULL`): a power loss or an
    /// operating-system crash then loses nothing committed either. Off by default: a
    /// commit then survives the process's crash (it is in the operating system's hands)
    /// but not a power loss.
    pub fsync: bool,
}

impl LedgerOptions {
    /// The key file at `path` instead of `<ledger>.key`.
    pub fn key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }

    /// Whether a purpose is required.
    pub fn require_purpose(mut self, required: bool) -> Self {
        self.require_purpose = required;
        self
    }

    /// Whether each group commit is synced to disk.
    pub fn fsync(mut self, fsync: bool) -> Self {
        self.fsync = fsync;
        self
    }
}

/// How long a commit waits for more records when calls are concurrent.
const GATHER: std::time::Duration = std::time::Duration::from_micros(200);

enum Job {
    Append(Box<Entry>, oneshot::Sender<Result<i64, Error>>),
}

/// An open audit ledger. Cheap to clone; all clones share one writer thread, which
/// stops when the last clone is dropped (after committing what was queued).
///
/// ```
/// use cred_ledger::{Entry, Ledger, LedgerOptions, Outcome, SubjectKind};
/// use cred_core::Charged;
///
/// let dir = std::env::temp_dir().join(format!("ledger-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("audit.ledger");
/// let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
/// let entry = Entry::new("cli:alice", "jumdata", "credential", Outcome::Found, Charged::Yes)
///     .purpose(Some("onboarding check"))
///     .subject(SubjectKind::IdNumber, "321083197812162119")
///     .subject(SubjectKind::Name, "王小明");
/// let seq = ledger.record(entry).wait().unwrap();
/// assert_eq!(seq, 1);
/// drop(ledger);
/// let report = cred_ledger::verify(&path, None).unwrap();
/// assert!(report.is_ok());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    /// Why the writer stopped writing (a failed commit), once it has.
    broken: Arc<Mutex<Option<Error>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    path: PathBuf,
    require_purpose: bool,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.inner.path)
            .field("require_purpose", &self.inner.require_purpose)
            .finish()
    }
}

/// A record on its way to the ledger: wait for its commit with [`Pending::wait`]
/// (blocking) or `.await` [`Pending::committed`].
#[derive(Debug)]
#[must_use = "a record is only known to be in the ledger once its commit is waited for"]
pub struct Pending {
    receiver: Result<oneshot::Receiver<Result<i64, Error>>, Error>,
}

impl Pending {
    /// Waits for the commit; returns the record's seq. Blocking: not for an async
    /// context (use [`Pending::committed`] there).
    pub fn wait(self) -> Result<i64, Error> {
        self.receiver?.blocking_recv().unwrap_or_else(|_| {
            Err(Error::Stopped(
                "it ended before committing the record".into(),
            ))
        })
    }

    /// Waits for the commit without blocking the thread; returns the record's seq.
    /// Cancel-safe: dropping it leaves the record queued, and it is still committed.
    pub async fn committed(self) -> Result<i64, Error> {
        self.receiver?.await.unwrap_or_else(|_| {
            Err(Error::Stopped(
                "it ended before committing the record".into(),
            ))
        })
    }
}

impl Ledger {
    /// Opens the ledger at `path`, creating it and its key (both owner-only) when
    /// neither exists. A ledger without its key, a key without its ledger, or a key of
    /// another ledger is an error: a ledger is never started afresh where one was.
    pub fn open(path: impl AsRef<Path>, options: LedgerOptions) -> Result<Self, Error> {
        let paths = Paths::new(path.as_ref(), options.key.as_deref());
        let (mut conn, keys) = store::open_for_writing(&paths, options.fsync)?;
        let head_file = head::HeadFile::open(&paths.head)?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let fsync = options.fsync;
        let thread_paths = paths.clone();
        let broken: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
        let thread_broken = broken.clone();
        let writer = std::thread::Builder::new()
            .name("cred-ledger".into())
            .spawn(move || {
                let mut failed: Option<Error> = None;
                // How many records the last commit took: when calls are concurrent
                // (more than one), the next commit waits a little for more of them,
                // so that a commit's fixed cost is shared by more records.
                let mut last_group = 1usize;
                while let Ok(first) = receiver.recv() {
                    let mut jobs = vec![first];
                    let gather_until = (last_group > 1).then(|| std::time::Instant::now() + GATHER);
                    while jobs.len() < 4096 {
                        match receiver.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(mpsc::TryRecvError::Disconnected) => break,
                            Err(mpsc::TryRecvError::Empty) => match gather_until {
                                Some(until) if jobs.len() < last_group => {
                                    let now = std::time::Instant::now();
                                    if now >= until {
                                        break;
                                    }
                                    match receiver.recv_timeout(until - now) {
                                        Ok(job) => jobs.push(job),
                                        Err(_) => break,
                                    }
                                }
                                _ => break,
                            },
                        }
                    }
                    last_group = jobs.len();
                    let (entries, replies): (Vec<Entry>, Vec<_>) = jobs
                        .into_iter()
                        .map(|Job::Append(entry, reply)| (*entry, reply))
                        .unzip();
                    if let Some(e) = &failed {
                        for reply in replies {
                            let _ = reply.send(Err(Error::Stopped(e.to_string())));
                        }
                        continue;
                    }
                    let written = store::append(&mut conn, &thread_paths, &keys, &entries)
                        .and_then(|(seqs, last, mac)| {
                            head_file
                                .advance(&keys, &Head::new(&keys, last, &mac), fsync)
                                .map(|()| seqs)
                        });
                    match written {
                        Ok(seqs) => {
                            for (reply, seq) in replies.into_iter().zip(seqs) {
                                let _ = reply.send(Ok(seq));
                            }
                        }
                        Err(e) => {
                            // Marked broken before anyone hears of the failure: a caller
                            // told its record failed finds the ledger refusing calls.
                            if let Ok(mut b) = thread_broken.lock() {
                                *b = Some(e.clone());
                            }
                            for reply in replies {
                                let _ = reply.send(Err(e.clone()));
                            }
                            failed = Some(e);
                        }
                    }
                }
            })
            .map_err(|e| Error::io("cannot start the writer of the ledger", &paths.db, e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                sender: Mutex::new(Some(sender)),
                broken,
                writer: Mutex::new(Some(writer)),
                path: paths.db,
                require_purpose: options.require_purpose,
            }),
        })
    }

    /// Whether the ledger still writes: after a commit fails (a full disk, a damaged
    /// file), every later record is refused, and this says why. Check it before a paid
    /// call that must be recorded ([`Ledger::audit`] does).
    pub fn check_writable(&self) -> Result<(), Error> {
        match self.inner.broken.lock().ok().and_then(|b| b.clone()) {
            Some(e) => Err(Error::Stopped(e.to_string())),
            None => Ok(()),
        }
    }

    /// The ledger's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks a call's purpose before the call is made: with
    /// [`LedgerOptions::require_purpose`], a missing or blank one is an error.
    pub fn check_purpose(&self, purpose: Option<&str>) -> Result<(), Error> {
        if self.inner.require_purpose && purpose.is_none_or(|p| p.trim().is_empty()) {
            return Err(Error::Invalid(
                "a purpose is required for every call recorded in this ledger (--purpose, a purpose column, or X-Credkit-Purpose)".into(),
            ));
        }
        Ok(())
    }

    /// Queues `entry` for the next group commit.
    pub fn record(&self, entry: Entry) -> Pending {
        let receiver = self.check_purpose(entry.purpose.as_deref()).and_then(|()| {
            let (reply, receiver) = oneshot::channel();
            let sender = self
                .inner
                .sender
                .lock()
                .map_err(|_| Error::Stopped("its lock is poisoned".into()))?;
            sender
                .as_ref()
                .ok_or_else(|| Error::Stopped("the ledger was closed".into()))?
                .send(Job::Append(Box::new(entry), reply))
                .map_err(|_| Error::Stopped("its thread ended".into()))?;
            Ok(receiver)
        });
        Pending { receiver }
    }

    /// Makes `call` (an SDK call for `request`) and records it: its outcome and charge,
    /// its latency, `purpose`, and whom `request` is about ([`Entry::about`]). The
    /// record is committed before this returns; its result comes second (the call was
    /// made either way, so a record that could not be written must not hide the
    /// answer). A ledger that no longer writes ([`Ledger::check_writable`]) refuses the
    /// call before it is made (a configuration error; `call` is dropped unpolled). The
    /// hook a Rust service uses to write the same ledger as `cred`:
    ///
    /// ```no_run
    /// # async fn run(client: jumdata_api::Client, ledger: cred_ledger::Ledger) {
    /// let request = jumdata_api::CredentialQuery::new("王小明", "321083197812162119");
    /// let (answer, recorded) = ledger
    ///     .audit("hr-service", Some("onboarding"), "jumdata", "credential", &request,
    ///         client.credential_query(&request))
    ///     .await;
    /// # let _ = (answer, recorded);
    /// # }
    /// ```
    pub async fn audit<R, T, F>(
        &self,
        caller: &str,
        purpose: Option<&str>,
        provider: &str,
        operation: &str,
        request: &R,
        call: F,
    ) -> (
        Result<cred_core::Answer<T>, cred_core::Error>,
        Result<i64, Error>,
    )
    where
        R: cred_core::ApiRequest,
        F: std::future::Future<Output = Result<cred_core::Answer<T>, cred_core::Error>>,
    {
        // A ledger that no longer writes refuses the call before it is made: a paid
        // call that cannot be recorded is not made.
        if let Err(e) = self.check_writable() {
            return (
                Err(cred_core::Error::config(format!(
                    "the audit ledger {} cannot be written, so the call was not made: {e}",
                    self.inner.path.display()
                ))),
                Err(e),
            );
        }
        let started = std::time::Instant::now();
        let result = call.await;
        let entry = Entry::of_result(caller, provider, operation, &result)
            .purpose(purpose)
            .latency(started.elapsed())
            .about(request);
        let recorded = self.record(entry).committed().await;
        (result, recorded)
    }

    /// Commits what is queued and stops the writer (for every clone). Records queued
    /// later are refused.
    pub fn close(&self) {
        if let Ok(mut sender) = self.inner.sender.lock() {
            sender.take();
        }
        if let Ok(mut writer) = self.inner.writer.lock()
            && let Some(handle) = writer.take()
        {
            let _ = handle.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        if let Ok(mut writer) = self.writer.lock()
            && let Some(handle) = writer.take()
        {
            let _ = handle.join();
        }
    }
}
