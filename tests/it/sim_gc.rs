//! Garbage collection and namespace termination as on a real cluster: deleting a Deployment
//! takes its ReplicaSets and pods (background or foreground), `orphan` leaves them without
//! the owner, a deleted namespace turns `Terminating`, empties and goes; `deletecollection`;
//! the defaults the API server fills on create. The clock is stepped, never slept on.

use std::time::Duration;

use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::{Value, json};

use crate::common::{Http, assert_status};

async fn sim() -> (Simulator, Http) {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let http = Http::new(&sim);
    (sim, http)
}

/// Steps the simulated clock 2 s at a time until `f` holds (at most 60 s of real time).
async fn step_until(sim: &Simulator, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        sim.clock().advance(Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn deployment(ns: &str, name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}})
}

fn pods_of(sim: &Simulator, ns: &str, app: &str) -> Vec<std::sync::Arc<Value>> {
    sim.store()
        .list(Kind::Pod, Some(ns))
        .1
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["app"] == app)
        .collect()
}

fn terminating(p: &Value) -> bool {
    !p["metadata"]["deletionTimestamp"].is_null()
}

/// Creates `name` with 3 replicas and waits until its 3 pods run.
async fn running_deployment(sim: &Simulator, http: &Http, ns: &str, name: &str) {
    let r = http
        .post(
            &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
            &deployment(ns, name, 3),
        )
        .await;
    assert_eq!(r.code, 201, "{r:?}");
    step_until(sim, "3 running pods", || {
        let ps = pods_of(sim, ns, name);
        ps.len() == 3 && ps.iter().all(|p| p["status"]["phase"] == "Running")
    })
    .await;
}

fn replicasets_of(sim: &Simulator, ns: &str, app: &str) -> usize {
    sim.store()
        .list(Kind::ReplicaSet, Some(ns))
        .1
        .iter()
        .filter(|r| r["metadata"]["labels"]["app"] == app)
        .count()
}

#[tokio::test]
async fn background_delete_takes_replicasets_and_pods_gracefully() {
    let (sim, http) = sim().await;
    running_deployment(&sim, &http, "default", "bg").await;
    let r = http
        .send(
            "DELETE",
            "/apis/apps/v1/namespaces/default/deployments/bg",
            &[],
            None,
        )
        .await;
    assert_eq!(
        (r.code, r.body["status"].as_str()),
        (200, Some("Success")),
        "{r:?}"
    );
    // The ReplicaSet goes at once; its pods get their grace period.
    step_until(&sim, "rs gone and pods terminating", || {
        replicasets_of(&sim, "default", "bg") == 0
            && pods_of(&sim, "default", "bg")
                .iter()
                .all(|p| terminating(p))
    })
    .await;
    let p = pods_of(&sim, "default", "bg");
    assert!(!p.is_empty(), "pods wait for their grace period");
    assert_eq!(p[0]["metadata"]["deletionGracePeriodSeconds"], 30);
    step_until(&sim, "pods gone", || {
        pods_of(&sim, "default", "bg").is_empty()
    })
    .await;
    assert_eq!(
        replicasets_of(&sim, "default", "bg"),
        0,
        "nothing recreated them"
    );
}

