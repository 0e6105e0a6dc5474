//! Rendering a model to text (TestBackend) and feeding it keys, for the render tests.

use kubedrain::app::model::Model;
use kubedrain::app::{Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The model drawn at its own size, one trimmed line per row.
pub fn screen(m: &Model) -> String {
    let (w, h) = m.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Presses `code` with no modifiers.
pub fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Types the character `c`.
pub fn key(m: &mut Model, c: char) {
    press(m, KeyCode::Char(c));
}
