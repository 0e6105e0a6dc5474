//! Real kubectl (1.27 and 1.37) watching workloads fail the way a lesson shows them: a bad
//! image is `ErrImagePull`/`ImagePullBackOff`, a crashing container `CrashLoopBackOff` with
//! RESTARTS going up, run-once pods `Completed`/`Error`; and `kubectl rollout status` returns as
//! soon as a replaced Deployment's last pod is Ready.

use std::time::Duration;

use kubedrain::sim::Kind;
use serde_json::Value;

use crate::sim_kubectl::Kubectl;

const VERSIONS: [u32; 2] = [27, 37];

/// STATUS and the RESTARTS count of `kubectl get pod <name>` (RESTARTS may read `2 (3s ago)`).
async fn status(k: &Kubectl, name: &str) -> (String, i64) {
    let out = k.ok(&["get", "pod", name, "--no-headers"]).await;
    let cols: Vec<&str> = out.split_whitespace().collect();
    (cols[2].to_string(), cols[3].parse().unwrap_or(-1))
}

/// Polls `kubectl get pod` until `f` holds for its STATUS and RESTARTS (a minute at most).
async fn until_status(
    k: &Kubectl,
    name: &str,
    what: &str,
    f: impl Fn(&str, i64) -> bool,
) -> (String, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (s, r) = status(k, name).await;
        if f(&s, r) {
            return (s, r);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: never {what} (last {s} {r})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_image_pull_and_crash_loop_back_off() {
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 10.0).await else {
            continue;
        };
        k.ok(&["run", "bad", "--image=nginx:doesnotexist"]).await;
        k.ok(&["run", "crash", "--image=busybox", "--", "false"])
            .await;
        k.ok(&[
            "run",
            "once",
            "--image=busybox",
            "--restart=Never",
            "--",
            "sh",
            "-c",
            "exit 0",
        ])
        .await;
        k.ok(&[
            "run",
            "oops",
            "--image=busybox",
            "--restart=Never",
            "--",
            "sh",
            "-c",
            "exit 1",
        ])
        .await;
        until_status(&k, "bad", "ErrImagePull", |s, _| {
            s == "ErrImagePull" || s == "ImagePullBackOff"
        })
        .await;
        until_status(&k, "bad", "ImagePullBackOff", |s, _| {
            s == "ImagePullBackOff"
        })
        .await;
        let (_, first) = until_status(&k, "crash", "CrashLoopBackOff", |s, r| {
            s == "CrashLoopBackOff" && r >= 1
        })
        .await;
        until_status(&k, "crash", "restarted again", |s, r| {
            s == "CrashLoopBackOff" && r > first
        })
        .await;
        until_status(&k, "once", "Completed", |s, _| s == "Completed").await;
        until_status(&k, "oops", "Error", |s, _| s == "Error").await;
        let ev = k
            .ok(&[
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=bad",
            ])
            .await;
        assert!(
            ev.contains("Failed to pull image \"nginx:doesnotexist\""),
            "1.{minor}: {ev}"
        );
        assert!(
            ev.contains("Back-off pulling image \"nginx:doesnotexist\""),
            "1.{minor}: {ev}"
        );
        let ev = k
            .ok(&[
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=crash",
            ])
            .await;
        assert!(
            ev.contains("Back-off restarting failed container"),
            "1.{minor}: {ev}"
        );
        k.sim.stop().await;
    }
}

/// When the last pod of the Deployment's newest ReplicaSet became Ready (simulated time).
fn last_new_pod_ready(k: &Kubectl, hash: &str) -> jiff::Timestamp {
    k.sim
        .store()
        .list_where(Kind::Pod, Some("default"), |p| {
            p["metadata"]["labels"]["pod-template-hash"] == hash
        })
        .1
        .iter()
        .filter_map(|p| {
            p["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Ready" && c["status"] == "True")?["lastTransitionTime"]
                .as_str()?
                .parse()
                .ok()
        })
        .max()
        .expect("ready pods of the new ReplicaSet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_status_returns_when_the_last_pod_is_ready() {
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 5.0).await else {
            continue;
        };
        k.ok(&["rollout", "restart", "deployment/http-spring"])
            .await;
        let out = k
            .ok(&[
                "rollout",
                "status",
                "deployment/http-spring",
                "--timeout=120s",
            ])
            .await;
        let returned = k.sim.clock().now();
        assert!(out.contains("successfully rolled out"), "1.{minor}: {out}");
        let (_, rss) = k.sim.store().list(Kind::ReplicaSet, Some("default"));
        let newest: &Value = rss
            .iter()
            .filter(|r| {
                r["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("http-spring-")
            })
            .max_by_key(|r| {
                r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .as_str()
                    .and_then(|v| v.parse::<i64>().ok())
            })
            .unwrap();
        let hash = newest["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap();
        let lag = returned.as_second() - last_new_pod_ready(&k, hash).as_second();
        // Conditions carry whole seconds and kubectl's watch takes a moment at 5× speed.
        assert!(
            lag <= 3,
            "1.{minor}: rollout status returned {lag} s after the last pod was Ready"
        );
        k.sim.stop().await;
    }
}
