//! The help overlay, generated from the keymap (the same table the keys are looked up in).

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::theme;
use crate::app::keymap::{self, BINDINGS, COMMANDS, Scope};
use crate::app::model::Model;

/// Width of the key column.
const KEYS_W: usize = 11;

/// The help sections (title + one line per binding), in display order.
pub fn sections(readonly: bool) -> Vec<Vec<Line<'static>>> {
    let mut out = Vec::new();
    for scope in [Scope::Global, Scope::Nodes, Scope::Pods, Scope::Events] {
        let rows: Vec<_> = BINDINGS
            .iter()
            .filter(|b| b.scope == scope && keymap::enabled(b, readonly))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // Keys the drain engine will provide are listed, and marked once in the title.
        let reserved: Vec<String> = rows
            .iter()
            .filter(|b| b.reserved)
            .map(|b| b.keys()[0].label())
            .collect();
        let mut title = vec![Span::styled(scope.title(), theme::title())];
        if !reserved.is_empty() {
            title.push(Span::styled(
                format!(" ({}: soon)", reserved.join(" ")),
                theme::dim(),
            ));
        }
        let mut sec = vec![Line::from(title)];
        for b in rows {
            let keys: Vec<String> = b.keys().iter().map(|k| k.label()).collect();
            sec.push(Line::from(vec![
                Span::styled(format!(" {:<KEYS_W$} ", keys.join(" ")), theme::key()),
                Span::styled(
                    b.help,
                    if b.reserved {
                        theme::dim()
                    } else {
                        theme::text()
                    },
                ),
            ]));
        }
        out.push(sec);
    }
    let mut sec = vec![Line::from(Span::styled("Commands", theme::title()))];
    // `:help` is this screen (`?` says so); `:kubeconfig` has its own section in a demo.
    for (names, help) in COMMANDS
        .iter()
        .filter(|(n, _)| !matches!(n[0], "help" | "kubeconfig"))
    {
        let alias = names.get(1).map(|a| format!(" (:{a})")).unwrap_or_default();
        sec.push(Line::from(vec![
            Span::styled(format!(" :{:<8} ", names[0]), theme::key()),
            Span::raw(*help),
            Span::styled(alias, theme::dim()),
        ]));
    }
    out.push(sec);
    out
}

/// The commands by name, six to a row (when their one-line help does not fit).
fn compact_commands() -> Section {
    let names: Vec<String> = COMMANDS
        .iter()
        // `:help` is this screen, `:q` is `q`, `:kubeconfig` has its own section in a demo.
        .filter(|(n, _)| !matches!(n[0], "help" | "q" | "kubeconfig"))
        .map(|(n, _)| format!(":{}", n[0]))
        .collect();
    let mut sec = vec![Line::from(Span::styled("Commands", theme::title()))];
    for row in names.chunks(6) {
        sec.push(Line::from(Span::styled(
            format!(" {}", row.join(" ")),
            theme::key(),
        )));
    }
    sec
}

/// All help lines in one column.
pub fn lines(readonly: bool) -> Vec<Line<'static>> {
    join(sections(readonly))
}

fn join(sections: Vec<Vec<Line<'static>>>) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for s in sections {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.extend(s);
    }
    out
}

type Section = Vec<Line<'static>>;

/// Moves the fewest of `right`'s sections (never its last, the commands) to `left` so that
/// both columns are at most `fits` rows; if no choice fits, the right column stays as it is.
fn balance(left: Vec<Section>, right: Vec<Section>, fits: usize) -> (Vec<Section>, Vec<Section>) {
    let movable = right.len().saturating_sub(1).min(8);
    let mut masks: Vec<u32> = (0..1u32 << movable).collect();
    masks.sort_by_key(|m| m.count_ones());
    for mask in masks {
        let (mut l, mut r) = (left.clone(), Vec::new());
        for (i, s) in right.iter().enumerate() {
            if i < movable && mask & (1 << i) != 0 {
                l.push(s.clone());
            } else {
                r.push(s.clone());
            }
        }
        if join(l.clone()).len() <= fits && join(r.clone()).len() <= fits {
            return (l, r);
        }
    }
    (left, right)
}

