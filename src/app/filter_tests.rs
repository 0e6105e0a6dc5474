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

fn shown(m: &Model) -> Vec<String> {
    m.views.pods.iter().map(|k| k.to_string()).collect()
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
            // A pod that comes meanwhile is patched into the view, and kept by narrowing.
            let mut p = varied_pod(15);
            p.rename("web", "svc-015-late");
            feed(&mut m, Feed::Pods(Ev::Apply(p)));
        }
    }
    assert!(shown(&m).contains(&"web/svc-015-late".to_string()));
    assert_eq!(shown(&m).len(), 11, "svc-010 … svc-019 and the late one");
    let after = m.views.rebuilds;
    assert_eq!(after.pods - before.pods, 1, "only the first key rebuilds");
    assert_eq!(after.pods_narrowed - before.pods_narrowed, 5);
    // Deleting widens: a rebuild, the same rows as from scratch.
    press(&mut m, KeyCode::Backspace);
    assert_eq!(m.views.rebuilds.pods, after.pods + 1);
    assert_eq!(shown(&m), expected(&m));
}

#[test]
fn a_filter_matching_other_columns_narrows_through_the_rows() {
    let mut m = varied_model();
    // STATUS (CrashLoopBackOff), in any case: R, A, S, H narrow. Then NODE: `no` and `nod`
    // could be in `<unknown>` (an AGE), so those two keys rebuild.
    for (text, narrowed) in [("/CRASH", 4), ("/node1", 2)] {
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
    // `5m` can be an AGE: the clock alone changes what it matches since the last key.
    let before = m.views.rebuilds;
    type_keys(&mut m, "/5m");
    assert_eq!(m.views.rebuilds.pods - before.pods, 2);
    assert_eq!(m.views.rebuilds.pods_narrowed, before.pods_narrowed);
    assert_eq!(shown(&m), expected(&m));
    press(&mut m, KeyCode::Esc);
    // `.` makes a regex, which may match rows the literal before it did not.
    let before = m.views.rebuilds;
    type_keys(&mut m, "/svc.");
    assert_eq!(m.views.rebuilds.pods - before.pods, 2, "s, then the regex");
    assert_eq!(
        m.views.rebuilds.pods_narrowed - before.pods_narrowed,
        2,
        "v, c"
    );
    assert_eq!(shown(&m), expected(&m));
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
    ];
    for t in texts {
        let f = Filter::new(t);
        let mt = PodMatcher::new(&f);
        for p in m.cache.pods.values() {
            assert_eq!(
                mt.matches(&m, p),
                f.matches(&cells::pod(&m, p)),
                "{t:?} on {}",
                p.key()
            );
        }
    }
}
