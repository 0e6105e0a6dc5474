//! Helpers of the campaign tests: a campaign on the simulator through the library (its
//! upgrade as the hook, or the test playing the operator), its events, and the binary.

use std::sync::Arc;
use std::time::Duration;

use crate::drain_support::sim::*;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::exec::{CampaignHandle, Setup, Start, start_campaign};
use kubedrain::campaign::gate::Baseline;
use kubedrain::campaign::journal::{CampaignJournal, Spec};
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

pub const TARGET: &str = "v1.26.0";
/// A patch release of the seed's control-plane minor: one worker alone may go there (a minor
/// ahead of master0 would leave the skew policy, and `kubedrain campaign` holds that).
pub const PATCH: &str = "v1.25.9";

/// The simulator's upgrade (2 simulated seconds of reboot) to `target`.
pub fn sim_upgrade(store: &Arc<Store>) -> UpgradeHook {
    let store = store.clone();
    Arc::new(move |node: &str, target: Option<&str>| {
        let mut t = default_upgrade_target(&store, node).map_err(|e| e.to_string())?;
        if let Some(v) = target {
            t.kubelet_version = v.to_string();
        }
        start_upgrade_with(&store, node, t, Duration::from_secs(2)).map_err(|e| e.to_string())
    })
}

pub fn setup(
    sim: &Simulator,
    c: &Client,
    dir: &tempfile::TempDir,
    hook: Option<UpgradeHook>,
) -> Setup {
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

pub async fn spec(
    c: &Client,
    sel: Selection,
    max_unavailable: usize,
    target: Option<&str>,
) -> Spec {
    let cluster = read::cluster(c).await.unwrap();
    let chosen: Vec<&NodeRow> = select(&cluster.nodes, &sel).unwrap();
    Spec {
        waves: waves(&chosen, max_unavailable),
        target: target.map(str::to_string),
        max_unavailable,
        soak_secs: 0,
        allow_outage: false,
        baseline: Baseline::of(&cluster.pods, &cluster.pdbs),
        taint_queued: false,
        hold: None,
    }
}

pub fn start(s: Setup, st: Start) -> (CampaignHandle, mpsc::UnboundedReceiver<CampaignEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let h = start_campaign(s, st, move |e| {
        let _ = tx.send(e);
    });
    (h, rx)
}

/// Events until `Finished`; `on` sees each one first (to play the operator).
pub async fn until_finished(
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

pub async fn add_pdb(c: &Client, min: i32) {
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

/// Waits for the first event `f` picks out (its value), or panics with what came before.
pub async fn until<T>(
    rx: &mut mpsc::UnboundedReceiver<CampaignEvent>,
    what: &str,
    mut f: impl FnMut(&CampaignEvent) -> Option<T>,
) -> T {
    let mut seen = vec![];
    let r = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            if let Some(t) = f(&e) {
                return Some(t);
            }
            seen.push(e);
        }
        None
    })
    .await;
    match r {
        Ok(Some(t)) => t,
        _ => panic!("no {what}: {seen:#?}"),
    }
}

/// On `upgrade`: green-2 stops reporting, so its db pod is not Ready and the budget data/db
/// (2 of 3) allows no eviction now — a drain of green-0 waits on it (not "never": the plan
/// lets it start). [`release_db`] brings green-2 back.
pub async fn hold_db(sim: &Simulator, c: &Client) {
    set_node_ready(sim.store(), "green-2", false).unwrap();
    eventually("data/db allows no eviction", || async {
        let b: Vec<kubedrain::cluster::rows::PdbRow> =
            read::list(c, &Default::default()).await.unwrap();
        b.iter()
            .any(|b| b.key() == "data/db" && b.current_healthy == 2 && b.disruptions_allowed == 0)
    })
    .await;
}

/// Undoes [`hold_db`].
pub fn release_db(sim: &Simulator) {
    set_node_ready(sim.store(), "green-2", true).unwrap();
}

/// Makes a node schedulable (or not) as `kubectl (un)cordon` would.
pub async fn set_unschedulable(c: &Client, node: &str, on: bool) {
    let patch = serde_json::json!({"spec": {"unschedulable": on}});
    Api::<Node>::all(c.clone())
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// The node's taints as `key=value:effect`.
pub async fn taints(c: &Client, name: &str) -> Vec<String> {
    node(c, name)
        .await
        .taints
        .iter()
        .map(|t| {
            format!(
                "{}={}:{}",
                t.key,
                t.value.as_deref().unwrap_or(""),
                t.effect
            )
        })
        .collect()
}

/// Whether `name` carries a queued taint (any campaign's).
pub async fn queued(c: &Client, name: &str) -> bool {
    taints(c, name)
        .await
        .iter()
        .any(|t| t.starts_with("kubedrain.io/queued="))
}

/// The simulator's scenario with its controllers ready.
pub async fn ready_sim(scenario: &str) -> (Simulator, Client) {
    let sim = sim(scenario).await;
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let c = client(&sim).await;
    (sim, c)
}

/// A `kubedrain campaign` command on `kubeconfig` with its own state dir (stdout, stderr piped).
pub fn campaign_cmd(
    kubeconfig: &std::path::Path,
    state: &std::path::Path,
    args: &[&str],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"));
    cmd.arg("campaign")
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("KUBEDRAIN_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}
