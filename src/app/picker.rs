//! The pickers that `:ns` and `:ctx` open without an argument: a short list, typing filters
//! it, arrows move, Enter chooses (k9s users type `:ns` and pick; `:ns NAME` and `:ctx NAME`
//! still act at once).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Model;
use super::msg::Cmd;

/// What the picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickKind {
    Namespace,
    Context,
}

impl PickKind {
    /// The popup's title.
    pub fn title(self) -> &'static str {
        match self {
            PickKind::Namespace => "Namespace",
            PickKind::Context => "Context",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            PickKind::Namespace => "namespace",
            PickKind::Context => "context",
        }
    }
}

/// One entry: the argument it stands for (`:ns all` is `all`), and what is shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    pub value: String,
    pub label: String,
    pub detail: String,
    /// The namespace or context shown now.
    pub current: bool,
}

/// An open picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub kind: PickKind,
    pub items: Vec<PickItem>,
    /// What was typed: entries containing it are listed.
    pub filter: String,
    /// Index into [`Picker::shown`].
    pub selected: usize,
}

impl Picker {
    /// A picker over `items`, the current entry selected.
    pub fn new(kind: PickKind, items: Vec<PickItem>) -> Picker {
        let selected = items.iter().position(|i| i.current).unwrap_or(0);
        Picker {
            kind,
            items,
            filter: String::new(),
            selected,
        }
    }

    /// The entries the filter lets through, in order.
    pub fn shown(&self) -> Vec<&PickItem> {
        let f = self.filter.to_lowercase();
        self.items
            .iter()
            .filter(|i| i.label.to_lowercase().contains(&f))
            .collect()
    }

    /// Moves by `delta`, clamped; false when already at that end.
    fn move_by(&mut self, delta: isize) -> bool {
        let last = self.shown().len().saturating_sub(1);
        let to = self.selected.saturating_add_signed(delta).min(last);
        std::mem::replace(&mut self.selected, to) != to
    }

    /// Typing changed the filter: the first match is selected.
    fn refilter(&mut self) {
        self.selected = 0;
    }
}

/// The picker's keys, for its border and the status line.
pub fn hints() -> Vec<(String, &'static str)> {
    vec![
        ("type".into(), "filter"),
        ("↑/↓".into(), "move"),
        ("Enter".into(), "choose"),
        ("Esc".into(), "cancel"),
    ]
}

/// Handles `k` while a picker is open (it is modal: every key is its own). Letters filter,
/// as in fzf and k9s's prompts, so names with any letter can be reached.
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    let p = m.picker.as_mut()?;
    let noun = p.kind.noun();
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let said = match k.code {
        KeyCode::Esc => {
            m.picker = None;
            None
        }
        KeyCode::Enter => return Some(choose(m)),
        KeyCode::Down | KeyCode::Tab => (!p.move_by(1)).then(|| format!("the last {noun}")),
        KeyCode::Char('n') if ctrl => (!p.move_by(1)).then(|| format!("the last {noun}")),
        KeyCode::Up | KeyCode::BackTab => (!p.move_by(-1)).then(|| format!("the first {noun}")),
        KeyCode::Char('p') if ctrl => (!p.move_by(-1)).then(|| format!("the first {noun}")),
        KeyCode::PageDown | KeyCode::End => {
            (!p.move_by(isize::MAX / 2)).then(|| format!("the last {noun}"))
        }
        KeyCode::PageUp | KeyCode::Home => {
            (!p.move_by(isize::MIN / 2)).then(|| format!("the first {noun}"))
        }
        KeyCode::Backspace if p.filter.pop().is_some() => {
            p.refilter();
            None
        }
        KeyCode::Char(c) if !ctrl => {
            p.filter.push(c);
            p.refilter();
            p.shown()
                .is_empty()
                .then(|| format!("no {noun} contains {:?}", p.filter))
        }
        _ => Some(format!(
            "choosing a {noun}: type to filter · ↑/↓ move · Enter choose · Esc cancel"
        )),
    };
    if let Some(text) = said {
        m.say(text);
    }
    m.redraw = true;
    Some(Vec::new())
}

/// Enter: what `:ns NAME` / `:ctx NAME` would do with the selected entry.
fn choose(m: &mut Model) -> Vec<Cmd> {
    let Some(p) = &m.picker else {
        return Vec::new();
    };
    let Some(value) = p.shown().get(p.selected).map(|i| i.value.clone()) else {
        let text = format!("no {} matches: Backspace or Esc", p.kind.noun());
        m.say(text);
        return Vec::new();
    };
    let kind = p.kind;
    m.picker = None;
    match kind {
        PickKind::Namespace => super::namespaces::command(m, &value),
        PickKind::Context => super::command_line::context_command(m, &value),
    }
    m.redraw = true;
    Vec::new()
}
