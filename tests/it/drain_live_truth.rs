//! The live drain view says what the cluster says (issue 8, part 6): the TUI's model fed by
//! its real watchers and the real drain engine against the simulator (everything `app::run`
//! does except the terminal), rendered through TestBackend. Each test waits for the positive
//! event it needs (a watch event, the drain's outcome), never for a fixed time.

use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use kubedrain::app::drain_flow::{
    Dialog, FlowCmd, FlowMsg, OptionsForm, Seen, pods_left, seen, workloads,
};
use kubedrain::app::flow_exec::check_daemonsets;
use kubedrain::app::model::WatchState;
use kubedrain::app::model::{ConnInfo, Model};
use kubedrain::app::{Cmd, Msg, update};
use kubedrain::cluster::rows::{PdbRow, PodRow};
use kubedrain::cluster::watch::{self, WatchReport};
use kubedrain::drain::events::{DrainEvent, NodeState, PodState};
use kubedrain::drain::exec::{self, DrainHandle};
use kubedrain::sim::{SimOptions, Simulator};
use ratatui::crossterm::event::KeyCode;
use serde_json::json;
use tokio::sync::mpsc;

use crate::common::screen::screen;
use crate::drain_support::sim::{DEADLINE, client, ignore_ds, journal, until_blocked};

const NODE: &str = "node0";
const PDB: &str = "shop/checkout";

