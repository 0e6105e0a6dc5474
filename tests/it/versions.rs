//! `kubedrain versions` against the simulator (the seed, and scenarios written here with a
//! worker at n-3 and a kubelet newer than its apiserver), and the `:versions` view rendered.

use std::path::Path;

use kubedrain::app::fixtures;
use kubedrain::app::model::{ConnInfo, Model};
use kubedrain::cluster::rows::{NodeRow, PodRow};
use kubedrain::sim::{SimOptions, Simulator};
use serde_json::{Value, json};

use crate::common::screen::{press, screen};
use crate::drain_many::kubedrain;
use crate::sim_kubectl::Out;

async fn sim(scenario: &str) -> Simulator {
    Simulator::start(SimOptions {
        scenario: scenario.into(),
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

/// Runs `kubedrain versions ARGS` against `scenario` (a name or a YAML path).
async fn versions(scenario: &str, args: &[&str]) -> Out {
    let s = sim(scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["versions"];
    all.extend_from_slice(args);
    let out = kubedrain(&s, dir.path(), &all).await;
    s.stop().await;
    out
}

/// The steps' node names, in order, from the text output.
fn step_nodes(stdout: &str) -> Vec<String> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("STEP"));
    lines.next();
    lines
        .map_while(|l| {
            let mut w = l.split_whitespace();
            let n = w.next()?;
            n.strip_suffix('.')?.parse::<u32>().ok()?;
            w.next().map(str::to_string)
        })
        .collect()
}

/// A scenario: control plane `cp` at `api` (static apiserver/controller-manager/scheduler pods
/// with that image, `/version` too), workers with the given kubelets, kube-proxy at `api`.
fn scenario(dir: &Path, api: &str, workers: &[(&str, &str)]) -> String {
    let mut yaml = format!(
        "description: versions test\nserverVersion: {api}\nnodes:\n  - name: cp\n    roles: [control-plane]\n    kubeletVersion: {api}\n"
    );
    for (name, kubelet) in workers {
        yaml.push_str(&format!(
            "  - name: {name}\n    kubeletVersion: {kubelet}\n"
        ));
    }
    yaml.push_str("pods:\n");
    for c in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        yaml.push_str(&format!(
            "  - name: {c}\n    mirrorOf: cp\n    namespace: kube-system\n    containers:\n      - {{name: {c}, image: \"registry.k8s.io/{c}:{api}\"}}\n"
        ));
    }
    yaml.push_str(&format!(
        "daemonsets:\n  - name: kube-proxy\n    namespace: kube-system\n    tolerations: [{{operator: Exists}}]\n    containers:\n      - {{name: kube-proxy, image: \"registry.k8s.io/kube-proxy:{api}\"}}\n"
    ));
    let path = dir.join("versions.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_seed_names_node1_patch_skew_as_info() {
    let o = versions("seed", &[]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert!(
        o.stdout.contains(
            "info     node/node1 kubelet: patch skew: kubelet v1.25.0 beside kube-apiserver v1.25.4"
        ),
        "{ctx}"
    );
    assert!(
        o.stdout.contains("FINDINGS (0 error, 0 warning, 1 info)"),
        "{ctx}"
    );
    // kube-proxy comes from the pods' images, the apiserver from its static pod and /version.
    let apiserver = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("kube-apiserver "))
        .count();
    assert_eq!(apiserver, 2, "{ctx}");
    let node1 = o.stdout.lines().find(|l| l.starts_with("node1 ")).unwrap();
    let cols: Vec<&str> = node1.split_whitespace().collect();
    assert_eq!(
        &cols[..7],
        [
            "node1",
            "worker",
            "v1.25.0",
            "v1.23–v1.25",
            "v1.25.4",
            "v1.23–v1.25",
            "info"
        ],
        "{ctx}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_seed_target_next_minor_control_plane_first() {
    let o = versions("seed", &["--target", "v1.26.0"]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert!(o.stdout.contains("chain: v1.25 → v1.26.0"), "{ctx}");
    assert!(o.stdout.contains("blocking: none"), "{ctx}");
    assert_eq!(
        step_nodes(&o.stdout),
        ["master0", "node0", "node1"],
        "{ctx}"
    );
    let drains = o.stdout.lines().filter(|l| l.contains("drain; ")).count();
    assert_eq!(drains, 3, "a drain each:\n{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_seed_two_minors_is_a_chain() {
    let o = versions("seed", &["--target", "v1.27.0", "-o", "json"]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["plan"]["chain"], json!(["v1.26.x", "v1.27.0"]), "{ctx}");
    let steps: Vec<(String, String)> = v["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["node"].as_str().unwrap().into(),
                s["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("master0", "v1.26.x"),
        ("master0", "v1.27.0"),
        ("node0", "v1.27.0"),
        ("node1", "v1.27.0"),
    ];
    assert_eq!(
        steps,
        want.map(|(a, b)| (a.to_string(), b.to_string())),
        "{ctx}"
    );
    assert_eq!(v["apiserver"], "v1.25.4");
    let info: Vec<&Value> = v["findings"].as_array().unwrap().iter().collect();
    assert_eq!(info.len(), 1, "{ctx}");
    assert_eq!(info[0]["severity"], "info");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_worker_at_n_minus_3_blocks_the_next_control_plane_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "v1.29.4",
        &[("w-new", "v1.29.4"), ("w-old", "v1.26.1")],
    );
    let o = versions(&path, &[]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "a warning is not a violation:\n{ctx}");
    assert!(
        o.stdout.contains(
            "warning  node/w-old kubelet: kubelet v1.26.1 is at the oldest minor kube-apiserver v1.29 allows: must be upgraded before the next control-plane upgrade (v1.30 needs ≥ v1.27)"
        ),
        "{ctx}"
    );
    let o = versions(&path, &["--target", "v1.30.0"]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert!(
        o.stdout.contains(
            "blocking: w-old (kubelet v1.26.1) blocks the control-plane step to v1.30: it must be ≥ v1.27 first"
        ),
        "{ctx}"
    );
    // The blocker goes first (to the control plane's version), then the control plane,
    // then the workers.
    assert_eq!(
        step_nodes(&o.stdout),
        ["w-old", "cp", "w-new", "w-old"],
        "{ctx}"
    );
    assert!(o.stdout.contains("v1.26.1 → v1.29.4"), "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_kubelet_newer_than_the_apiserver_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "v1.29.4", &[("w", "v1.30.2")]);
    let o = versions(&path, &[]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 1, "{ctx}");
    assert!(
        o.stdout
            .contains("error    node/w kubelet: kubelet v1.30.2 is newer than kube-apiserver v1.29.4 (never newer)"),
        "{ctx}"
    );
    let w = o.stdout.lines().find(|l| l.starts_with("w ")).unwrap();
    assert!(w.contains("ERROR"), "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_bad_target_is_refused() {
    let o = versions("seed", &["--target", "v1.26"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("--target: `v1.26` is not a Kubernetes version"),
        "{}",
        o.stderr
    );
    let o = versions("seed", &["--target", "v1.24.0"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("downgrades are not supported"),
        "{}",
        o.stderr
    );
}

fn node(name: &str, role: &str, kubelet: &str) -> NodeRow {
    let mut labels = json!({});
    if !role.is_empty() {
        labels[format!("node-role.kubernetes.io/{role}")] = json!("");
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "status": {"nodeInfo": {"kubeletVersion": kubelet, "osImage": "Ubuntu 20.04.5 LTS",
            "kernelVersion": "5.4.0-135-generic", "containerRuntimeVersion": "containerd://1.6.12"}}
    }))
    .unwrap()
}

fn pod(name: &str, node: &str, image: &str) -> PodRow {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "kube-system", "uid": name},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": image}]},
        "status": {"phase": "Running"}
    }))
    .unwrap()
}

/// The seed's versions in a model, as the watch caches would hold them.
fn seed_versions_model(size: (u16, u16)) -> Model {
    let conn = ConnInfo {
        context: "kind-demo".into(),
        server: "https://127.0.0.1:6443".into(),
        version: "v1.25.4".into(),
        ..ConnInfo::default()
    };
    let mut m = Model::new(conn, None, false, fixtures::now());
    m.size = size;
    let nodes = vec![
        node("master0", "control-plane", "v1.25.4"),
        node("node0", "", "v1.25.4"),
        node("node1", "", "v1.25.0"),
    ];
    let mut pods = vec![
        pod(
            "kube-apiserver-master0",
            "master0",
            "registry.k8s.io/kube-apiserver:v1.25.4",
        ),
        pod(
            "kube-controller-manager-master0",
            "master0",
            "registry.k8s.io/kube-controller-manager:v1.25.4",
        ),
        pod(
            "kube-scheduler-master0",
            "master0",
            "registry.k8s.io/kube-scheduler:v1.25.4",
        ),
        pod("etcd-master0", "master0", "registry.k8s.io/etcd:3.5.5-0"),
        pod(
            "coredns-565d847f94-dt76p",
            "master0",
            "registry.k8s.io/coredns/coredns:v1.9.3",
        ),
    ];
    for (n, p) in [("master0", "gfs28"), ("node0", "tl5w2"), ("node1", "sbnfh")] {
        pods.push(pod(
            &format!("kube-proxy-{p}"),
            n,
            "registry.k8s.io/kube-proxy:v1.25.4",
        ));
    }
    fixtures::load(&mut m, (nodes, pods, vec![], vec![]));
    m
}

fn command(m: &mut Model, text: &str) {
    use ratatui::crossterm::event::KeyCode;
    press(m, KeyCode::Char(':'));
    for c in text.chars() {
        press(m, KeyCode::Char(c));
    }
    press(m, KeyCode::Enter);
}

#[test]
fn versions_view_120x40() {
    let mut m = seed_versions_model((120, 40));
    command(&mut m, "versions v1.26.0");
    let s = screen(&m);
    assert!(
        s.contains("patch skew: kubelet v1.25.0 beside kube-apiserver v1.25.4"),
        "{s}"
    );
    let order: Vec<usize> = [" 1.   master0", " 2.   node0", " 3.   node1"]
        .iter()
        .map(|n| s.find(n).unwrap_or_else(|| panic!("{n} missing:\n{s}")))
        .collect();
    assert!(order.is_sorted(), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn versions_view_80x24_scrolls() {
    let mut m = seed_versions_model((80, 24));
    command(&mut m, "versions v1.26.0");
    let s = screen(&m);
    assert!(s.contains("FINDINGS (0 error, 0 warning, 1 info)"), "{s}");
    // Prose wraps at 80 columns; nothing of the finding is cut.
    assert!(s.contains("┃         v1.25.4"), "{s}");
    insta::assert_snapshot!("versions_view_80x24", s);
    // The nodes table is below the fold at 80x24: j scrolls to it.
    let row = "node1    worker         v1.25.0  v1.23–v1.25  v1.25.4";
    assert!(!s.contains(row), "{s}");
    for _ in 0..10 {
        press(&mut m, ratatui::crossterm::event::KeyCode::Char('j'));
    }
    let s = screen(&m);
    assert!(s.contains(row), "{s}");
    assert!(!s.contains("FINDINGS"), "scrolled past the top:\n{s}");
    // Esc goes back to the main view.
    press(&mut m, ratatui::crossterm::event::KeyCode::Esc);
    assert_eq!(m.view, kubedrain::app::model::View::Main);
}

#[test]
fn versions_command_refuses_a_bad_target() {
    let mut m = seed_versions_model((120, 40));
    command(&mut m, "versions 1.26");
    assert_eq!(m.view, kubedrain::app::model::View::Main);
    let flash = m
        .flash
        .as_ref()
        .map(|(f, _)| f.as_str())
        .unwrap_or_default();
    assert!(
        flash.contains("`1.26` is not a Kubernetes version"),
        "{flash}"
    );
}

#[test]
fn versions_view_follows_the_watch() {
    use kubedrain::app::{Msg, update};
    use kubedrain::cluster::watch::{Ev, Feed, WatchReport};
    let mut m = seed_versions_model((120, 40));
    command(&mut m, "versions");
    m.redraw = false;
    // The apiserver's static pod comes back with a newer image: the kubelets fall behind
    // by a minor (in policy) and the controller-manager and scheduler too.
    let report = WatchReport::Feed(Feed::Pods(Ev::Apply(pod(
        "kube-apiserver-master0",
        "master0",
        "registry.k8s.io/kube-apiserver:v1.26.1",
    ))));
    let generation = m.generation;
    update(&mut m, Msg::Watch { generation, report });
    assert!(
        m.redraw,
        "a kube-system pod change redraws the versions view"
    );
    let s = screen(&m);
    assert!(
        s.contains("CONTROL PLANE (compared with the oldest kube-apiserver, v1.25.4)"),
        "{s}"
    );
    assert!(
        s.contains("kube-apiservers at v1.25.4 and v1.26.1: a control-plane upgrade in progress"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_upgrade_scenario_the_n3_worker_blocks_and_goes_first() {
    let o = versions("upgrade", &[]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert!(
        o.stdout.contains("warning  node/blue-2 kubelet: kubelet v1.25.16 is at the oldest minor kube-apiserver v1.28 allows: must be upgraded before the next control-plane upgrade (v1.29 needs ≥ v1.26)"),
        "{ctx}"
    );
    // Three apiservers from their static pods, and /version.
    let apiservers = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("kube-apiserver "))
        .count();
    assert_eq!(apiservers, 4, "{ctx}");
    let o = versions("upgrade", &["--target", "v1.29.1"]).await;
    let ctx = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 0, "{ctx}");
    assert!(
        o.stdout.contains("blocking: blue-2 (kubelet v1.25.16) blocks the control-plane step to v1.29: it must be ≥ v1.26 first"),
        "{ctx}"
    );
    assert_eq!(
        step_nodes(&o.stdout),
        [
            "blue-2", "cp0", "cp1", "cp2", "blue-0", "blue-1", "blue-2", "green-0", "green-1",
            "green-2"
        ],
        "{ctx}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_follow_a_control_plane_upgrade_in_the_simulator() {
    use kubedrain::sim::controllers::{UpgradeTarget, start_upgrade_with};
    let s = sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let target = UpgradeTarget {
        os_image: "Ubuntu 22.04.4 LTS".into(),
        kernel_version: "5.15.0-100-generic".into(),
        kubelet_version: "v1.29.1".into(),
    };
    start_upgrade_with(s.store(), "cp0", target, std::time::Duration::ZERO).unwrap();
    // Wait for the positive event: cp0's apiserver pod runs the new image.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let v = loop {
        let o = kubedrain(&s, dir.path(), &["versions", "-o", "json"]).await;
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        let moved = v["control_plane"].as_array().unwrap().iter().any(|r| {
            r["component"] == "kube-apiserver"
                && r["node"] == "cp0"
                && r["cell"]["version"] == "v1.29.1"
        });
        if moved {
            let findings = serde_json::to_string_pretty(&v["findings"]).unwrap();
            assert_eq!(o.code, 0, "{findings}");
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "cp0 never moved: {}",
            o.stdout
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    s.stop().await;
    // Mid-upgrade: still compared with the oldest apiserver, and said so.
    assert_eq!(v["apiserver"], "v1.28.6");
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "kube-apiservers at v1.28.6 and v1.29.1: a control-plane upgrade in progress"
        )),
        "{messages:?}"
    );
    // cp0's controller-manager is newer than the other apiservers: in policy only while it
    // talks to its own node's, which is kubeadm's way; a warning, not a violation.
    let cm = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"] == "kube-system/kube-controller-manager-cp0")
        .unwrap();
    assert_eq!(cm["severity"], "warning", "{cm}");
    assert!(
        cm["message"]
            .as_str()
            .unwrap()
            .contains("talks to its own node's kube-apiserver v1.29.1"),
        "{cm}"
    );
    // So is its kubelet (kubeadm upgrades it with the node).
    let kubelet = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"] == "node/cp0 kubelet")
        .unwrap();
    assert_eq!(kubelet["severity"], "warning", "{kubelet}");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "error"),
        "{messages:?}"
    );
}
