//! The report for the change ticket, at the end of a campaign and on abort: every node's
//! timeline (read from the campaign journal, so the two always agree), versions before →
//! after, PDB waits, overrides accepted and pods that were Pending, as Markdown and JSON.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use super::journal::{Entry, NodeVersions, Spec, Step};

/// One journal line of a node, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    pub step: Step,
    pub outcome: String,
    pub time: Timestamp,
}

/// One node in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    pub name: String,
    pub wave: usize,
    pub timeline: Vec<Mark>,
    pub before: Option<NodeVersions>,
    pub after: Option<NodeVersions>,
    /// The campaign cordoned it (a node cordoned before is never uncordoned by it).
    pub cordoned_by_campaign: bool,
}

/// One wave in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveReport {
    pub index: usize,
    pub nodes: Vec<String>,
    /// Why its pre-check held it, if it did.
    pub held: Option<String>,
    pub soaked_at: Option<Timestamp>,
}

/// Evictions a PDB refused (429) during one node's drain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdbWait {
    /// `namespace/name` of the PDB (`unknown` when the 429 did not name it).
    pub pdb: String,
    pub node: String,
    pub refusals: u32,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// A pod seen Pending during the campaign (not one that was Pending before it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingPod {
    pub pod: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// From first to last sighting (sampled, so a lower bound).
    pub seconds: f64,
}

/// What the executor saw that the journal does not hold line by line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Extras {
    pub pdb_waits: Vec<PdbWait>,
    pub pending: BTreeMap<String, (Timestamp, Timestamp)>,
    pub overrides: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub campaign: String,
    pub context: String,
    pub server: String,
    pub target: Option<String>,
    pub max_unavailable: usize,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    /// `completed`, or where and why it stopped.
    pub outcome: String,
    pub waves: Vec<WaveReport>,
    pub nodes: Vec<NodeReport>,
    pub pdb_waits: Vec<PdbWait>,
    pub overrides: Vec<String>,
    pub pending_pods: Vec<PendingPod>,
}

/// Builds the report of one campaign from its journal lines (in order) and the extras.
pub fn build(entries: &[Entry], spec: &Spec, extras: &Extras, outcome: &str) -> Report {
    let first = entries.first();
    let mut nodes = Vec::new();
    for w in &spec.waves {
        for n in &w.nodes {
            let mine: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.node.as_deref() == Some(n.as_str()))
                .collect();
            let versions = |step: Step| {
                mine.iter()
                    .rev()
                    .filter(|e| e.step == step && e.completes())
                    .find_map(|e| serde_json::from_str(e.detail.as_deref()?).ok())
            };
            nodes.push(NodeReport {
                name: n.clone(),
                wave: w.index,
                timeline: mine
                    .iter()
                    .map(|e| Mark {
                        step: e.step,
                        outcome: e.outcome.clone(),
                        time: e.time,
                    })
                    .collect(),
                before: versions(Step::Cordon),
                after: versions(Step::Gate),
                cordoned_by_campaign: mine
                    .iter()
                    .any(|e| e.step == Step::Cordon && e.outcome == "cordoned"),
            });
        }
    }
    let waves = spec
        .waves
        .iter()
        .map(|w| {
            let of_wave = |step: Step| {
                entries
                    .iter()
                    .filter(move |e| e.node.is_none() && e.wave == Some(w.index) && e.step == step)
            };
            WaveReport {
                index: w.index,
                nodes: w.nodes.clone(),
                held: of_wave(Step::Precheck)
                    .rfind(|e| e.outcome == "held")
                    .and_then(|e| e.detail.clone()),
                soaked_at: of_wave(Step::Soak).find(|e| e.completes()).map(|e| e.time),
            }
        })
        .collect();
    let pending_pods = extras
        .pending
        .iter()
        .map(|(pod, (a, b))| PendingPod {
            pod: pod.clone(),
            first_seen: *a,
            last_seen: *b,
            seconds: b.duration_since(*a).as_secs_f64(),
        })
        .collect();
    Report {
        campaign: first.map(|e| e.campaign.clone()).unwrap_or_default(),
        context: first.map(|e| e.context.clone()).unwrap_or_default(),
        server: first.map(|e| e.server.clone()).unwrap_or_default(),
        target: spec.target.clone(),
        max_unavailable: spec.max_unavailable,
        started: first.map(|e| e.time),
        ended: entries.last().map(|e| e.time),
        outcome: outcome.to_string(),
        waves,
        nodes,
        pdb_waits: extras.pdb_waits.clone(),
        overrides: extras.overrides.clone(),
        pending_pods,
    }
}

