//! The `pods/eviction` subresource over HTTP: the real server's PodDisruptionBudget rules.

use crate::common;

use common::*;
use kubedrain::sim::Kind;
use serde_json::{Value, json};

fn eviction(name: &str, ns: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}})
}

async fn evict(h: &Http, ns: &str, name: &str) -> Resp {
    h.post(
        &format!("/api/v1/namespaces/{ns}/pods/{name}/eviction"),
        &eviction(name, ns),
    )
    .await
}

#[tokio::test]
async fn eviction_follows_pdb_rules() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "web-1", "web", "n1"));
    put(&sim, Kind::Pod, pod("default", "web-2", "web", "n1"));
    put(&sim, Kind::Pod, pod("default", "web-pending", "web", ""));
    put(&sim, Kind::Pod, pod("default", "db-1", "db", "n1"));
    put(&sim, Kind::Pod, pod("default", "free", "free", "n1"));
    put(
        &sim,
        Kind::PodDisruptionBudget,
        pdb("default", "web-pdb", "web", 0),
    );
    put(
        &sim,
        Kind::PodDisruptionBudget,
        pdb("default", "db-a", "db", 1),
    );
    put(
        &sim,
        Kind::PodDisruptionBudget,
        pdb("default", "db-b", "db", 1),
    );

    let r = evict(&h, "default", "web-1").await;
    assert_status(&r, 429, "TooManyRequests");
    assert_eq!(
        r.body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        r.body["details"]["causes"],
        json!([{"reason": "DisruptionBudget", "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently"}])
    );
    assert!(
        sim.store().get(Kind::Pod, "default", "web-1").unwrap()["metadata"]["deletionTimestamp"]
            .is_null()
    );

    let r = evict(&h, "default", "db-1").await;
    assert_eq!(r.code, 500);
    assert_eq!(
        r.body["message"],
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    );

    assert_status(&evict(&h, "default", "ghost").await, 404, "NotFound");

    // Pending pods ignore the PDB: deleted at once (unscheduled).
    let r = evict(&h, "default", "web-pending").await;
    assert_eq!(r.code, 201, "{r:?}");
    assert_eq!(r.body["status"], "Success");
    assert!(
        sim.store()
            .get(Kind::Pod, "default", "web-pending")
            .is_none()
    );

    // A terminating pod ignores the PDB too.
    sim.store()
        .update(Kind::Pod, "default", "web-2", |p| {
            p["metadata"]["deletionTimestamp"] = json!("2030-01-01T00:00:00Z");
            p["metadata"]["deletionGracePeriodSeconds"] = json!(30);
            Ok(())
        })
        .unwrap();
    assert_eq!(evict(&h, "default", "web-2").await.code, 201);

    // Allowed: the budget is decremented, the pod starts terminating with its own grace.
    sim.store()
        .update(Kind::PodDisruptionBudget, "default", "web-pdb", |p| {
            p["status"]["disruptionsAllowed"] = json!(1);
            Ok(())
        })
        .unwrap();
    let dry = h
        .post(
            "/api/v1/namespaces/default/pods/web-1/eviction?dryRun=All",
            &eviction("web-1", "default"),
        )
        .await;
    assert_eq!(dry.code, 201);
    assert_eq!(
        sim.store()
            .get(Kind::PodDisruptionBudget, "default", "web-pdb")
            .unwrap()["status"]["disruptionsAllowed"],
        1
    );
    assert!(
        sim.store().get(Kind::Pod, "default", "web-1").unwrap()["metadata"]["deletionTimestamp"]
            .is_null()
    );
    let r = evict(&h, "default", "web-1").await;
    assert_eq!(r.code, 201);
    let budget = sim
        .store()
        .get(Kind::PodDisruptionBudget, "default", "web-pdb")
        .unwrap();
    assert_eq!(budget["status"]["disruptionsAllowed"], 0);
    assert!(budget["status"]["disruptedPods"]["web-1"].is_string());
    let p = sim.store().get(Kind::Pod, "default", "web-1").unwrap();
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30);

    // deleteOptions.gracePeriodSeconds wins; no PDB means no check.
    let body = json!({"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "free"}, "deleteOptions": {"gracePeriodSeconds": 0}});
    assert_eq!(
        h.post("/api/v1/namespaces/default/pods/free/eviction", &body)
            .await
            .code,
        201
    );
    assert!(sim.store().get(Kind::Pod, "default", "free").is_none());

    // A PDB its controller has not seen yet: 429, retry after 10s.
    put(&sim, Kind::Pod, pod("default", "new-1", "new", "n1"));
    let mut fresh = pdb("default", "new-pdb", "new", 5);
    fresh["status"]["observedGeneration"] = json!(0);
    put(&sim, Kind::PodDisruptionBudget, fresh);
    let r = evict(&h, "default", "new-1").await;
    assert_status(&r, 429, "TooManyRequests");
    assert_eq!(r.body["details"]["retryAfterSeconds"], 10);
    assert_eq!(
        r.body["details"]["causes"][0]["message"],
        "The disruption budget new-pdb is still being processed by the server."
    );
    assert_eq!(r.headers.get("retry-after").unwrap(), "10");
    assert_eq!(sim.stats().count("create", "pods/eviction"), 9);
}
