//! The help overlay, generated from the keymap (the same table the keys are looked up in).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::theme;
use crate::app::keymap::{self, BINDINGS, COMMANDS, Scope};
use crate::app::model::Model;

/// The help text, one line per binding, grouped by scope.
pub fn lines(readonly: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in [Scope::Global, Scope::Nodes, Scope::Pods, Scope::Events] {
        let rows: Vec<_> = BINDINGS
            .iter()
            .filter(|b| b.scope == scope && keymap::enabled(b, readonly))
            .collect();
        if rows.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::from(Span::styled(scope.title(), theme::title())));
        for b in rows {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            let mut spans = vec![
                Span::styled(format!("  {:<16}", keys.join(" ")), theme::key()),
                Span::raw(b.help),
            ];
            if b.reserved {
                spans.push(Span::styled("  (drain engine: coming)", theme::dim()));
            }
            out.push(Line::from(spans));
        }
    }
    out.push(Line::raw(""));
    out.push(Line::from(Span::styled("Commands", theme::title())));
    for (names, help) in COMMANDS {
        let aliases = names
            .iter()
            .map(|n| format!(":{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Line::from(vec![
            Span::styled(format!("  {aliases:<34}"), theme::key()),
            Span::raw(*help),
        ]));
    }
    out
}

/// Draws the help box centred over the screen.
pub fn render(m: &Model, f: &mut Frame, area: Rect) {
    let text = lines(m.readonly);
    let w = 72.min(area.width.saturating_sub(2));
    let h = (text.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(theme::focus_border())
        .title(Line::from(Span::styled(
            " Help · Esc or ? to close ",
            theme::title(),
        )));
    f.render_widget(Paragraph::new(text).block(block), r);
}
