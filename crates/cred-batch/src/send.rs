//! The sender: pending rows, in input order, at most `concurrency` in flight. Rows are
//! taken in groups as permits free up; a group is marked `sending` in one commit (one
//! `fsync`) and only then are its requests started, so every request that leaves is on
//! disk first, without an `fsync` per row.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cred_core::{ApiRequest, Charged, Error};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::control::{Progress, Stop, StopReason, Tally};
use crate::input::{Input, Rows};
use crate::journal::{Journal, STOP_KINDS, Sealer};
use crate::operation::{Operation, record};
use crate::row::{Row, RowRead};
use crate::run::{Settings, identity};
use crate::writer::{Writer, WriterHandle};

/// Most rows marked `sending` in one commit.
const GROUP: usize = 256;

/// What the sender works with.
pub(crate) struct Sending<'a, O: Operation> {
    pub(crate) op: &'a Arc<O>,
    pub(crate) input: &'a Input,
    pub(crate) settings: &'a Settings,
    pub(crate) reader: &'a Journal,
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
                    return Err(Error::config(format!(
                        "row {number} is no longer in the input: the input changed during the run"
                    )));
                }
            }
        }
    }
}

/// Sends every pending row (or until a stop), then waits for the requests in flight
/// (bounded by the drain timeout).
pub(crate) async fn send<O: Operation>(s: Sending<'_, O>) -> Result<(), Error> {
    let semaphore = Arc::new(Semaphore::new(s.settings.concurrency.max(1)));
    let finished = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    let mut pending = Pending {
        reader: s.reader,
        rows: s.input.rows()?,
        chunk: VecDeque::new(),
        after: 0,
    };
    let handle = s.writer.handle();
    let sealer = s.reader.sealer();
    let mut exhausted = false;
    while !exhausted && !s.stop.requested() {
        if let Some(message) = handle.failed() {
            s.stop.request(StopReason::Journal { message });
            break;
        }
        // Wait for one permit, then take every other free one.
        let first = tokio::select! {
            permit = semaphore.clone().acquire_owned() => permit.map_err(|_| Error::config("the batch was closed"))?,
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
            done.map_err(|e| Error::config(format!("a batch task failed: {e}")))?;
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
            let Some((number, key, row)) = pending.next()? else {
                exhausted = true;
                break;
            };
            let request = s.op.request(&row).and_then(|r| {
                r.validate()?;
                Ok(r)
            })?;
            if identity(s.op.as_ref(), s.reader, &request) != key {
                return Err(Error::config(format!(
                    "row {number} of the input changed during the run"
                )));
            }
            group.push((number, request, permit));
        }
        if group.is_empty() {
            continue;
        }
        // Durable before any of these requests leaves.
        let numbers: Vec<u64> = group.iter().map(|(n, _, _)| *n).collect();
        if let Err(e) = handle.sending(numbers).await {
            s.stop.request(StopReason::Journal {
                message: e.to_string(),
            });
            return Err(e);
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
    Ok(())
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
    let outcome = op.call(&request).await;
    let rec = record(op.provider(), &outcome);
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
            if STOP_KINDS.contains(&kind) {
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
    s.tally.sent.fetch_add(1, Ordering::Relaxed);
    s.tally.in_flight.fetch_sub(1, Ordering::Relaxed);
    drop(permit);
    s.finished.notify_waiters();
}
