//! The model: everything the screen shows, owned by one task.

use std::collections::BTreeMap;

use jiff::Timestamp;

pub use super::filter::Filter;
use super::key_text::KeyText;
use crate::cluster::cache::Cache;
use crate::cluster::index::Key;
use crate::cluster::watch::Kind;

pub use super::conn::{ConnState, Heard, short_error};

/// How long a pod that just landed on a node stays highlighted, in seconds.
pub const ARRIVAL_SECS: i64 = 10;

/// The three panes of the main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pane {
    Nodes,
    Pods,
    Events,
}

impl Pane {
    /// Tab order.
    pub const ALL: [Pane; 3] = [Pane::Nodes, Pane::Pods, Pane::Events];
}

/// A table the user can move in (the panes plus full-screen views).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Nodes,
    Pods,
    Events,
    Pdbs,
}

impl From<Pane> for Table {
    fn from(p: Pane) -> Table {
        match p {
            Pane::Nodes => Table::Nodes,
            Pane::Pods => Table::Pods,
            Pane::Events => Table::Events,
        }
    }
}

/// What fills the screen between header and status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nodes, pods and events.
    Main,
    /// The PodDisruptionBudget list.
    Pdbs,
    /// The versions matrix and the skew policy (`:versions [vX.Y.Z]`).
    Versions,
    /// The campaign (`:campaign`): each node's phases, what it waits for, the current drain.
    Campaign,
    /// The timeline (`:log`): every step explained, action taken and message shown.
    Timeline,
}

/// The versions view's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionsView {
    /// `:versions vX.Y.Z`: plan the way there.
    pub target: Option<crate::campaign::version::Version>,
    /// First line shown (clamped when drawn).
    pub scroll: usize,
    /// Nodes, kube-system pods or the target changed since `lines` was built.
    pub dirty: bool,
    /// The report (see `app::versions`).
    pub lines: Vec<crate::campaign::render::Line>,
    /// The title's counts.
    pub detail: String,
}

impl Default for VersionsView {
    fn default() -> Self {
        VersionsView {
            target: None,
            scroll: 0,
            dirty: true,
            lines: Vec::new(),
            detail: String::new(),
        }
    }
}

/// Something drawn over the view (the maintenance workflow's dialogs live in `Model::flow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
}

/// Which pods the pods pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodScope {
    /// The selected node's pods.
    Node,
    /// Every pod (of the namespace, if one is set).
    All,
    /// Unscheduled pods cluster-wide.
    Pending,
}

/// Which namespaces the pod cache holds. Node facts, PDB pod counts and verdicts are only
/// true when it holds them all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PodCoverage {
    /// Every namespace (the cluster-wide pod watch is allowed, or has not been refused).
    #[default]
    All,
    /// Only `namespace` (the `-n` one): listing pods cluster-wide is forbidden.
    Namespace { namespace: String, reason: String },
    /// None: listing pods cluster-wide is forbidden and there is no `-n` to fall back to.
    Forbidden { reason: String },
}

impl PodCoverage {
    /// After the cluster-wide pod watch was refused with `error` and the watcher fell back
    /// to `namespace`.
    pub fn namespace(namespace: &str, error: &str) -> PodCoverage {
        PodCoverage::Namespace {
            reason: format!(
                "pods outside namespace {namespace} are not visible (list pods at cluster scope: {})",
                refusal(error)
            ),
            namespace: namespace.to_string(),
        }
    }

    /// After the cluster-wide pod watch was refused with `error`, with nothing to fall back to.
    pub fn forbidden(error: &str) -> PodCoverage {
        PodCoverage::Forbidden {
            reason: format!(
                "pods are not visible (list pods at cluster scope: {}; -n NAMESPACE watches one namespace)",
                refusal(error)
            ),
        }
    }
}

/// "forbidden" for a 403, else the watcher's own words.
fn refusal(error: &str) -> &str {
    if error.contains("403") || error.to_lowercase().contains("forbidden") {
        "forbidden"
    } else {
        error
    }
}

