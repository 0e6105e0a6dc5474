//! The maintenance workflow inside the TUI: cordon / uncordon confirmations, drain options →
//! plan → live drain, the demo OS upgrade, and the start-up offer to resume what kubedrain
//! left unfinished. State and pure `update` logic only; `flow_exec.rs` runs the side effects.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;

use super::keymap::Key;
use super::model::{Model, Pane, View};
use super::msg::{Cmd, NodeAction};
use crate::cli::DrainFlags;
use crate::cluster::rows::{NodeReady, NodeRow, PodRow};
use crate::drain::events::{DrainEvent, DrainOutcome, NodeState, PodState};
use crate::drain::journal::{self, Entry, Unfinished, ann};
use crate::drain::options::DrainOptions;
use crate::drain::plan::{DrainPlan, PlanInput, PodAction, Severity};
use crate::drain::{ClusterView, DsLookup};

/// Results coming back from the executor.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum FlowMsg {
    /// An event of the running drain.
    Drain(DrainEvent),
    /// A cordon / uncordon finished: `Ok(what happened)` or `Err(why, in plain words)`.
    NodeOp {
        node: String,
        verb: &'static str,
        result: Result<String, String>,
    },
    /// The journal, read once at start (for the resume offer).
    Journal(Vec<Entry>),
    /// The demo upgrade was started (or could not be).
    Upgrade {
        node: String,
        result: Result<(), String>,
    },
}

/// Side effects of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowCmd {
    Cordon {
        node: String,
    },
    /// `force`: the user confirmed lifting a cordon kubedrain did not put there.
    Uncordon {
        node: String,
        force: bool,
    },
    Drain {
        node: String,
        form: OptionsForm,
    },
    /// Cancel the running drain (the node stays cordoned).
    CancelDrain,
    /// Demo only: simulate the node's OS upgrade (reboot, new versions).
    Upgrade {
        node: String,
    },
}

/// The workflow's part of the model.
#[derive(Debug, Default)]
pub struct Flow {
    pub dialog: Option<Dialog>,
    /// The current (or last) drain.
    pub live: Option<LiveDrain>,
    /// The demo upgrade is available (built-in cluster only).
    pub demo_upgrade: bool,
    /// The journal, once read.
    pub journal: Option<Vec<Entry>>,
    /// The start-up resume check was done.
    pub resume_checked: bool,
    /// Demo upgrades in progress: node → boot ID and kubelet before.
    pub upgrading: BTreeMap<String, (String, String)>,
}

/// What is drawn over the screen.
#[derive(Debug, Clone)]
pub enum Dialog {
    Cordon {
        node: String,
    },
    /// The facts are recomputed from the cache at every frame (Ready may change meanwhile).
    Uncordon {
        node: String,
    },
    Options(OptionsForm),
    Plan {
        form: OptionsForm,
        plan: Box<DrainPlan>,
        scroll: usize,
    },
    /// The live drain view (`Flow::live`).
    Live,
    Resume {
        items: Vec<Unfinished>,
        selected: usize,
    },
}

/// Which keys apply (one per dialog, plus the nodes pane's demo key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Confirm,
    Options,
    Plan,
    Live,
    Resume,
    NodesDemo,
}

impl Ctx {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Confirm => "Cordon / uncordon dialog",
            Ctx::Options => "Drain options",
            Ctx::Plan => "Drain plan",
            Ctx::Live => "Drain progress",
            Ctx::Resume => "Unfinished maintenance (on start)",
            Ctx::NodesDemo => "Nodes pane (demo cluster)",
        }
    }

    /// Every context, in help order.
    pub const ALL: [Ctx; 6] = [
        Ctx::Confirm,
        Ctx::Options,
        Ctx::Plan,
        Ctx::Live,
        Ctx::Resume,
        Ctx::NodesDemo,
    ];
}

/// What a workflow key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowAction {
    Confirm,
    Cancel,
    Up,
    Down,
    Toggle,
    Plan,
    Start,
    Back,
    CancelDrain,
    Close,
    Upgrade,
    Resume,
    Uncordon,
}

/// One workflow key binding.
#[derive(Debug, Clone, Copy)]
pub struct FlowBinding {
    pub keys: &'static [Key],
    pub action: FlowAction,
    pub ctx: Ctx,
    pub help: &'static str,
    pub hint: &'static str,
}

const fn fb(
    keys: &'static [Key],
    action: FlowAction,
    ctx: Ctx,
    help: &'static str,
    hint: &'static str,
) -> FlowBinding {
    FlowBinding {
        keys,
        action,
        ctx,
        help,
        hint,
    }
}

use Key::{Ch, Code};

