//! The drain plan: every pod (evict / skip / blocked, and why), what kubectl does not tell
//! you (PDBs at 0, pods under two PDBs, emptyDir data, no room, hanging terminations), and
//! whether the drain may start.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::{ellipsize, keys_line};
use crate::app::drain_flow::{self, Ctx, OptionsForm};
use crate::app::model::Model;
use crate::drain::plan::{DrainPlan, PodAction, Severity};
use crate::ui::theme;

/// The plan's lines (pure, for tests as well).
pub fn lines(plan: &DrainPlan, form: &OptionsForm, width: u16) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let evict = plan.removals().count();
    let blocked = plan
        .pods
        .iter()
        .filter(|p| matches!(p.action, PodAction::Blocked { .. }))
        .count();
    let skip = plan.pods.len() - evict - blocked;
    let verb = if plan.options.disable_eviction {
        "delete"
    } else {
        "evict"
    };
    // Verdict first: what a tired operator needs.
    if plan.can_proceed() {
        let warns = plan.findings.len();
        let mut l = vec![Span::styled(" ✔ ready to drain ", theme::ok())];
        if warns > 0 {
            l.push(Span::styled(
                format!("— read the {warns} warning(s) below"),
                theme::warn(),
            ));
        }
        out.push(Line::from(l));
    } else {
        out.push(Line::from(Span::styled(
            " ✖ blocked: the drain will not start",
            theme::bad(),
        )));
        for h in drain_flow::unblock_hints(plan) {
            out.push(Line::from(Span::styled(format!("   {h}"), theme::bad())));
        }
    }
    out.push(Line::from(vec![
        Span::styled(format!(" {evict} to {verb}"), theme::text()),
        Span::styled(" · ", theme::dim()),
        Span::styled(format!("{skip} skipped"), theme::dim()),
        Span::styled(" · ", theme::dim()),
        Span::styled(
            format!("{blocked} blocked"),
            if blocked > 0 {
                theme::bad()
            } else {
                theme::dim()
            },
        ),
    ]));
    out.push(Line::from(Span::styled(
        format!(" $ {}", form.kubectl()),
        theme::dim(),
    )));
    out.push(Line::raw(""));
    // Where each evicted pod's replacement would go.
    let dest: HashMap<&str, Option<&str>> = plan
        .capacity
        .iter()
        .flat_map(|c| c.placements.iter())
        .map(|p| (p.pod.as_str(), p.node.as_deref()))
        .collect();
    let pdb_of: HashMap<&str, &crate::drain::plan::PdbFinding> = plan
        .pdbs
        .iter()
        .flat_map(|b| b.pods.iter().map(move |p| (p.as_str(), b)))
        .collect();
    let name_w = plan
        .pods
        .iter()
        .map(|p| p.key().chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, (width as usize / 2).max(20));
    out.push(Line::from(vec![
        Span::styled(format!(" {:<8} ", "ACTION"), theme::header()),
        Span::styled(format!("{:<name_w$} ", "POD"), theme::header()),
        Span::styled("WHY / WHAT HAPPENS", theme::header()),
    ]));
    // Blocked first, then evictions, then skips: the eye lands on the problems.
    let mut pods: Vec<_> = plan.pods.iter().collect();
    pods.sort_by_key(|p| match p.action {
        PodAction::Blocked { .. } => 0,
        PodAction::Evict | PodAction::Delete => 1,
        PodAction::Skip { .. } => 2,
    });
    for p in pods {
        let key = p.key();
        let (action, style, mut why) = match &p.action {
            PodAction::Evict => ("evict", theme::leaving(), Vec::new()),
            PodAction::Delete => ("delete", theme::leaving(), Vec::new()),
            PodAction::Skip { reason } => ("skip", theme::dim(), vec![reason.text().to_string()]),
            PodAction::Blocked { reason } => ("BLOCKED", theme::bad(), vec![reason.clone()]),
        };
        let mut why_style = style;
        if p.removed() {
            why_style = theme::text();
            if p.terminating {
                why.push("already terminating".into());
            }
            if p.pdbs.len() > 1 {
                why.push(format!(
                    "under {} PDBs ({})",
                    p.pdbs.len(),
                    p.pdbs.join(", ")
                ));
                why_style = theme::bad();
            } else if let Some(b) = pdb_of.get(key.as_str()) {
                if b.never_allows {
                    why.push(format!("PDB {} never allows an eviction", b.pdb));
                    why_style = theme::bad();
                } else if b.blocks_now {
                    why.push(format!("PDB {} allows 0 now: waits", b.pdb));
                    why_style = theme::warn();
                } else {
                    why.push(format!(
                        "PDB {}: {} at a time",
                        b.pdb, b.disruptions_allowed
                    ));
                }
            }
            if !p.empty_dirs.is_empty() {
                why.push(format!("emptyDir {} lost", p.empty_dirs.join(",")));
                why_style = why_style.patch(theme::warn());
            }
            match dest.get(key.as_str()) {
                Some(Some(n)) => why.push(format!("→ {n}")),
                Some(None) => {
                    why.push("→ Pending: no room elsewhere".into());
                    why_style = theme::warn();
                }
                None if matches!(p.phase, "Succeeded" | "Failed") => {
                    why.push("finished: just removed".into())
                }
                None => why.push("not recreated (no controller)".into()),
            }
        }
        out.push(Line::from(vec![
            Span::styled(format!(" {action:<8} "), style),
            Span::styled(
                format!("{:<name_w$} ", ellipsize(&key, name_w)),
                if p.removed() {
                    theme::text()
                } else {
                    theme::dim()
                },
            ),
            Span::styled(why.join(" · "), why_style),
        ]));
    }
    if !plan.findings.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::from(Span::styled(
            " What kubectl would not tell you",
            theme::title(),
        )));
        let mut findings: Vec<_> = plan.findings.iter().collect();
        findings.sort_by_key(|f| f.severity);
        for f in findings {
            let (mark, style) = match f.severity {
                Severity::Blocker => ("✖", theme::bad()),
                Severity::Warning => ("⚠", theme::warn()),
            };
            out.push(Line::from(vec![
                Span::styled(format!(" {mark} "), style),
                Span::styled(f.message.clone(), style),
            ]));
            if !f.pods.is_empty() {
                out.push(Line::from(Span::styled(
                    format!("     {}", f.pods.join(", ")),
                    theme::dim(),
                )));
            }
        }
    }
    if let Some(w) = plan.warning_line() {
        out.push(Line::raw(""));
        out.push(Line::from(Span::styled(
            format!(" kubectl: {w}"),
            theme::dim(),
        )));
    }
    out
}