fn ts(t: &Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn versions_text(v: &Option<NodeVersions>) -> String {
    match v {
        Some(v) => format!("kubelet {}, {}, kernel {}", v.kubelet, v.os_image, v.kernel),
        None => "—".into(),
    }
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Maintenance campaign {}\n", r.campaign);
    let _ = writeln!(s, "- Cluster: {} ({})", r.context, r.server);
    let _ = writeln!(
        s,
        "- Target: {}",
        r.target
            .as_deref()
            .unwrap_or("OS only (no Kubernetes version)")
    );
    let _ = writeln!(s, "- Max unavailable: {}", r.max_unavailable);
    if let (Some(a), Some(b)) = (&r.started, &r.ended) {
        let _ = writeln!(s, "- From {} to {}", ts(a), ts(b));
    }
    let _ = writeln!(s, "- Outcome: **{}**\n", r.outcome);
    let _ = writeln!(s, "## Waves\n");
    for w in &r.waves {
        let state = match (&w.held, &w.soaked_at) {
            (Some(h), _) => format!("held: {h}"),
            (None, Some(t)) => format!("soaked at {}", ts(t)),
            (None, None) => "not finished".into(),
        };
        let _ = writeln!(s, "{}. {} — {state}", w.index + 1, w.nodes.join(", "));
    }
    let _ = writeln!(s, "\n## Nodes\n");
    for n in &r.nodes {
        let _ = writeln!(s, "### {} (wave {})\n", n.name, n.wave + 1);
        let _ = writeln!(s, "- Before: {}", versions_text(&n.before));
        let _ = writeln!(s, "- After: {}", versions_text(&n.after));
        if !n.cordoned_by_campaign && !n.timeline.is_empty() {
            let _ = writeln!(
                s,
                "- Cordoned before the campaign (or not by it): left cordoned"
            );
        }
        let _ = writeln!(s, "\n| Step | Outcome | Time |\n|---|---|---|");
        for m in &n.timeline {
            let _ = writeln!(s, "| {} | {} | {} |", m.step.name(), m.outcome, ts(&m.time));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## PDB waits\n");
    if r.pdb_waits.is_empty() {
        let _ = writeln!(s, "None: no eviction was refused by a PodDisruptionBudget.");
    }
    for w in &r.pdb_waits {
        let _ = writeln!(
            s,
            "- {} on node/{}: {} refusal(s), {} → {}",
            w.pdb,
            w.node,
            w.refusals,
            ts(&w.first),
            ts(&w.last)
        );
    }
    let _ = writeln!(s, "\n## Overrides accepted\n");
    if r.overrides.is_empty() {
        let _ = writeln!(s, "None.");
    }
    for o in &r.overrides {
        let _ = writeln!(s, "- {o}");
    }
    let _ = writeln!(s, "\n## Pods that were Pending\n");
    if r.pending_pods.is_empty() {
        let _ = writeln!(s, "None seen.");
    }
    for p in &r.pending_pods {
        let _ = writeln!(
            s,
            "- {}: {:.0} s (from {})",
            p.pod,
            p.seconds,
            ts(&p.first_seen)
        );
    }
    s
}

/// Writes `<prefix>.md` and `<prefix>.json`; returns the two paths.
pub fn write(r: &Report, prefix: &Path) -> std::io::Result<(String, String)> {
    let md = format!("{}.md", prefix.display());
    let json = format!("{}.json", prefix.display());
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&md, markdown(r))?;
    let j = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    std::fs::write(&json, j)?;
    Ok((md, json))
}
