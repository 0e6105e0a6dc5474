//! M8's figures from a long session's samples: the windows, the RSS drift, the CPU per
//! relist period, the table rows, notes and the series (`long.rs` runs the session).

use std::fmt::Write as _;
use std::time::Duration;

use super::long::*;
use super::*;

/// Splits the session into windows of `step` seconds: [from, to), the last one closed.
pub fn windows(samples: &[Sample], step: f64, d: f64, relists: &[Relist]) -> Vec<Window> {
    let mut out = Vec::new();
    let mut from = 0.0f64;
    while from < d - 1e-9 && step > 0.0 {
        let to = (from + step).min(d);
        let last = to >= d - 1e-9;
        let inside = |t: f64| t >= from - 1e-9 && (t < to - 1e-9 || (last && t <= to + 1e-9));
        // CPU between the samples at the window's edges (actual times, not nominal).
        let a = samples.iter().find(|s| s.t_s >= from - 1e-9);
        let b = samples
            .iter()
            .find(|s| s.t_s >= to - 1e-9)
            .or(samples.last());
        let cpu_pct = match (a, b) {
            (Some(a), Some(b)) if b.at_s > a.at_s => {
                Some((b.cpu_s - a.cpu_s) / (b.at_s - a.at_s) * 100.0)
            }
            _ => None,
        };
        let rss: Vec<f64> = samples
            .iter()
            .filter(|s| inside(s.t_s))
            .map(|s| s.rss_mb)
            .collect();
        out.push(Window {
            from_s: from,
            to_s: to,
            cpu_pct,
            rss_median_mb: median_p90(&rss).map(|m| m.0),
            rss_max_mb: rss.iter().copied().reduce(f64::max),
            // A sample's frames were drawn before it: (from, to].
            frames: samples
                .iter()
                .filter(|s| s.t_s > from + 1e-9 && s.t_s <= to + 1e-9)
                .map(|s| s.frames)
                .sum(),
            relists: relists.iter().filter(|r| inside(r.at_s)).count(),
        });
        from = to;
    }
    out
}

/// The series table's step: a tenth of a relist period, at least one sample (a minute in
/// the full run).
pub(crate) fn series_step(lb: &LongBench) -> f64 {
    (lb.period_s() / 10.0).max(lb.sample_s)
}

/// The median RSS of the samples in the drift's reference and last windows, and their counts.
pub(crate) fn drift_medians(
    lb: &LongBench,
    samples: &[Sample],
) -> ((Option<f64>, usize), (Option<f64>, usize)) {
    let (r0, r1) = lb.ref_window();
    let (l0, l1) = lb.last_window();
    let pick = |f: &dyn Fn(f64) -> bool| {
        let v: Vec<f64> = samples
            .iter()
            .filter(|s| f(s.t_s))
            .map(|s| s.rss_mb)
            .collect();
        (median_p90(&v).map(|m| m.0), v.len())
    };
    (
        pick(&|t| t >= r0 - 1e-9 && t < r1 - 1e-9),
        pick(&|t| t > l0 + 1e-9 && t <= l1 + 1e-9),
    )
}

/// The CPU windows that hold a relist (all of them if fewer than two do): max / min.
pub(crate) fn cpu_ratio(w: &[Window]) -> (Option<f64>, usize) {
    let with: Vec<f64> = w
        .iter()
        .filter(|w| w.relists > 0)
        .filter_map(|w| w.cpu_pct)
        .collect();
    let pcts = if with.len() >= 2 {
        with
    } else {
        w.iter().filter_map(|w| w.cpu_pct).collect()
    };
    let max = pcts.iter().copied().reduce(f64::max);
    let min = pcts.iter().copied().reduce(f64::min);
    let ratio = match (max, min) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    (ratio, pcts.len())
}