/// What the keyboard is typing into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Normal,
    /// `/` filter line (applied live to the focused table).
    Filter(String),
    /// `:` command line.
    Command(String),
}

/// State of one watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Listing for the first time.
    Connecting,
    /// Relisting after an error or expiry; the previous data is still shown.
    Resyncing,
    Live,
    /// The stream failed at `since`; the watcher is backing off.
    Failed {
        since: Timestamp,
        error: String,
    },
    /// Failed, but the API server answers again: the watcher resumes after its backoff,
    /// possibly without any event to show for it.
    Reconnecting,
}

/// Where the data comes from.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    pub context: String,
    pub server: String,
    pub version: String,
    /// `Some(scenario)` when showing the built-in simulator.
    pub demo: Option<String>,
    /// In demo mode: the kubeconfig written for the simulator, so kubectl can be used beside.
    pub demo_kubeconfig: Option<String>,
    /// The uid of the cluster's kube-system namespace, once read: which cluster answers
    /// behind the URL (another one means a full relist).
    pub cluster_uid: Option<String>,
}

/// Selection and scroll position of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nav {
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
}

/// The rows each table shows, in order (keys into the cache), rebuilt when data or
/// filters change — not per frame.
#[derive(Debug, Clone, Default)]
pub struct Views {
    pub nodes: Vec<String>,
    /// Pod keys, shared with the cache.
    pub pods: Vec<Key>,
    /// The same keys copied one after another, for a filter narrowing the view (`None`
    /// whenever it is not in step with `pods`).
    pub pods_text: Option<KeyText>,
    /// Keys the pods view let go of, dropped after the next frame is out: dropping 150,000
    /// shared keys touches each one's allocation, which a narrowing key need not wait for.
    pub retired: Vec<Vec<Key>>,
    pub events: Vec<String>,
    pub pdbs: Vec<String>,
    /// Width of the nodes' NAME column (longest name), so other columns sit close.
    pub node_name_w: u16,
    /// Width of the pods' NAME column.
    pub pod_name_w: u16,
    /// The most recent creation / last-seen / restart time among the listed rows: while it
    /// is young, ages tick every second.
    pub youngest: Option<Timestamp>,
    /// Width of the events' OBJECT column.
    pub event_object_w: u16,
    /// Youngest creation / restart among the pods on screen (part of `youngest`).
    pub youngest_pod: Option<Timestamp>,
    /// Newest last-seen among the listed events (part of `youngest`).
    pub youngest_event: Option<Timestamp>,
    /// Youngest node creation (part of `youngest`).
    pub youngest_node: Option<Timestamp>,
    /// Cordoned nodes in the cache (the nodes pane title), kept with the node list so a
    /// frame does not count 5,000 nodes.
    pub nodes_cordoned: usize,
    /// Nodes in the cache that are not Ready (the nodes pane title).
    pub nodes_not_ready: usize,
    /// How often each view was rebuilt from scratch (tests prove what an event does not cost).
    pub rebuilds: Rebuilds,
}

/// Which views must be rebuilt from the cache before the next render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dirty {
    pub nodes: bool,
    pub pods: bool,
    pub events: bool,
    pub pdbs: bool,
}

impl Dirty {
    /// Every view.
    pub const ALL: Dirty = Dirty {
        nodes: true,
        pods: true,
        events: true,
        pdbs: true,
    };

    /// Marks the view of table `t`.
    pub fn mark(&mut self, t: Table) {
        match t {
            Table::Nodes => self.nodes = true,
            Table::Pods => self.pods = true,
            Table::Events => self.events = true,
            Table::Pdbs => self.pdbs = true,
        }
    }

    /// Whether any view is dirty.
    pub fn any(self) -> bool {
        self.nodes || self.pods || self.events || self.pdbs
    }
}

/// Full rebuilds per view since the model was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilds {
    pub nodes: u64,
    pub pods: u64,
    pub events: u64,
    pub pdbs: u64,
    /// Pods filters applied by narrowing the view instead (`views::narrow_pods`).
    pub pods_narrowed: u64,
}

