//! The scale benchmark harness: kubedrain beside kubectl on the built-in simulator, metrics
//! M1–M6 of `shared/reference/performance.md` §7 and issue 13's M7 (filter and navigation at
//! full scale), and (`--campaign`) a maintenance window: kubedrain's campaign beside a kubectl
//! shell loop. It reports figures and never asserts timings.
//!
//! One process: the simulator runs inside the harness (pinned to CPU 0 with it, and under the
//! bench binary's counting allocator, which is why the per-pod heap figure counts only the
//! measuring thread), the clients run as child processes pinned to CPU 1 with `taskset`. kubedrain's TUI runs in a 200×50
//! pseudo-terminal whose output is parsed by a vt100 emulator; kubectl runs in the same kind
//! of terminal (its lines are read as they come).
//!
//! Shared by `benches/scale/main.rs` (the command) and `tests/bench_smoke.rs` (a small run).

#![allow(dead_code)]

mod benchlog;
mod campaign;
mod campaign_run;
mod churn_window;
mod drain;
mod keys;
mod kubectl;
mod latency;
mod long;
mod long_report;
mod model_bench;
mod procs;
mod report;
mod run;
mod sim;
pub(crate) mod slow_events;
mod term;
mod tui;
mod watchdog;

pub(crate) use benchlog::*;
pub use campaign::*;
pub use campaign_run::*;
pub(crate) use churn_window::*;
pub(crate) use drain::*;
pub(crate) use keys::*;
pub(crate) use kubectl::*;
pub(crate) use latency::*;
pub use long::*;
pub use long_report::windows;
pub(crate) use model_bench::*;
pub(crate) use procs::*;
pub use report::*;
pub use run::run;
pub(crate) use sim::*;
pub(crate) use term::*;
pub(crate) use tui::*;
pub(crate) use watchdog::*;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The median and p90 (nearest rank) of `v`; `None` when empty.
pub(crate) fn median_p90(v: &[f64]) -> Option<(f64, f64)> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let p90 = s[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
    Some((median, p90))
}

/// "median of N runs, p90 X; runs: a, b, c" (empty for a single run).
pub(crate) fn runs_note(v: &[f64], unit: &str) -> String {
    match median_p90(v) {
        Some((_, p90)) if v.len() > 1 => format!(
            "median of {} runs, p90 {p90:.2} {unit}; runs: {}",
            v.len(),
            v.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    }
}

/// Terminal size of the TUI and kubectl runs.
pub const COLS: u16 = 200;
pub const ROWS: u16 = 50;

/// Sequence number ranges of the churn phases (six digits, so they are easy to find on screen).
pub(crate) const SEQ_CALIBRATE: u64 = 600_000;
pub(crate) const SEQ_STEADY: u64 = 700_000;
pub(crate) const SEQ_BURST: u64 = 800_000;
pub(crate) const SEQ_KUBECTL_STEADY: u64 = 710_000;
pub(crate) const SEQ_KUBECTL_BURST: u64 = 850_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub nodes: usize,
    pub pods_per_node: usize,
    /// The kubedrain binary.
    pub bin: PathBuf,
    /// kubectl, if found.
    pub kubectl: Option<PathBuf>,
    /// Where results.{md,json} go.
    pub out_dir: PathBuf,
    /// Seconds of idle measurement (M4 idle CPU).
    pub idle_secs: u64,
    /// Seconds of churn at the steady rate (M3, M6).
    pub steady_secs: u64,
    /// Steady churn rate, events per second.
    pub steady_rate: f64,
    /// Burst: events and rate.
    pub burst_events: u64,
    pub burst_rate: f64,
    /// Key presses for key → frame latency.
    pub keys: usize,
    /// Frames rendered per TestBackend measurement.
    pub frames: usize,
    /// Drain grace periods to run (M5).
    pub graces: Vec<u64>,
    /// Runs of the repeatable one-shot metrics (M1 sync, M5 drains): the table shows the
    /// median, the note the p90 and every run.
    pub runs: usize,
    /// Skip kubectl even if present.
    pub no_kubectl: bool,
    /// Print progress to stderr.
    pub verbose: bool,
    /// Net heap bytes the calling thread has allocated (wrapping), when a counting allocator
    /// is installed (the bench binary has one): used for the per-pod memory breakdown. Per
    /// thread, so the simulator's threads in this process do not count.
    pub live_bytes: Option<fn() -> usize>,
}

impl Config {
    /// The full run's defaults for a cluster size.
    pub fn new(nodes: usize, pods_per_node: usize, bin: PathBuf) -> Config {
        Config {
            nodes,
            pods_per_node,
            bin,
            kubectl: which("kubectl"),
            out_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench"),
            idle_secs: 20,
            steady_secs: 20,
            steady_rate: 20.0,
            burst_events: 2_000,
            burst_rate: 1_000.0,
            keys: 30,
            frames: 200,
            graces: vec![0, 2],
            runs: 1,
            no_kubectl: false,
            verbose: true,
            live_bytes: None,
        }
    }

    /// Short phases for the CI smoke run.
    pub fn quick(mut self) -> Config {
        self.idle_secs = 3;
        self.steady_secs = 3;
        self.burst_events = 500;
        self.keys = 5;
        self.frames = 20;
        self
    }

    pub(crate) fn kubectl(&self) -> Option<&Path> {
        if self.no_kubectl {
            None
        } else {
            self.kubectl.as_deref()
        }
    }
}

pub(crate) fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The machine's CPU time so far, in ticks: (stolen by the hypervisor for other guests, all).
pub(crate) fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal (guest times are inside user and nice).
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    Some((*f.get(7)?, f.iter().sum()))
}

/// Share of all CPU time between two `cpu_ticks` that the hypervisor gave to other guests: on
/// a shared host, a run with steal is not a run on an idle machine, whatever its load says.
pub(crate) fn steal_pct(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Option<f64> {
    let ((s0, t0), (s1, t1)) = (before?, after?);
    (t1 > t0).then(|| (s1.saturating_sub(s0)) as f64 / (t1 - t0) as f64 * 100.0)
}

pub(crate) fn log(cfg: &Config, msg: impl AsRef<str>) {
    if cfg.verbose {
        eprintln!("[bench {}] {}", now_hms(), msg.as_ref());
    }
}

pub(crate) fn now_hms() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

pub(crate) fn utc_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}
