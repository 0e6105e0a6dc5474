//! kill -9 at 20 seeded points of a headless `kubedrain drain` (the real binary, against the
//! simulator): each time, every eviction the server accepted has its intent in the journal,
//! the next `kubedrain drain` says it resumes an interrupted drain exactly when the journal
//! shows one, and the node ends drained (cordoned, annotated, nothing left but DaemonSet pods).
//! The points are instants within the time a whole drain takes, drawn from a fixed seed: a failure
//! names its run, and the same seed reproduces it.

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;

use crate::drain_support::sim::*;
use kubedrain::drain::journal::{Action, Journal, NodeHistory, Target, ann};

const SEED: u64 = 0x6b75_6265;
const RUNS: usize = 20;

fn drain_cmd(kc: &Path, state: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"));
    cmd.args(["drain", "node0", "--ignore-daemonsets", "--kubeconfig"])
        .arg(kc)
        .env("KUBEDRAIN_STATE_DIR", state)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Both output streams, line by line, on one channel.
fn lines_of(child: &mut tokio::process::Child) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    forward(child.stdout.take().unwrap(), tx.clone());
    forward(child.stderr.take().unwrap(), tx);
    rx
}

fn forward(r: impl AsyncRead + Unpin + Send + 'static, tx: mpsc::UnboundedSender<String>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            let _ = tx.send(l);
        }
    });
}

fn journal_at(state: &Path) -> Journal {
    Journal {
        path: state.join("journal.jsonl"),
        target: Target::default(),
    }
}

/// The pods whose eviction the server accepted (from its request log).
fn accepted_evictions(sim: &kubedrain::sim::Simulator) -> BTreeSet<String> {
    sim.stats()
        .log()
        .iter()
        .filter(|r| r.method == "POST" && r.resource == "pods/eviction" && r.status < 300)
        .filter_map(|r| {
            // /api/v1/namespaces/{ns}/pods/{name}/eviction
            let parts: Vec<&str> = r.path.split('?').next()?.split('/').collect();
            let ns = parts.get(4)?;
            let name = parts.get(6)?;
            Some(format!("{ns}/{name}"))
        })
        .collect()
}

/// Runs a drain to its end; its exit code and output.
async fn drain_to_end(kc: &Path, state: &Path) -> (Option<i32>, Vec<String>) {
    let mut child = drain_cmd(kc, state).spawn().unwrap();
    let mut rx = lines_of(&mut child);
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("the drain ends")
        .unwrap();
    let mut out = vec![];
    while let Ok(Some(l)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        out.push(l);
    }
    (status.code(), out)
}

async fn assert_drained(c: &kube::Client, state: &Path, run: usize) {
    let n = node(c, "node0").await;
    assert!(n.unschedulable, "run {run}: node0 cordoned");
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("drained"), "run {run}");
    let left: Vec<_> = pods(c)
        .await
        .into_iter()
        .filter(|p| p.node_name.as_deref() == Some("node0"))
        .filter(|p| !p.is_daemonset_pod())
        .map(|p| p.key())
        .collect();
    assert!(left.is_empty(), "run {run}: still on node0: {left:?}");
    let last = journal_at(state)
        .entries()
        .into_iter()
        .rfind(|e| e.action == Action::DrainResult)
        .expect("a result");
    assert_eq!(last.outcome, "drained", "run {run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_20_seeded_points_loses_no_intent_and_the_rerun_resumes_to_drained() {
    // A full drain first: how long one takes bounds the kill points.
    let full = {
        let sim = sim("seed").await;
        let c = client(&sim).await;
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kc).unwrap();
        let started = std::time::Instant::now();
        let (code, out) = drain_to_end(&kc, dir.path()).await;
        let took = started.elapsed();
        assert_eq!(code, Some(0), "{out:#?}");
        assert_drained(&c, dir.path(), 0).await;
        sim.stop().await;
        took
    };
    let mut rng = StdRng::seed_from_u64(SEED);
    let (mut mid_drain, mut with_evictions, mut total_accepted) = (0, 0, 0);
    for run in 1..=RUNS {
        let at = full.mul_f64(rng.random_range(0.0..1.0));
        let sim = sim("seed").await;
        let c = client(&sim).await;
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kc).unwrap();
        sim.stats().reset();

        let mut child = drain_cmd(&kc, dir.path()).spawn().unwrap();
        let mut rx = lines_of(&mut child);
        tokio::time::sleep(at).await;
        let pid = child.id().map(|p| p as i32);
        if let Some(pid) = pid {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let status = child.wait().await.unwrap();
        let mut seen = vec![];
        while let Ok(Some(l)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            seen.push(l);
        }

        // Every eviction the server accepted was journaled as an intent before it was sent.
        let accepted = accepted_evictions(&sim);
        let entries = journal_at(dir.path()).entries();
        let intents: BTreeSet<String> = entries
            .iter()
            .filter(|e| e.action == Action::Evict && e.outcome == "requesting")
            .filter_map(|e| e.pod.clone())
            .collect();
        let missing: Vec<_> = accepted.difference(&intents).collect();
        assert!(
            missing.is_empty(),
            "run {run} (killed after {at:?}): accepted without intent: {missing:?}\n{seen:#?}"
        );
        with_evictions += usize::from(!accepted.is_empty());
        total_accepted += accepted.len();
        let interrupted = NodeHistory::from_entries(entries.iter().cloned())
            .interrupted_drain("node0")
            .is_some();
        mid_drain += usize::from(interrupted && status.signal() == Some(libc::SIGKILL));

        // The rerun resumes (and says so exactly when the journal shows a drain cut short).
        let (code, out) = drain_to_end(&kc, dir.path()).await;
        assert_eq!(code, Some(0), "run {run}: {out:#?}");
        let said = out
            .iter()
            .any(|l| l.contains("resuming the drain interrupted"));
        assert_eq!(said, interrupted, "run {run}: {out:#?}");
        assert_drained(&c, dir.path(), run).await;
        sim.stop().await;
    }
    // For the README's Reliability table.
    eprintln!(
        "{RUNS} kills within {full:?}: {mid_drain} mid-drain, {with_evictions} after accepted evictions, {total_accepted} accepted evictions, all with intent; every rerun drained"
    );
    // The seed spreads the kills over the drain, not all before or after it.
    assert!(
        mid_drain >= RUNS / 2,
        "{mid_drain} of {RUNS} kills mid-drain"
    );
    assert!(
        with_evictions >= RUNS / 4,
        "{with_evictions} of {RUNS} after an eviction"
    );
}
