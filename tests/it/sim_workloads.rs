//! Workload behaviour through the API on a frozen clock stepped by hand: images that cannot be
//! pulled, containers that crash and back off, pods that complete or fail by restart policy,
//! Jobs that finish or give up, and Deployment status that follows pod readiness at once.
//! Every wait is for a positive outcome; "nothing happened" is asserted only after the
//! controllers have been seen to finish the pass that would have done it.

use std::sync::Arc;
use std::time::Duration;

use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::{Value, json};

use crate::common::Http;
use crate::common::clock::{step, step_until};

async fn frozen_seed() -> (Simulator, Http) {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    sim.clock().freeze();
    let http = Http::new(&sim);
    (sim, http)
}

fn pod(sim: &Simulator, name: &str) -> Arc<Value> {
    sim.store().get(Kind::Pod, "default", name).unwrap()
}

fn container(p: &Value) -> &Value {
    &p["status"]["containerStatuses"][0]
}

fn waiting(p: &Value) -> &str {
    container(p)["state"]["waiting"]["reason"]
        .as_str()
        .unwrap_or("")
}

fn restarts(p: &Value) -> i64 {
    container(p)["restartCount"].as_i64().unwrap_or(0)
}

fn ready(p: &Value) -> &str {
    p["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["status"].as_str())
        .unwrap_or("")
}

fn events_of(sim: &Simulator, name: &str, reason: &str) -> Vec<Arc<Value>> {
    sim.store()
        .list_where(Kind::Event, Some("default"), |e| {
            e["involvedObject"]["name"] == name && e["reason"] == reason
        })
        .1
}

async fn create_pod(http: &Http, name: &str, policy: &str, image: &str, command: Value) {
    let mut c = json!({"name": name, "image": image});
    if !command.is_null() {
        c["command"] = command;
    }
    let body = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"restartPolicy": policy, "containers": [c]}});
    let r = http.post("/api/v1/namespaces/default/pods", &body).await;
    assert_eq!(r.code, 201, "{:?}", r.body);
}

