//! Teach mode: what is narrated, once; flashes and actions in the timeline; `t` and `:log`.

use std::collections::HashSet;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::narrate::{self, Told};
use super::{KEEP, Kind};
use crate::app::flow_fixtures::{self as fx, cordoned_node0, flow_model};
use crate::app::model::{Model, View};
use crate::app::msg::Msg;
use crate::app::update;
use crate::cluster::watch::{Ev, Feed};
use crate::drain::events::{DrainEvent, PodState};

fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn blocked(healthy: i32, needed: i32) -> DrainEvent {
    DrainEvent::Pod {
        node: "node0".into(),
        pod: "shop/checkout-1".into(),
        state: PodState::BlockedByPdb {
            pdb: Some("shop/checkout".into()),
            healthy: Some(healthy),
            needed: Some(needed),
            message: "Cannot evict pod".into(),
            cause: None,
            retry_in: Duration::from_secs(5),
        },
    }
}

fn tell(ev: &DrainEvent, told: &mut HashSet<String>) -> Option<Told> {
    narrate::drain_event(ev, crate::app::fixtures::now(), None, told)
}

#[test]
fn a_429_is_explained_once_with_the_budgets_numbers() {
    let mut told = HashSet::new();
    let t = tell(&blocked(2, 2), &mut told).expect("the first refusal is explained");
    assert!(
        t.text
            .contains("shop/checkout refuses evicting shop/checkout-1"),
        "{t:?}"
    );
    assert!(t.text.contains("2 healthy, 2 needed"), "{t:?}");
    assert_eq!(
        t.fact.as_deref(),
        Some("429 Too Many Requests: status.disruptionsAllowed is 0")
    );
    assert_eq!(
        tell(&blocked(2, 2), &mut told),
        None,
        "retries are not told again"
    );
    // Numbers that seem to allow one: an accepted eviction took it.
    let t = tell(&blocked(3, 2), &mut HashSet::new()).unwrap();
    assert!(
        t.text.contains("taken by pods already being evicted"),
        "{t:?}"
    );
}

#[test]
fn a_replacement_is_told_created_scheduled_and_ready_each_once() {
    let mut told = HashSet::new();
    let rep = |on: Option<&str>, ready| DrainEvent::Replacement {
        node: "node0".into(),
        workload: "ReplicaSet default/web-7c9d".into(),
        pod: "default/web-7c9d-ddddd".into(),
        on_node: on.map(str::to_string),
        phase: "Pending".into(),
        ready,
    };
    let t = tell(&rep(None, false), &mut told).unwrap();
    assert!(
        t.text
            .starts_with("ReplicaSet default/web-7c9d created default/web-7c9d-ddddd")
    );
    assert_eq!(tell(&rep(None, false), &mut told), None);
    let t = tell(&rep(Some("node1"), false), &mut told).unwrap();
    assert!(
        t.text
            .contains("the scheduler put default/web-7c9d-ddddd on node1"),
        "{t:?}"
    );
    let t = tell(&rep(Some("node1"), true), &mut told).unwrap();
    assert_eq!(t.text, "default/web-7c9d-ddddd is Ready on node1");
    assert_eq!(tell(&rep(Some("node1"), true), &mut told), None);
}

