//! `update` tests of the maintenance workflow: options → plan → confirm → live rows, cancel,
//! read-only, uncordon facts, demo upgrade, resume on start.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::drain_flow::{Dialog, Field, FlowCmd, FlowMsg};
use super::flow_fixtures::{self as fx, cordoned_node0, drain_event, flow_model};
use super::model::Model;
use super::msg::{Cmd, Msg};
use super::update;
use crate::cluster::watch::{Ev, Feed};
use crate::drain::DsLookup;
use crate::drain::events::{DrainEvent, DrainOutcome, NodeState, PodState};
use crate::drain::journal::{Action, Entry, NodeHistory};
use crate::drain::plan::PodAction;

fn press(m: &mut Model, code: KeyCode) -> Vec<Cmd> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(m: &mut Model, c: char) -> Vec<Cmd> {
    press(m, KeyCode::Char(c))
}

#[test]
fn r_opens_options_then_plan_then_refuses_blocked_then_starts() {
    let mut m = flow_model((120, 40));
    assert_eq!(m.selected_node.as_deref(), Some("node0"));
    // kubectl GETs the DaemonSets of the node's pods; so does the plan (they are not watched).
    assert_eq!(
        ch(&mut m, 'r'),
        vec![Cmd::Flow(FlowCmd::CheckDaemonSets {
            node: "node0".into(),
            owners: vec![("kube-system".into(), "kube-proxy".into())],
        })]
    );
    let Some(Dialog::Options(form)) = &m.flow.dialog else {
        panic!("options dialog expected, got {:?}", m.flow.dialog);
    };
    assert!(form.ignore_daemonsets, "pre-ticked");
    assert!(!form.force && !form.delete_emptydir_data && !form.disable_eviction);
    assert_eq!(form.kubectl(), "kubectl drain node0 --ignore-daemonsets");
    // Plan with the defaults: debug-shell has no controller, cache-0 has emptyDir data.
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    let Some(Dialog::Plan { plan, .. }) = &m.flow.dialog else {
        panic!("plan expected");
    };
    assert!(!plan.can_proceed());
    let hints = super::drain_flow::unblock_hints(plan);
    assert!(
        hints.iter().any(|h| h.contains("tick --force")),
        "{hints:?}"
    );
    // Enter on a blocked plan starts nothing and says why.
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert!(matches!(m.flow.dialog, Some(Dialog::Plan { .. })));
    assert!(m.flash.as_ref().unwrap().0.contains("blocked"));
    // Back to the options, tick --force and --delete-emptydir-data.
    press(&mut m, KeyCode::Esc);
    let Some(Dialog::Options(form)) = &m.flow.dialog else {
        panic!("options expected");
    };
    assert_eq!(form.field(), Field::IgnoreDaemonsets);
    press(&mut m, KeyCode::Down);
    ch(&mut m, ' ');
    press(&mut m, KeyCode::Down);
    ch(&mut m, ' ');
    // Type a timeout.
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    for _ in 0..2 {
        press(&mut m, KeyCode::Backspace);
    }
    for c in "5m".chars() {
        ch(&mut m, c);
    }
    let Some(Dialog::Options(form)) = &m.flow.dialog else {
        panic!("options expected");
    };
    assert!(form.force && form.delete_emptydir_data);
    assert_eq!(form.timeout, "5m");
    let form = form.clone();
    press(&mut m, KeyCode::Enter);
    let Some(Dialog::Plan { plan, .. }) = &m.flow.dialog else {
        panic!("plan expected");
    };
    assert!(plan.can_proceed(), "{:?}", plan.errors);
    let cmds = press(&mut m, KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Cmd::Flow(FlowCmd::Drain {
            node: "node0".into(),
            form
        })]
    );
    assert!(matches!(m.flow.dialog, Some(Dialog::Live)));
    let live = m.flow.live.as_ref().unwrap();
    assert_eq!(live.timeout, Some(300));
    assert_eq!(live.rows.len(), 4);
    assert!(live.rows.iter().all(|r| r.state == PodState::Queued));
    assert_eq!(live.skipped, 1, "the DaemonSet pod");
}

