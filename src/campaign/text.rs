//! A campaign's plan and pre-checks as lines of text: printed by the headless command and
//! shown by the TUI.

use super::journal::{Hold, Spec};
use super::plan::{Wave, WaveCheck};

/// `wave 1/3: cp0 (control plane)`.
pub fn wave_name(w: &Wave, total: usize) -> String {
    format!(
        "wave {}/{total}: {}{}",
        w.index + 1,
        w.nodes.join(", "),
        if w.control_plane {
            " (control plane)"
        } else {
            ""
        }
    )
}

/// The campaign's order, one line per wave, after a summary line.
pub fn order_lines(spec: &Spec) -> Vec<String> {
    let nodes: usize = spec.waves.iter().map(|w| w.nodes.len()).sum();
    let mut out = vec![format!(
        "campaign: {nodes} node(s) in {} wave(s), {}, max-unavailable {}, soak {} s",
        spec.waves.len(),
        match &spec.target {
            Some(t) => format!("target {t}"),
            None => "OS only".into(),
        },
        spec.max_unavailable,
        spec.soak_secs
    )];
    for w in &spec.waves {
        out.push(format!("  {}", wave_name(w, spec.waves.len())));
    }
    if spec.taint_queued && spec.waves.len() > 1 {
        out.push(format!(
            "  queued nodes: taint {}:{} until their turn (--taint-queued=false: none)",
            crate::campaign::taints::QUEUED_KEY,
            crate::campaign::taints::QUEUED_EFFECT
        ));
    }
    match spec.hold {
        Some(Hold::Node) => out.push("  hold points: before each node (Enter goes on)".into()),
        Some(Hold::Wave) => out.push("  hold points: before each wave (Enter goes on)".into()),
        None => {}
    }
    out
}

/// The check's lines (nodes' verdicts, the wave's forecast, held or not).
pub fn check_lines(c: &WaveCheck, total: usize) -> Vec<String> {
    let mut out = vec![format!("{}: pre-check", wave_name(&c.wave, total))];
    for n in &c.nodes {
        out.push(format!(
            "  node/{}: {}, {} pod(s) to evict",
            n.node,
            serde_json::to_value(n.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            n.removals
        ));
        for l in &n.lines {
            out.push(format!("    {l}"));
        }
    }
    let pending = c.pending().count();
    out.push(format!(
        "  forecast: {} replacement(s), {} Pending",
        c.placements.len(),
        pending
    ));
    for p in &c.placements {
        out.push(format!("    {} → {}", p.pod, p.target));
    }
    for o in &c.overrides {
        out.push(format!("  override: {o}"));
    }
    out.push(match &c.held {
        Some(r) => format!("  HELD: {r}"),
        None => "  can start".into(),
    });
    out
}
