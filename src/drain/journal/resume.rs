//! What kubedrain left unfinished on nodes: from their annotations and the journal.

use serde::Serialize;

use super::{Action, Entry, ann};
use crate::cluster::rows::NodeRow;

/// What is left to do on a node kubedrain touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pending {
    /// The drain did not finish (interrupted, failed, timed out or cancelled): drain again.
    ResumeDrain,
    /// Drained; waiting for the upgrade and an uncordon.
    Uncordon,
}

/// A node kubedrain left cordoned or half-drained.
#[derive(Debug, Clone, Serialize)]
pub struct Unfinished {
    pub node: String,
    pub pending: Pending,
    /// The `drain-state` annotation, if any.
    pub drain_state: Option<String>,
    pub cordoned_at: Option<String>,
    /// The node was cordoned before kubedrain touched it (do not uncordon without asking).
    pub was_unschedulable: bool,
    /// The journal shows a drain start without a result (the process died mid-drain).
    pub interrupted: bool,
    /// The last journal line for the node.
    pub last: Option<Entry>,
}

/// Finds nodes kubedrain left cordoned or half-drained, from annotations and the journal.
pub fn find_unfinished(nodes: &[&NodeRow], entries: &[Entry]) -> Vec<Unfinished> {
    find_unfinished_in(nodes, &NodeHistory::from_entries(entries.iter().cloned()))
}

/// What the resume check needs from a journal, one entry per node however long the journal
/// is: each node's last line, and whether its last drain line is a start without a result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeHistory {
    /// Each node's last line.
    pub(super) last: std::collections::HashMap<String, Entry>,
    /// Nodes whose last drain started and never ended.
    pub(super) interrupted: std::collections::HashSet<String>,
}

impl NodeHistory {
    /// Folds entries, oldest first, in one pass.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Self {
        let mut h = NodeHistory::default();
        for e in entries {
            h.add(e);
        }
        h
    }

    fn add(&mut self, e: Entry) {
        match e.action {
            Action::DrainStart => {
                self.interrupted.insert(e.node.clone());
            }
            Action::DrainResult => {
                self.interrupted.remove(&e.node);
            }
            _ => {}
        }
        self.last.insert(e.node.clone(), e);
    }

    /// The last line about `node` when its last drain started and has no result (the
    /// process died or was killed mid-drain).
    pub fn interrupted_drain(&self, node: &str) -> Option<&Entry> {
        self.interrupted
            .contains(node)
            .then(|| self.last.get(node))
            .flatten()
    }

    /// The nodes the journal mentions.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// The journal mentions no node.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// [`find_unfinished`] over a [`NodeHistory`]: O(nodes).
pub fn find_unfinished_in(nodes: &[&NodeRow], history: &NodeHistory) -> Vec<Unfinished> {
    let mut out = Vec::new();
    for n in nodes {
        let last = history.last.get(n.name()).cloned();
        let interrupted = history.interrupted.contains(n.name());
        let ours = n.annotation(ann::CORDONED_BY) == Some("kubedrain");
        if !n.unschedulable || !(ours || interrupted) {
            continue;
        }
        let state = n.annotation(ann::DRAIN_STATE).map(str::to_string);
        let pending = match state.as_deref() {
            Some("drained") if !interrupted => Pending::Uncordon,
            None if !interrupted => Pending::Uncordon,
            _ => Pending::ResumeDrain,
        };
        out.push(Unfinished {
            node: n.name().to_string(),
            pending,
            drain_state: state,
            cordoned_at: n.annotation(ann::CORDONED_AT).map(str::to_string),
            was_unschedulable: n.annotation(ann::WAS_UNSCHEDULABLE) == Some("true"),
            interrupted,
            last,
        });
    }
    out
}