#[test]
fn a_missing_daemonset_blocks_the_plan_as_in_kubectl() {
    let mut m = flow_model((120, 40));
    ch(&mut m, 'r');
    let missing = [(
        ("kube-system".to_string(), "kube-proxy".to_string()),
        DsLookup::NotFound,
    )];
    update(
        &mut m,
        Msg::Flow(FlowMsg::DaemonSets {
            node: "node0".into(),
            found: missing.into_iter().collect(),
        }),
    );
    press(&mut m, KeyCode::Enter);
    let Some(Dialog::Plan { plan, .. }) = &m.flow.dialog else {
        panic!("plan expected, got {:?}", m.flow.dialog);
    };
    let proxy = plan
        .pods
        .iter()
        .find(|p| p.key() == "kube-system/kube-proxy-n0abc")
        .expect("the DaemonSet pod is in the plan");
    assert_eq!(
        proxy.action,
        PodAction::Blocked {
            reason: "daemonsets.apps \"kube-proxy\" not found".into(),
            block: crate::drain::plan::BlockKind::Lookup,
        },
        "kubectl's error for an orphaned DaemonSet pod without --force"
    );
    // A check made for another node does not leak into this node's plan.
    press(&mut m, KeyCode::Esc);
    press(&mut m, KeyCode::Esc);
    m.flow.daemonsets.as_mut().unwrap().0 = "node1".into();
    ch(&mut m, 'r');
    assert!(
        m.flow.daemonsets.is_none(),
        "a new dialog forgets the old check"
    );
}

#[test]
fn invalid_option_stays_in_the_dialog_with_the_reason() {
    let mut m = flow_model((120, 40));
    ch(&mut m, 'r');
    for _ in 0..3 {
        press(&mut m, KeyCode::Down);
    }
    ch(&mut m, 'x');
    press(&mut m, KeyCode::Enter);
    let Some(Dialog::Options(form)) = &m.flow.dialog else {
        panic!("still the options");
    };
    assert!(form.error.as_ref().unwrap().contains("--grace-period"));
}

#[test]
fn typing_replaces_a_default_j_k_move_and_the_options_are_remembered() {
    let mut m = flow_model((120, 40));
    ch(&mut m, 'r');
    // j moves (not typed): down to --grace-period.
    for _ in 0..3 {
        ch(&mut m, 'j');
    }
    ch(&mut m, 'k');
    ch(&mut m, 'j');
    let form = |m: &Model| match &m.flow.dialog {
        Some(Dialog::Options(f)) => f.clone(),
        other => panic!("options expected, got {other:?}"),
    };
    assert_eq!(form(&m).field(), Field::GracePeriod);
    // The first keystroke replaces "-1" (not "-15"); the next ones append.
    ch(&mut m, '5');
    ch(&mut m, '0');
    assert_eq!(form(&m).grace_period, "50");
    // In the pod selector, j and k are letters.
    ch(&mut m, 'j');
    ch(&mut m, 'j');
    assert_eq!(form(&m).field(), Field::PodSelector);
    for c in "k8s-app=web".chars() {
        ch(&mut m, c);
    }
    assert_eq!(form(&m).pod_selector, "k8s-app=web");
    assert_eq!(form(&m).field(), Field::PodSelector);
    // Started once: the next drain's form starts from these options.
    m.flow.last_options = Some(form(&m));
    press(&mut m, KeyCode::Esc);
    m.flow.dialog = None;
    ch(&mut m, 'r');
    let again = form(&m);
    assert_eq!(again.grace_period, "50");
    assert_eq!(again.pod_selector, "k8s-app=web");
    assert_eq!(again.cursor, 0);
}

#[test]
fn drain_events_move_the_pod_rows() {
    let mut m = flow_model((120, 40));
    fx::live_midway(&mut m);
    let live = m.flow.live.as_ref().unwrap();
    assert_eq!(live.state, NodeState::Evicting);
    assert_eq!(live.cordoned, Some(false));
    assert_eq!(crate::app::drain_flow::pods_left(&m, live), 3);
    let row = |k: &str| live.rows.iter().find(|r| r.key == k).unwrap().state.clone();
    assert!(matches!(
        row("default/web-7c9d-aaaaa"),
        PodState::Gone { .. }
    ));
    assert!(matches!(
        row("default/web-7c9d-bbbbb"),
        PodState::BlockedByPdb {
            healthy: Some(2),
            needed: Some(3),
            ..
        }
    ));
    assert!(matches!(
        row("default/cache-0"),
        PodState::Terminating { .. }
    ));
    assert_eq!(row("default/debug-shell"), PodState::Queued);
    assert_eq!(
        live.replacements["ReplicaSet default/web-7c9d"]["default/web-7c9d-ddddd"]
            .on_node
            .as_deref(),
        Some("node1")
    );
    // Events of another node are not this drain's.
    drain_event(
        &mut m,
        DrainEvent::State {
            node: "node1".into(),
            state: NodeState::Failed,
        },
    );
    assert_eq!(m.flow.live.as_ref().unwrap().state, NodeState::Evicting);
    // Esc leaves the running drain's panel (it stays on screen); it does not cancel.
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert!(m.flow.dialog.is_none() && m.flow.panel_shown());
    assert!(m.flow.live.as_ref().unwrap().outcome.is_none());
}

