//! `update` tests: selection, filtering, panes, watch messages.

use super::flow_fixtures::feed;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fixtures::{self, pod, seed_model};
use super::model::{ConnState, Input, Model, Pane, PodScope, Table, View};
use super::msg::{Cmd, Msg};
use super::update;
use crate::cluster::watch::{Ev, Feed, Kind, WatchReport};

fn press(m: &mut Model, code: KeyCode) -> Vec<Cmd> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typ(m: &mut Model, s: &str) {
    for c in s.chars() {
        press(m, KeyCode::Char(c));
    }
}

fn pod_names(m: &Model) -> Vec<String> {
    m.views
        .pods
        .iter()
        .map(|k| k.split('/').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn j_k_move_node_selection_and_pods_follow() {
    let mut m = seed_model((80, 24));
    assert_eq!(m.selected_node.as_deref(), Some("master0"));
    assert!(pod_names(&m).iter().any(|p| p.starts_with("coredns")));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.selected_node.as_deref(), Some("node0"));
    assert!(pod_names(&m).iter().all(|p| !p.starts_with("coredns")));
    assert!(pod_names(&m).iter().any(|p| p.starts_with("http-spring")));
    press(&mut m, KeyCode::Char('G'));
    assert_eq!(m.selected_node.as_deref(), Some("node1"));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(
        m.selected_node.as_deref(),
        Some("node1"),
        "stays on the last row"
    );
    press(&mut m, KeyCode::Char('g'));
    assert_eq!(m.selected_node.as_deref(), Some("master0"));
    press(&mut m, KeyCode::Up);
    assert_eq!(m.nav(Table::Nodes).selected, 0);
}

#[test]
fn selection_follows_the_node_by_name_when_nodes_are_added() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.selected_node.as_deref(), Some("node0"));
    feed(
        &mut m,
        Feed::Nodes(Ev::Apply(fixtures::node("a-new-node", "", false, true))),
    );
    m.refresh();
    assert_eq!(m.selected_node.as_deref(), Some("node0"));
    assert_eq!(m.views.nodes[m.nav(Table::Nodes).selected], "node0");
}

#[test]
fn tab_cycles_panes_and_enter_opens_node_pods() {
    let mut m = seed_model((80, 24));
    assert_eq!(m.focus, Pane::Nodes);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Pane::Pods);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Pane::Events);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Pane::Nodes);
    press(&mut m, KeyCode::BackTab);
    assert_eq!(m.focus, Pane::Events);
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focus, Pane::Pods);
    assert_eq!(m.pod_scope, PodScope::Node);
    // j now moves in the pods pane, not the nodes pane.
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.nav(Table::Pods).selected, 1);
    assert_eq!(m.selected_node.as_deref(), Some("node0"));
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.focus, Pane::Nodes);
}

#[test]
fn filter_is_substring_or_regex_and_esc_clears_it() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('a')); // all pods
    assert_eq!(m.pod_scope, PodScope::All);
    let all = m.views.pods.len();
    press(&mut m, KeyCode::Char('/'));
    typ(&mut m, "crashloop");
    assert_eq!(m.input, Input::Filter("crashloop".into()));
    assert_eq!(
        pod_names(&m).len(),
        1,
        "matches the STATUS column, case-insensitive"
    );
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.input, Input::Normal);
    assert_eq!(pod_names(&m).len(), 1, "Enter keeps the filter");
    press(&mut m, KeyCode::Char('/'));
    for _ in 0.."crashloop".len() {
        press(&mut m, KeyCode::Backspace);
    }
    typ(&mut m, "^kube-(proxy|dns)");
    assert_eq!(
        pod_names(&m).len(),
        3,
        "regex over NAME: {:?}",
        pod_names(&m)
    );
    press(&mut m, KeyCode::Backspace);
    typ(&mut m, "[");
    // "^kube-(proxy|dns[" does not parse: substring match, which finds nothing.
    assert!(m.views.pods.is_empty());
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.views.pods.len(), all);
    assert!(!m.filters.contains_key(&Table::Pods));
}

#[test]
fn pending_toggle_lists_unscheduled_pods_cluster_wide() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('p'));
    assert_eq!(pod_names(&m), vec!["http-spring-6d9f8b7c5-pend1"]);
    press(&mut m, KeyCode::Char('p'));
    assert_eq!(m.pod_scope, PodScope::Node);
}

