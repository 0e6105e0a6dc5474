//! The seed transcript: `get` shows its columns, a drain moves its pods and `uncordon`
//! restores the node.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_get_shows_the_transcript_columns() {
    let Some(k) = Kubectl::start("seed", 1.0).await else {
        return;
    };
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(nodes[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(
        row(&nodes, 0, "master0"),
        ["master0", "Ready", "control-plane", "77d", "v1.25.4"]
    );
    assert_eq!(
        row(&nodes, 0, "node0"),
        ["node0", "Ready", "<none>", "77d", "v1.25.4"]
    );
    assert_eq!(
        row(&nodes, 0, "node1"),
        ["node1", "Ready", "<none>", "77d", "v1.25.0"]
    );
    assert_eq!(nodes.len(), 4);

    let wide = k.ok(&["get", "nodes", "-o", "wide"]).await;
    assert!(wide.lines().next().unwrap().split_whitespace().eq([
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "INTERNAL-IP",
        "EXTERNAL-IP",
        "OS-IMAGE",
        "KERNEL-VERSION",
        "CONTAINER-RUNTIME"
    ]));

    let pods = k.ok(&["get", "pods", "-A", "-o", "wide"]).await;
    let header = pods.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    let weave = pods
        .lines()
        .find(|l| l.contains("weave-net-jpd2x"))
        .expect("weave-net on node0");
    assert!(
        weave.contains("2/2") && weave.contains("1 (77d ago)") && weave.contains("node0"),
        "{weave}"
    );
    let proxy = pods
        .lines()
        .find(|l| l.contains("kube-proxy-tl5w2"))
        .unwrap();
    assert!(
        proxy.contains("192.168.138.129") && proxy.contains("node0"),
        "{proxy}"
    );
    let spring = pods
        .lines()
        .filter(|l| l.starts_with("default") && l.contains("http-spring-766c586cb9-"))
        .count();
    assert_eq!(spring, 10);
    let events = k.run(&["get", "events", "-A"]).await;
    assert_eq!(events.code, 0, "{}", events.stderr);
    let pdbs = k.run(&["get", "pdb", "-A"]).await;
    assert_eq!(pdbs.code, 0, "{}", pdbs.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_drain_moves_pods_and_uncordon_restores() {
    let Some(k) = Kubectl::start("seed", 2.0).await else {
        return;
    };
    // Without --ignore-daemonsets: kubectl's pre-flight error, nothing evicted, node cordoned.
    let o = k.run(&["drain", "node0"]).await;
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("node/node0 cordoned"), "{}", o.stdout);
    assert!(
        o.stderr.contains("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-tl5w2, kube-system/weave-net-jpd2x"),
        "{}",
        o.stderr
    );
    assert_eq!(k.pods().iter().filter(|p| on(p, "node0")).count(), 8);

    let before: Vec<String> = k
        .pods()
        .iter()
        .filter(|p| on(p, "node0"))
        .map(|p| name(p).to_string())
        .collect();
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let out: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(out[0], "node/node0 already cordoned");
    assert!(
        o.stderr.contains("Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-tl5w2, kube-system/weave-net-jpd2x"),
        "{}",
        o.stderr
    );
    let evicting: Vec<&&str> = out
        .iter()
        .filter(|l| l.starts_with("evicting pod "))
        .collect();
    let evicted: Vec<&&str> = out.iter().filter(|l| l.ends_with(" evicted")).collect();
    assert_eq!(evicting.len(), 6, "{}", o.stdout);
    assert_eq!(evicted.len(), 6, "{}", o.stdout);
    for p in before
        .iter()
        .filter(|n| !n.starts_with("kube-proxy") && !n.starts_with("weave-net"))
    {
        let ns = if p.starts_with("ingress") {
            "ingress-nginx"
        } else {
            "default"
        };
        assert!(
            out.contains(&format!("evicting pod {ns}/{p}").as_str()),
            "{p}: {}",
            o.stdout
        );
        assert!(
            out.contains(&format!("pod/{p} evicted").as_str()),
            "{p}: {}",
            o.stdout
        );
    }
    assert_eq!(*out.last().unwrap(), "node/node0 drained");

    k.wait_pods("10 http-spring + ingress Running on node1", |pods| {
        let on1 = |prefix: &str| {
            pods.iter()
                .filter(|p| name(p).starts_with(prefix) && on(p, "node1") && running(p))
                .count()
        };
        on1("http-spring-") == 10 && on1("ingress-nginx-controller-") == 1
    })
    .await;
    let node0: Vec<String> = k
        .pods()
        .iter()
        .filter(|p| on(p, "node0"))
        .map(|p| name(p).to_string())
        .collect();
    assert_eq!(node0, ["kube-proxy-tl5w2", "weave-net-jpd2x"]);
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(row(&nodes, 0, "node0")[1], "Ready,SchedulingDisabled");
    assert_eq!(
        k.ok(&["uncordon", "node0"]).await.trim(),
        "node/node0 uncordoned"
    );
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(row(&nodes, 0, "node0")[1], "Ready");
    assert_eq!(
        k.ok(&["uncordon", "node0"]).await.trim(),
        "node/node0 already uncordoned"
    );
    // kubectl's traffic: one eviction per pod (no retries), node patches.
    assert_eq!(k.sim.stats().count("create", "pods/eviction"), 6);
    assert!(k.sim.stats().count("patch", "nodes") >= 2);
}
