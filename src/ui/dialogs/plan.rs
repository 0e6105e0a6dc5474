//! The drain plan: every pod (evict / skip / blocked, and why), what kubectl does not tell
//! you (PDBs at 0, pods under two PDBs, emptyDir data, no room, hanging terminations), and
//! whether the drain may start.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::{ellipsize, keys_line};
use crate::app::drain_flow::{self, Ctx, OptionsForm};
use crate::app::model::Model;
use crate::drain::plan::{DrainPlan, PodAction, PodPlan, Severity, Verdict};
use crate::ui::theme;

/// The verdict at the top: what a tired operator needs first.
fn verdict_lines(plan: &DrainPlan, confirming: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let first = |s: Severity| plan.findings_of(s).next().map(|f| f.message.clone());
    match plan.verdict {
        Verdict::Proceed => {
            let warns = plan.findings.len();
            let mut l = vec![Span::styled(" ✔ ready to drain ", theme::ok())];
            if warns > 0 {
                l.push(Span::styled(
                    format!("— read the {warns} warning(s) below"),
                    theme::warn(),
                ));
            }
            out.push(Line::from(l));
        }
        Verdict::Outage => {
            let n = plan.findings_of(Severity::Outage).count();
            out.push(Line::from(Span::styled(
                format!(" ✖ outage: {n} finding(s) take a workload down or break a budget"),
                theme::bad(),
            )));
            if let Some(m) = first(Severity::Outage) {
                out.push(Line::from(Span::styled(format!("   {m}"), theme::bad())));
            }
            let ask = if confirming {
                "   Enter again accepts the outage and starts the drain (--allow-outage) · Esc: no"
            } else {
                "   Enter asks once more before it starts; Esc changes the options"
            };
            out.push(Line::from(Span::styled(ask, theme::warn())));
        }
        Verdict::Blocked => {
            out.push(Line::from(Span::styled(
                " ✖ blocked: the drain would not start or never finish",
                theme::bad(),
            )));
            for h in drain_flow::unblock_hints(plan) {
                out.push(Line::from(Span::styled(format!("   {h}"), theme::bad())));
            }
        }
        Verdict::CannotTell => {
            out.push(Line::from(Span::styled(
                " ? cannot tell: kubedrain does not see enough of the cluster",
                theme::bad(),
            )));
            if let Some(m) = first(Severity::Unknown) {
                out.push(Line::from(Span::styled(format!("   {m}"), theme::bad())));
            }
        }
    }
    out
}

/// What the row of a removed pod says beyond its action: PDB, data, destination.
fn removal_why(plan: &DrainPlan, p: &PodPlan) -> (Vec<String>, ratatui::style::Style) {
    let key = p.key();
    let mut why = Vec::new();
    let mut style = theme::text();
    if p.terminating {
        why.push("already terminating".into());
    }
    if let Some(b) = plan.pdbs.iter().find(|b| b.pods.contains(&key)) {
        if b.broken {
            why.push(format!(
                "breaks PDB {} (allows {})",
                b.pdb,
                b.disruptions_allowed.max(0)
            ));
            style = theme::bad();
        } else if plan.options.disable_eviction {
            why.push(format!("PDB {}: within budget", b.pdb));
        } else if b.blocks_now {
            why.push(format!("PDB {} allows 0 now: waits", b.pdb));
            style = theme::warn();
        } else {
            why.push(format!(
                "PDB {}: {} at a time",
                b.pdb, b.disruptions_allowed
            ));
        }
    }
    if !p.empty_dirs.is_empty() {
        why.push(format!("emptyDir {} lost", p.empty_dirs.join(",")));
        style = style.patch(theme::warn());
    }
    match plan.capacity.as_ref().and_then(|c| c.of(&key)) {
        Some(x) if x.is_pending() => {
            why.push(format!("→ Pending: {}", x.misfit_text()));
            style = theme::warn();
        }
        Some(x) => why.push(format!("→ {}", x.target_text())),
        None if matches!(p.phase, "Succeeded" | "Failed") => {
            why.push("finished: just removed".into())
        }
        None if plan.capacity.is_some() => why.push("not recreated (no controller)".into()),
        None => {}
    }
    (why, style)
}

