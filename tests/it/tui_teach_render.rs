//! Teach mode on screen (TestBackend + insta): the narration pane mid-drain with the 429's
//! numbers, at 80×24, 100×30 and 120×40, and the timeline (`:log`).

use kubedrain::app::flow_fixtures::{self as fx, cordoned_node0, flow_model};
use kubedrain::app::model::Model;
use kubedrain::cluster::watch::{Ev, Feed};
use ratatui::crossterm::event::KeyCode;

use crate::common::screen::{press, screen};

/// The workflow cluster mid-drain, every step having come through `update`, with teach on.
fn teaching(size: (u16, u16)) -> Model {
    let mut m = flow_model(size);
    press(&mut m, KeyCode::Char('t'));
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(true))));
    fx::live_midway(&mut m);
    m.flash = None;
    m
}

fn mid_drain(size: (u16, u16)) -> String {
    let s = screen(&teaching(size));
    assert!(s.contains("Teach"), "{s}");
    // The newest step is on screen in every size: the cache pod's grace.
    assert!(s.contains("default/cache-0 is terminating"), "{s}");
    s
}

#[test]
fn teach_mid_drain_80x24() {
    insta::assert_snapshot!(mid_drain((80, 24)));
}

#[test]
fn teach_mid_drain_100x30() {
    insta::assert_snapshot!(mid_drain((100, 30)));
}

#[test]
fn teach_mid_drain_120x40() {
    let s = mid_drain((120, 40));
    // Tall enough for the 429 and its numbers too.
    assert!(
        s.contains("default/web refuses evicting default/web-7c9d-bbbbb now (2 healthy, 3 needed"),
        "{s}"
    );
    assert!(s.contains("API: 429 Too Many Requests"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn timeline_of_a_drain() {
    let mut m = teaching((100, 30));
    press(&mut m, KeyCode::Esc);
    press(&mut m, KeyCode::Char(':'));
    for c in "log".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char('g'));
    let s = screen(&m);
    assert!(s.contains("Timeline ("), "{s}");
    // Oldest first: the cordon the node watch saw, then the steps and the flash of `t`.
    assert!(s.contains("node0 is cordoned"), "{s}");
    assert!(s.contains("teach mode: each step is explained"), "{s}");
    insta::assert_snapshot!(s);
}
