//! `kubedrain campaign` through the binary: the dry run's order and forecast, waiting for the
//! operator, Ctrl-C and --resume, and the demo's in-process simulated upgrade.

use std::time::Duration;

use crate::campaign_support::*;
use crate::drain_support::sim::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_order_and_exits_1_when_a_wave_would_be_held() {
    let dir = tempfile::tempdir().unwrap();
    let run = |kubeconfig: std::path::PathBuf, args: Vec<&'static str>| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"));
        cmd.arg("campaign")
            .args(args)
            .arg("--dry-run")
            .arg("--ignore-daemonsets")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env("KUBEDRAIN_STATE_DIR", dir.path())
            .env("NO_COLOR", "1");
        async move {
            let o = tokio::time::timeout(DEADLINE, cmd.output())
                .await
                .unwrap()
                .unwrap();
            (
                o.status.code(),
                String::from_utf8(o.stdout).unwrap(),
                String::from_utf8(o.stderr).unwrap(),
            )
        }
    };
    let seed = sim("seed").await;
    assert!(seed.wait_controllers_ready(Duration::from_secs(30)));
    let kc = dir.path().join("seed.kubeconfig");
    seed.write_kubeconfig(&kc).unwrap();
    let (code, out, err) = run(kc, vec!["--target", "1.26.0"]).await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    let order: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  wave "))
        .map(str::trim)
        .collect();
    assert_eq!(
        order,
        [
            "wave 1/3: master0 (control plane)",
            "wave 2/3: node0",
            "wave 3/3: node1"
        ],
        "{out}"
    );
    assert!(out.contains("target v1.26.0"), "{out}");
    assert!(
        out.contains("forecast: 6 replacement(s), 0 Pending"),
        "{out}"
    );
    let c = client(&seed).await;
    for n in ["master0", "node0", "node1"] {
        assert!(!node(&c, n).await.unschedulable, "dry run changes nothing");
    }
    let room = sim("no-room").await;
    assert!(room.wait_controllers_ready(Duration::from_secs(30)));
    let kc = dir.path().join("room.kubeconfig");
    room.write_kubeconfig(&kc).unwrap();
    let (code, out, _) = run(kc.clone(), vec!["--all-workers", "--max-unavailable", "2"]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("HELD: the wave's forecast leaves 6 pod(s) Pending"),
        "{out}"
    );
    let (code, _, err) = run(kc, vec!["--target", "latest"]).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("invalid --target \"latest\""), "{err}");
    assert!(
        !dir.path().join("campaign.jsonl").exists(),
        "a dry run journals nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_campaign_waits_for_the_operator_stops_on_ctrl_c_and_resumes() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let cmd = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"));
        cmd.arg("campaign")
            .args(args)
            .args(["--target", PATCH, "--ignore-daemonsets", "--kubeconfig"])
            .arg(&kc)
            .env("KUBEDRAIN_STATE_DIR", dir.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        cmd
    };
    let report1 = dir.path().join("first");
    let mut child = cmd(&["node0", "--report", report1.to_str().unwrap()])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = vec![];
    // Nobody upgrades node0: the campaign prints what to run and waits for the version.
    tokio::time::timeout(DEADLINE, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            out.push(l.clone());
            if l == "waiting: node/node0 reports kubelet v1.25.4, expecting v1.25.9" {
                return;
            }
        }
        panic!("no waiting line: {out:#?}");
    })
    .await
    .expect("the campaign waits for the upgrade");
    assert!(
        out.iter()
            .any(|l| l == "node/node0: upgrade node node0 now; on its host run:"),
        "{out:#?}"
    );
    assert!(out.iter().any(|l| l.trim() == "sudo kubeadm upgrade node"));
    assert!(node(&c, "node0").await.unschedulable);
    let pid = child.id().unwrap() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    while let Some(l) = lines.next_line().await.unwrap() {
        out.push(l);
    }
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130), "{out:#?}");
    assert!(
        out.iter()
            .any(|l| l == "campaign stopped: aborted at node/node0 gate"),
        "{out:#?}"
    );
    assert!(node(&c, "node0").await.unschedulable, "stays cordoned");
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report1.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(first["outcome"], "aborted at node/node0 gate");
    // The operator upgrades node0 while kubedrain is not running; --resume picks it up.
    sim_upgrade(sim.store())("node0", Some(PATCH)).unwrap();
    let report2 = dir.path().join("second");
    let o = tokio::time::timeout(
        DEADLINE,
        cmd(&["--resume", "--report", report2.to_str().unwrap()]).output(),
    )
    .await
    .unwrap()
    .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("at node/node0, step gate"), "{text}");
    assert!(
        text.contains("node/node0: back in service (Ready, kubelet v1.25.4 → v1.25.9"),
        "{text}"
    );
    assert!(text.contains("node/node0: uncordoned"), "{text}");
    assert!(
        text.trim_end().lines().any(|l| l == "campaign completed"),
        "{text}"
    );
    let row = node(&c, "node0").await;
    assert!(!row.unschedulable);
    assert_eq!(row.kubelet_version, PATCH);
    // One campaign across both runs: the report has the first run's cordon and drain too.
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report2.with_extension("json")).unwrap())
            .unwrap();
    let steps: Vec<&str> = second["nodes"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["outcome"] != "waiting" && m["outcome"] != "started")
        .map(|m| m["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["cordon", "drain", "upgrade", "stop", "gate", "uncordon"],
        "the abort is on the timeline where it happened"
    );
    assert_eq!(second["campaign"], first["campaign"]);
    assert_eq!(second["outcome"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_upgrade_runs_the_demo_campaign_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["campaign", "node0", "--simulate-upgrade", "seed"])
        .args(["--target", PATCH, "--ignore-daemonsets", "--report"])
        .arg(&report)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output();
    let o = tokio::time::timeout(DEADLINE, o).await.unwrap().unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("node/node0: upgrading (started in-process)"),
        "{out}"
    );
    assert!(
        out.contains("node/node0: back in service (Ready, kubelet v1.25.4 → v1.25.9"),
        "{out}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(r["nodes"][0]["after"]["kubelet"], PATCH);
}
