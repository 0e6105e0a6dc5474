//! What a watch event costs: which views it rebuilds and whether it asks for a frame.

use super::flow_fixtures::feed;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fixtures::{self, pod, seed_model};
use super::model::{Model, Table};
use super::msg::Msg;
use super::update;
use crate::cluster::index::{Key, NodeLoad};
use crate::cluster::watch::{Ev, Feed};

fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The seed cluster plus 40 workers `w00`..`w39` (sorted after `node1`, so most are below
/// the nodes pane's visible rows at 80×24), one pod on each; drawn, nothing pending.
fn big_model() -> Model {
    let mut m = seed_model((80, 24));
    for i in 0..40 {
        let name = format!("w{i:02}");
        feed(
            &mut m,
            Feed::Nodes(Ev::Apply(fixtures::node(&name, "", false, true))),
        );
        feed(
            &mut m,
            Feed::Pods(Ev::Apply(pod(
                "default",
                &format!("app-{name}"),
                Some(&name),
                "Running",
                3600,
            ))),
        );
    }
    m.refresh();
    m.redraw = false;
    m
}

/// A change of pod `app-<node>` (restart count) staying on `node`.
fn restart(m: &mut Model, node: &str, restarts: u32) {
    let mut p = pod(
        "default",
        &format!("app-{node}"),
        Some(node),
        "Running",
        3600,
    );
    p.restarts = restarts;
    feed(m, Feed::Pods(Ev::Apply(p)));
}

#[test]
fn a_pod_event_on_another_node_does_not_rebuild_the_node_list() {
    let mut m = big_model();
    let before = m.views.rebuilds;
    let nodes = m.views.nodes.clone();
    restart(&mut m, "w30", 7);
    m.refresh();
    assert_eq!(m.views.rebuilds.nodes, before.nodes, "node list rebuilt");
    assert_eq!(
        m.views.rebuilds.pods, before.pods,
        "selected node's pods rebuilt"
    );
    assert_eq!(m.views.rebuilds.events, before.events);
    assert_eq!(m.views.nodes, nodes);
    assert_eq!(m.cache.pods["default/app-w30"].restarts, 7);
}

#[test]
fn an_invisible_pod_change_does_not_draw() {
    let mut m = big_model();
    assert!(m.nav(Table::Nodes).offset + crate::app::layout::table_rows(&m, Table::Nodes) < 30);
    restart(&mut m, "w30", 1);
    assert!(!m.wants_frame(), "w30 is neither selected nor on screen");
    // Selected (its node's row scrolled into view), its pod's row is redrawn, alone: a
    // restart changes none of the node's counters.
    press(&mut m, KeyCode::Char('G'));
    m.redraw = false;
    restart(&mut m, "w39", 2);
    assert_eq!(
        m.damage.pod_rows,
        vec![0],
        "w39's pod is the pods pane's row 0"
    );
    assert!(!m.damage.nodes && !m.redraw, "{:?}", m.damage);
}

#[test]
fn a_visible_pod_change_draws() {
    let mut m = big_model();
    // master0 is selected: its pods are in the pods pane.
    let key = m.views.pods[0].clone();
    let mut p = m.cache.pods[&key].clone();
    p.restarts += 1;
    feed(&mut m, Feed::Pods(Ev::Apply(p)));
    assert_eq!(m.damage.pod_rows, vec![0]);
    assert!(!m.redraw, "one row, not the screen");
    // A pod landing on a node whose row is visible changes its PODS counter: the nodes
    // pane (the pod is not in the pods pane, which shows master0's).
    m.damage = Default::default();
    feed(
        &mut m,
        Feed::Pods(Ev::Apply(pod(
            "default",
            "new",
            Some("node1"),
            "Running",
            1,
        ))),
    );
    assert!(m.damage.nodes, "node1's counters are on screen");
    assert!(m.damage.pod_rows.is_empty() && !m.redraw);
    // A new Pending pod changes the nodes title's pending count.
    feed(
        &mut m,
        Feed::Pods(Ev::Apply(pod("default", "homeless", None, "Pending", 1))),
    );
    assert!(m.redraw);
}

#[test]
fn the_selected_nodes_pods_view_follows_in_place() {
    let mut m = big_model();
    press(&mut m, KeyCode::Char('j')); // node0
    let rebuilds = m.views.rebuilds.pods;
    let n = m.views.pods.len();
    feed(
        &mut m,
        Feed::Pods(Ev::Apply(pod(
            "default",
            "aaa-first",
            Some("node0"),
            "Running",
            1,
        ))),
    );
    assert!(m.redraw);
    assert_eq!(m.views.pods.len(), n + 1);
    assert_eq!(&*m.views.pods[0], "default/aaa-first", "sorted by key");
    // Moved away: the row goes, in place.
    feed(
        &mut m,
        Feed::Pods(Ev::Apply(pod(
            "default",
            "aaa-first",
            Some("w05"),
            "Running",
            1,
        ))),
    );
    assert_eq!(m.views.pods.len(), n);
    assert_eq!(m.views.rebuilds.pods, rebuilds);
}

/// Request sums per node, recomputed from the cache.
fn loads_from_scratch(m: &Model) -> Vec<(String, NodeLoad)> {
    let mut v: Vec<(String, NodeLoad)> = Vec::new();
    for p in m.cache.pods.values() {
        let (Some(node), false) = (&p.node_name, p.phase.is_finished()) else {
            continue;
        };
        let i = match v.iter().position(|(n, _)| **n == **node) {
            Some(i) => i,
            None => {
                v.push((node.to_string(), NodeLoad::default()));
                v.len() - 1
            }
        };
        v[i].1.pods += 1;
        v[i].1.cpu_m += p.cpu_request_m;
        v[i].1.mem += p.mem_request;
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn loads(m: &Model) -> Vec<(String, NodeLoad)> {
    let mut v: Vec<(String, NodeLoad)> = m
        .cache
        .index
        .load
        .iter()
        .filter(|(_, l)| l.pods > 0)
        .map(|(k, l)| (k.to_string(), *l))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The views as a full rebuild leaves them.
fn snapshot(m: &Model) -> (Vec<String>, Vec<String>, Vec<String>, u16, usize, usize) {
    let v = &m.views;
    (
        v.nodes.clone(),
        v.pods.iter().map(|k| k.to_string()).collect(),
        v.events.clone(),
        v.pod_name_w,
        v.nodes_cordoned,
        v.nodes_not_ready,
    )
}

#[test]
fn counters_and_views_match_a_full_rebuild_after_add_move_delete() {
    let mut m = big_model();
    press(&mut m, KeyCode::Char('j')); // node0
    let targets = [Some("node0"), Some("w03"), None, Some("node1"), Some("w30")];
    for step in 0..120usize {
        let name = format!("churn-{}-with-a-rather-long-name-{}", step % 7, step % 3);
        let node = targets[step % targets.len()];
        let status = ["Running", "Completed", "Pending"][step % 3];
        let p = pod("default", &name, node, status, 5);
        if step % 4 == 3 {
            feed(&mut m, Feed::Pods(Ev::Delete(p)));
        } else {
            feed(&mut m, Feed::Pods(Ev::Apply(p)));
        }
        if step % 10 == 0 {
            // Cordon / uncordon in place: the title's counts follow.
            let cordon = step % 20 == 0;
            feed(
                &mut m,
                Feed::Nodes(Ev::Apply(fixtures::node("w07", "", cordon, !cordon))),
            );
        }
        if step == 60 {
            press(&mut m, KeyCode::Tab);
            press(&mut m, KeyCode::Char('a')); // all pods
        }
        if step == 90 {
            press(&mut m, KeyCode::Char('p')); // Pending pods
        }
        m.refresh();
        assert_eq!(loads(&m), loads_from_scratch(&m), "step {step}");
        let incremental = snapshot(&m);
        m.stale = true;
        m.refresh();
        assert_eq!(incremental, snapshot(&m), "step {step}");
    }
}

#[test]
fn a_pod_relist_keeps_the_node_list_but_rebuilds_pod_views() {
    let mut m = big_model();
    press(&mut m, KeyCode::Char('j')); // node0
    let before = m.views.rebuilds;
    feed(&mut m, Feed::Pods(Ev::Init));
    feed(
        &mut m,
        Feed::Pods(Ev::InitApply(pod(
            "default",
            "only",
            Some("node0"),
            "Running",
            1,
        ))),
    );
    feed(&mut m, Feed::Pods(Ev::InitDone));
    assert!(m.redraw);
    m.refresh();
    assert_eq!(m.views.rebuilds.nodes, before.nodes);
    assert_eq!(m.views.rebuilds.pods, before.pods + 1);
    assert_eq!(m.views.pods, vec![Key::from("default/only")]);
}

/// Types `text` and a key after it, one key at a time.
fn type_keys(m: &mut Model, text: &str) {
    for c in text.chars() {
        press(m, KeyCode::Char(c));
    }
}

#[test]
fn keys_rebuild_only_the_view_they_change() {
    use super::model::{Pane, PodScope, Rebuilds, View};
    let mut m = big_model();
    let at = |m: &Model| m.views.rebuilds;
    let moved = |a: Rebuilds, b: Rebuilds| {
        [
            ("nodes", b.nodes - a.nodes),
            ("pods", b.pods - a.pods),
            ("events", b.events - a.events),
            ("pdbs", b.pdbs - a.pdbs),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, _)| v)
        .collect::<Vec<_>>()
    };
    // `:pdb` shows the view the watch keeps current; `:pods` and Tab only move the focus.
    let before = at(&m);
    type_keys(&mut m, ":pdb");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Pdbs);
    type_keys(&mut m, ":pods");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focus, Pane::Pods);
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::BackTab);
    assert_eq!(moved(before, at(&m)), Vec::<&str>::new());
    // A pods filter touches the pods view alone, and rebuilds nothing: each key narrows
    // the rows the one before kept (the first, every pod).
    let before = at(&m);
    type_keys(&mut m, "/app");
    assert_eq!(moved(before, at(&m)), Vec::<&str>::new());
    assert_eq!(
        at(&m).pods_narrowed - before.pods_narrowed,
        3,
        "every keystroke narrows"
    );
    // Deleting a character widens: the pods view alone is rebuilt.
    let before = at(&m);
    press(&mut m, KeyCode::Backspace);
    assert_eq!(moved(before, at(&m)), vec!["pods"]);
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Esc);
    assert!(!m.filters.contains_key(&Table::Pods), "Esc cleared it");
    // `a` (every pod) changes the pods' scope: the pods view alone again.
    let before = at(&m);
    press(&mut m, KeyCode::Char('a'));
    assert_eq!(m.pod_scope, PodScope::All);
    assert_eq!(m.views.pods.len(), m.cache.pods.len());
    assert_eq!(moved(before, at(&m)), vec!["pods"]);
}

#[test]
fn a_young_pod_ticks_the_screen_only_while_it_is_on_it() {
    let mut m = seed_model((80, 24));
    for i in 0..40 {
        let old = pod(
            "default",
            &format!("aaa-{i:02}"),
            Some("node0"),
            "Running",
            86_400,
        );
        feed(&mut m, Feed::Pods(Ev::Apply(old)));
    }
    let young = pod("zzz", "young", Some("node0"), "Running", 30);
    feed(&mut m, Feed::Pods(Ev::Apply(young)));
    type_keys(&mut m, ":pods");
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char('a'));
    // The first rows are a day old: a second later nothing on screen has changed.
    m.redraw = false;
    let tick = |m: &mut Model| {
        let next = m.now + jiff::SignedDuration::from_secs(1);
        update(m, Msg::Tick(next));
    };
    tick(&mut m);
    assert!(!m.redraw, "the 30 s old pod is below the visible rows");
    // At the end of the list its age is on screen, counting seconds.
    press(&mut m, KeyCode::Char('G'));
    assert_eq!(&**m.views.pods.last().unwrap(), "zzz/young");
    m.redraw = false;
    tick(&mut m);
    assert!(m.redraw, "its age ticks");
}
