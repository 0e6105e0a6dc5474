//! The connection state from each watch's liveness (`conn.rs`): no flapping while `/version`
//! answers, stale when a watch misses its bookmarks, a relist for another cluster.

use super::fixtures::seed_model;
use super::model::{ConnState, Model, WatchState};
use super::msg::{Cmd, Msg};
use super::update;
use crate::cluster::watch::{Kind, WatchReport};

#[test]
fn a_failing_watch_keeps_its_time_while_version_answers_and_a_bookmark_clears_it() {
    let mut m = seed_model((80, 24));
    let t0 = m.now;
    let report = |m: &mut Model, r: WatchReport| {
        update(
            m,
            Msg::Watch {
                generation: 1,
                report: r,
            },
        )
    };
    report(
        &mut m,
        WatchReport::Alive {
            kind: Kind::Nodes,
            interval: Some(std::time::Duration::from_secs(5)),
        },
    );
    let failed = |m: &mut Model| {
        report(
            m,
            WatchReport::Error(Kind::Nodes, "API server unreachable: reset".into()),
        )
    };
    failed(&mut m);
    let ConnState::Disconnected { since, .. } = m.conn_state() else {
        panic!("{:?}", m.conn_state())
    };
    assert_eq!(since, t0);
    // /version answers, the watch fails again: neither "live" nor a new time (no flapping).
    for s in 1..=3 {
        update(
            &mut m,
            Msg::Tick(t0 + jiff::SignedDuration::from_secs(4 * s)),
        );
        update(&mut m, Msg::Health(true));
        assert!(matches!(m.conn_state(), ConnState::Disconnected { since, .. } if since == t0));
        failed(&mut m);
        assert!(matches!(m.conn_state(), ConnState::Disconnected { since, .. } if since == t0));
    }
    assert_eq!(
        m.watch_health(),
        vec![(Kind::Nodes, "✗ unreachable".to_string())]
    );
    // The watch's next bookmark: alive and current again.
    report(
        &mut m,
        WatchReport::Alive {
            kind: Kind::Nodes,
            interval: Some(std::time::Duration::from_secs(5)),
        },
    );
    assert_eq!(m.conn_state(), ConnState::Live);
}

#[test]
fn a_live_watch_silent_past_its_bookmarks_is_stale() {
    let mut m = seed_model((80, 24));
    let t0 = m.now;
    let interval = Some(std::time::Duration::from_secs(2));
    for kind in Kind::ALL {
        update(
            &mut m,
            Msg::Watch {
                generation: 1,
                report: WatchReport::Alive { kind, interval },
            },
        );
    }
    assert_eq!(m.conn_state(), ConnState::Live);
    let at = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
    update(&mut m, Msg::Tick(at(2)));
    for kind in [Kind::Nodes, Kind::Events, Kind::Pdbs] {
        update(
            &mut m,
            Msg::Watch {
                generation: 1,
                report: WatchReport::Alive { kind, interval },
            },
        );
    }
    update(&mut m, Msg::Tick(at(3)));
    // Pods said nothing for 3 s (> 1.25 × 2 s): stale since its last word.
    assert_eq!(m.conn_state(), ConnState::Stale { since: t0 });
    assert_eq!(m.watch_health(), vec![(Kind::Pods, "◌ silent".to_string())]);
    assert!(m.redraw);
}

#[test]
fn another_cluster_behind_the_url_relists_everything_under_a_new_generation() {
    let mut m = seed_model((80, 24));
    assert!(update(&mut m, Msg::ClusterUid("uid-a".into())).is_empty());
    assert!(update(&mut m, Msg::ClusterUid("uid-a".into())).is_empty());
    let cmds = update(&mut m, Msg::ClusterUid("uid-b".into()));
    assert_eq!(cmds, vec![Cmd::Rewatch { generation: 2 }]);
    assert_eq!(m.generation, 2);
    assert!(m.watch.values().all(|s| *s == WatchState::Resyncing));
    let flash = &m.flash.as_ref().unwrap().0;
    assert!(
        flash.contains("another cluster answers") && flash.contains("uid-a → uid-b"),
        "{flash}"
    );
    // Reports of the old watchers are dropped.
    update(
        &mut m,
        Msg::Watch {
            generation: 1,
            report: WatchReport::Alive {
                kind: Kind::Pods,
                interval: Some(std::time::Duration::from_secs(5)),
            },
        },
    );
    assert_eq!(m.watch[&Kind::Pods], WatchState::Resyncing);
}