/// The table rows and notes; the figures for the result.
pub(crate) fn analyse(
    lb: &LongBench,
    s: Session,
    report: &mut Report,
    sim_took: Duration,
) -> LongResult {
    let drift_pct = rss_rows(lb, &s, report);
    let cpu_windows = cpu_rows(lb, &s, report);
    relist_rows(lb, &s, report);
    report.notes = notes(lb, sim_took, s.notes);
    LongResult {
        report: report.clone(),
        samples: s.samples,
        relists: s.relists,
        cpu_windows,
        drift_pct,
    }
}

/// RSS after sync, at the end, and the drift (returned).
pub(crate) fn rss_rows(lb: &LongBench, s: &Session, report: &mut Report) -> Option<f64> {
    let ((ref_rss, ref_n), (last_rss, last_n)) = drift_medians(lb, &s.samples);
    let drift_pct = match (ref_rss, last_rss) {
        (Some(a), Some(b)) if a > 0.0 => Some((b - a) / a * 100.0),
        _ => None,
    };
    let end_rss = s.samples.last().map(|x| x.rss_mb);
    let mb = |v: Option<f64>| v.map_or("–".into(), |x| format!("{x:.1} MB"));
    let (r0, r1) = lb.ref_window();
    let (l0, l1) = lb.last_window();
    report.row(
        "M8",
        "long session: TUI RSS after sync",
        "MB",
        s.rss_after_sync,
        None,
        "",
        None,
        "VmRSS 2 s after the first sync, before churn",
    );
    report.row(
        "M8",
        "long session: TUI RSS at the end",
        "MB",
        end_rss,
        None,
        "",
        None,
        format!("peak (VmHWM) over the session: {}", mb(s.hwm_end)),
    );
    report.row(
        "M8",
        "long session: RSS drift",
        "%",
        drift_pct,
        None,
        &format!("≤ {DRIFT_TARGET_PCT} %"),
        drift_pct.map(|x| x <= DRIFT_TARGET_PCT),
        format!(
            "median VmRSS in {} ({ref_n} samples, {}) → in {} ({last_n} samples, {})",
            span(r0, r1, "[", ")"),
            mb(ref_rss),
            span(l0, l1, "(", "]"),
            mb(last_rss)
        ),
    );
    drift_pct
}