#[test]
fn the_drain_is_a_panel_other_keys_work_beside_it() {
    use super::model::{Pane, View};
    let mut m = flow_model((120, 40));
    fx::live_midway(&mut m);
    assert!(m.flow.panel_focused());
    let areas = |m: &Model| super::layout::split(m, ratatui::layout::Rect::new(0, 0, 120, 40));
    let focused = areas(&m);
    assert!(focused.drain.height > 9, "{focused:?}");
    // Tab: the pods pane, the panel shrinks and stays; the drain goes on.
    assert!(press(&mut m, KeyCode::Tab).is_empty());
    assert_eq!(m.focus, Pane::Pods);
    assert!(!m.flow.panel_focused() && m.flow.panel_shown());
    let beside = areas(&m);
    assert!(beside.drain.height > 0 && beside.drain.height < focused.drain.height);
    assert!(beside.pods.height >= 5, "{beside:?}");
    // Keys of the panes work while the drain runs: the pending pods, a filter, `:pdb`.
    ch(&mut m, 'p');
    assert_eq!(m.pod_scope, super::model::PodScope::Pending);
    ch(&mut m, '/');
    assert!(matches!(m.input, super::model::Input::Filter(_)));
    press(&mut m, KeyCode::Esc);
    // Shift-Tab from the pods comes back into the panel; a key it does not take leaves it
    // and works where the focus goes (here `:`, the command line).
    press(&mut m, KeyCode::BackTab);
    assert!(m.flow.panel_focused());
    ch(&mut m, ':');
    assert!(!m.flow.panel_focused());
    assert!(matches!(m.input, super::model::Input::Command(_)));
    for c in "pdb".chars() {
        ch(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Pdbs);
    assert_eq!(areas(&m).drain.height, 0, "the PDB view is full screen");
    // `v` brings the panel back, focused, in the main view; `v` in it puts it away.
    ch(&mut m, 'v');
    assert_eq!(m.view, View::Main);
    assert!(m.flow.panel_focused());
    ch(&mut m, 'v');
    assert!(!m.flow.panel_shown());
    assert_eq!(areas(&m).drain.height, 0);
    // Put away, the drain still runs and `x` still needs the panel.
    assert!(m.flow.live.as_ref().unwrap().outcome.is_none());
    ch(&mut m, 'v');
    assert_eq!(ch(&mut m, 'x'), vec![Cmd::Flow(FlowCmd::CancelDrain)]);
}

#[test]
fn v_without_a_drain_says_so() {
    let mut m = flow_model((120, 40));
    assert!(ch(&mut m, 'v').is_empty());
    assert!(m.flash.as_ref().unwrap().0.contains("no drain"));
}

#[test]
fn x_cancels_and_the_node_stays_cordoned() {
    let mut m = flow_model((120, 40));
    fx::live_midway(&mut m);
    assert_eq!(ch(&mut m, 'x'), vec![Cmd::Flow(FlowCmd::CancelDrain)]);
    assert!(m.flow.live.as_ref().unwrap().cancel_sent);
    assert!(ch(&mut m, 'x').is_empty(), "asked once");
    drain_event(
        &mut m,
        DrainEvent::Finished(DrainOutcome {
            node: "node0".into(),
            state: NodeState::Cancelled,
            errors: vec![],
            pending_pods: vec!["cache-0".into()],
            message: "node/node0 left cordoned".into(),
        }),
    );
    assert!(m.flash.as_ref().unwrap().0.contains("stays cordoned"));
    // Over: Esc closes the panel; `v` shows the last drain again.
    press(&mut m, KeyCode::Esc);
    assert!(m.flow.dialog.is_none() && !m.flow.panel_shown());
    ch(&mut m, 'v');
    assert!(m.flow.panel_focused());
}

#[test]
fn readonly_refuses_cordon_drain_uncordon_and_upgrade() {
    let mut m = flow_model((120, 40));
    m.readonly = true;
    for c in ['c', 'u', 'U'] {
        assert!(ch(&mut m, c).is_empty(), "{c}");
        assert!(m.flow.dialog.is_none(), "{c}");
        let flash = m.flash.take().map(|f| f.0).unwrap_or_default();
        assert!(flash.starts_with("read-only"), "{c}: {flash}");
    }
    let hints = super::keymap::hints(Some(super::model::Pane::Nodes), true);
    assert!(hints.iter().all(|(k, _)| !["c", "u"].contains(&k.as_str())));
    assert!(
        hints.iter().any(|(k, _)| k == "r"),
        "the plan can be previewed"
    );
    assert!(super::drain_flow::hints(&m, super::drain_flow::Ctx::NodesDemo).is_empty());
}

#[test]
fn cordon_asks_then_sends_the_command() {
    let mut m = flow_model((120, 40));
    ch(&mut m, 'c');
    assert!(matches!(&m.flow.dialog, Some(Dialog::Cordon { node }) if node == "node0"));
    assert!(ch(&mut m, 'n').is_empty());
    assert!(m.flow.dialog.is_none());
    ch(&mut m, 'c');
    assert_eq!(
        press(&mut m, KeyCode::Enter),
        vec![Cmd::Flow(FlowCmd::Cordon {
            node: "node0".into()
        })]
    );
    update(
        &mut m,
        Msg::Flow(FlowMsg::NodeOp {
            node: "node0".into(),
            verb: "cordon",
            result: Err("not allowed (403 Forbidden)".into()),
        }),
    );
    assert!(
        m.flash
            .as_ref()
            .unwrap()
            .0
            .contains("could not cordon node0")
    );
}

#[test]
fn uncordon_confirmation_shows_versions_before_and_now() {
    let mut m = flow_model((120, 40));
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    ch(&mut m, 'u');
    assert!(matches!(&m.flow.dialog, Some(Dialog::Uncordon { node }) if node == "node0"));
    let f = super::drain_flow::uncordon_facts(&m, "node0").unwrap();
    assert_eq!(
        f.versions,
        vec![
            (
                "OS image",
                Some("Ubuntu 24.04".into()),
                "Ubuntu 24.04.1".into()
            ),
            ("kernel", Some("6.8.0".into()), "6.8.0-2".into()),
            ("kubelet", Some("v1.33.1".into()), "v1.33.2".into()),
        ]
    );
    assert_eq!(f.ready, crate::cluster::rows::NodeReady::True);
    assert_eq!(f.not_ours, None);
    assert_eq!(f.pending, 1);
    assert_eq!(f.pending_fit, 1, "the Pending pod fits on node0");
    assert_eq!(
        press(&mut m, KeyCode::Enter),
        vec![Cmd::Flow(FlowCmd::Uncordon {
            node: "node0".into(),
            force: false
        })]
    );
}

#[test]
fn uncordon_of_a_foreign_cordon_says_so_and_forces_only_when_confirmed() {
    let mut m = flow_model((120, 40));
    fx::feed(
        &mut m,
        Feed::Nodes(Ev::Apply(crate::app::fixtures::node(
            "node0", "", true, true,
        ))),
    );
    ch(&mut m, 'u');
    let f = super::drain_flow::uncordon_facts(&m, "node0").unwrap();
    assert!(f.not_ours.unwrap().contains("not cordoned by kubedrain"));
    assert_eq!(f.versions[0].1, None);
    assert_eq!(
        press(&mut m, KeyCode::Enter),
        vec![Cmd::Flow(FlowCmd::Uncordon {
            node: "node0".into(),
            force: true
        })]
    );
}

#[test]
fn demo_upgrade_only_for_a_drained_node_and_not_on_real_clusters() {
    let mut m = flow_model((120, 40));
    assert!(ch(&mut m, 'U').is_empty());
    assert!(m.flash.as_ref().unwrap().0.contains("cordon"));
    fx::live_drained(&mut m);
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(false))));
    assert!(m.flow.live.as_ref().unwrap().is_drained());
    // From the drain view.
    assert_eq!(
        ch(&mut m, 'U'),
        vec![Cmd::Flow(FlowCmd::Upgrade {
            node: "node0".into()
        })]
    );
    assert!(m.flow.dialog.is_none());
    // Back Ready after a reboot with a new kubelet: said in the status line.
    let mut n = cordoned_node0(true);
    n.boot_id = "b2".into();
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(n)));
    update(&mut m, Msg::Tick(crate::app::fixtures::now()));
    assert!(m.flash.as_ref().unwrap().0.contains("v1.33.1 → v1.33.2"));
    // A real cluster has no `U`.
    let mut real = flow_model((120, 40));
    real.flow.demo_upgrade = false;
    fx::feed(&mut real, Feed::Nodes(Ev::Apply(cordoned_node0(false))));
    assert!(ch(&mut real, 'U').is_empty());
    assert!(real.flash.as_ref().unwrap().0.contains("demo cluster only"));
    assert!(super::drain_flow::hints(&real, super::drain_flow::Ctx::NodesDemo).is_empty());
}

