//! Colours and styles in one place, from the skin (`config::skin`): by default named ANSI
//! colours only, so the terminal's own palette (light or dark) decides the exact shades.

use std::cell::Cell;
use std::sync::OnceLock;

use ratatui::style::{Modifier, Style};

use crate::config::skin::Skin;

/// `NO_COLOR` (https://no-color.org): set and not empty.
fn env_no_color() -> bool {
    static ENV: OnceLock<bool> = OnceLock::new();
    *ENV.get_or_init(|| std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()))
}

thread_local! {
    /// A test's override of `NO_COLOR` (per thread: tests run side by side).
    static FORCED: Cell<Option<bool>> = const { Cell::new(None) };
    /// A test's skin (per thread).
    static FORCED_SKIN: Cell<Option<Skin>> = const { Cell::new(None) };
}

/// The skin of this run (the config's `ui.skin`), set once at start.
static SKIN: OnceLock<Skin> = OnceLock::new();

/// Uses `skin` for every style from now on (the first call wins).
pub fn install_skin(skin: Skin) {
    let _ = SKIN.set(skin);
}

/// Tests: render with `skin` on this thread (`None`: the installed one).
pub fn force_skin(skin: Option<Skin>) {
    FORCED_SKIN.with(|f| f.set(skin));
}

fn skin() -> Skin {
    FORCED_SKIN
        .with(Cell::get)
        .unwrap_or_else(|| SKIN.get().copied().unwrap_or_default())
}

/// Whether colours are off (`NO_COLOR`): styles keep only bold, reverse and the like.
pub fn no_color() -> bool {
    FORCED.with(Cell::get).unwrap_or_else(env_no_color)
}

/// Tests: render as if `NO_COLOR` were set (`Some(true)`), unset, or as the environment says.
pub fn force_no_color(on: Option<bool>) {
    FORCED.with(|f| f.set(on));
}

/// `s` without its colours when they are off. Colour commands must not be sent at all then:
/// crossterm writes a disabled colour as an empty SGR, which resets bold and reverse too.
fn paint(s: Style) -> Style {
    if no_color() {
        Style {
            fg: None,
            bg: None,
            ..s
        }
    } else {
        s
    }
}

/// Plain text: the terminal's own colour unless the skin sets one (then it must not
/// override a selected row's colour with `Reset`).
pub fn text() -> Style {
    match skin().text {
        ratatui::style::Color::Reset => Style::default(),
        c => paint(Style::default().fg(c)),
    }
}
/// Secondary text (ages, IPs, unfocused borders).
pub fn dim() -> Style {
    paint(Style::default().fg(skin().dim))
}
/// Column headers.
pub fn header() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}
/// Healthy states.
pub fn ok() -> Style {
    paint(Style::default().fg(skin().ok))
}
/// Deliberate or transitional states (cordoned, Pending, ContainerCreating).
pub fn warn() -> Style {
    paint(Style::default().fg(skin().warn))
}
/// Broken states (NotReady, CrashLoopBackOff, Warning events).
pub fn bad() -> Style {
    paint(Style::default().fg(skin().bad).add_modifier(Modifier::BOLD))
}
/// Pods on their way out.
pub fn leaving() -> Style {
    paint(Style::default().fg(skin().leaving))
}
/// A pod that just landed on its node.
pub fn arrived() -> Style {
    paint(Style::default().fg(skin().ok).add_modifier(Modifier::BOLD))
}
/// Border of the focused pane.
pub fn focus_border() -> Style {
    paint(Style::default().fg(skin().focus))
}
/// Border of other panes.
pub fn border() -> Style {
    paint(Style::default().fg(skin().border))
}
/// The selected row in the focused pane.
pub fn selected() -> Style {
    if no_color() {
        // Reverse video is what shows a selection without colour.
        return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
    Style::default()
        .bg(skin().cursor_bg)
        .fg(skin().cursor_fg)
        .add_modifier(Modifier::BOLD)
}
/// The selected row in an unfocused pane (still visible: it decides what the others show).
pub fn selected_dim() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}
/// Pane titles.
pub fn title() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}
/// Key names in hints and help.
pub fn key() -> Style {
    paint(
        Style::default()
            .fg(skin().focus)
            .add_modifier(Modifier::BOLD),
    )
}
/// The header badge.
pub fn badge() -> Style {
    if no_color() {
        return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
    Style::default()
        .bg(skin().badge_bg)
        .fg(skin().badge_fg)
        .add_modifier(Modifier::BOLD)
}
/// The demo badge: impossible to mistake for a real cluster.
pub fn demo_badge() -> Style {
    if no_color() {
        return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
    Style::default()
        .bg(skin().demo_bg)
        .fg(skin().demo_fg)
        .add_modifier(Modifier::BOLD)
}

/// Usage level colour: green below 70 %, yellow below 90 %, red above.
pub fn usage(pct: u64) -> Style {
    match pct {
        0..70 => ok(),
        70..90 => warn(),
        _ => bad(),
    }
}

/// kubectl's pod STATUS text → colour.
pub fn pod_status(status: &str) -> Style {
    match status {
        "Running" => ok(),
        "Completed" | "Succeeded" => dim(),
        "Terminating" => leaving(),
        "Pending" | "ContainerCreating" | "PodInitializing" | "NotReady" => warn(),
        s if s.starts_with("Init:") && !s.contains("Err") && !s.contains("BackOff") => warn(),
        _ => bad(),
    }
}
