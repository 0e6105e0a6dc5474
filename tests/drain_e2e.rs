//! End to end over HTTP: the drain engine and the `kubedrain` binary against the built-in
//! simulator. Each test starts its own simulator on 127.0.0.1:0 and its own journal file.
//! No timing assertions beyond generous deadlines.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams};
use kubedrain::cluster::rows::{NodeRow, PdbRow, PodRow};
use kubedrain::drain::events::{DrainEvent, DrainOutcome, NodeState, PodState};
use kubedrain::drain::exec::{DrainHandle, start_drain};
use kubedrain::drain::journal::{Action, Journal, Pending, Target, ann, find_unfinished};
use kubedrain::drain::{DrainOptions, fetch, node_ops};
use kubedrain::sim::api::faults::{FaultAction, FaultRule};
use kubedrain::sim::{SimOptions, Simulator};
use tokio::sync::mpsc::UnboundedReceiver;

const DEADLINE: Duration = Duration::from_secs(90);

async fn sim(scenario: &str) -> Simulator {
    Simulator::start(SimOptions {
        scenario: scenario.into(),
        speed: 4.0,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

async fn client(sim: &Simulator) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kubedrain::drain::client::client_without_retry(cfg).unwrap()
}

fn journal(sim: &Simulator, dir: &tempfile::TempDir) -> Journal {
    Journal {
        path: dir.path().join("journal.jsonl"),
        target: Target {
            context: "kubedrain-sim".into(),
            server: sim.url(),
        },
    }
}

async fn pods(c: &Client) -> Vec<PodRow> {
    Api::<PodRow>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

async fn node(c: &Client, name: &str) -> NodeRow {
    Api::<NodeRow>::all(c.clone()).get(name).await.unwrap()
}

/// Polls `f` every 200 ms until it is true or the deadline passes.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + DEADLINE;
    while !f().await {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Collects events until `Finished`.
async fn finish(
    handle: DrainHandle,
    rx: &mut UnboundedReceiver<DrainEvent>,
    events: &mut Vec<DrainEvent>,
) -> DrainOutcome {
    let res = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let done = matches!(e, DrainEvent::Finished(_));
            events.push(e);
            if done {
                break;
            }
        }
    })
    .await;
    assert!(res.is_ok(), "drain did not finish in time: {events:#?}");
    handle.wait().await
}

fn ignore_ds() -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: true,
        ..Default::default()
    }
}

