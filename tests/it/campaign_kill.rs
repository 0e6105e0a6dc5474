//! kill -9 in the middle of a headless campaign on the `upgrade` scenario, then `--resume`:
//! the real binary against the simulator over HTTP, the test acting as the operator who
//! upgrades each node when told to. The resumed run starts at the same node and step (its
//! first line and the journal say so) and ends with every node back in service.

use std::os::unix::process::ExitStatusExt;

use crate::campaign_support::*;
use crate::drain_support::sim::*;
use kubedrain::campaign::journal::{CampaignJournal, Step, last_unfinished};
use kubedrain::drain::journal::Target;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

const TO: &str = "v1.28.6";

/// Reads lines into `out` until one satisfies `f`.
async fn read_until(
    lines: &mut Lines<BufReader<ChildStdout>>,
    out: &mut Vec<String>,
    f: impl Fn(&str) -> bool,
) {
    let found = tokio::time::timeout(DEADLINE, async {
        while let Some(l) = lines.next_line().await.unwrap() {
            out.push(l.clone());
            if f(&l) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{out:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_drain_then_resume_goes_on_at_the_same_node_and_step() {
    let (sim, c) = ready_sim("upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    // data/db allows no eviction now: green-0's drain waits on its db pod.
    hold_db(&sim, &c).await;
    let args = ["green-0", "green-2", "--target", TO, "--ignore-daemonsets"];
    let mut child = campaign_cmd(&kc, dir.path(), &args).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = vec![];
    let waits = |l: &str| l.starts_with("node/green-0: drain waits: data/db");
    read_until(&mut lines, &mut out, waits).await;
    assert!(
        out.iter().any(|l| l == "node/green-0: cordoned"),
        "{out:#?}"
    );
    let pid = child.id().unwrap() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // What the journal kept: green-0's drain started, not done; green-2 queued and tainted.
    let journal = CampaignJournal {
        path: dir.path().join("campaign.jsonl"),
        target: Target::default(),
    };
    let entries = journal.entries();
    let server = entries
        .first()
        .map(|e| e.server.clone())
        .unwrap_or_default();
    assert!(server.starts_with(&sim.url()), "{server}");
    let p = last_unfinished(&entries, &server).expect("an unfinished campaign");
    assert_eq!(p.next(), Some(("green-0".into(), Step::Drain)));
    assert!(p.tainted.contains("green-2"), "{:?}", p.tainted);
    assert!(node(&c, "green-0").await.unschedulable);
    assert!(queued(&c, "green-2").await);
    let before = journal.entries().len();

    let mut child = campaign_cmd(&kc, dir.path(), &["--resume", "--ignore-daemonsets"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = vec![];
    read_until(&mut lines, &mut out, |l| l.starts_with("resuming campaign")).await;
    assert_eq!(
        out[0],
        format!(
            "resuming campaign {} at node/green-0, step drain",
            p.campaign
        )
    );
    // The drain really runs again (and waits on the same budget) before the budget lets go.
    read_until(&mut lines, &mut out, waits).await;
    release_db(&sim);
    let upgrade = sim_upgrade(sim.store());
    let told = |l: &str| {
        l.strip_prefix("node/")?
            .strip_suffix(" now; on its host run:")?
            .split_once(": upgrade node ")
            .map(|(n, _)| n.to_string())
    };
    read_until(&mut lines, &mut out, |l| {
        if let Some(n) = told(l) {
            upgrade(&n, Some(TO)).unwrap();
        }
        l == "campaign completed"
    })
    .await;
    while let Some(l) = lines.next_line().await.unwrap() {
        out.push(l);
    }
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{out:#?}");
    assert!(
        !out.iter().any(|l| l == "node/green-0: cordoned"),
        "not cordoned twice: {out:#?}"
    );
    // The journal: one campaign, resumed at green-0's drain, which it then ran.
    let resumed = journal.entries().split_off(before);
    assert_eq!(resumed[0].campaign, p.campaign);
    assert_eq!(
        (
            resumed[0].step,
            resumed[0].outcome.as_str(),
            resumed[0].detail.as_deref()
        ),
        (Step::Start, "resumed", Some("at node/green-0 step drain"))
    );
    let first = resumed.iter().find(|e| e.node.is_some()).unwrap();
    assert_eq!(
        (first.node.as_deref(), first.step, first.outcome.as_str()),
        (Some("green-0"), Step::Drain, "started")
    );
    for n in ["green-0", "green-2"] {
        let row = node(&c, n).await;
        assert!(!row.unschedulable, "{n} uncordoned");
        assert_eq!(row.kubelet_version, TO, "{n}");
    }
    for n in [
        "cp0", "cp1", "cp2", "blue-0", "blue-1", "blue-2", "green-0", "green-1", "green-2",
    ] {
        assert!(!queued(&c, n).await, "{n} carries no queued taint");
    }
}
