//! Frames the screen draws from damage (rows alone) leave the terminal as a whole frame
//! would: after every change the test terminal holds exactly what a fresh whole drawing of
//! the model holds, styles included, and a change inside one pane costs only its rows.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::fixtures::{self, pod, seed_model};
use crate::app::flow_fixtures::feed;
use crate::app::model::Model;
use crate::app::screen::{Drawn, Screen};
use crate::app::{Msg, update};
use crate::cluster::watch::{Ev, Feed};

/// The seed cluster, 40 pods more on the selected node (master0: the pods pane scrolls) and
/// 30 workers with a pod each (the nodes pane scrolls).
fn model(size: (u16, u16)) -> Model {
    let mut m = seed_model(size);
    for i in 0..40 {
        let p = pod(
            "default",
            &format!("load-{i:02}"),
            Some("master0"),
            "Running",
            600,
        );
        feed(&mut m, Feed::Pods(Ev::Apply(p)));
    }
    for i in 0..30 {
        let name = format!("w{i:02}");
        let n = fixtures::node(&name, "", false, true);
        feed(&mut m, Feed::Nodes(Ev::Apply(n)));
        let p = pod(
            "default",
            &format!("app-{name}"),
            Some(&name),
            "Running",
            3600,
        );
        feed(&mut m, Feed::Pods(Ev::Apply(p)));
    }
    m
}

/// What a whole frame of `m` draws on a fresh terminal.
fn whole_drawing(m: &Model) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| super::render(m, f)).unwrap();
    t.backend().buffer().clone()
}

/// Draws the next frame as the run loop does and checks the terminal against a whole one.
fn frame(s: &mut Screen<TestBackend>, m: &mut Model, what: &str) -> Drawn {
    assert!(m.wants_frame(), "{what}: no frame asked for");
    let drawn = s.frame(m, super::draw).unwrap();
    assert_eq!(
        s.backend().buffer(),
        &whole_drawing(m),
        "{what}: the terminal after {drawn:?}"
    );
    drawn
}

/// Pod `key`'s restart count set to `n`, in place.
fn restart(m: &mut Model, key: &str, n: u32) {
    let mut p = m.cache.pods[key].clone();
    p.restarts = n;
    feed(m, Feed::Pods(Ev::Apply(p)));
}

fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// One screen row, `y`.
fn row(y: u16) -> Drawn {
    Drawn::Rows(std::iter::once(y..y + 1).collect())
}

fn damage_frames_equal_whole_frames(size: (u16, u16)) {
    let mut m = model(size);
    let mut s = Screen::new(TestBackend::new(size.0, size.1), size);
    assert_eq!(frame(&mut s, &mut m, "start"), Drawn::Whole);
    let pods = crate::app::layout::split(&m, s.backend().buffer().area).pods;
    let first_row = pods.y + 2;

    // A restart count on screen: that row alone, again and wider.
    let key = m.views.pods[0].to_string();
    restart(&mut m, &key, 7);
    assert_eq!(frame(&mut s, &mut m, "restart"), row(first_row));
    restart(&mut m, &key, 123_456);
    assert_eq!(frame(&mut s, &mut m, "wider restart"), row(first_row));

    // Off screen: no frame at all.
    let below = m.views.pods.last().unwrap().to_string();
    restart(&mut m, &below, 3);
    assert!(
        !m.wants_frame(),
        "a row below the pane asked for {:?}",
        m.damage
    );

    // Two rows and a node's counters in one loop turn: those rows and the nodes pane.
    let second = m.views.pods[1].to_string();
    restart(&mut m, &second, 9);
    restart(&mut m, &key, 8);
    let p = pod("default", "lands-on-node1", Some("node1"), "Running", 1);
    feed(&mut m, Feed::Pods(Ev::Apply(p)));
    let nodes = crate::app::layout::split(&m, s.backend().buffer().area).nodes;
    let want = vec![
        nodes.y..nodes.bottom(),
        first_row..first_row + 1,
        first_row + 1..first_row + 2,
    ];
    assert_eq!(frame(&mut s, &mut m, "batch"), Drawn::Rows(want));

    // The pods pane focused and scrolled to its end (the selected row highlighted, the
    // scrollbar's thumb at the bottom): the last row's change is that row.
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Char('G'));
    assert_eq!(frame(&mut s, &mut m, "G in pods"), Drawn::Whole);
    let nav = m.nav(crate::app::model::Table::Pods);
    let last = m.views.pods[nav.selected].to_string();
    restart(&mut m, &last, 5);
    let y = first_row + (nav.selected - nav.offset) as u16;
    assert_eq!(frame(&mut s, &mut m, "selected row"), row(y));

    // A pod that goes changes the list (rows move): the whole screen.
    let gone = m.cache.pods[&key].clone();
    feed(&mut m, Feed::Pods(Ev::Delete(gone)));
    assert_eq!(frame(&mut s, &mut m, "delete"), Drawn::Whole);

    // The help over the panes: a change under it draws whole frames.
    press(&mut m, KeyCode::Char('?'));
    frame(&mut s, &mut m, "help");
    restart(&mut m, &last, 6);
    assert_eq!(frame(&mut s, &mut m, "under help"), Drawn::Whole);
    press(&mut m, KeyCode::Esc);
    frame(&mut s, &mut m, "help closed");

    // A second later (ages move): the row drawn then still matches a whole frame.
    update(
        &mut m,
        Msg::Tick(fixtures::now() + jiff::SignedDuration::from_secs(61)),
    );
    if m.wants_frame() {
        frame(&mut s, &mut m, "tick");
    }
    restart(&mut m, &last, 7);
    frame(&mut s, &mut m, "after the tick");
}

#[test]
fn damage_frames_equal_whole_frames_at_80x24() {
    damage_frames_equal_whole_frames((80, 24));
}

#[test]
fn damage_frames_equal_whole_frames_at_120x40() {
    damage_frames_equal_whole_frames((120, 40));
}

#[test]
fn damage_frames_equal_whole_frames_at_200x50() {
    damage_frames_equal_whole_frames((200, 50));
}
