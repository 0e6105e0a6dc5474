//! The TUI's plan reads the one verdict model: an outage is red and needs a second Enter
//! (then the drain starts with --allow-outage), delete mode names the budgets it breaks, and
//! a blocked plan never offers --disable-eviction without saying what it breaks.

use kubedrain::app::drain_flow::{self, Dialog, FlowCmd};
use kubedrain::app::flow_fixtures::flow_model;
use kubedrain::app::model::Model;
use kubedrain::app::msg::Cmd;
use kubedrain::app::{Msg, update};
use kubedrain::drain::plan::Verdict;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::common::screen::screen;

fn key(m: &mut Model, code: KeyCode) -> Vec<Cmd> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// The workflow cluster with every other node cordoned: cache-0's replacement (a one-replica
/// StatefulSet, only on node0) has nowhere to go.
fn nowhere_to_go(size: (u16, u16)) -> Model {
    let mut m = flow_model(size);
    for n in ["master0", "node1"] {
        m.cache.nodes.get_mut(n).unwrap().unschedulable = true;
    }
    m
}

fn plan_verdict(m: &Model) -> Option<(Verdict, bool)> {
    match &m.flow.dialog {
        Some(Dialog::Plan {
            plan,
            confirm_outage,
            ..
        }) => Some((plan.verdict, *confirm_outage)),
        _ => None,
    }
}

/// `r`, tick --delete-emptydir-data and --force (and more), Enter: the plan.
fn open_plan(m: &mut Model, extra: &[usize]) {
    key(m, KeyCode::Char('r'));
    for down in [1usize, 1].iter().chain(extra) {
        for _ in 0..*down {
            key(m, KeyCode::Down);
        }
        key(m, KeyCode::Char(' '));
    }
    key(m, KeyCode::Enter);
}

#[test]
fn an_outage_needs_a_second_enter_and_starts_with_allow_outage() {
    let mut m = nowhere_to_go((120, 40));
    open_plan(&mut m, &[]);
    assert_eq!(plan_verdict(&m), Some((Verdict::Outage, false)));
    let s = screen(&m);
    assert!(s.contains("✖ outage:"), "{s}");
    assert!(
        s.contains("StatefulSet default/cache has every replica on this node and no node can take a replacement"),
        "{s}"
    );
    assert!(s.contains("→ Pending: master0, node1: cordoned"), "{s}");
    // The first Enter only asks.
    assert!(key(&mut m, KeyCode::Enter).is_empty());
    assert_eq!(plan_verdict(&m), Some((Verdict::Outage, true)));
    let s = screen(&m);
    assert!(s.contains("Enter again accepts the outage"), "{s}");
    assert!(
        s.contains("Enter accept the outage"),
        "the hint bar says what Enter does now: {s}"
    );
    insta::assert_snapshot!(s);
    // Esc withdraws the question, not the plan.
    key(&mut m, KeyCode::Esc);
    assert_eq!(plan_verdict(&m), Some((Verdict::Outage, false)));
    key(&mut m, KeyCode::Enter);
    let cmds = key(&mut m, KeyCode::Enter);
    let [Cmd::Flow(FlowCmd::Drain { form, .. })] = cmds.as_slice() else {
        panic!("the drain starts: {cmds:?}");
    };
    assert!(form.allow_outage);
    assert!(form.options().unwrap().allow_outage);
}

#[test]
fn delete_mode_marks_the_budgets_it_breaks_and_asks_twice() {
    let mut m = flow_model((120, 40));
    // Also tick --disable-eviction (four fields further down).
    open_plan(&mut m, &[4]);
    let Some(Dialog::Plan { plan, .. }) = &m.flow.dialog else {
        panic!("plan expected: {:?}", m.flow.dialog);
    };
    assert!(plan.options.disable_eviction);
    assert_eq!(plan.verdict, Verdict::Outage, "{:#?}", plan.findings);
    let s = screen(&m);
    assert!(s.contains("breaks PDB default/web (allows 0)"), "{s}");
    assert!(
        s.contains("--disable-eviction deletes 2 pod(s) under PodDisruptionBudget default/web"),
        "{s}"
    );
    assert!(key(&mut m, KeyCode::Enter).is_empty(), "asks first");
    assert_eq!(plan_verdict(&m), Some((Verdict::Outage, true)));
}

#[test]
fn blocked_hints_never_offer_disable_eviction_without_the_cost() {
    let mut m = flow_model((120, 40));
    // A budget that can never allow an eviction.
    m.cache
        .pdbs
        .values_mut()
        .for_each(|b| b.desired_healthy = b.expected_pods);
    open_plan(&mut m, &[]);
    let Some(Dialog::Plan { plan, .. }) = &m.flow.dialog else {
        panic!("plan expected");
    };
    assert_eq!(plan.verdict, Verdict::Blocked);
    let c = plan.counts();
    assert_eq!(c.blocked, 2, "the two web pods are blocked, and counted");
    let hints = drain_flow::unblock_hints(plan);
    assert!(!hints.is_empty());
    for h in hints.iter().filter(|h| h.contains("--disable-eviction")) {
        assert!(h.contains("break"), "{h}");
    }
    let s = screen(&m);
    assert!(s.contains("2 blocked"), "{s}");
    assert!(
        s.contains("✖ blocked: the drain would not start or never finish"),
        "{s}"
    );
    assert!(key(&mut m, KeyCode::Enter).is_empty());
    assert!(
        m.flash
            .as_ref()
            .unwrap()
            .0
            .starts_with("blocked, not starting")
    );
}