fn finding_lines(plan: &DrainPlan, out: &mut Vec<Line<'static>>) {
    if plan.findings.is_empty() {
        return;
    }
    out.push(Line::raw(""));
    out.push(Line::from(Span::styled(
        " What kubectl would not tell you",
        theme::title(),
    )));
    for f in &plan.findings {
        let (mark, style) = match f.severity {
            Severity::Blocker => ("✖", theme::bad()),
            Severity::Unknown => ("?", theme::bad()),
            Severity::Outage => ("✖", theme::bad()),
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

/// The plan's lines (pure, for tests as well); `confirming`: the outage question is open.
pub fn lines(
    plan: &DrainPlan,
    form: &OptionsForm,
    width: u16,
    confirming: bool,
) -> Vec<Line<'static>> {
    // Long: the plan dialog top to bottom: verdict, counts, the kubectl line, then a row per pod.
    let mut out = verdict_lines(plan, confirming);
    let c = plan.counts();
    out.push(Line::from(vec![
        Span::styled(format!(" {} to {}", c.removed, plan.verb()), theme::text()),
        Span::styled(" · ", theme::dim()),
        Span::styled(format!("{} skipped", c.skipped), theme::dim()),
        Span::styled(" · ", theme::dim()),
        Span::styled(
            format!("{} blocked", c.blocked),
            if c.blocked > 0 {
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
    // Blocked first, then removals, then skips: the eye lands on the problems.
    let mut pods: Vec<_> = plan.pods.iter().collect();
    pods.sort_by_key(|p| match p.action {
        PodAction::Blocked { .. } => 0,
        PodAction::Evict | PodAction::Delete => 1,
        PodAction::Skip { .. } => 2,
    });
    for p in pods {
        let key = p.key();
        let (action, style, why, why_style) = match &p.action {
            PodAction::Evict | PodAction::Delete => {
                let (why, s) = removal_why(plan, p);
                (plan.verb(), theme::leaving(), why, s)
            }
            PodAction::Skip { reason } => (
                "skip",
                theme::dim(),
                vec![reason.text().to_string()],
                theme::dim(),
            ),
            PodAction::Blocked { reason, .. } => {
                ("BLOCKED", theme::bad(), vec![reason.clone()], theme::bad())
            }
        };
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
    finding_lines(plan, &mut out);
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
    f: &mut Canvas,
    area: Rect,
    form: &OptionsForm,
    plan: &DrainPlan,
    scroll: usize,
    confirming: bool,
) {
    f.render_widget(Clear, area);
    let border = if plan.verdict == Verdict::Proceed {
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
            Span::styled(
                if crate::app::drain_flow::preview_only(m, "").is_some() {
                    "· preview only "
                } else {
                    ""
                },
                theme::warn(),
            ),
        ]))
        .title_bottom(keys_line(m, Ctx::Plan).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let wrap = |ls: Vec<Line<'static>>| -> Vec<Line<'static>> {
        ls.into_iter()
            .flat_map(|l| crate::ui::wrap::hang(l, w))
            .collect()
    };
    let mut all = lines(plan, form, inner.width, confirming);
    // The verdict stays on top while the rest scrolls under it (at most half the dialog).
    let verdict = wrap(all.drain(..verdict_lines(plan, confirming).len()).collect());
    let sticky = (verdict.len() as u16).min(inner.height / 2);
    let rest = wrap(all);
    let body = Rect::new(
        inner.x,
        inner.y + sticky,
        inner.width,
        inner.height.saturating_sub(sticky),
    );
    let top = scroll.min(rest.len().saturating_sub(body.height as usize));
    f.render_widget(
        Paragraph::new(verdict),
        Rect::new(inner.x, inner.y, inner.width, sticky),
    );
    f.render_widget(Paragraph::new(rest).scroll((top as u16, 0)), body);
}
