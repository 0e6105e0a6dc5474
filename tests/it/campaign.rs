//! Campaigns end to end against the simulator, through the library: the seed campaign within
//! its budgets, a node that does not come back, a held wave, resume after an abort, pause,
//! and only the campaign's own cordons lifted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::campaign_support::*;
use crate::drain_support::sim::*;
use kube::api::Api;
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::{Start, start_campaign};
use kubedrain::campaign::journal::{Step, last_unfinished};
use kubedrain::campaign::plan::Selection;
use kubedrain::campaign::upgrade::UpgradeHook;
use kubedrain::sim::controllers::set_node_ready;
use tokio::sync::mpsc;

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