impl Views {
    /// Number of rows of `t`.
    pub fn len(&self, t: Table) -> usize {
        match t {
            Table::Nodes => self.nodes.len(),
            Table::Pods => self.pods.len(),
            Table::Events => self.events.len(),
            Table::Pdbs => self.pdbs.len(),
        }
    }
}

/// Everything the UI knows.
#[derive(Debug)]
pub struct Model {
    pub cache: Cache,
    /// Connection generation: watch reports from another generation are dropped.
    pub generation: u64,
    pub conn: ConnInfo,
    pub watch: BTreeMap<Kind, WatchState>,
    /// What each watcher last confirmed (liveness: bookmarks and events).
    pub heard: BTreeMap<Kind, Heard>,
    /// The clock render uses for ages (injected, so snapshots are deterministic).
    pub now: Timestamp,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub focus: Pane,
    pub view: View,
    pub overlay: Option<Overlay>,
    pub input: Input,
    pub pod_scope: PodScope,
    pub events_all: bool,
    /// `-n`: list only this namespace's pods (and their events). A display filter: node
    /// facts and verdicts always cover every namespace the pod cache holds.
    pub namespace: Option<String>,
    /// The `-n` given at start: `0` toggles between it and all namespaces.
    pub namespace_arg: Option<String>,
    /// Which namespaces the pod cache holds (see [`Model::pods_hidden`]).
    pub pod_coverage: PodCoverage,
    pub readonly: bool,
    pub nav: BTreeMap<Table, Nav>,
    pub filters: BTreeMap<Table, Filter>,
    /// The node whose pods and events are shown; follows the nodes selection by name.
    pub selected_node: Option<String>,
    pub views: Views,
    /// Pods that recently landed on a node (key → when), highlighted for `ARRIVAL_SECS`.
    pub arrivals: std::collections::HashMap<String, Timestamp>,
    /// Status-line message and when it was set (set it with [`Model::say`]).
    pub flash: Option<(String, Timestamp)>,
    /// Counts [`Model::say`] calls: the timeline sees a new message without a copy of the
    /// old one on every update.
    pub flash_seq: u64,
    /// Every view must be rebuilt before the next render (filters, scopes, relists).
    pub stale: bool,
    /// Only these views must be rebuilt (watch events touch one view at a time).
    pub dirty: Dirty,
    /// Something visible changed: render the whole screen on this loop turn.
    pub redraw: bool,
    /// Changes that stay inside one pane's rows: render those alone (see `damage.rs`).
    pub damage: super::damage::Damage,
    pub quit: bool,
    /// The maintenance workflow: dialogs, the live drain, the demo upgrade.
    pub flow: super::drain_flow::Flow,
    /// The `:versions` view.
    pub versions: VersionsView,
    /// Marked nodes, the campaign form and plan, the running campaign.
    pub campaign: super::campaign::CampaignUi,
    /// The demo cluster's clock (`None` on a real cluster).
    pub demo_clock: Option<super::demo_clock::ClockState>,
    /// The demo cluster's time at the last tick: ages and grace countdowns follow it, so a
    /// frozen or slowed cluster shows them frozen or slowed (`None`: the cluster is real).
    pub cluster_time: Option<Timestamp>,
    /// The describe / YAML / events page (`d`, `y`, `e`).
    pub describe: super::describe::DescribeUi,
    /// The `:ns` / `:ctx` picker, when open.
    pub picker: Option<super::picker::Picker>,
    /// Teach mode's narration and the timeline.
    pub teach: super::teach::Teach,
    /// The kubeconfig's contexts (`:ctx`); empty for the demo.
    pub contexts: Vec<String>,
    /// `:ctx NAME`: quit this session and continue in that context.
    pub switch_context: Option<String>,
}

impl Model {
    /// The cluster's time: the demo cluster's own clock, else the wall clock.
    pub fn cluster_now(&self) -> Timestamp {
        self.cluster_time.unwrap_or(self.now)
    }

