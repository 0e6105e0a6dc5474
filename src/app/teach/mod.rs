//! Teach mode and the timeline. `t` shows a narration pane that explains each step as the
//! cluster and the drain report it; every narration, every action the operator takes and
//! every status-line message is also kept, with its time, in the timeline (`:log`), so a flash
//! that vanished can still be read.

pub mod narrate;

use std::collections::{HashSet, VecDeque};

use jiff::Timestamp;

use super::drain_flow::{FlowCmd, FlowMsg};
use super::model::Model;
use super::msg::{Cmd, Msg};
use crate::cluster::watch::{Ev, Feed, WatchReport};
use narrate::Told;

/// The timeline keeps this many entries (the oldest go first).
pub const KEEP: usize = 2_000;

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A step explained (the narration).
    Step,
    /// Something the operator did.
    Action,
    /// A status-line message.
    Message,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Wall-clock time it was recorded.
    pub at: Timestamp,
    pub kind: Kind,
    pub text: String,
    /// The API fact behind a step.
    pub fact: Option<String>,
}

/// Teach mode's part of the model.
#[derive(Debug, Default)]
pub struct Teach {
    /// The narration pane is shown (`t`, or `--teach`).
    pub on: bool,
    pub timeline: VecDeque<Entry>,
    /// Timeline entries dropped to stay under `KEEP` (said at the top of `:log`).
    pub dropped: usize,
    /// What was explained already (a pod blocked ten times is explained once).
    told: HashSet<String>,
    /// `:log`'s first entry shown.
    pub scroll: usize,
    /// The operator's time zone for the timeline's clock (read at start, not while drawing).
    pub tz: Option<jiff::tz::TimeZone>,
}

impl Teach {
    /// Entries ever recorded (grows with each one, also once the oldest are dropped).
    pub fn told_count(&self) -> usize {
        self.timeline.len() + self.dropped
    }

    /// Appends an entry, dropping the oldest past `KEEP`.
    pub fn record(&mut self, at: Timestamp, kind: Kind, text: String, fact: Option<String>) {
        if self.timeline.len() == KEEP {
            self.timeline.pop_front();
            self.dropped += 1;
        }
        self.timeline.push_back(Entry {
            at,
            kind,
            text,
            fact,
        });
    }

    fn step(&mut self, at: Timestamp, t: Told) {
        self.record(at, Kind::Step, t.text, t.fact);
    }
}

/// Before `msg` changes the model: the steps it brings (the cache still holds the before).
pub fn before(m: &mut Model, msg: &Msg) {
    let now = m.now;
    match msg {
        Msg::Watch {
            generation,
            report: WatchReport::Feed(Feed::Nodes(Ev::Apply(n))),
        } if *generation == m.generation => {
            let was = m.cache.nodes.get(n.name()).map(|o| o.unschedulable);
            if was.is_some_and(|w| w != n.unschedulable) {
                let t = narrate::cordon_changed(n.name(), n.unschedulable);
                m.teach.step(now, t);
            }
        }
        Msg::Flow(FlowMsg::Drain(ev)) => {
            if matches!(ev, crate::drain::events::DrainEvent::Planned { .. }) {
                // A new drain: its pods are explained afresh.
                m.teach.told.clear();
            }
            let cluster_now = m.cluster_now();
            let room = match ev {
                crate::drain::events::DrainEvent::Replacement {
                    on_node: Some(n), ..
                } => room_on(m, n),
                _ => None,
            };
            if let Some(t) = narrate::drain_event(ev, cluster_now, room, &mut m.teach.told) {
                m.teach.step(now, t);
            }
        }
        Msg::Flow(FlowMsg::Upgrade {
            node,
            result: Ok(()),
        }) => m.teach.step(now, narrate::upgrade_started(node)),
        _ => {}
    }
}

/// The requests on `node` over its allocatable, from the cache; `None` for a node not (or
/// no longer) known, or cordoned, or when RBAC hides some pods (the sums would be partial):
/// then the narration does not claim why it was chosen.
fn room_on(m: &Model, node: &str) -> Option<narrate::NodeRoom> {
    if m.pods_hidden().is_some() {
        return None;
    }
    let row = m.cache.nodes.get(node).filter(|n| !n.unschedulable)?;
    let load = m.cache.index.load.get(node).copied().unwrap_or_default();
    Some(narrate::NodeRoom {
        cpu_pct: crate::app::cells::pct(load.cpu_m, row.cpu_allocatable_m),
        mem_pct: crate::app::cells::pct(load.mem, row.mem_allocatable),
    })
}

/// After `update`: the flash it set and the actions it sent go to the timeline.
pub fn after(m: &mut Model, flash_before: u64, cmds: &[Cmd]) {
    if let Some((text, at)) = &m.flash
        && m.flash_seq != flash_before
    {
        let (text, at) = (text.clone(), *at);
        m.teach.record(at, Kind::Message, text, None);
    }
    for cmd in cmds {
        if let Some(text) = action(cmd) {
            m.teach.record(m.now, Kind::Action, text, None);
        }
    }
}

/// What the operator asked for, in kubectl's words where it has them.
fn action(cmd: &Cmd) -> Option<String> {
    let Cmd::Flow(f) = cmd else {
        return None;
    };
    Some(match f {
        FlowCmd::Cordon { node } => format!("you: cordon {node} (kubectl cordon {node})"),
        FlowCmd::Uncordon { node, force } => {
            let force = if *force {
                ", lifting a cordon of someone else"
            } else {
                ""
            };
            format!("you: uncordon {node}{force} (kubectl uncordon {node})")
        }
        FlowCmd::Drain { form, .. } => format!("you: drain ({})", form.kubectl()),
        FlowCmd::CancelDrain => "you: cancel the drain (the node stays cordoned)".into(),
        FlowCmd::Upgrade { node } => format!("you: upgrade {node} (simulated)"),
        FlowCmd::CheckDaemonSets { .. } => return None,
    })
}

/// `t`: the narration pane on or off.
pub fn toggle(m: &mut Model) {
    m.teach.on = !m.teach.on;
    let text = if m.teach.on {
        "teach mode: each step is explained below; :log keeps them all (t hides)"
    } else {
        "teach mode off (:log still has every step)"
    };
    m.say(text);
    m.stale = true;
}

/// `:log`: the timeline, newest at the bottom (scrolled there).
pub fn open_log(m: &mut Model) {
    m.view = super::model::View::Timeline;
    m.teach.scroll = usize::MAX;
    m.stale = true;
}

#[cfg(test)]
mod tests;
