//! Campaigns end to end against the simulator: the executor through the library (with the
//! simulator's upgrade as the hook, or the test playing the operator), and `kubedrain
//! campaign --dry-run` through the binary.

use crate::drain_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drain_support::sim::*;
use kube::Client;
use kube::api::{Api, PostParams};
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::{CampaignHandle, Setup, Start, start_campaign};
use kubedrain::campaign::gate::Baseline;
use kubedrain::campaign::journal::{CampaignJournal, Spec, Step, last_unfinished};
use kubedrain::campaign::plan::{Selection, select, waves};
use kubedrain::campaign::read;
use kubedrain::campaign::report::Report;
use kubedrain::campaign::upgrade::UpgradeHook;
use kubedrain::cluster::rows::NodeRow;
use kubedrain::drain::journal::Target;
use kubedrain::sim::Simulator;
use kubedrain::sim::controllers::{default_upgrade_target, set_node_ready, start_upgrade_with};
use kubedrain::sim::store::Store;
use tokio::sync::mpsc;

const TARGET: &str = "v1.26.0";
/// A patch release of the seed's control-plane minor: one worker alone may go there (a minor
/// ahead of master0 would leave the skew policy, and `kubedrain campaign` holds that).
const PATCH: &str = "v1.25.9";

/// The simulator's upgrade (2 simulated seconds of reboot) to `target`.
fn sim_upgrade(store: &Arc<Store>) -> UpgradeHook {
    let store = store.clone();
    Arc::new(move |node: &str, target: Option<&str>| {
        let mut t = default_upgrade_target(&store, node).map_err(|e| e.to_string())?;
        if let Some(v) = target {
            t.kubelet_version = v.to_string();
        }
        start_upgrade_with(&store, node, t, Duration::from_secs(2)).map_err(|e| e.to_string())
    })
}

fn setup(sim: &Simulator, c: &Client, dir: &tempfile::TempDir, hook: Option<UpgradeHook>) -> Setup {
    Setup {
        client: c.clone(),
        journal: CampaignJournal {
            path: dir.path().join("campaign.jsonl"),
            target: Target {
                context: "kubedrain-sim".into(),
                server: sim.url(),
            },
        },
        drain_journal: journal(sim, dir),
        opts: ignore_ds(),
        upgrade: hook,
        poll: Duration::from_millis(200),
    }
}

async fn spec(c: &Client, sel: Selection, max_unavailable: usize, target: Option<&str>) -> Spec {
    let cluster = read::cluster(c).await.unwrap();
    let chosen: Vec<&NodeRow> = select(&cluster.nodes, &sel).unwrap();
    Spec {
        waves: waves(&chosen, max_unavailable),
        target: target.map(str::to_string),
        max_unavailable,
        soak_secs: 0,
        allow_outage: false,
        baseline: Baseline::of(&cluster.pods, &cluster.pdbs),
    }
}

fn start(s: Setup, st: Start) -> (CampaignHandle, mpsc::UnboundedReceiver<CampaignEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let h = start_campaign(s, st, move |e| {
        let _ = tx.send(e);
    });
    (h, rx)
}

/// Events until `Finished`; `on` sees each one first (to play the operator).
async fn until_finished(
    rx: &mut mpsc::UnboundedReceiver<CampaignEvent>,
    mut on: impl FnMut(&CampaignEvent),
) -> (CampaignState, Report, Vec<CampaignEvent>) {
    let mut seen = vec![];
    let r = tokio::time::timeout(Duration::from_secs(240), async {
        while let Some(e) = rx.recv().await {
            on(&e);
            if let CampaignEvent::Finished { state, report } = &e {
                return (state.clone(), (**report).clone());
            }
            seen.push(e);
        }
        panic!("the campaign ended without a Finished event");
    })
    .await;
    let (state, report) = r.unwrap_or_else(|_| panic!("campaign did not finish: {seen:#?}"));
    (state, report, seen)
}

