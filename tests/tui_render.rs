//! Snapshot tests of the rendered screen (TestBackend + insta), with an injected "now".

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubedrain::app::fixtures;
use kubedrain::app::model::Model;
use kubedrain::app::{Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(m: &Model) -> String {
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

fn key(m: &mut Model, c: char) {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

#[test]
fn main_screen_80x24() {
    let m = fixtures::seed_model((80, 24));
    let s = screen(&m);
    assert!(s.contains("master0") && s.contains("node0") && s.contains("node1"));
    insta::assert_snapshot!(s);
}

#[test]
fn main_screen_160x48() {
    let mut m = fixtures::seed_model((160, 48));
    key(&mut m, 'j'); // node0: its pods and events
    let s = screen(&m);
    assert!(s.contains("http-spring"));
    insta::assert_snapshot!(s);
}

#[test]
fn help_overlay() {
    let mut m = fixtures::seed_model((100, 40));
    key(&mut m, '?');
    let s = screen(&m);
    assert!(s.contains("Help"));
    insta::assert_snapshot!(s);
}

#[test]
fn too_small() {
    let m = fixtures::seed_model((50, 12));
    let s = screen(&m);
    assert!(s.contains("need ≥ 60×15, have 50×12"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn help_fits_80x24_in_two_columns() {
    let mut m = fixtures::seed_model((80, 24));
    key(&mut m, '?');
    let s = screen(&m);
    // Every binding's help text is on screen, generated from the keymap.
    for b in kubedrain::app::keymap::BINDINGS {
        assert!(s.contains(b.help), "{:?} missing:\n{s}", b.help);
    }
    assert!(s.contains(":pdb"));
    insta::assert_snapshot!(s);
}

#[test]
fn minimum_size_60x15_is_still_readable() {
    let mut m = fixtures::seed_model((60, 15));
    key(&mut m, 'j');
    let s = screen(&m);
    assert!(s.contains("node0") && s.contains("http-spring"), "{s}");
    insta::assert_snapshot!(s);
}
