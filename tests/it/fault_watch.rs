//! Watch liveness and request timeouts, with a TCP proxy between kubedrain and the simulator:
//! a half-open watch does not stall a drain, and a server that accepts connections but never
//! answers fails headless commands within `--request-timeout`.

use std::time::{Duration, Instant};

use crate::drain_support;

use drain_support::proxy::{Proxy, addr_of};
use drain_support::sim::*;
use kubedrain::drain::events::{DrainEvent, NodeState, PodState};
use kubedrain::drain::exec::start_drain;
use kubedrain::sim::controllers::util::SHUTDOWN_AFTER;
use kubedrain::sim::{Kind, SimOptions, Simulator};

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

/// The simulator's bookmark interval in these tests.
const BOOKMARKS: Duration = Duration::from_secs(2);

async fn sim_bookmarking(scenario: &str) -> Simulator {
    Simulator::start(SimOptions {
        scenario: scenario.into(),
        bookmark_interval: BOOKMARKS,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

/// Pods on `node` that the drain evicts (not DaemonSet pods).
fn evictable(pods: &[std::sync::Arc<serde_json::Value>], node: &str) -> usize {
    pods.iter()
        .filter(|p| p["spec"]["nodeName"] == node)
        .filter(|p| {
            p["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|o| o["kind"] != "DaemonSet")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_watch_does_not_stall_the_drain() {
    let sim = sim_bookmarking("seed").await;
    let proxy = Proxy::start(addr_of(&sim.url())).await;
    let c = client_via(&sim, &proxy.url()).await;
    let dir = tempfile::tempdir().unwrap();
    // The pods take 9 s to stop: they leave after the watch went half-open, and before its
    // idle timeout (three intervals after its last bookmark) would have opened it again.
    let (_, all) = sim.store().list(Kind::Pod, None);
    for p in all.iter().filter(|p| p["spec"]["nodeName"] == "node0") {
        let (ns, name) = (
            p["metadata"]["namespace"].as_str().unwrap(),
            p["metadata"]["name"].as_str().unwrap(),
        );
        sim.store()
            .update(Kind::Pod, ns, name, |p| {
                p["metadata"]["annotations"][SHUTDOWN_AFTER] = serde_json::json!("9");
                Ok(())
            })
            .unwrap();
    }
    let opts = ignore_ds();
    let started = tokio::time::Instant::now();
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    let terminating = |events: &[DrainEvent]| {
        events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    DrainEvent::Pod {
                        state: PodState::Terminating { .. },
                        ..
                    }
                )
            })
            .count()
    };
    while terminating(&events) < 6 {
        let e = tokio::time::timeout(DEADLINE, rx.recv()).await.unwrap();
        events.push(e.expect("the drain runs"));
    }
    // Two bookmark gaps for the drain's watches to learn the interval, then the watches'
    // connections go silent (kept open: nothing reports an error).
    tokio::time::sleep_until(started + BOOKMARKS * 3).await;
    let lists_before = sim.stats().count("list", "pods");
    assert_eq!(
        proxy.half_open_watches(),
        2,
        "the node's and the pods' watch"
    );
    // The positive event, seen on the server: the last evicted pod is gone.
    let watcher = {
        let store = sim.store().clone();
        tokio::spawn(async move {
            loop {
                let (_, pods) = store.list(Kind::Pod, None);
                if evictable(&pods, "node0") == 0 {
                    return Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let out = finish(handle, &mut rx, &mut events).await;
    let finished = Instant::now();
    let gone_at = watcher.await.unwrap();
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let took = finished.saturating_duration_since(gone_at);
    assert!(
        took <= BOOKMARKS * 2,
        "drained {took:?} after the last pod left (bookmarks every {BOOKMARKS:?})"
    );
    // The silent watch was not trusted: the node's pods were listed again (and once more
    // by the end-of-drain check).
    let lists = sim.stats().count("list", "pods") - lists_before;
    assert!(
        lists >= 2,
        "{lists} pod lists after the watch went silent: {:?}\n{events:#?}",
        sim.stats().counts()
    );
    eprintln!("half-open: drained {took:?} after the last pod left; {lists} pod lists");
    sim.stop().await;
}

/// A kubeconfig for `url` with a token (no client certificates).
fn kubeconfig_for(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let kc = dir.join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    kc
}

/// Runs `kubedrain ARGS --kubeconfig KC`; returns (exit code, stderr, how long it took).
async fn run(
    args: &[&str],
    kc: &std::path::Path,
    state: &std::path::Path,
) -> (i32, String, Duration) {
    let started = Instant::now();
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .arg("--kubeconfig")
        .arg(kc)
        .env("KUBEDRAIN_STATE_DIR", state)
        .output();
    let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackhole_server_fails_headless_commands_within_the_request_timeout() {
    let sim = sim("seed").await;
    // Frozen from the start: connections are accepted, nothing is ever answered.
    let proxy = Proxy::start(addr_of(&sim.url())).await;
    proxy.freeze();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_for(dir.path(), &proxy.url());
    for cmd in [
        &["cordon", "node0"][..],
        &["drain", "node0", "--ignore-daemonsets"],
        &["plan", "node0"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--request-timeout", "2s"]);
        let (code, err, took) = run(&args, &kc, dir.path()).await;
        assert_ne!(code, 0, "{cmd:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd:?}: one line: {err}");
        assert!(err.contains("did not answer within 2s"), "{cmd:?}: {err}");
        assert!(took < Duration::from_secs(10), "{cmd:?} took {took:?}");
        eprintln!("blackhole: {cmd:?} exit {code} after {took:?}: {err}");
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_after_the_probe_fails_the_command_in_time() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    // /version answers; the node and pod requests never do.
    sim.faults().hang("/api/v1/nodes*");
    sim.faults().hang("/api/v1/pods*");
    for cmd in [
        &["cordon", "node0"][..],
        &["drain", "node0", "--ignore-daemonsets"],
        &["plan", "node0"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--request-timeout", "2s"]);
        let (code, err, took) = run(&args, &kc, dir.path()).await;
        assert_ne!(code, 0, "{cmd:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd:?}: one line: {err}");
        assert!(
            err.contains("within 2s (--request-timeout)") && !err.contains("ServiceError"),
            "{cmd:?}: {err}"
        );
        assert!(took < Duration::from_secs(15), "{cmd:?} took {took:?}");
        eprintln!("hanging: {cmd:?} exit {code} after {took:?}: {err}");
    }
    // Nothing was changed: the node is as the scenario made it.
    assert!(
        !sim.store().get(Kind::Node, "", "node0").unwrap()["spec"]["unschedulable"]
            .as_bool()
            .unwrap_or(false)
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_outlives_the_request_timeout() {
    use futures::{StreamExt, TryStreamExt};
    use kube::api::{Api, ListParams, WatchEvent, WatchParams};
    use kubedrain::cluster::rows::PodRow;
    let sim = sim_bookmarking("seed").await;
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let limit = Duration::from_secs(1);
    kubedrain::cluster::timeout::set(&mut cfg, Some(limit));
    let c = kubedrain::cluster::timeout::client(cfg).unwrap();
    let api = Api::<PodRow>::all(c);
    let listed = api.list(&ListParams::default().limit(1)).await.unwrap();
    let rv = listed.metadata.resource_version.unwrap();
    let mut events = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let t = Instant::now();
    // The positive event: a bookmark on the same stream well past the request timeout.
    loop {
        let next = tokio::time::timeout(DEADLINE, events.try_next()).await;
        match next.expect("the watch answers").expect("not cut") {
            Some(WatchEvent::Bookmark(_)) if t.elapsed() > limit * 2 => break,
            Some(_) => continue,
            None => panic!("the watch ended after {:?}", t.elapsed()),
        }
    }
    sim.stop().await;
}
