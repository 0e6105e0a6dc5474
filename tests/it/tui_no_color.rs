//! `NO_COLOR` on every screen (TestBackend): not one cell carries a colour, and wherever a
//! row is selected it is in reverse video, so the selection survives without colour. The PTY
//! test in `tui_no_color_pty.rs` checks the bytes the real binary sends.

use kubedrain::app::flow_fixtures::{self as fx, flow_model};
use kubedrain::app::model::Model;
use kubedrain::ui::theme::force_no_color;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

use crate::common::screen::{key, press};

fn frame(m: &mut Model) -> Buffer {
    m.refresh();
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
    t.backend().buffer().clone()
}

fn text_of_row(b: &Buffer, y: u16) -> String {
    (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
}

/// Rows with a run of at least 20 reverse-video cells (a selected table row, not a badge or
/// a key name in a hint).
fn reverse_rows(b: &Buffer) -> Vec<String> {
    (0..b.area.height)
        .filter(|&y| {
            let mut run = 0;
            (0..b.area.width).any(|x| {
                run = if b[(x, y)].modifier.contains(Modifier::REVERSED) {
                    run + 1
                } else {
                    0
                };
                run >= 20
            })
        })
        .map(|y| text_of_row(b, y))
        .collect()
}

fn command(m: &mut Model, c: &str) {
    key(m, ':');
    for ch in c.chars() {
        key(m, ch);
    }
    press(m, KeyCode::Enter);
}

/// Each screen: its name, how to get there, and the text of the row that must be selected
/// (`None` where the screen has no selection: a page of text).
type Screen = (&'static str, fn() -> Model, Option<&'static str>);

fn screens() -> Vec<Screen> {
    vec![
        (
            "the main screen",
            || flow_model((120, 40)),
            Some("node0        Ready"),
        ),
        (
            "the help",
            || {
                let mut m = flow_model((120, 40));
                key(&mut m, '?');
                m
            },
            None,
        ),
        (
            "the drain options",
            || {
                let mut m = flow_model((120, 40));
                key(&mut m, 'j');
                key(&mut m, 'r');
                m
            },
            None,
        ),
        (
            "the drain panel beside the focused pods",
            || {
                let mut m = flow_model((120, 40));
                fx::live_midway(&mut m);
                press(&mut m, KeyCode::Tab);
                m
            },
            Some("cache-0"),
        ),
        (
            "teach mode mid-drain",
            || {
                let mut m = flow_model((120, 40));
                key(&mut m, 't');
                fx::live_midway(&mut m);
                press(&mut m, KeyCode::Esc);
                m
            },
            Some("node0"),
        ),
        (
            "the timeline",
            || {
                let mut m = flow_model((120, 40));
                key(&mut m, 't');
                fx::live_midway(&mut m);
                command(&mut m, "log");
                m
            },
            None,
        ),
        (
            "the PDB view",
            || {
                let mut m = flow_model((120, 40));
                command(&mut m, "pdb");
                m
            },
            Some("web"),
        ),
        (
            "the campaign panel",
            || crate::tui_campaign_render::mid_run((120, 40)),
            Some("▸ master0"),
        ),
        (
            "the campaign view",
            || {
                let mut m = crate::tui_campaign_render::mid_run((120, 40));
                press(&mut m, KeyCode::Enter);
                m
            },
            Some("▸ master0"),
        ),
    ]
}

#[test]
fn no_screen_sends_a_colour_and_every_selection_is_reverse_video() {
    force_no_color(Some(true));
    let mut found = Vec::new();
    for (name, make, selected) in screens() {
        let mut m = make();
        let b = frame(&mut m);
        for y in 0..b.area.height {
            for x in 0..b.area.width {
                let c = &b[(x, y)];
                if c.fg != Color::Reset || c.bg != Color::Reset {
                    found.push(format!(
                        "{name}: ({x},{y}) '{}' fg {:?} bg {:?} in {:?}",
                        c.symbol(),
                        c.fg,
                        c.bg,
                        text_of_row(&b, y)
                    ));
                    break;
                }
            }
        }
        if let Some(row) = selected {
            let rows = reverse_rows(&b);
            assert!(
                rows.iter().any(|r| r.contains(row)),
                "{name}: the selected row ({row}) is not in reverse video: {rows:#?}"
            );
        }
    }
    force_no_color(None);
    assert!(
        found.is_empty(),
        "colours with NO_COLOR:\n{}",
        found.join("\n")
    );
}
