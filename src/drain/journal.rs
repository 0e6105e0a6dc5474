//! Append-only journal of maintenance actions (JSON lines) and the node annotations kubedrain
//! writes, so an interrupted drain can be found and resumed, and a cordon that predates
//! kubedrain is never lifted by accident.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cluster::rows::NodeRow;

/// Env var overriding the state directory (tests).
pub const STATE_DIR_ENV: &str = "KUBEDRAIN_STATE_DIR";

/// Node annotation keys kubedrain writes.
pub mod ann {
    /// `kubedrain`: the cordon was done through kubedrain.
    pub const CORDONED_BY: &str = "kubedrain.io/cordoned-by";
    /// RFC 3339 time of that cordon.
    pub const CORDONED_AT: &str = "kubedrain.io/cordoned-at";
    /// `"true"` when the node was already cordoned before kubedrain touched it.
    pub const WAS_UNSCHEDULABLE: &str = "kubedrain.io/was-unschedulable";
    /// `draining`, `drained`, `failed`, `timed-out`, `cancelled`.
    pub const DRAIN_STATE: &str = "kubedrain.io/drain-state";
    /// Kernel version before the maintenance.
    pub const PRE_KERNEL: &str = "kubedrain.io/pre-kernel";
    /// OS image before the maintenance.
    pub const PRE_OS_IMAGE: &str = "kubedrain.io/pre-os-image";
    /// Kubelet version before the maintenance.
    pub const PRE_KUBELET: &str = "kubedrain.io/pre-kubelet";
    /// Every key, for removal on uncordon.
    pub const ALL: [&str; 7] = [
        CORDONED_BY,
        CORDONED_AT,
        WAS_UNSCHEDULABLE,
        DRAIN_STATE,
        PRE_KERNEL,
        PRE_OS_IMAGE,
        PRE_KUBELET,
    ];
}

/// The state directory: `$KUBEDRAIN_STATE_DIR`, else `$XDG_STATE_HOME/kubedrain`,
/// else `~/.local/state/kubedrain`.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("kubedrain");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/state/kubedrain")
}

/// What a journal line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Cordon,
    Uncordon,
    DrainStart,
    Evict,
    Delete,
    DrainResult,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub time: Timestamp,
    /// kubeconfig context name.
    pub context: String,
    /// API server URL.
    pub server: String,
    /// `$USER`.
    pub user: String,
    pub node: String,
    pub action: Action,
    /// e.g. `cordoned`, `already-cordoned`, `evicted`, `failed`, `drained`, `timed-out`.
    pub outcome: String,
    /// `namespace/name` for pod actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Free text (error message, versions before/after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Which cluster the actions go to (recorded on every line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub server: String,
}

/// The journal file plus the cluster it records for.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: PathBuf,
    pub target: Target,
}

impl Journal {
    /// The default journal (`<state_dir>/journal.jsonl`) for `target`.
    pub fn open(target: Target) -> Self {
        Journal {
            path: state_dir().join("journal.jsonl"),
            target,
        }
    }

    /// Appends one line. Errors are returned, not fatal: callers warn and carry on.
    pub fn record(
        &self,
        node: &str,
        action: Action,
        outcome: &str,
        pod: Option<&str>,
        detail: Option<&str>,
    ) -> std::io::Result<()> {
        let e = Entry {
            time: Timestamp::now(),
            context: self.target.context.clone(),
            server: self.target.server.clone(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_default(),
            node: node.to_string(),
            action,
            outcome: outcome.to_string(),
            pod: pod.map(str::to_string),
            detail: detail.map(str::to_string),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&e).map_err(std::io::Error::other)?;
        line.push('\n');
        // One write per line with O_APPEND keeps concurrent writers' lines whole.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?
            .write_all(line.as_bytes())
    }

    /// All readable lines (unparsable ones are skipped).
    pub fn entries(&self) -> Vec<Entry> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Annotations a kubedrain cordon writes (`was_unschedulable`: cordoned before we came).
pub fn cordon_annotations(node: &NodeRow, now: Timestamp) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(ann::CORDONED_BY.into(), "kubedrain".into());
    a.insert(ann::CORDONED_AT.into(), now.to_string());
    a.insert(
        ann::WAS_UNSCHEDULABLE.into(),
        node.unschedulable.to_string(),
    );
    a.insert(ann::PRE_KERNEL.into(), node.kernel_version.clone());
    a.insert(ann::PRE_OS_IMAGE.into(), node.os_image.clone());
    a.insert(ann::PRE_KUBELET.into(), node.kubelet_version.clone());
    a
}

/// Whether kubedrain may lift this node's cordon without `--force`: only a cordon kubedrain
/// itself put on a node that was schedulable before. `Err` says why not.
pub fn may_uncordon(node: &NodeRow) -> Result<(), String> {
    let name = node.name();
    match (
        node.annotation(ann::CORDONED_BY),
        node.annotation(ann::WAS_UNSCHEDULABLE),
    ) {
        (Some("kubedrain"), Some("false")) => Ok(()),
        (Some("kubedrain"), _) => Err(format!(
            "node/{name} was already cordoned before kubedrain cordoned it ({}=true); use --force to uncordon it anyway",
            ann::WAS_UNSCHEDULABLE
        )),
        _ => Err(format!(
            "node/{name} was not cordoned by kubedrain; use --force to uncordon it anyway"
        )),
    }
}

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
    let mut out = Vec::new();
    for n in nodes {
        let last = entries.iter().rev().find(|e| e.node == n.name()).cloned();
        let interrupted = entries
            .iter()
            .rev()
            .filter(|e| e.node == n.name())
            .find(|e| matches!(e.action, Action::DrainStart | Action::DrainResult))
            .is_some_and(|e| e.action == Action::DrainStart);
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
