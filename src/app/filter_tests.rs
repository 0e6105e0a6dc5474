//! The `/` filter over pods: narrowing as keys are typed shows exactly the rows a rebuild
//! shows, and the pod matcher answers as the cells the user reads do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::cells::{self, PodMatcher};
use super::filter::Filter;
use super::fixtures::{pod, seed_model};
use super::flow_fixtures::feed;
use super::model::{Model, PodScope, Table};
use super::msg::Msg;
use super::update;
use crate::cluster::watch::{Ev, Feed};

fn press(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_keys(m: &mut Model, text: &str) {
    for c in text.chars() {
        press(m, KeyCode::Char(c));
    }
}

const STATUSES: [&str; 5] = [
    "Running",
    "Pending",
    "CrashLoopBackOff",
    "ContainerCreating",
    "Completed",
];

/// Pod `i` of the varied model: two namespaces, five statuses, two nodes or none, ages from
/// seconds to days.
fn varied_pod(i: usize) -> crate::cluster::rows::PodRow {
    let ns = if i.is_multiple_of(3) {
        "kube-system"
    } else {
        "web"
    };
    let node = (!i.is_multiple_of(7)).then(|| format!("node{}", i % 2));
    let age = [5, 130, 3_700, 90_000, 400_000][i % 5] + i as i64;
    pod(
        ns,
        &format!("svc-{i:03}-x{}", i % 4),
        node.as_deref(),
        STATUSES[i % 5],
        age,
    )
}

/// The seed cluster plus 60 varied pods, in the all-pods view (`:pods`, then `a`).
fn varied_model() -> Model {
    let mut m = seed_model((120, 40));
    for i in 0..60 {
        feed(&mut m, Feed::Pods(Ev::Apply(varied_pod(i))));
    }
    type_keys(&mut m, ":pods");
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char('a'));
    assert_eq!(m.pod_scope, PodScope::All);
    m
}

/// The rows the pods view must hold under the current filter, from the cells as drawn.
fn expected(m: &Model) -> Vec<String> {
    let f = m.filters.get(&Table::Pods);
    let mut keys: Vec<String> = m
        .cache
        .pods
        .iter()
        .filter(|(_, p)| f.is_none_or(|f| f.matches(&cells::pod(m, p))))
        .map(|(k, _)| k.to_string())
        .collect();
    keys.sort();
    keys
}

/// The pods view's rows; checks on the way that its keys' copy, if any, is in step.
fn shown(m: &Model) -> Vec<String> {
    let rows: Vec<String> = m.views.pods.iter().map(|k| k.to_string()).collect();
    if let Some(t) = &m.views.pods_text {
        let copied: Vec<&str> = (0..t.len()).map(|i| t.get(i)).collect();
        assert_eq!(copied, rows, "the keys' copy is out of step");
    }
    rows
}

#[test]
fn typing_on_narrows_to_exactly_the_rows_a_rebuild_shows() {
    let mut m = varied_model();
    let before = m.views.rebuilds;
    press(&mut m, KeyCode::Char('/'));
    for (i, c) in "svc-01".char_indices() {
        press(&mut m, KeyCode::Char(c));
        assert_eq!(shown(&m), expected(&m), "after {:?}", &"svc-01"[..=i]);
        if i == 3 {
            // A pod that comes meanwhile is patched into the view, and kept by narrowing
            // (from the rows, as the keys' copy is then out of step).
            let mut p = varied_pod(15);
            p.rename("web", "svc-015-late");
            feed(&mut m, Feed::Pods(Ev::Apply(p)));
            assert!(m.views.pods_text.is_none());
        }
    }
    assert!(shown(&m).contains(&"web/svc-015-late".to_string()));
    assert!(m.views.pods_text.is_some(), "narrowing made the copy anew");
    assert_eq!(shown(&m).len(), 11, "svc-010 … svc-019 and the late one");
    let after = m.views.rebuilds;
    assert_eq!(
        after.pods, before.pods,
        "the first key narrows every pod, too"
    );
    assert_eq!(after.pods_narrowed - before.pods_narrowed, 6);
    // The keys let go of are dropped once the frame is out.
    assert!(m.views.retired.iter().map(Vec::len).sum::<usize>() >= 50);
    m.after_frame();
    assert!(m.views.retired.is_empty());
    // Deleting widens: a rebuild, the same rows as from scratch.
    press(&mut m, KeyCode::Backspace);
    assert_eq!(m.views.rebuilds.pods, after.pods + 1);
    assert_eq!(shown(&m), expected(&m));
}

#[test]
fn a_filter_matching_other_columns_narrows_through_the_rows() {
    let mut m = varied_model();
    // STATUS (CrashLoopBackOff), in any case: every key narrows. Then NODE: `no` and `nod`
    // could be in `<unknown>` or `3d4h` (an AGE), so those two keys rebuild.
    for (text, narrowed) in [("/CRASH", 5), ("/node1", 3)] {
        let before = m.views.rebuilds;
        type_keys(&mut m, text);
        assert_eq!(shown(&m), expected(&m), "{text}");
        assert!(!shown(&m).is_empty(), "{text}");
        assert_eq!(
            m.views.rebuilds.pods_narrowed - before.pods_narrowed,
            narrowed
        );
        press(&mut m, KeyCode::Esc);
        assert_eq!(
            shown(&m).len(),
            m.cache.pods.len(),
            "Esc shows every pod again"
        );
    }
}

