//! Protobuf bodies from real kubectl binaries 1.27, 1.32 and 1.37: kubectl ≥ 1.32 sends
//! `drain --disable-eviction`'s DeleteOptions as protobuf, and every version's generators
//! (`create deployment|namespace|pdb|job`, `run`) send their objects that way.

use kubedrain::sim::Kind;
use serde_json::Value;

use crate::sim_kubectl::Kubectl;

/// The versions the simulator promises (the seed cluster's era, the middle, the newest).
const MINORS: [u32; 3] = [27, 32, 37];

fn str_of<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(v, |v, k| &v[*k]).as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_with_disable_eviction_deletes_on_every_kubectl() {
    for minor in MINORS {
        let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
            continue;
        };
        let before: Vec<String> = k
            .pods()
            .iter()
            .filter(|p| str_of(p, &["spec", "nodeName"]) == "node1")
            .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet")
            .map(|p| str_of(p, &["metadata", "name"]).to_string())
            .collect();
        assert!(!before.is_empty(), "the seed runs pods on node1");
        let out = k
            .ok(&[
                "drain",
                "node1",
                "--disable-eviction",
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--grace-period=1",
            ])
            .await;
        assert!(out.contains("node/node1 drained"), "1.{minor}: {out}");
        for name in &before {
            assert!(
                out.contains(&format!("pod/{name} deleted")),
                "1.{minor}: {out}"
            );
            assert!(
                !k.pods()
                    .iter()
                    .any(|p| str_of(p, &["metadata", "name"]) == name),
                "1.{minor}: {name} is gone from the store"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generators_objects_arrive_whole_on_every_kubectl() {
    for minor in MINORS {
        let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
            continue;
        };
        k.ok(&["create", "namespace", "shop"]).await;
        k.ok(&[
            "create",
            "deployment",
            "web",
            "-n",
            "shop",
            "--image=nginx:1.25",
            "--replicas=3",
            "--port=8080",
        ])
        .await;
        k.ok(&[
            "create",
            "pdb",
            "web",
            "-n",
            "shop",
            "--selector=app=web",
            "--min-available=50%",
        ])
        .await;
        let store = k.sim.store();
        let ns = store
            .get(Kind::Namespace, "", "shop")
            .expect("namespace created");
        assert_eq!(str_of(&ns, &["metadata", "name"]), "shop", "1.{minor}");
        let d = store
            .get(Kind::Deployment, "shop", "web")
            .expect("deployment");
        assert_eq!(d["spec"]["replicas"], 3, "1.{minor}");
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "nginx:1.25", "1.{minor}");
        assert_eq!(c["ports"][0]["containerPort"], 8080, "1.{minor}");
        let pdb = store
            .get(Kind::PodDisruptionBudget, "shop", "web")
            .expect("pdb");
        assert_eq!(pdb["spec"]["minAvailable"], "50%", "1.{minor}: IntOrString");
    }
}
