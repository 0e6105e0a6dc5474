//! Campaigns on the `upgrade` scenario: a node someone uncordons during its drain is cordoned
//! again with a warning, and green-1 (whose kubelet does not come back after the reboot) is
//! not uncordoned while the campaign waits with a clear line and takes no next node.

use crate::campaign_support::*;
use crate::drain_support::sim::*;
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::Start;
use kubedrain::campaign::journal::Step;
use kubedrain::campaign::plan::Selection;
use kubedrain::drain::events::{DrainEvent, PodState};
use kubedrain::sim::Kind;

const TO: &str = "v1.28.6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_uncordoned_during_its_drain_is_cordoned_again_with_a_warning() {
    let (sim, c) = ready_sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    // data/db allows no eviction now: the drain of green-0 waits on its db pod.
    hold_db(&sim, &c).await;
    let sp = spec(&c, Selection::Names(vec!["green-0".into()]), 1, Some(TO)).await;
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let (h, mut rx) = start(s, Start::New(sp));
    until(&mut rx, "the PDB holding the drain", |e| match e {
        CampaignEvent::Drain(d) => matches!(
            d.as_ref(),
            DrainEvent::Pod {
                state: PodState::BlockedByPdb { .. },
                ..
            }
        )
        .then_some(()),
        _ => None,
    })
    .await;
    // Someone runs `kubectl uncordon green-0` while the drain waits.
    set_unschedulable(&c, "green-0", false).await;
    let warning = until(&mut rx, "the re-cordon warning", |e| match e {
        CampaignEvent::Notice(m) if m.contains("was uncordoned during its drain") => {
            Some(m.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(
        warning,
        "warning: node/green-0 was uncordoned during its drain (not by this campaign): cordoned it again"
    );
    assert!(node(&c, "green-0").await.unschedulable, "cordoned again");
    let recordon = journal
        .of(h.id())
        .into_iter()
        .find(|e| e.outcome == "re-cordoned")
        .expect("journaled");
    assert_eq!(
        (recordon.node.as_deref(), recordon.step),
        (Some("green-0"), Step::Drain)
    );
    // The budget lets go: the campaign finishes, and only then is green-0 schedulable.
    release_db(&sim);
    let (state, report, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    let n = node(&c, "green-0").await;
    assert!(!n.unschedulable);
    assert_eq!(n.kubelet_version, TO);
    assert!(
        report.nodes[0]
            .timeline
            .iter()
            .any(|m| m.outcome == "re-cordoned")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn green_1_failing_its_reboot_stays_cordoned_and_the_campaign_waits_there() {
    let (sim, c) = ready_sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["green-1".to_string(), "green-2".to_string()];
    let mut sp = spec(&c, Selection::Names(names), 1, Some(TO)).await;
    sp.taint_queued = true;
    let order: Vec<Vec<String>> = sp.waves.iter().map(|w| w.nodes.clone()).collect();
    assert_eq!(order, [["green-1"], ["green-2"]]);
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let (h, mut rx) = start(s, Start::New(sp));
    until(&mut rx, "green-1's upgrade", |e| {
        matches!(e, CampaignEvent::UpgradeNow { node, .. } if node == "green-1").then_some(())
    })
    .await;
    // The positive event that ends the reboot window: the simulator's own RebootFailed.
    let store = sim.store().clone();
    eventually("green-1's RebootFailed event", || {
        let store = store.clone();
        async move {
            store
                .list(Kind::Event, None)
                .1
                .iter()
                .any(|e| e["reason"] == "RebootFailed" && e["involvedObject"]["name"] == "green-1")
        }
    })
    .await;
    // The campaign's line for green-1 since its upgrade (sent when it changes).
    let line = until(&mut rx, "the gate's line for green-1", |e| match e {
        CampaignEvent::Waiting {
            node: Some(n),
            message,
        } if n == "green-1" => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(
        line.starts_with("node/green-1 is ")
            && line.ends_with("it stays cordoned until it is Ready again"),
        "{line}"
    );
    assert!(!h.is_finished(), "the campaign waits");
    assert!(node(&c, "green-1").await.unschedulable, "not uncordoned");
    let g2 = node(&c, "green-2").await;
    assert!(!g2.unschedulable, "the next node is not taken");
    assert!(queued(&c, "green-2").await, "and still queued");
    h.abort();
    let (state, report, events) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(
        state,
        CampaignState::Aborted {
            node: Some("green-1".into()),
            step: Step::Gate
        }
    );
    assert!(
        events.iter().all(|e| !matches!(
            e,
            CampaignEvent::Phase { node: Some(n), step: Step::Uncordon, .. } if n == "green-1"
        )),
        "{events:#?}"
    );
    assert!(
        node(&c, "green-1").await.unschedulable,
        "abort leaves it cordoned"
    );
    assert!(!queued(&c, "green-2").await, "abort lifts the queued taint");
    assert!(
        report.nodes[1]
            .timeline
            .iter()
            .map(|m| (m.step, m.outcome.as_str()))
            .eq([(Step::Taint, "tainted"), (Step::Taint, "untainted")]),
        "{:#?}",
        report.nodes[1].timeline
    );
}
