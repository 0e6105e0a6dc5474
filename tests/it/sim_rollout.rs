//! Rollouts of the built-in cluster's Deployments, through kube-rs on a frozen clock stepped
//! by hand: a rolling update stays within replicas + maxSurge pods and replicas −
//! maxUnavailable available (seen by a watch on every pod change), Recreate never runs old and
//! new pods together, a paused Deployment holds its template change, an undo reuses the old
//! ReplicaSet under the next revision, and revisionHistoryLimit deletes the oldest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::common::clock::{step, step_until};
use crate::drain_support::sim::client;

async fn frozen_seed() -> Simulator {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    sim.clock().freeze();
    sim
}

fn dep(sim: &Simulator, name: &str) -> Arc<Value> {
    sim.store().get(Kind::Deployment, "default", name).unwrap()
}

/// The Deployment's ReplicaSets by name: (spec.replicas, revision, revision-history).
fn replicasets(sim: &Simulator, name: &str) -> HashMap<String, (i64, String, String)> {
    let uid = dep(sim, name)["metadata"]["uid"].clone();
    let (_, rss) = sim
        .store()
        .list_where(Kind::ReplicaSet, Some("default"), |r| {
            r["metadata"]["ownerReferences"][0]["uid"] == uid
        });
    let a = |r: &Value, k: &str| {
        r["metadata"]["annotations"][format!("deployment.kubernetes.io/{k}")]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    rss.iter()
        .map(|r| {
            let n = r["metadata"]["name"].as_str().unwrap().to_string();
            let spec = r["spec"]["replicas"].as_i64().unwrap();
            (n, (spec, a(r, "revision"), a(r, "revision-history")))
        })
        .collect()
}

/// The rollout is over: every pod updated and available, the old ReplicaSets at 0, status
/// observed (what `kubectl rollout status` waits for).
fn rolled_out(sim: &Simulator, name: &str) -> bool {
    let d = dep(sim, name);
    let want = d["spec"]["replicas"].as_i64().unwrap();
    let s = &d["status"];
    let olds_at_zero = replicasets(sim, name)
        .values()
        .filter(|(spec, ..)| *spec > 0)
        .count()
        == 1;
    s["observedGeneration"] == d["metadata"]["generation"]
        && s["updatedReplicas"] == want
        && s["replicas"] == want
        && s["availableReplicas"] == want
        && olds_at_zero
}

fn progressing(sim: &Simulator, name: &str) -> (String, String) {
    let d = dep(sim, name);
    let c = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    (
        c["status"].as_str().unwrap().into(),
        c["reason"].as_str().unwrap().into(),
    )
}

async fn create(api: &Api<Deployment>, name: &str, replicas: i64, strategy: Value) {
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25.3"}]}},
        },
    });
    let d: Deployment = serde_json::from_value(d).unwrap();
    api.create(&PostParams::default(), &d).await.unwrap();
}

async fn patch(api: &Api<Deployment>, name: &str, body: Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .unwrap();
}

async fn set_image(api: &Api<Deployment>, name: &str, image: &str) {
    let body =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}});
    patch(api, name, body).await;
}

/// What a watch on a Deployment's pods saw: the most pods alive at once (not terminating, not
/// finished), the fewest Ready among them, and which template hashes ran side by side.
#[derive(Debug, Default)]
struct Seen {
    max_alive: usize,
    min_ready: usize,
    mixed: bool,
    changes: usize,
}

/// Watches the pods labelled `app=<name>` from the list's version until told to stop.
async fn watch_pods(
    pods: Api<Pod>,
    name: &str,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Seen>) {
    let lp = ListParams::default().labels(&format!("app={name}"));
    let list = pods.list(&lp).await.unwrap();
    let rv = list.metadata.resource_version.clone().unwrap();
    let mut state: HashMap<String, Pod> = list
        .items
        .into_iter()
        .map(|p| (p.metadata.name.clone().unwrap(), p))
        .collect();
    let wp = WatchParams::default().labels(&format!("app={name}"));
    let mut stream = pods.watch(&wp, &rv).await.unwrap().boxed();
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut seen = Seen {
            min_ready: usize::MAX,
            ..Default::default()
        };
        observe(&state, &mut seen);
        loop {
            let ev = tokio::select! {
                _ = &mut stopped => return seen,
                ev = stream.try_next() => ev.unwrap(),
            };
            match ev {
                Some(WatchEvent::Added(p)) | Some(WatchEvent::Modified(p)) => {
                    state.insert(p.metadata.name.clone().unwrap(), p);
                }
                Some(WatchEvent::Deleted(p)) => {
                    state.remove(p.metadata.name.as_ref().unwrap());
                }
                Some(_) => continue,
                None => panic!("the watch ended"),
            }
            seen.changes += 1;
            observe(&state, &mut seen);
        }
    });
    (stop, task)
}

