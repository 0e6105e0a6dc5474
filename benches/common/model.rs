//! A TUI model holding a large cluster, built the way the watchers fill it (a relist of
//! nodes, then of pods), for frame-time measurements.

use kubedrain::app::fixtures;
use kubedrain::app::model::{Model, PodScope};
use kubedrain::app::{Msg, update};
use kubedrain::cluster::watch::{Ev, Feed, WatchReport};

fn feed(m: &mut Model, f: Feed) {
    update(
        m,
        Msg::Watch {
            generation: 1,
            report: WatchReport::Feed(f),
        },
    );
}

/// `nodes` nodes and `pods` pods spread evenly over them, in a `size` terminal; the pods pane
/// shows the selected node's pods, or every pod with `all_pods`.
pub fn scale_model(nodes: usize, pods: usize, size: (u16, u16), all_pods: bool) -> Model {
    let mut m = fixtures::seed_model(size);
    let template = fixtures::pod("team-00", "x", Some("node-00000"), "Running", 3 * 86_400);
    let node = fixtures::node("n", "", false, true);
    feed(&mut m, Feed::Nodes(Ev::Init));
    for i in 0..nodes {
        let mut n = node.clone();
        n.meta.name = Some(format!("node-{i:05}"));
        feed(&mut m, Feed::Nodes(Ev::InitApply(n)));
    }
    feed(&mut m, Feed::Nodes(Ev::InitDone));
    feed(&mut m, Feed::Pods(Ev::Init));
    for i in 0..pods {
        let mut p = template.clone();
        p.rename(
            &format!("team-{:02}", i / 10 % 20),
            &format!("svc-{:05}-7d4b9c8f6d-{i:06}", i / 10),
        );
        p.node_name = Some(kubedrain::cluster::intern::str(&format!(
            "node-{:05}",
            i % nodes.max(1)
        )));
        feed(&mut m, Feed::Pods(Ev::InitApply(p)));
    }
    feed(&mut m, Feed::Pods(Ev::InitDone));
    if all_pods {
        m.pod_scope = PodScope::All;
    }
    m.stale = true;
    m.refresh();
    m
}
