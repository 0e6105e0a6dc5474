//! The plan's verdict against what really happens when the drain runs on the simulator:
//! replacements land where the forecast said (any of the tied nodes), Pending exactly where
//! it said, a PDB is never broken by evictions, and a drain finishes exactly when the plan
//! was not blocked. On every built-in scenario, and on generated clusters (random nodes,
//! taints, selectors, replicas, requests and PDBs).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use kubedrain::drain::DrainOptions;
use kubedrain::drain::events::NodeState;
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::fetch;
use kubedrain::drain::plan::DrainPlan;
use kubedrain::sim::{Kind, Simulator};
use serde_json::Value;

use crate::drain_support::sim::{DEADLINE, budgets_hold, client, finish, journal, sim};

/// What the forecast allows for one replacement: one of these nodes (`None`: Pending), or
/// anything (not predicted).
type Allowed = Option<BTreeSet<Option<String>>>;

/// Predictions per workload (controller UID).
fn predictions(plan: &DrainPlan, snap: &fetch::Snapshot) -> BTreeMap<String, Vec<Allowed>> {
    let ctrl: HashMap<String, String> = snap
        .pods
        .iter()
        .filter_map(|p| Some((p.key(), p.controller()?.uid.clone())))
        .collect();
    let mut out: BTreeMap<String, Vec<Allowed>> = BTreeMap::new();
    for pl in &plan.capacity.as_ref().unwrap().placements {
        // Not predicted, or more tied nodes than the forecast names: anything goes.
        let allowed = if pl.unmodelled.is_some() || pl.or_more > 0 {
            None
        } else {
            let mut s: BTreeSet<Option<String>> = BTreeSet::from([pl.node.clone()]);
            s.extend(pl.or.iter().cloned().map(Some));
            if pl.maybe_pending {
                s.insert(None);
            }
            Some(s)
        };
        out.entry(ctrl[&pl.pod].clone()).or_default().push(allowed);
    }
    out
}

fn controller_uid(p: &Value) -> Option<String> {
    p["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["controller"] == true)
        .and_then(|o| o["uid"].as_str())
        .map(str::to_string)
}

/// New pods of each workload and where they are: `Some(node)`, or `None` once the scheduler
/// said it cannot place them; pods not decided yet are left out.
fn replacements(
    sim: &Simulator,
    before: &BTreeSet<String>,
) -> BTreeMap<String, Vec<Option<String>>> {
    let (_, pods) = sim.store().list(Kind::Pod, None);
    let mut out: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for p in pods.iter() {
        let uid = p["metadata"]["uid"].as_str().unwrap_or_default();
        if before.contains(uid) || !p["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let Some(ctrl) = controller_uid(p) else {
            continue;
        };
        let node = p["spec"]["nodeName"].as_str().map(str::to_string);
        let unschedulable = p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "PodScheduled" && c["status"] == "False");
        if node.is_some() || unschedulable {
            out.entry(ctrl).or_default().push(node);
        }
    }
    out
}

/// Whether each actual placement can be matched to its own prediction (bipartite matching).
fn matches(allowed: &[Allowed], actual: &[Option<String>]) -> bool {
    fn augment(
        a: usize,
        allowed: &[Allowed],
        actual: &[Option<String>],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for (p, set) in allowed.iter().enumerate() {
            let ok = set.as_ref().is_none_or(|s| s.contains(&actual[a]));
            if ok && !seen[p] {
                seen[p] = true;
                if owner[p].is_none_or(|o| augment(o, allowed, actual, owner, seen)) {
                    owner[p] = Some(a);
                    return true;
                }
            }
        }
        false
    }
    let mut owner = vec![None; allowed.len()];
    allowed.len() == actual.len()
        && (0..actual.len()).all(|a| {
            augment(
                a,
                allowed,
                actual,
                &mut owner,
                &mut vec![false; allowed.len()],
            )
        })
}