/// The workflow's keys: looked up here, and listed by the help overlay, the hint bar and each
/// dialog's bottom line.
pub const FLOW_BINDINGS: &[FlowBinding] = &[
    fb(
        &[Code(KeyCode::Enter), Ch('y')],
        FlowAction::Confirm,
        Ctx::Confirm,
        "do it",
        "confirm",
    ),
    fb(
        &[Code(KeyCode::Esc), Ch('n')],
        FlowAction::Cancel,
        Ctx::Confirm,
        "leave the node as it is",
        "cancel",
    ),
    fb(
        &[Code(KeyCode::Up), Code(KeyCode::BackTab)],
        FlowAction::Up,
        Ctx::Options,
        "move; type to edit",
        "move",
    ),
    fb(
        &[Code(KeyCode::Down), Code(KeyCode::Tab)],
        FlowAction::Down,
        Ctx::Options,
        "next option (type to edit a value)",
        "",
    ),
    fb(
        &[Ch(' ')],
        FlowAction::Toggle,
        Ctx::Options,
        "tick / untick a flag",
        "toggle",
    ),
    fb(
        &[Code(KeyCode::Enter)],
        FlowAction::Plan,
        Ctx::Options,
        "show the plan",
        "plan",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Cancel,
        Ctx::Options,
        "cancel",
        "cancel",
    ),
    fb(
        &[Code(KeyCode::Enter)],
        FlowAction::Start,
        Ctx::Plan,
        "start (unless blocked)",
        "start drain",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Plan,
        "scroll (k up)",
        "scroll",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Plan,
        "scroll up",
        "",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Back,
        Ctx::Plan,
        "back to the options",
        "options",
    ),
    fb(
        &[Ch('x')],
        FlowAction::CancelDrain,
        Ctx::Live,
        "cancel; stays cordoned",
        "cancel drain",
    ),
    fb(
        &[Ch('U')],
        FlowAction::Upgrade,
        Ctx::Live,
        "simulated OS upgrade",
        "upgrade (demo)",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Live,
        "scroll (k up)",
        "scroll",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Live,
        "scroll up",
        "",
    ),
    fb(
        &[Code(KeyCode::Esc), Code(KeyCode::Enter)],
        FlowAction::Close,
        Ctx::Live,
        "close (when over)",
        "close",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Resume,
        "move (k up)",
        "move",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Resume,
        "previous node",
        "",
    ),
    fb(
        &[Ch('r')],
        FlowAction::Resume,
        Ctx::Resume,
        "drain it again",
        "resume drain",
    ),
    fb(
        &[Ch('u')],
        FlowAction::Uncordon,
        Ctx::Resume,
        "uncordon (asks first)",
        "uncordon",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Cancel,
        Ctx::Resume,
        "leave them for now",
        "later",
    ),
    fb(
        &[Ch('U')],
        FlowAction::Upgrade,
        Ctx::NodesDemo,
        "simulated OS upgrade",
        "upgrade (demo)",
    ),
];

/// The context the keyboard is in, if the workflow owns it.
pub fn ctx(m: &Model) -> Option<Ctx> {
    match &m.flow.dialog {
        Some(Dialog::Cordon { .. } | Dialog::Uncordon { .. }) => Some(Ctx::Confirm),
        Some(Dialog::Options(_)) => Some(Ctx::Options),
        Some(Dialog::Plan { .. }) => Some(Ctx::Plan),
        Some(Dialog::Live) => Some(Ctx::Live),
        Some(Dialog::Resume { .. }) => Some(Ctx::Resume),
        None => None,
    }
}

/// Whether `b` is usable right now (state-dependent keys come and go).
pub fn available(m: &Model, b: &FlowBinding) -> bool {
    let running = m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none());
    match (b.ctx, b.action) {
        (Ctx::NodesDemo, _) => m.flow.demo_upgrade && !m.readonly,
        (Ctx::Live, FlowAction::CancelDrain) => running,
        (Ctx::Live, FlowAction::Close) => !running,
        (Ctx::Live, FlowAction::Upgrade) => {
            m.flow.demo_upgrade
                && !m.readonly
                && m.flow.live.as_ref().is_some_and(|l| l.is_drained())
        }
        (Ctx::Resume, FlowAction::Resume | FlowAction::Uncordon) => !m.readonly,
        _ => true,
    }
}

/// Whether `b` is shown in help (state aside: everything the mode could offer).
pub fn in_help(m: &Model, b: &FlowBinding) -> bool {
    match b.ctx {
        Ctx::NodesDemo => m.flow.demo_upgrade && !m.readonly,
        Ctx::Live if b.action == FlowAction::Upgrade => m.flow.demo_upgrade && !m.readonly,
        _ => !m.readonly || !matches!(b.ctx, Ctx::Confirm | Ctx::Options | Ctx::Plan | Ctx::Live),
    }
}

/// Hints for the current dialog: (key, label), as many as the dialog offers now.
pub fn hints(m: &Model, c: Ctx) -> Vec<(String, &'static str)> {
    FLOW_BINDINGS
        .iter()
        .filter(|b| b.ctx == c && !b.hint.is_empty() && available(m, b))
        .map(|b| (key_label(b.keys[0]), b.hint))
        .collect()
}

