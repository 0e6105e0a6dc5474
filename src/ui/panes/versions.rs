//! The versions view (`:versions [vX.Y.Z]`): findings first, then the way to the target,
//! then the control-plane and node matrix. Built from the watch caches on each frame while
//! shown (nodes, and the few kube-system pods through the namespace index).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::model::Model;
use crate::campaign::render::{self, Line as ReportLine};
use crate::campaign::skew::Severity;
use crate::campaign::steps;
use crate::campaign::versions::{Inventory, matrix};
use crate::ui::table;
use crate::ui::theme;

/// The inventory the caches hold.
pub fn inventory(m: &Model) -> Inventory {
    let pods = m
        .cache
        .index
        .by_ns
        .get("kube-system")
        .into_iter()
        .flatten()
        .filter_map(|k| m.cache.pods.get(k));
    let server = Some(m.conn.version.as_str()).filter(|v| !v.is_empty());
    Inventory::from_rows(server, m.cache.nodes.values(), pods)
}

/// The report's lines in the view's order.
pub fn lines(m: &Model) -> (Vec<ReportLine>, String) {
    let inv = inventory(m);
    let mx = matrix(&inv);
    let mut out = Vec::new();
    if !m.pods_known_in("kube-system") {
        out.push(ReportLine::prose(
            "cannot tell: kube-system pods are not visible, so control-plane and kube-proxy versions are unknown".into(),
            Some(Severity::Warning),
        ));
    }
    out.extend(render::findings_lines(&mx));
    if let Some(t) = &m.versions.target {
        out.push(blank());
        match steps::plan(&inv, t) {
            Ok(p) => out.extend(render::plan_lines(&p)),
            Err(e) => out.push(ReportLine::prose(e, Some(Severity::Error))),
        }
    }
    out.push(blank());
    out.extend(render::control_plane_lines(&mx));
    out.push(blank());
    out.extend(render::node_lines(&mx));
    let detail = [Severity::Error, Severity::Warning, Severity::Info]
        .map(|s| format!("{} {}", mx.count(s), s.as_str()))
        .join(" · ");
    (out, detail)
}

fn blank() -> ReportLine {
    ReportLine::prose(String::new(), None)
}

/// Splits prose longer than `width` at spaces, later pieces indented under the text after
/// the severity column (tables are cut by the frame instead).
fn wrap(l: ReportLine, width: usize) -> Vec<ReportLine> {
    if !l.wrap || l.text.chars().count() <= width || width < 20 {
        return vec![l];
    }
    const INDENT: &str = "         ";
    let mut out: Vec<String> = vec![String::new()];
    for word in l.text.split(' ') {
        let cur = out.last_mut().expect("never empty");
        let len = cur.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(format!("{INDENT}{word}"));
        } else {
            if len > 0 {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    out.into_iter()
        .map(|text| ReportLine { text, ..l.clone() })
        .collect()
}

/// Draws the versions view over the whole body.
pub fn render(m: &Model, f: &mut Frame, area: Rect) {
    let (report, detail) = lines(m);
    let title = table::title("Versions", &detail, m.cache.nodes.len(), None);
    let block = table::block(title, true);
    let inner = block.inner(area);
    let report: Vec<ReportLine> = report
        .into_iter()
        .flat_map(|l| wrap(l, inner.width as usize))
        .collect();
    let last_start = report.len().saturating_sub(inner.height as usize);
    let scroll = m.versions.scroll.min(last_start);
    let text: Vec<Line> = report
        .into_iter()
        .skip(scroll)
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
