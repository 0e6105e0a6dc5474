//! The simulator's HTTP API over real HTTP: discovery, lists with selectors and paging, Status
//! errors, faults, patches and deletes (evictions: sim_eviction.rs, Tables: sim_tables.rs).

use crate::common;

use common::*;
use kubedrain::sim::Kind;
use serde_json::{Value, json};

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn discovery_lists_what_is_served() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    let v = h.get("/version").await;
    assert_eq!(v.code, 200);
    assert_eq!(v.body["gitVersion"], "v1.25.4");
    assert_eq!(v.body["major"], "1");
    assert_eq!(v.body["minor"], "25");
    assert_eq!(v.body["platform"], "linux/amd64");
    assert_eq!(h.get("/api").await.body["versions"], json!(["v1"]));
    let core = h.get("/api/v1").await.body;
    let res = core["resources"].as_array().unwrap();
    let ev = res
        .iter()
        .find(|r| r["name"] == "pods/eviction")
        .expect("pods/eviction listed");
    assert_eq!(
        (
            ev["group"].as_str(),
            ev["version"].as_str(),
            ev["kind"].as_str()
        ),
        (Some("policy"), Some("v1"), Some("Eviction"))
    );
    let pods = res.iter().find(|r| r["name"] == "pods").unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["namespaced"], true);
    assert!(pods["verbs"].as_array().unwrap().contains(&json!("watch")));
    let nodes = res.iter().find(|r| r["name"] == "nodes").unwrap();
    assert_eq!(nodes["namespaced"], false);
    let groups = h.get("/apis").await.body;
    let gnames: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        gnames,
        [
            "policy",
            "apps",
            "batch",
            "discovery.k8s.io",
            "coordination.k8s.io",
            "authorization.k8s.io"
        ]
    );
    let authz = h.get("/apis/authorization.k8s.io/v1").await.body;
    assert_eq!(authz["resources"][0]["name"], "selfsubjectaccessreviews");
    let apps = h.get("/apis/apps/v1").await.body;
    assert_eq!(apps["groupVersion"], "apps/v1");
    assert!(
        apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "daemonsets" && r["shortNames"] == json!(["ds"]))
    );
    let policy = h.get("/apis/policy/v1").await.body;
    assert!(
        policy["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "poddisruptionbudgets")
    );
    assert_status(&h.get("/apis/apps/v2").await, 404, "NotFound");
    let v2 = h.get("/openapi/v2").await;
    assert_eq!(v2.code, 200);
    assert_eq!(v2.body["swagger"], "2.0");
    assert!(v2.body["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
    let oa = h.get("/openapi/v3").await.body;
    let url = oa["paths"]["apis/policy/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = h.get(&url).await.body;
    let op = &doc["paths"]["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"]["patch"];
    assert_eq!(
        op["x-kubernetes-group-version-kind"]["kind"],
        "PodDisruptionBudget"
    );
    assert!(
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    assert_status(&h.get("/api/v1/widgets").await, 404, "NotFound");
    assert_eq!(h.get("/healthz").await.code, 200);
    assert_eq!(h.get("/readyz").await.code, 200);
}

#[tokio::test]
async fn list_filters_by_selectors_and_pages_consistently() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    for i in 0..12 {
        let node = if i % 2 == 0 { "n1" } else { "n2" };
        let app = if i % 3 == 0 { "web" } else { "db" };
        put(
            &sim,
            Kind::Pod,
            pod(
                if i < 10 { "default" } else { "other" },
                &format!("p{i:02}"),
                app,
                node,
            ),
        );
    }
    put(&sim, Kind::Pod, pod("default", "pending", "web", ""));
    let all = h.get("/api/v1/pods").await;
    assert_eq!(all.body["kind"], "PodList");
    assert_eq!(all.body["items"].as_array().unwrap().len(), 13);
    assert!(all.body["metadata"]["resourceVersion"].as_str().is_some());

    let by_node = h.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").await;
    assert_eq!(
        names(&by_node.body),
        ["p00", "p02", "p04", "p06", "p08", "p10"]
    );
    let ns = h.get("/api/v1/namespaces/other/pods").await;
    assert_eq!(names(&ns.body), ["p10", "p11"]);
    let not_running = h
        .get("/api/v1/pods?fieldSelector=status.phase!%3DRunning")
        .await;
    assert_eq!(names(&not_running.body), ["pending"]);
    let web_n2 = h
        .get("/api/v1/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3D%3Dn2")
        .await;
    assert_eq!(names(&web_n2.body), ["p03", "p09"]);
    let set = h
        .get("/api/v1/pods?labelSelector=app%20in%20(web)%2C!missing")
        .await;
    assert_eq!(set.body["items"].as_array().unwrap().len(), 5);
    let notin = h
        .get("/api/v1/pods?labelSelector=app%20notin%20(web)")
        .await;
    assert_eq!(notin.body["items"].as_array().unwrap().len(), 8);
    let ns_field = h
        .get("/api/v1/pods?fieldSelector=metadata.namespace%3Dother,metadata.name!%3Dp10")
        .await;
    assert_eq!(names(&ns_field.body), ["p11"]);

    assert_status(
        &h.get("/api/v1/pods?labelSelector=app%20in%20(web").await,
        400,
        "BadRequest",
    );
    assert_status(
        &h.get("/api/v1/pods?fieldSelector=spec.bogus%3D1").await,
        400,
        "BadRequest",
    );

    // Paging: 5 + 5 + 3, and a pod created between pages does not show up (snapshot).
    let mut seen = Vec::new();
    let mut path = "/api/v1/pods?limit=5".to_string();
    let mut pages = 0;
    loop {
        let r = h.get(&path).await;
        assert_eq!(r.code, 200);
        pages += 1;
        seen.extend(names(&r.body));
        if pages == 1 {
            assert_eq!(r.body["metadata"]["remainingItemCount"], 8);
            put(&sim, Kind::Pod, pod("default", "late", "web", "n1"));
        }
        match r.body["metadata"]["continue"].as_str() {
            Some(c) => path = format!("/api/v1/pods?limit=5&continue={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 13);
    assert!(!seen.contains(&"late".to_string()));
    assert_status(
        &h.get("/api/v1/pods?limit=5&continue=garbage").await,
        400,
        "BadRequest",
    );
}

#[tokio::test]
async fn errors_are_status_objects() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    let r = h.get("/api/v1/namespaces/default/pods/nope").await;
    assert_status(&r, 404, "NotFound");
    assert_eq!(r.body["message"], "pods \"nope\" not found");
    assert_eq!(r.body["details"], json!({"name": "nope", "kind": "pods"}));
    let r = h
        .get("/apis/apps/v1/namespaces/default/deployments/web")
        .await;
    assert_eq!(r.body["message"], "deployments.apps \"web\" not found");
    assert_eq!(r.body["details"]["group"], "apps");
    assert_status(
        &h.send("PUT", "/api/v1/pods", &[], Some("{}")).await,
        405,
        "MethodNotAllowed",
    );
    let created = h
        .post(
            "/api/v1/namespaces/default/pods",
            &pod("default", "x", "a", ""),
        )
        .await;
    assert_eq!(created.code, 201);
    assert_eq!(created.body["status"]["phase"], "Pending");
    assert_status(
        &h.post(
            "/api/v1/namespaces/default/pods",
            &pod("default", "x", "a", ""),
        )
        .await,
        409,
        "AlreadyExists",
    );
    assert_status(
        &h.send(
            "POST",
            "/api/v1/namespaces/default/pods",
            &[("content-type", "application/json")],
            Some("{not json"),
        )
        .await,
        400,
        "BadRequest",
    );
    let ns = h
        .post("/api/v1/namespaces", &json!({"metadata": {"name": "team"}}))
        .await;
    assert_eq!(ns.code, 201);
    assert_eq!(ns.body["status"]["phase"], "Active");
    // Faults: forced codes and hangs by path pattern, counted.
    let id = sim.faults().forbid("/api/v1/nodes*");
    assert_status(&h.get("/api/v1/nodes").await, 403, "Forbidden");
    assert_eq!(sim.faults().hits(id), 1);
    sim.faults().remove(id);
    assert_eq!(h.get("/api/v1/nodes").await.code, 200);
    sim.faults().fail("/api/v1/namespaces/*/pods/x", 500);
    assert_status(
        &h.get("/api/v1/namespaces/default/pods/x").await,
        500,
        "InternalError",
    );
    sim.faults().clear();
    sim.faults().hang("/api/v1/namespaces/default/pods/x");
    let hung = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        h.get("/api/v1/namespaces/default/pods/x"),
    )
    .await;
    assert!(hung.is_err(), "a hung request must not answer");
    sim.faults().clear();
    assert!(sim.stats().count("get", "pods") >= 2);
    assert!(sim.stats().count("create", "namespaces") == 1);
    assert!(
        sim.stats()
            .log()
            .iter()
            .any(|r| r.status == 403 && r.path == "/api/v1/nodes")
    );
}

#[tokio::test]
async fn patch_types_cordon_and_uncordon() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Node, node("n1", true, &[], "v1.25.4"));
    let path = "/api/v1/nodes/n1";
    let r = h
        .patch(
            path,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"unschedulable":true}}"#,
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    assert_eq!(r.body["spec"]["unschedulable"], true);
    let r = h
        .patch(
            path,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"unschedulable":null},"metadata":{"labels":{"x":"1"}}}"#,
        )
        .await;
    assert!(r.body["spec"].get("unschedulable").is_none());
    assert_eq!(r.body["metadata"]["labels"]["x"], "1");
    let r = h.patch(path, "application/merge-patch+json", r#"{"metadata":{"labels":{"x":null},"annotations":{"a":"b"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}}"#).await;
    assert!(r.body["metadata"]["labels"].get("x").is_none());
    assert_eq!(r.body["spec"]["taints"][0]["key"], "k");
    let r = h.patch(path, "application/json-patch+json", r#"[{"op":"replace","path":"/spec/taints","value":[]},{"op":"add","path":"/metadata/labels/y","value":"2"}]"#).await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["spec"]["taints"], json!([]));
    assert_eq!(r.body["metadata"]["labels"]["y"], "2");
    // Server dry run changes nothing.
    let r = h
        .patch(
            &format!("{path}?dryRun=All"),
            "application/merge-patch+json",
            r#"{"spec":{"unschedulable":true}}"#,
        )
        .await;
    assert_eq!(r.body["spec"]["unschedulable"], true);
    assert!(
        sim.store().get(Kind::Node, "", "n1").unwrap()["spec"]
            .get("unschedulable")
            .is_none()
    );
    assert_status(
        &h.patch(path, "text/plain", "{}").await,
        415,
        "UnsupportedMediaType",
    );
    assert_status(
        &h.patch(path, "application/merge-patch+json", "{oops").await,
        400,
        "BadRequest",
    );
    assert_status(
        &h.patch(path, "application/merge-patch+json", "[1]").await,
        400,
        "BadRequest",
    );
    assert_status(
        &h.patch(
            path,
            "application/json-patch+json",
            r#"[{"op":"remove","path":"/nope"}]"#,
        )
        .await,
        422,
        "Invalid",
    );
    assert_status(
        &h.patch("/api/v1/nodes/ghost", "application/merge-patch+json", "{}")
            .await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn pod_delete_honours_grace() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "running", "a", "n1"));
    put(&sim, Kind::Pod, pod("default", "pending", "a", ""));
    put(&sim, Kind::Pod, pod("default", "now", "a", "n1"));
    let r = h
        .send(
            "DELETE",
            "/api/v1/namespaces/default/pods/running",
            &[],
            None,
        )
        .await;
    assert_eq!(r.code, 200);
    assert_eq!(r.body["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(r.body["metadata"]["deletionTimestamp"].is_string());
    assert!(
        sim.store().get(Kind::Pod, "default", "running").is_some(),
        "graceful delete keeps the pod"
    );
    // A later delete can shorten the grace period, not extend it.
    let r = h
        .send(
            "DELETE",
            "/api/v1/namespaces/default/pods/running?gracePeriodSeconds=5",
            &[],
            None,
        )
        .await;
    assert_eq!(r.body["metadata"]["deletionGracePeriodSeconds"], 5);
    h.send(
        "DELETE",
        "/api/v1/namespaces/default/pods/pending",
        &[],
        None,
    )
    .await;
    assert!(
        sim.store().get(Kind::Pod, "default", "pending").is_none(),
        "unscheduled pods go at once"
    );
    let r = h
        .send(
            "DELETE",
            "/api/v1/namespaces/default/pods/now",
            &[("content-type", "application/json")],
            Some(r#"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}"#),
        )
        .await;
    assert_eq!(r.code, 200);
    assert!(sim.store().get(Kind::Pod, "default", "now").is_none());
    assert_status(
        &h.send("DELETE", "/api/v1/namespaces/default/pods/now", &[], None)
            .await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn scale_subresource() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(
        &sim,
        Kind::Deployment,
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}}),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web/scale";
    let s = h.get(path).await;
    assert_eq!(
        (s.body["kind"].as_str(), s.body["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(2))
    );
    assert_eq!(s.body["status"]["selector"], "app=web");
    let s = h
        .patch(
            path,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":5}}"#,
        )
        .await;
    assert_eq!(s.body["spec"]["replicas"], 5);
    assert_eq!(
        sim.store().get(Kind::Deployment, "default", "web").unwrap()["spec"]["replicas"],
        5
    );
    assert_status(
        &h.patch(
            path,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":-1}}"#,
        )
        .await,
        422,
        "Invalid",
    );
    let apps = h.get("/apis/apps/v1").await.body;
    assert!(
        apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "deployments/scale" && r["group"] == "autoscaling")
    );
    assert_status(
        &h.get("/apis/apps/v1/namespaces/default/daemonsets/x/scale")
            .await,
        404,
        "NotFound",
    );
}

/// The status/spec split of a kind with a `status` subresource, as the registry's strategies
/// do it: an update of the node leaves its status as it was, an update of `/status` changes
/// only the status (labels and spec stay).
#[tokio::test]
async fn status_is_written_through_its_subresource_only() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Node, node("n1", true, &[], "v1.25.4"));
    let merge = "application/merge-patch+json";
    let r = h
        .patch(
            "/api/v1/nodes/n1",
            merge,
            r#"{"spec":{"unschedulable":true},"status":{"phase":"Gone"}}"#,
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    assert_eq!(r.body["spec"]["unschedulable"], true);
    assert!(
        r.body["status"].get("phase").is_none(),
        "{:?}",
        r.body["status"]
    );
    let r = h
        .patch(
            "/api/v1/nodes/n1/status",
            merge,
            r#"{"spec":{"unschedulable":false},"metadata":{"labels":{"x":"1"}},"status":{"phase":"Running"}}"#,
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    assert_eq!(r.body["status"]["phase"], "Running");
    assert_eq!(r.body["spec"]["unschedulable"], true, "the spec stays");
    assert!(
        r.body["metadata"]["labels"].get("x").is_none(),
        "labels stay"
    );
    // And a PUT of the node keeps the status the subresource wrote.
    let mut whole = r.body.clone();
    whole["status"]["phase"] = json!("Pending");
    let r = h
        .send(
            "PUT",
            "/api/v1/nodes/n1",
            &[("content-type", "application/json")],
            Some(&whole.to_string()),
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    assert_eq!(r.body["status"]["phase"], "Running");
}
