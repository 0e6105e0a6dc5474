//! The campaign benchmark's run and its table (rows `CAMP`), printed beside the main one and
//! written to `campaign.{md,json}`.

use std::path::Path;

use color_eyre::Result;
use serde_json::json;

use super::*;

/// The client version line of `kubectl version --client`, or "not found".
pub(crate) fn kubectl_version(kubectl: Option<&Path>) -> String {
    kubectl
        .and_then(|k| {
            std::process::Command::new(k)
                .args(["version", "--client"])
                .output()
                .ok()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
        })
        .unwrap_or_else(|| "not found".into())
}

fn side_note(s: &SideFigures) -> String {
    let w = &s.watch;
    format!(
        "{}{}; Pending: {} pods, longest {:.2} s, {} still Pending at the end; nodes left cordoned: {}; referee: {} pod changes, {} PDBs, {} times a PDB at its limit, {} below it at the start{}",
        if s.ok { "" } else { "FAILED; " },
        s.detail,
        w.pending_pods,
        w.max_pending_s,
        w.still_pending,
        s.left_cordoned.len(),
        w.changes,
        w.pdbs,
        w.at_limit,
        w.below_at_start,
        if w.resyncs > 0 {
            format!(", {} overflows (moments may be missed)", w.resyncs)
        } else {
            String::new()
        }
    )
}

/// Runs both sides (kubedrain first) and writes `campaign.{md,json}` to the output directory.
pub fn run_campaign(cb: &CampaignBench, command: &str) -> Result<CampaignResult> {
    let cfg = &cb.base;
    let dir = tempfile::tempdir()?;
    let ticks_before = cpu_ticks();
    let pinned = cpus() > 1 && pin_prefix().is_some() && pin_self(0);
    let kubectl = cfg.kubectl().map(Path::to_path_buf);
    let mut report = Report {
        title: "kubedrain campaign benchmark (a maintenance window)".into(),
        date: utc_now(),
        command: command.to_string(),
        nodes: cfg.nodes + 1,
        pods: cfg.nodes * cfg.pods_per_node + kubedrain::sim::generate::PACKED_PODS,
        pinning: if pinned {
            "simulator + harness on CPU 0 (sched_setaffinity); the campaign's runtime and kubectl on CPU 1"
                .into()
        } else {
            "none (no taskset or a single CPU): simulator and clients share the CPUs".into()
        },
        kubectl_version: kubectl_version(kubectl.as_deref()),
        kubectl_cache: "discovery cache warm (fresh KUBECACHEDIR, filled by a warm-up call)".into(),
        load_before: loadavg(),
        load_after: String::new(),
        steal_pct: None,
        rows: Vec::new(),
        notes: Vec::new(),
    };
    let mut notes = Vec::new();
    let kd = campaign_side(cb, dir.path(), &mut notes)?;
    let load_mid = loadavg();
    let kc = match &kubectl {
        Some(k) => Some(kubectl_side(cb, k, dir.path(), &mut notes)?),
        None => {
            notes.push("kubectl not found: no baseline column".into());
            None
        }
    };
    let what = format!(
        "OS-only maintenance window over {} workers (kubedrain: campaign, max-unavailable {}; kubectl: shell loop, one node at a time)",
        kd.nodes, cb.max_unavailable
    );
    report.row(
        "CAMP",
        &format!("{what}: total time"),
        "s",
        Some(kd.wall_s),
        kc.as_ref().map(|k| k.wall_s),
        "",
        None,
        format!(
            "kubedrain: {}; kubectl: {}",
            side_note(&kd),
            kc.as_ref().map_or("–".into(), side_note)
        ),
    );
    report.row(
        "CAMP",
        "maintenance window: API requests served by the simulator",
        "",
        Some(kd.requests as f64),
        kc.as_ref().map(|k| k.requests as f64),
        "",
        None,
        "per verb and resource in the total-time row",
    );
    let violation_note = |s: &SideFigures| {
        if s.watch.violation_notes.is_empty() {
            "none".to_string()
        } else {
            s.watch.violation_notes.join("; ")
        }
    };
    report.row(
        "CAMP",
        "maintenance window: PDB violations (a PDB below its desired health after any pod change)",
        "",
        Some(kd.violations as f64),
        kc.as_ref().map(|k| k.violations as f64),
        "0",
        Some(kd.ok && kd.violations == 0),
        format!(
            "kubedrain: {}; kubectl: {}",
            violation_note(&kd),
            kc.as_ref().map_or("–".into(), violation_note)
        ),
    );
    report.row(
        "CAMP",
        "maintenance window: seconds pods spent Pending (sum over pods, wall clock)",
        "s",
        Some(kd.pending_s),
        kc.as_ref().map(|k| k.pending_s),
        "",
        None,
        format!(
            "× {} for simulated seconds; pods Pending: kubedrain {}, kubectl {}",
            cb.speed,
            kd.watch.pending_pods,
            kc.as_ref()
                .map_or("–".into(), |k| k.watch.pending_pods.to_string())
        ),
    );
    notes.push(format!(
        "simulated time at {}×: grace period {} s (both tools' --grace-period) = {:.2} s of wall time; reboot {} simulated s; pods start 1–4 and turn Ready 1–3 simulated s after binding",
        cb.speed,
        cb.grace,
        cb.grace as f64 / cb.speed,
        REBOOT_SECS
    ));
    notes.push(format!(
        "kubedrain: the campaign engine in-process (start_campaign, set up as `kubedrain campaign` does: client without retries, 1 s polls, soak 0 s, PreferNoSchedule taint on queued nodes), its upgrade hook the simulator's reboot; kubectl: `{}`, where <reboot $n> is the same simulated reboot, started by the harness",
        shell_loop(cb.grace)
    ));
    notes.push(format!(
        "load average (1/5/15 min) between the two sides: {load_mid}"
    ));
    report.notes = notes;
    report.load_after = loadavg();
    report.steal_pct = steal_pct(ticks_before, cpu_ticks());
    std::fs::create_dir_all(&cfg.out_dir)?;
    std::fs::write(cfg.out_dir.join("campaign.md"), report.document())?;
    std::fs::write(
        cfg.out_dir.join("campaign.json"),
        serde_json::to_string_pretty(&json!(report))?,
    )?;
    Ok(CampaignResult {
        report,
        kubedrain: kd,
        kubectl: kc,
    })
}
