//! Drains that wait: on a PodDisruptionBudget, and on a cluster with no room.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_blocked_drain_retries_until_the_budget_allows() {
    let Some(k) = Kubectl::start("pdb-blocked", 2.0).await else {
        return;
    };
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let retry = o
        .stderr
        .lines()
        .find(|l| l.starts_with("error when evicting pods/\"checkout-"))
        .unwrap_or_else(|| panic!("a 429 retry line:\n{}", o.stderr));
    assert!(
        retry.ends_with("-n \"shop\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."),
        "{retry}"
    );
    let evicted = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("pod/checkout-") && l.ends_with(" evicted"))
        .count();
    assert_eq!(evicted, 2, "{}", o.stdout);
    assert!(
        o.stdout
            .lines()
            .filter(|l| l.starts_with("evicting pod shop/checkout-"))
            .count()
            >= 3,
        "the blocked pod is retried"
    );
    assert!(o.stdout.ends_with("node/node0 drained\n"), "{}", o.stdout);
    assert!(
        k.sim
            .stats()
            .log()
            .iter()
            .any(|r| r.status == 429 && r.resource == "pods/eviction")
    );
    k.wait_pods("checkout back to 3 Running replicas off node0", |pods| {
        pods.iter()
            .filter(|p| name(p).starts_with("checkout-") && running(p) && !on(p, "node0"))
            .count()
            == 3
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_room_leaves_pods_pending_until_uncordon() {
    let Some(k) = Kubectl::start("no-room", 2.0).await else {
        return;
    };
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.ends_with("node/node0 drained\n"), "{}", o.stdout);
    k.wait_pods("renderer replacements: some Pending", |pods| {
        pods.iter().any(|p| {
            name(p).starts_with("renderer-") && s(&p["status"]["phase"]) == "Pending" && on(p, "")
        })
    })
    .await;
    let pending = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "jobs",
            "--field-selector",
            "status.phase=Pending",
            "-o",
            "wide",
        ])
        .await;
    // phase=Pending also matches replacements still in ContainerCreating on node1.
    let pending_rows: Vec<Vec<String>> = rows(&pending)
        .into_iter()
        .filter(|r| r[2] == "Pending")
        .collect();
    assert!(pending_rows.len() >= 2, "{pending}");
    assert!(
        pending_rows.iter().all(|r| r[6] == "<none>"),
        "unscheduled: {pending}"
    );
    let first = pending_rows[0][0].clone();
    let events = k
        .ok(&[
            "get",
            "events",
            "-n",
            "jobs",
            "--field-selector",
            &format!("involvedObject.name={first}"),
        ])
        .await;
    assert!(events.contains("FailedScheduling"), "{events}");
    k.ok(&["uncordon", "node0"]).await;
    k.wait_pods("every renderer Running again, some on node0", |pods| {
        let r: Vec<_> = pods
            .iter()
            .filter(|p| name(p).starts_with("renderer-"))
            .collect();
        r.len() == 6 && r.iter().all(|p| running(p)) && r.iter().any(|p| on(p, "node0"))
    })
    .await;
    let wide = k.ok(&["get", "pods", "-n", "jobs", "-o", "wide"]).await;
    assert!(!wide.contains("Pending"), "{wide}");
}
