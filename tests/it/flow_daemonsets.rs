//! The TUI's DaemonSet check over real HTTP: the plan dialog learns which DaemonSets exist
//! (they are not watched), with kubectl's 404 text for a missing one.

use kubedrain::app::flow_exec::check_daemonsets;
use kubedrain::drain::DsLookup;
use kubedrain::sim::{SimOptions, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_and_missing_daemonsets_are_told_apart() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = sim.client().await.unwrap();
    let owners = vec![
        ("kube-system".to_string(), "kube-proxy".to_string()),
        ("kube-system".to_string(), "gone-agent".to_string()),
    ];
    let found = check_daemonsets(&client, owners).await;
    assert_eq!(
        found.get(&("kube-system".into(), "kube-proxy".into())),
        Some(&DsLookup::Exists)
    );
    assert_eq!(
        found.get(&("kube-system".into(), "gone-agent".into())),
        Some(&DsLookup::NotFound)
    );
    sim.stop().await;
}
