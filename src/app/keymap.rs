//! The one keymap: key lookup, the status-bar hints and the help screen are all generated
//! from `BINDINGS`, so they cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Pane;

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    Enter,
    Back,
    Filter,
    Command,
    Help,
    AllNamespaces,
    PodsAll,
    PodsPending,
    EventsAll,
    Cordon,
    Uncordon,
    Drain,
    /// Mark / unmark the node for a campaign.
    Mark,
    /// The campaign form (or the running campaign's view).
    Campaign,
    /// `d` describe, `y` YAML, `e` events of the selected object (a page over the screen).
    Look,
    /// Show (and focus) or put away the drain panel.
    DrainPanel,
    /// Teach mode: the narration pane on or off.
    Teach,
}

/// A key as written in the keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Ch(char),
    Code(KeyCode),
    Ctrl(char),
}

impl Key {
    /// How the key is written in hints and help.
    pub fn label(self) -> String {
        match self {
            Key::Ch(' ') => "Space".into(),
            Key::Ch(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                other => format!("{other:?}"),
            },
        }
    }

    pub fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Ch(c) => !ctrl && ev.code == KeyCode::Char(c),
            Key::Ctrl(c) => ctrl && ev.code == KeyCode::Char(c),
            Key::Code(code) => ev.code == code,
        }
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Nodes,
    Pods,
    Events,
}

impl Scope {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "General",
            Scope::Nodes => "Nodes pane",
            Scope::Pods => "Pods pane",
            Scope::Events => "Events pane",
        }
    }

    fn applies(self, pane: Pane) -> bool {
        match self {
            Scope::Global => true,
            Scope::Nodes => pane == Pane::Nodes,
            Scope::Pods => pane == Pane::Pods,
            Scope::Events => pane == Pane::Events,
        }
    }
}

/// One line of the keymap.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    pub scope: Scope,
    /// Help screen text.
    pub help: &'static str,
    /// Short status-bar hint, if the binding earns a place there.
    pub hint: Option<&'static str>,
    /// Changes the cluster: hidden with `--readonly`.
    pub mutating: bool,
    /// Provided by the drain engine (not wired in this build).
    pub reserved: bool,
}

impl Binding {
    /// Its keys in this session (the config may remap them).
    pub fn keys(&self) -> &'static [Key] {
        super::remap::keys_of(self)
    }
}

const fn b(
    keys: &'static [Key],
    action: Action,
    scope: Scope,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        action,
        scope,
        help,
        hint,
        mutating: false,
        reserved: false,
    }
}

const fn m(
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        keys,
        action,
        scope: Scope::Nodes,
        help,
        hint: Some(hint),
        mutating: true,
        reserved: false,
    }
}

use Key::{Ch, Code, Ctrl};

/// Every key binding, in help-screen order.
pub const BINDINGS: &[Binding] = &[
    b(
        &[Ch('?')],
        Action::Help,
        Scope::Global,
        "this help",
        Some("help"),
    ),
    b(
        &[Ch('q'), Ctrl('c')],
        Action::Quit,
        Scope::Global,
        "quit",
        Some("quit"),
    ),
    b(
        &[Ch('j'), Code(KeyCode::Down)],
        Action::Down,
        Scope::Global,
        "move down",
        None,
    ),
    b(
        &[Ch('k'), Code(KeyCode::Up)],
        Action::Up,
        Scope::Global,
        "move up",
        None,
    ),
    b(
        &[Ch('g'), Code(KeyCode::Home)],
        Action::Top,
        Scope::Global,
        "first row",
        None,
    ),
    b(
        &[Ch('G'), Code(KeyCode::End)],
        Action::Bottom,
        Scope::Global,
        "last row",
        None,
    ),
    b(
        &[Code(KeyCode::PageUp), Ctrl('b')],
        Action::PageUp,
        Scope::Global,
        "page up",
        None,
    ),
    b(
        &[Code(KeyCode::PageDown), Ctrl('f')],
        Action::PageDown,
        Scope::Global,
        "page down",
        None,
    ),
    b(
        &[Code(KeyCode::Tab)],
        Action::NextPane,
        Scope::Global,
        "next pane",
        Some("pane"),
    ),
    b(
        &[Code(KeyCode::BackTab)],
        Action::PrevPane,
        Scope::Global,
        "previous pane",
        None,
    ),
    b(
        &[Code(KeyCode::Esc)],
        Action::Back,
        Scope::Global,
        "back / clear filter",
        None,
    ),
    b(
        &[Ch('/')],
        Action::Filter,
        Scope::Global,
        "filter (text or regex)",
        Some("filter"),
    ),
    b(
        &[Ch(':')],
        Action::Command,
        Scope::Global,
        "command line",
        Some("cmd"),
    ),
    b(
        &[Ch('0')],
        Action::AllNamespaces,
        Scope::Global,
        "all namespaces / -n",
        None,
    ),
    // One line for the three: the page they open switches between them.
    b(
        &[Ch('d'), Ch('y'), Ch('e')],
        Action::Look,
        Scope::Global,
        "describe · YAML · events",
        None,
    ),
    b(
        &[Ch('t')],
        Action::Teach,
        Scope::Global,
        "teach: explain each step",
        Some("teach"),
    ),
    b(
        &[Ch('v')],
        Action::DrainPanel,
        Scope::Global,
        "show the drain/campaign",
        None,
    ),
    b(
        &[Code(KeyCode::Enter)],
        Action::Enter,
        Scope::Nodes,
        "the node's pods",
        Some("pods"),
    ),
    b(
        &[Code(KeyCode::Enter)],
        Action::Enter,
        Scope::Pods,
        "the pod described",
        None,
    ),
    b(
        &[Code(KeyCode::Enter)],
        Action::Enter,
        Scope::Events,
        "its object's events",
        None,
    ),
    m(
        &[Ch('c')],
        Action::Cordon,
        "cordon: unschedulable",
        "cordon",
    ),
    m(
        &[Ch('u')],
        Action::Uncordon,
        "uncordon: schedulable",
        "uncordon",
    ),
    // Not mutating by itself: read-only previews the plan; its Enter is refused there.
    b(
        &[Ch('r')],
        Action::Drain,
        Scope::Nodes,
        "drain (plan first)",
        Some("drain"),
    ),
    b(
        &[Ch(' ')],
        Action::Mark,
        Scope::Nodes,
        "mark for a campaign",
        Some("mark"),
    ),
    // Not hidden with --readonly: the plan can be previewed; starting it is refused.
    b(
        &[Ch('C')],
        Action::Campaign,
        Scope::Nodes,
        "campaign: marked nodes",
        Some("campaign"),
    ),
    b(
        &[Ch('a')],
        Action::PodsAll,
        Scope::Pods,
        "all pods / node's pods",
        Some("all"),
    ),
    b(
        &[Ch('p')],
        Action::PodsPending,
        Scope::Pods,
        "Pending pods, all nodes",
        Some("pending"),
    ),
    b(
        &[Ch('a')],
        Action::EventsAll,
        Scope::Events,
        "all events / node's",
        Some("all"),
    ),
];

