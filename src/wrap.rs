//! Word wrap for styled text, shared by the describe page (which scrolls by the rows it
//! makes, in `app`) and the panes and dialogs (`ui`): rows break at spaces, continuation rows
//! start `hang` columns in, and a word longer than a row is broken where it reads well —
//! text is moved, never cut.

/// Display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

/// `segs` (text with its style) in rows of at most `cols` columns; rows after the first
/// start with `hang` spaces styled `pad`. Neighbouring pieces of one style are merged.
pub fn rows<T: Copy + PartialEq>(
    segs: &[(&str, T)],
    cols: usize,
    hang: usize,
    pad: T,
) -> Vec<Vec<(String, T)>> {
    let cols = cols.max(1);
    let hang = hang.min(cols.saturating_sub(1));
    let mut out = Vec::new();
    let mut row: Vec<(String, T)> = Vec::new();
    let mut used = 0usize;
    let newline = |row: &mut Vec<(String, T)>, out: &mut Vec<Vec<(String, T)>>| {
        out.push(std::mem::take(row));
        if hang > 0 {
            row.push((" ".repeat(hang), pad));
        }
    };
    for &(text, style) in segs {
        for word in split_keep_space(text) {
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
                    push(&mut row, keep, style);
                    // Spaces dropped at the edge: the next word starts a new row.
                    used = if keep.len() < rest.len() {
                        cols
                    } else {
                        used + width(keep)
                    };
                    break;
                }
                if used > hang {
                    newline(&mut row, &mut out);
                    used = hang;
                    if bare.is_empty() {
                        break;
                    }
                    continue;
                }
                // A word longer than a row is broken where the row ends.
                let fit = take_cols(rest, cols - used);
                push(&mut row, fit, style);
                newline(&mut row, &mut out);
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
    out
}

fn push<T: Copy + PartialEq>(row: &mut Vec<(String, T)>, text: &str, style: T) {
    if text.is_empty() {
        return;
    }
    match row.last_mut() {
        Some((last, s)) if *s == style => last.push_str(text),
        _ => row.push((text.to_string(), style)),
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

    fn texts(rows: &[Vec<(String, u8)>]) -> Vec<String> {
        rows.iter()
            .map(|r| r.iter().map(|(t, _)| t.as_str()).collect())
            .collect()
    }

    #[test]
    fn rows_break_at_spaces_hang_and_keep_every_character() {
        let segs = [("label: ", 1u8), ("one two three four", 2)];
        let rows = rows(&segs, 14, 7, 0);
        assert_eq!(
            texts(&rows),
            ["label: one two", "       three ", "       four"]
        );
        // The pieces keep their style; the hang is the pad's.
        assert_eq!(rows[1][0], ("       ".to_string(), 0));
        assert_eq!(rows[1][1].1, 2);
    }

    #[test]
    fn a_word_longer_than_a_row_breaks_where_it_reads_well() {
        let rows = rows(&[("kube-system/coredns-565d847f94-dt76p", 0u8)], 20, 2, 0);
        let t = texts(&rows);
        assert_eq!(t[0], "kube-system/coredns-");
        let joined: String = t.iter().map(|r| r.trim_start()).collect();
        assert_eq!(
            joined, "kube-system/coredns-565d847f94-dt76p",
            "nothing cut"
        );
        assert!(t.iter().all(|r| width(r) <= 20), "{t:?}");
    }
}
