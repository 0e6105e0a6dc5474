//! Look at one object: `d` describe (kubectl-describe-like sections), `y` its YAML, `e` its
//! events, for the selected node, pod or PDB (or the object of the selected event). A page
//! over the screen that scrolls and closes with Esc.
//!
//! The cache keeps slim rows; what a page needs beyond them (the full object, the node's
//! pods, the owners) is fetched by a background task (`fetch.rs`) that answers with
//! `Msg::Describe`. The page keeps that answer while it is open and builds its lines from it
//! and the live cache (`build.rs`), so events and PDB numbers stay current.

pub mod build;
mod build_node;
mod build_pdb;
mod build_pod;
pub mod facts;
pub mod fetch;
pub mod keys;
pub mod text;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::model::{Model, Pane, Table, View};
use super::msg::Cmd;
use facts::{Hop, OwnerRef};
pub use keys::key;
use text::DLine;

/// The object a page is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Node(String),
    Pod { namespace: String, name: String },
    Pdb { namespace: String, name: String },
}

impl Subject {
    /// The kind as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Node(_) => "Node",
            Subject::Pod { .. } => "Pod",
            Subject::Pdb { .. } => "PodDisruptionBudget",
        }
    }

    /// `node node0`, `pod default/web-1`, `pdb default/web`.
    pub fn label(&self) -> String {
        match self {
            Subject::Node(n) => format!("node {n}"),
            Subject::Pod { namespace, name } => format!("pod {namespace}/{name}"),
            Subject::Pdb { namespace, name } => format!("pdb {namespace}/{name}"),
        }
    }

    /// The namespace (`None` for a node).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Subject::Node(_) => None,
            Subject::Pod { namespace, .. } | Subject::Pdb { namespace, .. } => Some(namespace),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        match self {
            Subject::Node(n) => n,
            Subject::Pod { name, .. } | Subject::Pdb { name, .. } => name,
        }
    }

    /// The cache key (`name` or `namespace/name`).
    pub fn key(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{ns}/{}", self.name()),
            None => self.name().to_string(),
        }
    }
}

/// What the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Describe,
    Yaml,
    Events,
}

impl Mode {
    /// The page title's word.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Describe => "Describe",
            Mode::Yaml => "YAML",
            Mode::Events => "Events",
        }
    }
}

/// A fetch the page asks for (`Cmd::Describe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Answers to an older request (the page moved on) are dropped.
    pub id: u64,
    pub subject: Subject,
    pub mode: Mode,
    /// The pod's controller as the cache knows it: the chain starts there if the pod
    /// itself cannot be read.
    pub cached_owner: Option<OwnerRef>,
}

/// What a fetch found; each part `Err` with the reason when it could not be read: the text
/// the page prints (a `String`: the page only shows it, and `Facts` is `Clone`).
#[derive(Debug, Clone)]
pub enum Facts {
    Node {
        node: Result<Box<Node>, String>,
        /// Every pod bound to the node, all namespaces (`spec.nodeName=`).
        pods: Result<Vec<Pod>, String>,
    },
    Pod {
        pod: Result<Box<Pod>, String>,
        owners: Vec<Hop>,
    },
    Pdb {
        pdb: Result<Box<PodDisruptionBudget>, String>,
    },
    /// The object as YAML, managedFields dropped (as `kubectl get -o yaml` shows it).
    Yaml(Result<String, String>),
}

/// A fetch's answer (`Msg::Describe`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub id: u64,
    pub facts: Facts,
}

/// The open page.
#[derive(Debug, Clone)]
pub struct Page {
    pub id: u64,
    pub subject: Subject,
    pub mode: Mode,
    /// `None` while the fetch runs (never for events: they come from the cache).
    pub facts: Option<Facts>,
    /// When the facts arrived.
    pub fetched: Option<Timestamp>,
    /// The page's text, rebuilt when facts or the cache change.
    pub lines: Vec<DLine>,
    /// First row shown (wrapped rows).
    pub scroll: usize,
    /// The lines must be rebuilt.
    pub dirty: bool,
    /// The width the lines were laid out for (tables depend on it).
    pub built_for: usize,
}

impl Page {
    /// Whether the page waits for its fetch.
    pub fn loading(&self) -> bool {
        self.mode != Mode::Events && self.facts.is_none()
    }
}

/// The describe page, if open, and the request counter.
#[derive(Debug, Clone, Default)]
pub struct DescribeUi {
    pub page: Option<Page>,
    next_id: u64,
}

/// `d` / `y` / `e` outside the page: opens it for the selected object, or says why not.
pub fn open(m: &mut Model, mode: Mode) -> Vec<Cmd> {
    match selected(m) {
        Ok(subject) => start(m, subject, mode, 0),
        Err(why) => {
            let key = match mode {
                Mode::Describe => "d (describe)",
                Mode::Yaml => "y (YAML)",
                Mode::Events => "e (events)",
            };
            m.say(format!("{key}: {why}"));
            Vec::new()
        }
    }
}

