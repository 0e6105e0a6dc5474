//! Append-only journal of maintenance actions (JSON lines) and the node annotations kubedrain
//! writes, so an interrupted drain can be found and resumed, and a cordon that predates
//! kubedrain is never lifted by accident.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

mod annotations;
mod resume;
mod writer;

pub use annotations::*;
pub use resume::*;

/// A journal that cannot be written: where, and the I/O error.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write the journal {}: {error}; nothing was changed (set {STATE_DIR_ENV} to a \
     writable directory, or pass --no-journal to run without one)",
    path.display()
)]
pub struct JournalError {
    /// The journal file.
    pub path: PathBuf,
    /// What the file system said.
    pub error: std::io::Error,
}

/// Env var overriding the state directory (tests).
pub const STATE_DIR_ENV: &str = "KUBEDRAIN_STATE_DIR";

/// The state directory: `$KUBEDRAIN_STATE_DIR`, else `$XDG_STATE_HOME/kubedrain`,
/// else `~/.local/state/kubedrain`.
/// The demo's own state directory, set once before anything opens a journal.
static STATE_DIR_OVERRIDE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes [`state_dir`] answer `dir` for the rest of the process (the demo keeps its journals
/// out of the operator's). Only the first call counts.
pub fn use_state_dir(dir: PathBuf) {
    let _ = STATE_DIR_OVERRIDE.set(dir);
}

pub fn state_dir() -> PathBuf {
    if let Some(d) = STATE_DIR_OVERRIDE.get() {
        return d.clone();
    }
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

impl std::fmt::Display for Action {
    /// As written in the journal (`drain-start`, `evict`, ...).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Cordon => "cordon",
            Action::Uncordon => "uncordon",
            Action::DrainStart => "drain-start",
            Action::Evict => "evict",
            Action::Delete => "delete",
            Action::DrainResult => "drain-result",
        })
    }
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

/// Set by `--no-journal`: every journal of the process records nothing.
static DISABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--no-journal`: from now on [`Journal::open`] gives journals that record nothing (an
/// explicit choice; without it an unwritable state directory is an error).
pub fn disable() {
    DISABLED.store(true, std::sync::atomic::Ordering::Relaxed);
}

impl Journal {
    /// The default journal (`<state_dir>/journal.jsonl`) for `target`; one that records
    /// nothing after [`disable`].
    pub fn open(target: Target) -> Self {
        let path = if DISABLED.load(std::sync::atomic::Ordering::Relaxed) {
            PathBuf::new()
        } else {
            state_dir().join("journal.jsonl")
        };
        Journal { path, target }
    }

    /// Whether this journal records nothing (`--no-journal`).
    pub fn is_disabled(&self) -> bool {
        self.path.as_os_str().is_empty()
    }

    /// Makes sure the journal can be written before anything changes: its directory exists
    /// and is private (0700), the file exists and is 0600. `Err` says what is wrong.
    pub fn prepare(&self) -> Result<(), JournalError> {
        if self.is_disabled() {
            return Ok(());
        }
        writer::prepare(&self.path).map_err(|error| JournalError {
            path: self.path.clone(),
            error,
        })
    }

    /// Queues one line and returns at once: the journal's own thread writes it (file I/O
    /// stays off the async runtime), in the order lines were queued. For a record that must
    /// be on disk before the next step runs, use [`Journal::record_durable`].
    pub fn record(
        &self,
        node: &str,
        action: Action,
        outcome: &str,
        pod: Option<&str>,
        detail: Option<&str>,
    ) {
        let line = self.line(node, action, outcome, pod, detail);
        writer::queue(self.path.clone(), line, None);
    }

    /// Queues one line and waits until it (and every line queued before it) is written.
    /// Errors are returned, not fatal: callers warn and carry on.
    pub async fn record_durable(
        &self,
        node: &str,
        action: Action,
        outcome: &str,
        pod: Option<&str>,
        detail: Option<&str>,
    ) -> std::io::Result<()> {
        let line = self.line(node, action, outcome, pod, detail);
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer::queue(self.path.clone(), line, Some(tx));
        rx.await
            .unwrap_or_else(|_| Err(std::io::Error::other("the journal writer stopped")))
    }

    /// Waits until every line queued so far is written (before the process exits).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer::queue(self.path.clone(), None, Some(tx));
        let _ = rx.await;
    }

    /// One serialised line (with its newline); `None` if it cannot be serialised.
    fn line(
        &self,
        node: &str,
        action: Action,
        outcome: &str,
        pod: Option<&str>,
        detail: Option<&str>,
    ) -> Option<String> {
        let e = Entry {
            time: Timestamp::now(),
            context: self.target.context.clone(),
            server: self.target.server.clone(),
            user: current_user(),
            node: node.to_string(),
            action,
            outcome: outcome.to_string(),
            pod: pod.map(str::to_string),
            detail: detail.map(str::to_string),
        };
        let mut line = serde_json::to_string(&e).ok()?;
        line.push('\n');
        Some(line)
    }

    /// All readable lines (unparsable ones are skipped).
    /// This cluster's lines folded per node, read line by line (the file is never held whole).
    pub fn history(&self) -> NodeHistory {
        use std::io::BufRead;
        let Ok(file) = std::fs::File::open(&self.path) else {
            return NodeHistory::default();
        };
        let entries = std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Entry>(&l).ok())
            .filter(|e| e.server == self.target.server);
        NodeHistory::from_entries(entries)
    }

    pub fn entries(&self) -> Vec<Entry> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// A journal past this size is rotated when a command next prepares it (see
/// `writer::rotate_if_larger`).
pub const ROTATE_BYTES: u64 = 16 << 20;

/// Who is acting: `$USER`, `$LOGNAME`, else the numeric uid (cron and tmux may set neither).
fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
            Some(format!("uid {}", uid.split_whitespace().next()?))
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests;