#[test]
fn relist_applies_in_place_and_drops_stale_pods_at_init_done() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j')); // node0
    let before = pod_names(&m);
    assert!(before.contains(&"http-spring-6d9f8b7c5-00000".to_string()));
    feed(&mut m, Feed::Pods(Ev::Init));
    let fresh = pod("default", "fresh-pod", Some("node0"), "Running", 5);
    let kept = pod(
        "default",
        "http-spring-6d9f8b7c5-00000",
        Some("node0"),
        "Running",
        3600,
    );
    feed(&mut m, Feed::Pods(Ev::InitPage(vec![fresh, kept])));
    m.refresh();
    // Mid-relist the screen says so; relisted pods are applied in place (shown at InitDone).
    assert_eq!(m.conn_state(), ConnState::Resyncing);
    assert!(m.cache.pods.contains_key("default/fresh-pod"));
    assert_eq!(pod_names(&m), before);
    feed(&mut m, Feed::Pods(Ev::InitDone));
    m.refresh();
    assert_eq!(
        pod_names(&m),
        vec!["fresh-pod", "http-spring-6d9f8b7c5-00000"],
        "pods the relist did not list are gone"
    );
    assert_eq!(m.cache.pods.len(), 2);
    assert_eq!(m.cache.index.load["node0"].pods, 2);
    assert!(m.cache.index.load.get("node1").is_none_or(|l| l.pods == 0));
    assert!(m.cache.index.pending.is_empty());
    assert_eq!(m.cache.index.all.len(), 2);
    assert_eq!(m.conn_state(), ConnState::Live);
}

#[test]
fn apply_and_delete_update_the_pods_pane_and_node_load() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j')); // node0
    let n = m.views.pods.len();
    let load = m.cache.index.load["node0"];
    let p = pod(
        "default",
        "http-spring-6d9f8b7c5-00000",
        Some("node0"),
        "Running",
        3600,
    );
    feed(&mut m, Feed::Pods(Ev::Delete(p.clone())));
    m.refresh();
    assert_eq!(m.views.pods.len(), n - 1);
    assert!(!pod_names(&m).contains(&"http-spring-6d9f8b7c5-00000".to_string()));
    assert_eq!(m.cache.index.load["node0"].pods, load.pods - 1);
    assert_eq!(m.cache.index.load["node0"].cpu_m, load.cpu_m - 100);
    // Rescheduled on node1: it appears there, not on node0.
    let moved = pod(
        "default",
        "http-spring-6d9f8b7c5-00000",
        Some("node1"),
        "Running",
        1,
    );
    feed(&mut m, Feed::Pods(Ev::Apply(moved)));
    m.refresh();
    assert_eq!(m.views.pods.len(), n - 1);
    press(&mut m, KeyCode::Char('j'));
    assert!(pod_names(&m).contains(&"http-spring-6d9f8b7c5-00000".to_string()));
}

#[test]
fn cordon_apply_shows_scheduling_disabled() {
    let mut m = seed_model((80, 24));
    feed(
        &mut m,
        Feed::Nodes(Ev::Apply(fixtures::node("node0", "", true, true))),
    );
    m.refresh();
    assert_eq!(
        m.cache.nodes["node0"].status_text(),
        "Ready,SchedulingDisabled"
    );
    assert!(m.redraw);
}

#[test]
fn stale_generation_reports_are_dropped() {
    let mut m = seed_model((80, 24));
    let n = m.cache.pods.len();
    let generation = m.generation + 7;
    update(
        &mut m,
        Msg::Watch {
            generation,
            report: WatchReport::Feed(Feed::Pods(Ev::Apply(pod(
                "x",
                "ghost",
                Some("node0"),
                "Running",
                1,
            )))),
        },
    );
    assert_eq!(m.cache.pods.len(), n);
}

#[test]
fn watch_errors_show_disconnected_since_first_failure() {
    let mut m = seed_model((80, 24));
    let t0 = m.now;
    update(
        &mut m,
        Msg::Watch {
            generation: 1,
            report: WatchReport::Error(Kind::Pods, "connection refused".into()),
        },
    );
    update(&mut m, Msg::Tick(t0 + jiff::SignedDuration::from_secs(10)));
    update(
        &mut m,
        Msg::Watch {
            generation: 1,
            report: WatchReport::Error(Kind::Pods, "connection refused".into()),
        },
    );
    assert_eq!(
        m.conn_state(),
        ConnState::Disconnected {
            since: t0,
            error: "connection refused".into()
        }
    );
    feed(&mut m, Feed::Pods(Ev::Init));
    assert_eq!(m.conn_state(), ConnState::Resyncing);
    feed(&mut m, Feed::Pods(Ev::InitDone));
    assert_eq!(m.conn_state(), ConnState::Live);
}

