//! Terminal screens (vt100 cells and colours) as one animated SVG: the frames stacked in a
//! strip that a CSS animation moves up one screen at a time, looping. Renderers without CSS
//! animation show the first frame. Hand-written: the format is small, and no crate renders
//! vt100 screens without pulling in a font rasteriser.

use std::collections::HashMap;
use std::fmt::Write;

use vt100::Color;

/// Cell width and height in pixels (a 15 px monospace font is 9 px wide).
const CW: u32 = 9;
const CH: u32 = 18;
/// The margin around the screen, in pixels.
const PAD: u32 = 12;
const FG: &str = "#d0d0d0";
const BG: &str = "#1c1c1c";
/// The 16 ANSI colours, as a dark terminal theme shows them.
const ANSI: [&str; 16] = [
    "#1c1c1c", "#e05561", "#8cc265", "#d18f52", "#4aa5f0", "#c162de", "#42b3c2", "#d0d0d0",
    "#6b6b6b", "#ff616e", "#a5e075", "#f0a45d", "#4dc4ff", "#de73ff", "#4cd1e0", "#ffffff",
];

/// One frame: a screen and how long it shows, in seconds.
pub struct Frame<'a> {
    pub screen: &'a vt100::Screen,
    pub secs: f64,
}

/// The `frames` as an animated SVG, looping.
pub fn animated(frames: &[Frame]) -> String {
    let (rows, cols) = frames.first().map_or((0, 0), |f| f.screen.size());
    let (w, h) = (u32::from(cols) * CW, u32::from(rows) * CH);
    let mut classes = Classes::default();
    let mut body = String::new();
    for (i, f) in frames.iter().enumerate() {
        let _ = write!(body, r#"<g transform="translate(0,{})">"#, i as u32 * h);
        frame(&mut body, f.screen, &mut classes);
        body.push_str("</g>");
    }
    let total: f64 = frames.iter().map(|f| f.secs).sum();
    let mut keys = String::new();
    let mut at = 0.0;
    for (i, f) in frames.iter().enumerate() {
        let pct = at / total * 100.0;
        let _ = write!(
            keys,
            "{pct:.3}%{{transform:translateY(-{}px)}}",
            i as u32 * h
        );
        at += f.secs;
    }
    let last = frames.len().saturating_sub(1) as u32 * h;
    let (ow, oh) = (w + 2 * PAD, h + 2 * PAD);
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{ow}" height="{oh}" viewBox="0 0 {ow} {oh}">"#,
            "\n<style>",
            "text{{font-family:'DejaVu Sans Mono','Menlo','Consolas','Liberation Mono',monospace;",
            "font-size:15px;white-space:pre;fill:{fg}}}",
            ".b{{font-weight:bold}}.i{{font-style:italic}}.u{{text-decoration:underline}}",
            "{classes}",
            "@keyframes play{{{keys}100%{{transform:translateY(-{last}px)}}}}",
            ".strip{{animation:play {total:.2}s steps(1,end) infinite}}",
            "</style>\n",
            r#"<rect width="{ow}" height="{oh}" rx="6" fill="{bg}"/>"#,
            r#"<svg x="{pad}" y="{pad}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
            "\n<g class=\"strip\">{body}</g></svg>\n</svg>\n",
        ),
        ow = ow,
        oh = oh,
        fg = FG,
        bg = BG,
        classes = classes.css(),
        keys = keys,
        last = last,
        total = total,
        pad = PAD,
        w = w,
        h = h,
        body = body,
    )
}

/// Colour classes (`c0`, `c1`, …), so each run names its colour in a few bytes.
#[derive(Default)]
struct Classes {
    index: HashMap<String, usize>,
}

impl Classes {
    fn of(&mut self, hex: &str) -> String {
        let n = self.index.len();
        format!("c{}", *self.index.entry(hex.to_string()).or_insert(n))
    }

    fn css(&self) -> String {
        let mut by: Vec<(&String, &usize)> = self.index.iter().collect();
        by.sort_by_key(|(_, n)| **n);
        by.iter().fold(String::new(), |mut s, (hex, n)| {
            let _ = write!(s, ".c{n}{{fill:{hex}}}");
            s
        })
    }
}

/// The colour `c` as hex; `None` for the default.
fn hex(c: Color) -> Option<String> {
    match c {
        Color::Default => None,
        Color::Idx(i) if i < 16 => Some(ANSI[usize::from(i)].to_string()),
        Color::Idx(i) if i >= 232 => {
            let g = 8 + 10 * (i - 232);
            Some(format!("#{g:02x}{g:02x}{g:02x}"))
        }
        Color::Idx(i) => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let i = i - 16;
            let (r, g, b) = (level(i / 36), level(i / 6 % 6), level(i % 6));
            Some(format!("#{r:02x}{g:02x}{b:02x}"))
        }
        Color::Rgb(r, g, b) => Some(format!("#{r:02x}{g:02x}{b:02x}")),
    }
}

/// What a run of text looks like: its colour (hex), background, bold, italic, underline.
#[derive(Clone, PartialEq)]
struct Look {
    fg: Option<String>,
    bg: Option<String>,
    flags: (bool, bool, bool),
}