/// Draws the help box centred over the screen: one column when it fits, else two (general
/// keys left, pane keys and commands right), so 80×24 shows everything.
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    // Long: the help's sections in the order they are drawn (describe page, workflow, demo).
    // The describe page has the keyboard: its keys are the ones that work.
    if m.describe.page.is_some() {
        let mut secs = vec![super::dialogs::describe_help()];
        if m.demo_clock.is_some() {
            secs.push(vec![
                Line::from(Span::styled("Demo clock", theme::title())),
                Line::from(vec![
                    Span::styled(format!(" {:<KEYS_W$} ", "f . + -"), theme::key()),
                    Span::styled("freeze · step · speed", theme::text()),
                ]),
            ]);
        }
        return draw(f, area, join(secs), None);
    }
    let mut secs = sections(m.readonly);
    // The workflow's keys (the open dialog's, or the demo's): before the `:` commands in one
    // column, under the general keys in two.
    let mut flow = super::dialogs::help_sections(m);
    // A presenter's first question: how does kubectl join the demo?
    if let Some(kc) = &m.conn.demo_kubeconfig {
        flow.push(vec![
            Line::from(vec![
                Span::styled("kubectl beside the demo", theme::title()),
                Span::styled(" (:kubeconfig)", theme::dim()),
            ]),
            Line::from(Span::styled(
                format!(" export KUBECONFIG={kc}"),
                theme::key(),
            )),
        ]);
    }
    // The demo clock's keys work everywhere; one line beside the demo's `U` keeps 80×24 whole.
    if m.demo_clock.is_some() {
        let row = Line::from(vec![
            Span::styled(format!(" {:<KEYS_W$} ", "f . + -"), theme::key()),
            Span::styled("freeze · step · speed", theme::text()),
        ]);
        match flow
            .iter_mut()
            .find(|s| s.len() > 1 && s[1].to_string().contains(" U "))
        {
            Some(section) => section.push(row),
            None => flow.push(vec![
                Line::from(Span::styled("Demo clock", theme::title())),
                row,
            ]),
        }
    }
    let dialog = crate::app::drain_flow::ctx(m).is_some();
    let commands = secs.pop();
    if dialog {
        // A dialog has the keyboard: its keys replace the panes' (which do not apply).
        secs.truncate(1);
    }
    let mut all = secs.clone();
    all.extend(flow.clone());
    all.extend(commands.clone());
    let one = join(all);
    let two_cols = one.len() as u16 + 2 > area.height.saturating_sub(2);
    let (left, right) = if two_cols {
        let mut rest = secs.split_off(1);
        if dialog {
            rest.extend(flow);
        } else {
            secs.extend(flow);
        }
        rest.extend(commands);
        // Too tall on the right: the fewest sections before the commands move under the
        // general keys so that both columns fit (80×24 shows every key and command).
        let fits = area.height.saturating_sub(4) as usize;
        let (l, r) = balance(secs.clone(), rest.clone(), fits);
        if join(l.clone()).len() <= fits && join(r.clone()).len() <= fits {
            (join(l), Some(join(r)))
        } else {
            // Still too tall: the commands by name only, a few to a row.
            rest.pop();
            rest.push(compact_commands());
            let (l, r) = balance(secs, rest, fits);
            (join(l), Some(join(r)))
        }
    } else {
        (one, None)
    };
    draw(f, area, left, right);
}

/// The help box, centred: one column, or two.
fn draw(f: &mut Canvas, area: Rect, left: Vec<Line<'static>>, right: Option<Vec<Line<'static>>>) {
    let rows = left.len().max(right.as_ref().map_or(0, |r| r.len())) as u16;
    let widest = |ls: &[Line]| ls.iter().map(Line::width).max().unwrap_or(0) as u16;
    let want_w = match &right {
        Some(r) => 2 * widest(&left).max(widest(r)) + 6,
        None => widest(&left) + 4,
    };
    let w = want_w.min(area.width.saturating_sub(2));
    let h = (rows + 2).min(area.height.saturating_sub(2));
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
    let inner = block.inner(r);
    f.render_widget(block, r);
    match right {
        None => f.render_widget(Paragraph::new(left), inner),
        Some(right) => {
            let half = inner.width / 2;
            let l = Rect::new(inner.x, inner.y, half.saturating_sub(1), inner.height);
            let rr = Rect::new(
                inner.x + half + 1,
                inner.y,
                inner.width - half - 1,
                inner.height,
            );
            f.render_widget(Paragraph::new(left), l);
            f.render_widget(Paragraph::new(right), rr);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn read_only_help_offers_no_change() {
        let help: String = super::lines(true).iter().map(|l| l.to_string()).collect();
        assert!(!help.contains("cordon"), "{help}");
        let full: String = super::lines(false).iter().map(|l| l.to_string()).collect();
        assert!(full.contains("cordon"), "{full}");
    }
}