fn running_on<'a>(pods: &'a [PodRow], prefix: &str) -> Vec<(&'a str, Option<&'a str>)> {
    pods.iter()
        .filter(|p| p.name().starts_with(prefix) && !p.is_terminating())
        .map(|p| (p.name(), p.node_name.as_deref()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_drain_moves_everything_to_node1() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
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
    assert_eq!(gone, 6, "five http-spring pods and the ingress controller");
    let replaced: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| match e {
            DrainEvent::Replacement {
                evicted,
                on_node: Some(n),
                ..
            } if n == "node1" => Some(evicted.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        !replaced.is_empty(),
        "replacements are reported: {events:#?}"
    );
    eventually("10 http-spring + ingress Running on node1", || async {
        let ps = pods(&c).await;
        let ok = |p: &&PodRow| {
            p.node_name.as_deref() == Some("node1")
                && p.phase.as_str() == "Running"
                && !p.is_terminating()
        };
        ps.iter()
            .filter(|p| p.name().starts_with("http-spring"))
            .filter(ok)
            .count()
            == 10
            && ps
                .iter()
                .filter(|p| p.name().starts_with("ingress-nginx-controller"))
                .filter(ok)
                .count()
                == 1
    })
    .await;
    let ps = pods(&c).await;
    let mut left: Vec<&str> = ps
        .iter()
        .filter(|p| p.node_name.as_deref() == Some("node0"))
        .map(|p| p.name())
        .collect();
    left.sort();
    assert_eq!(left, vec!["kube-proxy-tl5w2", "weave-net-jpd2x"]);
    let n = node(&c, "node0").await;
    assert!(n.unschedulable);
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("drained"));
    assert_eq!(n.annotation(ann::WAS_UNSCHEDULABLE), Some("false"));
    assert_eq!(n.annotation(ann::PRE_KUBELET), Some("v1.25.4"));
    let entries = j.entries();
    assert!(
        entries
            .iter()
            .any(|e| e.action == Action::Cordon && e.outcome == "cordoned")
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == Action::Evict && e.outcome == "evicted")
            .count(),
        6
    );
    assert!(
        entries
            .iter()
            .any(|e| e.action == Action::DrainResult && e.outcome == "drained")
    );
    assert!(
        entries
            .iter()
            .all(|e| e.server == sim.url() && e.node == "node0")
    );
    // kubedrain cordoned a schedulable node, so it may lift the cordon without --force.
    let u = node_ops::uncordon(&c, "node0", false, &j).await.unwrap();
    assert!(!u.already);
    let n = node(&c, "node0").await;
    assert!(!n.unschedulable && n.annotation(ann::CORDONED_BY).is_none());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_blocked_never_violates_the_budget_and_names_it() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let snap = fetch::snapshot(&c, "node0", true).await.unwrap();
    let plan = snap.plan(&ignore_ds(), jiff::Timestamp::now());
    assert_eq!(plan.pdbs.len(), 1, "{plan:?}");
    assert_eq!(plan.pdbs[0].pdb, "shop/checkout");
    assert_eq!(plan.pdbs[0].pods.len(), 2);

    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (c, stop) = (c.clone(), stop.clone());
        tokio::spawn(async move {
            let mut min_healthy = i32::MAX;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ps = pods(&c).await;
                let healthy = ps
                    .iter()
                    .filter(|p| p.name().starts_with("checkout") && p.ready && !p.is_terminating())
                    .count() as i32;
                min_healthy = min_healthy.min(healthy);
                let pdb: PdbRow = Api::<PdbRow>::namespaced(c.clone(), "shop")
                    .get("checkout")
                    .await
                    .unwrap();
                assert!(pdb.disruptions_allowed >= 0, "{pdb:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            min_healthy
        })
    };
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let blocked: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DrainEvent::Pod {
                state:
                    PodState::BlockedByPdb {
                        pdb,
                        healthy,
                        needed,
                        ..
                    },
                ..
            } => Some((pdb.clone(), *healthy, *needed)),
            _ => None,
        })
        .collect();
    assert!(
        !blocked.is_empty(),
        "the second checkout eviction must be refused at first"
    );
    assert_eq!(blocked[0].0.as_deref(), Some("shop/checkout"));
    assert_eq!(blocked[0].2, Some(2));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let min_healthy = sampler.await.unwrap();
    assert!(
        min_healthy >= 2,
        "checkout fell to {min_healthy} healthy pods (PDB needs 2)"
    );
    let ps = pods(&c).await;
    let healthy = ps
        .iter()
        .filter(|p| p.name().starts_with("checkout") && p.ready && !p.is_terminating())
        .count();
    assert!(healthy >= 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_room_plan_predicts_pending_pods_and_uncordon_places_them() {
    let sim = sim("no-room").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let snap = fetch::snapshot(&c, "node0", true).await.unwrap();
    let plan = snap.plan(&ignore_ds(), jiff::Timestamp::now());
    let predicted = plan.capacity.as_ref().unwrap().pending().count();
    assert_eq!(predicted, 2, "{:#?}", plan.capacity);
    assert!(plan.findings.iter().any(|f| f.kind == "no-room"));
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    eventually("the predicted number of renderer pods Pending", || async {
        let ps = pods(&c).await;
        let r = running_on(&ps, "renderer");
        r.len() == 6 && r.iter().filter(|(_, n)| n.is_none()).count() == predicted
    })
    .await;
    node_ops::uncordon(&c, "node0", false, &j).await.unwrap();
    eventually(
        "all renderer pods placed, the Pending ones on node0",
        || async {
            let ps = pods(&c).await;
            let r = running_on(&ps, "renderer");
            r.len() == 6
                && r.iter().all(|(_, n)| n.is_some())
                && r.iter().filter(|(_, n)| *n == Some("node0")).count() == predicted
        },
    )
    .await;
    sim.stop().await;
}

async fn until_blocked(rx: &mut UnboundedReceiver<DrainEvent>, events: &mut Vec<DrainEvent>) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let blocked = matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::BlockedByPdb { .. },
                    ..
                }
            );
            events.push(e);
            if blocked {
                return;
            }
        }
        panic!("drain ended before a PDB blocked it: {events:#?}");
    })
    .await
    .expect("a PDB blocks an eviction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_deleted_mid_drain_fails_clearly() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    Api::<Node>::all(c.clone())
        .delete("node0", &DeleteParams::default())
        .await
        .unwrap();
    eprintln!("deleted node0");
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed);
    assert_eq!(out.message, "node node0 was deleted during the drain");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_drain_is_found_and_resumed() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    until_blocked(&mut rx, &mut vec![]).await;
    handle.abort(); // as if the process died
    let n = node(&c, "node0").await;
    let unfinished = find_unfinished(&[&n], &j.entries());
    assert_eq!(unfinished.len(), 1, "{unfinished:?}");
    let u = &unfinished[0];
    assert_eq!(u.pending, Pending::ResumeDrain);
    assert!(u.interrupted);
    assert_eq!(u.drain_state.as_deref(), Some("draining"));
    assert!(!u.was_unschedulable);
    // Resume: the node is already cordoned by us, and that is remembered as ours.
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let n = node(&c, "node0").await;
    assert_eq!(n.annotation(ann::WAS_UNSCHEDULABLE), Some("false"));
    let unfinished = find_unfinished(&[&n], &j.entries());
    assert_eq!(unfinished[0].pending, Pending::Uncordon);
    assert!(!unfinished[0].interrupted);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_drain_prints_kubectls_lines() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"));
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env("KUBEDRAIN_STATE_DIR", dir.path())
            .env("NO_COLOR", "1");
        async move {
            let o = tokio::time::timeout(DEADLINE, cmd.output())
                .await
                .unwrap()
                .unwrap();
            (
                o.status.code(),
                String::from_utf8(o.stdout).unwrap(),
                String::from_utf8(o.stderr).unwrap(),
            )
        }
    };
    let (code, out, err) = run(&["drain", "nodeX", "--ignore-daemonsets"]).await;
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): nodes \"nodeX\" not found"
    );

    let (code, out, _) = run(&["plan", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(code, Some(0), "{out}");
    let (code, _, err) = run(&["plan", "node0"]).await;
    assert_eq!(
        code,
        Some(1),
        "DaemonSet pods block without --ignore-daemonsets: {err}"
    );

    let (code, out, err) = run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"node/node0 cordoned"));
    assert_eq!(lines.last(), Some(&"node/node0 drained"));
    let evicting: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("evicting pod "))
        .copied()
        .collect();
    let evicted: Vec<&str> = lines
        .iter()
        .filter(|l| l.ends_with(" evicted"))
        .copied()
        .collect();
    assert_eq!(evicting.len(), 6, "{out}");
    assert_eq!(evicted.len(), 6, "{out}");
    for name in [
        "http-spring-766c586cb9-t9vxh",
        "ingress-nginx-controller-6d74cfb66b-vck99",
    ] {
        assert!(
            evicted.contains(&format!("pod/{name} evicted").as_str()),
            "{out}"
        );
    }
    assert!(
        evicting.contains(&"evicting pod ingress-nginx/ingress-nginx-controller-6d74cfb66b-vck99")
    );
    assert_eq!(
        err.lines().next(),
        Some(
            "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-tl5w2, kube-system/weave-net-jpd2x"
        ),
        "{err}"
    );
    // The cluster ends as in the transcript.
    eventually("workloads Running on node1", || async {
        let ps = pods(&c).await;
        ps.iter()
            .filter(|p| {
                p.name().starts_with("http-spring")
                    || p.name().starts_with("ingress-nginx-controller")
            })
            .filter(|p| {
                p.node_name.as_deref() == Some("node1")
                    && p.phase.as_str() == "Running"
                    && !p.is_terminating()
            })
            .count()
            == 11
    })
    .await;
    let (code, out, _) = run(&["cordon", "node0"]).await;
    assert_eq!((code, out.trim()), (Some(0), "node/node0 already cordoned"));
    let (code, out, _) = run(&["uncordon", "node0"]).await;
    assert_eq!((code, out.trim()), (Some(0), "node/node0 uncordoned"));
    let (code, out, _) = run(&["uncordon", "node0"]).await;
    assert_eq!(
        (code, out.trim()),
        (Some(0), "node/node0 already uncordoned")
    );
    // A cordon kubedrain did not make is not lifted without --force.
    Api::<Node>::all(c.clone()).cordon("node1").await.unwrap();
    let (code, _, err) = run(&["uncordon", "node1"]).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("was not cordoned by kubedrain"), "{err}");
    let (code, out, _) = run(&["uncordon", "node1", "--force"]).await;
    assert_eq!((code, out.trim()), (Some(0), "node/node1 uncordoned"));
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    assert!(journal.lines().count() >= 10, "{journal}");
    sim.stop().await;
}

