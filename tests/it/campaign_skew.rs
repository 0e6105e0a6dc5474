//! A campaign to a target version stays within the skew policy: on the `upgrade` scenario the
//! kubelet at n-3 holds a campaign to the next control-plane minor until it has been upgraded.

use kubedrain::sim::Kind;

use crate::drain_many::kubedrain;
use crate::drain_support::sim::sim;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubelet_the_next_minor_would_leave_behind_holds_the_campaign() {
    let sim = sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["campaign", "--target", "v1.29.0", "--ignore-daemonsets"];
    let o = kubedrain(&sim, dir.path(), &[&args[..], &["--dry-run"]].concat()).await;
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("held: blue-2 (kubelet v1.25.16) would fall outside the skew policy once the control plane is at v1.29.0: campaign blue-2 to v1.28.6 first"),
        "{}",
        o.stderr
    );
    // Not a dry run: still held, and nothing was cordoned.
    let o = kubedrain(&sim, dir.path(), &args).await;
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let (_, nodes) = sim.store().list(Kind::Node, None);
    assert!(nodes.iter().all(|n| n["spec"]["unschedulable"] != true));
    // The control plane alone to v1.29.0: blue-2 is not in the campaign, and still blocks it.
    let o = kubedrain(
        &sim,
        dir.path(),
        &["campaign", "--control-plane", "--target", "v1.29.0"],
    )
    .await;
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("held: blue-2 (kubelet v1.25.16) would fall outside the skew policy once the control plane is at v1.29.0"),
        "{}",
        o.stderr
    );
    assert!(
        !dir.path().join("campaign.jsonl").exists(),
        "held before it started"
    );
    // Two minors at once is never a campaign; a worker ahead of its control plane neither.
    let o = kubedrain(
        &sim,
        dir.path(),
        &["campaign", "--target", "v1.30.0", "--dry-run"],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("never skips a minor"), "{}", o.stderr);
    let o = kubedrain(
        &sim,
        dir.path(),
        &["campaign", "blue-0", "--target", "v1.29.0", "--dry-run"],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("newer than kube-apiserver v1.28.6"),
        "{}",
        o.stderr
    );
    // The blocker alone, to the control plane's version, may go.
    let o = kubedrain(
        &sim,
        dir.path(),
        &[
            "campaign",
            "blue-2",
            "--target",
            "v1.28.6",
            "--ignore-daemonsets",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    sim.stop().await;
}
