//! An engine that always answers: cancel and `--timeout` within a second in every state while
//! the simulator hangs requests (the fault switchboard), a panicking eviction task fails its
//! pod and the drain ends, Ctrl-C in the headless drain, and `--kubeconfig a:b` merged.

use crate::drain_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drain_support::sim::*;
use kubedrain::drain::DrainOptions;
use kubedrain::drain::events::{DrainEvent, DrainOutcome, NodeState, PodState};
use kubedrain::drain::exec::{DrainHandle, start_drain, start_drain_with};
use kubedrain::sim::Simulator;
use kubedrain::sim::api::faults::{FaultAction, FaultId, FaultRule};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// What "answered" means: the drain's outcome within a second of the request.
const ANSWER: Duration = Duration::from_secs(1);
/// How long a test waits for an answer before it reports how late it is.
const PATIENCE: Duration = Duration::from_secs(30);

fn hang(method: &str, path: &str) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        action: FaultAction::Hang,
        remaining: None,
    }
}

/// Collects events until one matches `pred`.
async fn until(
    rx: &mut UnboundedReceiver<DrainEvent>,
    events: &mut Vec<DrainEvent>,
    what: &str,
    pred: impl Fn(&DrainEvent) -> bool,
) {
    let found = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let hit = pred(&e);
            events.push(e);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(found, Ok(true)), "no {what} in time: {events:#?}");
}

/// Waits until the fault rule `id` has caught a request.
async fn until_hit(sim: &Simulator, id: FaultId, what: &str) {
    eventually(what, || async { sim.faults().hits(id) >= 1 }).await;
}

/// The outcome, and how long after `since` it came (panics if it takes [`PATIENCE`]).
async fn outcome_after(
    since: Instant,
    handle: DrainHandle,
    rx: &mut UnboundedReceiver<DrainEvent>,
    events: &mut Vec<DrainEvent>,
) -> (DrainOutcome, Duration) {
    let got = tokio::time::timeout(PATIENCE, async {
        while let Some(e) = rx.recv().await {
            let done = matches!(e, DrainEvent::Finished(_));
            events.push(e);
            if done {
                return;
            }
        }
    })
    .await;
    let took = since.elapsed();
    assert!(got.is_ok(), "no outcome within {PATIENCE:?}: {events:#?}");
    (handle.wait().await, took)
}

