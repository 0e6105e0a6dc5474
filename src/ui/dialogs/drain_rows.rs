//! The live drain's rows: one per pod (its state as the pod watch corrects the engine's),
//! then one per workload (evictions and its replacements with their Ready condition).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::drain::plain;
use super::ellipsize_mid;
use crate::app::drain_flow::{self, LiveDrain, PodProgress, ReplState, Shown, WorkloadProgress};
use crate::app::model::Model;
use crate::drain::events::{GoneHow, NodeState, PodState};
use crate::ui::theme;

/// " (2 healthy, 2 needed, 0 allowed)": the PDB's status now, from the PDB watch; else the
/// 429's counts, which the API server takes from the status it checked (its `currentHealthy`
/// still counts pods whose eviction it just accepted, hence "in flight").
/// `compact` (narrow terminals) leaves out the allowed disruptions: "blocked" says it is 0.
fn pdb_counts(
    m: &Model,
    pdb: Option<&str>,
    healthy: Option<i32>,
    needed: Option<i32>,
    compact: bool,
) -> String {
    if let Some(p) = pdb.and_then(|k| drain_flow::pdb_now(m, k)) {
        let (h, n, a) = (p.current_healthy, p.desired_healthy, p.disruptions_allowed);
        return if compact {
            format!(" ({h} healthy, min {n})")
        } else {
            format!(" ({h} healthy, {n} needed, {a} allowed)")
        };
    }
    match (healthy, needed) {
        (Some(h), Some(n)) if h > n && compact => {
            format!(" ({h} healthy incl. in flight, min {n})")
        }
        (Some(h), Some(n)) if h > n => {
            format!(" ({h} healthy incl. evictions in flight, {n} needed)")
        }
        (Some(h), Some(n)) if compact => format!(" ({h} healthy, min {n})"),
        (Some(h), Some(n)) => format!(" ({h} healthy, {n} needed)"),
        _ => String::new(),
    }
}

/// (mark, state text) of a pod row, from the engine's state corrected by the pod watch.
pub(super) fn pod_cells(
    m: &Model,
    live: &LiveDrain,
    r: &PodProgress,
    compact: bool,
) -> (String, Vec<Span<'static>>) {
    let state = match drain_flow::shown(m, live, r) {
        Shown::Engine(s) => s.clone(),
        Shown::Gone(how) => PodState::Gone { how },
        Shown::Terminating(t) => PodState::Terminating { grace_deadline: t },
        Shown::Stayed(why) => {
            let text = format!("still on {}: {why}", live.node);
            return ("○".into(), vec![Span::styled(text, theme::warn())]);
        }
    };
    // The drain is over, the watch cannot tell, and this pod never left: say so rather than
    // a stale "blocked".
    if let Some(o) = &live.outcome
        && !state.is_final()
        && !matches!(state, PodState::Terminating { .. })
    {
        let why = match o.state {
            NodeState::Cancelled => "not evicted: drain cancelled",
            NodeState::Interrupted => "not evicted: drain interrupted",
            NodeState::TimedOut => "not evicted: timed out",
            _ => "not evicted",
        };
        return ("○".into(), vec![Span::styled(why, theme::warn())]);
    }
    let (mark, spans) = state_cells(m, &state, compact);
    (mark.to_string(), spans)
}

/// (mark, state text) of a pod in engine state `state` (`compact`: the short wording).
fn state_cells(m: &Model, state: &PodState, compact: bool) -> (&'static str, Vec<Span<'static>>) {
    // Long: one arm per pod state, side by side so the wording stays consistent.
    let short = |d: std::time::Duration| format!("{}s", d.as_secs_f64().ceil() as u64);
    match state {
        PodState::Queued => ("·", vec![Span::styled("queued", theme::dim())]),
        PodState::Evicting { attempt } => (
            "→",
            vec![Span::styled(
                if *attempt > 1 {
                    format!("evicting (attempt {attempt})")
                } else {
                    "evicting".into()
                },
                theme::leaving(),
            )],
        ),
        PodState::BlockedByPdb {
            pdb,
            healthy,
            needed,
            retry_in,
            ..
        } => {
            let counts = pdb_counts(m, pdb.as_deref(), *healthy, *needed, compact);
            let pdb = pdb.as_deref().unwrap_or("(unnamed)");
            let t = if compact {
                format!("blocked: PDB {pdb}{counts}")
            } else {
                format!("blocked by PDB {pdb}{counts}")
            };
            (
                "■",
                vec![
                    Span::styled(t, theme::warn()),
                    Span::styled(
                        if compact {
                            String::new()
                        } else {
                            format!(" · retry in {}", short(*retry_in))
                        },
                        theme::dim(),
                    ),
                ],
            )
        }
        PodState::Retrying { message, retry_in } => (
            "↻",
            vec![
                Span::styled(format!("refused: {message}"), theme::warn()),
                Span::styled(format!(" · retry in {}", short(*retry_in)), theme::dim()),
            ],
        ),
        PodState::Terminating { grace_deadline } => {
            let left = grace_deadline.map(|d| (d - m.cluster_now()).get_seconds());
            let detail = match left {
                Some(s) if s > 0 && compact => format!(" ({s}s)"),
                Some(s) if s > 0 => format!(" · {s}s of grace left"),
                Some(_) => " · grace over, waiting for the kubelet".into(),
                None => String::new(),
            };
            (
                "◷",
                vec![
                    Span::styled("terminating", theme::leaving()),
                    Span::styled(detail, theme::dim()),
                ],
            )
        }
        PodState::Gone { how } => {
            let word = match (how, compact) {
                (GoneHow::Evicted, false) => "gone (evicted)",
                (GoneHow::Deleted, false) => "gone (deleted)",
                (GoneHow::Evicted, true) => "evicted",
                (GoneHow::Deleted, true) => "deleted",
                (GoneHow::AlreadyGone, _) => "gone",
            };
            ("✔", vec![Span::styled(word, theme::ok())])
        }
        PodState::SkippedWait { seconds } => (
            "»",
            vec![Span::styled(
                format!("deleting for over {seconds}s: not waited for"),
                theme::dim(),
            )],
        ),
        PodState::Failed { reason } => ("✖", vec![Span::styled(plain(reason), theme::bad())]),
    }
}

