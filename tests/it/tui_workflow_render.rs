//! Snapshots of the maintenance workflow (TestBackend + insta), with an injected "now".

use kubedrain::app::flow_fixtures::{self as fx, cordoned_node0, flow_model};
use kubedrain::app::{Msg, update};
use kubedrain::cluster::watch::{Ev, Feed};
use ratatui::crossterm::event::KeyCode;

use crate::common::screen::{press, screen};

#[test]
fn drain_options_dialog_80x24() {
    let mut m = flow_model((80, 24));
    press(&mut m, KeyCode::Char('r'));
    let s = screen(&m);
    assert!(s.contains("[x] --ignore-daemonsets"));
    assert!(s.contains("kubectl drain node0 --ignore-daemonsets"));
    insta::assert_snapshot!(s);
}

#[test]
fn drain_options_dialog_wide() {
    let mut m = flow_model((120, 30));
    press(&mut m, KeyCode::Char('r'));
    insta::assert_snapshot!(screen(&m));
}

#[test]
fn plan_blocked_with_skips_and_evictions() {
    let mut m = flow_model((120, 32));
    press(&mut m, KeyCode::Char('r'));
    press(&mut m, KeyCode::Enter);
    let s = screen(&m);
    assert!(s.contains("blocked") && s.contains("skip") && s.contains("evict"));
    assert!(s.contains("--force"));
    insta::assert_snapshot!(s);
}

#[test]
fn plan_ready_80x24() {
    let mut m = flow_model((80, 24));
    press(&mut m, KeyCode::Char('r'));
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Char(' '));
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Char(' '));
    press(&mut m, KeyCode::Enter);
    let s = screen(&m);
    assert!(s.contains("ready to drain"));
    insta::assert_snapshot!(s);
    // Scrolled down to the findings, the verdict stays on top.
    for _ in 0..8 {
        press(&mut m, KeyCode::Char('j'));
    }
    let s = screen(&m);
    assert!(s.contains("✔ ready to drain"), "{s}");
    assert!(!s.contains("ACTION   POD"), "the table scrolled away: {s}");
    assert!(s.contains("What kubectl would not tell you"), "{s}");
}

#[test]
fn live_drain_midway() {
    let mut m = flow_model((120, 30));
    fx::live_midway(&mut m);
    let s = screen(&m);
    // The PDB's status now (its watch), not the 429's older counts (2 healthy).
    assert!(s.contains("blocked by PDB default/web (3 healthy, 3 needed, 0 allowed)"));
    assert!(s.contains("ReplicaSet default/web-7c9d: 1 evicted → 1 replacement: 1 Ready on node1"));
    assert!(s.contains("23s of grace left"));
    assert!(s.contains("timeout in 4:13"));
    insta::assert_snapshot!(s);
}

#[test]
fn live_drain_midway_80x24() {
    let mut m = flow_model((80, 24));
    fx::live_midway(&mut m);
    insta::assert_snapshot!(screen(&m));
}

#[test]
fn drained_and_safe_to_upgrade() {
    let mut m = flow_model((120, 30));
    fx::live_drained(&mut m);
    let s = screen(&m);
    assert!(s.contains("node0 is drained and safe to upgrade"));
    assert!(s.contains("U upgrade (demo)"));
    insta::assert_snapshot!(s);
}

#[test]
fn uncordon_confirmation_with_versions() {
    let mut m = flow_model((100, 30));
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    press(&mut m, KeyCode::Char('u'));
    let s = screen(&m);
    assert!(s.contains("v1.33.1") && s.contains("v1.33.2"));
    insta::assert_snapshot!(s);
}

#[test]
fn cordon_confirmation() {
    let mut m = flow_model((80, 24));
    press(&mut m, KeyCode::Char('c'));
    insta::assert_snapshot!(screen(&m));
}

#[test]
fn resume_offer_on_start() {
    use kubedrain::app::drain_flow::FlowMsg;
    use kubedrain::drain::journal::{Action, Entry};
    let mut m = flow_model((100, 30));
    let mut n = cordoned_node0(false);
    n.meta
        .annotations
        .as_mut()
        .unwrap()
        .insert("kubedrain.io/drain-state".into(), "draining".into());
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(n)));
    let entry = Entry {
        time: kubedrain::app::fixtures::now(),
        context: "demo".into(),
        server: "http://127.0.0.1:6443".into(),
        user: "sre".into(),
        node: "node0".into(),
        action: Action::DrainStart,
        outcome: "started".into(),
        pod: None,
        detail: None,
    };
    update(
        &mut m,
        Msg::Flow(FlowMsg::Journal(
            kubedrain::drain::journal::NodeHistory::from_entries([entry]),
        )),
    );
    let s = screen(&m);
    assert!(s.contains("Unfinished maintenance") && s.contains("drain interrupted"));
    insta::assert_snapshot!(s);
}

/// The drain is a panel: the events pane has the keyboard while the drain runs beside it.
fn events_focused_mid_drain(size: (u16, u16)) -> String {
    let mut m = flow_model(size);
    fx::live_midway(&mut m);
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    m.flash = None;
    let s = screen(&m);
    assert!(s.contains("┏ Events"), "the events pane is focused:\n{s}");
    assert!(
        s.contains("╭ Drain node0 · evicting"),
        "the drain panel beside it:\n{s}"
    );
    assert!(s.contains("3 of 4 pods left"), "{s}");
    s
}

#[test]
fn events_focused_during_a_drain_80x24() {
    insta::assert_snapshot!(events_focused_mid_drain((80, 24)));
}

#[test]
fn events_focused_during_a_drain_100x30() {
    insta::assert_snapshot!(events_focused_mid_drain((100, 30)));
}

#[test]
fn events_focused_during_a_drain_120x40() {
    insta::assert_snapshot!(events_focused_mid_drain((120, 40)));
}