#[test]
fn mutating_keys_emit_node_commands_unless_readonly() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j'));
    // Each opens its dialog first (drain_flow); confirming sends the command.
    assert!(press(&mut m, KeyCode::Char('c')).is_empty());
    let cmds = press(&mut m, KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Cmd::Flow(super::drain_flow::FlowCmd::Cordon {
            node: "node0".into()
        })]
    );
    assert!(press(&mut m, KeyCode::Char('r')).is_empty());
    assert!(matches!(
        m.flow.dialog,
        Some(super::drain_flow::Dialog::Options(_))
    ));
    press(&mut m, KeyCode::Esc);
    m.readonly = true;
    assert!(press(&mut m, KeyCode::Char('c')).is_empty());
    assert!(press(&mut m, KeyCode::Char('u')).is_empty());
    let hints = super::keymap::hints(Some(Pane::Nodes), true);
    assert!(hints.iter().all(|(k, _)| k != "c" && k != "u"), "{hints:?}");
    // The read-only help (ui::help) is checked beside it.
}

#[test]
fn commands_switch_views_and_quit() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "pdb");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Pdbs);
    assert_eq!(m.views.pdbs, vec!["default/http-spring"]);
    assert_eq!(
        m.cache.index.pdb_pods["default/http-spring"].len(),
        11,
        "10 replicas + the Pending one"
    );
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.view, View::Main);
    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "events");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focus, Pane::Events);
    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "bogus");
    press(&mut m, KeyCode::Enter);
    assert!(
        m.flash
            .as_ref()
            .is_some_and(|(t, _)| t.contains("unknown command"))
    );
    assert!(!m.quit);
    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "q");
    press(&mut m, KeyCode::Enter);
    assert!(m.quit);
}

#[test]
fn q_and_ctrl_c_quit_but_q_in_the_filter_line_is_text() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('/'));
    press(&mut m, KeyCode::Char('q'));
    assert!(!m.quit);
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(m.quit);
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('q'));
    assert!(m.quit);
}

#[test]
fn zero_drops_the_namespace_filter_without_rewatching() {
    let mut m = seed_model((80, 24));
    m.namespace = Some("default".into());
    m.namespace_arg = Some("default".into());
    m.stale = true;
    m.refresh();
    assert!(m.views.pods.iter().all(|k| k.starts_with("default/")));
    let cmds = press(&mut m, KeyCode::Char('0'));
    // The pods of every namespace are already watched: nothing to restart or relist.
    assert_eq!(cmds, vec![]);
    assert_eq!(m.generation, 1);
    assert_eq!(m.conn_state(), ConnState::Live);
    assert_eq!(m.namespace, None);
    assert!(m.views.pods.iter().any(|k| k.starts_with("kube-system/")));
    assert!(
        m.flash
            .as_ref()
            .unwrap()
            .0
            .starts_with("showing all namespaces")
    );
    // 0 again: back to the -n namespace.
    press(&mut m, KeyCode::Char('0'));
    assert_eq!(m.namespace.as_deref(), Some("default"));
    m.refresh();
    assert!(m.views.pods.iter().all(|k| k.starts_with("default/")));
}

#[test]
fn events_default_to_the_node_and_its_pods_newest_first() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Char('j')); // node0
    assert_eq!(m.views.events.len(), 2);
    // Events of a pod that left node0 stay with node0.
    let p = pod(
        "default",
        "http-spring-6d9f8b7c5-00000",
        Some("node0"),
        "Running",
        3600,
    );
    feed(&mut m, Feed::Pods(Ev::Delete(p)));
    feed(
        &mut m,
        Feed::Events(Ev::Apply(fixtures::event(
            "default",
            "Pod",
            "http-spring-6d9f8b7c5-00000",
            "Killing",
            false,
            "Stopping container app",
            1,
        ))),
    );
    m.refresh();
    assert_eq!(m.views.events.len(), 3);
    assert!(
        m.views.events[0].contains("Killing"),
        "newest first: {:?}",
        m.views.events
    );
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('a'));
    assert_eq!(m.views.events.len(), 6);
}

#[test]
fn scrolling_keeps_the_selection_visible() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('a'));
    let rows = crate::app::layout::table_rows(&m, Table::Pods);
    press(&mut m, KeyCode::Char('G'));
    let nav = m.nav(Table::Pods);
    assert_eq!(nav.selected, m.views.pods.len() - 1);
    assert!(nav.selected >= nav.offset && nav.selected < nav.offset + rows);
    press(&mut m, KeyCode::PageUp);
    let nav = m.nav(Table::Pods);
    assert!(nav.selected >= nav.offset && nav.selected < nav.offset + rows);
    press(&mut m, KeyCode::Char('g'));
    assert_eq!(m.nav(Table::Pods).offset, 0);
}