/// CPU per relist period (busiest / quietest) and over the whole session.
pub(crate) fn cpu_rows(lb: &LongBench, s: &Session, report: &mut Report) -> Vec<Window> {
    let cpu_windows = windows(&s.samples, lb.period_s(), lb.duration_s(), &s.relists);
    let (ratio, ratio_n) = cpu_ratio(&cpu_windows);
    let per = cpu_windows
        .iter()
        .map(|w| {
            format!(
                "{} {}",
                span(w.from_s, w.to_s, "", ""),
                w.cpu_pct.map_or("–".into(), |c| format!("{c:.2} %"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    report.row(
        "M8",
        "long session: TUI CPU per relist period, busiest / quietest",
        "×",
        ratio,
        None,
        &format!("≤ {CPU_STABLE_RATIO}× (stable)"),
        ratio.map(|x| x <= CPU_STABLE_RATIO),
        format!("over {ratio_n} periods holding a relist; per period: {per}"),
    );
    let mean = match (s.samples.first(), s.samples.last()) {
        (Some(a), Some(b)) if b.at_s > a.at_s => {
            Some((b.cpu_s - a.cpu_s) / (b.at_s - a.at_s) * 100.0)
        }
        _ => None,
    };
    report.row(
        "M8",
        "long session: TUI CPU, whole session",
        "%",
        mean,
        None,
        "",
        None,
        format!(
            "churn {}/s round robin over all {} pods + the relists",
            lb.rate, report.pods
        ),
    );
    cpu_windows
}

/// Relists completed (and each one's duration); churn events sent.
pub(crate) fn relist_rows(lb: &LongBench, s: &Session, report: &mut Report) {
    let (d, p) = (lb.duration_s(), lb.period_s());
    let done: Vec<f64> = s.relists.iter().filter_map(|r| r.took_s).collect();
    let scheduled = ((d - 1e-9) / p).floor().max(0.0) as usize;
    report.row(
        "M8",
        "long session: forced relists completed",
        "",
        Some(done.len() as f64),
        None,
        &format!("{scheduled}"),
        Some(done.len() == scheduled && s.relists.len() == scheduled),
        format!(
            "each until `synced pods`: {}",
            s.relists
                .iter()
                .map(|r| format!(
                    "at {:.0} s: {}",
                    r.at_s,
                    r.took_s
                        .map_or("not completed".into(), |t| format!("{t:.2} s"))
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let (shown, named) = s.shown;
    report.row(
        "M8",
        "long session: visible pods showing their latest change at the end",
        "",
        Some(shown as f64),
        None,
        &format!("{named}"),
        (named > 0).then_some(shown == named),
        "the selected node's churned pods named on screen, 2 s after churn stopped: their restart count is the last sequence number sent",
    );
    report.row(
        "M8",
        "long session: churn events sent",
        "",
        Some(s.events as f64),
        None,
        "",
        None,
        format!(
            "{:.2}/s achieved over {:.0} s (asked {}/s)",
            s.events as f64 / d.max(1.0),
            d,
            lb.rate
        ),
    );
}

pub(crate) fn notes(lb: &LongBench, sim_took: Duration, mut extra: Vec<String>) -> Vec<String> {
    let mut n = vec![
        format!("simulator ready in {:.1} s; the TUI (the real binary, default screen, 200×50 pty) synced, then churn started: {}/s round robin over every pod, a forced relist (store compacted + 410 on every open watch) every {} s, VmRSS and CPU time (utime + stime) sampled every {} s", sim_took.as_secs_f64(), lb.rate, lb.period_s(), lb.sample_s),
        "drift: (median VmRSS of the last half period − median of the second half of the period after the first relist) / the latter. The first minutes are not the reference because they legitimately fill caches, allocator arenas and the first relist's peak; both windows sit at the same point of a relist period, after the relist has settled".into(),
        format!("CPU stable: the busiest relist period used ≤ {CPU_STABLE_RATIO}× the CPU of the quietest, over the periods that hold a relist (the first period has none and includes warm-up); a per-event cost growing with a map would climb steadily past that"),
        "no timing is asserted; figures only".into(),
    ];
    n.append(&mut extra);
    n
}

/// "[900–1200 s)" or "15–20 min" style labels: minutes when whole.
pub(crate) fn span(a: f64, b: f64, open: &str, close: &str) -> String {
    if a % 60.0 == 0.0 && b % 60.0 == 0.0 {
        format!("{open}{:.0}–{:.0} min{close}", a / 60.0, b / 60.0)
    } else {
        format!("{open}{a:.0}–{b:.0} s{close}")
    }
}

/// The per-window series after the table.
pub(crate) fn series_markdown(lb: &LongBench, r: &LongResult, commit: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n## Series\n");
    let _ = writeln!(s, "- commit (at the start): {commit}");
    let _ = writeln!(s, "- every relist period ({} s):\n", lb.period_s());
    write_windows(&mut s, &r.cpu_windows);
    let step = series_step(lb);
    let _ = writeln!(s, "\n- every {step} s:\n");
    write_windows(
        &mut s,
        &windows(&r.samples, step, lb.duration_s(), &r.relists),
    );
    s
}

pub(crate) fn write_windows(s: &mut String, w: &[Window]) {
    let _ = writeln!(
        s,
        "| window | RSS median | RSS max | CPU | frames/s | relists |\n|---|---|---|---|---|---|"
    );
    for w in w {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} | {} |",
            span(w.from_s, w.to_s, "", ""),
            fmt_val(w.rss_median_mb, "MB"),
            fmt_val(w.rss_max_mb, "MB"),
            fmt_val(w.cpu_pct, "%"),
            w.frames as f64 / (w.to_s - w.from_s).max(1e-9),
            w.relists
        );
    }
}
