//! `kubectl logs`, `exec`, `attach` and `port-forward` against the built-in cluster: generated
//! log lines that follow simulated time, `-f` that ends when the container stops (kubectl 1.37
//! waited forever), `--previous` and container errors in the real server's words, and a clear
//! "no container runtime" for the rest.

use std::time::Duration;

use kubedrain::sim::Kind;
use tokio::io::AsyncBufReadExt;

use crate::sim_kubectl::Kubectl;

/// A running seed pod with one container: (name, container).
fn running_pod(k: &Kubectl) -> (String, String) {
    let pods = k.pods();
    let p = pods
        .iter()
        .find(|p| {
            p["metadata"]["namespace"] == "default"
                && p["status"]["phase"] == "Running"
                && p["spec"]["containers"]
                    .as_array()
                    .is_some_and(|c| c.len() == 1)
        })
        .expect("a running single-container pod in default");
    (
        p["metadata"]["name"].as_str().unwrap().to_string(),
        p["spec"]["containers"][0]["name"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_simulated_time_and_say_they_are_generated() {
    // Nearly frozen time: the test moves the clock itself.
    let Some(k) = Kubectl::start_version(32, "seed", 0.001).await else {
        return;
    };
    let (pod, container) = running_pod(&k);
    let before = k.ok(&["logs", &pod]).await;
    k.sim.clock().advance(Duration::from_secs(600));
    let after = k.ok(&["logs", &pod]).await;
    let new: Vec<&str> = after.lines().skip(before.lines().count()).collect();
    assert_eq!(new.len(), 10, "one line a simulated minute: {new:?}");
    assert!(
        new.iter()
            .all(|l| l.starts_with(&format!("{container}: running for")))
    );
    let tail = k.ok(&["logs", &pod, "--tail", "2", "--timestamps"]).await;
    assert_eq!(tail.lines().count(), 2, "{tail}");
    assert!(
        tail.lines()
            .all(|l| l.len() > 31 && l.as_bytes()[4] == b'-' && &l[29..31] == "Z "),
        "{tail}"
    );

    let prev = k.run(&["logs", &pod, "--previous"]).await;
    assert_ne!(prev.code, 0);
    assert!(
        prev.stderr.contains(&format!(
            "previous terminated container \"{container}\" in pod \"{pod}\" not found"
        )),
        "{}",
        prev.stderr
    );
    for (args, what) in [
        (vec!["exec", pod.as_str(), "--", "ls"], "run a command in"),
        (vec!["attach", pod.as_str()], "attach to"),
        (
            vec!["port-forward", pod.as_str(), "18080:80"],
            "forward ports to",
        ),
    ] {
        let out = k.run(&args).await;
        assert_ne!(out.code, 0, "{args:?}");
        assert!(
            out.stderr.contains("has no container runtime") && out.stderr.contains(what),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_f_ends_when_the_container_stops_on_kubectl_1_37() {
    let Some(k) = Kubectl::start_version(37, "seed", 0.001).await else {
        return;
    };
    let (pod, _) = running_pod(&k);
    let mut follow = k.spawn(&["logs", "-f", &pod], &[]);
    let stdout = follow.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    // The first line proves the stream is open before the pod goes.
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a first line within 30 s")
        .unwrap()
        .expect("a first line");
    assert!(first.contains("kubedrain simulator"), "{first}");
    k.ok(&["delete", "pod", &pod, "--grace-period=0", "--force"])
        .await;
    assert!(k.sim.store().get(Kind::Pod, "default", &pod).is_none());
    let status = tokio::time::timeout(Duration::from_secs(30), follow.wait())
        .await
        .expect("logs -f ends within 30 s of the pod's deletion")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
