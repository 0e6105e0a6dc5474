//! Hold points: the campaign pauses itself before each node (or wave), says so in one line,
//! and goes on only when resumed; headless, Enter resumes, and without a terminal on stdin
//! `--hold` is refused before anything changes.

use std::time::Duration;

use crate::campaign_support::*;
use crate::common::pty::Pty;
use crate::drain_support::sim::*;
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::Start;
use kubedrain::campaign::journal::{Hold, Step};
use kubedrain::campaign::plan::Selection;

fn hold_line(e: &CampaignEvent) -> Option<String> {
    match e {
        CampaignEvent::Waiting { message, .. } if message.starts_with("hold point:") => {
            Some(message.clone())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_point_before_each_node_waits_for_resume() {
    let (sim, c) = ready_sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["node0".to_string(), "node1".to_string()];
    let mut sp = spec(&c, Selection::Names(names), 1, Some(TARGET)).await;
    sp.hold = Some(Hold::Node);
    let s = setup(&sim, &c, &dir, Some(sim_upgrade(sim.store())));
    let journal = s.journal.clone();
    let (h, mut rx) = start(s, Start::New(sp));
    let line = until(&mut rx, "hold before node0", hold_line).await;
    assert_eq!(
        line,
        "hold point: before node0 (wave 1/2) — resume to go on"
    );
    assert!(
        !node(&c, "node0").await.unschedulable,
        "held before its cordon"
    );
    assert!(!h.is_finished());
    h.resume();
    // The next steps after the hold: node0's wave's pre-check (held before it, so it is
    // fresh), then node0's cordon.
    let next = until(&mut rx, "the step after the hold", |e| match e {
        CampaignEvent::Paused(false) => None,
        other => Some(other.clone()),
    })
    .await;
    assert!(
        matches!(&next, CampaignEvent::Checked(c) if c.wave.nodes == ["node0"]),
        "{next:?}"
    );
    let next = until(&mut rx, "the step after the pre-check", |e| match e {
        CampaignEvent::Phase { .. } | CampaignEvent::Waiting { .. } => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(
        matches!(&next, CampaignEvent::Phase { node: Some(n), step: Step::Cordon, .. } if n == "node0"),
        "{next:?}"
    );
    let line = until(&mut rx, "hold before node1", hold_line).await;
    assert_eq!(
        line,
        "hold point: before node1 (wave 2/2) — resume to go on"
    );
    // node0 is through (upgraded, back in service) and node1 not touched.
    let n0 = node(&c, "node0").await;
    assert!(!n0.unschedulable);
    assert_eq!(n0.kubelet_version, TARGET);
    assert!(!node(&c, "node1").await.unschedulable);
    h.resume();
    let (state, _, _) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(state, CampaignState::Completed);
    let holds: Vec<(String, String)> = journal
        .of(h.id())
        .iter()
        .filter(|e| e.step == Step::Hold)
        .map(|e| (e.node.clone().unwrap_or_default(), e.outcome.clone()))
        .collect();
    let want = [
        ("node0", "holding"),
        ("node0", "released"),
        ("node1", "holding"),
        ("node1", "released"),
    ]
    .map(|(n, o)| (n.to_string(), o.to_string()));
    assert_eq!(holds, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_point_before_a_wave_can_be_aborted_with_nothing_touched() {
    let (sim, c) = ready_sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let mut sp = spec(&c, Selection::Names(vec!["node0".into()]), 1, None).await;
    sp.hold = Some(Hold::Wave);
    let (h, mut rx) = start(setup(&sim, &c, &dir, None), Start::New(sp));
    let line = until(&mut rx, "hold before wave 1", hold_line).await;
    assert_eq!(
        line,
        "hold point: before wave 1/1 (node0) — resume to go on"
    );
    h.abort();
    let (state, _, events) = until_finished(&mut rx, |_| {}).await;
    assert_eq!(
        state,
        CampaignState::Aborted {
            node: None,
            step: Step::Hold
        }
    );
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, CampaignEvent::Checked(_))),
        "no pre-check ran: {events:#?}"
    );
    assert!(!node(&c, "node0").await.unschedulable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_hold_without_a_terminal_is_refused_before_anything_changes() {
    let (sim, c) = ready_sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let args = [
        "node0",
        "--hold",
        "node",
        "--target",
        PATCH,
        "--ignore-daemonsets",
    ];
    let o = tokio::time::timeout(DEADLINE, campaign_cmd(&kc, dir.path(), &args).output())
        .await
        .unwrap()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--hold needs a terminal on stdin"), "{err}");
    assert!(o.stdout.is_empty(), "nothing planned or printed");
    assert!(
        !dir.path().join("campaign.jsonl").exists(),
        "nothing journaled"
    );
    assert!(!node(&c, "node0").await.unschedulable);
    let o = campaign_cmd(&kc, dir.path(), &["node0", "--hold", "pod"])
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("[possible values: node, wave]")
    );
}

#[test]
fn headless_hold_on_a_terminal_goes_on_at_enter() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        &[
            "campaign",
            "node0",
            "--simulate-upgrade",
            "seed",
            "--target",
            PATCH,
            "--ignore-daemonsets",
            "--hold",
            "node",
        ],
        Some(dir.path()),
    );
    let t = Duration::from_secs(60);
    pty.wait_for("the hold line", t, |s| {
        s.contains("waiting: hold point: before node0 (wave 1/1)")
            && s.contains("press Enter to go on")
    });
    assert!(
        !pty.screen().contains("node/node0: cordoned"),
        "{}",
        pty.screen()
    );
    pty.send(b"\r");
    pty.wait_for("the cordon after Enter", t, |s| {
        s.contains("resumed") && s.contains("node/node0: cordoned")
    });
    assert!(pty.wait_exit(Duration::from_secs(120)), "{}", pty.screen());
    let out = String::from_utf8_lossy(&pty.raw()).to_string();
    assert!(out.contains("campaign completed"), "{out}");
}
