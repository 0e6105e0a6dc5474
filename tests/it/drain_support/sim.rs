//! Helpers for the end-to-end drain tests: a simulator per test, a no-retry client, a journal
//! in a temp dir, polling with generous deadlines.

use std::time::Duration;

use kube::Client;
use kube::api::{Api, ListParams};
use kubedrain::cluster::rows::{NodeRow, PodRow};
use kubedrain::drain::DrainOptions;
use kubedrain::drain::events::{DrainEvent, DrainOutcome, PodState};
use kubedrain::drain::exec::DrainHandle;
use kubedrain::drain::journal::{Journal, Target};
use kubedrain::sim::api::faults::{FaultAction, FaultRule};
use kubedrain::sim::{Kind, SimOptions, Simulator, Store};
use tokio::sync::mpsc::UnboundedReceiver;

pub const DEADLINE: Duration = Duration::from_secs(90);

pub async fn sim(scenario: &str) -> Simulator {
    Simulator::start(SimOptions {
        scenario: scenario.into(),
        speed: 4.0,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

pub async fn client(sim: &Simulator) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kubedrain::drain::client::client_without_retry(cfg).unwrap()
}

pub fn journal(sim: &Simulator, dir: &tempfile::TempDir) -> Journal {
    Journal {
        path: dir.path().join("journal.jsonl"),
        target: Target {
            context: "kubedrain-sim".into(),
            server: sim.url(),
        },
    }
}

pub async fn pods(c: &Client) -> Vec<PodRow> {
    Api::<PodRow>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

pub async fn node(c: &Client, name: &str) -> NodeRow {
    Api::<NodeRow>::all(c.clone()).get(name).await.unwrap()
}

/// Polls `f` every 200 ms until it is true or the deadline passes.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + DEADLINE;
    while !f().await {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Collects events until `Finished`.
pub async fn finish(
    handle: DrainHandle,
    rx: &mut UnboundedReceiver<DrainEvent>,
    events: &mut Vec<DrainEvent>,
) -> DrainOutcome {
    let res = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let done = matches!(e, DrainEvent::Finished(_));
            events.push(e);
            if done {
                break;
            }
        }
    })
    .await;
    assert!(res.is_ok(), "drain did not finish in time: {events:#?}");
    handle.wait().await
}

pub fn ignore_ds() -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: true,
        ..Default::default()
    }
}

pub fn running_on<'a>(pods: &'a [PodRow], prefix: &str) -> Vec<(&'a str, Option<&'a str>)> {
    pods.iter()
        .filter(|p| p.name().starts_with(prefix) && !p.is_terminating())
        .map(|p| (p.name(), p.node_name.as_deref()))
        .collect()
}

pub async fn until_blocked(rx: &mut UnboundedReceiver<DrainEvent>, events: &mut Vec<DrainEvent>) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let blocked = matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::BlockedByPdb { .. },
                    ..
                }
            );
            events.push(e);
            if blocked {
                return;
            }
        }
        panic!("drain ended before a PDB blocked it: {events:#?}");
    })
    .await
    .expect("a PDB blocks an eviction");
}

pub fn fault(method: &str, path: &str, code: u16, times: Option<usize>) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        action: FaultAction::Status(code),
        remaining: times,
    }
}

/// Healthy (Ready, not terminating) pods each PDB selects, against its `minAvailable`.
pub fn budgets_hold(store: &Store) -> Result<(), String> {
    let (_, pdbs) = store.list(Kind::PodDisruptionBudget, None);
    let (_, pods) = store.list(Kind::Pod, None);
    for b in pdbs.iter() {
        let Some(min) = b["spec"]["minAvailable"].as_i64() else {
            continue;
        };
        let ns = &b["metadata"]["namespace"];
        let sel = b["spec"]["selector"]["matchLabels"].as_object().unwrap();
        let healthy = pods
            .iter()
            .filter(|p| &p["metadata"]["namespace"] == ns)
            .filter(|p| sel.iter().all(|(k, v)| &p["metadata"]["labels"][k] == v))
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .filter(|p| {
                p["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
            .count() as i64;
        if healthy < min {
            return Err(format!(
                "{}: {healthy} healthy < minAvailable {min}",
                b["metadata"]["name"]
            ));
        }
    }
    Ok(())
}

/// A no-retry client for `sim`'s credentials at another URL (a proxy in front of it).
pub async fn client_via(sim: &Simulator, url: &str) -> Client {
    let yaml = sim.kubeconfig_yaml().replace(&sim.url(), url);
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kubedrain::drain::client::client_without_retry(cfg).unwrap()
}
