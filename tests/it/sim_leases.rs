//! Node heartbeats on the simulator's clock: every node's Lease in `kube-node-lease` is renewed
//! as simulated time steps on (10 s), a node whose kubelet stopped (NotReady) renews nothing,
//! and the conditions' `lastHeartbeatTime` moves with the 5-minute status post.

use std::time::Duration;

use kubedrain::sim::controllers::set_node_ready;
use kubedrain::sim::{Kind, SimOptions, Simulator};

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn renew_time(sim: &Simulator, node: &str) -> Option<String> {
    let l = sim.store().get(Kind::Lease, "kube-node-lease", node)?;
    l["spec"]["renewTime"].as_str().map(str::to_string)
}

fn heartbeat(sim: &Simulator, node: &str) -> String {
    let n = sim.store().get(Kind::Node, "", node).unwrap();
    let c = n["status"]["conditions"].as_array().unwrap();
    let ready = c.iter().find(|c| c["type"] == "Ready").unwrap();
    ready["lastHeartbeatTime"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_renew_as_the_clock_steps_and_stop_for_a_stopped_node() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let nodes: Vec<String> = sim
        .store()
        .keys(Kind::Node)
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert!(nodes.len() >= 3, "the seed has nodes");
    until("a Lease per node", || {
        nodes.iter().all(|n| renew_time(&sim, n).is_some())
    })
    .await;
    let lease = sim
        .store()
        .get(Kind::Lease, "kube-node-lease", &nodes[0])
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], nodes[0].as_str());
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(lease["metadata"]["ownerReferences"][0]["kind"], "Node");
    let node_uid = sim.store().get(Kind::Node, "", &nodes[0]).unwrap()["metadata"]["uid"].clone();
    assert_eq!(lease["metadata"]["ownerReferences"][0]["uid"], node_uid);

    let clock = sim.clock().clone();
    clock.freeze();
    let (alive, stopped) = (nodes[0].clone(), nodes[1].clone());
    set_node_ready(sim.store(), &stopped, false).unwrap();

    // Each step is one controller pass, 11 s on: every running kubelet renews once.
    for round in 0..2 {
        let before: Vec<Option<String>> = nodes.iter().map(|n| renew_time(&sim, n)).collect();
        clock.step(Duration::from_secs(11));
        until("the running kubelets' renewals", || {
            nodes
                .iter()
                .zip(&before)
                .filter(|(n, _)| **n != stopped)
                .all(|(n, b)| renew_time(&sim, n) > *b)
        })
        .await;
        let now = kubedrain::sim::controllers::leases::micro_time(clock.now());
        assert_eq!(
            renew_time(&sim, &alive).as_deref(),
            Some(now.as_str()),
            "round {round}"
        );
        let i = nodes.iter().position(|n| *n == stopped).unwrap();
        assert_eq!(
            renew_time(&sim, &stopped),
            before[i],
            "a stopped kubelet renews nothing"
        );
    }

    // The status post: within 5 minutes every Ready node's heartbeat moves; the stopped one's
    // stays where it stopped.
    let (alive_hb, stopped_hb) = (heartbeat(&sim, &alive), heartbeat(&sim, &stopped));
    clock.step(Duration::from_secs(301));
    until("the status post", || heartbeat(&sim, &alive) > alive_hb).await;
    assert_eq!(
        heartbeat(&sim, &alive),
        kubedrain::sim::clock::format_time(clock.now())
    );
    assert_eq!(heartbeat(&sim, &stopped), stopped_hb);

    // Back up: renewing again.
    set_node_ready(sim.store(), &stopped, true).unwrap();
    let before = renew_time(&sim, &stopped);
    clock.step(Duration::from_secs(11));
    until("the restarted kubelet's renewal", || {
        renew_time(&sim, &stopped) > before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_at_5000_nodes_trickle_and_spare_the_node_watch() {
    let sim = Simulator::start(SimOptions {
        generated: Some((5_000, 4)),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(60)));
    until("5,000 Leases", || sim.store().count(Kind::Lease) >= 5_000).await;
    let clock = sim.clock().clone();
    clock.freeze();
    let mut nodes = sim
        .store()
        .watch(Kind::Node, Some(sim.store().resource_version()))
        .unwrap();
    let mut leases = sim
        .store()
        .watch(Kind::Lease, Some(sim.store().resource_version()))
        .unwrap();
    // One second of simulated time: about a tenth of the Leases, and about 1/300 of the nodes.
    clock.step(Duration::from_secs(1));
    let rv0 = sim.store().resource_version();
    until("the step's writes", || {
        sim.store().resource_version() > rv0 + 300
    })
    .await;
    // Let the pass finish: two more refused passes.
    let refused = clock.refused_passes();
    until("the pass to end", || clock.refused_passes() >= refused + 2).await;
    let count = |rx: &mut tokio::sync::broadcast::Receiver<
        std::sync::Arc<kubedrain::sim::store::Change>,
    >,
                 kind: Kind| {
        let mut n = 0;
        while let Ok(c) = rx.try_recv() {
            n += usize::from(c.kind == kind);
        }
        n
    };
    let renewed = count(&mut leases.live, Kind::Lease);
    let posted = count(&mut nodes.live, Kind::Node);
    assert!(
        (300..=800).contains(&renewed),
        "about 500 Lease renewals in 1 s, got {renewed}"
    );
    assert!(
        posted <= 60,
        "about 17 node status posts in 1 s, got {posted}"
    );
}
