//! Workloads: rollouts, what kubectl creates, files of pending workloads, graceful deletes
//! and stopping the controllers.

use super::*;

#[tokio::test]
async fn rollout_restart_replaces_pods_with_a_new_replicaset() {
    let (store, _c) = start("seed", 20.0);
    store
        .update(Kind::Deployment, "default", "http-spring", |d| {
            d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
                json!("2026-01-01T00:00:00Z");
            Ok(())
        })
        .unwrap();
    until("new revision rolled out", 30, || {
        let (_, rss) = store.list(Kind::ReplicaSet, Some("default"));
        let old = rss
            .iter()
            .find(|r| r["metadata"]["name"] == "http-spring-766c586cb9")
            .unwrap();
        let live: Vec<_> = pods(&store, Some("default"))
            .into_iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect();
        rss.len() == 2
            && old["spec"]["replicas"] == 0
            && live.len() == 10
            && live.iter().all(|p| {
                running_ready(p) && p["metadata"]["labels"]["pod-template-hash"] != "766c586cb9"
            })
    })
    .await;
    let d = store
        .get(Kind::Deployment, "default", "http-spring")
        .unwrap();
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    until("deployment status", 10, || {
        let d = store
            .get(Kind::Deployment, "default", "http-spring")
            .unwrap();
        d["status"]["updatedReplicas"] == 10 && d["status"]["availableReplicas"] == 10
    })
    .await;
}

#[tokio::test]
async fn workloads_created_by_kubectl_come_up() {
    let (store, _c) = start("seed", 20.0);
    let template = |app: &str| json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": app, "image": "nginx"}]}});
    store
        .create(Kind::Deployment, json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template("web")}}))
        .unwrap();
    store
        .create(Kind::DaemonSet, json!({"metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")}}))
        .unwrap();
    let mut job_tpl = template("once");
    job_tpl["spec"]["restartPolicy"] = json!("Never");
    store
        .create(Kind::Job, json!({"metadata": {"name": "once", "namespace": "default"}, "spec": {"template": job_tpl}}))
        .unwrap();
    store
        .create(
            Kind::Pod,
            json!({"metadata": {"name": "solo", "namespace": "default"},
            "spec": {"containers": [{"name": "solo", "image": "busybox"}]}}),
        )
        .unwrap();
    until("all up", 30, || {
        let ps = pods(&store, Some("default"));
        let up = |prefix: &str| {
            ps.iter()
                .filter(|p| {
                    p["metadata"]["name"].as_str().unwrap().starts_with(prefix) && running_ready(p)
                })
                .count()
        };
        up("web-") == 3 && up("agent-") == 2 && up("solo") == 1
    })
    .await;
    until("job done", 30, || {
        store.get(Kind::Job, "default", "once").unwrap()["status"]["succeeded"] == 1
    })
    .await;
    until("deployment available", 10, || {
        store.get(Kind::Deployment, "default", "web").unwrap()["status"]["availableReplicas"] == 3
    })
    .await;
    // A new node gets the DaemonSet pod.
    let mut n = (*store.get(Kind::Node, "", "node1").unwrap()).clone();
    n["metadata"] = json!({"name": "node2", "labels": {"kubernetes.io/hostname": "node2", "kubernetes.io/os": "linux"}});
    n["spec"] = json!({"podCIDR": "10.44.0.0/16"});
    n["status"]["addresses"] = json!([{"type": "InternalIP", "address": "192.168.138.131"}]);
    store.create(Kind::Node, n).unwrap();
    until("agent on node2", 20, || {
        pods(&store, Some("default")).iter().any(|p| {
            p["spec"]["nodeName"] == "node2"
                && p["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("agent-")
                && running_ready(p)
        })
    })
    .await;
    let ds = pods(&store, Some("kube-system"))
        .into_iter()
        .filter(|p| p["spec"]["nodeName"] == "node2")
        .count();
    assert_eq!(ds, 2, "kube-proxy and weave-net on the new node");
}

#[tokio::test]
async fn dropping_controllers_stops_them() {
    let (store, c) = start("seed", 20.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(c);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = store.count(Kind::Pod);
    store
        .delete(Kind::Pod, "default", "http-spring-766c586cb9-2h8rs")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        store.count(Kind::Pod),
        before - 1,
        "no replacement once stopped"
    );
}

#[tokio::test]
async fn pending_workloads_from_a_file_are_scheduled_and_started() {
    let yaml = "
nodes:
  - {name: a, capacity: {cpu: 1, memory: 2Gi}}
  - {name: b, capacity: {cpu: 1, memory: 2Gi}}
deployments:
  - name: web
    replicas: 4
    pending: true
    readinessDelaySeconds: 2
    containers: [{name: web, image: nginx, requests: {cpu: 300m}}]
";
    let store = Store::new(Arc::new(SimClock::new(20.0)), 10_000);
    scenario::parse("t", "t.yaml", yaml)
        .unwrap()
        .populate(&store)
        .unwrap();
    assert!(
        pods(&store, None)
            .iter()
            .all(|p| p["spec"]["nodeName"].is_null())
    );
    let _c = controllers::spawn(store.clone());
    until("spread and running", 20, || {
        let ps = pods(&store, None);
        ps.len() == 4 && ps.iter().all(|p| running_ready(p)) && on(&store, "a", "web-") == 2
    })
    .await;
    // Deleting a node removes its pods; only one replacement fits on the other node.
    store.delete(Kind::Node, "", "a").unwrap();
    until("replacements pending", 20, || {
        on(&store, "a", "web-") == 0
            && on(&store, "b", "web-") == 3
            && pods(&store, None)
                .iter()
                .filter(|p| p["spec"]["nodeName"].is_null())
                .count()
                == 1
    })
    .await;
    let msg = events(&store, "FailedScheduling")[0]["message"].clone();
    assert_eq!(
        msg,
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    );
}

#[tokio::test]
async fn a_second_delete_can_shorten_the_grace_period() {
    // Real time (speed 1): the shorter grace (1 s) and the pod's 5 s shutdown are far apart,
    // so a loaded machine cannot blur them.
    let (store, _c) = start("mixed", 1.0);
    // postgres: 60 s grace, 5 s shutdown → removed after ~5 s; shorten to 1 s.
    delete_graceful(&store, "data", "postgres-0", 60);
    tokio::time::sleep(Duration::from_millis(100)).await;
    delete_graceful(&store, "data", "postgres-0", 1);
    let t = Instant::now();
    let pod = store.get(Kind::Pod, "data", "postgres-0").unwrap();
    assert_eq!(
        pod["metadata"]["deletionGracePeriodSeconds"], 1,
        "as the API server records it"
    );
    let uid = pod["metadata"]["uid"].clone();
    until("gone after the shorter grace", 20, || {
        store
            .get(Kind::Pod, "data", "postgres-0")
            .is_none_or(|p| p["metadata"]["uid"] != uid)
    })
    .await;
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "removed after the 1 s grace, not the 5 s shutdown: {:?}",
        t.elapsed()
    );
}
