//! The maintenance-window benchmark (issue 9): an OS-only campaign over a generated worker
//! pool with a PodDisruptionBudget on every Deployment — kubedrain's campaign engine
//! (`--max-unavailable N`) against a shell loop of `kubectl drain`, reboot, `kubectl wait`
//! and `kubectl uncordon`, one node after another. Each side gets a fresh simulator; the
//! [`Watchdog`] referees both (PDB health at every pod change, time spent Pending).
//!
//! The campaign runs in-process (the library's `start_campaign`, set up as `kubedrain
//! campaign` sets it up): its upgrade step needs the simulator's reboot, which only an
//! in-process hook can start — the binary either waits for an operator or, with
//! `--simulate-upgrade`, runs a private simulator this harness could not count or watch. It
//! runs on its own runtime on CPU 1, where the kubectl processes run.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use color_eyre::Result;
use color_eyre::eyre::eyre;
use kubedrain::sim::Kind;
use kubedrain::sim::controllers::{default_upgrade_target, start_upgrade_with};
use kubedrain::sim::store::Store;
use serde_json::json;

use super::*;

/// What the campaign benchmark runs.
#[derive(Debug, Clone)]
pub struct CampaignBench {
    /// Cluster size, tools, output directory (`nodes` workers form the pool).
    pub base: Config,
    /// Workers taken out of service at once by the campaign.
    pub max_unavailable: usize,
    /// `--grace-period` of both tools, in simulated seconds.
    pub grace: u64,
    /// Simulated time speed (grace periods, pod start-up, reboots run this much faster).
    pub speed: f64,
}

impl CampaignBench {
    /// The full run's defaults: max-unavailable 5, grace 10 s, simulated time at 20×.
    pub fn new(base: Config) -> CampaignBench {
        CampaignBench {
            base,
            max_unavailable: 5,
            grace: 10,
            speed: 20.0,
        }
    }
}

/// One side's figures.
#[derive(Debug, Clone)]
pub struct SideFigures {
    /// The campaign completed / every command of the loop succeeded.
    pub ok: bool,
    pub outcome: String,
    pub wall_s: f64,
    pub requests: u64,
    pub violations: usize,
    pub pending_s: f64,
    /// Pool nodes still cordoned at the end.
    pub left_cordoned: Vec<String>,
    /// Pool nodes.
    pub nodes: usize,
    pub(crate) watch: WatchFigures,
    pub(crate) detail: String,
}

/// The report and both sides' figures.
pub struct CampaignResult {
    pub report: Report,
    pub kubedrain: SideFigures,
    pub kubectl: Option<SideFigures>,
}

/// Gives every generated Deployment of 2 or more replicas without a PDB one with
/// `minAvailable: replicas - 1` (one disruption at a time); returns how many were added.
pub(crate) fn add_pdbs(store: &Store) -> usize {
    let (_, pdbs) = store.list(Kind::PodDisruptionBudget, None);
    let has: std::collections::HashSet<(String, String)> = pdbs.iter().map(|b| key_of(b)).collect();
    let (_, deps) = store.list(Kind::Deployment, None);
    let mut added = 0;
    for d in deps.iter() {
        let k = key_of(d);
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(0);
        if replicas < 2 || has.contains(&k) {
            continue;
        }
        let pdb = json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": k.1, "namespace": k.0},
            "spec": {"minAvailable": replicas - 1, "selector": {"matchLabels": d["spec"]["selector"]["matchLabels"]}},
        });
        added += usize::from(store.create(Kind::PodDisruptionBudget, pdb).is_ok());
    }
    added
}