/// "3 Ready on node1, 2 starting on node2" (`compact`: "not Ready" for "Running, not Ready").
fn replacement_groups(w: &WorkloadProgress, compact: bool) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (i, ((state, node), n)) in w.replacements.iter().enumerate() {
        if i > 0 {
            out.push(Span::styled(", ", theme::dim()));
        }
        let on = node
            .as_deref()
            .map(|n| format!(" on {n}"))
            .unwrap_or_default();
        let (text, style) = match state {
            ReplState::Ready => (format!("{n} Ready{on}"), theme::ok()),
            ReplState::RunningNotReady if compact => (format!("{n} not Ready{on}"), theme::warn()),
            ReplState::RunningNotReady => (format!("{n} Running, not Ready{on}"), theme::warn()),
            ReplState::Starting => (format!("{n} starting{on}"), theme::warn()),
            ReplState::Unscheduled if compact => (format!("{n} unscheduled"), theme::warn()),
            ReplState::Unscheduled => (format!("{n} Pending, not scheduled"), theme::warn()),
            ReplState::Other(s) => (format!("{n} {s}{on}"), theme::warn()),
        };
        out.push(Span::styled(text, style));
    }
    out
}

/// kubectl's short name of a workload kind, for narrow terminals.
fn short_kind(kind: &str) -> &str {
    match kind {
        "ReplicaSet" => "rs",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "Deployment" => "deploy",
        "Job" => "job",
        "ReplicationController" => "rc",
        other => other,
    }
}

/// One line per workload: "ReplicaSet shop/web-5d: 2 evicted → 2 replacements: 1 Ready on
/// node1, 1 starting on node2". Replacements belong to the workload, not to an evicted pod.
/// Narrower than that, the compact wording ("rs shop/web-5d: 2 evicted → 1 Ready on node1"),
/// and where even that does not fit `width`, the replacements go on a second, indented line
/// (a wrapped line would start at the margin, like a pod row).
pub(super) fn workload_lines(w: &WorkloadProgress, width: usize) -> Vec<Line<'static>> {
    let long = workload_line(w, false);
    if width >= 110 && long.width() <= width {
        return vec![long];
    }
    let short = workload_line(w, true);
    if short.width() <= width || w.replacement_count() == 0 {
        return vec![short];
    }
    let (kind, rest) = w.workload.split_once(' ').unwrap_or(("", &w.workload));
    let kind = short_kind(kind);
    let head = format!(": {} evicted →", w.evicted);
    let room = width.saturating_sub(3 + kind.len() + head.chars().count());
    let name = format!("  {kind} {}", ellipsize_mid(rest, room.max(12)));
    let mut second = vec![Span::raw("      ")];
    second.extend(replacement_groups(w, true));
    vec![
        Line::from(vec![
            Span::styled(name, theme::text()),
            Span::styled(head, theme::dim()),
        ]),
        Line::from(second),
    ]
}

fn workload_line(w: &WorkloadProgress, compact: bool) -> Line<'static> {
    let n = w.replacement_count();
    let name = if compact {
        let (kind, rest) = w.workload.split_once(' ').unwrap_or(("", &w.workload));
        format!("{} {rest}", short_kind(kind))
    } else {
        w.workload.clone()
    };
    let mut spans = vec![
        Span::styled(format!("  {name}"), theme::text()),
        Span::styled(format!(": {} evicted → ", w.evicted), theme::dim()),
    ];
    if n == 0 {
        spans.push(Span::styled("no replacement yet", theme::dim()));
    } else {
        if !compact {
            let word = if n == 1 {
                "replacement"
            } else {
                "replacements"
            };
            spans.push(Span::styled(format!("{n} {word}: "), theme::dim()));
        }
        spans.extend(replacement_groups(w, compact));
    }
    Line::from(spans)
}

/// The style of a row's mark (the mark already says the shown state).
pub(super) fn mark_style(mark: &str) -> Style {
    match mark {
        "✔" => theme::ok(),
        "■" | "↻" | "○" => theme::warn(),
        "✖" => theme::bad(),
        "·" | "»" => theme::dim(),
        _ => theme::leaving(),
    }
}
