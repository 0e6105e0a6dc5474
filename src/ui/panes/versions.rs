//! The versions view (`:versions [vX.Y.Z]`): findings first, then the way to the target,
//! then the control-plane and node matrix (the report `app::versions` keeps).

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::model::Model;
use crate::app::versions::report;
use crate::campaign::render::Line as ReportLine;
use crate::campaign::skew::Severity;
use crate::ui::table;
use crate::ui::theme;

/// Splits prose longer than `width` at spaces, later pieces indented under the text after
/// the severity column (tables are cut by the frame instead).
fn wrap(l: ReportLine, width: usize) -> Vec<ReportLine> {
    if !l.wrap || l.text.chars().count() <= width || width < 20 {
        return vec![l];
    }
    crate::wrap::rows(&[(l.text.as_str(), ())], width, 9, ())
        .into_iter()
        .map(|r| ReportLine {
            text: r.into_iter().map(|(t, ())| t).collect(),
            ..l.clone()
        })
        .collect()
}

/// Draws the versions view over the whole body.
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    // The loop refreshes the report before drawing; a model drawn without that (tests)
    // gets it computed here.
    let fresh;
    let (report, detail) = if m.versions.dirty {
        fresh = report(m);
        (&fresh.0, &fresh.1)
    } else {
        (&m.versions.lines, &m.versions.detail)
    };
    let title = table::title("Versions", detail, m.cache.nodes.len(), None);
    let block = table::block(title, true);
    let inner = block.inner(area);
    // Scrolling counts report lines; only what is shown is wrapped (tables at the bottom
    // never wrap, so the last page still ends with the last line).
    let scroll = m
        .versions
        .scroll
        .min(report.len().saturating_sub(inner.height as usize));
    let text: Vec<Line> = report[scroll..]
        .iter()
        .flat_map(|l| wrap(l.clone(), inner.width as usize))
        .take(inner.height as usize)
        .map(|l| {
            let style = match (l.heading, l.severity) {
                (true, _) => theme::header(),
                (_, Some(Severity::Error)) => theme::bad(),
                (_, Some(Severity::Warning)) => theme::warn(),
                _ => theme::text(),
            };
            Line::from(Span::styled(l.text, style))
        })
        .collect();
    f.render_widget(Paragraph::new(text).block(block), area);
}