/// Plans the drain of `node`, runs it, and checks the plan against what happened.
async fn check(sim: &Simulator, node: &str, opts: DrainOptions, ctx: &str) {
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(sim).await;
    let snap = fetch::snapshot(&c, node, fetch::Cluster::ask(&c).await)
        .await
        .unwrap();
    let plan = snap.plan(&opts, Timestamp::now());
    let predicted = predictions(&plan, &snap);
    let (_, pods) = sim.store().list(Kind::Pod, None);
    let before: BTreeSet<String> = pods
        .iter()
        .filter_map(|p| p["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    // Budgets that hold now must hold all along (evictions honour them).
    let watch_budgets = !opts.disable_eviction && budgets_hold(sim.store()).is_ok();
    let stop = Arc::new(AtomicBool::new(false));
    let broken = {
        let (store, stop) = (sim.store().clone(), stop.clone());
        tokio::spawn(async move {
            while watch_budgets && !stop.load(Ordering::Relaxed) {
                if let Err(e) = budgets_hold(&store) {
                    return Some(e);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            None
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), node, opts.clone(), journal(sim, &dir));
    let outcome = finish(handle, &mut rx, &mut vec![]).await;
    stop.store(true, Ordering::Relaxed);
    let broken = broken.await.unwrap();
    let ctx = format!("{ctx}\n{}", kubedrain::drain::render::plan_text(&plan));
    assert_eq!(broken, None, "a PDB was broken by evictions: {ctx}");
    assert_eq!(
        plan.is_blocked(),
        outcome.state != NodeState::Drained,
        "blocked ⇔ the drain cannot finish; outcome {:?} {:?}: {ctx}",
        outcome.state,
        outcome.errors
    );
    if plan.is_blocked() {
        return;
    }
    // Every replacement the forecast placed is decided (bound, or refused by the scheduler).
    let want: usize = predicted.values().map(Vec::len).sum();
    let end = tokio::time::Instant::now() + DEADLINE;
    let mut actual = replacements(sim, &before);
    while actual.values().map(Vec::len).sum::<usize>() < want {
        assert!(
            tokio::time::Instant::now() < end,
            "replacements never settled: {actual:?} {ctx}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        actual = replacements(sim, &before);
    }
    for (ctrl, allowed) in &predicted {
        let got = actual.get(ctrl).cloned().unwrap_or_default();
        assert!(
            matches(allowed, &got),
            "workload {ctrl}: predicted {allowed:?}, got {got:?}: {ctx}"
        );
    }
}

fn opts() -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: true,
        delete_emptydir_data: true,
        force: true,
        grace_period: Some(0),
        timeout: Some(Duration::from_secs(15)),
        allow_outage: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_agrees_with_the_scheduler_on_every_scenario() {
    for (scenario, node, delete) in [
        ("seed", "node0", false),
        ("pdb-blocked", "node0", false),
        ("no-room", "node0", false),
        // postgres' PDB never allows an eviction: delete mode drains it (and says so).
        ("mixed", "node0", true),
    ] {
        let sim = sim(scenario).await;
        let mut o = opts();
        o.disable_eviction = delete;
        check(&sim, node, o, scenario).await;
        sim.stop().await;
    }
}

/// A small deterministic generator (xorshift), so a failing case can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A random cluster: a tainted control plane, 2–4 workers (some labelled, tainted with
/// NoSchedule or PreferNoSchedule, or cordoned), 2–4 Deployments with pods on node0 and
/// elsewhere, some under PDBs.
fn generated(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let workers = 2 + r.below(3) as usize;
    let mut y = String::from(
        "serverVersion: v1.29.4\nnamespaces: [default, app]\nnodes:\n  - name: cp0\n    roles: [control-plane]\n    capacity: {cpu: 2, memory: 4Gi}\n    taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]\n",
    );
    for w in 0..workers {
        let cpu = 1 + r.below(3);
        y += &format!(
            "  - name: node{w}\n    capacity: {{cpu: {cpu}, memory: {}Gi, pods: 110}}\n",
            2 + r.below(6)
        );
        if r.chance(40) {
            y += "    labels: {disk: ssd}\n";
        }
        if w > 0 && r.chance(25) {
            y += "    taints: [{key: dedicated, value: batch, effect: NoSchedule}]\n";
        } else if w > 0 && r.chance(30) {
            // A campaign's queued node: the scheduler and the forecast both steer away from it.
            y += "    taints: [{key: kubedrain.io/queued, value: c1, effect: PreferNoSchedule}]\n";
        }
        if w > 1 && r.chance(25) {
            y += "    unschedulable: true\n";
        }
    }
    y += "deployments:\n";
    let apps = 2 + r.below(3);
    let mut pdbs = String::new();
    for a in 0..apps {
        let replicas = 1 + r.below(4);
        let nodes: Vec<String> = (0..replicas)
            .map(|i| {
                // At least one replica on node0; the rest anywhere.
                let n = if i == 0 || r.chance(50) {
                    0
                } else {
                    r.below(workers as u64)
                };
                format!("node{n}")
            })
            .collect();
        let cpu = [50, 100, 250, 400, 700][r.below(5) as usize];
        y += &format!(
            "  - name: app{a}\n    namespace: app\n    replicas: {replicas}\n    readinessDelaySeconds: 2\n    nodes: [{}]\n    containers:\n      - {{name: c, image: \"busybox:1.36\", requests: {{cpu: {cpu}m, memory: 128Mi}}}}\n",
            nodes.join(", ")
        );
        if r.chance(30) {
            y += "    nodeSelector: {disk: ssd}\n";
        }
        if r.chance(30) {
            y += "    tolerations: [{key: dedicated, operator: Exists}]\n";
        }
        if r.chance(50) {
            // Now and then a budget that never allows an eviction.
            let min = if r.chance(15) {
                replicas
            } else {
                r.below(replicas)
            };
            pdbs += &format!(
                "  - name: app{a}\n    namespace: app\n    minAvailable: {min}\n    selector: {{app: app{a}}}\n"
            );
        }
    }
    if !pdbs.is_empty() {
        y += "pdbs:\n";
        y += &pdbs;
    }
    y
}

/// Generated clusters per run.
const SEEDS: u64 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_verdicts_hold_on_generated_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let (mut blocked, mut pending) = (0, 0);
    for seed in 1..=SEEDS {
        let yaml = generated(seed);
        let path = dir.path().join(format!("gen-{seed}.yaml"));
        std::fs::write(&path, &yaml).unwrap();
        let sim = sim(path.to_str().unwrap()).await;
        // Scenario placements can overfill a node; only clusters the scheduler accepts count.
        let c = client(&sim).await;
        let snap = fetch::snapshot(&c, "node0", fetch::Cluster::ask(&c).await)
            .await
            .unwrap();
        let plan = snap.plan(&opts(), Timestamp::now());
        eprintln!(
            "seed {seed}: {:?}, {} placements, {} pending, findings {:?}",
            plan.verdict,
            plan.capacity.as_ref().map_or(0, |c| c.placements.len()),
            plan.capacity.as_ref().map_or(0, |c| c.pending().count()),
            plan.findings.iter().map(|f| f.kind).collect::<Vec<_>>()
        );
        blocked += usize::from(plan.is_blocked());
        pending += usize::from(
            plan.capacity
                .as_ref()
                .is_some_and(|c| c.pending().count() > 0),
        );
        check(&sim, "node0", opts(), &format!("seed {seed}:\n{yaml}")).await;
        sim.stop().await;
    }
    // The generator must exercise both sides of each verdict, or the test proves little.
    assert!(
        blocked > 0 && blocked < SEEDS as usize,
        "blocked plans: {blocked}/{SEEDS}"
    );
    assert!(
        pending > 0,
        "plans with Pending replacements: {pending}/{SEEDS}"
    );
}
