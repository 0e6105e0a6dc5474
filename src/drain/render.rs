//! Text renderings for the headless commands: the plan table and kubectl's drain lines.

use std::fmt::Write;

use super::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState};
use super::plan::{DrainPlan, PodAction, Severity, Verdict};

/// Go's `utilerrors.NewAggregate(...).Error()`: one error as is, several as `[a, b]`.
pub fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

fn human_bytes(b: i64) -> String {
    let gi = 1i64 << 30;
    let mi = 1i64 << 20;
    if b.abs() >= gi {
        format!("{:.1}Gi", b as f64 / gi as f64)
    } else {
        format!("{}Mi", b / mi)
    }
}

/// The human plan: one row per pod (with where its replacement goes), kubectl's warning and
/// errors, the PDBs, the capacity of the other nodes, kubedrain's findings, and the verdict.
pub fn plan_text(p: &DrainPlan) -> String {
    let mut s = String::new();
    let cordoned = if p.node_unschedulable {
        " (already cordoned)"
    } else {
        ""
    };
    let _ = writeln!(s, "Drain plan for node/{}{cordoned}", p.node);
    pod_rows(&mut s, p);
    if let Some(w) = p.warning_line() {
        let _ = writeln!(s, "\n{w}");
    }
    for e in &p.errors {
        let _ = writeln!(s, "error: {e}");
    }
    pdb_lines(&mut s, p);
    capacity_lines(&mut s, p);
    if !p.findings.is_empty() {
        let _ = writeln!(s, "\nFindings:");
        for f in &p.findings {
            let _ = writeln!(s, "  [{}] {}", severity_label(f.severity), f.message);
            for pod in &f.pods {
                let _ = writeln!(s, "      {pod}");
            }
        }
    }
    let _ = writeln!(s, "\n{}", verdict_line(p));
    s
}

/// The label of a finding's severity in the text plan.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Blocker => "BLOCKER",
        Severity::Unknown => "CANNOT TELL",
        Severity::Outage => "OUTAGE",
        Severity::Warning => "warning",
    }
}

/// The plan's last line: the verdict, in words that match `plan`'s exit code.
pub fn verdict_line(p: &DrainPlan) -> String {
    let c = p.counts();
    let (n, verb) = (c.removed, p.verb());
    match p.verdict {
        Verdict::Proceed => format!("The drain can proceed. It would {verb} {n} pod(s)."),
        Verdict::Outage if p.options.allow_outage => format!(
            "The drain can proceed, outage accepted (--allow-outage). It would {verb} {n} pod(s)."
        ),
        Verdict::Outage => format!(
            "The drain would cause an outage (see OUTAGE above): it starts only with --allow-outage. It would {verb} {n} pod(s)."
        ),
        Verdict::Blocked => format!(
            "The drain is blocked: {} pod(s) keep it from starting or finishing.",
            c.blocked.max(p.errors.len())
        ),
        Verdict::CannotTell => {
            "kubedrain cannot tell whether the drain is safe (see CANNOT TELL above).".into()
        }
    }
}

fn pod_rows(s: &mut String, p: &DrainPlan) {
    let width = p
        .pods
        .iter()
        .map(|x| x.key().len())
        .max()
        .unwrap_or(3)
        .max(3);
    let _ = writeln!(s, "\n{:<width$}  {:<7}  REASON", "POD", "ACTION");
    for pod in &p.pods {
        let (action, mut reason) = match &pod.action {
            PodAction::Evict => ("evict", String::new()),
            PodAction::Delete => ("delete", String::new()),
            PodAction::Skip { reason } => ("skip", reason.text().to_string()),
            PodAction::Blocked { reason, .. } => ("BLOCKED", reason.clone()),
        };
        let mut add = |more: String| {
            reason = if reason.is_empty() {
                more
            } else {
                format!("{reason}; {more}")
            };
        };
        if let Some(w) = pod.warning.as_ref().filter(|_| action != "skip") {
            add(w.clone());
        }
        if pod.removed()
            && let Some(x) = p.capacity.as_ref().and_then(|c| c.of(&pod.key()))
        {
            add(if x.is_pending() {
                format!("→ Pending ({})", x.misfit_text())
            } else {
                format!("→ {}", x.target_text())
            });
        }
        let _ = writeln!(s, "{:<width$}  {action:<7}  {reason}", pod.key());
    }
}

