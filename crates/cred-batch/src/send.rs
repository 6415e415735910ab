//! The sender: pending rows, in input order, at most `concurrency` in flight. Rows are
//! taken in groups as permits free up; a group is marked `sending` in one commit (one
//! `fsync`) and only then are its requests started, so every request that leaves is on
//! disk first, without an `fsync` per row.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cred_core::{ApiRequest, Charged, TransportFailure};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::control::{Progress, Stop, StopReason, Tally};
use crate::error::Error;
use crate::input::{Input, Rows};
use crate::journal::{Journal, STOP_KINDS, Sealer};
use crate::operation::{Operation, record};
use crate::row::{Row, RowRead};
use crate::run::{Settings, identity};
use crate::writer::{Writer, WriterHandle};

/// Batches of requests read ahead of the sender at most.
const AHEAD: usize = 16;
/// Requests handed over at once (one wake-up of the sender per batch, not per row).
const BATCH: usize = 128;

/// The rows to send, with their requests, as the reader thread hands them over, and
/// the thread (joined before the run ends: it holds a connection to the journal).
type Ahead<R> = (Reader<R>, std::thread::JoinHandle<()>);

/// The sender's end of the reader thread's channel, with the batch being taken.
struct Reader<R> {
    rx: mpsc::Receiver<Vec<Result<(u64, R), Error>>>,
    batch: VecDeque<Result<(u64, R), Error>>,
}

impl<R> Reader<R> {
    /// The next row, waiting for the reader thread when `wait`; `Ok(None)` at the end,
    /// `Err(())` when none is ready and `!wait`.
    async fn next(&mut self, wait: bool) -> Result<Option<Result<(u64, R), Error>>, ()> {
        if self.batch.is_empty() {
            let got = if wait {
                self.rx.recv().await
            } else {
                match self.rx.try_recv() {
                    Ok(batch) => Some(batch),
                    Err(mpsc::error::TryRecvError::Empty) => return Err(()),
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            };
            match got {
                Some(batch) => self.batch.extend(batch),
                None => return Ok(None),
            }
        }
        Ok(self.batch.pop_front())
    }
}

/// Most rows marked `sending` in one commit.
const GROUP: usize = 256;

/// What the sender works with.
pub(crate) struct Sending<'a, O: Operation> {
    pub(crate) op: &'a Arc<O>,
    pub(crate) input: &'a Input,
    pub(crate) settings: &'a Settings,
    pub(crate) reader: Journal,
    pub(crate) writer: &'a Writer,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) stop: &'a Arc<Stop>,
    pub(crate) tally: &'a Arc<Tally>,
}

/// The pending rows of the journal joined with their rows in the input, in order.
struct Pending<'a> {
    reader: &'a Journal,
    rows: Rows,
    chunk: VecDeque<(u64, [u8; 32])>,
    after: u64,
}

impl Pending<'_> {
    fn next(&mut self) -> Result<Option<(u64, [u8; 32], Row)>, Error> {
        if self.chunk.is_empty() {
            self.chunk = self.reader.pending_after(self.after, 1000)?.into();
        }
        let Some((number, key)) = self.chunk.pop_front() else {
            return Ok(None);
        };
        self.after = number;
        loop {
            match self.rows.next() {
                Some(RowRead::Row(r)) if r.number == number => return Ok(Some((number, key, r))),
                Some(read) if read.number() < number => continue,
                _ => {
                    return Err(Error::input(format!(
                        "row {number} is no longer in the input: the input changed during the run"
                    )));
                }
            }
        }
    }
}

