//! The cordon and uncordon confirmations: what changes, and what the node looks like now.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{ellipsize, popup};
use crate::app::drain_flow::{self, Ctx, UncordonFacts};
use crate::app::model::Model;
use crate::cluster::age;
use crate::cluster::rows::NodeReady;
use crate::ui::theme;

pub(super) fn cordon(m: &Model, f: &mut Canvas, area: Rect, node: &str) {
    let (stay, others) = drain_flow::node_pods(m, node);
    let running = others.len();
    let fixed = stay
        .iter()
        .filter(|p| p.is_daemonset_pod() || p.is_mirror())
        .count();
    let lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::styled(node.to_string(), theme::title()),
            Span::raw(" will be marked unschedulable: no new pods land on it."),
        ]),
        Line::from(format!(
            "Its {running} pod(s) keep running (and {fixed} DaemonSet/static pod(s))."
        )),
        Line::from(vec![
            Span::raw("To move them away, drain it next with "),
            Span::styled("r", theme::key()),
            Span::raw("."),
        ]),
        Line::raw(""),
        Line::from(Span::styled(
            format!("$ kubectl cordon {node}"),
            theme::dim(),
        )),
    ];
    let inner = popup(
        m,
        f,
        area,
        68,
        lines.len() as u16,
        &format!(" Cordon {node}? "),
        theme::warn(),
        Ctx::Confirm,
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub(super) fn uncordon(m: &Model, f: &mut Canvas, area: Rect, x: &UncordonFacts) {
    let lines = uncordon_lines(m, x);
    let h = lines.len() as u16 + 1;
    let inner = popup(
        m,
        f,
        area,
        70,
        h,
        &format!(" Uncordon {}? ", x.node),
        if x.not_ours.is_some() {
            theme::bad()
        } else {
            theme::focus_border()
        },
        Ctx::Confirm,
    );
    let inner = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// What the uncordon dialog says: readiness, versions then and now, whose cordon it is and
/// what is waiting for the node.
fn uncordon_lines(m: &Model, x: &UncordonFacts) -> Vec<Line<'static>> {
    let mut lines = vec![ready_line(x), Line::raw("")];
    lines.extend(version_lines(x));
    lines.push(Line::raw(""));
    if let Some(at) = x.cordoned_at {
        lines.push(Line::from(Span::styled(
            format!(
                "Cordoned by kubedrain {} ago.",
                age::human((m.now - at).get_seconds())
            ),
            theme::dim(),
        )));
    }
    let pending = match (x.pending, x.pending_fit) {
        (0, _) => Line::from(Span::styled(
            "No pods are Pending: nothing is waiting for this node.",
            theme::dim(),
        )),
        (p, 0) => Line::from(Span::styled(
            format!("{p} pod(s) Pending; none would fit here as the node is now."),
            theme::warn(),
        )),
        (p, fit) => Line::from(vec![
            Span::styled(format!("{p} pod(s) Pending: "), theme::warn()),
            Span::styled(
                format!("{fit} will land on {} once it is schedulable.", x.node),
                theme::ok(),
            ),
        ]),
    };
    lines.push(pending);
    if let Some(why) = &x.not_ours {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(format!("⚠ {why}"), theme::bad())));
        lines.push(Line::from(Span::styled(
            "Confirming lifts this cordon anyway.",
            theme::bad(),
        )));
    }
    lines
}

/// The node's Ready condition, how long it has held, and what it means for pods.
fn ready_line(x: &UncordonFacts) -> Line<'static> {
    let (ready, style) = match x.ready {
        NodeReady::True => ("Ready", theme::ok()),
        NodeReady::False => ("NotReady", theme::bad()),
        NodeReady::Unknown => ("Unknown (kubelet silent)", theme::bad()),
    };
    let mut l = vec![
        Span::styled(format!("{:<10}", "Condition"), theme::dim()),
        Span::styled(ready, style),
    ];
    if let Some(s) = x.ready_for {
        l.push(Span::styled(
            format!(" for {}", age::human(s)),
            theme::dim(),
        ));
    }
    if x.ready != NodeReady::True {
        l.push(Span::styled(
            "  — pods scheduled here will not start yet",
            theme::warn(),
        ));
    }
    Line::from(l)
}

/// The node's versions when it was cordoned beside now (an upgrade shows as new).
fn version_lines(x: &UncordonFacts) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.push(Line::from(vec![
        Span::raw(format!("{:<10}", "")),
        Span::styled(format!("{:<24}", "when cordoned"), theme::header()),
        Span::styled("now", theme::header()),
    ]));
    for (what, before, now) in &x.versions {
        let mut l = vec![Span::styled(format!("{what:<10}"), theme::dim())];
        match before {
            Some(b) => {
                l.push(Span::raw(format!("{:<24}", ellipsize(b, 23))));
                if b == now {
                    l.push(Span::styled(format!("{now:<22}"), theme::text()));
                    l.push(Span::styled("(same)", theme::dim()));
                } else {
                    l.push(Span::styled(format!("{now:<22}"), theme::ok()));
                    l.push(Span::styled("← new", theme::ok()));
                }
            }
            None => {
                l.push(Span::styled(
                    format!("{:<24}", "not recorded"),
                    theme::dim(),
                ));
                l.push(Span::raw(now.clone()));
            }
        }
        lines.push(Line::from(l));
    }
    lines
}
