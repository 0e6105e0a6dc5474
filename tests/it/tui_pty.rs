//! The real binary in a pseudo-terminal, against a simulator started by the test.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kubedrain::sim::kinds::Kind;
use kubedrain::sim::server::{SimOptions, Simulator};
use serde_json::json;

use crate::common::pty::Pty;

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// kubectl from `$KUBECTL` or PATH.
fn find_kubectl() -> Option<std::path::PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL") {
        return Some(k.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// The seed scenario (master0, node0, node1, http-spring ×10, DaemonSets, coredns), with its
/// controllers running.
async fn simulator() -> Simulator {
    Simulator::start(SimOptions::default()).await.unwrap()
}

/// The TUI on `sim` with `extra` arguments; the kubeconfig lives as long as the directory.
fn tui_on(sim: &Simulator, extra: &[&str]) -> (Pty, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
    args.extend_from_slice(extra);
    (Pty::spawn(&args, None), dir)
}

/// An http-spring pod on node0, straight from the simulator's store.
fn spring_pod_on_node0(sim: &Simulator) -> String {
    let (_, pods) = sim.store().list(Kind::Pod, Some("default"));
    pods.iter()
        .filter(|p| p["spec"]["nodeName"] == "node0")
        .filter_map(|p| p["metadata"]["name"].as_str())
        .find(|n| n.starts_with("http-spring"))
        .expect("seed has http-spring pods on node0")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_tui_follows_the_cluster_and_restores_the_terminal() {
    let sim = simulator().await;
    let (mut pty, dir) = tui_on(&sim, &[]);
    let kc = dir.path().join("kubeconfig");
    let long = Duration::from_secs(20);

    pty.wait_for("the three nodes", long, |s| {
        s.contains("master0") && s.contains("node0") && s.contains("node1") && s.contains("live")
    });
    // Select node0 (master0 sorts first): its pods show.
    pty.send(b"j");
    let victim = spring_pod_on_node0(&sim);
    pty.wait_for("node0's pods", long, |s| s.contains(&victim));

    // `kubectl cordon node0` beside the TUI (the API's PATCH when kubectl is missing outside CI).
    match find_kubectl() {
        Some(kubectl) => {
            let out = std::process::Command::new(kubectl)
                .args(["--kubeconfig", kc.to_str().unwrap(), "cordon", "node0"])
                .env("KUBECACHEDIR", dir.path().join("cache"))
                .output()
                .expect("kubectl runs");
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("node/node0 cordoned"),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "kubectl not found (set KUBECTL or PATH); CI=true requires it"
            );
            let nodes: Api<Node> = Api::all(sim.client().await.unwrap());
            let patch = json!({"spec": {"unschedulable": true}});
            nodes
                .patch("node0", &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
    }
    // Pushed by the watch (no polling), so it shows at once; the deadline is only generous
    // for loaded CI machines.
    pty.wait_for("node0 cordoned", Duration::from_secs(20), |s| {
        s.lines()
            .any(|l| l.contains("node0") && l.contains("SchedulingDisabled"))
    });

    // A deleted pod leaves the pods pane.
    sim.store().delete(Kind::Pod, "default", &victim).unwrap();
    // (Its events stay in the events pane below, as they do on a real cluster.)
    pty.wait_for("the deleted pod gone", Duration::from_secs(20), |s| {
        let pods = s.split("Events (").next().unwrap_or(s);
        !pods.contains(&victim) && pods.contains("kube-proxy")
    });

    pty.send(b"q");
    assert!(
        pty.wait_exit(Duration::from_secs(5)),
        "q exits successfully"
    );
    let raw = pty.raw();
    let entered = find(&raw, ENTER_ALT).expect("alternate screen entered");
    let left = find(&raw, LEAVE_ALT).expect("alternate screen left");
    assert!(left > entered, "alternate screen left after the last enter");
    assert!(!pty.in_alternate_screen());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_quits_from_the_filter_line_and_restores_the_terminal() {
    let sim = simulator().await;
    let (mut pty, _dir) = tui_on(&sim, &["--readonly"]);
    pty.wait_for("nodes", Duration::from_secs(20), |s| s.contains("node1"));
    let s = pty.screen();
    assert!(s.contains("READ-ONLY") && !s.contains("cordon"), "{s}");
    pty.send(b"/spring");
    pty.wait_for("filter line", Duration::from_secs(5), |s| {
        s.contains("/spring")
    });
    pty.send(b"\x03");
    assert!(pty.wait_exit(Duration::from_secs(5)));
    let raw = pty.raw();
    assert!(find(&raw, LEAVE_ALT) > find(&raw, ENTER_ALT));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizing_the_terminal_redraws_at_the_new_size_and_keys_still_work() {
    let sim = simulator().await;
    let (mut pty, _dir) = tui_on(&sim, &[]);
    let long = Duration::from_secs(20);
    pty.wait_for("nodes at 140 columns", long, |s| {
        s.contains("node1") && s.contains("live")
    });
    // The nodes pane's top-right corner sits in the last column only once a frame was drawn
    // for that width; the 140-column frame cut to 80 columns has no corner there.
    let corner_at = |cols: usize| {
        move |s: &str| {
            s.lines()
                .find(|l| l.contains("Nodes ("))
                .is_some_and(|l| l.chars().count() == cols && l.ends_with('┓'))
        }
    };
    pty.resize(24, 80);
    let s = pty.wait_for_screen("a frame 80 columns wide", long, corner_at(80));
    assert!(
        s.lines().any(|l| l.starts_with(" Enter pods")),
        "hint bar:\n{s}"
    );
    pty.resize(12, 50);
    pty.wait_for("the too-small notice", long, |s| s.contains("have 50×12"));
    pty.resize(40, 120);
    pty.wait_for("a frame 120 columns wide", long, corner_at(120));
    // Keys are read after the resizes: `j` selects node0 (master0 sorts first).
    pty.send(b"j");
    pty.wait_for("node0's pods", long, |s| {
        s.contains("Pods") && s.contains("· node0")
    });
    pty.send(b"q");
    assert!(pty.wait_exit(long), "q quits at once with no drain running");
    assert!(!pty.in_alternate_screen());
    sim.stop().await;
}

fn assert_clean_failure(args: &[&str], expect: &str) {
    let mut pty = Pty::spawn(args, None);
    let ok = pty.wait_exit(Duration::from_secs(20));
    assert!(!ok, "must exit non-zero");
    let raw = pty.raw();
    assert!(
        find(&raw, ENTER_ALT).is_none(),
        "no alternate screen before the error"
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains(expect), "expected {expect:?} in:\n{text}");
}

#[test]
fn bad_kubeconfig_is_a_clear_error_on_a_normal_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, "this: is: not [ a kubeconfig").unwrap();
    assert_clean_failure(
        &["--kubeconfig", kc.to_str().unwrap()],
        "cannot read kubeconfig",
    );
}

#[test]
fn unreachable_server_is_a_clear_error_on_a_normal_terminal() {
    // Bind and drop a listener: its port is closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    assert_clean_failure(
        &["--kubeconfig", kc.to_str().unwrap()],
        "cannot reach the API server",
    );
}

/// `NO_COLOR=1`: no colour is sent at all (crossterm writes a disabled colour as an empty SGR,
/// which would reset bold and reverse), and the selected row stands out in reverse video.
#[test]
fn no_color_sends_no_colours_and_keeps_the_selection_visible() {
    let state = tempfile::tempdir().unwrap();
    let mut pty =
        crate::common::pty::Pty::spawn_env(&["demo"], Some(state.path()), &[("NO_COLOR", "1")]);
    let long = std::time::Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node1") && s.contains("live")
    });
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    let rows = pty.reverse_rows();
    assert!(
        rows.iter()
            .any(|r| r.contains("node0") && r.contains("Ready")),
        "the selected row is in reverse video: {rows:?}\n{}",
        pty.screen()
    );
    assert!(!rows.iter().any(|r| r.contains("master0")), "{rows:?}");
    let raw = String::from_utf8_lossy(&pty.raw()).to_string();
    let colour =
        regex::Regex::new(r"\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9;]*)?m").unwrap();
    let empty_sgr = raw.matches("\x1b[m").count();
    assert!(
        colour.find(&raw).is_none(),
        "a colour was sent: {:?}",
        colour.find(&raw)
    );
    // Only the end-of-frame reset may be empty: never one per styled cell.
    assert!(empty_sgr < 50, "{empty_sgr} empty SGRs");
    pty.send(b"q");
    assert!(pty.wait_exit(long));
}