/// `:` commands: (names, help).
pub const COMMANDS: &[(&[&str], &str)] = &[
    (&["nodes", "no", "node"], "nodes pane"),
    (&["pods", "po", "pod"], "pods pane"),
    (&["events", "ev", "event"], "events pane"),
    (&["pdb", "pdbs", "poddisruptionbudgets"], "PDB view"),
    (&["ns", "namespace", "namespaces"], "pick a namespace"),
    (&["ctx", "context", "contexts"], "pick a context"),
    (&["versions", "ver"], "version skew view"),
    (&["campaign", "camp"], "campaign view"),
    (&["log", "timeline"], "every step and message"),
    (&["kubeconfig", "kc"], "kubectl beside the demo"),
    (&["help"], "this help"),
    (&["q", "quit", "q!"], "quit"),
];

/// Whether `binding` is shown and active.
pub fn enabled(binding: &Binding, readonly: bool) -> bool {
    !(binding.mutating && readonly)
}

/// The action bound to `ev` in `pane`.
pub fn lookup(ev: &KeyEvent, pane: Pane, readonly: bool) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| enabled(b, readonly) && b.scope.applies(pane))
        // Pane-specific bindings win over global ones.
        .filter(|b| b.keys().iter().any(|k| k.matches(ev)))
        .min_by_key(|b| b.scope == Scope::Global)
        .map(|b| b.action)
}

/// The binding of `ev` in `pane` that `--readonly` turned off, if any.
pub fn readonly_here(ev: &KeyEvent, pane: Pane, readonly: bool) -> Option<&'static Binding> {
    BINDINGS
        .iter()
        .filter(|b| readonly && b.mutating && b.scope.applies(pane))
        .find(|b| b.keys().iter().any(|k| k.matches(ev)))
}

/// A binding of `ev` that applies in another pane than `pane` (to say where it works, or to
/// act on the node the pods pane shows).
pub fn elsewhere(ev: &KeyEvent, pane: Pane) -> Option<&'static Binding> {
    BINDINGS
        .iter()
        .filter(|b| !b.scope.applies(pane))
        .find(|b| b.keys().iter().any(|k| k.matches(ev)))
}

/// Status-bar hints for `pane` (`None`: a full-screen view, global keys only): (keys, label),
/// pane-specific ones first.
pub fn hints(pane: Option<Pane>, readonly: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(bool, String, &'static str)> = BINDINGS
        .iter()
        .filter(|b| {
            enabled(b, readonly)
                && match pane {
                    Some(p) => b.scope.applies(p),
                    None => b.scope == Scope::Global,
                }
        })
        // Keys not wired yet stay out of the bar (help lists them as coming).
        .filter(|b| !b.reserved)
        .filter_map(|b| Some((b.scope == Scope::Global, b.keys()[0].label(), b.hint?)))
        .collect();
    // Campaign keys last: on a narrow screen help and quit keep their place.
    let late = |h: &str| matches!(h, "mark" | "campaign");
    out.sort_by_key(|(global, _, h)| (late(h), *global));
    out.into_iter().map(|(_, k, h)| (k, h)).collect()
}