#[test]
fn on_start_unfinished_nodes_are_offered_for_resume() {
    let mut m = flow_model((120, 40));
    let mut n = cordoned_node0(false);
    n.meta
        .annotations
        .as_mut()
        .unwrap()
        .insert("kubedrain.io/drain-state".into(), "draining".into());
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(n)));
    let entry = Entry {
        time: crate::app::fixtures::now(),
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
        Msg::Flow(FlowMsg::Journal(NodeHistory::from_entries([entry]))),
    );
    let Some(Dialog::Resume { items, .. }) = &m.flow.dialog else {
        panic!("resume offer expected");
    };
    assert_eq!(items.len(), 1);
    assert!(items[0].interrupted);
    // `r` resumes: the options dialog for that node.
    ch(&mut m, 'r');
    assert!(matches!(&m.flow.dialog, Some(Dialog::Options(f)) if f.node == "node0"));
    // Checked once only.
    m.flow.dialog = None;
    update(&mut m, Msg::Flow(FlowMsg::Journal(NodeHistory::default())));
    assert!(m.flow.dialog.is_none());
}

#[test]
fn the_engines_plan_replaces_the_rows() {
    let mut m = flow_model((120, 40));
    fx::live_midway(&mut m);
    let opts = crate::drain::DrainOptions {
        ignore_daemonsets: true,
        force: true,
        delete_emptydir_data: true,
        ..Default::default()
    };
    let mut plan = super::drain_flow::plan_from_cache(&m, "node0", &opts).unwrap();
    // debug-shell finished meanwhile: the engine does not drain it.
    plan.pods.retain(|p| p.name != "debug-shell");
    drain_event(
        &mut m,
        DrainEvent::Planned {
            node: "node0".into(),
            plan: Box::new(plan),
        },
    );
    let live = m.flow.live.as_ref().unwrap();
    assert_eq!(live.rows.len(), 3);
    let web = live
        .rows
        .iter()
        .find(|r| r.key == "default/web-7c9d-aaaaa")
        .unwrap();
    assert!(matches!(web.state, PodState::Gone { .. }), "states kept");
    assert!(live.rows.iter().all(|r| r.key != "default/debug-shell"));
    assert_eq!(live.skipped, 1);
}

#[test]
fn read_only_previews_the_plan_and_refuses_to_start() {
    let mut m = flow_model((120, 40));
    m.readonly = true;
    // `r` opens the options and the plan, as `kubedrain plan` shows them; nothing is sent.
    let cmds = ch(&mut m, 'r');
    assert!(
        cmds.iter()
            .all(|c| matches!(c, Cmd::Flow(FlowCmd::CheckDaemonSets { .. }))),
        "{cmds:?}"
    );
    assert!(matches!(m.flow.dialog, Some(Dialog::Options(_))));
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert!(matches!(m.flow.dialog, Some(Dialog::Plan { .. })));
    // Enter would start the drain: refused, said, and the plan stays on screen.
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert!(matches!(m.flow.dialog, Some(Dialog::Plan { .. })));
    let flash = m.flash.as_ref().map(|f| f.0.clone()).unwrap_or_default();
    assert!(flash.starts_with("read-only"), "{flash}");
    assert!(m.flow.live.is_none());
    press(&mut m, KeyCode::Esc);
    press(&mut m, KeyCode::Esc);
    assert!(m.flow.dialog.is_none());
}