fn time(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// What each declaration leads to once its containers have started.
struct Case {
    name: &'static str,
    policy: &'static str,
    image: &'static str,
    command: Value,
    phase: &'static str,
    /// Waiting reason, or the terminated reason when it does not restart.
    reason: &'static str,
    restarts: i64,
    ready: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_fates_through_the_api() {
    let (sim, http) = frozen_seed().await;
    let cases = [
        Case {
            name: "bad-image",
            policy: "Always",
            image: "nginx:doesnotexist",
            command: Value::Null,
            phase: "Pending",
            reason: "ErrImagePull",
            restarts: 0,
            ready: "False",
        },
        Case {
            name: "bad-registry",
            policy: "Always",
            image: "registry.invalid/team/app:1.0",
            command: Value::Null,
            phase: "Pending",
            reason: "ErrImagePull",
            restarts: 0,
            ready: "False",
        },
        Case {
            name: "crash",
            policy: "Always",
            image: "busybox",
            command: json!(["false"]),
            phase: "Running",
            reason: "CrashLoopBackOff",
            restarts: 1,
            ready: "False",
        },
        Case {
            name: "retry",
            policy: "OnFailure",
            image: "busybox",
            command: json!(["sh", "-c", "exit 2"]),
            phase: "Running",
            reason: "CrashLoopBackOff",
            restarts: 1,
            ready: "False",
        },
        Case {
            name: "once-ok",
            policy: "Never",
            image: "busybox",
            command: json!(["sh", "-c", "echo done; exit 0"]),
            phase: "Succeeded",
            reason: "Completed",
            restarts: 0,
            ready: "False",
        },
        Case {
            name: "once-bad",
            policy: "Never",
            image: "busybox",
            command: json!(["sh", "-c", "exit 3"]),
            phase: "Failed",
            reason: "Error",
            restarts: 0,
            ready: "False",
        },
        Case {
            name: "retry-ok",
            policy: "OnFailure",
            image: "busybox",
            command: json!(["true"]),
            phase: "Succeeded",
            reason: "Completed",
            restarts: 0,
            ready: "False",
        },
        Case {
            name: "plain",
            policy: "Always",
            image: "nginx:1.25",
            command: json!(["sleep", "3600"]),
            phase: "Running",
            reason: "",
            restarts: 0,
            ready: "True",
        },
    ];
    for c in &cases {
        create_pod(&http, c.name, c.policy, c.image, c.command.clone()).await;
    }
    step_until(&sim, "every pod past ContainerCreating", 15, |sim| {
        cases.iter().all(|c| {
            let p = pod(sim, c.name);
            let w = waiting(&p);
            !p["status"]["containerStatuses"].is_null()
                && w != "ContainerCreating"
                && (c.ready != "True" || ready(&p) == "True")
        })
    })
    .await;
    for c in &cases {
        let p = pod(&sim, c.name);
        let st = container(&p);
        assert_eq!(p["status"]["phase"], c.phase, "{}: phase", c.name);
        let reason = if st["state"]["terminated"].is_object() {
            st["state"]["terminated"]["reason"].as_str().unwrap()
        } else {
            waiting(&p)
        };
        // ErrImagePull turns into ImagePullBackOff within seconds; either is the cure's cue.
        let ok = reason == c.reason || (c.reason == "ErrImagePull" && reason == "ImagePullBackOff");
        assert!(ok, "{}: reason {reason}, want {}", c.name, c.reason);
        assert_eq!(restarts(&p), c.restarts, "{}: restarts", c.name);
        assert_eq!(ready(&p), c.ready, "{}: Ready", c.name);
    }
    assert_eq!(
        container(&pod(&sim, "once-bad"))["state"]["terminated"]["exitCode"],
        3
    );
    assert_eq!(
        container(&pod(&sim, "crash"))["lastState"]["terminated"]["exitCode"],
        1
    );
    // The kubelet's events, in its words.
    let failed = events_of(&sim, "bad-image", "Failed");
    assert!(failed.iter().any(|e| {
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to pull image \"nginx:doesnotexist\": ")
    }));
    assert!(failed.iter().any(|e| e["message"] == "Error: ErrImagePull"));
    assert!(!events_of(&sim, "bad-image", "Pulling").is_empty());
    step_until(&sim, "ImagePullBackOff", 5, |sim| {
        waiting(&pod(sim, "bad-image")) == "ImagePullBackOff"
    })
    .await;
    let backoff = events_of(&sim, "bad-image", "BackOff");
    assert_eq!(
        backoff[0]["message"],
        "Back-off pulling image \"nginx:doesnotexist\""
    );
    assert!(
        events_of(&sim, "crash", "BackOff")
            .iter()
            .any(|e| e["message"] == "Back-off restarting failed container")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_backs_off_ten_twenty_forty_seconds() {
    let (sim, http) = frozen_seed().await;
    create_pod(&http, "crash", "Always", "busybox", json!(["false"])).await;
    step_until(&sim, "first restart", 15, |sim| {
        restarts(&pod(sim, "crash")) == 1
    })
    .await;
    let mut last = time(&container(&pod(&sim, "crash"))["lastState"]["terminated"]["finishedAt"]);
    for (n, wait) in [(2, 10), (3, 20), (4, 40)] {
        let p = pod(&sim, "crash");
        assert_eq!(waiting(&p), "CrashLoopBackOff");
        let msg = container(&p)["state"]["waiting"]["message"]
            .as_str()
            .unwrap();
        assert!(
            msg.starts_with(&format!(
                "back-off {wait}s restarting failed container=crash pod=crash_default("
            )),
            "{msg}"
        );
        // A second short of the back-off: still waiting.
        let now = sim.clock().now();
        let short = (last.as_second() + wait - 1 - now.as_second()).max(0) as u64;
        step(&sim, short).await;
        assert_eq!(restarts(&pod(&sim, "crash")), n - 1, "restarted early");
        step_until(&sim, "the restart", 3, |sim| {
            restarts(&pod(sim, "crash")) == n
        })
        .await;
        let p = pod(&sim, "crash");
        let at = time(&container(&p)["lastState"]["terminated"]["finishedAt"]);
        assert_eq!(
            at.as_second() - last.as_second(),
            wait,
            "back-off before restart {n}"
        );
        assert_eq!(ready(&p), "False");
        last = at;
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_that_runs_then_exits_is_ready_meanwhile() {
    let (sim, http) = frozen_seed().await;
    create_pod(
        &http,
        "job-like",
        "Never",
        "busybox",
        json!(["sh", "-c", "sleep 30; exit 0"]),
    )
    .await;
    step_until(&sim, "running", 15, |sim| {
        pod(sim, "job-like")["status"]["phase"] == "Running"
    })
    .await;
    assert_eq!(ready(&pod(&sim, "job-like")), "True");
    step_until(&sim, "completed", 35, |sim| {
        pod(sim, "job-like")["status"]["phase"] == "Succeeded"
    })
    .await;
    let st = container(&pod(&sim, "job-like")).clone();
    let term = &st["state"]["terminated"];
    assert_eq!(
        time(&term["finishedAt"]).as_second() - time(&term["startedAt"]).as_second(),
        30
    );
    sim.stop().await;
}

async fn create_job(http: &Http, name: &str, command: Value, backoff_limit: i64) {
    let body = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox", "command": command}]}}}});
    let r = http
        .post("/apis/batch/v1/namespaces/default/jobs", &body)
        .await;
    assert_eq!(r.code, 201, "{:?}", r.body);
}

fn job_pods(sim: &Simulator, job: &str) -> Vec<Arc<Value>> {
    sim.store()
        .list_where(Kind::Pod, Some("default"), |p| {
            p["metadata"]["labels"]["job-name"] == job
        })
        .1
}

fn job_condition(sim: &Simulator, job: &str) -> (String, String) {
    let j = sim.store().get(Kind::Job, "default", job).unwrap();
    let c = &j["status"]["conditions"][0];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (s(&c["type"]), s(&c["reason"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_jobs_deleted_pods_are_not_run_again() {
    let (sim, http) = frozen_seed().await;
    create_job(&http, "once", json!(["sh", "-c", "exit 0"]), 6).await;
    step_until(&sim, "the Job completes", 20, |sim| {
        job_condition(sim, "once").0 == "Complete"
    })
    .await;
    for p in job_pods(&sim, "once") {
        sim.store()
            .delete(
                Kind::Pod,
                "default",
                p["metadata"]["name"].as_str().unwrap(),
            )
            .unwrap();
    }
    for _ in 0..5 {
        step(&sim, 2).await;
    }
    assert!(
        job_pods(&sim, "once").is_empty(),
        "a finished Job ran again"
    );
    let j = sim.store().get(Kind::Job, "default", "once").unwrap();
    assert_eq!(j["status"]["succeeded"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_backs_off_then_gives_up() {
    let (sim, http) = frozen_seed().await;
    create_job(&http, "doomed", json!(["sh", "-c", "exit 1"]), 1).await;
    step_until(&sim, "a failed pod", 20, |sim| {
        job_pods(sim, "doomed")
            .iter()
            .any(|p| p["status"]["phase"] == "Failed")
    })
    .await;
    let failed_at = sim.clock().now();
    step_until(&sim, "the Job fails", 40, |sim| {
        job_condition(sim, "doomed").0 == "Failed"
    })
    .await;
    // The replacement came only after the controller's 10 s back-off.
    assert!(sim.clock().now().as_second() - failed_at.as_second() >= 10);
    assert_eq!(job_condition(&sim, "doomed").1, "BackoffLimitExceeded");
    let pods = job_pods(&sim, "doomed");
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p["status"]["phase"] == "Failed"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_status_follows_pod_readiness_in_one_pass() {
    let (sim, _http) = frozen_seed().await;
    let dep = || {
        sim.store()
            .get(Kind::Deployment, "default", "http-spring")
            .unwrap()
    };
    assert_eq!(dep()["status"]["readyReplicas"], 10);
    let (_, pods) = sim.store().list_where(Kind::Pod, Some("default"), |p| {
        p["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("http-spring-")
    });
    let victim = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
    // Its container stops being ready (what a failing readiness probe does).
    sim.store()
        .update(Kind::Pod, "default", &victim, |p| {
            for c in p["status"]["conditions"].as_array_mut().unwrap() {
                if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                    c["status"] = json!("False");
                }
            }
            Ok(())
        })
        .unwrap();
    // Passes without time passing (the kubelet would make it Ready again a second later, and
    // the old periodic resync came every 10 s): one pass after the controllers see the change,
    // which may have come in just after the first pass began.
    for _ in 0..2 {
        if dep()["status"]["readyReplicas"] == 9 {
            break;
        }
        step(&sim, 0).await;
    }
    let d = dep();
    assert_eq!(d["status"]["readyReplicas"], 9, "{}", d["status"]);
    assert_eq!(d["status"]["availableReplicas"], 9);
    let rs = sim
        .store()
        .get(Kind::ReplicaSet, "default", "http-spring-766c586cb9")
        .unwrap();
    assert_eq!(rs["status"]["readyReplicas"], 9);
    sim.stop().await;
}

/// A pod that pulls its image (`:latest` is `Always`): Scheduled, then Pulling when it goes
/// ContainerCreating, then Pulled (in the time the pull took), Created and Started when the
/// container starts — the kubelet's order, at increasing times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pods_events_come_in_the_kubelets_order_at_increasing_times() {
    let (sim, http) = frozen_seed().await;
    create_pod(&http, "pulls", "Always", "nginx:latest", Value::Null).await;
    step_until(&sim, "the container started", 30, |s| {
        !events_of(s, "pulls", "Started").is_empty()
    })
    .await;
    let at = |reason: &str| {
        let e = events_of(&sim, "pulls", reason);
        let e = e.first().unwrap_or_else(|| panic!("no {reason} event"));
        time(&e["firstTimestamp"])
    };
    let (scheduled, pulling, pulled) = (at("Scheduled"), at("Pulling"), at("Pulled"));
    let (created, started) = (at("Created"), at("Started"));
    assert!(scheduled <= pulling, "{scheduled} {pulling}");
    assert!(pulling < pulled, "the pull took time: {pulling} {pulled}");
    assert!(pulled <= created && created <= started);
    let msg = events_of(&sim, "pulls", "Pulled")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    // The pull's time, as the kubelet says it: the time since Pulling (to the second here).
    let said: f64 = msg
        .strip_prefix("Successfully pulled image \"nginx:latest\" in ")
        .and_then(|t| t.strip_suffix('s'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{msg}"));
    let took = pulled.duration_since(pulling).as_secs_f64();
    assert!(
        said > 0.0 && (said - took).abs() < 1.0,
        "{msg} (took {took}s)"
    );
}

/// A mirror pod deleted through the API is its kubelet's to create again: gone at once (the
/// static pod keeps running, so its status comes back as it was), back on the kubelet's next
/// sync with a new uid, and not while the node's kubelet is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_mirror_pod_comes_back_from_its_kubelet() {
    let (sim, http) = frozen_seed().await;
    let get = |sim: &Simulator| sim.store().get(Kind::Pod, "kube-system", "etcd-master0");
    let before = get(&sim).expect("the seed's etcd mirror pod");
    let path = "/api/v1/namespaces/kube-system/pods/etcd-master0";
    let r = http.send("DELETE", path, &[], None).await;
    assert_eq!(r.code, 200, "{r:?}");
    step_until(&sim, "the mirror pod's object removed", 5, |s| {
        get(s).is_none()
    })
    .await;
    step_until(&sim, "the kubelet's new mirror pod", 5, |s| {
        get(s).is_some()
    })
    .await;
    let after = get(&sim).unwrap();
    assert_ne!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(after["status"]["startTime"], before["status"]["startTime"]);
    assert_eq!(after["status"]["phase"], "Running");
    // With master0's kubelet down, a deleted mirror pod stays away until it is back.
    kubedrain::sim::controllers::nodes::set_node_ready(sim.store(), "master0", false).unwrap();
    let r = http
        .send("DELETE", &format!("{path}?gracePeriodSeconds=0"), &[], None)
        .await;
    assert_eq!(r.code, 200, "{r:?}");
    step_until(&sim, "removed while NotReady", 5, |s| get(s).is_none()).await;
    step(&sim, 30).await;
    assert!(
        get(&sim).is_none(),
        "no kubelet to create it while NotReady"
    );
    kubedrain::sim::controllers::nodes::set_node_ready(sim.store(), "master0", true).unwrap();
    step_until(&sim, "back with the kubelet", 15, |s| get(s).is_some()).await;
}
