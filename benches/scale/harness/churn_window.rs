//! M3 and M6 windows, the same for kubedrain and kubectl: steady churn on the measured pods
//! (CPU over it), then a burst with one event in ten on them. `--runs` repeats the window in
//! the same session (up to 3), so the table's M3 and M6 are medians over windows.

use std::time::{Duration, Instant};

use kubedrain::sim::churn::{Churn, WatchWrite, arm_watch_writes, take_watch_writes};

use super::*;

/// Windows per client: `--runs`, at most 3 (the sequence ranges below hold 3).
pub(crate) fn windows(cfg: &Config) -> usize {
    cfg.runs.clamp(1, 3)
}

/// Distance between the sequence numbers of consecutive windows (> the steady events).
const STEADY_STRIDE: u64 = 3_000;
/// Distance between the sequence numbers of consecutive bursts (> the burst's events).
const BURST_STRIDE: u64 = 15_000;

/// Who is measured and how it shows changes.
pub(crate) struct Client<'a> {
    pub(crate) term: &'a Term,
    /// The pods whose changes are measured (on screen, or printed).
    pub(crate) visible: &'a [(String, String)],
    /// Pods all over the cluster for the burst's other nine events in ten.
    pub(crate) others: &'a [(String, String)],
    /// The first sequence numbers of the steady churn and of the burst.
    pub(crate) steady_seq: u64,
    pub(crate) burst_seq: u64,
    /// A screen shows the newest state: a change counts as shown when a later one is.
    pub(crate) coalesce: bool,
    /// In the burst, only the events on `visible` are measured (else every event).
    pub(crate) burst_visible_only: bool,
    /// The client's bench log, whose steps are logged beside each phase's slowest events.
    pub(crate) bench_log: Option<&'a std::path::Path>,
}

/// One window's figures.
pub(crate) struct ChurnWindow {
    pub(crate) steady: Latency,
    pub(crate) burst: Latency,
    pub(crate) steady_cpu_pct: Option<f64>,
    /// The simulator's watch writes during the steady churn and during the burst.
    pub(crate) writes: [Vec<WatchWrite>; 2],
}

/// Runs window `w` (0-based) against `c`.
pub(crate) fn churn_window(cfg: &Config, sim: &Sim, c: &Client, w: usize) -> ChurnWindow {
    let store = || sim.sim().store().clone();
    let n = (cfg.steady_rate * cfg.steady_secs as f64) as u64;
    let seq = c.steady_seq + w as u64 * STEADY_STRIDE;
    c.term.track((seq, seq + n));
    let pid = c.term.pid;
    let faults_before = major_faults(pid);
    let c0 = cpu_secs(pid);
    let t = Instant::now();
    arm_watch_writes();
    let stamps = Churn::start(store(), c.visible.to_vec(), cfg.steady_rate, Some(n), seq).finish();
    let dt = t.elapsed().as_secs_f64();
    let c1 = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(1));
    let steady_writes = take_watch_writes();
    let mut steady = latency(&stamps, &c.term.untrack(), |_| true, c.coalesce);
    let steady_cpu_pct = c0.zip(c1).map(|(a, b)| (b - a) / dt * 100.0);
    let faults_between = major_faults(pid);
    steady.major_faults = faults_before.zip(faults_between).map(|(a, b)| b - a);

    let targets = interleave(c.visible, c.others, 10);
    let measured_n = c.visible.len();
    let visible_only = c.burst_visible_only;
    let measured = |i: usize| !visible_only || (i.is_multiple_of(10) && i / 10 < measured_n);
    let seq = c.burst_seq + w as u64 * BURST_STRIDE;
    c.term.track((seq, seq + cfg.burst_events));
    arm_watch_writes();
    let stamps = Churn::start(
        store(),
        targets,
        cfg.burst_rate,
        Some(cfg.burst_events),
        seq,
    )
    .finish();
    std::thread::sleep(Duration::from_secs(3));
    let burst_writes = take_watch_writes();
    let mut burst = latency(&stamps, &c.term.untrack(), measured, c.coalesce);
    burst.major_faults = faults_between.zip(major_faults(pid)).map(|(a, b)| b - a);
    ChurnWindow {
        steady,
        burst,
        steady_cpu_pct,
        writes: [steady_writes, burst_writes],
    }
}

