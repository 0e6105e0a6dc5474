//! The live drain view's look after a cancel or a failure (TestBackend + insta, on the
//! workflow fixture cluster): rows that follow the pod watch, replacements per workload with
//! their Ready condition, and `u` / `r` offered instead of a CLI command.

use kubedrain::app::drain_flow::Dialog;
use kubedrain::app::flow_fixtures::{self as fx, flow_model, pods};
use kubedrain::app::model::Model;
use kubedrain::cluster::watch::{Ev, Feed};
use kubedrain::drain::events::{DrainEvent, DrainOutcome, NodeState};
use ratatui::crossterm::event::KeyCode;

use crate::common::screen::{press, screen};

fn fixture_pod(key: &str) -> kubedrain::cluster::rows::PodRow {
    pods().into_iter().find(|p| p.key() == key).unwrap()
}

fn finish(m: &mut Model, state: NodeState) {
    fx::drain_event(
        m,
        DrainEvent::Finished(DrainOutcome {
            node: "node0".into(),
            state,
            errors: vec!["drain cancelled".into()],
            pending_pods: vec![],
            message: "drain of node/node0 cancelled; node/node0 left cordoned; uncordon it with `kubedrain uncordon node0`".into(),
        }),
    );
}

/// Midway, then `x`: the engine stopped with cache-0 terminating and web-bbbbb blocked;
/// then the pod watch shows cache-0 and web-aaaaa deleted, and the web replacement turns
/// Running but not Ready.
fn cancelled(size: (u16, u16)) -> Model {
    let mut m = flow_model(size);
    fx::live_midway(&mut m);
    finish(&mut m, NodeState::Cancelled);
    for k in ["default/cache-0", "default/web-7c9d-aaaaa"] {
        fx::feed(&mut m, Feed::Pods(Ev::Delete(fixture_pod(k))));
    }
    let mut d = m.cache.pods.get("default/web-7c9d-ddddd").unwrap().clone();
    d.ready = false;
    fx::feed(&mut m, Feed::Pods(Ev::Apply(d)));
    m.refresh();
    m
}

#[test]
fn cancelled_rows_follow_the_pod_watch() {
    let m = cancelled((120, 40));
    let s = screen(&m);
    let line = |k: &str| s.lines().find(|l| l.contains(k)).unwrap().to_string();
    assert!(line("default/cache-0").contains("gone (evicted)"), "{s}");
    assert!(!s.contains("grace left"), "{s}");
    for k in ["default/web-7c9d-bbbbb", "default/debug-shell"] {
        assert!(
            line(k).contains("still on node0: not evicted: drain cancelled"),
            "{s}"
        );
    }
    assert!(s.contains("2 of 4 pods left"), "{s}");
    assert!(
        s.contains(
            "ReplicaSet default/web-7c9d: 1 evicted → 1 replacement: 1 Running, not Ready on node1"
        ),
        "{s}"
    );
    assert!(
        s.contains("uncordon it (u)") && !s.contains("kubedrain uncordon"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn cancelled_80x24() {
    let s = screen(&cancelled((80, 24)));
    assert!(
        s.contains("rs default/web-7c9d: 1 evicted → 1 not Ready on node1"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn a_failed_drain_offers_u_not_a_cli_command() {
    let mut m = flow_model((80, 24));
    fx::live_midway(&mut m);
    fx::drain_event(
        &mut m,
        DrainEvent::Finished(DrainOutcome {
            node: "node0".into(),
            state: NodeState::Failed,
            errors: vec!["error when evicting pods/\"web-7c9d-bbbbb\" -n \"default\": boom".into()],
            pending_pods: vec![],
            message: "node/node0 left cordoned; uncordon it with `kubedrain uncordon node0`".into(),
        }),
    );
    m.refresh();
    let s = screen(&m);
    assert!(
        s.contains("uncordon it (u)") && !s.contains("kubedrain uncordon"),
        "{s}"
    );
    insta::assert_snapshot!(s);
    // And `u` does it: the uncordon confirmation for node0 (cordoned by the drain).
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(fx::cordoned_node0(false))));
    press(&mut m, KeyCode::Char('u'));
    assert!(matches!(&m.flow.dialog, Some(Dialog::Uncordon { node }) if node == "node0"));
}