/// Through `update`: the narration says why the scheduler chose the node, from the cache
/// (the drained node cordoned, this one not, its requests).
fn scheduled_on_node1(m: &mut crate::app::Model) {
    fx::feed(m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    fx::drain_event(
        m,
        DrainEvent::Replacement {
            node: "node0".into(),
            workload: "ReplicaSet default/web-7c9d".into(),
            pod: "default/web-7c9d-ddddd".into(),
            on_node: Some("node1".into()),
            phase: "Pending".into(),
            ready: false,
        },
    );
}

#[test]
fn the_scheduler_narration_says_why_that_node() {
    let mut m = flow_model((120, 40));
    scheduled_on_node1(&mut m);
    let load = m.cache.index.load.get("node1").copied().unwrap();
    let row = m.cache.nodes.get("node1").unwrap();
    let cpu = crate::app::cells::pct(load.cpu_m, row.cpu_allocatable_m);
    let last = m.teach.timeline.back().expect("told");
    assert!(
        last.text.contains(&format!(
            "on node1: node0 is cordoned, and node1 is not and has room ({cpu}% of its CPU"
        )),
        "{last:?}"
    );
}

/// With RBAC hiding pods outside one namespace the request sums are partial: the narration
/// claims no numbers.
#[test]
fn the_scheduler_narration_claims_no_numbers_it_cannot_know() {
    let mut m = flow_model((120, 40));
    m.pod_coverage = crate::app::model::PodCoverage::Namespace {
        namespace: "default".into(),
        reason: "pods outside namespace default are not visible".into(),
    };
    scheduled_on_node1(&mut m);
    let last = m.teach.timeline.back().expect("told");
    assert!(
        last.text
            .contains("on node1, a node with room that is not cordoned")
            && !last.text.contains('%'),
        "{last:?}"
    );
}

#[test]
fn cordon_and_uncordon_are_told_from_the_node_watch_whoever_made_them() {
    let mut m = flow_model((120, 40));
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    let last = m.teach.timeline.back().expect("the cordon is told");
    assert_eq!(last.kind, Kind::Step);
    assert!(last.text.starts_with("node0 is cordoned"), "{last:?}");
    assert!(
        last.fact
            .as_deref()
            .unwrap()
            .contains("spec.unschedulable: true")
    );
    let n = m.teach.timeline.len();
    // The same state again says nothing; the uncordon says nothing moves back.
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    assert_eq!(m.teach.timeline.len(), n);
    let mut back = cordoned_node0(true);
    back.unschedulable = false;
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(back)));
    let last = m.teach.timeline.back().unwrap();
    assert!(
        last.text.contains("Nothing moves back by itself"),
        "{last:?}"
    );
}

#[test]
fn flashes_and_actions_are_kept_in_the_timeline() {
    let mut m = flow_model((120, 40));
    // A key that cannot act: its flash is kept.
    press(&mut m, KeyCode::Char('v'));
    let last = m.teach.timeline.back().unwrap();
    assert_eq!(last.kind, Kind::Message);
    assert!(last.text.contains("no drain"), "{last:?}");
    // Cordon, confirmed: the action in kubectl's words.
    press(&mut m, KeyCode::Char('c'));
    press(&mut m, KeyCode::Enter);
    let last = m.teach.timeline.back().unwrap();
    assert_eq!(last.kind, Kind::Action);
    assert_eq!(last.text, "you: cordon node0 (kubectl cordon node0)");
}

#[test]
fn t_toggles_the_pane_and_log_opens_the_timeline_scrolled_to_the_end() {
    let mut m = flow_model((120, 40));
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    assert_eq!(crate::app::layout::split(&m, area).teach.height, 0);
    press(&mut m, KeyCode::Char('t'));
    assert!(m.teach.on);
    assert!(crate::app::layout::split(&m, area).teach.height >= 5);
    fx::live_midway(&mut m);
    press(&mut m, KeyCode::Esc);
    press(&mut m, KeyCode::Char(':'));
    for c in "log".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Timeline);
    // `k` from the end moves up one entry (the open scroll is clamped first).
    press(&mut m, KeyCode::Char('k'));
    assert_eq!(m.teach.scroll, m.teach.timeline.len() - 2);
    press(&mut m, KeyCode::Char('g'));
    assert_eq!(m.teach.scroll, 0);
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.view, View::Main);
}

#[test]
fn the_timeline_keeps_the_newest_entries() {
    let mut t = super::Teach::default();
    let at = crate::app::fixtures::now();
    for i in 0..KEEP + 5 {
        t.record(at, Kind::Message, format!("m{i}"), None);
    }
    assert_eq!(t.timeline.len(), KEEP);
    assert_eq!(t.dropped, 5);
    assert_eq!(t.timeline.front().unwrap().text, "m5");
}
