//! Wrapping styled lines with a hanging indent: a wrapped table row continues under its last
//! column, a wrapped warning under its text (never against the border).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Where continuation lines of `line` start: under its last span when it has several (a row:
/// action, name, why), else under the text after leading spaces and a mark (`⚠ `, `✔ `).
fn indent_of(line: &Line) -> usize {
    if line.spans.len() > 1 {
        return line.spans[..line.spans.len() - 1]
            .iter()
            .map(Span::width)
            .sum();
    }
    let text = line.spans.first().map_or("", |s| s.content.as_ref());
    let spaces = text.chars().take_while(|c| *c == ' ').count();
    let mut rest = text[spaces..].chars();
    let mark = matches!((rest.next(), rest.next()), (Some(c), Some(' ')) if !c.is_alphanumeric());
    spaces + if mark { 2 } else { 0 }
}

/// `line` in lines of at most `width` columns, broken at spaces (`crate::wrap`); later
/// lines start at the hanging indent.
pub fn hang(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width || width < 20 {
        return vec![line];
    }
    let indent = indent_of(&line).min(width * 2 / 3);
    let segs: Vec<(&str, Style)> = line
        .spans
        .iter()
        .map(|s| (s.content.as_ref(), s.style))
        .collect();
    crate::wrap::rows(&segs, width, indent, Style::default())
        .into_iter()
        .map(|r| {
            Line::from(
                r.into_iter()
                    .map(|(t, style)| Span::styled(t, style))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_row_continues_under_its_last_column() {
        let row = Line::from(vec![
            Span::raw(" evict    "),
            Span::raw("default/web-1 "),
            Span::raw("PDB default/web allows 0 now: waits · → master0 or node1"),
        ]);
        let out = text(&hang(row, 50));
        assert_eq!(
            out[0].trim_end(),
            " evict    default/web-1 PDB default/web allows 0"
        );
        assert!(
            out[1].starts_with(&format!("{}now: waits", " ".repeat(24))),
            "{out:?}"
        );
        assert!(out.iter().all(|l| l.chars().count() <= 50), "{out:?}");
    }

    #[test]
    fn a_warning_continues_under_its_text() {
        let w = Line::from(" ⚠ PodDisruptionBudget default/web allows 0 disruptions now");
        let out = text(&hang(w, 30));
        assert_eq!(out[0].trim_end(), " ⚠ PodDisruptionBudget");
        assert!(out[1].starts_with("   default/web"), "{out:?}");
    }

    #[test]
    fn short_lines_are_untouched() {
        let l = Line::from("fits");
        assert_eq!(text(&hang(l, 30)), vec!["fits".to_string()]);
    }
}
