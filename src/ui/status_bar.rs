//! The header (where we are connected and how well) and the footer (key hints generated from
//! the keymap, or the filter / command line, or a flash message).

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::keymap;
use crate::app::model::{ConnState, Input, Model, View};
use crate::cluster::age;

/// The connection state as a coloured phrase: "● live" only when every watch has confirmed
/// it is alive within its bookmark interval; otherwise since when the data is stale, and the
/// health of each watch that is not live (`pods ✗ 403`).
fn conn_span(m: &Model) -> Span<'static> {
    let since = match m.conn_state() {
        ConnState::Live => return Span::styled("● live", theme::ok()),
        ConnState::Connecting => return Span::styled("◌ connecting…", theme::warn()),
        ConnState::Resyncing => return Span::styled("◌ resyncing…", theme::warn()),
        ConnState::Reconnecting => return Span::styled("◌ reconnecting…", theme::warn()),
        ConnState::Disconnected { since, .. } | ConnState::Stale { since } => since,
    };
    let mut text = format!(
        "✖ stale since {} ({} ago)",
        clock(since),
        age::human((m.now - since).get_seconds())
    );
    for (kind, why) in m.watch_health() {
        text.push_str(&format!(" · {} {why}", short_kind(kind)));
    }
    Span::styled(text, theme::bad())
}

/// A watched kind as the health list names it.
fn short_kind(k: crate::cluster::watch::Kind) -> &'static str {
    match k {
        crate::cluster::watch::Kind::Pdbs => "pdb",
        other => other.as_str(),
    }
}

