//! `-n` is a display filter; the pod cache's coverage (RBAC) is what node facts rest on.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fixtures::{seed, seed_model};
use super::flow_fixtures::feed;
use super::model::{ConnState, Model, PodCoverage};
use super::msg::Msg;
use super::update;
use crate::cluster::watch::{Ev, Feed, Kind, WatchReport};

const DENIED: &str = "access denied (403): pods is forbidden: User \"dev\" cannot list resource \"pods\" in API group \"\" at the cluster scope";

fn report(m: &mut Model, report: WatchReport) {
    let generation = m.generation;
    update(m, Msg::Watch { generation, report });
}

fn narrow_to(m: &mut Model, ns: &str) {
    report(
        m,
        WatchReport::Narrowed {
            kind: Kind::Pods,
            namespace: ns.into(),
            error: DENIED.into(),
        },
    );
    // The namespace's own relist follows.
    feed(m, Feed::Pods(Ev::Init));
    let (_, pods, _, _) = seed();
    for p in pods.into_iter().filter(|p| p.namespace() == ns) {
        feed(m, Feed::Pods(Ev::InitApply(p)));
    }
    feed(m, Feed::Pods(Ev::InitDone));
    m.refresh();
}

#[test]
fn the_namespace_filter_narrows_the_pods_list_not_the_node_load() {
    let all = seed_model((80, 24));
    let mut m = seed_model((80, 24));
    m.namespace = Some("kube-system".into());
    m.stale = true;
    m.refresh();
    assert!(m.views.pods.iter().all(|k| k.starts_with("kube-system/")));
    assert!(!m.views.pods.is_empty());
    assert_eq!(m.cache.index.load, all.cache.index.load);
    assert_eq!(m.pods_hidden(), None);
}

#[test]
fn a_forbidden_cluster_wide_pod_watch_narrowed_to_the_namespace_is_reported_partial() {
    let mut m = seed_model((80, 24));
    m.namespace = Some("default".into());
    assert_eq!(m.pods_hidden(), None, "every namespace is watched");
    narrow_to(&mut m, "default");
    assert_eq!(
        m.pods_hidden(),
        Some(
            "pods outside namespace default are not visible (list pods at cluster scope: forbidden)"
        )
    );
    assert!(m.pods_known_in("default"));
    assert!(!m.pods_known_in("kube-system"));
    // The pods of other namespaces are gone from the cache with the namespace's relist.
    assert!(m.cache.pods.values().all(|p| p.namespace() == "default"));
    // The namespace's own list is complete: the connection itself is fine.
    assert_eq!(m.conn_state(), ConnState::Live);
}

#[test]
fn zero_cannot_show_namespaces_that_rbac_hides_and_says_why() {
    let mut m = seed_model((80, 24));
    m.namespace = Some("default".into());
    narrow_to(&mut m, "default");
    let cmds = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE)),
    );
    assert!(cmds.is_empty());
    assert_eq!(m.namespace.as_deref(), Some("default"));
    let flash = &m.flash.as_ref().expect("the key says why").0;
    assert!(
        flash.starts_with("cannot show all namespaces: pods outside namespace default"),
        "{flash}"
    );
}

#[test]
fn a_forbidden_pod_watch_without_namespace_is_an_error_and_hides_every_pod() {
    let mut m = seed_model((80, 24));
    report(&mut m, WatchReport::Forbidden(Kind::Pods, DENIED.into()));
    assert_eq!(
        m.conn_state(),
        ConnState::Disconnected {
            since: m.now,
            error: format!("{DENIED} (-n NAMESPACE shows one namespace's pods)")
        }
    );
    // The server answering does not make the refusal go away.
    update(&mut m, Msg::Health(true));
    update(&mut m, Msg::Health(true));
    assert!(matches!(m.conn_state(), ConnState::Disconnected { .. }));
    assert_eq!(
        m.pods_hidden(),
        Some(
            "pods are not visible (list pods at cluster scope: forbidden; -n NAMESPACE watches one namespace)"
        )
    );
    assert!(!m.pods_known_in("default"));
    // RBAC changed and the cluster-wide list went through: every pod is known again.
    feed(&mut m, Feed::Pods(Ev::Init));
    feed(&mut m, Feed::Pods(Ev::InitDone));
    assert_eq!(m.pods_hidden(), None);
    assert_eq!(m.pod_coverage, PodCoverage::All);
}

#[test]
fn only_the_pod_watcher_narrows_coverage() {
    let mut m = seed_model((80, 24));
    report(&mut m, WatchReport::Forbidden(Kind::Events, DENIED.into()));
    report(
        &mut m,
        WatchReport::Narrowed {
            kind: Kind::Pdbs,
            namespace: "default".into(),
            error: DENIED.into(),
        },
    );
    assert_eq!(m.pods_hidden(), None);
}