/// A key as hints and help write it (`Space` for the space bar).
pub fn key_label(k: Key) -> String {
    match k {
        Key::Ch(' ') => "Space".into(),
        k => k.label(),
    }
}

fn lookup(m: &Model, c: Ctx, k: &KeyEvent) -> Option<FlowAction> {
    FLOW_BINDINGS
        .iter()
        .filter(|b| b.ctx == c && available(m, b))
        .find(|b| b.keys.iter().any(|key| key.matches(k)))
        .map(|b| b.action)
}

// ---------------------------------------------------------------------------------------------
// The drain options form.

/// A drain option's field in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IgnoreDaemonsets,
    DeleteEmptydirData,
    Force,
    GracePeriod,
    Timeout,
    PodSelector,
    DisableEviction,
    SkipWaitForDeleteTimeout,
}

impl Field {
    /// Form order.
    pub const ALL: [Field; 8] = [
        Field::IgnoreDaemonsets,
        Field::DeleteEmptydirData,
        Field::Force,
        Field::GracePeriod,
        Field::Timeout,
        Field::PodSelector,
        Field::DisableEviction,
        Field::SkipWaitForDeleteTimeout,
    ];

    /// The kubectl flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::IgnoreDaemonsets => "--ignore-daemonsets",
            Field::DeleteEmptydirData => "--delete-emptydir-data",
            Field::Force => "--force",
            Field::GracePeriod => "--grace-period",
            Field::Timeout => "--timeout",
            Field::PodSelector => "--pod-selector",
            Field::DisableEviction => "--disable-eviction",
            Field::SkipWaitForDeleteTimeout => "--skip-wait-for-delete-timeout",
        }
    }

    /// One line of explanation.
    pub fn help(self) -> &'static str {
        match self {
            Field::IgnoreDaemonsets => "skip DaemonSet pods (they'd come right back)",
            Field::DeleteEmptydirData => "allow evicting pods with emptyDir (data lost)",
            Field::Force => "also delete pods no controller recreates",
            Field::GracePeriod => "seconds to terminate; -1 = each pod's own",
            Field::Timeout => "give up after (90s, 5m); 0s = wait forever",
            Field::PodSelector => "only pods matching this label selector",
            Field::DisableEviction => "DELETE instead of evict: bypasses PDBs!",
            Field::SkipWaitForDeleteTimeout => "don't wait for pods deleting > N s",
        }
    }

    /// Whether the field is a tick box.
    pub fn is_bool(self) -> bool {
        matches!(
            self,
            Field::IgnoreDaemonsets
                | Field::DeleteEmptydirData
                | Field::Force
                | Field::DisableEviction
        )
    }
}

/// The drain options dialog's state: kubectl's flags as the user sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsForm {
    pub node: String,
    pub ignore_daemonsets: bool,
    pub delete_emptydir_data: bool,
    pub force: bool,
    pub grace_period: String,
    pub timeout: String,
    pub pod_selector: String,
    pub disable_eviction: bool,
    pub skip_wait_for_delete_timeout: String,
    /// Index into [`Field::ALL`].
    pub cursor: usize,
    /// Why the values do not validate.
    pub error: Option<String>,
}

impl OptionsForm {
    /// kubectl's defaults, except `--ignore-daemonsets`, ticked: a drain for maintenance
    /// always wants it (kubectl refuses to start without it on any real cluster).
    pub fn new(node: &str) -> OptionsForm {
        OptionsForm {
            node: node.to_string(),
            ignore_daemonsets: true,
            delete_emptydir_data: false,
            force: false,
            grace_period: "-1".into(),
            timeout: "0s".into(),
            pod_selector: String::new(),
            disable_eviction: false,
            skip_wait_for_delete_timeout: "0".into(),
            cursor: 0,
            error: None,
        }
    }

    /// A tick box's value.
    pub fn get_bool(&self, f: Field) -> bool {
        match f {
            Field::IgnoreDaemonsets => self.ignore_daemonsets,
            Field::DeleteEmptydirData => self.delete_emptydir_data,
            Field::Force => self.force,
            Field::DisableEviction => self.disable_eviction,
            _ => false,
        }
    }

    fn bool_mut(&mut self, f: Field) -> Option<&mut bool> {
        match f {
            Field::IgnoreDaemonsets => Some(&mut self.ignore_daemonsets),
            Field::DeleteEmptydirData => Some(&mut self.delete_emptydir_data),
            Field::Force => Some(&mut self.force),
            Field::DisableEviction => Some(&mut self.disable_eviction),
            _ => None,
        }
    }

    /// A text field's value.
    pub fn text(&self, f: Field) -> &str {
        match f {
            Field::GracePeriod => &self.grace_period,
            Field::Timeout => &self.timeout,
            Field::PodSelector => &self.pod_selector,
            Field::SkipWaitForDeleteTimeout => &self.skip_wait_for_delete_timeout,
            _ => "",
        }
    }