/// Waits until the simulator's disruption controller has a status for every PDB with all
/// its pods healthy.
fn pdbs_settled(store: &Store, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        let (_, pdbs) = store.list(Kind::PodDisruptionBudget, None);
        let ok = pdbs.iter().all(|b| {
            let s = &b["status"];
            s["expectedPods"].as_i64().is_some_and(|e| e > 0)
                && s["currentHealthy"] == s["expectedPods"]
                && s["disruptionsAllowed"].as_i64().is_some_and(|a| a >= 1)
        });
        if ok {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A fresh simulator with the budgets in place; the pool's node names, sorted.
fn prepare(cb: &CampaignBench, dir: &Path, notes: &mut Vec<String>) -> Result<(Sim, Vec<String>)> {
    let (sim, _) = Sim::start_at(&cb.base, dir, cb.speed)?;
    let store = sim.sim().store().clone();
    let added = add_pdbs(&store);
    if !pdbs_settled(&store, Duration::from_secs(120)) {
        return Err(eyre!("the PDBs' status did not settle within 120 s"));
    }
    let pdbs = store.count(Kind::PodDisruptionBudget);
    let note = format!(
        "{pdbs} PDBs ({added} added by the harness with minAvailable = replicas - 1, the generator's with maxUnavailable 1): each allows one disruption"
    );
    if !notes.contains(&note) {
        notes.push(note);
    }
    let (_, nodes) = store.list(Kind::Node, None);
    let mut pool: Vec<String> = nodes
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .filter(|n| *n != "node-packed")
        .map(str::to_string)
        .collect();
    pool.sort();
    Ok((sim, pool))
}

/// Simulated seconds a node is down for its OS upgrade (the simulator's default).
pub const REBOOT_SECS: u64 = 8;

/// The simulator's OS upgrade of `node` (NotReady, then back with a new boot ID and kernel
/// after [`REBOOT_SECS`] simulated seconds), the same for both sides.
fn reboot(store: &Arc<Store>, node: &str) -> std::result::Result<(), String> {
    let t = default_upgrade_target(store, node).map_err(|e| e.to_string())?;
    start_upgrade_with(store, node, t, Duration::from_secs(REBOOT_SECS)).map_err(|e| e.to_string())
}

fn cordoned(store: &Store, pool: &[String]) -> Vec<String> {
    pool.iter()
        .filter(|n| {
            store
                .get(Kind::Node, "", n)
                .is_some_and(|o| o["spec"]["unschedulable"] == true)
        })
        .cloned()
        .collect()
}

fn request_counts(sim: &Sim) -> String {
    sim.sim()
        .stats()
        .counts()
        .into_iter()
        .map(|((v, r), n)| format!("{v} {r}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shared end of both sides: stop the referee, read the counters, stop the simulator.
fn finish(
    sim: Sim,
    pool: &[String],
    dog: Watchdog,
    wall_s: f64,
    ok: bool,
    outcome: String,
    detail: String,
) -> SideFigures {
    let watch = dog.stop();
    let requests = sim.sim().stats().total();
    let counts = request_counts(&sim);
    let left_cordoned = cordoned(sim.sim().store(), pool);
    sim.stop();
    SideFigures {
        ok,
        outcome,
        wall_s,
        requests,
        violations: watch.violations,
        pending_s: watch.pending_s,
        left_cordoned,
        nodes: pool.len(),
        detail: format!("{detail}; requests: {counts}"),
        watch,
    }
}

/// kubedrain's side: the campaign engine over the pool.
pub(crate) fn campaign_side(
    cb: &CampaignBench,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<SideFigures> {
    log(
        &cb.base,
        format!(
            "campaign: kubedrain, {} nodes, max-unavailable {} (fresh simulator)",
            cb.base.nodes, cb.max_unavailable
        ),
    );
    let (sim, pool) = prepare(cb, dir, notes)?;
    let store = sim.sim().store().clone();
    let url = sim.sim().url();
    let state_dir = tempfile::tempdir_in(dir)?;
    sim.sim().stats().reset();
    let dog = Watchdog::start(store.clone());
    let t = Instant::now();
    let run = {
        let (cb, pool, store) = (cb.clone(), pool.clone(), store.clone());
        let state = state_dir.path().to_path_buf();
        std::thread::spawn(move || {
            // The client's core, as for the tools run as processes.
            if cpus() > 1 {
                pin_self(1);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(campaign_run(&cb, &url, pool, store, &state))
        })
        .join()
        .map_err(|_| eyre!("the campaign thread panicked"))?
    };
    let wall_s = t.elapsed().as_secs_f64();
    let (ok, outcome, detail) = match run {
        Ok(r) => (r.ok, r.outcome, r.detail),
        Err(e) => (false, e.clone(), format!("FAILED: {e}")),
    };
    Ok(finish(sim, &pool, dog, wall_s, ok, outcome, detail))
}

struct CampaignRun {
    ok: bool,
    outcome: String,
    detail: String,
}

/// Reads the cluster, plans the waves and runs the campaign to its end, as `kubedrain
/// campaign NODES… --max-unavailable N --ignore-daemonsets --delete-emptydir-data
/// --grace-period G --timeout 300s` does (1 s polls for the gate, soak and Pending sampler;
/// the queued nodes tainted, no hold points).
async fn campaign_run(
    cb: &CampaignBench,
    url: &str,
    pool: Vec<String>,
    store: Arc<Store>,
    state: &Path,
) -> std::result::Result<CampaignRun, String> {
    use kubedrain::campaign::events::{CampaignEvent, CampaignState};
    use kubedrain::campaign::exec::{Setup, Start, outcome_text, start_campaign};
    use kubedrain::campaign::gate::Baseline;
    use kubedrain::campaign::journal::{CampaignJournal, Spec};
    use kubedrain::campaign::plan::{Selection, select, waves};
    use kubedrain::campaign::read;
    use kubedrain::drain::journal::{Journal, Target};
    use kubedrain::drain::options::DrainOptions;

    let uri: http::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let client = kubedrain::drain::client::client_without_retry(kube::Config::new(uri))
        .map_err(|e| format!("{e:#}"))?;
    let cluster = read::cluster(&client).await.map_err(|e| e.to_string())?;
    let chosen =
        select(&cluster.nodes, &Selection::Names(pool.clone())).map_err(|e| e.to_string())?;
    let spec = Spec {
        waves: waves(&chosen, cb.max_unavailable),
        target: None,
        max_unavailable: cb.max_unavailable,
        soak_secs: 0,
        allow_outage: false,
        baseline: Baseline::of(&cluster.pods, &cluster.pdbs),
        // `kubedrain campaign`'s default: queued nodes get the PreferNoSchedule taint.
        taint_queued: true,
        hold: None,
    };
    let wave_count = spec.waves.len();
    let target = Target {
        context: "bench".into(),
        server: url.to_string(),
    };
    let hook_store = store.clone();
    let setup = Setup {
        client,
        journal: CampaignJournal {
            path: state.join("campaign.jsonl"),
            target: target.clone(),
        },
        drain_journal: Journal {
            path: state.join("journal.jsonl"),
            target,
        },
        opts: DrainOptions {
            ignore_daemonsets: true,
            delete_emptydir_data: true,
            grace_period: u32::try_from(cb.grace).ok(),
            timeout: Some(Duration::from_secs(300)),
            ..Default::default()
        },
        upgrade: Some(Arc::new(move |node: &str, _target: Option<&str>| {
            reboot(&hook_store, node)
        })),
        poll: Duration::from_secs(1),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = start_campaign(setup, Start::New(spec), move |e| {
        let _ = tx.send(e);
    });
    let control = handle.control();
    let deadline = Duration::from_secs(120 + 60 * pool.len() as u64);
    let finished = tokio::time::timeout(deadline, async {
        while let Some(e) = rx.recv().await {
            if let CampaignEvent::Finished { state, report } = e {
                return Some((state, report));
            }
        }
        None
    })
    .await;
    let (state, report) = match finished {
        Ok(Some(f)) => f,
        Ok(None) => return Err("the campaign ended without a report".into()),
        Err(_) => {
            control.abort();
            return Err(format!("the campaign did not finish within {deadline:?}"));
        }
    };
    let refusals: u32 = report.pdb_waits.iter().map(|w| w.refusals).sum();
    Ok(CampaignRun {
        ok: state == CampaignState::Completed,
        outcome: outcome_text(&state),
        detail: format!(
            "{} nodes in {wave_count} waves, outcome: {}; the campaign's report: {} PDB refusals (429) over {} PDB waits, {} pods seen Pending",
            pool.len(),
            outcome_text(&state),
            refusals,
            report.pdb_waits.len(),
            report.pending_pods.len()
        ),
    })
}

/// kubectl's side: the shell loop, one node after another.
pub(crate) fn kubectl_side(
    cb: &CampaignBench,
    kubectl: &Path,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<SideFigures> {
    log(
        &cb.base,
        format!(
            "campaign: kubectl shell loop, {} nodes (fresh simulator)",
            cb.base.nodes
        ),
    );
    let (sim, pool) = prepare(cb, dir, notes)?;
    let store = sim.sim().store().clone();
    let kc = sim.kc().to_string();
    let cache = dir.join("kubectl-cache-campaign");
    let cache_s = cache.display().to_string();
    let env = [("KUBECACHEDIR", cache_s.as_str())];
    // A warm discovery cache, as a shell that has used kubectl before has.
    let _ = run_pinned(kubectl, &["--kubeconfig", &kc, "get", "nodes"], &env)?;
    sim.sim().stats().reset();
    let dog = Watchdog::start(store.clone());
    let g = cb.grace.to_string();
    let t = Instant::now();
    let mut failed = None;
    let mut drain_s = 0.0;
    for n in &pool {
        let node_ref = format!("node/{n}");
        let drain = run_pinned(
            kubectl,
            &[
                "--kubeconfig",
                &kc,
                "drain",
                n,
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--grace-period",
                &g,
                "--timeout",
                "300s",
            ],
            &env,
        )?;
        drain_s += drain.wall.as_secs_f64();
        if !drain.ok {
            failed = Some(format!("kubectl drain {n}: {}", last_line(&drain.stderr)));
            break;
        }
        if let Err(e) = reboot(&store, n) {
            failed = Some(format!("reboot {n}: {e}"));
            break;
        }
        let wait = run_pinned(
            kubectl,
            &[
                "--kubeconfig",
                &kc,
                "wait",
                "--for=condition=Ready",
                &node_ref,
                "--timeout=300s",
            ],
            &env,
        )?;
        let uncordon = run_pinned(kubectl, &["--kubeconfig", &kc, "uncordon", n], &env)?;
        if !wait.ok || !uncordon.ok {
            failed = Some(format!(
                "kubectl wait/uncordon {n}: {}{}",
                last_line(&wait.stderr),
                last_line(&uncordon.stderr)
            ));
            break;
        }
    }
    let wall_s = t.elapsed().as_secs_f64();
    let ok = failed.is_none();
    let outcome = failed.clone().unwrap_or_else(|| "completed".into());
    let detail = format!(
        "{} nodes one at a time, outcome: {outcome}; {drain_s:.1} s of it in kubectl drain",
        pool.len()
    );
    Ok(finish(sim, &pool, dog, wall_s, ok, outcome, detail))
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("").trim()
}

/// The shell loop the kubectl side runs, for the report.
pub fn shell_loop(grace: u64) -> String {
    format!(
        "for n in $POOL; do kubectl drain $n --ignore-daemonsets --delete-emptydir-data --grace-period {grace} --timeout 300s && <reboot $n> && kubectl wait --for=condition=Ready node/$n --timeout=300s && kubectl uncordon $n; done"
    )
}
