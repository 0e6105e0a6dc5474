//! `kubedrain drain` with several nodes or a label selector, beside real kubectl on the same
//! scenario: every node cordoned first, then drained one after another; kubectl's usage
//! errors; a selector matching nothing; a failed node does not stop the next.

use std::path::Path;
use std::time::Duration;

use kubedrain::sim::{SimOptions, Simulator};

use crate::sim_kubectl::{Kubectl, Out};

/// Runs the kubedrain binary against `sim` with its own state dir.
pub(crate) async fn kubedrain(sim: &Simulator, dir: &Path, args: &[&str]) -> Out {
    let kc = dir.join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&kc)
            .env("KUBEDRAIN_STATE_DIR", dir)
            .env_remove("KUBECONFIG")
            .output(),
    )
    .await
    .expect("kubedrain finished in time")
    .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

async fn seed() -> Simulator {
    Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

/// The shape both tools must print: both cordons first, node0 drained before node1's
/// evictions start, node1 drained last, and the evicted pods of each node.
fn check_shape(tool: &str, o: &Out) {
    let lines: Vec<&str> = o.stdout.lines().collect();
    let ctx = format!("{tool}:\n{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert_eq!(
        &lines[..2],
        &["node/node0 cordoned", "node/node1 cordoned"],
        "{ctx}"
    );
    let drained0 = lines.iter().position(|l| *l == "node/node0 drained");
    let drained1 = lines.iter().position(|l| *l == "node/node1 drained");
    assert!(
        drained0.is_some() && drained1 == Some(lines.len() - 1),
        "{ctx}"
    );
    let evicted = |from: usize, to: usize| {
        lines[from..to]
            .iter()
            .filter(|l| l.starts_with("pod/") && l.ends_with(" evicted"))
            .count()
    };
    let (d0, d1) = (drained0.unwrap(), drained1.unwrap());
    assert_eq!(evicted(2, d0), 6, "node0's six app pods: {ctx}");
    assert_eq!(evicted(d0, d1), 5, "node1's five app pods: {ctx}");
    let warnings: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("Warning: ignoring DaemonSet-managed Pods"))
        .collect();
    assert_eq!(warnings.len(), 2, "one DaemonSet warning per node: {ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_are_cordoned_first_then_drained_in_turn_like_kubectl() {
    let args = [
        "drain",
        "node0",
        "node/node1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--grace-period",
        "0",
    ];
    if let Some(k) = Kubectl::start("seed", 1.0).await {
        check_shape("kubectl", &k.run(&args).await);
        k.sim.stop().await;
    }
    // kubectl does not look for outages; kubedrain would refuse node0 without --allow-outage
    // (`an_outage_stops_the_node_that_causes_it`).
    let sim = seed().await;
    let dir = tempfile::tempdir().unwrap();
    let ours = [&args[..], &["--allow-outage"]].concat();
    check_shape("kubedrain", &kubedrain(&sim, dir.path(), &ours).await);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_stops_the_node_that_causes_it() {
    // With node0 and node1 both cordoned, node1's pods go Pending but node0 still serves
    // http-spring; draining node0 then would leave ingress-nginx with no ready replica.
    let sim = seed().await;
    let dir = tempfile::tempdir().unwrap();
    let o = kubedrain(
        &sim,
        dir.path(),
        &[
            "drain",
            "node1",
            "node0",
            "--ignore-daemonsets",
            "--grace-period",
            "0",
        ],
    )
    .await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 1, "{ctx}");
    assert!(o.stdout.contains("node/node1 drained"), "{ctx}");
    assert!(!o.stdout.contains("node/node0 drained"), "{ctx}");
    assert!(
        o.stderr.contains(
            "error: Deployment ingress-nginx/ingress-nginx-controller has every replica on this node and no node can take a replacement (node1: cordoned; master0: taint control-plane)"
        ),
        "{ctx}"
    );
    assert!(
        o.stderr
            .contains("node/node0 not drained: it would cause an outage; --allow-outage accepts it; it stays cordoned"),
        "{ctx}"
    );
    // Nothing was evicted from node0.
    let (_, pods) = sim.store().list(kubedrain::sim::Kind::Pod, None);
    let on_node0 = pods
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"] == "node0" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .count();
    assert_eq!(on_node0, 8, "{ctx}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_and_an_empty_selector_match_kubectl() {
    let sim = seed().await;
    let dir = tempfile::tempdir().unwrap();
    let k = Kubectl::start("seed", 1.0).await;
    let cases: [(&[&str], i32); 4] = [
        (&["drain", "node0", "-l", "a=b"], 1),
        (&["drain"], 1),
        (&["drain", "-l", "nomatch=x", "--ignore-daemonsets"], 0),
        (&["drain", "node0", "nodex", "--ignore-daemonsets"], 1),
    ];
    for (args, code) in cases {
        let ours = kubedrain(&sim, dir.path(), args).await;
        assert_eq!(ours.code, code, "{args:?}: {}", ours.stderr);
        assert_eq!(ours.stdout, "", "{args:?}");
        if let Some(k) = &k {
            let theirs = k.run(args).await;
            assert_eq!(theirs.code, code, "kubectl {args:?}: {}", theirs.stderr);
            assert_eq!(
                ours.stderr,
                theirs.stderr.replace("kubectl drain", "kubedrain drain"),
                "{args:?}"
            );
        }
    }
    // Nothing was cordoned by any of them (a missing node is fatal before any patch).
    let nodes = sim.store().list(kubedrain::sim::Kind::Node, None).1;
    assert!(
        nodes.iter().all(|n| n["spec"]["unschedulable"] != true),
        "no node cordoned"
    );
    if let Some(k) = k {
        k.sim.stop().await;
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_node_does_not_stop_the_next_and_the_summary_names_it() {
    // mixed: node0's bare pod and emptyDir pod block its drain (no --force); node1 is empty.
    // The selector picks both workers, not cp0.
    let sim = Simulator::start(SimOptions {
        scenario: "mixed".into(),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = kubedrain(
        &sim,
        dir.path(),
        &[
            "drain",
            "-l",
            "!node-role.kubernetes.io/control-plane",
            "--ignore-daemonsets",
        ],
    )
    .await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 1, "{ctx}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "node/node0 cordoned",
            "node/node1 cordoned",
            "node/node1 drained"
        ],
        "nothing evicted from node0 (pre-flight errors), node1 still drained: {ctx}"
    );
    assert!(
        o.stderr.contains("error: unable to drain node \"node0\""),
        "{ctx}"
    );
    assert!(
        o.stderr
            .contains("There are pending nodes to be drained:\n node0\n"),
        "only node0 is pending: {ctx}"
    );
    assert!(!o.stderr.contains(" node1\n"), "{ctx}");
    sim.stop().await;
}

/// kubectl's stderr made comparable across kubectl versions (gcloud's kubectl dispatcher picks
/// one by server version): no klog lines (`W1126 ...` deprecation notes), the wording of
/// older releases ("Pods declare no controller", "cannot delete cannot delete" before 1.36)
/// brought to 1.37's, which kubedrain prints, and the aggregate on the "unable to drain" line
/// cut off (kubectl orders it by map iteration, and older releases put no space before it).
fn comparable(stderr: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| !(l.starts_with('W') && l.contains("helpers.go")))
        .map(|l| l.replace("cannot delete cannot delete", "cannot delete"))
        .map(|l| {
            l.replace(
                "Pods declare no controller",
                "Pods that declare no controller",
            )
        })
        .map(|l| match l.split_once(" due to error:") {
            Some((head, _)) => format!("{head} due to error: ..."),
            None => l,
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_preflight_failures_print_what_kubectl_prints() {
    // Both tools on one simulator (pod names are random per simulator); after the real
    // drain, kubectl's cordons are lifted before kubedrain's turn.
    let Some(k) = Kubectl::start("mixed", 1.0).await else {
        return;
    };
    let sim = &k.sim;
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 3] = [
        &[
            "drain",
            "node0",
            "node1",
            "--ignore-daemonsets",
            "--dry-run=client",
        ],
        &["drain", "node1", "--ignore-daemonsets", "--dry-run"],
        // Not a dry run: node0's pre-flight errors (nothing is evicted), node1 drained.
        &["drain", "node0", "node1", "--ignore-daemonsets"],
    ];
    for args in cases {
        let theirs = k.run(args).await;
        if !args.iter().any(|a| a.starts_with("--dry-run")) {
            let o = k.run(&["uncordon", "node0", "node1"]).await;
            assert_eq!(o.code, 0, "{}", o.stderr);
        }
        // kubectl does not look for outages: compare like with like.
        let ours = kubedrain(sim, dir.path(), &[args, &["--allow-outage"]].concat()).await;
        let ctx = format!(
            "{args:?}\nkubectl:\n{}{}\nkubedrain:\n{}{}",
            theirs.stdout, theirs.stderr, ours.stdout, ours.stderr
        );
        assert_eq!(ours.code, theirs.code, "{ctx}");
        let mut a: Vec<&str> = theirs.stdout.lines().collect();
        let mut b: Vec<&str> = ours.stdout.lines().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "same stdout lines: {ctx}");
        // Ours ends with where each failed node stands; kubectl's does not.
        let ours_err: String = ours
            .stderr
            .lines()
            .filter(|l| !l.starts_with("node/"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            comparable(&ours_err),
            comparable(&theirs.stderr),
            "same stderr lines: {ctx}"
        );
    }
    let nodes = sim.store().list(kubedrain::sim::Kind::Node, None).1;
    let cordoned: Vec<&str> = nodes
        .iter()
        .filter(|n| n["spec"]["unschedulable"] == true)
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(cordoned, ["node0", "node1"], "only the real drain cordoned");
    k.sim.stop().await;
}