#[tokio::test]
async fn foreground_delete_keeps_the_owner_until_dependents_are_gone() {
    let (sim, http) = sim().await;
    running_deployment(&sim, &http, "default", "fg").await;
    let r = http
        .send(
            "DELETE",
            "/apis/apps/v1/namespaces/default/deployments/fg",
            &[("content-type", "application/json")],
            Some(r#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}"#),
        )
        .await;
    assert_eq!(r.code, 200);
    assert_eq!(
        r.body["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert!(!r.body["metadata"]["deletionTimestamp"].is_null());
    // While pods terminate, the ReplicaSet (foreground too) and the Deployment stay.
    step_until(&sim, "pods terminating", || {
        let ps = pods_of(&sim, "default", "fg");
        !ps.is_empty() && ps.iter().all(|p| terminating(p))
    })
    .await;
    let dep = sim
        .store()
        .get(Kind::Deployment, "default", "fg")
        .expect("owner waits");
    assert!(terminating(&dep));
    step_until(&sim, "deployment gone", || {
        sim.store().get(Kind::Deployment, "default", "fg").is_none()
    })
    .await;
    assert!(
        pods_of(&sim, "default", "fg").is_empty(),
        "dependents went first"
    );
    assert_eq!(replicasets_of(&sim, "default", "fg"), 0);
}

#[tokio::test]
async fn orphan_delete_leaves_dependents_without_the_owner() {
    let (sim, http) = sim().await;
    running_deployment(&sim, &http, "default", "or").await;
    let r = http
        .send(
            "DELETE",
            "/apis/apps/v1/namespaces/default/deployments/or?propagationPolicy=Orphan",
            &[],
            None,
        )
        .await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["metadata"]["finalizers"], json!(["orphan"]));
    let unowned = |o: &Value| {
        o["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|a| a.is_empty())
    };
    step_until(&sim, "deployment gone, its ReplicaSet unowned", || {
        let rss: Vec<_> = sim
            .store()
            .list(Kind::ReplicaSet, Some("default"))
            .1
            .into_iter()
            .filter(|r| r["metadata"]["labels"]["app"] == "or")
            .collect();
        sim.store().get(Kind::Deployment, "default", "or").is_none()
            && rss.len() == 1
            && unowned(&rss[0])
    })
    .await;
    // The ReplicaSet keeps its pods: nothing terminates.
    let ps = pods_of(&sim, "default", "or");
    assert_eq!(ps.len(), 3);
    assert!(ps.iter().all(|p| !terminating(p) && !unowned(p)));
}

#[tokio::test]
async fn a_deleted_namespace_terminates_empties_and_goes() {
    let (sim, http) = sim().await;
    let r = http
        .post("/api/v1/namespaces", &json!({"metadata": {"name": "team"}}))
        .await;
    assert_eq!(r.code, 201);
    assert_eq!(r.body["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(r.body["status"]["phase"], "Active");
    running_deployment(&sim, &http, "team", "app").await;
    let r = http
        .send("DELETE", "/api/v1/namespaces/team", &[], None)
        .await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["kind"], "Namespace");
    assert_eq!(r.body["status"]["phase"], "Terminating");
    // Nothing new may be created in it.
    let pod = json!({"metadata": {"name": "late"}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
    let r = http.post("/api/v1/namespaces/team/pods", &pod).await;
    assert_status(&r, 403, "Forbidden");
    assert_eq!(
        r.body["message"],
        "pods \"late\" is forbidden: unable to create new content in namespace team because it is being terminated"
    );
    let r = http
        .send("DELETE", "/api/v1/namespaces/team", &[], None)
        .await;
    assert_status(&r, 409, "Conflict");
    step_until(&sim, "pods terminating, workloads gone", || {
        sim.store()
            .list(Kind::Deployment, Some("team"))
            .1
            .is_empty()
            && sim
                .store()
                .list(Kind::ReplicaSet, Some("team"))
                .1
                .is_empty()
            && pods_of(&sim, "team", "app").iter().all(|p| terminating(p))
    })
    .await;
    let ns = http.get("/api/v1/namespaces/team").await;
    assert_eq!(ns.body["status"]["phase"], "Terminating");
    step_until(&sim, "namespace gone", || {
        sim.store().get(Kind::Namespace, "", "team").is_none()
    })
    .await;
    for kind in Kind::ALL.into_iter().filter(|k| k.namespaced()) {
        assert!(
            sim.store().list(kind, Some("team")).1.is_empty(),
            "{kind:?} left in team"
        );
    }
    assert_status(
        &http
            .send("DELETE", "/api/v1/namespaces/default", &[], None)
            .await,
        403,
        "Forbidden",
    );
}

#[tokio::test]
async fn deletecollection_deletes_what_the_selector_matches() {
    let (sim, http) = sim().await;
    running_deployment(&sim, &http, "default", "dc").await;
    let before_others = sim
        .store()
        .list(Kind::Pod, None)
        .1
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] != "dc" && !terminating(p))
        .count();
    let r = http
        .send(
            "DELETE",
            "/api/v1/namespaces/default/pods?labelSelector=app%3Ddc",
            &[],
            None,
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    assert_eq!(r.body["kind"], "PodList");
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let others = sim
        .store()
        .list(Kind::Pod, None)
        .1
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] != "dc" && !terminating(p))
        .count();
    assert_eq!(others, before_others, "other pods untouched");
    assert!(
        pods_of(&sim, "default", "dc")
            .iter()
            .filter(|p| !terminating(p))
            .count()
            <= 3
    );
    // The ReplicaSet replaces them, as on a real cluster.
    step_until(&sim, "replacements", || {
        pods_of(&sim, "default", "dc")
            .iter()
            .filter(|p| !terminating(p) && p["status"]["phase"] == "Running")
            .count()
            == 3
    })
    .await;
    // kube-rs' delete_collection parses the answer.
    let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();
    let api: kube::Api<k8s_openapi::api::apps::v1::ReplicaSet> =
        kube::Api::namespaced(client, "default");
    let lp = kube::api::ListParams::default().labels("app=dc");
    let out = api
        .delete_collection(&kube::api::DeleteParams::default(), &lp)
        .await
        .unwrap();
    assert_eq!(out.left().map(|l| l.items.len()), Some(1));
}

#[tokio::test]
async fn the_api_server_fills_defaults_on_create() {
    let (sim, http) = sim().await;
    let d = http
        .post(
            "/apis/apps/v1/namespaces/default/deployments",
            &deployment("default", "df", 1),
        )
        .await
        .body;
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(
        (
            d["spec"]["revisionHistoryLimit"].clone(),
            d["spec"]["progressDeadlineSeconds"].clone()
        ),
        (json!(10), json!(600))
    );
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        (
            c["imagePullPolicy"].as_str(),
            c["terminationMessagePath"].as_str()
        ),
        (Some("IfNotPresent"), Some("/dev/termination-log"))
    );
    step_until(&sim, "revision annotation", || {
        sim.store()
            .get(Kind::Deployment, "default", "df")
            .is_some_and(|d| {
                d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
            })
    })
    .await;
    let job = json!({"metadata": {"name": "once"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    let j = http
        .post("/apis/batch/v1/namespaces/default/jobs", &job)
        .await
        .body;
    let uid = j["metadata"]["uid"].as_str().unwrap();
    assert_eq!(j["spec"]["selector"]["matchLabels"]["controller-uid"], uid);
    assert_eq!(
        j["spec"]["template"]["metadata"]["labels"]["job-name"],
        "once"
    );
    assert_eq!(
        (
            j["spec"]["backoffLimit"].clone(),
            j["spec"]["completions"].clone(),
            j["spec"]["parallelism"].clone()
        ),
        (json!(6), json!(1), json!(1))
    );
    let pod = json!({"metadata": {"name": "solo"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    let p = http
        .post("/api/v1/namespaces/default/pods", &pod)
        .await
        .body;
    let s = &p["spec"];
    for (field, want) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
        ("serviceAccountName", json!("default")),
        ("enableServiceLinks", json!(true)),
    ] {
        assert_eq!(s[field], want, "{field}");
    }
    assert_eq!(
        s["containers"][0]["imagePullPolicy"], "Always",
        "no tag means :latest"
    );
    let tol: Vec<(&str, i64)> = s["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap(),
                t["tolerationSeconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tol,
        [
            ("node.kubernetes.io/not-ready", 300),
            ("node.kubernetes.io/unreachable", 300)
        ]
    );
}

#[tokio::test]
async fn a_dependent_whose_owner_is_gone_is_collected() {
    let (sim, http) = sim().await;
    let mut p = json!({"metadata": {"name": "late", "labels": {"app": "late"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "gone", "uid": "00000000-0000-4000-a000-000000000000", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}});
    assert_eq!(
        http.post("/api/v1/namespaces/default/pods", &p).await.code,
        201
    );
    // With a second owner that exists, only the dangling reference goes.
    let node = sim.store().get(Kind::Node, "", "node0").unwrap();
    p["metadata"]["name"] = json!("kept");
    p["metadata"]["ownerReferences"].as_array_mut().unwrap().push(json!({"apiVersion": "v1", "kind": "Node", "name": "node0", "uid": node["metadata"]["uid"]}));
    assert_eq!(
        http.post("/api/v1/namespaces/default/pods", &p).await.code,
        201
    );
    step_until(&sim, "late collected, kept unlinked", || {
        let late = sim.store().get(Kind::Pod, "default", "late");
        let kept = sim.store().get(Kind::Pod, "default", "kept");
        late.is_none_or(|p| terminating(&p))
            && kept.is_some_and(|p| {
                !terminating(&p) && p["metadata"]["ownerReferences"].as_array().unwrap().len() == 1
            })
    })
    .await;
}
