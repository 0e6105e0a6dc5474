//! The whole maintenance cycle on `kubedrain demo`, through the real binary in a
//! pseudo-terminal: cordon, drain (plan, live progress, "safe to upgrade"), the simulated
//! upgrade (NotReady, then Ready with a new kubelet), uncordon with versions before → after.
//! Generous deadlines, no timing assertions.

use std::time::Duration;

use crate::common::pty::Pty;

/// The line of the nodes pane showing `node`.
fn node_line(screen: &str, node: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with(&format!("┃{node} ")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn demo_cordon_drain_upgrade_uncordon() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--speed", "5"], Some(state.path()));
    let long = Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node0") && s.contains("node1") && s.contains("live")
    });
    // node0 (master0 sorts first).
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    let kubelet_before = node_line(&pty.screen(), "node0")
        .split_whitespace()
        .find(|w| w.starts_with("v1."))
        .expect("node0's kubelet version")
        .to_string();

    // Cordon, with its confirmation.
    pty.send(b"c");
    pty.wait_for("cordon confirmation", long, |s| s.contains("Cordon node0?"));
    pty.send(b"\r");
    pty.wait_for("node0 cordoned", long, |s| {
        node_line(s, "node0").contains("SchedulingDisabled")
    });

    // Drain: options, plan, live progress until only DaemonSet pods are left.
    pty.send(b"r");
    pty.wait_for("drain options", long, |s| {
        s.contains("Drain node0 · options") && s.contains("[x] --ignore-daemonsets")
    });
    pty.send(b"\r");
    pty.wait_for("the plan", long, |s| {
        s.contains("Drain plan") && s.contains("ready to drain") && s.contains("evict")
    });
    pty.send(b"\r");
    pty.wait_for("the live drain view", long, |s| s.contains("Drain node0 ·"));
    let s = pty.wait_for_screen("drained and safe", long, |s| {
        s.contains("node0 is drained and safe to upgrade")
    });
    assert!(s.contains("0 of "), "gauge at zero pods left:\n{s}");
    // The replacements run on node1 now; node0 keeps its DaemonSet pods only.
    assert!(s.contains("on node1"), "{s}");

    // Simulated OS upgrade: NotReady (or Unknown) for a moment, then Ready with a new kubelet.
    pty.send(b"U");
    pty.wait_for("node0 rebooting", long, |s| {
        let l = node_line(s, "node0");
        l.contains("NotReady") || l.contains("Unknown")
    });
    pty.wait_for("node0 back with a new kubelet", long, |s| {
        let l = node_line(s, "node0");
        l.contains("Ready,SchedulingDisabled")
            && !l.contains("NotReady")
            && !l.contains(&format!(" {kubelet_before} "))
    });

    // Uncordon: the confirmation shows the versions when cordoned and now.
    pty.send(b"u");
    let s = pty.wait_for_screen("uncordon confirmation", long, |s| {
        s.contains("Uncordon node0?") && s.contains("when cordoned")
    });
    let kubelet = s
        .lines()
        .find(|l| l.contains("kubelet ") && l.contains("← new"))
        .unwrap_or_else(|| panic!("kubelet before → now in:\n{s}"));
    assert!(kubelet.contains(&kubelet_before), "{kubelet}");
    assert!(s.contains("Condition Ready"), "{s}");
    pty.send(b"\r");
    pty.wait_for("node0 schedulable and Ready", long, |s| {
        let l = node_line(s, "node0");
        l.contains("Ready") && !l.contains("SchedulingDisabled") && !l.contains("NotReady")
    });

    pty.send(b"q");
    assert!(
        pty.wait_exit(Duration::from_secs(10)),
        "q exits successfully"
    );
    // Everything went through the journal in KUBEDRAIN_STATE_DIR.
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    for action in ["\"cordon\"", "\"drain-result\"", "\"uncordon\""] {
        assert!(journal.contains(action), "{action} in:\n{journal}");
    }
}

#[test]
fn demo_readonly_hides_and_refuses_the_workflow() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--readonly"], Some(state.path()));
    let long = Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node0") && s.contains("live") && s.contains("READ-ONLY")
    });
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    let s = pty.screen();
    assert!(!s.contains("cordon") && !s.contains("upgrade"), "{s}");
    // Each refusal is said; the drain plan can be seen but not started.
    pty.send(b"c");
    pty.wait_for("c refused", long, |s| s.contains("read-only: c (cordon"));
    pty.send(b"U");
    pty.wait_for("U refused", long, |s| s.contains("read-only: U"));
    pty.send(b"r");
    pty.wait_for("the options", long, |s| s.contains("--ignore-daemonsets"));
    pty.send(b"\r");
    pty.wait_for("the plan", long, |s| s.contains("preview only"));
    pty.send(b"\r");
    pty.wait_for("start refused", long, |s| {
        s.contains("this plan is a preview")
    });
    pty.send(b"\x1b");
    pty.wait_for("back to the options", long, |s| !s.contains("Drain plan"));
    pty.send(b"\x1b");
    pty.wait_for("the dialog closed", long, |s| {
        !s.contains("--ignore-daemonsets")
    });
    let s = pty.screen();
    assert!(
        !node_line(&s, "node0").contains("SchedulingDisabled"),
        "{s}"
    );
    pty.send(b"q");
    assert!(pty.wait_exit(Duration::from_secs(10)));
    // Nothing was changed: no cordon or drain in the journal.
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap_or_default();
    assert!(!journal.contains("\"cordon\""), "{journal}");
}

