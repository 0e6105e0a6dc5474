//! What the workflow's executor reports (drain events, cordon results, the journal, demo
//! upgrades) and what changes with time (finished upgrades, countdowns).

use super::update::flash;
use super::*;
use crate::app::model::Model;
use crate::app::msg::Cmd;
use crate::cluster::rows::{NodeReady, NodeRow};
use crate::drain::events::{DrainEvent, NodeState};
use crate::drain::journal;

/// Applies a message from the executor.
pub fn on_msg(m: &mut Model, msg: FlowMsg) -> Vec<Cmd> {
    m.redraw = true;
    match msg {
        FlowMsg::Drain(ev) => {
            let now = m.now;
            if let Some(live) = &mut m.flow.live
                && event_node(&ev) == live.node
            {
                let finished = matches!(ev, DrainEvent::Finished(_));
                live.apply(ev, now);
                // "A drain is running" would be false now: back to what was shown.
                if finished && let Some(Dialog::Quit { back, .. }) = &mut m.flow.dialog {
                    m.flow.dialog = back.take().map(|b| *b);
                }
                if finished && let Some(o) = &live.outcome {
                    let text = match o.state {
                        NodeState::Drained => format!("{} drained", o.node),
                        NodeState::Cancelled | NodeState::Interrupted => format!(
                            "drain of {} {}: it stays cordoned",
                            o.node,
                            o.state.annotation()
                        ),
                        NodeState::TimedOut => {
                            format!("drain of {} timed out: it stays cordoned", o.node)
                        }
                        _ => format!("drain of {} failed: see the drain panel (v)", o.node),
                    };
                    flash(m, text);
                }
            }
        }
        FlowMsg::NodeOp { node, verb, result } => match result {
            Ok(text) => flash(m, text),
            Err(e) => flash(m, format!("could not {verb} {node}: {e}")),
        },
        FlowMsg::Journal(entries) => {
            m.flow.journal = Some(entries);
            check_resume(m);
        }
        FlowMsg::DaemonSets { node, found } => m.flow.daemonsets = Some((node, found)),
        FlowMsg::Upgrade { node, result } => {
            if let Err(e) = result {
                m.flow.upgrading.remove(&node);
                flash(m, format!("could not upgrade {node}: {e}"));
            }
        }
    }
    Vec::new()
}

/// The node a drain event is about.
pub fn event_node(ev: &DrainEvent) -> &str {
    match ev {
        DrainEvent::State { node, .. }
        | DrainEvent::Cordoned { node, .. }
        | DrainEvent::Planned { node, .. }
        | DrainEvent::Pod { node, .. }
        | DrainEvent::Replacement { node, .. }
        | DrainEvent::Notice { node, .. } => node,
        DrainEvent::Finished(o) => &o.node,
    }
}

/// Once nodes are loaded and the journal read: offer to resume what kubedrain left unfinished.
pub fn check_resume(m: &mut Model) {
    if m.flow.resume_checked {
        return;
    }
    let nodes_live = m.watch.get(&crate::cluster::watch::Kind::Nodes)
        == Some(&crate::app::model::WatchState::Live);
    let Some(history) = &m.flow.journal else {
        return;
    };
    if !nodes_live {
        return;
    }
    m.flow.resume_checked = true;
    let nodes: Vec<&NodeRow> = m.cache.nodes.values().collect();
    let items = journal::find_unfinished_in(&nodes, history);
    if !items.is_empty() && m.flow.dialog.is_none() {
        m.flow.dialog = Some(Dialog::Resume { items, selected: 0 });
        m.redraw = true;
    }
}

/// Every second: notice demo upgrades that finished (node back Ready after a new boot).
/// Returns whether the workflow shows something that changes with time.
pub fn tick(m: &mut Model) -> bool {
    // Elapsed, timeout and grace countdowns in the drain panel, focused or not.
    let running = m.flow.panel_shown() && m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none());
    let timers = running
        || match &m.flow.dialog {
            // "Ready for 12s", "cordoned 3m ago"; the live view under the quit question.
            Some(Dialog::Uncordon { .. } | Dialog::Resume { .. } | Dialog::Quit { .. }) => true,
            _ => false,
        };
    if m.flow.upgrading.is_empty() {
        return timers;
    }
    let mut done = Vec::new();
    for (node, (boot, kubelet)) in &m.flow.upgrading {
        match m.cache.nodes.get(node) {
            Some(n) if n.ready == NodeReady::True && n.boot_id != *boot => {
                done.push((node.clone(), kubelet.clone(), n.kubelet_version.clone()))
            }
            None => done.push((node.clone(), String::new(), String::new())),
            _ => {}
        }
    }
    for (node, before, now) in done {
        m.flow.upgrading.remove(&node);
        flash(
            m,
            format!("{node} is back Ready: kubelet {before} → {now}; uncordon it with u"),
        );
    }
    true
}
