//! The `:ns` picker on screen (TestBackend + insta): typing filters the namespaces, the
//! current one is marked, the selection is highlighted; Enter shows the chosen namespace.

use kubedrain::app::fixtures::seed_model;
use kubedrain::app::model::Model;
use ratatui::crossterm::event::KeyCode;

use crate::common::screen::{key, press, screen};

fn open(size: (u16, u16)) -> Model {
    let mut m = seed_model(size);
    m.refresh();
    for c in ":ns".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    assert!(m.picker.is_some());
    m
}

#[test]
fn the_namespace_picker_at_80x24_and_120x40() {
    for size in [(80, 24), (120, 40)] {
        let mut m = open(size);
        let s = screen(&m);
        assert!(s.contains(" Namespace ") && s.contains("● all"), "{s}");
        assert!(
            s.contains("kube-system") && s.contains("Enter choose"),
            "{s}"
        );
        insta::assert_snapshot!(format!("ns_picker_{}x{}", size.0, size.1), s);
        for c in "sys".chars() {
            key(&mut m, c);
        }
        let s = screen(&m);
        assert!(s.contains("> sys") && s.contains("kube-system"), "{s}");
        assert!(!s.contains("● all"), "filtered out: {s}");
        press(&mut m, KeyCode::Enter);
        assert_eq!(m.namespace.as_deref(), Some("kube-system"));
        let s = screen(&m);
        assert!(!s.contains(" Namespace "), "closed: {s}");
        assert!(s.contains("kube-system"), "{s}");
    }
}
