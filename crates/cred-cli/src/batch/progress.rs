//! What a running batch shows on stderr: a progress bar on a terminal (`indicatif`),
//! otherwise a plain status line every few seconds (logs, CI, `nohup`).

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cred_batch::{Plan, Progress, Tally};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the plain status line is printed.
const EVERY: Duration = Duration::from_secs(5);

/// The display of one run.
pub struct Display {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Option<Instant>>,
    total: Mutex<u64>,
}

impl Display {
    /// A bar on a terminal, status lines otherwise; nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} rows · {per_sec} · ETA {eta} · {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            last_line: Mutex::new(if quiet { None } else { Some(Instant::now()) }),
            total: Mutex::new(0),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn counts(t: &Tally) -> String {
    format!(
        "found {} · not found {} · charged {} · errors {}",
        t.found.load(Ordering::Relaxed),
        t.not_found.load(Ordering::Relaxed),
        t.charged.load(Ordering::Relaxed),
        t.errors.load(Ordering::Relaxed)
    )
}

impl Progress for Display {
    fn start(&self, plan: &Plan) {
        if let Ok(mut t) = self.total.lock() {
            *t = plan.to_send;
        }
        if let Some(bar) = &self.bar {
            bar.set_length(plan.to_send);
            bar.reset_eta();
        }
    }

    fn update(&self, tally: &Tally) {
        let sent = tally.sent.load(Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_position(sent);
            bar.set_message(counts(tally));
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        let Some(at) = *last else {
            return; // quiet
        };
        if at.elapsed() < EVERY {
            return;
        }
        *last = Some(Instant::now());
        let total = self.total.lock().map(|t| *t).unwrap_or(0);
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = sent as f64 / elapsed.max(0.001);
        let eta = if rate > 0.0 && total > sent {
            format!("{:.0} s", (total - sent) as f64 / rate)
        } else {
            "-".to_owned()
        };
        crate::output::err(&format!(
            "batch: {sent}/{total} rows · {rate:.1} rows/s · ETA {eta} · {}\n",
            counts(tally)
        ));
    }
}
