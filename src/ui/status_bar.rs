//! The header (where we are connected and how well) and the footer (key hints generated from
//! the keymap, or the filter / command line, or a flash message).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::keymap;
use crate::app::model::{ConnState, Input, Model, View};
use crate::cluster::age;

/// The connection state as a coloured phrase.
fn conn_span(m: &Model) -> Span<'static> {
    match m.conn_state() {
        ConnState::Live => Span::styled("● live", theme::ok()),
        ConnState::Connecting => Span::styled("◌ connecting…", theme::warn()),
        ConnState::Resyncing => Span::styled("◌ resyncing…", theme::warn()),
        ConnState::Reconnecting => Span::styled("◌ reconnecting…", theme::warn()),
        ConnState::Disconnected { since, .. } => Span::styled(
            format!(
                "✖ disconnected since {} ({} ago)",
                clock(since),
                age::human((m.now - since).get_seconds())
            ),
            theme::bad(),
        ),
    }
}

/// Time of day in the local zone (what the operator's wall clock says).
fn clock(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// Draws the header line.
pub fn header(m: &Model, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(" kubedrain ", theme::badge()), Span::raw(" ")];
    match &m.conn.demo {
        Some(scenario) => {
            spans.push(Span::styled(
                " demo: built-in simulated cluster ",
                theme::demo_badge(),
            ));
            spans.push(Span::styled(format!(" scenario {scenario}"), theme::dim()));
        }
        None => {
            spans.push(Span::styled("ctx ", theme::dim()));
            spans.push(Span::styled(m.conn.context.clone(), theme::title()));
        }
    }
    if !m.conn.version.is_empty() {
        spans.push(Span::styled(" · ", theme::dim()));
        spans.push(Span::raw(m.conn.version.clone()));
    }
    if let Some(ns) = &m.namespace {
        spans.push(Span::styled(" · ns ", theme::dim()));
        spans.push(Span::styled(ns.clone(), theme::warn()));
    }
    if m.readonly {
        spans.push(Span::styled(" · ", theme::dim()));
        spans.push(Span::styled("READ-ONLY", theme::warn()));
    }
    spans.push(Span::styled(" · ", theme::dim()));
    spans.push(conn_span(m));
    if let Some(kc) = &m.conn.demo_kubeconfig {
        spans.push(Span::styled("   kubectl: ", theme::dim()));
        spans.push(Span::styled(
            format!("export KUBECONFIG={kc}"),
            theme::key(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws the footer line.
pub fn footer(m: &Model, f: &mut Frame, area: Rect) {
    let line = match &m.input {
        Input::Filter(text) => Line::from(vec![
            Span::styled("/", theme::key()),
            Span::raw(text.clone()),
            Span::styled("█", theme::dim()),
            Span::styled("   Enter keep · Esc clear", theme::dim()),
        ]),
        Input::Command(text) => Line::from(vec![
            Span::styled(":", theme::key()),
            Span::raw(text.clone()),
            Span::styled("█", theme::dim()),
            Span::styled(
                "   nodes pods events pdb q · Enter run · Esc cancel",
                theme::dim(),
            ),
        ]),
        Input::Normal => match (&m.flash, m.conn_state()) {
            (Some((text, _)), _) => Line::from(Span::styled(format!(" {text}"), theme::warn())),
            // While disconnected the screen shows the last known state: say why, where the
            // hints were.
            (None, ConnState::Disconnected { error, .. }) => Line::from(vec![
                Span::styled(" API server unreachable: ", theme::bad()),
                Span::styled(error, theme::warn()),
                Span::styled("  (last known state shown; retrying)", theme::dim()),
            ]),
            (None, _) => hints_line(m, area.width),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

/// `<key> label` pairs for the focused pane, as many as fit.
fn hints_line(m: &Model, width: u16) -> Line<'static> {
    let pane = (m.view == View::Main).then_some(m.focus);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let mut hints = keymap::hints(pane, m.readonly);
    // Esc only earns a hint when there is something to go back from.
    if pane.is_none() || m.filters.contains_key(&m.active_table()) {
        hints.insert(0, ("Esc".into(), "back"));
    }
    for (key, label) in hints {
        let w = key.chars().count() + label.len() + 3;
        if used + w > width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(format!(" {key}"), theme::key()));
        spans.push(Span::styled(format!(" {label} "), theme::dim()));
    }
    Line::from(spans)
}