/// The drain is a panel: while a PDB holds the drain of `pdb-blocked` (the demo clock frozen,
/// so it stays held), Tab, `/`, `:pdb` and `d` work; `v` brings the panel back, where `x`
/// cancels. With `NO_COLOR=1`, the selected row stays identifiable (reverse video).
#[test]
fn while_a_pdb_holds_the_drain_the_other_keys_work() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn_env(
        &["demo", "--scenario", "pdb-blocked"],
        Some(state.path()),
        &[("NO_COLOR", "1")],
    );
    let long = Duration::from_secs(60);
    pty.wait_for_demo();
    pty.send(b"f");
    pty.wait_for("frozen", long, |s| s.contains("frozen"));
    pty.drain_node0();
    pty.wait_for("held by the PDB", long, |s| {
        s.contains("┏ Drain node0 ·") && s.contains("blocked by PDB shop/checkout")
    });
    // Tab: the pods pane has the keyboard; the drain panel stays, still held.
    pty.send(b"\t");
    pty.wait_for("pods focused beside the panel", long, |s| {
        s.contains("╭ Drain node0 ·") && s.contains("┏ Pods") && s.contains("v or Tab to it")
    });
    // `/`: a filter on the pods pane.
    pty.send(b"/checkout\r");
    pty.wait_for("the filter applied", long, |s| s.contains("┏ Pods (2)"));
    pty.send(b"\x1b");
    pty.wait_for("the filter cleared", long, |s| s.contains("┏ Pods (4)"));
    // `:pdb`: the budget that holds the drain, 0 disruptions allowed; `d` describes it.
    pty.send(b":pdb\r");
    pty.wait_for("the PDB view", long, |s| {
        s.contains("PodDisruptionBudgets")
            && s.contains("checkout")
            && s.contains("v drain running")
    });
    let rows = pty.reverse_rows();
    assert!(
        rows.iter().any(|r| r.contains("checkout")),
        "the selected PDB is in reverse video: {rows:?}"
    );
    pty.send(b"d");
    pty.wait_for("the PDB described", long, |s| {
        s.contains("checkout") && s.contains("Allowed now")
    });
    pty.send(b"\x1b");
    pty.wait_for("back to the PDB view", long, |s| {
        s.contains("PodDisruptionBudgets")
    });
    // `v`: back to the main view with the panel focused; `x` there cancels.
    pty.send(b"v");
    pty.wait_for("the panel again", long, |s| {
        s.contains("┏ Drain node0 ·") && s.contains("x cancel drain")
    });
    pty.send(b"x");
    pty.wait_for("cancelling", long, |s| s.contains("cancel"));
    pty.send(b"f");
    pty.wait_for("cancelled", long, |s| s.contains("Drain node0 · cancelled"));
    pty.send(b"q");
    assert!(pty.wait_exit(Duration::from_secs(10)));
}

/// Teach mode on the real `pdb-blocked` demo: the 429 is explained with the budget's
/// numbers, and `:log` keeps it with the operator's drain in kubectl's words.
#[test]
fn teach_mode_explains_the_429_of_pdb_blocked() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        &["demo", "--teach", "--scenario", "pdb-blocked"],
        Some(state.path()),
    );
    let long = Duration::from_secs(60);
    pty.wait_for("the demo with the teach pane", long, |s| {
        s.contains("node0") && s.contains("live") && s.contains("Teach ·")
    });
    // Frozen, the refused eviction stays refused while we read.
    pty.send(b"f");
    pty.wait_for("frozen", long, |s| s.contains("⏸ frozen"));
    pty.drain_node0();
    pty.wait_for("the refusal in the drain panel", long, |s| {
        s.contains("blocked by PDB")
    });
    pty.send(b"\x1b");
    pty.wait_for("back in the nodes pane", long, |s| {
        s.contains("v or Tab to it")
    });
    pty.send(b":log\r");
    pty.send(b"g");
    let s = pty.wait_for_screen("the 429 in the timeline", long, |s| {
        s.contains("Timeline (") && s.contains("429 Too Many Requests")
    });
    assert!(
        s.contains("shop/checkout refuses evicting shop/checkout-"),
        "{s}"
    );
    assert!(s.contains("healthy,") && s.contains("needed"), "{s}");
    assert!(
        s.contains("you: drain (kubectl drain node0 --ignore-daemonsets)"),
        "{s}"
    );
    assert!(s.contains("node0 is cordoned"), "{s}");
    pty.send(b"\x1b");
    pty.send(b"q");
    pty.wait_for("quit asks during the drain", long, |s| {
        s.contains("Quit kubedrain?")
    });
    pty.send(b"y");
    assert!(pty.wait_exit(Duration::from_secs(20)));
}