fn pdb_lines(s: &mut String, p: &DrainPlan) {
    if p.pdbs.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nPodDisruptionBudgets:");
    for b in &p.pdbs {
        let flag = if b.broken {
            "  BROKEN BY --disable-eviction"
        } else if p.options.disable_eviction {
            ""
        } else if b.never_allows {
            "  NEVER ALLOWS AN EVICTION"
        } else if b.blocks_now {
            "  BLOCKS NOW"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {}: {} disruption(s) allowed, {} healthy, needs {}, expects {}; holds {}{flag}",
            b.pdb,
            b.disruptions_allowed,
            b.current_healthy,
            b.desired_healthy,
            b.expected_pods,
            b.pods.join(", ")
        );
    }
}

fn capacity_lines(s: &mut String, p: &DrainPlan) {
    let Some(cap) = &p.capacity else {
        return;
    };
    let _ = writeln!(s, "\nCapacity on the other nodes:");
    for t in &cap.targets {
        let placed = cap
            .placements
            .iter()
            .filter(|x| x.node.as_deref() == Some(&t.name))
            .count();
        match &t.excluded {
            Some(why) => {
                let _ = writeln!(s, "  {}: excluded ({why})", t.name);
            }
            None => {
                let taints = if t.taints.is_empty() {
                    String::new()
                } else {
                    format!(" (tainted {})", t.taints.join(", "))
                };
                let _ = writeln!(
                    s,
                    "  {}: {}m CPU, {} memory, {} pods free{taints}; would receive {placed} pod(s)",
                    t.name,
                    t.cpu_free_m,
                    human_bytes(t.mem_free),
                    t.pods_free
                );
            }
        }
    }
    for x in cap.pending() {
        let _ = writeln!(
            s,
            "  Pending: {}: {}",
            x.pod,
            x.reason.as_deref().unwrap_or("")
        );
    }
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// A line for stdout or stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

/// kubectl's lines for one drain event (`delete`: `--disable-eviction`).
pub fn event_lines(e: &DrainEvent, delete: bool) -> Vec<Line> {
    match e {
        DrainEvent::Cordoned { node, already } => vec![Line::Out(if *already {
            format!("node/{node} already cordoned")
        } else {
            format!("node/{node} cordoned")
        })],
        // kubectl prints the warnings only when nothing blocks the node.
        DrainEvent::Planned { plan, .. } if plan.errors.is_empty() => {
            plan.warning_line().map(Line::Err).into_iter().collect()
        }
        DrainEvent::Pod { pod, state, .. } => {
            let (ns, name) = split_key(pod);
            match state {
                // Every pod is queued at once, in namespace/name order, right before its
                // first request: kubectl's line for each, in a stable order (the requests
                // themselves run in parallel). A retry is a new request, as in kubectl.
                PodState::Queued if !delete => vec![Line::Out(format!("evicting pod {pod}"))],
                PodState::Evicting { attempt } if !delete && *attempt > 1 => {
                    vec![Line::Out(format!("evicting pod {pod}"))]
                }
                PodState::BlockedByPdb {
                    pdb,
                    healthy,
                    needed,
                    message,
                    retry_in,
                    ..
                } => {
                    let mut l = format!(
                        "error when evicting pods/\"{name}\" -n \"{ns}\" (will retry after {}s): {message}",
                        retry_in.as_secs()
                    );
                    // kubectl never names the PDB; we do.
                    if let Some(pdb) = pdb {
                        l.push_str(&format!(" (PodDisruptionBudget {pdb}"));
                        if let (Some(h), Some(n)) = (healthy, needed) {
                            l.push_str(&format!(": {h} healthy, needs {n}"));
                        }
                        l.push(')');
                    }
                    vec![Line::Err(l)]
                }
                PodState::Retrying { message, retry_in } => vec![Line::Err(format!(
                    "error when evicting pods/\"{name}\" -n \"{ns}\" (will retry after {}): {message}",
                    retry_text(*retry_in)
                ))],
                PodState::Gone {
                    how: GoneHow::Evicted,
                } => vec![Line::Out(format!("pod/{name} evicted"))],
                PodState::Gone {
                    how: GoneHow::Deleted,
                } => vec![Line::Out(format!("pod/{name} deleted"))],
                PodState::SkippedWait { seconds } => vec![Line::Out(format!(
                    "pod \"{name}\" has DeletionTimestamp older than {seconds} seconds, skipping"
                ))],
                _ => vec![],
            }
        }
        DrainEvent::Notice { message, .. } => vec![Line::Err(format!("Warning: {message}"))],
        DrainEvent::Finished(o) => outcome_lines(o),
        _ => vec![],
    }
}

/// kubectl's closing lines for one node drained alone: `node/X drained`, or its failure
/// report and the summary.
pub fn outcome_lines(o: &DrainOutcome) -> Vec<Line> {
    let mut v = node_outcome_lines(o);
    v.extend(summary_lines(std::slice::from_ref(o)));
    v
}

/// What kubectl prints when one node's drain ends: `node/X drained`, or the pods left and
/// `error: unable to drain node ..., continuing command...`.
pub fn node_outcome_lines(o: &DrainOutcome) -> Vec<Line> {
    let node = &o.node;
    if o.state == NodeState::Drained {
        return vec![Line::Out(format!("node/{node} drained"))];
    }
    if is_not_found(o) {
        return vec![];
    }
    let mut v = Vec::new();
    let agg = aggregate(&o.errors);
    if !o.pending_pods.is_empty() {
        v.push(Line::Err(format!(
            "There are pending pods in node \"{node}\" when an error occurred: {agg}"
        )));
        v.extend(o.pending_pods.iter().map(|p| Line::Err(format!("pod/{p}"))));
    }
    if !o.errors.is_empty() {
        v.push(Line::Err(format!(
            "error: unable to drain node \"{node}\" due to error: {agg}, continuing command..."
        )));
    }
    v
}

fn is_not_found(o: &DrainOutcome) -> bool {
    o.errors.len() == 1 && o.errors[0].starts_with("Error from server (NotFound)")
}

/// kubectl's last lines once every node was tried: the nodes not drained, each error, and
/// (ours) where each node stands. Empty when every node was drained.
pub fn summary_lines(outcomes: &[DrainOutcome]) -> Vec<Line> {
    let failed: Vec<&DrainOutcome> = outcomes
        .iter()
        .filter(|o| o.state != NodeState::Drained)
        .collect();
    if let [o] = failed.as_slice()
        && is_not_found(o)
    {
        return vec![Line::Err(o.errors[0].clone())];
    }
    if failed.is_empty() {
        return vec![];
    }
    let mut v = vec![Line::Err("There are pending nodes to be drained:".into())];
    v.extend(failed.iter().map(|o| Line::Err(format!(" {}", o.node))));
    // kubectl's final handler prints an aggregate's errors one per line, without `error: `.
    for o in &failed {
        v.extend(o.errors.iter().map(|e| Line::Err(e.clone())));
    }
    v.extend(failed.iter().map(|o| Line::Err(o.message.clone())));
    v
}

/// A retry delay as Go prints durations, to the millisecond (`5s`, `1.25s`, `500ms`).
fn retry_text(d: std::time::Duration) -> String {
    super::options::format_go_duration(std::time::Duration::from_millis(d.as_millis() as u64))
}