fn fault(method: &str, path: &str, code: u16, times: Option<usize>) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        action: FaultAction::Status(code),
        remaining: times,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_cordon_evicts_nothing() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let id = sim
        .faults()
        .add(fault("PATCH", "/api/v1/nodes/node0", 403, None));
    let before = pods(&c).await.len();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed);
    assert!(
        out.errors[0].starts_with("unable to cordon node \"node0\""),
        "{out:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, DrainEvent::Pod { .. })),
        "no pod was touched: {events:#?}"
    );
    assert!(sim.faults().hits(id) >= 1);
    let ps = pods(&c).await;
    assert_eq!(ps.len(), before);
    assert!(ps.iter().all(|p| !p.is_terminating()));
    assert!(!node(&c, "node0").await.unschedulable);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_watch_errors_are_retried() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    // Once the plan is made, the pod watch's list fails a few times and later watches get 410.
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let planned = matches!(e, DrainEvent::Planned { .. });
            events.push(e);
            if planned {
                break;
            }
        }
    })
    .await
    .unwrap();
    let id = sim.faults().add(fault("GET", "/api/v1/pods", 500, Some(3)));
    sim.faults().gone_next_watches(2);
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    assert_eq!(sim.faults().hits(id), 3);
    assert!(
        events.iter().any(
            |e| matches!(e, DrainEvent::Notice { message, .. } if message.contains("retrying"))
        ),
        "the errors were seen and retried: {events:#?}"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_cancel_leave_the_node_cordoned() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // Every eviction of checkout is refused: the drain can only time out.
    sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v1/namespaces/shop/pods/checkout-*/eviction".into(),
        action: FaultAction::Status(429),
        remaining: None,
    });
    let opts = DrainOptions {
        timeout: Some(Duration::from_secs(2)),
        ..ignore_ds()
    };
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::TimedOut, "{out:?}");
    assert!(
        out.errors
            .iter()
            .all(|e| e.contains("global timeout reached: 2s")),
        "{out:?}"
    );
    assert!(out.message.contains("left cordoned"), "{}", out.message);
    assert_eq!(out.pending_pods.len(), 2);
    let n = node(&c, "node0").await;
    assert!(n.unschedulable);
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("timed-out"));

    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let retrying = matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::Retrying { .. },
                    ..
                }
            );
            events.push(e);
            if retrying {
                return;
            }
        }
    })
    .await
    .unwrap();
    handle.cancel();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Cancelled);
    assert!(out.message.contains("left cordoned"));
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("cancelled")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_eviction_deletes_pods() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = DrainOptions {
        disable_eviction: true,
        grace_period: Some(0),
        ..ignore_ds()
    };
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let deleted = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::Gone {
                        how: kubedrain::drain::events::GoneHow::Deleted
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(deleted, 6);
    sim.stop().await;
}