/// Draws the plan over the body.
pub fn render(
    m: &Model,
    f: &mut Frame,
    area: Rect,
    form: &OptionsForm,
    plan: &DrainPlan,
    scroll: usize,
) {
    f.render_widget(Clear, area);
    let border = if plan.can_proceed() {
        theme::focus_border()
    } else {
        theme::bad()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(" Drain plan · ", theme::title()),
            Span::styled(plan.node.clone(), theme::title()),
            Span::styled(format!(" · {} pods ", plan.pods.len()), theme::dim()),
        ]))
        .title_bottom(keys_line(m, Ctx::Plan).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut all = lines(plan, form, inner.width);
    if let Some(ns) = &m.namespace {
        // The pod watcher sees one namespace; the engine plans again over all of them.
        all.insert(
            0,
            Line::from(Span::styled(
                format!(
                    " ⚠ -n {ns}: this plan shows {ns}'s pods only; the drain evicts from every namespace (0 shows all)"
                ),
                theme::warn(),
            )),
        );
    }
    // Long lines wrap: count rendered rows to bound the scroll.
    let w = inner.width.max(1) as usize;
    let rows: usize = all.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
    let max = rows.saturating_sub(inner.height as usize);
    let top = scroll.min(max);
    f.render_widget(
        Paragraph::new(all)
            .wrap(Wrap { trim: false })
            .scroll((top as u16, 0)),
        inner,
    );
}