/// `:ctx` picks among the kubeconfig's contexts and continues in the one chosen: a new
/// connection to another cluster (here a second simulator), its nodes on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctx_picks_a_context_and_switches_to_another_cluster() {
    let seed = simulator().await;
    let pdb = Simulator::start(SimOptions {
        scenario: "pdb-blocked".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Two files, one context each, merged through $KUBECONFIG as kubectl does.
    let mut files = Vec::new();
    for (sim, name) in [(&seed, "seed"), (&pdb, "pdb")] {
        let yaml = sim
            .kubeconfig_as(None)
            .replace("kubedrain-sim", name)
            .replace("name: kubedrain\n", &format!("name: admin-{name}\n"))
            .replace("user: kubedrain\n", &format!("user: admin-{name}\n"));
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        files.push(path.display().to_string());
    }
    let list = files.join(":");
    let mut pty = crate::common::pty::Pty::spawn_env(&[], None, &[("KUBECONFIG", list.as_str())]);
    let long = Duration::from_secs(30);
    pty.wait_for("the seed cluster", long, |s| {
        s.contains("master0") && s.contains("live")
    });
    pty.send(b":ctx nope\r");
    pty.wait_for("an unknown context refused", long, |s| {
        s.contains("no context nope in the kubeconfig")
    });
    // `:ctx` alone: the picker, the current context marked; typing filters, Enter switches.
    pty.send(b":ctx\r");
    pty.wait_for("the context picker", long, |s| {
        s.contains(" Context ") && s.contains("● seed") && s.contains("pdb")
    });
    pty.send(b"pd");
    pty.wait_for("filtered to pdb", long, |s| {
        s.contains("> pd") && !s.contains("● seed")
    });
    pty.send(b"\r");
    pty.wait_for("the pdb-blocked cluster", long, |s| {
        s.contains("cp0") && s.contains("node2") && !s.contains("master0") && s.contains("live")
    });
    pty.send(b"q");
    assert!(pty.wait_exit(long));
    seed.stop().await;
    pdb.stop().await;
}
