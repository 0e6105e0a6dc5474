//! Append-only journal of maintenance actions (JSON lines) and the node annotations kubedrain
//! writes, so an interrupted drain can be found and resumed, and a cordon that predates
//! kubedrain is never lifted by accident.

use std::collections::BTreeMap;
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
    pub fn prepare(&self) -> Result<(), String> {
        if self.is_disabled() {
            return Ok(());
        }
        writer::prepare(&self.path).map_err(|e| {
            format!(
                "cannot write the journal {}: {e}; nothing was changed (set {STATE_DIR_ENV} to a \
                 writable directory, or pass --no-journal to run without one)",
                self.path.display()
            )
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

/// The one thread that appends journal lines, shared by every `Journal` of the process: one
/// queue keeps the lines of each file in the order they were recorded.
mod writer {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::LazyLock;
    use std::sync::mpsc::{Sender, channel};

    use tokio::sync::oneshot;

    /// A line to append (`None`: only report that the lines before are written).
    struct Job {
        path: PathBuf,
        line: Option<String>,
        done: Option<oneshot::Sender<std::io::Result<()>>>,
    }

    static QUEUE: LazyLock<Option<Sender<Job>>> = LazyLock::new(|| {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("kubedrain-journal".into())
            .spawn(move || {
                for job in rx {
                    // A line someone waits for is a write-ahead record: on disk, not in a cache.
                    let res = match &job.line {
                        Some(line) => append(&job.path, line, job.done.is_some()),
                        None => Ok(()),
                    };
                    if let Some(done) = job.done {
                        let _ = done.send(res);
                    }
                }
            });
        spawned.ok().map(|_| tx)
    });

    /// Hands a line to the writer thread; written in place if there is none (no line lost).
    pub(super) fn queue(
        path: PathBuf,
        line: Option<String>,
        done: Option<oneshot::Sender<std::io::Result<()>>>,
    ) {
        let job = Job { path, line, done };
        let job = match QUEUE.as_ref() {
            Some(q) => match q.send(job) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => job,
        };
        let res = match &job.line {
            Some(line) => append(&job.path, line, job.done.is_some()),
            None => Ok(()),
        };
        if let Some(done) = job.done {
            let _ = done.send(res);
        }
    }

    /// Opens the journal for appending: created 0600 in a directory created 0700.
    fn open(path: &Path) -> std::io::Result<std::fs::File> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
    }

    /// [`open`], and narrows a directory or file left readable by others (older versions
    /// wrote them 0755/0644).
    pub(super) fn prepare(path: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        rotate_if_larger(path, super::ROTATE_BYTES)?;
        let file = open(path)?;
        let private = |p: &Path, mode: u32| -> std::io::Result<()> {
            let m = std::fs::metadata(p)?;
            if m.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))?;
            }
            Ok(())
        };
        private(path, 0o600)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private(dir, 0o700)?;
        }
        drop(file);
        Ok(())
    }

    fn append(path: &Path, line: &str, sync: bool) -> std::io::Result<()> {
        // `--no-journal`.
        if path.as_os_str().is_empty() {
            return Ok(());
        }
        // One write per line with O_APPEND keeps concurrent writers' lines whole.
        let mut file = open(path)?;
        file.write_all(line.as_bytes())?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Past `limit` bytes, the journal moves to `<path>.1` (replacing an older one) and a new
    /// file starts with what resuming needs: per cluster and node, the last line, and the
    /// start of a drain that has no result yet. Returns whether it rotated.
    pub(super) fn rotate_if_larger(path: &Path, limit: u64) -> std::io::Result<bool> {
        use std::io::BufRead;
        use std::os::unix::fs::OpenOptionsExt;
        if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) <= limit {
            return Ok(false);
        }
        let file = std::fs::File::open(path)?;
        // (server, node) → (index of the last line, index of an open drain start).
        let mut keep: std::collections::HashMap<(String, String), (usize, Option<usize>)> =
            Default::default();
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(e) = serde_json::from_str::<super::Entry>(&line) else {
                continue;
            };
            let i = lines.len();
            let slot = keep.entry((e.server, e.node)).or_insert((i, None));
            slot.0 = i;
            match e.action {
                super::Action::DrainStart => slot.1 = Some(i),
                super::Action::DrainResult => slot.1 = None,
                _ => {}
            }
            lines.push(line);
        }
        let mut kept: Vec<usize> = keep
            .values()
            .flat_map(|(last, start)| std::iter::once(*last).chain(*start))
            .collect();
        kept.sort_unstable();
        kept.dedup();
        let fresh = path.with_extension("jsonl.new");
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&fresh)?;
        for i in kept {
            out.write_all(lines[i].as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.sync_data()?;
        std::fs::rename(path, path.with_extension("jsonl.1"))?;
        std::fs::rename(&fresh, path)?;
        Ok(true)
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

/// The field manager kubedrain's node writes are made as: the server's managedFields then
/// say whose cordon a node has.
pub const FIELD_MANAGER: &str = "kubedrain";

/// Whether the node's cordon is the one kubedrain's annotations describe: they say kubedrain
/// cordoned it and, where the server tracks field managers, kubedrain is still the one that
/// last set `spec.unschedulable` (an uncordon and a cordon by someone else since would have
/// taken that field over, leaving kubedrain's annotations behind).
pub fn cordon_is_ours(node: &NodeRow) -> bool {
    node.annotation(ann::CORDONED_BY) == Some("kubedrain")
        && node
            .cordon_owner
            .as_ref()
            .is_none_or(|o| o.manager == FIELD_MANAGER)
}

/// Whether kubedrain may lift this node's cordon without `--force`: only a cordon kubedrain
/// itself put on a node that was schedulable before, and not re-made by someone else since.
/// `Err` says why not.
pub fn may_uncordon(node: &NodeRow) -> Result<(), String> {
    let name = node.name();
    match (
        node.annotation(ann::CORDONED_BY),
        node.annotation(ann::WAS_UNSCHEDULABLE),
    ) {
        (Some("kubedrain"), Some("false")) => match node
            .cordon_owner
            .as_ref()
            .filter(|o| o.manager != FIELD_MANAGER)
        {
            // The annotations outlived kubedrain's cordon: someone uncordoned and cordoned.
            Some(o) => {
                let when = o
                    .time
                    .as_deref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default();
                Err(format!(
                    "node/{name} was cordoned again by {}{when}, after kubedrain's cordon was \
                     lifted; kubedrain's annotations describe the earlier cordon; use --force to \
                     uncordon it anyway",
                    o.manager
                ))
            }
            None => Ok(()),
        },
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
    find_unfinished_in(nodes, &NodeHistory::from_entries(entries.iter().cloned()))
}

/// What the resume check needs from a journal, one entry per node however long the journal
/// is: each node's last line, and whether its last drain line is a start without a result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeHistory {
    last: std::collections::HashMap<String, Entry>,
    interrupted: std::collections::HashSet<String>,
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
mod tests {
    use super::*;

    #[tokio::test]
    async fn queued_lines_keep_their_order_and_durable_ones_are_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal {
            path: dir.path().join("sub/journal.jsonl"),
            target: Target::default(),
        };
        for i in 0..50 {
            j.record(
                "node0",
                Action::Evict,
                "evicted",
                Some(&format!("ns/p{i}")),
                None,
            );
        }
        j.record_durable("node0", Action::DrainResult, "drained", None, None)
            .await
            .unwrap();
        let e = j.entries();
        assert_eq!(e.len(), 51);
        for (i, x) in e.iter().take(50).enumerate() {
            assert_eq!(x.pod.as_deref(), Some(format!("ns/p{i}").as_str()));
        }
        assert_eq!(e[50].action, Action::DrainResult);
        j.record("node0", Action::Uncordon, "uncordoned", None, None);
        j.flush().await;
        assert_eq!(j.entries().len(), 52);
    }

    #[tokio::test]
    async fn the_history_keeps_one_line_per_node_of_this_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let here = Journal {
            path: path.clone(),
            target: Target {
                context: "a".into(),
                server: "https://a".into(),
            },
        };
        let elsewhere = Journal {
            path,
            target: Target {
                context: "b".into(),
                server: "https://b".into(),
            },
        };
        here.record("n1", Action::DrainStart, "started", None, None);
        for i in 0..100 {
            here.record(
                "n1",
                Action::Evict,
                "evicted",
                Some(&format!("ns/p{i}")),
                None,
            );
        }
        here.record("n2", Action::DrainStart, "started", None, None);
        here.record("n2", Action::DrainResult, "drained", None, None);
        elsewhere.record("n3", Action::DrainStart, "started", None, None);
        here.flush().await;
        let h = here.history();
        assert_eq!(h.len(), 2, "n3 is another cluster's");
        assert!(h.interrupted.contains("n1"), "a start without a result");
        assert!(!h.interrupted.contains("n2"));
        assert_eq!(h.last["n1"].pod.as_deref(), Some("ns/p99"));
        assert_eq!(h.last["n2"].action, Action::DrainResult);
    }

    #[test]
    fn actions_print_as_the_journal_writes_them() {
        use Action::*;
        for a in [Cordon, Uncordon, DrainStart, Evict, Delete, DrainResult] {
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
    }

    #[tokio::test]
    async fn rotation_keeps_what_resuming_needs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let cluster = |server: &str| Journal {
            path: path.clone(),
            target: Target {
                context: server.into(),
                server: server.into(),
            },
        };
        let (a, b) = (cluster("https://a"), cluster("https://b"));
        a.record("n1", Action::DrainStart, "started", None, None);
        for i in 0..200 {
            a.record(
                "n1",
                Action::Evict,
                "evicted",
                Some(&format!("ns/p{i}")),
                None,
            );
        }
        a.record("n2", Action::DrainStart, "started", None, None);
        a.record("n2", Action::DrainResult, "drained", None, None);
        b.record("n1", Action::Cordon, "cordoned", None, None);
        a.flush().await;
        let (before_a, before_b) = (a.history(), b.history());
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            !writer::rotate_if_larger(&path, size).unwrap(),
            "not past the limit"
        );
        assert!(writer::rotate_if_larger(&path, size / 2).unwrap());
        assert_eq!(a.history(), before_a, "cluster a resumes the same");
        assert_eq!(b.history(), before_b, "cluster b resumes the same");
        // a/n1: its open start and last evict; a/n2: its result; b/n1: its cordon.
        assert_eq!(a.entries().len(), 4, "every file line is one of those four");
        let old = path.with_extension("jsonl.1");
        assert_eq!(
            std::fs::metadata(&old).unwrap().len(),
            size,
            "the old file is kept"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[tokio::test]
    async fn a_write_error_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // The journal's directory is a file: nothing can be written under it.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let j = Journal {
            path: blocker.join("journal.jsonl"),
            target: Target::default(),
        };
        let res = j
            .record_durable("node0", Action::DrainStart, "started", None, None)
            .await;
        assert!(res.is_err());
    }

    fn node(annotations: serde_json::Value, managed: serde_json::Value) -> NodeRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1", "annotations": annotations, "managedFields": managed},
            "spec": {"unschedulable": true}, "status": {}
        }))
        .unwrap()
    }

    fn owner(manager: &str) -> serde_json::Value {
        serde_json::json!([{"manager": manager, "operation": "Update", "time": "2026-11-30T10:00:00Z",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:unschedulable": {}}}}])
    }

    #[test]
    fn only_kubedrains_own_cordon_is_lifted_without_asking() {
        let ours =
            serde_json::json!({ann::CORDONED_BY: "kubedrain", ann::WAS_UNSCHEDULABLE: "false"});
        // kubedrain set spec.unschedulable last, or the server keeps no managedFields.
        assert!(may_uncordon(&node(ours.clone(), owner("kubedrain"))).is_ok());
        assert!(may_uncordon(&node(ours.clone(), serde_json::json!([]))).is_ok());
        // Someone cordoned again after kubedrain's cordon was lifted: named, with the time.
        let n = node(ours.clone(), owner("kubectl"));
        assert!(!cordon_is_ours(&n));
        let e = may_uncordon(&n).unwrap_err();
        assert!(
            e.contains("cordoned again by kubectl at 2026-11-30T10:00:00Z")
                && e.contains("--force"),
            "{e}"
        );
        // A cordon that predates kubedrain's says so, whoever made it.
        let before =
            serde_json::json!({ann::CORDONED_BY: "kubedrain", ann::WAS_UNSCHEDULABLE: "true"});
        let e = may_uncordon(&node(before, owner("kubectl"))).unwrap_err();
        assert!(e.contains("already cordoned before kubedrain"), "{e}");
        let e = may_uncordon(&node(serde_json::json!({}), owner("kubectl"))).unwrap_err();
        assert!(e.contains("not cordoned by kubedrain"), "{e}");
    }
}
