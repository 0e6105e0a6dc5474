//! One pod's eviction (or deletion) loop: policy/v1 Eviction with a body we build ourselves,
//! 429 → wait and retry (naming the blocking PDB), 404 → gone, anything else → that pod fails.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::core::Status;
use kube::{Client, Error};
use regex::Regex;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use super::events::PodState;
use super::node_ops::api_message;
use crate::cluster::rows::PodRow;

/// kubectl's fixed retry delay, used when the server gives none.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(5);

/// The pod to evict.
#[derive(Debug, Clone)]
pub struct Target {
    pub namespace: String,
    pub name: String,
    /// The pod's uid when planned: sent as a precondition, so a new pod that took the name
    /// (or another cluster behind the same URL) is never evicted in its place.
    pub uid: String,
}

impl Target {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// How an eviction request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Accepted: the pod is terminating.
    Accepted,
    /// 404: it was already gone.
    AlreadyGone,
    /// Failed for good, with kubectl's message.
    Failed(String),
}

static PDB_CAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[Dd]isruption budget ([^\s]+?) needs (\d+) healthy pods and has (\d+) currently")
        .unwrap()
});
static PDB_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[Dd]isruption budget "?([^\s"]+?)"? "#).unwrap());

/// Turns a 429 Status into the state to report (PDB name/counts from `details.causes`).
pub fn blocked_state(s: &Status, namespace: &str) -> PodState {
    let retry_in = s
        .details
        .as_ref()
        .map(|d| d.retry_after_seconds)
        .filter(|&r| r > 0)
        .map(|r| Duration::from_secs(r.into()))
        .unwrap_or(DEFAULT_RETRY);
    let cause = s.details.as_ref().and_then(|d| {
        d.causes
            .iter()
            .find(|c| c.reason == "DisruptionBudget")
            .or_else(|| d.causes.first())
            .map(|c| c.message.clone())
    });
    let Some(text) = cause
        .clone()
        .filter(|_| s.message.contains("disruption budget"))
    else {
        return PodState::Retrying {
            message: s.message.clone(),
            retry_in,
        };
    };
    let (pdb, healthy, needed) = match PDB_CAUSE.captures(&text) {
        Some(c) => (Some(c[1].to_string()), c[3].parse().ok(), c[2].parse().ok()),
        None => (
            PDB_NAME.captures(&text).map(|c| c[1].to_string()),
            None,
            None,
        ),
    };
    PodState::BlockedByPdb {
        pdb: pdb.map(|p| {
            if p.contains('/') {
                p
            } else {
                format!("{namespace}/{p}")
            }
        }),
        healthy,
        needed,
        message: s.message.clone(),
        cause,
        retry_in,
    }
}

/// The policy/v1 Eviction body (kube-rs's `evict` sends `delete_options`, which the server ignores).
pub fn eviction_body(t: &Target, grace: Option<u32>) -> Value {
    let mut body = json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": t.name, "namespace": t.namespace},
    });
    if let Some(g) = grace {
        body["deleteOptions"]["gracePeriodSeconds"] = json!(g);
    }
    if !t.uid.is_empty() {
        body["deleteOptions"]["preconditions"] = json!({"uid": t.uid});
    }
    body
}

/// Evicts (or deletes) one pod until it is accepted, gone or fails; reports each step via
/// `report`. Holds an eviction slot from `slots` only while a request is in flight; a blocked
/// pod retries after the server's delay, or sooner when `pdb_changed` fires.
pub async fn run(
    client: Client,
    t: Target,
    grace: Option<u32>,
    delete: bool,
    slots: Arc<Semaphore>,
    pdb_changed: Arc<Notify>,
    report: impl Fn(PodState),
) -> Ended {
    let api = Api::<PodRow>::namespaced(client, &t.namespace);
    let verb = if delete { "deleting" } else { "evicting" };
    for attempt in 1.. {
        let res = {
            let Ok(_permit) = slots.acquire().await else {
                return Ended::Failed("drain stopped".into());
            };
            report(PodState::Evicting { attempt });
            if delete {
                let dp = DeleteParams {
                    grace_period_seconds: grace,
                    preconditions: (!t.uid.is_empty()).then(|| Preconditions {
                        uid: Some(t.uid.clone()),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                api.delete(&t.name, &dp).await.map(|_| ())
            } else {
                api.create_subresource::<Value, Value>(
                    "eviction",
                    &t.name,
                    &PostParams::default(),
                    &eviction_body(&t, grace),
                )
                .await
                .map(|_| ())
            }
        };
        let status = match res {
            Ok(()) => return Ended::Accepted,
            Err(Error::Api(s)) => s,
            Err(e) => {
                return Ended::Failed(format!(
                    "error when {verb} pods/\"{}\" -n \"{}\": {}",
                    t.name,
                    t.namespace,
                    api_message(&e)
                ));
            }
        };
        let terminating_ns = status.code == 403
            && status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"));
        let state = match status.code {
            404 => return Ended::AlreadyGone,
            // The pod that was planned is gone; another one has its name now.
            409 if status.message.contains("UID in precondition") => return Ended::AlreadyGone,
            429 => blocked_state(&status, &t.namespace),
            403 if terminating_ns => PodState::Retrying {
                message: status.message.clone(),
                retry_in: DEFAULT_RETRY,
            },
            _ => {
                return Ended::Failed(format!(
                    "error when {verb} pods/\"{}\" -n \"{}\": {}",
                    t.name, t.namespace, status.message
                ));
            }
        };
        let wait = match &state {
            PodState::BlockedByPdb { retry_in, .. } | PodState::Retrying { retry_in, .. } => {
                *retry_in
            }
            _ => DEFAULT_RETRY,
        };
        // Don't wait out the full delay when a PDB starts allowing disruptions (kubectl does).
        let woken = pdb_changed.notified();
        report(state);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = woken => {}
        }
    }
    unreachable!("the retry loop only ends by returning")
}