/// Reads the pending rows joined with the input, and builds and checks their requests,
/// on a thread of its own (file and database reads never run on the runtime's threads),
/// handing them over a bounded channel; `None` ends the rows.
fn read_ahead<O: Operation>(
    op: Arc<O>,
    input: Input,
    reader: Journal,
) -> Result<Ahead<O::Request>, Error> {
    let (tx, rx) = mpsc::channel(AHEAD);
    let thread = std::thread::Builder::new()
        .name("cred-batch-reader".to_owned())
        .spawn(move || {
            let rows = match input.rows() {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = tx.blocking_send(vec![Err(e)]);
                    return;
                }
            };
            let mut pending = Pending {
                reader: &reader,
                rows,
                chunk: VecDeque::new(),
                after: 0,
            };
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let next = match pending.next() {
                    Ok(Some((number, key, row))) => op
                        .request(&row)
                        .and_then(|r| {
                            r.validate()?;
                            op.check(&r)?;
                            Ok(r)
                        })
                        .map_err(Error::from)
                        .and_then(|request| {
                            if identity(op.as_ref(), &reader, &request) == key {
                                Ok((number, request))
                            } else {
                                Err(Error::input(format!(
                                    "row {number} of the input changed during the run"
                                )))
                            }
                        }),
                    Ok(None) => {
                        if !batch.is_empty() {
                            let _ = tx.blocking_send(batch);
                        }
                        return;
                    }
                    Err(e) => Err(e),
                };
                let failed = next.is_err();
                batch.push(next);
                if (batch.len() >= BATCH || failed || pending.chunk.is_empty())
                    && tx.blocking_send(std::mem::take(&mut batch)).is_err()
                {
                    return;
                }
                if failed {
                    return;
                }
            }
        })
        .map_err(|e| Error::io("cannot start the batch's reader thread", e))?;
    Ok((
        Reader {
            rx,
            batch: VecDeque::new(),
        },
        thread,
    ))
}