/// pdb-blocked at real-time speed: a checkout replacement needs 15 s to be Ready, so the
/// second checkout pod stays blocked for seconds, long enough to look at.
async fn pdb_blocked() -> Simulator {
    let sim = Simulator::start(SimOptions {
        scenario: "pdb-blocked".into(),
        speed: 1.0,
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    assert!(sim.wait_controllers_ready(DEADLINE));
    sim
}

/// The TUI without a terminal: its model, its watchers, and the drain engine its keys start.
struct Tui {
    m: Model,
    watch_rx: mpsc::Receiver<Msg>,
    drain_rx: Option<mpsc::UnboundedReceiver<DrainEvent>>,
    drain: Option<DrainHandle>,
    /// The drain's client (no retries), also used by the tests to ask the API.
    c: Client,
    sim: Simulator,
    dir: tempfile::TempDir,
}

impl Tui {
    async fn start(sim: Simulator, size: (u16, u16)) -> Tui {
        let conn = ConnInfo {
            context: "kubedrain-sim".into(),
            server: sim.url(),
            version: "v1.27.3".into(),
            ..ConnInfo::default()
        };
        let mut m = Model::new(conn, None, false, Timestamp::now());
        m.size = size;
        let (tx, watch_rx) = mpsc::channel(4096);
        let generation = m.generation;
        let watchers = sim.client().await.unwrap();
        // The watchers end when the receiver (the Tui) is dropped.
        watch::spawn_all(&watchers, None, tx, move |report: WatchReport| Msg::Watch {
            generation,
            report,
        });
        Tui {
            m,
            watch_rx,
            drain_rx: None,
            drain: None,
            c: client(&sim).await,
            sim,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `update`, then the commands it asks for, as `flow_exec` runs them.
    async fn handle(&mut self, msg: Msg) {
        for cmd in update(&mut self.m, msg) {
            match cmd {
                Cmd::Flow(FlowCmd::Drain { node, form }) => {
                    let opts = form.options().expect("valid options");
                    let j = journal(&self.sim, &self.dir);
                    let (h, rx) = exec::start_drain(self.c.clone(), &node, opts, j);
                    self.drain = Some(h);
                    self.drain_rx = Some(rx);
                }
                Cmd::Flow(FlowCmd::CancelDrain) => self.drain.as_ref().unwrap().cancel(),
                Cmd::Flow(FlowCmd::CheckDaemonSets { node, owners }) => {
                    let found = check_daemonsets(&self.c, owners).await;
                    Box::pin(self.handle(Msg::Flow(FlowMsg::DaemonSets { node, found }))).await;
                }
                _ => {}
            }
        }
    }

    /// Feeds watch reports and drain events into the model until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let end = tokio::time::Instant::now() + DEADLINE;
        loop {
            self.m.now = Timestamp::now();
            if done(&self.m) {
                return;
            }
            let msg = tokio::select! {
                Some(m) = self.watch_rx.recv() => m,
                Some(e) = async {
                    match &mut self.drain_rx {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => Msg::Flow(FlowMsg::Drain(e)),
                _ = tokio::time::sleep_until(end) => {
                    panic!("timed out waiting for {what}:\n{}", self.screen())
                }
            };
            self.handle(msg).await;
        }
    }

    async fn key(&mut self, code: KeyCode) {
        // As the loop does: the views are refreshed before each frame the user sees.
        self.m.refresh();
        let k = ratatui::crossterm::event::KeyEvent::new(
            code,
            ratatui::crossterm::event::KeyModifiers::NONE,
        );
        self.handle(Msg::Key(k)).await;
        self.m.refresh();
    }

    fn screen(&mut self) -> String {
        self.m.refresh();
        screen(&self.m)
    }

    /// Selects node0, opens the drain options (`edit` changes them), the plan, and starts.
    async fn drain_node0(&mut self, edit: impl FnOnce(&mut OptionsForm)) {
        // Until the pod list is complete: before that the plan says "cannot tell".
        self.until("node0 and every pod", |m| {
            m.cache.nodes.contains_key(NODE)
                && m.watch.get(&watch::Kind::Pods) == Some(&WatchState::Live)
                && m.cache
                    .pods
                    .values()
                    .any(|p| p.name().starts_with("checkout"))
        })
        .await;
        // cp0, node0, …: one down.
        self.key(KeyCode::Char('j')).await;
        assert_eq!(self.m.selected_node.as_deref(), Some(NODE));
        self.key(KeyCode::Char('r')).await;
        let Some(Dialog::Options(form)) = &mut self.m.flow.dialog else {
            panic!("the drain options: {}", self.screen());
        };
        edit(form);
        self.key(KeyCode::Enter).await;
        assert!(
            matches!(self.m.flow.dialog, Some(Dialog::Plan { .. })),
            "the plan: {}",
            self.screen()
        );
        self.key(KeyCode::Enter).await;
        assert!(self.drain.is_some(), "the drain started: {}", self.screen());
    }

    /// The live view's row of the checkout pod whose eviction the API accepted first, and
    /// the one still blocked.
    fn checkout_rows(&self) -> (Option<String>, Option<String>) {
        let live = self.m.flow.live.as_ref().unwrap();
        let checkout =
            |r: &&kubedrain::app::drain_flow::PodProgress| r.key.starts_with("shop/checkout");
        let accepted = live
            .rows
            .iter()
            .filter(checkout)
            .find(|r| r.accepted)
            .map(|r| r.key.clone());
        let blocked = live
            .rows
            .iter()
            .filter(checkout)
            .find(|r| matches!(r.state, PodState::BlockedByPdb { .. }))
            .map(|r| r.key.clone());
        (accepted, blocked)
    }

    /// Pods on `node` as a node-scoped list (kubectl get pods --field-selector) shows them.
    async fn listed_on(&self, node: &str) -> Vec<PodRow> {
        let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
        Api::<PodRow>::all(self.c.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
    }
}

fn line_of<'a>(screen: &'a str, needle: &str) -> &'a str {
    let short = needle.rsplit('-').next().unwrap();
    screen
        .lines()
        .find(|l| l.contains(short) && (l.contains(needle) || l.contains('…')))
        .unwrap_or_else(|| panic!("no line for {needle}:\n{screen}"))
}

fn is_blocked(m: &Model) -> bool {
    m.flow.live.as_ref().is_some_and(|l| {
        l.rows
            .iter()
            .any(|r| matches!(r.state, PodState::BlockedByPdb { .. }))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_counts_are_the_pdbs_status_at_that_moment() {
    let mut t = Tui::start(pdb_blocked().await, (140, 40)).await;
    t.drain_node0(|_| {}).await;
    t.until("a checkout pod blocked by the PDB", is_blocked)
        .await;
    let api = Api::<PdbRow>::namespaced(t.c.clone(), "shop");
    // The PDB as the API has it now; the view shows the same once the PDB watch has
    // delivered that version (a later change is compared again).
    loop {
        let now = api.get("checkout").await.unwrap();
        let rv: u64 = now.meta.resource_version.clone().unwrap().parse().unwrap();
        let cached = |m: &Model| -> u64 {
            m.cache
                .pdbs
                .get(PDB)
                .and_then(|p| p.meta.resource_version.clone())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        t.until("the PDB watch at the API's version", |m| cached(m) >= rv)
            .await;
        if cached(&t.m) != rv || !is_blocked(&t.m) {
            continue;
        }
        let s = t.screen();
        let want = format!(
            "blocked by PDB {PDB} ({} healthy, {} needed, {} allowed)",
            now.current_healthy, now.desired_healthy, now.disruptions_allowed
        );
        assert!(s.contains(&want), "expected {want:?}:\n{s}");
        assert_eq!(now.disruptions_allowed, 0, "blocked means none allowed");
        break;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacements_are_counted_per_workload_with_their_ready_condition() {
    let mut t = Tui::start(pdb_blocked().await, (140, 40)).await;
    t.drain_node0(|_| {}).await;
    // The first checkout pod evicted, the second blocked, and the replacement Running but
    // not yet Ready (its readiness probe takes 15 s): the very reason the PDB still blocks.
    let not_ready = |m: &Model| {
        m.flow.live.as_ref().is_some_and(|l| {
            l.replacements.iter().any(|(w, pods)| {
                w.contains("shop/checkout")
                    && pods.keys().any(|k| {
                        m.cache.pods.get(k).is_some_and(|p| {
                            p.phase.as_str() == "Running" && !p.ready && p.node_name.is_some()
                        })
                    })
            })
        })
    };
    t.until("a checkout replacement Running, not Ready", |m| {
        is_blocked(m) && not_ready(m)
    })
    .await;
    let (accepted, blocked) = t.checkout_rows();
    let (accepted, blocked) = (accepted.unwrap(), blocked.unwrap());
    let live = t.m.flow.live.as_ref().unwrap();
    let (workload, pods) = live
        .replacements
        .iter()
        .find(|(w, _)| w.contains("shop/checkout"))
        .unwrap();
    let (workload, repl) = (workload.clone(), pods.keys().next().unwrap().clone());
    let on =
        t.m.cache
            .pods
            .get(&repl)
            .unwrap()
            .node_name
            .as_deref()
            .unwrap()
            .to_string();
    let s = t.screen();
    // Never credited to a pod: not the blocked one (the old view did so in 3 of 4 runs), not
    // the evicted one either (the API does not say which pod a new one stands in for).
    let repl_short = repl.rsplit('-').next().unwrap();
    for row in [&blocked, &accepted] {
        let l = line_of(&s, row);
        assert!(!l.contains(repl_short) && !l.contains('→'), "{l}");
    }
    let want = format!("{workload}: 1 evicted → 1 replacement: 1 Running, not Ready on {on}");
    assert!(s.contains(&want), "expected {want:?}:\n{s}");
    assert!(!s.contains("(Running)"), "Running is not Ready:\n{s}");
    // Then its Ready condition turns True, and the line says so.
    t.until("the replacement Ready", |m| {
        m.cache.pods.get(&repl).is_some_and(|p| p.ready)
    })
    .await;
    let s = t.screen();
    assert!(s.contains(&format!("{workload}: ")), "{s}");
    assert!(
        s.contains(&format!("Ready on {on}"))
            && !s.contains(&format!("1 Running, not Ready on {on}, ")),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_cancel_a_pod_the_cluster_deleted_is_shown_gone() {
    let mut t = Tui::start(pdb_blocked().await, (120, 40)).await;
    t.drain_node0(|_| {}).await;
    // Cancel while the evicted checkout pod is still shutting down (3 s) and the other blocked.
    let terminating = |m: &Model| {
        m.flow.live.as_ref().is_some_and(|l| {
            l.rows.iter().any(|r| {
                r.key.starts_with("shop/checkout")
                    && matches!(r.state, PodState::Terminating { .. })
                    && m.cache.pods.get(&r.key).is_some_and(|p| p.uid() == r.uid)
            })
        })
    };
    t.until("a checkout pod terminating, another blocked", |m| {
        terminating(m) && is_blocked(m)
    })
    .await;
    let (accepted, blocked) = t.checkout_rows();
    let (accepted, blocked) = (accepted.unwrap(), blocked.unwrap());
    t.key(KeyCode::Char('x')).await;
    t.until("the drain cancelled", |m| {
        m.flow
            .live
            .as_ref()
            .and_then(|l| l.outcome.as_ref())
            .is_some_and(|o| o.state == NodeState::Cancelled)
    })
    .await;
    // The positive event: the pod watch delivers the deletion.
    let uid =
        t.m.flow
            .live
            .as_ref()
            .unwrap()
            .rows
            .iter()
            .find(|r| r.key == accepted)
            .unwrap()
            .uid
            .clone();
    t.until("the evicted pod's deletion", |m| {
        m.cache.pods.get(&accepted).is_none_or(|p| p.uid() != uid)
    })
    .await;
    let s = t.screen();
    let gone = line_of(&s, &accepted);
    assert!(
        gone.contains("gone (evicted)") && !gone.contains("terminating"),
        "{gone}\n{s}"
    );
    let stays = line_of(&s, &blocked);
    assert!(
        stays.contains("still on node0: not evicted: drain cancelled"),
        "{stays}\n{s}"
    );
    // The count is the drain's pods still on the node.
    let live = t.m.flow.live.as_ref().unwrap();
    let on_node = t.listed_on(NODE).await;
    let still: Vec<_> = live
        .rows
        .iter()
        .filter(|r| on_node.iter().any(|p| p.key() == r.key && p.uid() == r.uid))
        .collect();
    // Every row agrees with the list (the watch has caught up with the deletion above).
    for r in &live.rows {
        let listed = still.iter().any(|x| x.key == r.key);
        assert_eq!(
            seen(&t.m, r) != Seen::Gone,
            listed,
            "{}: {:?}",
            r.key,
            seen(&t.m, r)
        );
    }
    let total = live.rows.len();
    assert!(
        s.contains(&format!("{} of {total} pods left", still.len())),
        "{s}"
    );
    assert!(
        s.contains("uncordon it (u)") && !s.contains("kubedrain uncordon"),
        "{s}"
    );
    // The engine stopped reporting; the TUI's pod watch still finds the checkout replacement.
    t.until(
        "the checkout replacement, seen by the TUI's own watch",
        |m| {
            let live = m.flow.live.as_ref().unwrap();
            workloads(m, live)
                .iter()
                .any(|w| w.workload.contains("shop/checkout") && w.replacement_count() == 1)
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_timeout_the_count_is_the_pods_still_on_the_node() {
    let mut t = Tui::start(pdb_blocked().await, (120, 40)).await;
    // 3 s: the blocked checkout pod waits ≥ 15 s for a Ready replacement.
    t.drain_node0(|f| f.timeout = "3s".into()).await;
    t.until("the drain timed out", |m| {
        m.flow
            .live
            .as_ref()
            .and_then(|l| l.outcome.as_ref())
            .is_some_and(|o| o.state == NodeState::TimedOut)
    })
    .await;
    // Let the watch reach the list's state: every row present in the list is present in the
    // cache and vice versa (the positive event is the watch agreeing).
    let on_node = t.listed_on(NODE).await;
    let rows: Vec<(String, String)> = {
        let live = t.m.flow.live.as_ref().unwrap();
        live.rows
            .iter()
            .map(|r| (r.key.clone(), r.uid.clone()))
            .collect()
    };
    let listed = |k: &str, uid: &str| on_node.iter().any(|p| p.key() == k && p.uid() == uid);
    let n = rows.iter().filter(|(k, u)| listed(k, u)).count();
    assert!(
        n >= 1,
        "the blocked checkout pod still runs on node0: {on_node:?}"
    );
    t.until("the pod watch at the list's state", |m| {
        let live = m.flow.live.as_ref().unwrap();
        live.rows
            .iter()
            .all(|r| (seen(m, r) != Seen::Gone) == listed(&r.key, &r.uid))
    })
    .await;
    // The list may have moved on meanwhile (a pod finished terminating): the count the view
    // shows is the one its watch has, and it equals a fresh list now.
    let live = t.m.flow.live.as_ref().unwrap();
    let left = pods_left(&t.m, live);
    let on_node = t.listed_on(NODE).await;
    let fresh = rows
        .iter()
        .filter(|(k, u)| on_node.iter().any(|p| p.key() == *k && p.uid() == *u))
        .count();
    if left == fresh {
        let s = t.screen();
        assert!(
            s.contains(&format!("{left} of {} pods left", rows.len())),
            "{s}"
        );
        assert!(s.contains("timed out"), "{s}");
    } else {
        // A deletion landed between the two lists; the watch shows it next.
        t.until("the watch at the fresh list", |m| {
            pods_left(m, m.flow.live.as_ref().unwrap()) == fresh
        })
        .await;
        let s = t.screen();
        assert!(
            s.contains(&format!("{fresh} of {} pods left", rows.len())),
            "{s}"
        );
    }
    assert!(
        n >= 1 && left >= 1,
        "the blocked pod counts: it is still on the node"
    );
}

/// A pod bound to the node after the drain's plan (no watch event could make the engine
/// wait for it): the fresh node-scoped list finds it, so the drain is not "drained".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drained_only_when_a_fresh_list_of_the_node_is_clean() {
    let sim = pdb_blocked().await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (h, mut rx) = exec::start_drain(c.clone(), NODE, ignore_ds(), journal(&sim, &dir));
    let mut events = Vec::new();
    until_blocked(&mut rx, &mut events).await;
    let late: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "late-arrival", "namespace": "default"},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap();
    let ar = kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
    Api::<kube::api::DynamicObject>::namespaced_with(c.clone(), "default", &ar)
        .create(&PostParams::default(), &late)
        .await
        .unwrap();
    let outcome = crate::drain_support::sim::finish(h, &mut rx, &mut events).await;
    assert_eq!(outcome.state, NodeState::Failed, "{outcome:?}");
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains("not drained") && e.contains("default/late-arrival")),
        "{outcome:?}"
    );
    // Every pod the drain tracked did go: only the list could tell.
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, DrainEvent::Pod { pod, .. } if pod.contains("late-arrival")))
    );
}
