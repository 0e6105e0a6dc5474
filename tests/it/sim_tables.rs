//! Server-side Table responses: kubectl's columns, cells and wide flags per kind.

use crate::common;

use common::*;
use kubedrain::sim::Kind;
use serde_json::json;

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