fn look(cell: &vt100::Cell) -> Look {
    let (mut fg, mut bg) = (hex(cell.fgcolor()), hex(cell.bgcolor()));
    if cell.inverse() {
        (fg, bg) = (
            Some(bg.unwrap_or_else(|| BG.into())),
            Some(fg.unwrap_or_else(|| FG.into())),
        );
    }
    Look {
        fg,
        bg,
        flags: (cell.bold(), cell.italic(), cell.underline()),
    }
}

/// One screen: background rectangles, then one `<text>` per row with a `<tspan>` per piece
/// of text. Each piece is pinned to its cells (`x`, `textLength`), so a font whose
/// box-drawing glyphs are not exactly one cell wide cannot skew the columns; pieces break at
/// two blanks, since renderers that ignore `white-space` collapse them.
fn frame(out: &mut String, screen: &vt100::Screen, classes: &mut Classes) {
    let (rows, cols) = screen.size();
    for row in 0..rows {
        let runs = runs(screen, row, cols);
        let y = u32::from(row) * CH;
        for (look, cells) in &runs {
            if let (Some(bg), Some(first)) = (&look.bg, cells.first()) {
                let width: u32 = cells.iter().map(|c| c.1).sum();
                let (x, w, class) = (first.0 * CW, width * CW, classes.of(bg));
                let _ = write!(
                    out,
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{CH}" class="{class}"/>"#
                );
            }
        }
        let mut text = String::new();
        for (look, cells) in &runs {
            let class = class_of(look, classes);
            for (col, width, piece) in pieces(cells) {
                let (x, w) = (col * CW, width * CW);
                let piece = escape(&piece);
                let _ = write!(
                    text,
                    r#"<tspan x="{x}" textLength="{w}"{class}>{piece}</tspan>"#
                );
            }
        }
        if !text.is_empty() {
            let _ = write!(out, r#"<text y="{}">{text}</text>"#, y + 14);
        }
    }
}

/// The ` class="…"` of a run: its colour and flags.
fn class_of(look: &Look, classes: &mut Classes) -> String {
    let mut class: Vec<String> = look.fg.iter().map(|c| classes.of(c)).collect();
    let (b, i, u) = look.flags;
    for (on, name) in [(b, "b"), (i, "i"), (u, "u")] {
        if on {
            class.push(name.into());
        }
    }
    if class.is_empty() {
        String::new()
    } else {
        format!(r#" class="{}""#, class.join(" "))
    }
}

/// A cell: its column, width (2 for a wide character) and text.
type CellText = (u32, u32, String);

/// The row's runs of cells that look the same.
fn runs(screen: &vt100::Screen, row: u16, cols: u16) -> Vec<(Look, Vec<CellText>)> {
    let mut runs: Vec<(Look, Vec<CellText>)> = Vec::new();
    for col in 0..cols {
        let Some(cell) = screen.cell(row, col) else {
            continue;
        };
        if cell.is_wide_continuation() {
            continue;
        }
        let l = look(cell);
        let text = if cell.has_contents() {
            cell.contents()
        } else {
            " ".to_string()
        };
        let c = (u32::from(col), if cell.is_wide() { 2 } else { 1 }, text);
        match runs.last_mut() {
            Some((look, cells)) if *look == l => cells.push(c),
            _ => runs.push((l, vec![c])),
        }
    }
    runs
}

/// The pieces of text of a run: cells up to two blanks in a row, without blanks at either
/// end; each as its first column, width in cells and text.
fn pieces(cells: &[CellText]) -> Vec<(u32, u32, String)> {
    let blank = |c: &CellText| c.2.trim().is_empty();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        if blank(&cells[i]) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < cells.len() && !(blank(&cells[end]) && cells.get(end + 1).is_none_or(blank)) {
            end += 1;
        }
        let piece = &cells[i..end];
        let width = piece.iter().map(|c| c.1).sum();
        out.push((
            piece[0].0,
            width,
            piece.iter().map(|c| c.2.as_str()).collect(),
        ));
        i = end;
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn a_screen_becomes_positioned_coloured_runs() {
    let mut p = vt100::Parser::new(2, 10, 0);
    p.process(b"ab \x1b[1;31m<c>\x1b[0m\r\n\x1b[7mx\x1b[0m");
    let svg = animated(&[Frame {
        screen: p.screen(),
        secs: 1.0,
    }]);
    assert!(
        svg.contains(r#"<tspan x="0" textLength="18">ab</tspan>"#),
        "{svg}"
    );
    // Two blanks break a piece (renderers may collapse them); one does not.
    let mut p2 = vt100::Parser::new(1, 12, 0);
    p2.process(b"a b  c");
    let two = animated(&[Frame {
        screen: p2.screen(),
        secs: 1.0,
    }]);
    assert!(
        two.contains(
            r#"<tspan x="0" textLength="27">a b</tspan><tspan x="45" textLength="9">c</tspan>"#
        ),
        "{two}"
    );
    // Bold red, escaped, at column 3; its colour is a class.
    assert!(
        svg.contains(r#"<tspan x="27" textLength="27" class="c0 b">&lt;c&gt;</tspan>"#),
        "{svg}"
    );
    assert!(svg.contains(".c0{fill:#e05561}"), "{svg}");
    // Reverse video: the default colours swapped, the background a rectangle.
    assert!(
        svg.contains(r#"<rect x="0" y="18" width="9" height="18" class="c1"/>"#),
        "{svg}"
    );
    assert!(svg.contains(&format!(".c1{{fill:{FG}}}")), "{svg}");
    assert!(svg.contains("100%{transform:translateY(-0px)}"), "{svg}");
}
