//! The queued taint on the `upgrade` scenario: on the nodes waiting their turn while the first
//! drains (so its pods land elsewhere), lifted from each at its turn and gone from every node
//! at the end; the dry run's forecast counts it the way the scheduler does.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use crate::campaign_support::*;
use crate::drain_support::sim::*;
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::{CampaignControl, Start, start_campaign};
use kubedrain::campaign::journal::Step;
use kubedrain::campaign::plan::Selection;
use kubedrain::sim::Kind;
use tokio::sync::mpsc;

const TO: &str = "v1.28.6";
const BLUE: [&str; 3] = ["blue-0", "blue-1", "blue-2"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_nodes_carry_the_taint_while_the_first_drains_and_none_does_at_the_end() {
    let (sim, c) = ready_sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let names = BLUE.map(str::to_string).to_vec();
    let mut sp = spec(&c, Selection::Names(names), 1, Some(TO)).await;
    sp.taint_queued = true;
    let order: Vec<Vec<String>> = sp.waves.iter().map(|w| w.nodes.clone()).collect();
    assert_eq!(order, [["blue-0"], ["blue-1"], ["blue-2"]]);
    let before: BTreeSet<String> = pods(&c).await.iter().map(|p| p.key()).collect();
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    // At blue-0's first drain event, read the nodes' taints from the store (synchronously:
    // while the drain runs) and pause, so the campaign stops right after this drain.
    let at_drain: Arc<Mutex<Option<Vec<String>>>> = Arc::default();
    let control: Arc<OnceLock<CampaignControl>> = Arc::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (seen, ctl, store) = (at_drain.clone(), control.clone(), sim.store().clone());
    let h = start_campaign(s, Start::New(sp), move |e| {
        if matches!(e, CampaignEvent::Drain(_)) && seen.lock().unwrap().is_none() {
            let taints =
                BLUE.map(|n| store.get(Kind::Node, "", n).unwrap()["spec"]["taints"].to_string());
            *seen.lock().unwrap() = Some(taints.to_vec());
            while ctl.get().is_none() {
                std::thread::yield_now();
            }
            ctl.get().unwrap().pause();
        }
        let _ = tx.send(e);
    });
    let _ = control.set(h.control());
    let id = h.id().to_string();
    until(&mut rx, "the pause after blue-0's drain", |e| {
        matches!(e, CampaignEvent::Paused(true)).then_some(())
    })
    .await;
    let taints = at_drain.lock().unwrap().clone().expect("a drain event");
    let ours = format!(r#""key":"kubedrain.io/queued","value":"{id}""#);
    let effect = r#""effect":"PreferNoSchedule""#;
    assert!(!taints[0].contains("kubedrain.io/queued"), "{taints:?}");
    for t in &taints[1..] {
        assert!(t.contains(&ours) && t.contains(effect), "{taints:?}");
    }
    // blue-0's pods came back elsewhere, and not on the nodes next in line (blue-2, the
    // emptiest node, is where the resource scores alone would put them).
    eventually("blue-0's replacements scheduled", || async {
        let new: Vec<_> = pods(&c)
            .await
            .into_iter()
            .filter(|p| !before.contains(&p.key()) && !p.is_daemonset_pod())
            .collect();
        new.len() == 3 && new.iter().all(|p| p.node_name.is_some())
    })
    .await;
    for p in pods(&c).await {
        if !before.contains(&p.key()) && !p.is_daemonset_pod() {
            let on = p.node_name.as_deref().unwrap_or_default();
            assert!(on.starts_with("green-"), "{} landed on {on}", p.key());
        }
    }
    h.resume();
    let (state, _, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    let (_, nodes) = sim.store().list(Kind::Node, None);
    for n in &nodes {
        assert!(
            !n["spec"]["taints"]
                .to_string()
                .contains("kubedrain.io/queued"),
            "{}",
            n["metadata"]["name"]
        );
    }
    let lines: Vec<(String, String)> = journal
        .of(&id)
        .iter()
        .filter(|e| e.step == Step::Taint)
        .map(|e| (e.node.clone().unwrap_or_default(), e.outcome.clone()))
        .collect();
    let want = [
        ("blue-1", "tainted"),
        ("blue-2", "tainted"),
        ("blue-1", "untainted"),
        ("blue-2", "untainted"),
    ]
    .map(|(n, o)| (n.to_string(), o.to_string()));
    assert_eq!(lines, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_forecast_steers_away_from_queued_nodes_like_the_scheduler() {
    let (sim, _c) = ready_sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let forecast_of_wave_1 = |extra: &'static [&'static str]| {
        let mut args = vec!["--target", TO, "--ignore-daemonsets", "--dry-run"];
        args.extend(BLUE);
        args.extend(extra);
        let mut cmd = campaign_cmd(&kc, dir.path(), &args);
        async move {
            let o = tokio::time::timeout(DEADLINE, cmd.output())
                .await
                .unwrap()
                .unwrap();
            let out = String::from_utf8(o.stdout).unwrap();
            assert_eq!(o.status.code(), Some(0), "{out}");
            // The placements of wave 1 (blue-0's pods): "    ns/pod → node".
            let wave1 = out
                .split("wave 2/3: blue-1: pre-check")
                .next()
                .unwrap()
                .to_string();
            let targets: Vec<String> = wave1
                .lines()
                .filter_map(|l| l.strip_prefix("    ")?.split_once(" → "))
                .map(|(_, to)| to.to_string())
                .collect();
            (out, targets)
        }
    };
    let (out, with) = forecast_of_wave_1(&[]).await;
    assert!(
        out.contains("queued nodes: taint kubedrain.io/queued:PreferNoSchedule"),
        "{out}"
    );
    assert_eq!(with.len(), 3, "{out}");
    assert!(with.iter().all(|t| t.starts_with("green-")), "{out}");
    let (out, without) = forecast_of_wave_1(&["--taint-queued=false"]).await;
    assert!(!out.contains("queued nodes:"), "{out}");
    assert!(
        without.iter().any(|t| t.starts_with("blue-")),
        "without the taint the forecast sends some to blue-1/blue-2: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taint_whose_journal_line_a_crash_lost_is_known_by_its_value_and_lifted() {
    use kube::api::{Api, Patch, PatchParams};
    use kubedrain::campaign::journal::{Entry, last_unfinished};
    let (sim, c) = ready_sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let names = vec!["node0".to_string(), "node1".to_string()];
    let mut sp = spec(&c, Selection::Names(names), 1, Some(PATCH)).await;
    sp.taint_queued = true;
    // The process put its taint on node1 and died before journaling it; master0 carries
    // another campaign's, which is none of this one's business.
    journal
        .record(Entry {
            time: jiff::Timestamp::now(),
            campaign: "crashed".into(),
            context: String::new(),
            server: String::new(),
            wave: None,
            node: None,
            step: Step::Start,
            outcome: "started".into(),
            detail: Some(serde_json::to_string(&sp).unwrap()),
        })
        .await
        .unwrap();
    let nodes = Api::<k8s_openapi::api::core::v1::Node>::all(c.clone());
    for (n, id) in [("node1", "crashed"), ("master0", "other")] {
        let cur = nodes.get(n).await.unwrap();
        let mut list = serde_json::to_value(cur.spec.unwrap().taints.unwrap_or_default()).unwrap();
        list.as_array_mut().unwrap().push(serde_json::json!(
            {"key": "kubedrain.io/queued", "value": id, "effect": "PreferNoSchedule"}
        ));
        let patch = serde_json::json!({"spec": {"taints": list}});
        nodes
            .patch(n, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }
    let progress = last_unfinished(&journal.entries(), &sim.url()).unwrap();
    assert!(progress.tainted.is_empty(), "the journal does not know it");
    let (_h, mut rx) = start(s, Start::Resume(progress));
    let (state, _, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    assert!(!queued(&c, "node1").await, "lifted at its turn");
    assert!(
        taints(&c, "master0")
            .await
            .contains(&"kubedrain.io/queued=other:PreferNoSchedule".to_string()),
        "another campaign's taint stays"
    );
    let lines: Vec<(String, String, String)> = journal
        .of("crashed")
        .iter()
        .filter(|e| e.step == Step::Taint)
        .map(|e| {
            let n = e.node.clone().unwrap_or_default();
            (n, e.outcome.clone(), e.detail.clone().unwrap_or_default())
        })
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(
        (lines[0].0.as_str(), lines[0].1.as_str()),
        ("node1", "tainted")
    );
    assert!(lines[0].2.contains("found on the node"), "{lines:#?}");
    assert_eq!(
        (lines[1].0.as_str(), lines[1].1.as_str()),
        ("node1", "untainted")
    );
}
