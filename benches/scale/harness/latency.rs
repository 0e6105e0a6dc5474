//! Latency from churn stamps to what a client showed.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use kubedrain::sim::churn::Stamp;

use super::run::within;
use super::slow_events::Slow;
use super::*;

#[derive(Debug, Clone, Default)]
pub(crate) struct Latency {
    pub(crate) sent: usize,
    pub(crate) measured: usize,
    pub(crate) lost: usize,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// p50 and p99 of each churn window, when the figures are medians over windows.
    pub(crate) windows: Vec<(f64, f64)>,
    /// The client's major page faults while the events were sent and shown.
    pub(crate) major_faults: Option<u64>,
    /// The slowest few events, for the log (`slow_events`).
    pub(crate) slowest: Vec<Slow>,
}

/// How many of the slowest events a window keeps for the log: a 400-event window's p99 is
/// its fifth slowest.
const SLOWEST: usize = 5;

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latency of each stamp on a `measured` target: when the client first showed that change or
/// a later one of the same pod (a screen shows the newest state; older changes it never
/// showed were coalesced, not lost). `coalesce = false` (line printers) counts only the
/// change itself. A change never shown by the end is lost.
pub(crate) fn latency(
    stamps: &[Stamp],
    seen: &HashMap<u64, SystemTime>,
    measured: impl Fn(usize) -> bool,
    coalesce: bool,
) -> Latency {
    let mut by_target: HashMap<usize, Vec<&Stamp>> = HashMap::new();
    for s in stamps.iter().filter(|s| measured(s.target)) {
        by_target.entry(s.target).or_default().push(s);
    }
    let mut lat = Vec::new();
    let mut slow: Vec<(Duration, Slow)> = Vec::new();
    let mut lost = 0;
    let mut sent = 0;
    for list in by_target.values_mut() {
        list.sort_by_key(|s| s.seq);
        // Earliest time any change at index >= i was seen.
        let mut best: Option<SystemTime> = None;
        let mut visible = vec![None; list.len()];
        for (i, s) in list.iter().enumerate().rev() {
            let own = seen.get(&s.seq).copied();
            best = match (coalesce, best, own) {
                (true, Some(b), Some(o)) => Some(b.min(o)),
                (true, b, o) => b.or(o),
                (false, _, o) => o,
            };
            visible[i] = best;
        }
        for (s, v) in list.iter().zip(visible) {
            sent += 1;
            match v.and_then(|v| Some((v, v.duration_since(s.sent).ok()?))) {
                Some((shown, d)) => {
                    lat.push(d.as_secs_f64() * 1000.0);
                    let (seq, sent) = (s.seq, s.sent);
                    slow.push((d, Slow { seq, sent, shown }));
                }
                None => lost += 1,
            }
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    slow.sort_by_key(|s| std::cmp::Reverse(s.0));
    Latency {
        sent,
        measured: lat.len(),
        lost,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(f64::NAN),
        windows: Vec::new(),
        major_faults: None,
        slowest: slow
            .into_iter()
            .take(SLOWEST)
            .map(|(_, slow)| slow)
            .collect(),
    }
}

/// M3: watch event → screen, steady and burst, p50 and p99, each ≤ 1.0× kubectl's (issue 13),
/// with no event lost.
pub(crate) fn m3_rows(
    report: &mut Report,
    cfg: &Config,
    tui: &TuiFigures,
    kc: Option<&KubectlFigures>,
) {
    let lat_note = |l: &Option<Latency>| {
        l.as_ref().map_or(String::new(), |l| {
            let windows = l
                .windows
                .iter()
                .map(|(p50, p99)| format!("{p50:.2}/{p99:.2}"))
                .collect::<Vec<_>>();
            let windows = if windows.len() > 1 {
                format!(
                    "; medians of {} windows, p50/p99 ms: {}",
                    windows.len(),
                    windows.join(", ")
                )
            } else {
                String::new()
            };
            let faults = l
                .major_faults
                .map_or(String::new(), |n| format!(", {n} major page faults"));
            format!(
                "{} events measured, {} lost, max {:.0} ms{faults}{windows}",
                l.sent, l.lost, l.max_ms
            )
        })
    };
    let steady = format!("{}/s", cfg.steady_rate);
    let burst = format!("{} events at {}/s", cfg.burst_events, cfg.burst_rate);
    let phases = [
        (
            steady,
            &tui.steady,
            kc.and_then(|k| k.steady.clone()),
            String::new(),
        ),
        (
            burst,
            &tui.burst,
            kc.and_then(|k| k.burst.clone()),
            "1 in 10 events on a visible pod; older changes of a pod count as shown when a newer \
             one is; kubectl: every line; "
                .to_string(),
        ),
    ];
    for (name, kd, kcl, how) in phases {
        let lost = kd.as_ref().is_some_and(|l| l.lost > 0);
        for (q, f) in [
            ("p50", (|l: &Latency| l.p50_ms) as fn(&Latency) -> f64),
            ("p99", |l| l.p99_ms),
        ] {
            let (a, b) = (kd.as_ref().map(f), kcl.as_ref().map(f));
            report.row(
                "M3",
                &format!("watch event → on screen, {q}, {name}"),
                "ms",
                a,
                b,
                "≤ 1.0× kubectl, none lost",
                within(a, b, 1.0).map(|ok| ok && !lost),
                if q == "p50" {
                    format!(
                        "{how}kubedrain: {}; kubectl: {}",
                        lat_note(kd),
                        lat_note(&kcl)
                    )
                } else {
                    String::new()
                },
            );
        }
    }
}
