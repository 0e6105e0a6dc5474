//! `-n` filters what the Pods pane lists, never a node's numbers: the real watchers against
//! the simulator feed the model, and the screen is drawn with TestBackend. When RBAC forbids
//! listing pods cluster-wide, the pod cache covers one namespace and the Nodes pane says so.

use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use kubedrain::app::cells;
use kubedrain::app::model::{ConnInfo, ConnState, Model, WatchState};
use kubedrain::app::{Msg, update};
use kubedrain::cluster::rows::PodRow;
use kubedrain::cluster::watch::{self, Kind, WatchReport};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::common::screen::{key, screen};
use crate::drain_support::sim::{client, pods, sim};

const DEADLINE: Duration = Duration::from_secs(60);
const CLUSTER_PODS: &str = "/api/v1/pods";

/// A model fed by the real watchers (`-n namespace` or none), as `kubedrain` runs them.
struct Tui {
    model: Model,
    rx: mpsc::Receiver<WatchReport>,
    watchers: Vec<JoinHandle<()>>,
}

impl Tui {
    fn start(c: &Client, namespace: Option<&str>) -> Tui {
        let (tx, rx) = mpsc::channel(1024);
        let conn = ConnInfo {
            context: "kubedrain-sim".into(),
            version: "v1.28.4".into(),
            ..ConnInfo::default()
        };
        let mut model = Model::new(conn, namespace.map(String::from), false, Timestamp::now());
        model.size = (130, 40);
        let watchers = watch::spawn_all(c, namespace, tx, |r| r);
        Tui {
            model,
            rx,
            watchers,
        }
    }