/// Time of day in the local zone (what the operator's wall clock says).
fn clock(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// Draws the header line.
pub fn header(m: &Model, f: &mut Canvas, area: Rect) {
    // Groups in priority order: a group is shown only if it fits whole, and the connection
    // state is always shown (it is what an operator must never miss).
    let sep = || Span::styled(" · ", theme::dim());
    let mut groups: Vec<Vec<Span<'static>>> = Vec::new();
    let mut first = vec![Span::styled(" kubedrain ", theme::badge()), Span::raw(" ")];
    match &m.conn.demo {
        Some(_) => first.push(Span::styled(
            " demo: built-in simulated cluster ",
            theme::demo_badge(),
        )),
        None => {
            first.push(Span::styled("ctx ", theme::dim()));
            first.push(Span::styled(m.conn.context.clone(), theme::title()));
        }
    }
    groups.push(first);
    if m.readonly {
        groups.push(vec![sep(), Span::styled("READ-ONLY", theme::warn())]);
    } else if m.flow.cannot_change.is_some() {
        // c / r / u say why when pressed.
        groups.push(vec![sep(), Span::styled("CHANGES DISABLED", theme::bad())]);
    }
    if let Some(ns) = &m.namespace {
        groups.push(vec![
            Span::styled(" · ns ", theme::dim()),
            Span::styled(ns.clone(), theme::warn()),
        ]);
    }
    let conn = vec![sep(), conn_span(m)];
    let mut optional = Vec::new();
    if !m.conn.version.is_empty() {
        optional.push(vec![sep(), Span::raw(m.conn.version.clone())]);
    }
    if let Some(scenario) = &m.conn.demo {
        optional.push(vec![Span::styled(
            format!(" · scenario {scenario}"),
            theme::dim(),
        )]);
    }
    // The demo clock is not optional: a frozen cluster must never look live.
    if let Some(clock) = m.demo_clock {
        let style = if clock.frozen {
            theme::warn()
        } else {
            theme::dim()
        };
        groups.push(vec![
            sep(),
            Span::styled(crate::app::demo_clock::label(clock), style),
        ]);
    }
    let width = |g: &[Span]| g.iter().map(|s| s.width()).sum::<usize>();
    let mut used = groups.iter().map(|g| width(g)).sum::<usize>() + width(&conn);
    for g in optional {
        if used + width(&g) <= area.width as usize {
            used += width(&g);
            groups.push(g);
        }
    }
    groups.push(conn);
    if let Some(kc) = &m.conn.demo_kubeconfig {
        let g = vec![
            Span::styled("   kubectl: ", theme::dim()),
            Span::styled(format!("export KUBECONFIG={kc}"), theme::key()),
        ];
        if used + width(&g) <= area.width as usize {
            groups.push(g);
        }
    }
    let spans: Vec<Span> = groups.into_iter().flatten().collect();
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws the footer line.
pub fn footer(m: &Model, f: &mut Canvas, area: Rect) {
    let line = match &m.input {
        Input::Filter(text) => {
            let mut spans = vec![
                Span::styled("/", theme::key()),
                Span::raw(text.clone()),
                Span::styled("█", theme::dim()),
            ];
            // Never a silent change of meaning: say when the text is matched literally.
            if !text.is_empty() && !crate::app::model::Filter::new(text).is_regex() {
                spans.push(Span::styled(
                    "  (not a valid regex: substring)",
                    theme::warn(),
                ));
            }
            spans.push(Span::styled("   Enter keep · Esc clear", theme::dim()));
            Line::from(spans)
        }
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
            (Some((text, _)), _) => flash_line(text, area.width as usize),
            // While disconnected the screen shows the last known state: say why, where the
            // hints were.
            (None, ConnState::Disconnected { error, .. }) => Line::from(vec![
                Span::styled(format!(" {error}"), theme::bad()),
                Span::styled("  (last known state shown; retrying)", theme::dim()),
            ]),
            (None, ConnState::Stale { .. }) => Line::from(vec![
                Span::styled(
                    " a watch has missed its bookmarks: the connection may be dead",
                    theme::bad(),
                ),
                Span::styled("  (last known state shown; watching again)", theme::dim()),
            ]),
            (None, _) => hints_line(m, area.width),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

/// A status-line message; one longer than the line ends where the timeline (`:log`) has it
/// whole, so nothing is lost.
fn flash_line(text: &str, width: usize) -> Line<'static> {
    const MORE: &str = "… (:log)";
    let full = format!(" {text}");
    if full.chars().count() <= width {
        return Line::from(Span::styled(full, theme::warn()));
    }
    let keep: String = full
        .chars()
        .take(width.saturating_sub(MORE.chars().count()))
        .collect();
    Line::from(vec![
        Span::styled(keep, theme::warn()),
        Span::styled(MORE, theme::dim()),
    ])
}

/// `<key> label` pairs for the focused pane, as many as fit.
fn hints_line(m: &Model, width: u16) -> Line<'static> {
    let pane = (m.view == View::Main).then_some(m.focus);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let preview_only = m.readonly || m.flow.cannot_change.is_some();
    let mut hints = keymap::hints(pane, preview_only);
    if preview_only {
        // `r` shows the drain plan but cannot start it here.
        for (k, label) in &mut hints {
            if k == "r" {
                *label = "plan";
            }
        }
    }
    // A drain or campaign whose panel is out of sight: `v` brings it back.
    if crate::app::panel::shown(m).is_none() {
        let running = m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none());
        let label = if m.campaign.running() {
            Some("campaign running")
        } else if running {
            Some("drain running")
        } else if m.flow.live.is_some() {
            Some("last drain")
        } else if m.campaign.run.is_some() {
            Some("last campaign")
        } else {
            None
        };
        if let Some(label) = label {
            hints.insert(0, ("v".into(), label));
        }
    }
    if pane == Some(crate::app::model::Pane::Nodes) {
        // The demo's upgrade key right after drain, in workflow order.
        let at = hints
            .iter()
            .position(|(k, _)| k == "r")
            .map_or(0, |i| i + 1);
        hints.splice(at..at, super::dialogs::node_hints(m));
    }

    // Esc only earns a hint when there is something to go back from.
    if pane.is_none() || m.filters.contains_key(&m.active_table()) {
        hints.insert(0, ("Esc".into(), "back"));
    }
    // A dialog of the maintenance workflow lists its own keys.
    if let Some(h) = super::dialogs::hints(m) {
        hints = h;
    }
    // The describe page, over everything, lists its own; so does the picker.
    if m.describe.page.is_some() {
        hints = crate::app::describe::keys::hints();
    }
    if m.picker.is_some() {
        hints = crate::app::picker::hints();
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