    fn text_mut(&mut self, f: Field) -> Option<&mut String> {
        match f {
            Field::GracePeriod => Some(&mut self.grace_period),
            Field::Timeout => Some(&mut self.timeout),
            Field::PodSelector => Some(&mut self.pod_selector),
            Field::SkipWaitForDeleteTimeout => Some(&mut self.skip_wait_for_delete_timeout),
            _ => None,
        }
    }

    /// The field under the cursor.
    pub fn field(&self) -> Field {
        Field::ALL[self.cursor.min(Field::ALL.len() - 1)]
    }

    /// The flags, as the CLI would parse them.
    pub fn flags(&self) -> Result<DrainFlags, String> {
        let grace_period = self.grace_period.trim().parse::<i64>().map_err(|_| {
            format!(
                "--grace-period: \"{}\" is not a whole number of seconds",
                self.grace_period
            )
        })?;
        let skip = self
            .skip_wait_for_delete_timeout
            .trim()
            .parse::<u64>()
            .map_err(|_| {
                format!(
                    "--skip-wait-for-delete-timeout: \"{}\" is not a whole number of seconds",
                    self.skip_wait_for_delete_timeout
                )
            })?;
        Ok(DrainFlags {
            ignore_daemonsets: self.ignore_daemonsets,
            delete_emptydir_data: self.delete_emptydir_data,
            force: self.force,
            grace_period,
            timeout: self.timeout.trim().to_string(),
            pod_selector: self.pod_selector.trim().to_string(),
            disable_eviction: self.disable_eviction,
            skip_wait_for_delete_timeout: skip,
        })
    }

    /// Validated options.
    pub fn options(&self) -> Result<DrainOptions, String> {
        DrainOptions::from_flags(&self.flags()?)
    }