async fn add_pdb(c: &Client, min: i32) {
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "http-spring", "namespace": "default"},
            "spec": {"minAvailable": min, "selector": {"matchLabels": {"app": "http-spring"}}}
        }))
        .unwrap();
    Api::namespaced(c.clone(), "default")
        .create(&PostParams::default(), &pdb)
        .await
        .unwrap();
    eventually("the PDB's status", || async {
        let b: Vec<kubedrain::cluster::rows::PdbRow> =
            read::list(c, &Default::default()).await.unwrap();
        b.iter()
            .any(|b| b.desired_healthy == min && b.current_healthy == 10)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_seed_upgrades_master0_then_node0_then_node1_within_budgets() {
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    add_pdb(&c, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&c, Selection::All, 1, Some(TARGET)).await;
    let order: Vec<Vec<String>> = spec.waves.iter().map(|w| w.nodes.clone()).collect();
    assert_eq!(order, [["master0"], ["node0"], ["node1"]]);
    // Budgets watched all along, from the store, every 10 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let broken = {
        let (store, stop) = (sim.store().clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = budgets_hold(&store) {
                    return Some(e);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            None
        })
    };
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let (h, mut rx) = start(s, Start::New(spec));
    let id = h.id().to_string();
    let (state, report, events) = until_finished(&mut rx, |_| {}).await;
    stop.store(true, Ordering::Relaxed);
    assert_eq!(state, CampaignState::Completed, "{events:#?}");
    assert_eq!(
        broken.await.unwrap(),
        None,
        "a PDB went below its desired health"
    );
    // Every node at the target, schedulable again.
    for n in ["master0", "node0", "node1"] {
        let row = node(&c, n).await;
        assert_eq!(row.kubelet_version, TARGET, "{n}");
        assert!(!row.unschedulable, "{n} uncordoned");
    }
    // Every app pod Running and Ready.
    eventually("every app pod Running", || async {
        let ps = pods(&c).await;
        let apps: Vec<_> = ps
            .iter()
            .filter(|p| !p.is_terminating() && !p.is_mirror() && !p.is_daemonset_pod())
            .collect();
        apps.len() == 13
            && apps
                .iter()
                .all(|p| p.phase.as_str() == "Running" && p.ready)
    })
    .await;
    // Nodes were taken in order: master0's gate passed before node0 was cordoned, etc.
    let entries = journal.of(&id);
    let cordons: Vec<&str> = entries
        .iter()
        .filter(|e| e.step == Step::Cordon && e.completes())
        .filter_map(|e| e.node.as_deref())
        .collect();
    assert_eq!(cordons, ["master0", "node0", "node1"]);
    // The report's timeline is the journal's, node by node.
    for n in &report.nodes {
        let from_journal: Vec<(Step, String, jiff::Timestamp)> = entries
            .iter()
            .filter(|e| e.node.as_deref() == Some(n.name.as_str()))
            .map(|e| (e.step, e.outcome.clone(), e.time))
            .collect();
        let from_report: Vec<(Step, String, jiff::Timestamp)> = n
            .timeline
            .iter()
            .map(|m| (m.step, m.outcome.clone(), m.time))
            .collect();
        assert_eq!(from_report, from_journal, "{}", n.name);
        let steps: Vec<Step> = n
            .timeline
            .iter()
            .filter(|m| m.outcome != "started" && m.outcome != "waiting")
            .map(|m| m.step)
            .collect();
        assert_eq!(
            steps,
            [
                Step::Cordon,
                Step::Drain,
                Step::Upgrade,
                Step::Gate,
                Step::Uncordon
            ],
            "{}",
            n.name
        );
        assert_eq!(n.after.as_ref().unwrap().kubelet, TARGET);
        assert_ne!(n.before.as_ref().unwrap().kubelet, TARGET);
    }
    assert!(
        report
            .waves
            .iter()
            .all(|w| w.soaked_at.is_some() && w.held.is_none()),
        "{report:#?}"
    );
    // minAvailable 8 of 10 lets 2 of node0's 5 http-spring pods go at once: the rest waited.
    assert!(
        report
            .pdb_waits
            .iter()
            .any(|w| w.pdb == "default/http-spring"),
        "{:#?}",
        report.pdb_waits
    );
    assert_eq!(report.outcome, "completed");
    let md = kubedrain::campaign::report::markdown(&report);
    assert!(md.contains("### node0 (wave 2)") && md.contains("default/http-spring"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_does_not_come_back_ready_is_not_uncordoned_and_the_campaign_says_so() {
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = sim.store().clone();
    // The "upgrade" takes the node down and it never comes back.
    let never_back: UpgradeHook = Arc::new(move |node: &str, _: Option<&str>| {
        set_node_ready(&store, node, false).map_err(|e| e.to_string())
    });
    let spec = spec(&c, Selection::Names(vec!["node0".into()]), 1, Some(TARGET)).await;
    let (h, mut rx) = start(setup(&sim, &c, &dir, Some(never_back)), Start::New(spec));
    let line = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            if let CampaignEvent::Waiting {
                node: Some(n),
                message,
            } = e
                && n == "node0"
            {
                return message;
            }
        }
        panic!("no waiting line");
    })
    .await
    .expect("the campaign says what it waits for");
    assert!(
        line.contains("node/node0 is not reporting") && line.contains("stays cordoned"),
        "{line}"
    );
    assert!(node(&c, "node0").await.unschedulable, "still cordoned");
    assert!(!h.is_finished(), "the campaign waits");
    h.abort();
    let (state, report, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(
        state,
        CampaignState::Aborted {
            node: Some("node0".into()),
            step: Step::Gate
        }
    );
    assert!(
        node(&c, "node0").await.unschedulable,
        "abort leaves it cordoned"
    );
    let tl = &report.nodes[0].timeline;
    assert!(tl.iter().all(|m| m.step != Step::Uncordon), "{tl:#?}");
    assert_eq!(report.outcome, "aborted at node/node0 gate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_whose_forecast_leaves_pods_pending_is_held_before_it_starts() {
    let sim = sim("no-room").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&c, Selection::AllWorkers, 2, None).await;
    assert_eq!(spec.waves.len(), 1);
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let (h, mut rx) = start(s, Start::New(spec));
    let id = h.id().to_string();
    let (state, report, _) = until_finished(&mut rx, |_| {}).await;
    let CampaignState::Held { wave: 0, reason } = &state else {
        panic!("held: {state:?}");
    };
    assert!(
        reason.contains("leaves 6 pod(s) Pending") && reason.contains("jobs/renderer-"),
        "{reason}"
    );
    for n in ["node0", "node1"] {
        assert!(!node(&c, n).await.unschedulable, "{n} never cordoned");
    }
    let steps: Vec<(Step, String)> = journal
        .of(&id)
        .iter()
        .map(|e| (e.step, e.outcome.clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (Step::Start, "started".into()),
            (Step::Precheck, "held".into()),
            (Step::Stop, "held".into())
        ]
    );
    assert_eq!(report.waves[0].held.as_deref(), Some(reason.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_abort_continues_at_the_same_node_and_step() {
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&c, Selection::All, 1, Some(TARGET)).await;
    // No hook: the test is the operator. It upgrades master0 when told to, and on node0's
    // turn it aborts the campaign instead (kubedrain quit while the operator worked).
    let s = setup(&sim, &c, &dir, None);
    let journal = s.journal.clone();
    let (h, mut rx) = start(s, Start::New(spec));
    let control = h.control();
    let store = sim.store().clone();
    let told: Arc<Mutex<Vec<String>>> = Arc::default();
    let (state, _, _) = until_finished(&mut rx, |e| {
        if let CampaignEvent::UpgradeNow { node, by_hook, .. } = e {
            assert!(!by_hook);
            told.lock().unwrap().push(node.clone());
            if node == "master0" {
                sim_upgrade(&store)(node, Some(TARGET)).unwrap();
            } else {
                control.abort();
            }
        }
    })
    .await;
    assert_eq!(*told.lock().unwrap(), ["master0", "node0"]);
    assert_eq!(
        state,
        CampaignState::Aborted {
            node: Some("node0".into()),
            step: Step::Gate
        }
    );
    assert!(node(&c, "node0").await.unschedulable);
    let progress = last_unfinished(&journal.entries(), &sim.url()).expect("unfinished");
    assert_eq!(progress.next(), Some(("node0".into(), Step::Gate)));
    let before = journal.entries().len();
    // The operator finishes node0 meanwhile; the resumed campaign runs node1's upgrade itself.
    sim_upgrade(sim.store())("node0", Some(TARGET)).unwrap();
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let (_h, mut rx) = start(s, Start::Resume(progress));
    let (state, _, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    let resumed: Vec<_> = journal.entries().split_off(before);
    assert_eq!(resumed[0].step, Step::Start);
    assert_eq!(resumed[0].outcome, "resumed");
    assert_eq!(
        resumed[0].detail.as_deref(),
        Some("at node/node0 step gate")
    );
    let node_steps: Vec<(String, Step)> = resumed
        .iter()
        .filter(|e| e.outcome != "waiting" && e.outcome != "started")
        .filter_map(|e| Some((e.node.clone()?, e.step)))
        .collect();
    let want: Vec<(String, Step)> = [
        ("node0", Step::Gate),
        ("node0", Step::Uncordon),
        ("node1", Step::Cordon),
        ("node1", Step::Drain),
        ("node1", Step::Upgrade),
        ("node1", Step::Gate),
        ("node1", Step::Uncordon),
    ]
    .iter()
    .map(|(n, s)| (n.to_string(), *s))
    .collect();
    assert_eq!(node_steps, want);
    let versions: BTreeMap<String, String> =
        futures::future::join_all(["master0", "node0", "node1"].map(|n| {
            let c = c.clone();
            async move { (n.to_string(), node(&c, n).await.kubelet_version) }
        }))
        .await
        .into_iter()
        .collect();
    assert!(versions.values().all(|v| v == TARGET), "{versions:?}");
    assert!(
        !node(&c, "node0").await.unschedulable,
        "uncordoned after resume"
    );
}

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
async fn pause_holds_the_campaign_at_the_next_step_boundary_until_resumed() {
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&c, Selection::Names(vec!["node0".into()]), 1, Some(TARGET)).await;
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    // Paused from inside the sink when the pre-check is out (the sink runs on the campaign's
    // task, so the pause is in before the next boundary, node0's cordon).
    let control: Arc<std::sync::OnceLock<kubedrain::campaign::exec::CampaignControl>> =
        Arc::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let in_sink = control.clone();
    let h = start_campaign(s, Start::New(spec), move |e| {
        if matches!(e, CampaignEvent::Checked(_)) {
            while in_sink.get().is_none() {
                std::thread::yield_now();
            }
            in_sink.get().unwrap().pause();
        }
        let _ = tx.send(e);
    });
    let _ = control.set(h.control());
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            match e {
                CampaignEvent::Paused(true) => return,
                CampaignEvent::Phase { .. } => panic!("a step ran while paused: {e:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("the campaign says it is paused");
    assert!(
        !node(&c, "node0").await.unschedulable,
        "paused before the cordon"
    );
    assert!(!h.is_finished());
    h.resume();
    let (state, _, events) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    assert!(
        matches!(events.first(), Some(CampaignEvent::Paused(false))),
        "{events:#?}"
    );
    assert_eq!(node(&c, "node0").await.kubelet_version, TARGET);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_campaigns_own_cordons_are_lifted_even_after_a_crash_mid_cordon() {
    use kubedrain::campaign::journal::Entry;
    let sim = sim("seed").await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // 1. The process died right after cordoning node0 and before journaling it: the journal
    // has the cordon's start line only. The resumed campaign knows the cordon is its own.
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let spec0 = spec(&c, Selection::Names(vec!["node0".into()]), 1, Some(TARGET)).await;
    let line = |step: Step, outcome: &str, node: Option<&str>, detail: Option<String>| Entry {
        time: jiff::Timestamp::now(),
        campaign: "crashed".into(),
        context: String::new(),
        server: String::new(),
        wave: Some(0),
        node: node.map(str::to_string),
        step,
        outcome: outcome.into(),
        detail,
    };
    let spec_json = serde_json::to_string(&spec0).unwrap();
    journal
        .record(line(Step::Start, "started", None, Some(spec_json)))
        .await
        .unwrap();
    journal
        .record(line(Step::Precheck, "proceed", None, None))
        .await
        .unwrap();
    journal
        .record(line(Step::Cordon, "started", Some("node0"), None))
        .await
        .unwrap();
    kubedrain::drain::node_ops::cordon(&c, "node0", false, &s.drain_journal)
        .await
        .unwrap();
    let progress = last_unfinished(&journal.entries(), &sim.url()).unwrap();
    assert_eq!(progress.next(), Some(("node0".into(), Step::Cordon)));
    let (_h, mut rx) = start(s, Start::Resume(progress));
    let (state, report, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    assert!(report.nodes[0].cordoned_by_campaign);
    let n0 = node(&c, "node0").await;
    assert!(!n0.unschedulable, "its own cordon is lifted");
    assert_eq!(n0.kubelet_version, TARGET);
    // 2. node1 was cordoned by someone else before the campaign: upgraded, left cordoned.
    let patch = serde_json::json!({"spec": {"unschedulable": true}});
    Api::<k8s_openapi::api::core::v1::Node>::all(c.clone())
        .patch(
            "node1",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    let spec1 = spec(&c, Selection::Names(vec!["node1".into()]), 1, Some(TARGET)).await;
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let (_h, mut rx) = start(s, Start::New(spec1));
    let (state, report, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    let n1 = node(&c, "node1").await;
    assert!(
        n1.unschedulable,
        "a cordon that predates the campaign stays"
    );
    assert_eq!(n1.kubelet_version, TARGET);
    let outcomes: Vec<(Step, &str)> = report.nodes[0]
        .timeline
        .iter()
        .map(|m| (m.step, m.outcome.as_str()))
        .collect();
    assert!(
        outcomes.contains(&(Step::Cordon, "already-cordoned")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&(Step::Uncordon, "left-cordoned")),
        "{outcomes:?}"
    );
    assert!(!report.nodes[0].cordoned_by_campaign);
}
