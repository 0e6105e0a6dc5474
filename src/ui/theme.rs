//! Colours and styles in one place. Named ANSI colours only, so the terminal's own palette
//! (light or dark) decides the exact shades.

use ratatui::style::{Color, Modifier, Style};

/// Accent (focused borders, title badge).
pub const ACCENT: Color = Color::Cyan;

/// Plain text.
pub fn text() -> Style {
    Style::default()
}
/// Secondary text (ages, IPs, unfocused borders).
pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}
/// Column headers.
pub fn header() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}
/// Healthy states.
pub fn ok() -> Style {
    Style::default().fg(Color::Green)
}
/// Deliberate or transitional states (cordoned, Pending, ContainerCreating).
pub fn warn() -> Style {
    Style::default().fg(Color::Yellow)
}
/// Broken states (NotReady, CrashLoopBackOff, Warning events).
pub fn bad() -> Style {
    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
}
/// Pods on their way out.
pub fn leaving() -> Style {
    Style::default().fg(Color::Magenta)
}
/// A pod that just landed on its node.
pub fn arrived() -> Style {
    Style::default()
        .fg(Color::Green)
        .add_modifier(Modifier::BOLD)
}
/// Border of the focused pane.
pub fn focus_border() -> Style {
    Style::default().fg(ACCENT)
}
/// Border of other panes.
pub fn border() -> Style {
    Style::default().fg(Color::DarkGray)
}
/// The selected row in the focused pane.
pub fn selected() -> Style {
    Style::default()
        .bg(Color::Blue)
        .fg(Color::White)
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
    Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)
}
/// The header badge.
pub fn badge() -> Style {
    Style::default()
        .bg(ACCENT)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD)
}
/// The demo badge: impossible to mistake for a real cluster.
pub fn demo_badge() -> Style {
    Style::default()
        .bg(Color::Magenta)
        .fg(Color::White)
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