/// Starts a drain of node0 of `scenario` with every GET of the node's pod listing hanging, and
/// waits until the drain is in that listing (its cordon done).
async fn in_preflight_listing(
    opts: DrainOptions,
) -> (
    Simulator,
    kube::Client,
    tempfile::TempDir,
    DrainHandle,
    UnboundedReceiver<DrainEvent>,
    Vec<DrainEvent>,
) {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let listing = sim.faults().add(hang("GET", "/api/v1/pods"));
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    until(&mut rx, &mut events, "cordon", |e| {
        matches!(e, DrainEvent::Cordoned { .. })
    })
    .await;
    until_hit(&sim, listing, "the pre-flight listing to hang").await;
    (sim, c, dir, handle, rx, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_answered_during_the_preflight_listing() {
    let (sim, c, _dir, handle, mut rx, mut events) = in_preflight_listing(ignore_ds()).await;
    let asked = Instant::now();
    handle.cancel();
    let (out, took) = outcome_after(asked, handle, &mut rx, &mut events).await;
    assert!(took < ANSWER, "cancel answered after {took:?}");
    assert_eq!(out.state, NodeState::Cancelled, "{out:?}");
    assert!(out.message.contains("left cordoned"), "{out:?}");
    sim.faults().clear();
    assert!(node(&c, "node0").await.unschedulable);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_answered_during_the_preflight_listing() {
    let opts = DrainOptions {
        timeout: Some(Duration::from_secs(3)),
        ..ignore_ds()
    };
    let started = Instant::now();
    let (sim, c, _dir, handle, mut rx, mut events) = in_preflight_listing(opts).await;
    let (out, took) = outcome_after(started, handle, &mut rx, &mut events).await;
    assert!(
        took < Duration::from_secs(3) + ANSWER,
        "a 3s timeout answered after {took:?}"
    );
    assert_eq!(out.state, NodeState::TimedOut, "{out:?}");
    assert_eq!(
        out.errors,
        vec!["drain of node \"node0\": global timeout reached: 3s while listing its pods"]
    );
    sim.faults().clear();
    assert!(node(&c, "node0").await.unschedulable);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_answered_during_the_cordon() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // The node watch and the GET that stands in for it both hang.
    let nodes = sim.faults().add(hang("GET", "/api/v1/nodes*"));
    let opts = DrainOptions {
        timeout: Some(Duration::from_secs(2)),
        ..ignore_ds()
    };
    let started = Instant::now();
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    let (out, took) = outcome_after(started, handle, &mut rx, &mut events).await;
    assert!(
        took < Duration::from_secs(2) + ANSWER,
        "a 2s timeout answered after {took:?}"
    );
    assert_eq!(out.state, NodeState::TimedOut, "{out:?}");
    assert!(sim.faults().hits(nodes) >= 1);
    assert!(
        !events.iter().any(|e| matches!(e, DrainEvent::Pod { .. })),
        "nothing was evicted: {events:#?}"
    );
    sim.stop().await;
}

/// Drives a drain of node0 into its waiting phase after a pod-watch error, with the GETs
/// that re-check each pod hanging (and every other GET too, so the watch cannot recover).
/// Returns the re-check rule once it has caught a request.
async fn waiting_with_hung_rechecks(
    sim: &Simulator,
    rx: &mut UnboundedReceiver<DrainEvent>,
    events: &mut Vec<DrainEvent>,
    refused: FaultId,
) -> FaultId {
    // Evictions are refused until the watch is broken, so no pod can go unseen before.
    until(rx, events, "refused eviction", |e| {
        matches!(
            e,
            DrainEvent::Pod {
                state: PodState::Retrying { .. },
                ..
            }
        )
    })
    .await;
    let f = sim.faults();
    f.add(fault("GET", "/api/v1/pods", 500, Some(1)));
    let recheck = f.add(hang("GET", "/api/v1/namespaces/*/pods/*"));
    f.add(hang("GET", "*"));
    // Open watches end (410); the pod watch's next request fails, then hangs.
    let broken = tokio::time::timeout(DEADLINE, async {
        loop {
            f.expire_open_watches();
            let notice = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
            if let Ok(Some(e)) = notice {
                let failed = matches!(&e, DrainEvent::Notice { message, .. }
                    if message.starts_with("watching pods on node/node0 failed"));
                events.push(e);
                if failed {
                    return;
                }
            }
        }
    })
    .await;
    assert!(broken.is_ok(), "the pod watch never failed: {events:#?}");
    f.remove(refused);
    until(rx, events, "accepted eviction", |e| {
        matches!(
            e,
            DrainEvent::Pod {
                state: PodState::Terminating { .. },
                ..
            }
        )
    })
    .await;
    until_hit(sim, recheck, "a re-check GET to hang").await;
    recheck
}

fn refuse_evictions(sim: &Simulator) -> FaultId {
    sim.faults().add(fault(
        "POST",
        "/api/v1/namespaces/*/pods/*/eviction",
        429,
        None,
    ))
}

fn short_grace() -> DrainOptions {
    DrainOptions {
        grace_period: Some(1),
        ..ignore_ds()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_answered_while_rechecks_hang_after_a_watch_error() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let refused = refuse_evictions(&sim);
    let (handle, mut rx) = start_drain(c.clone(), "node0", short_grace(), journal(&sim, &dir));
    let mut events = vec![];
    waiting_with_hung_rechecks(&sim, &mut rx, &mut events, refused).await;
    let asked = Instant::now();
    handle.cancel();
    let (out, took) = outcome_after(asked, handle, &mut rx, &mut events).await;
    assert!(took < ANSWER, "cancel answered after {took:?}");
    assert_eq!(out.state, NodeState::Cancelled, "{out:?}");
    sim.faults().clear();
    assert!(node(&c, "node0").await.unschedulable);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_answered_while_rechecks_hang_after_a_watch_error() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let refused = refuse_evictions(&sim);
    // Refused evictions retry after 5s and a re-check is due 6s after the acceptance: the
    // timeout falls while the first re-checks hang (each may take 10s).
    let limit = Duration::from_secs(16);
    let opts = DrainOptions {
        timeout: Some(limit),
        ..short_grace()
    };
    let started = Instant::now();
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    waiting_with_hung_rechecks(&sim, &mut rx, &mut events, refused).await;
    assert!(
        started.elapsed() < limit,
        "the re-checks began after the timeout: the test proves nothing"
    );
    let (out, took) = outcome_after(started, handle, &mut rx, &mut events).await;
    assert!(
        took < limit + ANSWER,
        "a {limit:?} timeout answered after {took:?}"
    );
    assert_eq!(out.state, NodeState::TimedOut, "{out:?}");
    assert!(
        out.errors
            .iter()
            .all(|e| e.contains("global timeout reached: 16s")),
        "{out:?}"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_eviction_task_fails_its_pod_and_the_drain_ends() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // The sink runs inside the eviction task when it reports `Evicting`: a sink that panics
    // there for the first pod is a panic of that pod's eviction task.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let panicked = Arc::new(AtomicBool::new(false));
    let victim: Arc<Mutex<Option<String>>> = Arc::default();
    let (p, v) = (panicked.clone(), victim.clone());
    let sink = move |e: DrainEvent| {
        if let DrainEvent::Pod {
            pod,
            state: PodState::Evicting { .. },
            ..
        } = &e
            && !p.swap(true, Ordering::SeqCst)
        {
            *v.lock().unwrap() = Some(pod.clone());
            panic!("injected: the eviction task of {pod} crashes");
        }
        let _ = tx.send(e);
    };
    let handle = start_drain_with(c.clone(), "node0", ignore_ds(), journal(&sim, &dir), sink);
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    let victim = victim.lock().unwrap().clone().expect("a task panicked");
    let reason = events.iter().find_map(|e| match e {
        DrainEvent::Pod {
            pod,
            state: PodState::Failed { reason },
            ..
        } if *pod == victim => Some(reason.clone()),
        _ => None,
    });
    let reason = reason.unwrap_or_else(|| panic!("{victim} never failed: {events:#?}"));
    assert!(
        reason.contains("eviction task panicked: injected: the eviction task of"),
        "{reason}"
    );
    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert!(out.errors.contains(&reason), "{out:?}");
    // The other pods were evicted as usual.
    let gone = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::Gone { .. },
                    ..
                }
            )
        })
        .count();
    assert!(gone > 0, "{events:#?}");
    sim.stop().await;
}

/// `kubedrain ARGS --kubeconfig KC` as a child process, its output read as it comes.
struct Child {
    child: tokio::process::Child,
    out: Arc<Mutex<String>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Child {
    fn spawn(dir: &std::path::Path, kubeconfig: &str, args: &[&str]) -> Child {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
            .args(args)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env("KUBEDRAIN_STATE_DIR", dir)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let out: Arc<Mutex<String>> = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut readers = vec![];
        for pipe in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let out = out.clone();
            readers.push(tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(pipe).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    let mut o = out.lock().unwrap();
                    o.push_str(&l);
                    o.push('\n');
                }
            }));
        }
        Child {
            child,
            out,
            readers,
        }
    }

    fn text(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    async fn until_printed(&self, what: &str) {
        let end = Instant::now() + DEADLINE;
        while !self.text().contains(what) {
            assert!(
                Instant::now() < end,
                "kubedrain never printed {what:?}:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn interrupt(&self) {
        let pid = self.child.id().expect("still running") as i32;
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// The exit code, within `PATIENCE`; the output after it.
    async fn exit(mut self) -> (Option<i32>, String) {
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await;
        let status = status
            .unwrap_or_else(|_| panic!("kubedrain did not exit after Ctrl-C:\n{}", self.text()))
            .unwrap();
        // The readers finish once the pipes close.
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        (status.code(), self.text())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_ctrl_c_while_a_pdb_blocks_interrupts() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    // The budget stays exhausted: the replacements never get Ready in time.
    sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v1/namespaces/shop/pods/checkout-*/eviction".into(),
        action: FaultAction::Status(429),
        remaining: None,
    });
    let child = Child::spawn(
        dir.path(),
        kc.to_str().unwrap(),
        &["drain", "node0", "--ignore-daemonsets"],
    );
    child.until_printed("(will retry after").await;
    child.interrupt();
    let (code, out) = child.exit().await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("drain of node/node0 interrupted by a signal"),
        "{out}"
    );
    assert!(node(&c, "node0").await.unschedulable, "{out}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_ctrl_c_during_the_cordons_of_several_nodes_cancels() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let cordon1 = sim.faults().add(hang("PATCH", "/api/v1/nodes/node1"));
    let before = pods(&c).await.len();
    let child = Child::spawn(
        dir.path(),
        kc.to_str().unwrap(),
        &["drain", "node0", "node1", "--ignore-daemonsets"],
    );
    child.until_printed("node/node0 cordoned").await;
    until_hit(&sim, cordon1, "node1's cordon to hang").await;
    child.interrupt();
    let (code, out) = child.exit().await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("node/node1 not drained: its cordon was interrupted"),
        "{out}"
    );
    assert!(
        out.contains("node/node0 left cordoned: not drained (interrupted)"),
        "{out}"
    );
    sim.faults().clear();
    assert!(node(&c, "node0").await.unschedulable);
    assert_eq!(pods(&c).await.len(), before, "nothing was evicted");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_list_is_merged_like_kubectl() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // The context (and current-context) in one file; its cluster and user in the other.
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "apiVersion: v1\nkind: Config\ncurrent-context: sim\ncontexts:\n- name: sim\n  context:\n    cluster: sim-cluster\n    user: sim-user\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sim-cluster\n  cluster:\n    server: {}\nusers:\n- name: sim-user\n  user:\n    token: kubedrain-sim-token\n",
            sim.url()
        ),
    )
    .unwrap();
    let list = format!("{}:{}", a.display(), b.display());
    let child = Child::spawn(dir.path(), &list, &["cordon", "node1"]);
    let (code, out) = child.exit().await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.trim(), "node/node1 cordoned");
    assert!(node(&c, "node1").await.unschedulable);
    sim.stop().await;
}
