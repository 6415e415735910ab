//! CPU time per call of a client process, measured from outside it: the benchmark runs
//! the same client role twice, with a short and a long run of calls, each in a process
//! of its own, and takes the difference of the CPU time (user + system, from
//! `getrusage(RUSAGE_CHILDREN)` around the child's whole life) divided by the
//! difference of calls. Start-up, connection set-up and warm-up cancel out; what is left
//! is what one more call costs the CPU, caches and branch predictors included, which an
//! instruction count does not weigh.
//!
//! Several rounds alternate the sides (and their order), so that drift of the machine
//! falls on all sides alike; the figures are medians with their range.

use std::process::Command;
use std::time::Duration;

use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::resource::{UsageWho, getrusage};
use nix::unistd::Pid;

/// CPU time of one child process or one call, in microseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// User time.
    pub user: f64,
    /// System time.
    pub sys: f64,
}

impl Cpu {
    /// User + system.
    pub fn total(self) -> f64 {
        self.user + self.sys
    }
}

fn micros(d: nix::sys::time::TimeVal) -> f64 {
    Duration::new(d.tv_sec() as u64, d.tv_usec() as u32 * 1_000).as_secs_f64() * 1e6
}

/// The CPU time of all waited-for children so far.
fn children() -> Cpu {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    Cpu {
        user: micros(usage.user_time()),
        sys: micros(usage.system_time()),
    }
}

/// Runs `command` to completion (it must succeed) and answers the CPU time it used.
pub fn run_child(command: &mut Command) -> Cpu {
    let before = children();
    let status = command.status().unwrap();
    assert!(status.success(), "client process failed: {status}");
    let after = children();
    Cpu {
        user: after.user - before.user,
        sys: after.sys - before.sys,
    }
}

/// A median and the range it came from.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The median and range of `values` (not empty).
    pub fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Self {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2}-{:.2})", self.median, self.min, self.max)
    }
}

/// Per-call CPU of each side, round by round: `rounds` rounds, each running every side
/// once with `short` calls and once with `long` calls (the order of the sides rotating
/// from round to round). `client(side, calls)` builds the client process's command.
/// Answers, per side, one [`Cpu`] per round.
pub fn per_call(
    sides: &[&str],
    rounds: usize,
    short: usize,
    long: usize,
    client: impl Fn(&str, usize) -> Command,
) -> Vec<Vec<Cpu>> {
    assert!(
        long > short,
        "the long run must have more calls than the short one"
    );
    let mut out = vec![Vec::with_capacity(rounds); sides.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..sides.len()).collect();
        order.rotate_left(round % sides.len());
        for i in order {
            let a = run_child(&mut client(sides[i], short));
            let b = run_child(&mut client(sides[i], long));
            let calls = (long - short) as f64;
            out[i].push(Cpu {
                user: (b.user - a.user) / calls,
                sys: (b.sys - a.sys) / calls,
            });
        }
    }
    out
}

/// The spread of the totals (user + system) of one side's rounds.
pub fn totals(rounds: &[Cpu]) -> Spread {
    Spread::of(&rounds.iter().map(|c| c.total()).collect::<Vec<_>>())
}

/// The spread of the round-by-round ratio `a / b` of totals.
pub fn ratios(a: &[Cpu], b: &[Cpu]) -> Spread {
    Spread::of(
        &a.iter()
            .zip(b)
            .map(|(a, b)| a.total() / b.total())
            .collect::<Vec<_>>(),
    )
}

/// The spread of the round-by-round difference `a - b` of totals, in microseconds.
pub fn differences(a: &[Cpu], b: &[Cpu]) -> Spread {
    Spread::of(
        &a.iter()
            .zip(b)
            .map(|(a, b)| a.total() - b.total())
            .collect::<Vec<_>>(),
    )
}

/// `(user, system)` medians of one side's rounds.
pub fn split(rounds: &[Cpu]) -> (f64, f64) {
    (
        Spread::of(&rounds.iter().map(|c| c.user).collect::<Vec<_>>()).median,
        Spread::of(&rounds.iter().map(|c| c.sys).collect::<Vec<_>>()).median,
    )
}

/// With `BENCH_PIN=1`, pins this process (and the threads it starts afterwards) to CPU
/// `cpu` (clients on the first CPU, servers on the last: no migrations, less noise).
/// Call it first thing in a role's process.
pub fn pin_if_asked(cpu: usize) {
    if std::env::var("BENCH_PIN").is_ok_and(|v| v == "1") {
        let mut set = CpuSet::new();
        set.set(cpu).unwrap();
        sched_setaffinity(Pid::from_raw(0), &set).unwrap();
    }
}

/// The last CPU this process may run on (where `BENCH_PIN=1` puts servers).
pub fn last_cpu() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) - 1
}
