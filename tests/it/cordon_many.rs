//! `kubedrain cordon` / `uncordon` as kubectl's: several nodes, `node/NAME`, `-l`, and
//! `--dry-run=client` that changes nothing.

use kubedrain::sim::server::{SimOptions, Simulator};

use crate::drain_many::kubedrain;

async fn unschedulable(sim: &Simulator) -> Vec<String> {
    let (_, nodes) = sim.store().list(kubedrain::sim::Kind::Node, None);
    let mut out: Vec<String> = nodes
        .iter()
        .filter(|n| n["spec"]["unschedulable"].as_bool() == Some(true))
        .map(|n| {
            n["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_nodes_by_name_or_label_and_a_dry_run_that_changes_nothing() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A dry run prints kubectl's line and changes nothing.
    let o = kubedrain(
        &sim,
        dir.path(),
        &["cordon", "node/node0", "node1", "--dry-run"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "node/node0 cordoned (dry run)\nnode/node1 cordoned (dry run)\n"
    );
    assert!(unschedulable(&sim).await.is_empty());
    // Both, in the order given.
    let o = kubedrain(&sim, dir.path(), &["cordon", "node/node0", "node1"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "node/node0 cordoned\nnode/node1 cordoned\n");
    assert_eq!(unschedulable(&sim).await, ["node0", "node1"]);
    // By label: every node without the control-plane role.
    let sel = "!node-role.kubernetes.io/control-plane";
    let o = kubedrain(
        &sim,
        dir.path(),
        &["uncordon", "-l", sel, "--dry-run=client"],
    )
    .await;
    assert_eq!(
        o.stdout,
        "node/node0 uncordoned (dry run)\nnode/node1 uncordoned (dry run)\n"
    );
    assert_eq!(unschedulable(&sim).await, ["node0", "node1"]);
    let o = kubedrain(&sim, dir.path(), &["uncordon", "-l", sel]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "node/node0 uncordoned\nnode/node1 uncordoned\n");
    assert!(unschedulable(&sim).await.is_empty());
    // Names and a selector together are kubectl's usage error; a missing node fails.
    let o = kubedrain(&sim, dir.path(), &["cordon", "node0", "-l", sel]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("cannot specify both"), "{}", o.stderr);
    let o = kubedrain(&sim, dir.path(), &["cordon", "node0", "nope"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("\"nope\" not found"), "{}", o.stderr);
    assert!(
        unschedulable(&sim).await.is_empty(),
        "nothing cordoned when one name is wrong"
    );
    sim.stop().await;
}
