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

pub use crate::wrap::width;

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
    let segs: Vec<(&str, Tone)> = l.segs.iter().map(|s| (s.text.as_str(), s.tone)).collect();
    let rows = crate::wrap::rows(&segs, cols, l.hang.min(cols / 2), Tone::Text);
    out.extend(rows.into_iter().map(|r| {
        r.into_iter()
            .map(|(text, tone)| Seg { text, tone })
            .collect()
    }));
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