/// Sends every pending row (or until a stop), then waits for the requests in flight
/// (bounded by the drain timeout).
pub(crate) async fn send<O: Operation>(s: Sending<'_, O>) -> Result<(), Error> {
    let semaphore = Arc::new(Semaphore::new(s.settings.concurrency.max(1)));
    let finished = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    let sealer = s.reader.sealer();
    let (mut pending, reader) = read_ahead(s.op.clone(), s.input.clone(), s.reader)?;
    let handle = s.writer.handle();
    let mut exhausted = false;
    let mut failed: Option<Error> = None;
    while !exhausted && failed.is_none() && !s.stop.requested() {
        if let Some(message) = handle.failed() {
            s.stop.request(StopReason::Journal { message });
            break;
        }
        // Wait for one permit, then take every other free one.
        let first = tokio::select! {
            permit = semaphore.clone().acquire_owned() => permit.map_err(|_| Error::journal("the batch was closed"))?,
            () = s.stop.wait() => break,
        };
        let mut permits = vec![first];
        while permits.len() < GROUP {
            match semaphore.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        while let Some(done) = tasks.try_join_next() {
            done.map_err(|e| Error::journal(format!("a batch task failed: {e}")))?;
        }
        // As many rows as permits, within --max-charged.
        let mut group: Vec<(u64, O::Request, OwnedSemaphorePermit)> = Vec::new();
        for permit in permits {
            if let Some(limit) = s.settings.max_charged
                && !charge_room(s.tally, &finished, s.stop, limit, group.len() as u64).await
            {
                break;
            }
            if s.stop.requested() {
                break;
            }
            // The first row of a group is waited for; the rest are taken as far as
            // they are read already (a group is not held back for more).
            let next = match pending.next(group.is_empty()).await {
                Ok(next) => next,
                Err(()) => break,
            };
            let Some(next) = next else {
                exhausted = true;
                break;
            };
            match next {
                Ok((number, request)) => group.push((number, request, permit)),
                Err(e) => {
                    // Stop sending, but let the requests in flight finish first.
                    failed = Some(e);
                    break;
                }
            }
        }
        if group.is_empty() || failed.is_some() {
            continue;
        }
        // Durable before any of these requests leaves; a journal that cannot take the
        // marks (a full disk) stops the run, and these rows stay unsent.
        let numbers: Vec<u64> = group.iter().map(|(n, _, _)| *n).collect();
        if let Err(e) = handle.sending(numbers).await {
            s.stop.request(StopReason::Journal {
                message: e.to_string(),
            });
            break;
        }
        for (number, request, permit) in group {
            s.tally.in_flight.fetch_add(1, Ordering::Relaxed);
            tasks.spawn(call(
                s.op.clone(),
                number,
                request,
                permit,
                Shared {
                    writer: handle.clone(),
                    sealer: sealer.clone(),
                    tally: s.tally.clone(),
                    stop: s.stop.clone(),
                    finished: finished.clone(),
                },
            ));
        }
        s.progress.update(s.tally);
    }
    // The reader stops at its next row (nobody takes it) and closes its connection.
    drop(pending);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    // Let the requests in flight finish (bounded); those that do not stay `sending`.
    let drain = async {
        while let Some(done) = tasks.join_next().await {
            s.progress.update(s.tally);
            if let Err(e) = done {
                tracing::warn!(error = %e, "a batch task failed");
            }
        }
    };
    if tokio::time::timeout(s.settings.drain_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            in_flight = Tally::get(&s.tally.in_flight),
            "requests still in flight after the drain timeout: left `sending` (reported unknown on the next run)"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whether one more paid request fits under `limit` beside `queued` ones not yet in
/// flight; waits while requests in flight may still free room; requests the stop when
/// the limit is reached.
async fn charge_room(
    tally: &Tally,
    finished: &tokio::sync::Notify,
    stop: &Stop,
    limit: u64,
    queued: u64,
) -> bool {
    loop {
        let in_flight = Tally::get(&tally.in_flight) + queued;
        if Tally::get(&tally.charged) + in_flight < limit {
            return true;
        }
        if in_flight == 0 {
            stop.request(StopReason::MaxCharged { limit });
            return false;
        }
        if queued > 0 || stop.requested() {
            // Send what is queued first; the next group waits.
            return false;
        }
        let notified = finished.notified();
        if Tally::get(&tally.in_flight) == 0 {
            continue;
        }
        notified.await;
    }
}

/// What a call's task shares with the sender.
struct Shared {
    writer: WriterHandle,
    sealer: Sealer,
    tally: Arc<Tally>,
    stop: Arc<Stop>,
    finished: Arc<tokio::sync::Notify>,
}

async fn call<O: Operation>(
    op: Arc<O>,
    number: u64,
    request: O::Request,
    permit: OwnedSemaphorePermit,
    s: Shared,
) {
    let site = request.endpoint().site;
    let outcome = op.call(&request).await;
    let mut rec = record(op.provider(), &outcome);
    if let Ok(answer) = &outcome {
        rec.licence_status = op.licence_status(answer.meta());
    }
    // Whether this call's own request may have left (a failure before it, of the shared
    // state or of a token request, sent nothing and is not counted as sent).
    let left = match &outcome {
        Ok(_) => true,
        Err(e) => !e.nothing_sent() && e.site() == Some(site),
    };
    match &outcome {
        Ok(answer) => {
            let counter = if answer.found() {
                &s.tally.found
            } else {
                &s.tally.not_found
            };
            counter.fetch_add(1, Ordering::Relaxed);
            if answer.charged() == Charged::Yes {
                s.tally.charged.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(e) => {
            s.tally.errors.fetch_add(1, Ordering::Relaxed);
            if e.charged() == Charged::Yes {
                s.tally.charged.fetch_add(1, Ordering::Relaxed);
            }
            let kind = e.kind().as_str();
            if matches!(
                e.transport_failure(),
                Some(TransportFailure::SharedState | TransportFailure::QueueFull)
            ) {
                s.stop.request(StopReason::SharedState {
                    row: number,
                    message: e.to_string(),
                });
            } else if STOP_KINDS.contains(&kind) {
                s.stop.request(StopReason::Kind {
                    kind: kind.to_owned(),
                    row: number,
                    message: e.to_string(),
                });
            }
        }
    }
    // Queued for the journal (a process dying before that commit leaves the row
    // `sending`, which a resume reports as unknown: never as unsent); the slot is free
    // for the next row.
    match s.sealer.seal(number, &rec.outcome) {
        Ok(sealed) => s.writer.record(number, rec, sealed),
        Err(e) => s.stop.request(StopReason::Journal {
            message: e.to_string(),
        }),
    }
    if left {
        s.tally.sent.fetch_add(1, Ordering::Relaxed);
    } else {
        s.tally.unsent.fetch_add(1, Ordering::Relaxed);
    }
    s.tally.in_flight.fetch_sub(1, Ordering::Relaxed);
    drop(permit);
    s.finished.notify_waiters();
}