/// Runs every window against `c`, logging each under `who`.
pub(crate) fn churn_windows(cfg: &Config, sim: &Sim, c: &Client, who: &str) -> Vec<ChurnWindow> {
    (0..windows(cfg))
        .map(|w| {
            log(
                cfg,
                format!(
                    "M3/M6 {who}, window {} of {}: {} events/s for {} s, then {} at {}/s",
                    w + 1,
                    windows(cfg),
                    cfg.steady_rate,
                    cfg.steady_secs,
                    cfg.burst_events,
                    cfg.burst_rate
                ),
            );
            let ticks = cpu_ticks();
            let cw = churn_window(cfg, sim, c, w);
            let steal = steal_pct(ticks, cpu_ticks());
            log(
                cfg,
                format!(
                    "M3/M6 {who}, window {}: steady p50/p99/max {:.2}/{:.2}/{:.2} ms, lost {} of {}, burst {:.2}/{:.2}/{:.2} ms, lost {} of {}, cpu {:?}, major faults {:?}/{:?}, steal {steal:.1?} %",
                    w + 1,
                    cw.steady.p50_ms,
                    cw.steady.p99_ms,
                    cw.steady.max_ms,
                    cw.steady.lost,
                    cw.steady.sent,
                    cw.burst.p50_ms,
                    cw.burst.p99_ms,
                    cw.burst.max_ms,
                    cw.burst.lost,
                    cw.burst.sent,
                    cw.steady_cpu_pct,
                    cw.steady.major_faults,
                    cw.burst.major_faults
                ),
            );
            let phases = [("steady", &cw.steady), ("burst", &cw.burst)];
            for ((phase, lat), writes) in phases.into_iter().zip(&cw.writes) {
                for line in slow_events::split(&lat.slowest, writes, c.bench_log) {
                    log(cfg, format!("M3 {who}, window {}, {phase}, slow: {line}", w + 1));
                }
            }
            cw
        })
        .collect()
}

/// The windows' latencies as one: p50 and p99 the medians over windows, events and losses
/// summed, the max over all; with the windows' p50s and p99s for the note.
pub(crate) fn median_latency(v: &[&Latency]) -> Option<Latency> {
    let med = |f: fn(&Latency) -> f64| {
        let xs: Vec<f64> = v.iter().map(|l| f(l)).collect();
        median_p90(&xs).map(|(m, _)| m)
    };
    Some(Latency {
        sent: v.iter().map(|l| l.sent).sum(),
        measured: v.iter().map(|l| l.measured).sum(),
        lost: v.iter().map(|l| l.lost).sum(),
        p50_ms: med(|l| l.p50_ms)?,
        p99_ms: med(|l| l.p99_ms)?,
        max_ms: v.iter().map(|l| l.max_ms).fold(f64::NAN, f64::max),
        windows: v.iter().map(|l| (l.p50_ms, l.p99_ms)).collect(),
        major_faults: v.iter().map(|l| l.major_faults).sum(),
        slowest: Vec::new(),
    })
}

/// "; kubedrain: median of 3 windows: 1.20, 1.35, 1.41" when there were several windows.
pub(crate) fn cpu_windows_note(who: &str, v: &[f64]) -> String {
    if v.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
    format!(
        "; {who}: median of {} windows: {}",
        v.len(),
        each.join(", ")
    )
}

/// The windows' CPU: the median, and every window's.
pub(crate) fn median_cpu(v: &[ChurnWindow]) -> (Option<f64>, Vec<f64>) {
    let xs: Vec<f64> = v.iter().filter_map(|w| w.steady_cpu_pct).collect();
    (median_p90(&xs).map(|(m, _)| m), xs)
}