    /// A fresh model for connection generation 1.
    pub fn new(conn: ConnInfo, namespace: Option<String>, readonly: bool, now: Timestamp) -> Model {
        Model {
            cache: Cache::default(),
            generation: 1,
            conn,
            watch: Kind::ALL
                .iter()
                .map(|k| (*k, WatchState::Connecting))
                .collect(),
            heard: BTreeMap::new(),
            now,
            size: (80, 24),
            focus: Pane::Nodes,
            view: View::Main,
            overlay: None,
            input: Input::Normal,
            pod_scope: PodScope::Node,
            events_all: false,
            namespace_arg: namespace.clone(),
            namespace,
            pod_coverage: PodCoverage::All,
            readonly,
            nav: BTreeMap::new(),
            filters: BTreeMap::new(),
            selected_node: None,
            views: Views::default(),
            arrivals: Default::default(),
            flash: None,
            flash_seq: 0,
            stale: true,
            dirty: Dirty::default(),
            redraw: true,
            damage: Default::default(),
            quit: false,
            flow: Default::default(),
            versions: VersionsView::default(),
            campaign: Default::default(),
            demo_clock: None,
            cluster_time: None,
            teach: Default::default(),
            picker: None,
            contexts: Vec::new(),
            switch_context: None,
            describe: Default::default(),
        }
    }

    /// Shows `text` in the status line (and, through `flash_seq`, in the timeline).
    pub fn say(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), self.now));
        self.flash_seq += 1;
    }

    /// The table the keyboard moves in.
    pub fn active_table(&self) -> Table {
        match self.view {
            View::Pdbs => Table::Pdbs,
            // The versions view scrolls its own lines (`move_by`); filters act on nodes.
            View::Main | View::Versions | View::Campaign | View::Timeline => self.focus.into(),
        }
    }

    /// Selection of `t`.
    pub fn nav(&self, t: Table) -> Nav {
        self.nav.get(&t).copied().unwrap_or_default()
    }

    /// `None` when the pod cache covers every namespace; otherwise why it does not, in plain
    /// words (RBAC forbids listing pods cluster-wide). Counts and verdicts derived from the
    /// cache are then partial: say "cannot tell", never a smaller number. A pod list still
    /// loading is not "hidden": see `watch`.
    pub fn pods_hidden(&self) -> Option<&str> {
        match &self.pod_coverage {
            PodCoverage::All => None,
            PodCoverage::Namespace { reason, .. } | PodCoverage::Forbidden { reason } => {
                Some(reason)
            }
        }
    }

    /// Whether the pod cache holds every pod of namespace `ns`.
    pub fn pods_known_in(&self, ns: &str) -> bool {
        match &self.pod_coverage {
            PodCoverage::All => true,
            PodCoverage::Namespace { namespace, .. } => namespace == ns,
            PodCoverage::Forbidden { .. } => false,
        }
    }

    /// Drops the keys the views let go of, once a frame is out (see `Views::retired`).
    pub fn after_frame(&mut self) {
        self.views.retired.clear();
    }

    /// Whether something on screen changed since the last frame.
    pub fn wants_frame(&self) -> bool {
        self.redraw || !self.damage.is_empty()
    }

    /// Rebuilds the views whose inputs changed since the last call.
    pub fn refresh(&mut self) {
        if self.stale {
            self.dirty = Dirty::ALL;
            self.stale = false;
        }
        if self.dirty.any() {
            super::views::rebuild(self);
        }
        // A focus change resizes panes on short terminals: keep each selection in view
        // (without rebuilding a view: at 150,000 pods that is what a key must not cost).
        for t in [Table::Nodes, Table::Pods, Table::Events, Table::Pdbs] {
            let nav = self.nav(t);
            super::views::set_nav(self, t, nav);
        }
        self.views.youngest_pod = super::views::visible_youngest_pod(self);
        super::views::combine_youngest(self);
        super::versions::refresh(self);
        super::describe::refresh(self);
    }
}