    /// The equivalent kubectl command line (what a teacher writes on the board).
    pub fn kubectl(&self) -> String {
        let mut s = format!("kubectl drain {}", self.node);
        for f in Field::ALL {
            if f.is_bool() {
                if self.get_bool(f) {
                    s.push(' ');
                    s.push_str(f.flag());
                }
                continue;
            }
            let v = self.text(f).trim();
            let default = match f {
                Field::GracePeriod => v == "-1",
                Field::Timeout => v == "0s" || v == "0",
                Field::SkipWaitForDeleteTimeout => v == "0",
                _ => v.is_empty(),
            };
            if !default {
                let v = if v.contains(' ') {
                    format!("'{v}'")
                } else {
                    v.to_string()
                };
                s.push_str(&format!(" {}={v}", f.flag()));
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The live drain.

/// A replacement pod of an evicted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub pod: String,
    pub on_node: Option<String>,
    pub phase: String,
    pub ready: bool,
}

/// One pod's row in the live view.
#[derive(Debug, Clone, PartialEq)]
pub struct PodProgress {
    /// `namespace/name`.
    pub key: String,
    pub state: PodState,
    /// When it entered this state.
    pub since: Timestamp,
}

/// The drain the live view shows.
#[derive(Debug, Clone)]
pub struct LiveDrain {
    pub node: String,
    pub started: Timestamp,
    /// `--timeout`, in seconds.
    pub timeout: Option<u64>,
    pub state: NodeState,
    /// `Some(already)` once the cordon is done.
    pub cordoned: Option<bool>,
    /// The pods the drain removes, in plan order.
    pub rows: Vec<PodProgress>,
    /// Pods the engine's plan leaves alone (DaemonSet, mirror, not selected).
    pub skipped: usize,
    /// By evicted pod.
    pub replacements: BTreeMap<String, Replacement>,
    /// Non-fatal messages, most recent last.
    pub notices: Vec<String>,
    pub outcome: Option<DrainOutcome>,
    pub finished_at: Option<Timestamp>,
    /// `x` was pressed.
    pub cancel_sent: bool,
    pub scroll: usize,
}

impl LiveDrain {
    /// A drain about to start.
    pub fn new(node: &str, now: Timestamp, timeout: Option<u64>) -> LiveDrain {
        LiveDrain {
            node: node.to_string(),
            started: now,
            timeout,
            state: NodeState::Cordoning,
            cordoned: None,
            rows: Vec::new(),
            skipped: 0,
            replacements: BTreeMap::new(),
            notices: Vec::new(),
            outcome: None,
            finished_at: None,
            cancel_sent: false,
            scroll: 0,
        }
    }

    /// Pods still to go.
    pub fn left(&self) -> usize {
        self.rows.iter().filter(|r| !r.state.is_final()).count()
    }

    /// Ended `Drained`.
    pub fn is_drained(&self) -> bool {
        self.outcome
            .as_ref()
            .is_some_and(|o| o.state == NodeState::Drained)
    }

    /// Seconds since the start (frozen at the end).
    pub fn elapsed(&self, now: Timestamp) -> i64 {
        (self.finished_at.unwrap_or(now) - self.started)
            .get_seconds()
            .max(0)
    }

    fn apply(&mut self, ev: DrainEvent, now: Timestamp) {
        match ev {
            DrainEvent::State { state, .. } => self.state = state,
            DrainEvent::Cordoned { already, .. } => self.cordoned = Some(already),
            DrainEvent::Planned { plan, .. } => {
                // The engine's plan (made after the cordon) is the one that runs: pods that left
                // meanwhile drop out, new ones join.
                self.skipped = plan.pods.len() - plan.removals().count();
                let old = std::mem::take(&mut self.rows);
                self.rows = plan
                    .removals()
                    .map(|p| {
                        let key = p.key();
                        old.iter()
                            .find(|r| r.key == key)
                            .cloned()
                            .unwrap_or(PodProgress {
                                key,
                                state: PodState::Queued,
                                since: now,
                            })
                    })
                    .collect();
            }
            DrainEvent::Pod { pod, state, .. } => match self.rows.iter_mut().find(|r| r.key == pod)
            {
                Some(r) => {
                    if std::mem::discriminant(&r.state) != std::mem::discriminant(&state) {
                        r.since = now;
                    }
                    r.state = state;
                }
                None => self.rows.push(PodProgress {
                    key: pod,
                    state,
                    since: now,
                }),
            },
            DrainEvent::Replacement {
                evicted,
                pod,
                on_node,
                phase,
                ready,
                ..
            } => {
                self.replacements.insert(
                    evicted,
                    Replacement {
                        pod,
                        on_node,
                        phase,
                        ready,
                    },
                );
            }
            DrainEvent::Notice { message, .. } => {
                if self.notices.last() != Some(&message) {
                    self.notices.push(message);
                }
                if self.notices.len() > 5 {
                    self.notices.remove(0);
                }
            }
            DrainEvent::Finished(o) => {
                self.state = o.state;
                self.outcome = Some(o);
                self.finished_at = Some(now);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Facts computed from the watch cache (pure; render and tests use the same functions).

/// The pods on `node` that a drain leaves alone (DaemonSet, mirror) or that are finished,
/// and the others: (stay, others).
pub fn node_pods<'a>(m: &'a Model, node: &str) -> (Vec<&'a PodRow>, Vec<&'a PodRow>) {
    m.cache
        .index
        .pods_on(node)
        .filter_map(|k| m.cache.pods.get(k))
        .partition(|p| p.is_daemonset_pod() || p.is_mirror() || p.phase.is_finished())
}

/// Plans the drain of `node` from the watch caches (DaemonSets are not watched: assumed to exist).
pub fn plan_from_cache(m: &Model, node: &str, opts: &DrainOptions) -> Option<DrainPlan> {
    let n = m.cache.nodes.get(node)?;
    let pods: Vec<&PodRow> = m
        .cache
        .index
        .pods_on(node)
        .filter_map(|k| m.cache.pods.get(k))
        .collect();
    let pdbs: Vec<_> = m.cache.pdbs.values().collect();
    let nodes: Vec<&NodeRow> = m.cache.nodes.values().collect();
    let all: Vec<&PodRow> = m.cache.pods.values().collect();
    let lookup = |_: &str, _: &str| DsLookup::Exists;
    Some(crate::drain::plan(&PlanInput {
        node: n,
        pods: &pods,
        pdbs: &pdbs,
        cluster: Some(ClusterView {
            nodes: &nodes,
            pods: &all,
        }),
        daemonset_exists: &lookup,
        opts,
        now: m.now,
    }))
}

/// What to change to unblock a blocked plan, one line per blocker.
pub fn unblock_hints(plan: &DrainPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // kubectl's reasons name the flag: "Pods with local storage (use --delete-emptydir-data to
    // override)". One line per reason: what, which pods, which flag.
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for p in &plan.pods {
        if let PodAction::Blocked { reason } = &p.action {
            match groups.iter_mut().find(|(r, _)| r == reason) {
                Some((_, pods)) => pods.push(p.key()),
                None => groups.push((reason, vec![p.key()])),
            }
        }
    }
    for (reason, pods) in groups {
        let flag = reason
            .split_once("(use ")
            .and_then(|(_, rest)| rest.split_once(" to override)"))
            .map(|(f, _)| f);
        let what = reason.split(" (use ").next().unwrap_or(reason);
        out.push(match flag {
            Some(f) => format!("{what}: {} → tick {f}", pods.join(", ")),
            None => format!("{what}: {}", pods.join(", ")),
        });
    }
    // Errors not tied to a pod's action (e.g. a DaemonSet lookup failure).
    if out.is_empty() {
        out.extend(plan.errors.iter().cloned());
    }
    for f in plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Blocker)
    {
        // Short: the findings below give the whole story.
        let pods: Vec<&str> = f
            .pods
            .iter()
            .map(|p| p.split(" (").next().unwrap_or(p))
            .collect();
        let pods = pods.join(", ");
        out.push(match f.kind {
            "multiple-pdbs" => {
                format!("under two PDBs: {pods} → fix the PDBs, or tick --disable-eviction")
            }
            "pdb-never" => {
                format!("a PDB never allows evicting {pods} → fix it, or tick --disable-eviction")
            }
            "terminating-on-notready" => format!(
                "terminating on a NotReady node: {pods} → set --skip-wait-for-delete-timeout"
            ),
            _ => f.message.clone(),
        });
    }
    out
}

/// What the uncordon confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncordonFacts {
    pub node: String,
    pub ready: NodeReady,
    /// Seconds in the current Ready state.
    pub ready_for: Option<i64>,
    /// (what, when cordoned, now).
    pub versions: Vec<(&'static str, Option<String>, String)>,
    pub cordoned_at: Option<Timestamp>,
    /// Why kubedrain would not lift this cordon on its own (asks explicitly instead).
    pub not_ours: Option<String>,
    /// Unscheduled Pending pods, and how many of them would fit on this node.
    pub pending: usize,
    pub pending_fit: usize,
}

/// The uncordon confirmation's facts about `node`, from the cache.
pub fn uncordon_facts(m: &Model, node: &str) -> Option<UncordonFacts> {
    let n = m.cache.nodes.get(node)?;
    let versions = vec![
        (
            "OS image",
            n.annotation(ann::PRE_OS_IMAGE).map(str::to_string),
            n.os_image.clone(),
        ),
        (
            "kernel",
            n.annotation(ann::PRE_KERNEL).map(str::to_string),
            n.kernel_version.clone(),
        ),
        (
            "kubelet",
            n.annotation(ann::PRE_KUBELET).map(str::to_string),
            n.kubelet_version.clone(),
        ),
    ];
    let pending: Vec<&PodRow> = m
        .cache
        .pods
        .values()
        .filter(|p| p.node_name.is_none() && !p.phase.is_finished() && !p.is_terminating())
        .collect();
    // Would they fit here once it is schedulable? The capacity check, on this node alone.
    let mut open = n.clone();
    open.unschedulable = false;
    let mut ghost = NodeRow::default();
    ghost.meta.name = Some("\u{0}".into());
    let all: Vec<&PodRow> = m.cache.pods.values().collect();
    let fit = crate::drain::capacity::simulate(&ghost, &pending, &[&open], &all)
        .placements
        .iter()
        .filter(|p| p.node.is_some())
        .count();
    Some(UncordonFacts {
        node: node.to_string(),
        ready: n.ready,
        ready_for: n.ready_since.map(|t| (m.now - t).get_seconds().max(0)),
        versions,
        cordoned_at: n.annotation(ann::CORDONED_AT).and_then(|t| t.parse().ok()),
        not_ours: journal::may_uncordon(n).err(),
        pending: pending.len(),
        pending_fit: fit,
    })
}

// ---------------------------------------------------------------------------------------------
// update.

fn flash(m: &mut Model, text: impl Into<String>) {
    m.flash = Some((text.into(), m.now));
}

/// `c` / `u` / `r` on the selected node: opens the matching dialog.
pub fn open(m: &mut Model, action: NodeAction, node: String) -> Vec<Cmd> {
    if m.readonly {
        flash(m, "read-only: kubedrain will not change the cluster");
        return Vec::new();
    }
    let Some(n) = m.cache.nodes.get(&node) else {
        return Vec::new();
    };
    match action {
        NodeAction::Cordon if n.unschedulable => flash(
            m,
            format!("{node} is already cordoned (SchedulingDisabled)"),
        ),
        NodeAction::Cordon => m.flow.dialog = Some(Dialog::Cordon { node }),
        NodeAction::Uncordon if !n.unschedulable => {
            flash(m, format!("{node} is already schedulable"))
        }
        NodeAction::Uncordon => m.flow.dialog = Some(Dialog::Uncordon { node }),
        NodeAction::Drain => match &m.flow.live {
            Some(l) if l.outcome.is_none() && l.node == node => m.flow.dialog = Some(Dialog::Live),
            Some(l) if l.outcome.is_none() => flash(
                m,
                format!("{} is being drained: one drain at a time", l.node),
            ),
            _ => m.flow.dialog = Some(Dialog::Options(OptionsForm::new(&node))),
        },
    }
    Vec::new()
}

/// Keys for the workflow. `None`: not ours, the normal keymap handles it.
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    let Some(c) = ctx(m) else {
        // The nodes pane's demo key.
        if m.view == View::Main
            && m.focus == Pane::Nodes
            && lookup(m, Ctx::NodesDemo, k) == Some(FlowAction::Upgrade)
        {
            let node = m.selected_node.clone()?;
            return Some(upgrade(m, &node));
        }
        return None;
    };
    let action = lookup(m, c, k);
    let on_text = matches!(&m.flow.dialog, Some(Dialog::Options(f)) if !f.field().is_bool());
    let cmds = match (c, action) {
        (Ctx::Options, None) if on_text || k.code != KeyCode::Char('?') => {
            options_typing(m, k);
            Vec::new()
        }
        // Help stays reachable from every dialog.
        (_, None) if k.code == KeyCode::Char('?') => return None,
        // Looking for the way out of a running drain.
        (Ctx::Live, None) if matches!(k.code, KeyCode::Esc | KeyCode::Char('q')) => {
            if let Some(l) = &m.flow.live {
                let text = format!(
                    "draining {}: x cancels (it stays cordoned); Ctrl-C quits kubedrain",
                    l.node
                );
                flash(m, text);
            }
            Vec::new()
        }
        (_, None) => Vec::new(),
        (_, Some(a)) => act(m, c, a),
    };
    Some(cmds)
}

fn options_typing(m: &mut Model, k: &KeyEvent) {
    let Some(Dialog::Options(form)) = &mut m.flow.dialog else {
        return;
    };
    let f = form.field();
    let Some(text) = form.text_mut(f) else {
        return;
    };
    match k.code {
        KeyCode::Char(ch) => text.push(ch),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => return,
    }
    form.error = None;
}

fn act(m: &mut Model, c: Ctx, a: FlowAction) -> Vec<Cmd> {
    match (c, a) {
        (Ctx::Confirm, FlowAction::Confirm) => confirm(m),
        (_, FlowAction::Cancel) => {
            m.flow.dialog = None;
            Vec::new()
        }
        (Ctx::Options, _) => {
            options_action(m, a);
            Vec::new()
        }
        (Ctx::Plan, _) => plan_action(m, a),
        (Ctx::Live, _) => live_action(m, a),
        (Ctx::Resume, _) => resume_action(m, a),
        _ => Vec::new(),
    }
}

fn confirm(m: &mut Model) -> Vec<Cmd> {
    match m.flow.dialog.take() {
        Some(Dialog::Cordon { node }) => {
            flash(m, format!("cordoning {node}…"));
            vec![Cmd::Flow(FlowCmd::Cordon { node })]
        }
        Some(Dialog::Uncordon { node }) => {
            // The dialog said so in red when the cordon is not kubedrain's: confirming it is
            // the explicit yes.
            let force = m
                .cache
                .nodes
                .get(&node)
                .is_some_and(|n| journal::may_uncordon(n).is_err());
            flash(m, format!("uncordoning {node}…"));
            vec![Cmd::Flow(FlowCmd::Uncordon { node, force })]
        }
        other => {
            m.flow.dialog = other;
            Vec::new()
        }
    }
}

fn options_action(m: &mut Model, a: FlowAction) {
    let Some(Dialog::Options(form)) = &mut m.flow.dialog else {
        return;
    };
    let n = Field::ALL.len();
    match a {
        FlowAction::Up => form.cursor = (form.cursor + n - 1) % n,
        FlowAction::Down => form.cursor = (form.cursor + 1) % n,
        FlowAction::Toggle => {
            let f = form.field();
            match form.bool_mut(f) {
                Some(b) => *b = !*b,
                None => {
                    if let Some(t) = form.text_mut(f) {
                        t.push(' ');
                    }
                }
            }
            form.error = None;
        }
        FlowAction::Plan => {
            let form = form.clone();
            match form.options() {
                Err(e) => {
                    if let Some(Dialog::Options(f)) = &mut m.flow.dialog {
                        f.error = Some(e);
                    }
                }
                Ok(opts) => match plan_from_cache(m, &form.node, &opts) {
                    Some(plan) => {
                        m.flow.dialog = Some(Dialog::Plan {
                            form,
                            plan: Box::new(plan),
                            scroll: 0,
                        })
                    }
                    None => {
                        m.flow.dialog = None;
                        flash(m, format!("node {} is gone", form.node));
                    }
                },
            }
        }
        _ => {}
    }
}

fn plan_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(Dialog::Plan { form, plan, scroll }) = &mut m.flow.dialog else {
        return Vec::new();
    };
    match a {
        // Bounded by the plan's length (render bounds it exactly, with wrapping).
        FlowAction::Down => {
            let len = plan.pods.len() + 3 * plan.findings.len() + 12;
            *scroll = (*scroll + 1).min(len);
        }
        FlowAction::Up => *scroll = scroll.saturating_sub(1),
        FlowAction::Back => {
            let form = form.clone();
            m.flow.dialog = Some(Dialog::Options(form));
        }
        FlowAction::Start => {
            if !plan.can_proceed() {
                let why = unblock_hints(plan).into_iter().next().unwrap_or_default();
                flash(m, format!("blocked, not starting: {why}"));
                return Vec::new();
            }
            let form = form.clone();
            let timeout = form
                .options()
                .ok()
                .and_then(|o| o.timeout)
                .map(|t| t.as_secs());
            let mut live = LiveDrain::new(&form.node, m.now, timeout);
            // Rows from the plan at once; the engine's own plan (after the cordon) follows.
            for p in plan.removals() {
                live.rows.push(PodProgress {
                    key: p.key(),
                    state: PodState::Queued,
                    since: m.now,
                });
            }
            live.skipped = plan.pods.len() - live.rows.len();
            m.flow.live = Some(live);
            m.flow.dialog = Some(Dialog::Live);
            return vec![Cmd::Flow(FlowCmd::Drain {
                node: form.node.clone(),
                form,
            })];
        }
        _ => {}
    }
    Vec::new()
}

fn live_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(live) = &mut m.flow.live else {
        m.flow.dialog = None;
        return Vec::new();
    };
    match a {
        FlowAction::Down => live.scroll = (live.scroll + 1).min(live.rows.len()),
        FlowAction::Up => live.scroll = live.scroll.saturating_sub(1),
        FlowAction::CancelDrain if !live.cancel_sent => {
            live.cancel_sent = true;
            return vec![Cmd::Flow(FlowCmd::CancelDrain)];
        }
        FlowAction::Close => m.flow.dialog = None,
        FlowAction::Upgrade => {
            let node = live.node.clone();
            m.flow.dialog = None;
            return upgrade(m, &node);
        }
        _ => {}
    }
    Vec::new()
}

fn resume_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(Dialog::Resume { items, selected }) = &mut m.flow.dialog else {
        return Vec::new();
    };
    match a {
        FlowAction::Down => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        FlowAction::Up => *selected = selected.saturating_sub(1),
        FlowAction::Resume | FlowAction::Uncordon => {
            let Some(node) = items.get(*selected).map(|u| u.node.clone()) else {
                return Vec::new();
            };
            m.flow.dialog = None;
            select_node(m, &node);
            let action = if a == FlowAction::Resume {
                NodeAction::Drain
            } else {
                NodeAction::Uncordon
            };
            return open(m, action, node);
        }
        _ => {}
    }
    Vec::new()
}

/// Moves the nodes selection to `node`.
fn select_node(m: &mut Model, node: &str) {
    if let Some(i) = m.views.nodes.iter().position(|n| n == node) {
        let mut nav = m.nav(super::model::Table::Nodes);
        nav.selected = i;
        super::views::set_nav(m, super::model::Table::Nodes, nav);
        m.selected_node = Some(node.to_string());
        m.stale = true;
    }
}

/// `U` (demo): simulate the OS upgrade of a drained node.
fn upgrade(m: &mut Model, node: &str) -> Vec<Cmd> {
    if !m.flow.demo_upgrade || m.readonly {
        return Vec::new();
    }
    let Some(n) = m.cache.nodes.get(node) else {
        return Vec::new();
    };
    if !n.unschedulable {
        flash(
            m,
            format!("{node} is schedulable: cordon (c) and drain (r) it before the upgrade"),
        );
        return Vec::new();
    }
    if m.flow.upgrading.contains_key(node) {
        flash(m, format!("{node} is already rebooting"));
        return Vec::new();
    }
    let (_, others) = node_pods(m, node);
    if !others.is_empty() {
        let n = others.len();
        flash(
            m,
            format!("{node} still runs {n} pod(s) a drain would move: drain it (r) first"),
        );
        return Vec::new();
    }
    let before = (n.boot_id.clone(), n.kubelet_version.clone());
    m.flow.upgrading.insert(node.to_string(), before);
    flash(m, format!("{node}: upgrading the OS (simulated reboot)…"));
    vec![Cmd::Flow(FlowCmd::Upgrade {
        node: node.to_string(),
    })]
}

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
                if finished && let Some(o) = &live.outcome {
                    let text = match o.state {
                        NodeState::Drained => format!("{} drained", o.node),
                        NodeState::Cancelled => {
                            format!("drain of {} cancelled: it stays cordoned", o.node)
                        }
                        NodeState::TimedOut => {
                            format!("drain of {} timed out: it stays cordoned", o.node)
                        }
                        _ => format!("drain of {} failed: see the drain view", o.node),
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
        FlowMsg::Upgrade { node, result } => {
            if let Err(e) = result {
                m.flow.upgrading.remove(&node);
                flash(m, format!("could not upgrade {node}: {e}"));
            }
        }
    }
    Vec::new()
}

fn event_node(ev: &DrainEvent) -> &str {
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
    let nodes_live =
        m.watch.get(&crate::cluster::watch::Kind::Nodes) == Some(&super::model::WatchState::Live);
    let Some(entries) = &m.flow.journal else {
        return;
    };
    if !nodes_live {
        return;
    }
    m.flow.resume_checked = true;
    let nodes: Vec<&NodeRow> = m.cache.nodes.values().collect();
    let items = journal::find_unfinished(&nodes, entries);
    if !items.is_empty() && m.flow.dialog.is_none() {
        m.flow.dialog = Some(Dialog::Resume { items, selected: 0 });
        m.redraw = true;
    }
}

/// Every second: notice demo upgrades that finished (node back Ready after a new boot).
/// Returns whether the workflow shows something that changes with time.
pub fn tick(m: &mut Model) -> bool {
    let timers = match &m.flow.dialog {
        // Elapsed, timeout and grace countdowns.
        Some(Dialog::Live) => m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none()),
        // "Ready for 12s", "cordoned 3m ago".
        Some(Dialog::Uncordon { .. } | Dialog::Resume { .. }) => true,
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
