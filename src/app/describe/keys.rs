//! The page's keys: one table read by the key handler, the hint bar and the help overlay.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{Mode, geometry, open, refresh, start, text};
use crate::app::keymap::{self, Action, Key};
use crate::app::model::Model;
use crate::app::msg::Cmd;

/// What a page key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Show(Mode),
    Close,
}

/// One page key binding.
#[derive(Debug, Clone, Copy)]
pub struct PageBinding {
    pub keys: &'static [Key],
    pub action: PageAction,
    pub help: &'static str,
    /// The hint bar's label; empty: help only.
    pub hint: &'static str,
}

impl PageAction {
    /// Its name in a config's `keys:` (`describe.yaml`).
    pub fn slug(self) -> &'static str {
        match self {
            PageAction::Down => "down",
            PageAction::Up => "up",
            PageAction::PageDown => "page-down",
            PageAction::PageUp => "page-up",
            PageAction::Top => "top",
            PageAction::Bottom => "bottom",
            PageAction::Show(Mode::Describe) => "describe",
            PageAction::Show(Mode::Yaml) => "yaml",
            PageAction::Show(Mode::Events) => "events",
            PageAction::Close => "close",
        }
    }
}

impl PageBinding {
    /// Its name in a config's `keys:`.
    pub fn name(&self) -> String {
        format!("describe.{}", self.action.slug())
    }

    /// Its keys in this session (the config may remap them).
    pub fn keys(&self) -> &'static [Key] {
        crate::app::remap::named_keys(self.keys, || self.name())
    }
}

/// The page's bindings as key remapping sees them.
pub fn named_bindings() -> Vec<crate::app::remap::Named> {
    PAGE_BINDINGS
        .iter()
        .map(|b| crate::app::remap::Named {
            name: b.name(),
            places: vec!["describe"],
            keys: b.keys,
        })
        .collect()
}

const fn pb(
    keys: &'static [Key],
    action: PageAction,
    help: &'static str,
    hint: &'static str,
) -> PageBinding {
    PageBinding {
        keys,
        action,
        help,
        hint,
    }
}

use Key::{Ch, Code, Ctrl};

/// The page's keys, in help order (the hint bar shows those with a hint, in this order).
pub const PAGE_BINDINGS: &[PageBinding] = &[
    pb(
        &[Code(KeyCode::Esc), Ch('q')],
        PageAction::Close,
        "close the page",
        "close",
    ),
    pb(
        &[Ch('j'), Code(KeyCode::Down)],
        PageAction::Down,
        "scroll down",
        "scroll",
    ),
    pb(
        &[Ch('k'), Code(KeyCode::Up)],
        PageAction::Up,
        "scroll up",
        "",
    ),
    pb(
        &[Code(KeyCode::PageDown), Ctrl('f')],
        PageAction::PageDown,
        "page down",
        "page",
    ),
    pb(
        &[Code(KeyCode::PageUp), Ctrl('b')],
        PageAction::PageUp,
        "page up",
        "",
    ),
    pb(&[Ch('g'), Code(KeyCode::Home)], PageAction::Top, "top", ""),
    pb(
        &[Ch('G'), Code(KeyCode::End)],
        PageAction::Bottom,
        "end",
        "end",
    ),
    pb(
        &[Ch('d')],
        PageAction::Show(Mode::Describe),
        "describe (again: re-read)",
        "describe",
    ),
    pb(
        &[Ch('y')],
        PageAction::Show(Mode::Yaml),
        "YAML (again: re-read)",
        "yaml",
    ),
    pb(
        &[Ch('e')],
        PageAction::Show(Mode::Events),
        "events, newest last",
        "events",
    ),
];

/// The help overlay's heading for the page's keys.
pub const HELP_TITLE: &str = "Describe / YAML / events page";

/// Hints for the open page: (key, label).
pub fn hints() -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = PAGE_BINDINGS
        .iter()
        .filter(|b| !b.hint.is_empty())
        .map(|b| (b.keys()[0].label(), b.hint))
        .collect();
    out.push(("?".into(), "help"));
    out
}

/// The keys: the open page takes the keyboard (but `?` and the demo clock's keys, which
/// fall through); `d` / `y` / `e` open it, also over a running drain's view. `None` when
/// `k` is not for the page.
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    if m.describe.page.is_none() {
        return opening(m, k);
    }
    let Some(b) = PAGE_BINDINGS
        .iter()
        .find(|b| b.keys().iter().any(|key| key.matches(k)))
    else {
        if matches!(k.code, KeyCode::Char('?' | 'f' | '.' | '+' | '=' | '-')) {
            return None;
        }
        let text = "on this page: Esc closes it · j/k scroll · d describe · y YAML · e events";
        m.say(text);
        return Some(Vec::new());
    };
    Some(act(m, b.action))
}

/// `d` / `y` / `e` with no page open. Where a dialog has the keyboard (`y` confirms a
/// cordon) the dialog keeps them, except over the live drain, which uses none of them.
fn opening(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    use crate::app::drain_flow::{Ctx, ctx};
    let dialog_free = matches!(ctx(m), None | Some(Ctx::Live))
        && matches!(
            crate::app::campaign::cctx(m),
            None | Some(crate::app::campaign::CCtx::View)
        );
    if !dialog_free || keymap::lookup(k, m.focus, m.readonly) != Some(Action::Look) {
        return None;
    }
    let mode = match k.code {
        KeyCode::Char('y') => Mode::Yaml,
        KeyCode::Char('e') => Mode::Events,
        _ => Mode::Describe,
    };
    Some(open(m, mode))
}

fn act(m: &mut Model, a: PageAction) -> Vec<Cmd> {
    let (cols, rows) = geometry(m.size);
    let Some(page) = &mut m.describe.page else {
        return Vec::new();
    };
    let total = text::rows(&page.lines, cols);
    let last = total.saturating_sub(rows);
    let page_rows = rows.max(1);
    page.scroll = match a {
        PageAction::Down => page.scroll + 1,
        PageAction::Up => page.scroll.saturating_sub(1),
        PageAction::PageDown => page.scroll + page_rows,
        PageAction::PageUp => page.scroll.saturating_sub(page_rows),
        PageAction::Top => 0,
        PageAction::Bottom => last,
        PageAction::Close => {
            m.describe.page = None;
            m.redraw = true;
            return Vec::new();
        }
        PageAction::Show(mode) => {
            let subject = page.subject.clone();
            // The same view again reads the object anew, where the reader was.
            let scroll = if mode == page.mode { page.scroll } else { 0 };
            return start(m, subject, mode, scroll);
        }
    }
    .min(last);
    m.redraw = true;
    refresh(m);
    Vec::new()
}
