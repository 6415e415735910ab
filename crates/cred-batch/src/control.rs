//! How a run is steered and watched: [`Stop`] (Ctrl-C, early stops), [`Tally`] (running
//! counts) and [`Progress`] (what a display is told).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::run::Plan;

/// Why a run stopped before sending every row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StopReason {
    /// An error no later row can escape (`auth`, `insufficient-balance`, ...).
    Kind {
        /// The error kind.
        kind: String,
        /// The row that met it.
        row: u64,
        /// The error's message.
        message: String,
    },
    /// Shared state the calls need (a rate limit or token store on Redis) could not be
    /// used, or the shared rate limit's queue was too long: no later row would be sent
    /// either.
    SharedState {
        /// The row that met it.
        row: u64,
        /// The error's message.
        message: String,
    },
    /// `max_charged` was reached.
    MaxCharged {
        /// The limit.
        limit: u64,
    },
    /// Interrupted (Ctrl-C).
    Interrupted,
    /// The input changed (or could no longer be read) while the run read it for sending:
    /// a row no longer matches its plan.
    Input {
        /// What happened.
        message: String,
    },
    /// The journal could not be written.
    Journal {
        /// Why.
        message: String,
    },
}

/// Asks a run to stop sending (shared with a Ctrl-C handler, for example).
#[derive(Debug)]
pub struct Stop {
    tx: watch::Sender<bool>,
    reason: Mutex<Option<StopReason>>,
}

impl Default for Stop {
    fn default() -> Self {
        Self {
            tx: watch::channel(false).0,
            reason: Mutex::new(None),
        }
    }
}

impl Stop {
    /// A handle nobody has pulled yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stops new sends; the first reason given is kept.
    pub fn request(&self, reason: StopReason) {
        if let Ok(mut r) = self.reason.lock()
            && r.is_none()
        {
            *r = Some(reason);
        }
        self.tx.send_replace(true);
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        *self.tx.borrow()
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    pub(crate) async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Running counts of this run's calls, for progress displays.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Tally {
    /// Calls finished whose request may have reached the provider.
    pub sent: AtomicU64,
    /// Calls that failed before their request left (not counted in `sent`).
    pub unsent: AtomicU64,
    /// Answered with a record.
    pub found: AtomicU64,
    /// Answered without one.
    pub not_found: AtomicU64,
    /// Charged (answers and errors the provider billed).
    pub charged: AtomicU64,
    /// Failed calls.
    pub errors: AtomicU64,
    /// Requests in flight.
    pub in_flight: AtomicU64,
}

impl Tally {
    pub(crate) fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}

/// What a progress display is told.
pub trait Progress: Send + Sync {
    /// The plan is known; `plan.to_send` calls follow.
    fn start(&self, plan: &Plan) {
        let _ = plan;
    }

    /// A call finished (or a stop was requested); `tally` holds the counts so far.
    fn update(&self, tally: &Tally) {
        let _ = tally;
    }
}

/// No display.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