    /// Applies watcher reports until `done` holds (panics with `what` after the deadline).
    async fn until(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let end = tokio::time::Instant::now() + DEADLINE;
        while !done(&self.model) {
            let report = tokio::time::timeout_at(end, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", self.model.watch))
                .expect("watchers run");
            let generation = self.model.generation;
            update(&mut self.model, Msg::Watch { generation, report });
        }
        self.model.now = Timestamp::now();
        self.model.refresh();
    }

    async fn until_live(&mut self) {
        self.until("every watcher live", |m| m.conn_state() == ConnState::Live)
            .await;
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
    }
}

/// PODS, CPU and MEM of every node, as the Nodes pane shows them.
fn node_numbers(m: &Model) -> Vec<(String, Vec<String>)> {
    m.cache
        .nodes
        .values()
        .map(|n| (n.name().to_string(), cells::node(m, n)[4..7].to_vec()))
        .collect()
}

/// The Nodes pane as drawn: from its title to the line before the Pods pane's.
fn nodes_pane(s: &str) -> String {
    s.lines()
        .skip_while(|l| !l.contains(" Nodes ("))
        .take_while(|l| !l.contains(" Pods ("))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pods bound to `node` and not finished, as the API lists them.
fn on_node<'a>(all: &'a [PodRow], node: &str) -> Vec<&'a PodRow> {
    all.iter()
        .filter(|p| p.node_name.as_deref() == Some(node) && !p.phase.is_finished())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_filter_lists_its_pods_but_nodes_keep_their_own_numbers() {
    let sim = sim("mixed").await;
    let c = client(&sim).await;
    let mut all = Tui::start(&c, None);
    let mut web = Tui::start(&c, Some("web"));
    all.until_live().await;
    web.until_live().await;

    // Node facts do not depend on -n.
    assert_eq!(node_numbers(&web.model), node_numbers(&all.model));
    let listed = pods(&c).await;
    let node0 = on_node(&listed, "node0");
    let web_on_node0 = node0.iter().filter(|p| p.namespace() == "web").count();
    assert!(
        node0.len() > web_on_node0 && web_on_node0 > 0,
        "mixed has web and other pods on node0"
    );
    let cells = cells::node(&web.model, &web.model.cache.nodes["node0"]);
    assert_eq!(cells[4], format!("{}/110", node0.len()), "{cells:?}");
    assert_eq!(web.model.pods_hidden(), None);

    // The Pods pane lists web's pods of node0 only.
    key(&mut web.model, 'j'); // cp0 → node0
    assert_eq!(web.model.selected_node.as_deref(), Some("node0"));
    let mut want: Vec<String> = node0
        .iter()
        .filter(|p| p.namespace() == "web")
        .map(|p| p.key())
        .collect();
    want.sort();
    let shown: Vec<&str> = web.model.views.pods.iter().map(|k| &**k).collect();
    assert_eq!(shown, want);
    let s = screen(&web.model);
    assert!(s.contains("node0 in web"), "{s}");
    assert!(
        !s.contains("debug-shell") && !s.contains("postgres-0"),
        "{s}"
    );
    let pane = nodes_pane(&s);
    assert_eq!(pane, nodes_pane(&screen(&all.model)), "same Nodes pane");
    insta::assert_snapshot!(pane);

    // `0` shows every namespace at once: the pods are already there.
    key(&mut web.model, '0');
    assert!(
        web.model
            .views
            .pods
            .iter()
            .any(|k| &**k == "default/debug-shell")
    );
    assert_eq!(web.model.generation, 1);
    drop((all, web));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_cluster_wide_pods_fall_back_to_the_namespace_and_say_node_numbers_are_unknown() {
    let sim = sim("mixed").await;
    let forbidden = sim.faults().forbid(CLUSTER_PODS);
    let c = client(&sim).await;
    let mut web = Tui::start(&c, Some("web"));
    web.until("the namespace's pods listed after the refusal", |m| {
        m.pods_hidden().is_some() && m.conn_state() == ConnState::Live
    })
    .await;
    assert!(sim.faults().hits(forbidden) >= 1);

    assert_eq!(
        web.model.pods_hidden(),
        Some("pods outside namespace web are not visible (list pods at cluster scope: forbidden)")
    );
    assert!(
        web.model
            .cache
            .pods
            .values()
            .all(|p| p.namespace() == "web")
    );
    assert!(!web.model.cache.pods.is_empty());
    for (node, numbers) in node_numbers(&web.model) {
        assert_eq!(
            numbers[0].split('/').next(),
            Some("?"),
            "{node}: {numbers:?}"
        );
        assert_eq!(numbers[1..], ["?", "?"], "{node}: {numbers:?}");
    }
    key(&mut web.model, 'j');
    let s = screen(&web.model);
    let pane = nodes_pane(&s);
    assert!(
        pane.contains("PODS/CPU/MEM ?: only web's pods are visible"),
        "{pane}"
    );
    assert!(s.contains("?/110") && !s.contains("4/110"), "{s}");
    insta::assert_snapshot!(pane);

    // `0` cannot show what RBAC hides, and says so.
    key(&mut web.model, '0');
    assert_eq!(web.model.namespace.as_deref(), Some("web"));
    assert!(screen(&web.model).contains("cannot show all namespaces: pods outside namespace web"));
    drop(web);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_cluster_wide_pods_without_namespace_is_a_clear_error_until_allowed() {
    let sim = sim("mixed").await;
    let forbidden = sim.faults().forbid(CLUSTER_PODS);
    let c = client(&sim).await;
    let mut tui = Tui::start(&c, None);
    tui.until("the pod watch refused", |m| {
        matches!(m.watch.get(&Kind::Pods), Some(WatchState::Failed { .. }))
    })
    .await;
    let ConnState::Disconnected { error, .. } = tui.model.conn_state() else {
        panic!("{:?}", tui.model.watch)
    };
    assert!(
        error.starts_with("access denied (403): /api/v1/pods is forbidden")
            && error.ends_with("(-n NAMESPACE shows one namespace's pods)"),
        "{error}"
    );
    assert!(
        tui.model
            .pods_hidden()
            .unwrap()
            .starts_with("pods are not visible")
    );
    let s = screen(&tui.model);
    assert!(s.contains("access denied (403)"), "{s}");
    assert!(s.contains("PODS/CPU/MEM ?: pods not visible"), "{s}");

    // Allowed again: the watcher's retry lists every pod and the numbers come back.
    sim.faults().remove(forbidden);
    tui.until("the pod list after the retry", |m| {
        m.watch.get(&Kind::Pods) == Some(&WatchState::Live)
    })
    .await;
    assert_eq!(tui.model.pods_hidden(), None);
    assert!(
        tui.model
            .cache
            .pods
            .values()
            .any(|p| p.namespace() == "default")
    );
    drop(tui);
    sim.stop().await;
}