#[test]
fn filters_the_clock_can_change_or_regexes_are_rebuilt_not_narrowed() {
    let mut m = varied_model();
    // `5m` can be an AGE: the clock alone changes what it matches since the last key. The
    // first key narrows every pod (each age read at the key's time), the second rebuilds.
    let before = m.views.rebuilds;
    type_keys(&mut m, "/5");
    step_clock(&mut m, 55);
    press(&mut m, KeyCode::Char('m'));
    assert_eq!(m.views.rebuilds.pods - before.pods, 1);
    assert_eq!(m.views.rebuilds.pods_narrowed - before.pods_narrowed, 1);
    assert_eq!(shown(&m), expected(&m));
    press(&mut m, KeyCode::Esc);
    // `.` makes a regex, which may match rows the literal before it did not.
    let before = m.views.rebuilds;
    type_keys(&mut m, "/svc.");
    assert_eq!(m.views.rebuilds.pods - before.pods, 1, "the regex");
    assert_eq!(
        m.views.rebuilds.pods_narrowed - before.pods_narrowed,
        3,
        "s, v, c"
    );
    assert_eq!(shown(&m), expected(&m));
}

/// Moves the model's clock `secs` seconds on, as the run loop's tick does.
fn step_clock(m: &mut Model, secs: i64) {
    let later = m.now + jiff::SignedDuration::from_secs(secs);
    update(m, Msg::Tick(later));
}

#[test]
fn the_first_key_reads_every_age_at_its_own_time() {
    let mut m = varied_model();
    // The view was made long before the key: ages have moved on since.
    for secs in [0, 30, 3_600] {
        step_clock(&mut m, secs);
        let before = m.views.rebuilds;
        type_keys(&mut m, "/1");
        assert_eq!(m.views.rebuilds.pods_narrowed - before.pods_narrowed, 1);
        assert_eq!(shown(&m), expected(&m), "{secs} s on");
        assert!(!shown(&m).is_empty());
        press(&mut m, KeyCode::Esc);
    }
}

#[test]
fn a_view_waiting_for_its_rebuild_is_rebuilt_not_narrowed() {
    let mut m = varied_model();
    type_keys(&mut m, "/sv");
    // A resize (or a relist) leaves every view to rebuild before the next frame.
    m.stale = true;
    let before = m.views.rebuilds;
    press(&mut m, KeyCode::Char('c'));
    assert_eq!(m.views.rebuilds.pods_narrowed, before.pods_narrowed);
    assert_eq!(shown(&m), expected(&m));
}

#[test]
fn the_pod_matcher_answers_as_the_drawn_cells_do() {
    let m = varied_model();
    let texts = [
        "s",
        "SVC-0",
        "web",
        "kube-",
        "running",
        "crashloop",
        "pending",
        "node0",
        "<none>",
        "10.32",
        "1/1",
        "0/1",
        "4 (",
        "ago",
        "5m",
        "5s",
        "3d",
        "x3",
        "m",
        "(",
        ")",
        "o",
        "^svc",
        "svc-00.",
        "[0-9]m",
        "nodes are",
        "Init",
        "ontainerc",
        "terminat",
        "vc-0",
    ];
    for t in texts {
        let f = Filter::new(t);
        let mt = PodMatcher::new(&f);
        let over_pods = PodMatcher::for_pods(&f, &m.cache.pods);
        for p in m.cache.pods.values() {
            let drawn = f.matches(&cells::pod(&m, p));
            assert_eq!(mt.matches(&m, p), drawn, "{t:?} on {}", p.key());
            // As the views use it: the key, then the row only if it may match.
            let by_key = over_pods.matches_key(p.shared_key())
                || (over_pods.reads_rows() && over_pods.matches_rest(&m, p));
            assert_eq!(by_key, drawn, "{t:?} on {} (for_pods)", p.key());
        }
    }
}

#[test]
fn rows_are_looked_up_only_for_a_text_some_pod_cell_may_hold() {
    let mut m = varied_model();
    let reads = |m: &Model, t: &str| {
        let f = Filter::new(t);
        PodMatcher::for_pods(&f, &m.cache.pods).reads_rows()
    };
    // Only in keys: no row is read.
    for t in ["svc-0", "web/", "-x3", "kube-sys"] {
        assert!(!reads(&m, t), "{t:?}");
    }
    // A status, a node, an IP, a fixed word, a number, a regex: rows are read.
    for t in ["crash", "node1", "10.32", "<none>", "runn", "3", "svc.0"] {
        assert!(reads(&m, t), "{t:?}");
    }
    // A pod whose status says `svc-0…` makes it a text rows may hold; when it goes, no more.
    let mut odd = varied_pod(1);
    odd.rename("web", "odd");
    odd.reason = Some("svc-0-gated".into());
    feed(&mut m, Feed::Pods(Ev::Apply(odd.clone())));
    assert!(reads(&m, "svc-0"));
    type_keys(&mut m, "/svc-0-g");
    assert_eq!(shown(&m), ["web/odd"]);
    assert_eq!(shown(&m), expected(&m));
    press(&mut m, KeyCode::Esc);
    feed(&mut m, Feed::Pods(Ev::Delete(odd)));
    assert!(!reads(&m, "svc-0"));
}
