//! A campaign run from the TUI (`kubedrain demo`, keys only, through a pseudo-terminal) and the
//! same campaign run headless (`kubedrain campaign --simulate-upgrade seed`) plan the same
//! order and write the same report, apart from times and ids. Generous deadlines, no timing
//! assertions.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::pty::Pty;

const TARGET: &str = "v1.26.0";

/// The report without what differs between two runs of one campaign: ids, URLs and times,
/// the boot IDs a reboot makes, and what depends on timing (PDB refusals, Pending seconds,
/// how often a wait was journaled: consecutive equal marks count once).
fn shape(r: &Value) -> Value {
    let nodes: Vec<Value> = r["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let versions = |v: &Value| json!([v["kubelet"], v["os_image"], v["kernel"]]);
            let mut steps: Vec<Value> = n["timeline"]
                .as_array()
                .expect("timeline")
                .iter()
                .map(|m| json!([m["step"], m["outcome"]]))
                .collect();
            steps.dedup();
            json!({
                "name": n["name"],
                "wave": n["wave"],
                "steps": steps,
                "before": versions(&n["before"]),
                "after": versions(&n["after"]),
                "cordoned_by_campaign": n["cordoned_by_campaign"],
            })
        })
        .collect();
    let waves: Vec<Value> = r["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|w| json!([w["index"], w["nodes"], w["held"]]))
        .collect();
    json!({
        "target": r["target"],
        "max_unavailable": r["max_unavailable"],
        "outcome": r["outcome"],
        "overrides": r["overrides"],
        "waves": waves,
        "nodes": nodes,
    })
}

/// The one report JSON in `dir` (the state directory the TUI writes it to).
fn report_in(dir: &Path) -> Value {
    let found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("campaign-"))
                && p.extension().is_some_and(|e| e == "json")
        })
        .collect();
    assert_eq!(found.len(), 1, "one report in {dir:?}: {found:?}");
    serde_json::from_str(&std::fs::read_to_string(&found[0]).unwrap()).unwrap()
}

#[test]
fn tui_and_headless_campaigns_give_the_same_order_and_report() {
    let long = Duration::from_secs(240);
    // The TUI: C, "all nodes" (← from the default "all workers"), the target, Enter → plan.
    let tui_state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--speed", "5"], Some(tui_state.path()));
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node1") && s.contains("live")
    });
    pty.send(b"C");
    pty.wait_for("the campaign form", long, |s| s.contains("target version"));
    pty.send(b"\x1b[D");
    pty.wait_for("all nodes chosen", long, |s| {
        s.contains("all nodes (control plane first)")
    });
    pty.send(b"\x1b[B");
    pty.send(TARGET.as_bytes());
    pty.send(b"\r");
    let plan = pty.wait_for_screen("the plan", long, |s| {
        s.contains("Campaign plan") && s.contains("can start")
    });
    // Control plane first, then the workers one by one.
    for (i, wave) in [
        "wave 1/3: master0 (control plane)",
        "wave 2/3: node0",
        "wave 3/3: node1",
    ]
    .iter()
    .enumerate()
    {
        assert!(plan.contains(wave), "wave {i}: {wave}\n{plan}");
    }
    pty.send(b"\r");
    pty.wait_for("the campaign view", long, |s| {
        s.contains("Campaign to v1.26.0")
    });
    let done = pty.wait_for_screen("the campaign's end", long, |s| {
        s.contains("campaign completed") && s.contains("report:")
    });
    // Every node went through every phase: no "·" (not reached) left in its row.
    for node in ["master0", "node0", "node1"] {
        let row = done
            .lines()
            .find(|l| l.contains(&format!(" {node} ")) && l.contains("kubelet"))
            .unwrap_or_else(|| panic!("{node}'s row:\n{done}"));
        assert!(!row.contains(" · "), "{node} has a phase left: {row}");
        assert!(row.contains(&format!("→ {TARGET}")), "{row}");
    }
    pty.send(b"q");
    assert!(pty.wait_exit(long));
    let tui = report_in(tui_state.path());

    // Headless, on a fresh copy of the same scenario.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["campaign", "--simulate-upgrade", "seed", "--target", TARGET])
        .args(["--ignore-daemonsets", "--report"])
        .arg(&report)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let headless: Value =
        serde_json::from_str(&std::fs::read_to_string(report.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(shape(&tui), shape(&headless));
    assert_eq!(tui["outcome"], "completed", "{tui}");
}