/// Opens (or switches) the page on `subject` in `mode`, asking for its facts.
pub fn start(m: &mut Model, subject: Subject, mode: Mode, scroll: usize) -> Vec<Cmd> {
    m.describe.next_id += 1;
    let id = m.describe.next_id;
    let cached_owner = match &subject {
        Subject::Pod { .. } => m
            .cache
            .pods
            .get(&subject.key())
            .and_then(|p| p.controller.as_ref())
            .map(|o| OwnerRef {
                api_version: o.0.api_version.clone(),
                kind: o.0.kind.clone(),
                name: o.0.name.clone(),
            }),
        _ => None,
    };
    m.describe.page = Some(Page {
        id,
        subject: subject.clone(),
        mode,
        facts: None,
        fetched: None,
        lines: Vec::new(),
        scroll,
        dirty: true,
        built_for: 0,
    });
    m.redraw = true;
    refresh(m);
    if mode == Mode::Events {
        return Vec::new();
    }
    vec![Cmd::Describe(Request {
        id,
        subject,
        mode,
        cached_owner,
    })]
}

/// A fetch answered: kept if the page still waits for it.
pub fn on_answer(m: &mut Model, a: Answer) {
    let now = m.now;
    let Some(page) = m.describe.page.as_mut().filter(|p| p.id == a.id) else {
        return;
    };
    page.facts = Some(a.facts);
    page.fetched = Some(now);
    page.dirty = true;
    m.redraw = true;
    refresh(m);
}

/// The cache changed: an open page rebuilds (its events and PDB numbers are live).
pub fn cache_changed(m: &mut Model) {
    if let Some(p) = &mut m.describe.page {
        p.dirty = true;
        m.redraw = true;
    }
}

/// Rebuilds the open page's lines if they are out of date, and keeps its scroll in range.
pub fn refresh(m: &mut Model) {
    let Some(mut page) = m.describe.page.take() else {
        return;
    };
    let (cols, rows) = geometry(m.size);
    if page.dirty || page.built_for != cols {
        page.lines = build::lines(m, &page);
        page.dirty = false;
        page.built_for = cols;
    }
    page.scroll = page
        .scroll
        .min(text::rows(&page.lines, cols).saturating_sub(rows));
    m.describe.page = Some(page);
}

/// The page's text area at terminal `size`: (columns, rows). The page fills the body
/// between header and footer, inside a border.
pub fn geometry(size: (u16, u16)) -> (usize, usize) {
    (
        size.0.saturating_sub(2) as usize,
        size.1.saturating_sub(4) as usize,
    )
}

/// Why `d`, `y` or `e` has nothing to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum NothingToShow {
    /// The list the selection is in is empty (`what`: "no pod selected (...)" and the like).
    #[error("{0}")]
    Empty(&'static str),
    #[error("the selected event is gone")]
    EventGone,
    #[error("the selected event is about a {0}; nodes, pods and PDBs can be shown")]
    OtherKind(String),
    #[error("works in the nodes, pods and events panes and the PDB view (:pdb)")]
    OtherView,
}

/// The object the keys act on: the selected row of the focused pane or the PDB view; in
/// the events pane, the object the selected event is about.
fn selected(m: &Model) -> Result<Subject, NothingToShow> {
    let row = |t: Table, keys: &[String]| keys.get(m.nav(t).selected).cloned();
    let pod_row = || {
        m.views
            .pods
            .get(m.nav(Table::Pods).selected)
            .map(|k| k.to_string())
    };
    let split = |key: String| {
        let (ns, name) = key.split_once('/').unwrap_or(("", &key));
        (ns.to_string(), name.to_string())
    };
    match (m.view, m.focus) {
        (View::Pdbs, _) => row(Table::Pdbs, &m.views.pdbs)
            .map(|k| {
                let (namespace, name) = split(k);
                Subject::Pdb { namespace, name }
            })
            .ok_or(NothingToShow::Empty("no PDB selected (the list is empty)")),
        (View::Main, Pane::Nodes) => row(Table::Nodes, &m.views.nodes)
            .map(Subject::Node)
            .ok_or(NothingToShow::Empty("no node selected (the list is empty)")),
        (View::Main, Pane::Pods) => pod_row()
            .map(|k| {
                let (namespace, name) = split(k);
                Subject::Pod { namespace, name }
            })
            .ok_or(NothingToShow::Empty(
                "no pod selected (the pods pane is empty)",
            )),
        (View::Main, Pane::Events) => {
            let key = row(Table::Events, &m.views.events).ok_or(NothingToShow::Empty(
                "no event selected (the events pane is empty)",
            ))?;
            let ev = m.cache.events.get(&key).ok_or(NothingToShow::EventGone)?;
            let namespace = ev
                .object_namespace
                .clone()
                .or_else(|| ev.meta.namespace.clone())
                .unwrap_or_default();
            let name = ev.object_name.clone();
            match ev.object_kind.as_str() {
                "Node" => Ok(Subject::Node(name)),
                "Pod" => Ok(Subject::Pod { namespace, name }),
                "PodDisruptionBudget" => Ok(Subject::Pdb { namespace, name }),
                other => Err(NothingToShow::OtherKind(other.to_string())),
            }
        }
        (View::Versions | View::Campaign | View::Timeline, _) => Err(NothingToShow::OtherView),
    }
}

#[cfg(test)]
mod tests;
