//! Snapshot tests of the rendered screen (TestBackend + insta), with an injected "now".

use kubedrain::app::fixtures;
use kubedrain::app::model::Model;
use kubedrain::app::{Msg, update};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::common::screen::{key, screen};

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

/// 5,000 nodes and 150,000 pods: a frame of "all pods" builds only the visible rows.
/// Debug builds are slow, so the bound is loose; building every row would blow it.
#[test]
#[ignore = "scale check, ~10 s in debug: cargo test --test it tui_render::scale -- --ignored"]
fn scale_150k_pods_frame_is_windowed() {
    use kubedrain::app::model::PodScope;
    use kubedrain::cluster::watch::{Ev, Feed, WatchReport};
    let mut m = fixtures::seed_model((200, 50));
    let template = fixtures::pod("default", "x", Some("node0"), "Running", 60);
    let node = fixtures::node("n", "", false, true);
    let feed = |m: &mut Model, f: Feed| {
        update(
            m,
            Msg::Watch {
                generation: 1,
                report: WatchReport::Feed(f),
            },
        );
    };
    let t0 = std::time::Instant::now();
    feed(&mut m, Feed::Nodes(Ev::Init));
    for i in 0..5000 {
        let mut n = node.clone();
        n.meta.name = Some(format!("node-{i:04}"));
        feed(&mut m, Feed::Nodes(Ev::InitApply(n)));
    }
    feed(&mut m, Feed::Nodes(Ev::InitDone));
    feed(&mut m, Feed::Pods(Ev::Init));
    for i in 0..150_000 {
        let mut p = template.clone();
        let ns = p.namespace().to_string();
        p.rename(&ns, &format!("pod-{i:06}"));
        p.node_name = Some(format!("node-{:04}", i % 5000).into());
        feed(&mut m, Feed::Pods(Ev::InitApply(p)));
    }
    feed(&mut m, Feed::Pods(Ev::InitDone));
    m.refresh();
    let load = t0.elapsed();
    assert_eq!(m.cache.index.load["node-0042"].pods, 30);
    m.pod_scope = PodScope::All;
    m.stale = true;
    let t1 = std::time::Instant::now();
    m.refresh();
    let rebuild = t1.elapsed();
    assert_eq!(
        m.views.pods.len(),
        150_000,
        "the relist replaced the seed pods"
    );
    let t2 = std::time::Instant::now();
    let s = screen(&m);
    let frame = t2.elapsed();
    eprintln!("load {load:?}, rebuild all-pods view {rebuild:?}, one frame {frame:?}");
    assert!(s.contains("pod-000000"));
    assert!(frame < std::time::Duration::from_millis(500), "{frame:?}");
}

#[test]
fn pending_view_says_why_and_all_pods_view_shows_the_node() {
    let mut m = fixtures::seed_model((80, 24));
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
    );
    key(&mut m, 'p');
    let s = screen(&m);
    assert!(
        s.contains("WHY PENDING") && s.contains("0/3 nodes are avail"),
        "{s}"
    );
    key(&mut m, 'a');
    let s = screen(&m);
    assert!(s.contains("NODE") && !s.contains("WHY PENDING"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn a_filter_that_is_not_a_regex_says_it_matches_as_a_substring() {
    let mut m = kubedrain::app::fixtures::seed_model((100, 30));
    crate::common::screen::key(&mut m, '/');
    for c in "kube-(proxy".chars() {
        crate::common::screen::key(&mut m, c);
    }
    let s = crate::common::screen::screen(&m);
    assert!(s.contains("(not a valid regex: substring)"), "{s}");
    crate::common::screen::key(&mut m, ')');
    let s = crate::common::screen::screen(&m);
    assert!(!s.contains("not a valid regex"), "{s}");
}

#[test]
fn a_message_longer_than_the_status_line_points_to_the_timeline() {
    let mut m = fixtures::seed_model((80, 24));
    let long = "node/node0 uncordoned (kernel 5.4.0-135-generic → 5.4.0-136-generic, os-image Ubuntu 20.04.5 LTS → Ubuntu 20.04.6 LTS)";
    m.flash = Some((long.into(), m.now));
    let s = screen(&m);
    let last = s.lines().last().unwrap_or_default();
    assert!(last.starts_with(" node/node0 uncordoned (kernel"), "{last}");
    assert!(last.trim_end().ends_with("… (:log)"), "{last}");
    assert!(last.chars().count() <= 80, "{last}");
}
