//! The TUI's model fed by the real watchers and health probe through a TCP proxy, as
//! `kubedrain` runs them (`app::run`): a half-open watch is marked stale within two bookmark
//! intervals and recovers by itself; another cluster swapped in behind the same URL is noticed
//! (kube-system's uid) and the model converges to its state: no stale row, none missing.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use kubedrain::app::model::{ConnInfo, ConnState, Model};
use kubedrain::app::run::spawn_health;
use kubedrain::app::{Cmd, Msg, update};
use kubedrain::cluster::watch;
use kubedrain::sim::{Kind, SimOptions, Simulator};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::common::screen::screen;
use crate::drain_support::proxy::{Proxy, addr_of};
use crate::drain_support::sim::client_via;

const DEADLINE: Duration = Duration::from_secs(90);
/// The simulators' bookmark interval.
const BOOKMARKS: Duration = Duration::from_secs(2);

async fn sim(scenario: &str) -> Simulator {
    Simulator::start(SimOptions {
        scenario: scenario.into(),
        bookmark_interval: BOOKMARKS,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

/// The model, its watchers, its health probe and a 250 ms clock, run as `app::run` does
/// (`Cmd::Rewatch` starts the watchers again for the new generation).
struct Tui {
    model: Model,
    client: Client,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    watchers: Vec<JoinHandle<()>>,
    others: Vec<JoinHandle<()>>,
    /// Flash messages seen, in order.
    flashes: Vec<String>,
}

impl Tui {
    fn start(client: Client, server: &str) -> Tui {
        let (tx, rx) = mpsc::channel(4096);
        let conn = ConnInfo {
            context: "kubedrain-sim".into(),
            server: server.into(),
            ..ConnInfo::default()
        };
        let mut model = Model::new(conn, None, false, Timestamp::now());
        model.size = (160, 40);
        let health = spawn_health(client.clone(), tx.clone(), Duration::from_millis(500));
        let clock = {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(250));
                while tx.send(Msg::Tick(Timestamp::now())).await.is_ok() {
                    every.tick().await;
                }
            })
        };
        let mut tui = Tui {
            model,
            client,
            tx,
            rx,
            watchers: vec![],
            others: vec![health, clock],
            flashes: vec![],
        };
        tui.watch(1);
        tui
    }

    fn watch(&mut self, generation: u64) {
        for w in self.watchers.drain(..) {
            w.abort();
        }
        let wrap = move |report| Msg::Watch { generation, report };
        self.watchers = watch::spawn_all(&self.client, None, self.tx.clone(), wrap);
    }

    /// Applies messages until `done` holds (panics with `what` after the deadline).
    async fn until(&mut self, what: &str, done: impl Fn(&Model) -> bool) {
        let end = tokio::time::Instant::now() + DEADLINE;
        while !done(&self.model) {
            let msg = tokio::time::timeout_at(end, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", self.model.watch))
                .expect("the tasks run");
            for cmd in update(&mut self.model, msg) {
                if let Cmd::Rewatch { generation } = cmd {
                    self.watch(generation);
                }
            }
            if let Some((text, _)) = &self.model.flash
                && self.flashes.last() != Some(text)
            {
                self.flashes.push(text.clone());
            }
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        for t in self.watchers.iter().chain(&self.others) {
            t.abort();
        }
    }
}

/// (kind, namespace/name, uid) of every node, pod and PDB.
type Rows = BTreeSet<(&'static str, String, String)>;

fn model_rows(m: &Model) -> Rows {
    let c = &m.cache;
    let uid = |u: &Option<String>| u.clone().unwrap_or_default();
    let nodes = c
        .nodes
        .values()
        .map(|n| ("node", n.name().to_string(), uid(&n.meta.uid)));
    let pods = c
        .pods
        .values()
        .map(|p| ("pod", p.key(), p.uid().to_string()));
    let pdbs = c
        .pdbs
        .iter()
        .map(|(k, p)| ("pdb", k.clone(), uid(&p.meta.uid)));
    nodes.chain(pods).chain(pdbs).collect()
}

fn server_rows(sim: &Simulator) -> Rows {
    let mut rows = Rows::new();
    for (kind, label) in [
        (Kind::Node, "node"),
        (Kind::Pod, "pod"),
        (Kind::PodDisruptionBudget, "pdb"),
    ] {
        for o in sim.store().list(kind, None).1.iter() {
            let name = o["metadata"]["name"].as_str().unwrap_or_default();
            let key = match o["metadata"]["namespace"].as_str() {
                Some(ns) => format!("{ns}/{name}"),
                None => name.to_string(),
            };
            let uid = o["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            rows.insert((label, key, uid));
        }
    }
    rows
}

/// (rows the model shows that the server does not have, rows it misses).
fn difference(m: &Model, sim: &Simulator) -> (usize, usize) {
    let (shown, truth) = (model_rows(m), server_rows(sim));
    (
        shown.difference(&truth).count(),
        truth.difference(&shown).count(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_watch_is_marked_stale_then_recovers() {
    let a = sim("seed").await;
    let proxy = Proxy::start(addr_of(&a.url())).await;
    let client = client_via(&a, &proxy.url()).await;
    let mut tui = Tui::start(client, &proxy.url());
    // Live, with every watch's bookmark interval learned.
    tui.until("every watch live with its interval", |m| {
        m.conn_state() == ConnState::Live
            && m.heard.len() == 4
            && m.heard.values().all(|h| h.interval.is_some())
    })
    .await;
    assert!(screen(&tui.model).contains("● live"));
    let cut = proxy.half_open_watches();
    assert_eq!(cut, 4, "nodes, pods, events and PDBs");
    let t = tokio::time::Instant::now();
    tui.until("the silent watches marked stale", |m| {
        matches!(m.conn_state(), ConnState::Stale { .. })
    })
    .await;
    let marked = t.elapsed();
    assert!(
        marked <= BOOKMARKS * 2,
        "stale {marked:?} after the watches went silent (bookmarks every {BOOKMARKS:?})"
    );
    let s = screen(&tui.model);
    assert!(s.contains("✖ stale since"), "{s}");
    // The first watch whose bookmark is late shows first (`pods ◌ silent`, ...).
    assert!(s.contains("◌ silent"), "{s}");
    assert!(!s.contains("● live"), "{s}");
    // Each watch is opened again after three silent intervals, and confirms itself.
    tui.until("live again", |m| m.conn_state() == ConnState::Live)
        .await;
    let recovered = t.elapsed();
    assert!(screen(&tui.model).contains("● live"));
    assert_eq!(difference(&tui.model, &a), (0, 0));
    eprintln!("half-open watches: stale after {marked:?}, live again after {recovered:?}");
    drop(tui);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_cluster_behind_the_same_url_is_relisted_with_a_notice() {
    let (a, b) = (sim("mixed").await, sim("seed").await);
    let proxy = Proxy::start(addr_of(&a.url())).await;
    let client = client_via(&a, &proxy.url()).await;
    let mut tui = Tui::start(client, &proxy.url());
    tui.until("live on the first cluster", |m| {
        m.conn_state() == ConnState::Live
            && m.conn.cluster_uid.is_some()
            && difference(m, &a) == (0, 0)
    })
    .await;
    let first = tui.model.conn.cluster_uid.clone();
    proxy.swap(addr_of(&b.url()));
    let t = tokio::time::Instant::now();
    tui.until("not shown as live after the swap", |m| {
        m.conn_state() != ConnState::Live
    })
    .await;
    tui.until("converged to the second cluster", |m| {
        m.generation == 2 && m.conn_state() == ConnState::Live && difference(m, &b) == (0, 0)
    })
    .await;
    let took = t.elapsed();
    assert_ne!(tui.model.conn.cluster_uid, first);
    assert!(
        tui.flashes
            .iter()
            .any(|f| f.contains("another cluster answers at")
                && f.contains("listing everything again")),
        "{:?}",
        tui.flashes
    );
    assert!(screen(&tui.model).contains("● live"));
    eprintln!("server swap: converged (0 stale, 0 missing rows) after {took:?}");
    drop(tui);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_is_stale_not_live_until_it_answers_again() {
    let a = sim("seed").await;
    let proxy = Proxy::start(addr_of(&a.url())).await;
    let client = client_via(&a, &proxy.url()).await;
    let mut tui = Tui::start(client, &proxy.url());
    tui.until("every watch live with its interval", |m| {
        m.conn_state() == ConnState::Live && m.heard.values().all(|h| h.interval.is_some())
    })
    .await;
    // As under SIGSTOP: connections stay open, nothing is answered.
    proxy.freeze();
    let t = tokio::time::Instant::now();
    tui.until("stale while frozen", |m| {
        matches!(m.conn_state(), ConnState::Stale { .. })
    })
    .await;
    let marked = t.elapsed();
    assert!(marked <= BOOKMARKS * 2, "stale after {marked:?}");
    eprintln!("frozen server: stale after {marked:?}");
    assert!(screen(&tui.model).contains("✖ stale since"));
    proxy.thaw();
    tui.until("live after the thaw", |m| m.conn_state() == ConnState::Live)
        .await;
    assert_eq!(difference(&tui.model, &a), (0, 0));
    drop(tui);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_pod_watch_shows_its_health_without_flapping() {
    let a = sim("seed").await;
    let forbidden = a.faults().forbid("/api/v1/pods");
    let client = crate::drain_support::sim::client(&a).await;
    let mut tui = Tui::start(client, &a.url());
    tui.until("the pod watch refused", |m| {
        matches!(m.conn_state(), ConnState::Disconnected { .. })
    })
    .await;
    let ConnState::Disconnected { since, .. } = tui.model.conn_state() else {
        unreachable!()
    };
    // /version answers every 500 ms while the watch is refused again and again: the state
    // and its time never change, and it never reads "live".
    let steady = std::cell::Cell::new(true);
    tui.until("four refusals", |m| {
        let same = matches!(m.conn_state(), ConnState::Disconnected { since: s, .. } if s == since);
        if !same && steady.get() {
            eprintln!("changed: {:?} {:?} {:?}", m.conn_state(), m.watch, m.heard);
        }
        steady.set(steady.get() && same);
        a.faults().hits(forbidden) >= 4
    })
    .await;
    assert!(
        steady.get(),
        "the indicator changed while the pod watch kept failing"
    );
    let s = screen(&tui.model);
    assert!(s.contains("pods ✗ 403"), "{s}");
    assert!(!s.contains("nodes ✗") && !s.contains("● live"), "{s}");
    a.faults().remove(forbidden);
    tui.until("live once allowed", |m| m.conn_state() == ConnState::Live)
        .await;
    drop(tui);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_kube_system_is_said_not_skipped() {
    let a = sim("seed").await;
    a.faults().forbid("/api/v1/namespaces/kube-system");
    let client = crate::drain_support::sim::client(&a).await;
    let mut tui = Tui::start(client, &a.url());
    tui.until("the warning", |m| {
        m.flash
            .as_ref()
            .is_some_and(|(t, _)| t.starts_with("cannot read namespace kube-system (403)"))
    })
    .await;
    assert_eq!(tui.model.conn.cluster_uid, None);
    drop(tui);
    a.stop().await;
}