#[test]
fn pods_landing_on_a_node_are_marked_for_a_while() {
    let mut m = seed_model((80, 24));
    let p = pod(
        "default",
        "http-spring-6d9f8b7c5-00000",
        Some("node1"),
        "Running",
        1,
    );
    feed(&mut m, Feed::Pods(Ev::Apply(p.clone())));
    assert!(
        m.arrivals
            .contains_key("default/http-spring-6d9f8b7c5-00000"),
        "moved node0 → node1"
    );
    feed(
        &mut m,
        Feed::Pods(Ev::Apply(pod(
            "default",
            "http-spring-6d9f8b7c5-15838",
            Some("node0"),
            "Running",
            1,
        ))),
    );
    assert_eq!(m.arrivals.len(), 1, "an update in place is not an arrival");
    let later = m.now + jiff::SignedDuration::from_secs(super::model::ARRIVAL_SECS);
    update(&mut m, Msg::Tick(later));
    assert!(m.arrivals.is_empty());
}

#[test]
fn a_410_expiry_shows_resyncing_not_disconnected() {
    let mut m = seed_model((80, 24));
    update(
        &mut m,
        Msg::Watch {
            generation: 1,
            report: WatchReport::Expired(Kind::Pods),
        },
    );
    assert_eq!(m.conn_state(), ConnState::Resyncing);
}

#[test]
fn ticks_redraw_only_when_something_on_screen_ages_visibly() {
    // master0's rows are all old: a tick changes nothing on screen.
    let mut m = seed_model((80, 24));
    m.redraw = false;
    let next = m.now + jiff::SignedDuration::from_secs(1);
    update(&mut m, Msg::Tick(next));
    assert!(!m.redraw);
    // The Pending pod is 30 s old: its age ticks every second.
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('p'));
    m.redraw = false;
    let next = m.now + jiff::SignedDuration::from_secs(1);
    update(&mut m, Msg::Tick(next));
    assert!(m.redraw);
    // An hour later nothing is younger than 10 minutes: redraw once a minute only.
    let later = m.now + jiff::SignedDuration::from_secs(3600);
    update(&mut m, Msg::Tick(later));
    // The watches kept confirming they are alive (else the header's "stale since" ticks).
    for kind in Kind::ALL {
        let interval = Some(std::time::Duration::from_secs(60));
        let report = WatchReport::Alive { kind, interval };
        update(
            &mut m,
            Msg::Watch {
                generation: 1,
                report,
            },
        );
    }
    m.redraw = false;
    let sec = later.as_second() % 60;
    let same_minute = later + jiff::SignedDuration::from_secs(if sec < 58 { 1 } else { 0 });
    update(&mut m, Msg::Tick(same_minute));
    assert!(!m.redraw, "nothing visible changed");
    update(
        &mut m,
        Msg::Tick(same_minute + jiff::SignedDuration::from_secs(60)),
    );
    assert!(m.redraw, "minute-level ages moved");
}

#[test]
fn the_header_follows_the_servers_version_after_a_control_plane_upgrade() {
    let mut m = seed_model((100, 24));
    let before = m.conn.version.clone();
    update(&mut m, Msg::ServerVersion("v1.26.0".into()));
    assert_ne!(before, "v1.26.0");
    assert_eq!(m.conn.version, "v1.26.0");
    assert!(m.redraw && m.versions.dirty);
}

#[test]
fn keys_that_cannot_act_where_pressed_say_why_or_act_on_the_pods_panes_node() {
    let mut m = seed_model((100, 30));
    press(&mut m, KeyCode::Char('j')); // node0
    // `p` is the pods pane's: said, not silent.
    press(&mut m, KeyCode::Char('p'));
    let flash = m.flash.as_ref().map(|f| f.0.clone()).unwrap_or_default();
    assert!(flash.contains("works in the pods pane"), "{flash}");
    // In the pods pane (its title names node0), `c` cordons node0.
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Pane::Pods);
    press(&mut m, KeyCode::Char('c'));
    assert!(
        matches!(&m.flow.dialog, Some(super::drain_flow::Dialog::Cordon { node }) if node == "node0"),
        "{:?}",
        m.flow.dialog
    );
    // --readonly: the key says it is off.
    let mut r = seed_model((100, 30));
    r.readonly = true;
    press(&mut r, KeyCode::Char('c'));
    let flash = r.flash.as_ref().map(|f| f.0.clone()).unwrap_or_default();
    assert!(flash.starts_with("read-only: c"), "{flash}");
    assert!(r.flow.dialog.is_none());
}
