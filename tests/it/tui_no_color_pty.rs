//! `NO_COLOR=1` on the real binary, through the screens of a held drain: the events pane
//! focused beside the drain panel, teach mode, describe of a node and of a pod, and the
//! timeline. The selected row is found in the raw bytes (reverse video), and not one colour
//! is sent.

use std::time::Duration;

use crate::common::pty::Pty;

#[test]
fn no_color_keeps_every_screen_of_a_held_drain_readable() {
    let state = tempfile::tempdir().unwrap();
    // A quarter speed holds the drain for a minute of real time (15 simulated seconds until
    // the checkout pods are Ready), so a loaded machine still sees it held before `f`.
    let mut pty = Pty::spawn_env(
        &[
            "demo",
            "--teach",
            "--scenario",
            "pdb-blocked",
            "--speed",
            "0.25",
        ],
        Some(state.path()),
        &[("NO_COLOR", "1")],
    );
    let long = Duration::from_secs(60);
    pty.wait_for("the demo with the teach pane", long, |s| {
        s.contains("node0") && s.contains("live") && s.contains("Teach ·")
    });
    pty.drain_node0();
    // Held, with the cordon's event in: then frozen, so it stays held while the screens are
    // visited (a frozen cluster records no new events). The 429's narration is not waited for
    // here: later steps can scroll it out of the teach pane; the timeline below shows it.
    pty.wait_for("held by the PDB, the cordon's event in", long, |s| {
        s.contains("blocked by PDB") && s.contains("NodeNotSchedulable")
    });
    pty.send(b"f");
    pty.wait_for("frozen", long, |s| s.contains("frozen"));
    // The events pane focused beside the drain panel: its selected row in reverse video.
    pty.send(b":events\r");
    let s = pty.wait_for_screen("events focused", long, |s| {
        s.contains("┏ Events") && s.contains("NodeNotSchedulable")
    });
    assert!(s.contains("╭ Drain node0"), "the panel stays: {s}");
    let rows = pty.reverse_rows();
    assert!(
        rows.iter().any(|r| r.contains("node/node0")),
        "the selected event is in reverse video: {rows:?}\n{s}"
    );
    // Tab comes round to the nodes: node0 selected, in reverse video; `d` describes it.
    pty.send(b"\t");
    pty.wait_for("the nodes focused", long, |s| s.contains("┏ Nodes"));
    let rows = pty.reverse_rows();
    assert!(
        rows.iter()
            .any(|r| r.contains("node0") && r.contains("SchedulingDisabled")),
        "the selected node is in reverse video: {rows:?}"
    );
    pty.send(b"d");
    pty.wait_for("node0 described", long, |s| {
        s.contains("Taints") && s.contains("node.kubernetes.io/unschedulable")
    });
    // (Each Esc is waited for: an Esc and the next key at once read as Alt+key.)
    pty.send(b"\x1b");
    pty.wait_for("the page closed", long, |s| s.contains("┏ Nodes"));
    // Through the drain panel to the pods; `d` describes the selected pod.
    pty.send(b"\t");
    pty.wait_for("the drain panel focused", long, |s| {
        s.contains("┏ Drain node0")
    });
    pty.send(b"\t");
    pty.wait_for("the pods focused", long, |s| s.contains("┏ Pods"));
    assert!(!pty.reverse_rows().is_empty(), "a selected pod row");
    pty.send(b"d");
    pty.wait_for("a pod described", long, |s| {
        s.contains("Containers") && s.contains("Conditions")
    });
    pty.send(b"\x1b");
    pty.wait_for("the page closed", long, |s| s.contains("┏ Pods"));
    pty.send(b":log\r");
    pty.wait_for("the timeline", long, |s| {
        s.contains("Timeline (") && s.contains("429 Too Many Requests")
    });
    pty.send(b"\x1b");
    pty.wait_for("back to the panes", long, |s| s.contains("Teach ·"));

    let raw = String::from_utf8_lossy(&pty.raw()).to_string();
    let colour =
        regex::Regex::new(r"\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9;]*)?m").unwrap();
    assert!(
        colour.find(&raw).is_none(),
        "a colour was sent: {:?}",
        colour.find(&raw)
    );
    pty.send(b"q");
    pty.wait_for("quit asks during the drain", long, |s| {
        s.contains("Quit kubedrain?")
    });
    pty.send(b"y");
    assert!(pty.wait_exit(Duration::from_secs(20)));
}