fn observe(state: &HashMap<String, Pod>, seen: &mut Seen) {
    let alive: Vec<&Pod> = state
        .values()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            !matches!(phase, Some("Succeeded") | Some("Failed"))
        })
        .collect();
    let ready = alive
        .iter()
        .filter(|p| {
            let conds = p.status.as_ref().and_then(|s| s.conditions.as_ref());
            conds.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count();
    seen.max_alive = seen.max_alive.max(alive.len());
    seen.min_ready = seen.min_ready.min(ready);
    let hashes: std::collections::HashSet<&str> = state
        .values()
        .filter_map(|p| p.metadata.labels.as_ref()?.get("pod-template-hash"))
        .map(String::as_str)
        .collect();
    seen.mixed |= hashes.len() > 1;
}

/// One rolling update of 4 replicas from ready to rolled out, watched.
async fn roll(sim: &Simulator, name: &str, surge: Value, unavailable: Value) -> Seen {
    let c = client(sim).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let strategy = json!({"type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}});
    create(&deps, name, 4, strategy).await;
    step_until(sim, "the first rollout", 60, |s| rolled_out(s, name)).await;
    let (stop, seen) = watch_pods(Api::namespaced(c, "default"), name).await;
    set_image(&deps, name, "nginx:1.27.0").await;
    step_until(sim, "the second revision", 5, |s| {
        replicasets(s, name).len() == 2
    })
    .await;
    step_until(sim, "the rolling update", 120, |s| rolled_out(s, name)).await;
    stop.send(()).unwrap();
    seen.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_update_stays_within_max_surge_and_max_unavailable() {
    let sim = frozen_seed().await;
    // (maxSurge, maxUnavailable) and what they resolve to for 4 replicas: 25% is surge 1
    // (rounded up) and unavailable 1 (rounded down); 0/0 is not allowed by validation.
    let cases = [
        ("surge", json!(1), json!(0), 1, 0),
        ("unavail", json!(0), json!("50%"), 0, 2),
        ("quarter", json!("25%"), json!("25%"), 1, 1),
        ("wide", json!("50%"), json!(1), 2, 1),
    ];
    for (name, surge, unavailable, s, u) in cases {
        let seen = roll(&sim, name, surge, unavailable).await;
        assert!(
            seen.changes > 8,
            "{name}: the watch saw the rollout: {seen:?}"
        );
        assert!(
            seen.max_alive <= 4 + s,
            "{name}: more than 4 + {s} pods: {seen:?}"
        );
        assert!(
            seen.min_ready >= 4 - u,
            "{name}: fewer than 4 − {u} ready: {seen:?}"
        );
        // The bounds were used, not just respected: a surge ran extra pods, an allowed
        // unavailability let pods go before their replacements were Ready.
        if s > 0 {
            assert_eq!(seen.max_alive, 4 + s, "{name}: {seen:?}");
        }
        if u > 0 {
            assert!(seen.min_ready < 4, "{name}: {seen:?}");
        }
        let revs: Vec<String> = replicasets(&sim, name)
            .values()
            .map(|r| r.1.clone())
            .collect();
        assert!(
            revs.contains(&"1".into()) && revs.contains(&"2".into()),
            "{revs:?}"
        );
        assert_eq!(
            progressing(&sim, name),
            ("True".into(), "NewReplicaSetAvailable".into())
        );
    }
    // The deployment controller's events, in v1.25's words, step by step.
    let c = client(&sim).await;
    let events: Api<Event> = Api::namespaced(c, "default");
    let lp = ListParams::default().fields("involvedObject.name=surge,reason=ScalingReplicaSet");
    let msgs: Vec<String> = events
        .list(&lp)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    let rss = replicasets(&sim, "surge");
    let name_of = |rev: &str| rss.iter().find(|(_, r)| r.1 == rev).unwrap().0.clone();
    let (first, second) = (name_of("1"), name_of("2"));
    for m in [
        format!("Scaled up replica set {first} to 4"),
        format!("Scaled up replica set {second} to 1"),
        format!("Scaled down replica set {first} to 3"),
        format!("Scaled up replica set {second} to 4"),
        format!("Scaled down replica set {first} to 0"),
    ] {
        assert!(msgs.contains(&m), "{m:?} not in {msgs:#?}");
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_never_runs_old_and_new_pods_together() {
    let sim = frozen_seed().await;
    let c = client(&sim).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    create(&deps, "batch", 3, json!({"type": "Recreate"})).await;
    step_until(&sim, "the first rollout", 60, |s| rolled_out(s, "batch")).await;
    let (stop, seen) = watch_pods(Api::namespaced(c, "default"), "batch").await;
    set_image(&deps, "batch", "nginx:1.27.0").await;
    step_until(&sim, "the recreate", 120, |s| rolled_out(s, "batch")).await;
    stop.send(()).unwrap();
    let seen = seen.await.unwrap();
    assert!(!seen.mixed, "old and new pods side by side: {seen:?}");
    assert_eq!(seen.min_ready, 0, "all went down first: {seen:?}");
    assert!(seen.max_alive <= 3, "{seen:?}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_holds_until_resumed() {
    let sim = frozen_seed().await;
    let c = client(&sim).await;
    let deps: Api<Deployment> = Api::namespaced(c, "default");
    create(&deps, "held", 2, json!({"type": "RollingUpdate"})).await;
    step_until(&sim, "the first rollout", 60, |s| rolled_out(s, "held")).await;
    patch(&deps, "held", json!({"spec": {"paused": true}})).await;
    set_image(&deps, "held", "nginx:1.27.0").await;
    // Observed, yet held: thirty simulated seconds on there is still one ReplicaSet.
    step_until(&sim, "the pause observed", 5, |s| {
        progressing(s, "held") == ("Unknown".into(), "DeploymentPaused".into())
            && dep(s, "held")["status"]["observedGeneration"]
                == dep(s, "held")["metadata"]["generation"]
    })
    .await;
    step(&sim, 30).await;
    step(&sim, 0).await;
    assert_eq!(
        replicasets(&sim, "held").len(),
        1,
        "paused: no new ReplicaSet"
    );
    assert_eq!(dep(&sim, "held")["status"]["updatedReplicas"], Value::Null);
    patch(&deps, "held", json!({"spec": {"paused": false}})).await;
    step_until(&sim, "resumed and rolled out", 60, |s| {
        replicasets(s, "held").len() == 2 && rolled_out(s, "held")
    })
    .await;
    assert_eq!(
        progressing(&sim, "held"),
        ("True".into(), "NewReplicaSetAvailable".into())
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_reuses_the_old_replicaset_under_the_next_revision() {
    let sim = frozen_seed().await;
    let c = client(&sim).await;
    let deps: Api<Deployment> = Api::namespaced(c, "default");
    create(&deps, "undone", 2, json!({"type": "RollingUpdate"})).await;
    step_until(&sim, "revision 1", 60, |s| rolled_out(s, "undone")).await;
    let first = replicasets(&sim, "undone").into_keys().next().unwrap();
    set_image(&deps, "undone", "nginx:1.27.0").await;
    step_until(&sim, "revision 2", 60, |s| {
        replicasets(s, "undone").len() == 2 && rolled_out(s, "undone")
    })
    .await;
    // What `kubectl rollout undo` does: the Deployment gets revision 1's template back.
    let rs = sim
        .store()
        .get(Kind::ReplicaSet, "default", &first)
        .unwrap();
    let mut template = rs["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    patch(&deps, "undone", json!({"spec": {"template": template}})).await;
    step_until(&sim, "rolled back", 60, |s| rolled_out(s, "undone")).await;
    let rss = replicasets(&sim, "undone");
    assert_eq!(rss.len(), 2, "no new ReplicaSet: {rss:?}");
    assert_eq!(rss[&first], (2, "3".into(), "1".into()), "{rss:?}");
    let d = dep(&sim, "undone");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    // revisionHistoryLimit 1: after the next rollout only one old ReplicaSet is kept, the
    // newest (revision 3); revision 2's is deleted.
    patch(
        &deps,
        "undone",
        json!({"spec": {"revisionHistoryLimit": 1}}),
    )
    .await;
    set_image(&deps, "undone", "nginx:1.27.1").await;
    step_until(&sim, "revision 4, revision 2 gone", 60, |s| {
        rolled_out(s, "undone") && replicasets(s, "undone").len() == 2
    })
    .await;
    let mut revs: Vec<String> = replicasets(&sim, "undone")
        .into_values()
        .map(|r| r.1)
        .collect();
    revs.sort();
    assert_eq!(revs, ["3", "4"]);
    sim.stop().await;
}
