//! The simulator's HTTP API over real HTTP: discovery, lists with selectors and paging, Status
//! errors, patches, deletes, the eviction subresource's PDB rules and Table responses.

mod common;

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

fn assert_status(r: &Resp, code: u16, reason: &str) {
    assert_eq!(r.code, code, "{r:?}");
    assert_eq!(r.body["kind"], "Status", "{r:?}");
    assert_eq!(r.body["apiVersion"], "v1");
    assert_eq!(r.body["status"], "Failure");
    assert_eq!(r.body["code"], code);
    assert_eq!(r.body["reason"], reason, "{r:?}");
    assert!(r.content_type.starts_with("application/json"));
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
    assert_eq!(gnames, ["policy", "apps", "batch"]);
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
    assert_status(&h.get("/openapi/v2").await, 404, "NotFound");
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

#[tokio::test]
async fn tables_have_kubectl_columns() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(
        &sim,
        Kind::Node,
        node("master0", true, &["control-plane"], "v1.25.4"),
    );
    let mut n0 = node("node0", true, &[], "v1.25.4");
    n0["spec"]["unschedulable"] = json!(true);
    put(&sim, Kind::Node, n0);
    put(&sim, Kind::Node, node("node1", false, &[], "v1.25.0"));
    let t = h.get_table("/api/v1/nodes").await;
    assert_eq!(t.code, 200);
    assert_eq!(t.body["kind"], "Table");
    assert_eq!(t.body["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<(String, i64)> = t.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect();
    let visible: Vec<&str> = cols
        .iter()
        .filter(|c| c.1 == 0)
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(visible, ["Name", "Status", "Roles", "Age", "Version"]);
    let wide: Vec<&str> = cols
        .iter()
        .filter(|c| c.1 == 1)
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(
        wide,
        [
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    let rows = t.body["rows"].as_array().unwrap();
    let cells = |i: usize| {
        rows[i]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cells(0)[..5],
        [
            "master0",
            "Ready",
            "control-plane",
            cells(0)[3].as_str(),
            "v1.25.4"
        ]
    );
    assert!(
        cells(0)[3].ends_with('d') || cells(0)[3].contains('y'),
        "age of a 2020 node: {}",
        cells(0)[3]
    );
    assert_eq!(cells(1)[1..3], ["Ready,SchedulingDisabled", "<none>"]);
    assert_eq!(cells(2)[1], "NotReady");
    assert_eq!(
        cells(0)[5..],
        [
            "192.168.1.10",
            "<none>",
            "Ubuntu 22.04.1 LTS",
            "5.15.0",
            "containerd://1.6.8"
        ]
    );
    assert_eq!(rows[0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(rows[0]["object"]["metadata"]["name"], "master0");

    // Pods: READY, STATUS, RESTARTS with last restart, wide columns.
    let mut p = pod("kube-system", "weave-net-abc", "weave", "node0");
    p["spec"]["containers"] = json!([{"name": "weave"}, {"name": "npc"}]);
    p["status"]["containerStatuses"] = json!([
        {"name": "weave", "ready": true, "restartCount": 1, "state": {"running": {}}, "lastState": {"terminated": {"finishedAt": "2020-01-01T00:00:00Z", "exitCode": 1}}},
        {"name": "npc", "ready": true, "restartCount": 0, "state": {"running": {}}},
    ]);
    put(&sim, Kind::Pod, p);
    let mut creating = pod("default", "web-creating", "web", "node1");
    creating["status"]["containerStatuses"] = json!([{"name": "c", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]);
    creating["status"]["podIPs"] = json!([]);
    creating["status"].as_object_mut().unwrap().remove("podIP");
    put(&sim, Kind::Pod, creating);
    let mut term = pod("default", "web-term", "web", "node1");
    term["metadata"]["deletionTimestamp"] = json!("2030-01-01T00:00:00Z");
    put(&sim, Kind::Pod, term);
    put(&sim, Kind::Pod, pod("default", "web-pending", "web", ""));
    let t = h.get_table("/api/v1/pods?includeObject=Object").await;
    let names: Vec<&str> = t.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    let rows: Vec<Vec<String>> = t.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        rows[0][..4],
        ["web-creating", "0/1", "ContainerCreating", "0"]
    );
    assert_eq!(rows[0][5..7], ["<none>", "node1"]);
    assert_eq!(rows[1][..3], ["web-pending", "0/1", "Pending"]);
    assert_eq!(rows[1][6], "<none>");
    assert_eq!(rows[2][2], "Terminating");
    assert_eq!(rows[3][..3], ["weave-net-abc", "2/2", "Running"]);
    assert!(
        rows[3][3].starts_with("1 (") && rows[3][3].ends_with(" ago)"),
        "{}",
        rows[3][3]
    );
    assert_eq!(rows[3][5..], ["10.0.0.1", "node0", "<none>", "<none>"]);
    assert_eq!(t.body["rows"][0]["object"]["kind"], "Pod");

    // PDBs and events.
    put(
        &sim,
        Kind::PodDisruptionBudget,
        pdb("default", "web-pdb", "web", 1),
    );
    let t = h
        .get_table("/apis/policy/v1/namespaces/default/poddisruptionbudgets")
        .await;
    let cells = t.body["rows"][0]["cells"].as_array().unwrap();
    assert_eq!(
        cells[..4],
        [json!("web-pdb"), json!("2"), json!("N/A"), json!(1)]
    );
    put(
        &sim,
        Kind::Event,
        json!({
            "metadata": {"name": "web-pending.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-pending", "namespace": "default"},
            "reason": "FailedScheduling", "type": "Warning", "message": "0/3 nodes are available. ",
            "source": {"component": "default-scheduler"}, "count": 2,
            "firstTimestamp": "2020-01-01T00:00:00Z", "lastTimestamp": "2020-01-01T00:00:00Z",
        }),
    );
    let t = h
        .get_table(
            "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb-pending",
        )
        .await;
    let names: Vec<&str> = t.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Last Seen", "Type", "Reason", "Object", "Message"]);
    let cells = t.body["rows"][0]["cells"].as_array().unwrap();
    assert_eq!(
        cells[1..4],
        [
            json!("Warning"),
            json!("FailedScheduling"),
            json!("pod/web-pending")
        ]
    );
    assert_eq!(cells[6], "0/3 nodes are available.");
    // A single object as a Table too; includeObject=None leaves the object out.
    let t = h.get_table("/api/v1/nodes/node0?includeObject=None").await;
    assert_eq!(t.body["rows"].as_array().unwrap().len(), 1);
    assert!(t.body["rows"][0].get("object").is_none());
}
