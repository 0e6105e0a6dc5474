//! End to end over HTTP: the drain engine and the `kubedrain` binary against the built-in
//! simulator. Each test starts its own simulator on 127.0.0.1:0 and its own journal file.
//! No timing assertions beyond generous deadlines.

use crate::drain_support;

use std::time::Duration;

use drain_support::sim::*;
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use kubedrain::cluster::rows::{PdbRow, PodRow};
use kubedrain::drain::events::{DrainEvent, NodeState, PodState};
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::journal::{Action, ann};
use kubedrain::drain::{fetch, node_ops};

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
                workload: evicted,
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
    let snap = fetch::snapshot(&c, "node0", fetch::Cluster::ask(&c).await)
        .await
        .unwrap();
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
    let snap = fetch::snapshot(&c, "node0", fetch::Cluster::ask(&c).await)
        .await
        .unwrap();
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
    let (code, out, err) = run(&["drain", "nodex", "--ignore-daemonsets"]).await;
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): nodes \"nodex\" not found"
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
    // kubectl's stable order: namespace/name, every line before the first pod is gone.
    let mut sorted = evicting.clone();
    sorted.sort();
    assert_eq!(evicting, sorted, "{out}");
    assert_eq!(lines[1..7], evicting[..], "{out}");
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
