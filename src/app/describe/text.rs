//! The describe page's text: styled lines as the builders make them, and the word wrap that
//! turns them into screen rows (pure, so `update` scrolls with the numbers `render` draws).

/// What a piece of text is; the theme picks the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A section heading.
    Heading,
    /// A field name.
    Label,
    Text,
    Dim,
    Ok,
    Warn,
    Bad,
}

/// A run of text in one tone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub text: String,
    pub tone: Tone,
}

/// One logical line; when it wraps, the following rows start `hang` columns in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DLine {
    pub segs: Vec<Seg>,
    pub hang: usize,
}

impl DLine {
    /// An empty line.
    pub fn blank() -> DLine {
        DLine::default()
    }

    /// A line of one tone.
    pub fn one(text: impl Into<String>, tone: Tone) -> DLine {
        DLine::default().push(text, tone)
    }

    /// A section heading.
    pub fn heading(text: impl Into<String>) -> DLine {
        DLine::one(text, Tone::Heading)
    }

    /// `  Label:  value`, the value column at `col`, wrapped rows under the value.
    pub fn field(label: &str, col: usize, value: impl Into<String>, tone: Tone) -> DLine {
        let head = format!("  {label}:");
        let pad = col.saturating_sub(width(&head)).max(1);
        DLine {
            segs: Vec::new(),
            hang: col,
        }
        .push(format!("{head}{}", " ".repeat(pad)), Tone::Label)
        .push(value, tone)
    }

    /// Appends `text` in `tone`.
    pub fn push(mut self, text: impl Into<String>, tone: Tone) -> DLine {
        self.segs.push(Seg {
            text: text.into(),
            tone,
        });
        self
    }

    /// Sets the indent of wrapped rows.
    pub fn hang(mut self, hang: usize) -> DLine {
        self.hang = hang;
        self
    }

    /// The whole text (tests, searching).
    pub fn text(&self) -> String {
        self.segs.iter().map(|s| s.text.as_str()).collect()
    }
}

/// Display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

/// One screen row: segments that fit in the width.
pub type Row = Vec<Seg>;

/// Wraps every line at `cols` columns (at spaces when it can, else mid-word): no text is
/// ever cut, only moved to the next row.
pub fn wrap(lines: &[DLine], cols: usize) -> Vec<Row> {
    let cols = cols.max(8);
    let mut out = Vec::new();
    for l in lines {
        wrap_line(l, cols, &mut out);
    }
    out
}

/// How many rows `lines` take at `cols` columns.
pub fn rows(lines: &[DLine], cols: usize) -> usize {
    wrap(lines, cols).len()
}

fn wrap_line(l: &DLine, cols: usize, out: &mut Vec<Row>) {
    let total: usize = l.segs.iter().map(|s| width(&s.text)).sum();
    if total <= cols {
        out.push(l.segs.clone());
        return;
    }
    // The hang never eats more than half a row.
    let hang = l.hang.min(cols / 2);
    let mut row: Row = Vec::new();
    let mut used = 0usize;
    let newline = |row: &mut Row, out: &mut Vec<Row>| {
        out.push(std::mem::take(row));
        row.push(Seg {
            text: " ".repeat(hang),
            tone: Tone::Text,
        });
    };
    for seg in &l.segs {
        for word in split_keep_space(&seg.text) {
            let mut rest = word;
            loop {
                let bare = rest.trim_end_matches(' ');
                if used + width(bare) <= cols {
                    // Trailing spaces past the edge are dropped, never the text.
                    let keep = if used + width(rest) <= cols {
                        rest
                    } else {
                        bare
                    };
                    push(&mut row, keep, seg.tone);
                    // Spaces dropped at the edge: the next word starts a new row.
                    used = if keep.len() < rest.len() {
                        cols
                    } else {
                        used + width(keep)
                    };
                    break;
                }
                if used > hang {
                    newline(&mut row, out);
                    used = hang;
                    if bare.is_empty() {
                        break;
                    }
                    continue;
                }
                // A word longer than a row is broken where the row ends.
                let fit = take_cols(rest, cols - used);
                push(&mut row, fit, seg.tone);
                newline(&mut row, out);
                used = hang;
                rest = &rest[fit.len()..];
                if rest.is_empty() {
                    break;
                }
            }
        }
    }
    if !row.is_empty() {
        out.push(row);
    }
}

fn push(row: &mut Row, text: &str, tone: Tone) {
    if text.is_empty() {
        return;
    }
    match row.last_mut() {
        Some(last) if last.tone == tone => last.text.push_str(text),
        _ => row.push(Seg {
            text: text.to_string(),
            tone,
        }),
    }
}

/// The longest prefix of `s` at most `cols` wide (at least one character), ending after a
/// `/`, `-`, `.`, `_`, `,` or `=` when one falls in its second half (paths and labels break
/// where they read well).
fn take_cols(s: &str, cols: usize) -> &str {
    let mut w = 0;
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        let cw = width(c.encode_utf8(&mut [0; 4]));
        if w + cw > cols && i > 0 {
            end = i;
            break;
        }
        w += cw;
    }
    let fit = &s[..end];
    if end == s.len() {
        return fit;
    }
    match fit.rfind(['/', '-', '.', '_', ',', '=']) {
        Some(at) if at + 1 > fit.len() / 2 => &fit[..at + 1],
        _ => fit,
    }
}

/// Words with their following spaces attached ("a  b" → "a  ", "b").
fn split_keep_space(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in s.char_indices() {
        if c == ' ' {
            in_space = true;
        } else if in_space {
            out.push(&s[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| r.iter().map(|s| s.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn wraps_at_spaces_under_the_hang_and_cuts_nothing() {
        let l = DLine::field("Message", 12, "one two three four five six", Tone::Text);
        let rows = wrap(std::slice::from_ref(&l), 24);
        let t = texts(&rows);
        assert_eq!(t[0], "  Message:  one two ");
        assert!(
            t[1..].iter().all(|r| r.starts_with("            ")),
            "{t:?}"
        );
        let joined: String = t.join("").split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(joined, "Message: one two three four five six");
    }

    #[test]
    fn breaks_a_word_longer_than_the_row() {
        let l = DLine::one("x".repeat(30), Tone::Text);
        let t = texts(&wrap(&[l], 12));
        assert_eq!(t.len(), 3);
        assert_eq!(t.concat().replace(' ', ""), "x".repeat(30));
    }

    #[test]
    fn long_paths_break_after_a_separator() {
        let l = DLine::one(
            "cri-socket=unix:///var/run/containerd/containerd.sock",
            Tone::Text,
        );
        let t = texts(&wrap(&[l], 40));
        assert_eq!(t[0], "cri-socket=unix:///var/run/containerd/");
        assert_eq!(t[1], "containerd.sock");
    }

    #[test]
    fn short_lines_stay_whole() {
        let l = DLine::one("short", Tone::Dim);
        assert_eq!(rows(&[l.clone(), DLine::blank()], 80), 2);
        assert_eq!(texts(&wrap(&[l], 80)), vec!["short".to_string()]);
    }
}
