//! The queued taint: `kubedrain.io/queued=<campaign id>:PreferNoSchedule` on the nodes still
//! waiting their turn, so the scheduler prefers other nodes for the pods a drain evicts (a pod
//! that lands on the next node in line is disrupted twice). Soft: a pod that fits nowhere else
//! still goes there. The value is the campaign's id, so a campaign knows its own taints even
//! when a crash came between the patch and the journal line, and never lifts another one's.

use k8s_openapi::api::core::v1::{Node, Taint};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use super::events::CampaignEvent;
use super::exec::{Halt, Runner};
use super::journal::Step;
use super::read;
use crate::cluster::rows::NodeRow;

/// The taint's key.
pub const QUEUED_KEY: &str = "kubedrain.io/queued";
/// Its effect.
pub const QUEUED_EFFECT: &str = "PreferNoSchedule";

/// What [`add`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// The taint was put on.
    Added,
    /// This campaign's taint was there already.
    Ours,
    /// Another campaign's (its id): left as it is.
    Foreign(String),
}

/// Whether `taints` carry the queued taint of campaign `id`.
pub fn has_ours(taints: &[crate::cluster::rows::Taint], id: &str) -> bool {
    taints
        .iter()
        .any(|t| t.key == QUEUED_KEY && t.effect == QUEUED_EFFECT && t.value.as_deref() == Some(id))
}

/// Whether `taints` carry any campaign's queued taint.
pub fn has_any(taints: &[crate::cluster::rows::Taint]) -> bool {
    taints
        .iter()
        .any(|t| t.key == QUEUED_KEY && t.effect == QUEUED_EFFECT)
}

/// The queued taint of campaign `id`, as a row's taint (for a forecast).
pub fn queued_taint(id: &str) -> crate::cluster::rows::Taint {
    crate::cluster::rows::Taint {
        key: QUEUED_KEY.into(),
        value: Some(id.into()),
        effect: QUEUED_EFFECT.into(),
    }
}

fn is_queued(t: &Taint) -> bool {
    t.key == QUEUED_KEY && t.effect == QUEUED_EFFECT
}

/// Replaces `node`'s taints with what `change` makes of them, guarded by the resourceVersion
/// read (the list is replaced whole: a concurrent change by the node lifecycle controller
/// makes the patch fail with a conflict, and it is read and done again).
async fn update<T>(
    client: &Client,
    node: &str,
    change: impl Fn(&mut Vec<Taint>) -> (bool, T),
) -> Result<T, super::read::ApiError> {
    let api = Api::<Node>::all(client.clone());
    let mut tries = 0;
    loop {
        tries += 1;
        let n = api.get(node).await?;
        let mut taints = n
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let (changed, out) = change(&mut taints);
        if !changed {
            return Ok(out);
        }
        let body = json!({
            "metadata": {"resourceVersion": n.metadata.resource_version},
            "spec": {"taints": taints},
        });
        match api
            .patch(node, &PatchParams::default(), &Patch::Merge(body))
            .await
        {
            Ok(_) => return Ok(out),
            Err(kube::Error::Api(s)) if s.code == 409 && tries < 5 => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Puts campaign `id`'s queued taint on `node` unless a queued taint is there already.
pub async fn add(client: &Client, node: &str, id: &str) -> Result<Added, super::read::ApiError> {
    update(client, node, |taints| {
        match taints.iter().find(|t| is_queued(t)) {
            Some(t) if t.value.as_deref() == Some(id) => (false, Added::Ours),
            Some(t) => (false, Added::Foreign(t.value.clone().unwrap_or_default())),
            None => {
                taints.push(Taint {
                    key: QUEUED_KEY.into(),
                    value: Some(id.into()),
                    effect: QUEUED_EFFECT.into(),
                    time_added: None,
                });
                (true, Added::Added)
            }
        }
    })
    .await
}

/// Lifts campaign `id`'s queued taint from `node`; `Ok(false)` when it was not there.
pub async fn remove(client: &Client, node: &str, id: &str) -> Result<bool, super::read::ApiError> {
    update(client, node, |taints| {
        let before = taints.len();
        taints.retain(|t| !(is_queued(t) && t.value.as_deref() == Some(id)));
        let removed = taints.len() != before;
        (removed, removed)
    })
    .await
}

/// The command that lifts it by hand.
pub fn manual_removal(node: &str) -> String {
    format!("kubectl taint nodes {node} {QUEUED_KEY}:{QUEUED_EFFECT}-")
}

impl Runner {
    /// Puts the queued taint on every node still waiting its turn (not the next wave's: they
    /// are cordoned in a moment) and lifts it from nodes past their cordon. On a resume the
    /// cluster says which taints are this campaign's, even one whose journal line a crash
    /// lost.
    pub(super) async fn sync_taints(&self) -> Result<(), Halt> {
        let (tainted, soaked) = match self.progress.lock() {
            Ok(p) => (p.tainted.clone(), p.soaked.clone()),
            Err(_) => return Ok(()),
        };
        if !self.spec.taint_queued && tainted.is_empty() {
            return Ok(());
        }
        let id = self.id();
        let nodes = read::list::<NodeRow>(&self.s.client, &ListParams::default())
            .await
            .map_err(|e| Halt::Fail {
                node: String::new(),
                step: Step::Taint,
                reason: format!("cannot read the nodes for the queued taint: {e}"),
            })?;
        let next = self
            .spec
            .waves
            .iter()
            .find(|w| !soaked.contains(&w.index))
            .map(|w| w.index);
        let mut added = Vec::new();
        for w in &self.spec.waves {
            for n in &w.nodes {
                let want =
                    self.spec.taint_queued && Some(w.index) != next && !self.did(n, Step::Cordon);
                let has = nodes
                    .iter()
                    .find(|r| r.name() == n)
                    .is_some_and(|r| has_ours(&r.taints, &id));
                match (want, has) {
                    (true, false) => {
                        let put = self.taint(w.index, n, &id).await?;
                        added.extend(put.then_some(n.as_str()));
                    }
                    (true, true) if !tainted.contains(n) => {
                        let why = "found on the node (its journal line was lost)";
                        self.journal_taint(w.index, n, "tainted", Some(why.into()))
                            .await;
                    }
                    (false, true) => self.untaint(w.index, n).await?,
                    _ => {}
                }
            }
        }
        if !added.is_empty() {
            self.emit(CampaignEvent::Notice(format!(
                "{QUEUED_KEY}={id}:{QUEUED_EFFECT} on the node(s) waiting their turn: {}",
                added.join(", ")
            )));
        }
        Ok(())
    }

    /// Puts the queued taint on `node`; `Ok(true)` when it did.
    async fn taint(&self, wave: usize, node: &str, id: &str) -> Result<bool, Halt> {
        match add(&self.s.client, node, id).await {
            Ok(Added::Added) => {
                self.journal_taint(wave, node, "tainted", None).await;
                Ok(true)
            }
            Ok(Added::Ours) => Ok(false),
            Ok(Added::Foreign(other)) => {
                self.emit(CampaignEvent::Notice(format!(
                    "node/{node} carries {QUEUED_KEY} of campaign {other}: left as it is"
                )));
                Ok(false)
            }
            Err(e) => {
                let reason = format!("cannot put the queued taint on node/{node}: {e}");
                self.fail(wave, node, Step::Taint, reason)
                    .await
                    .map(|()| false)
            }
        }
    }

    async fn journal_taint(&self, wave: usize, node: &str, outcome: &str, why: Option<String>) {
        let detail = Some(format!("{QUEUED_KEY}={}:{QUEUED_EFFECT}", self.id()));
        let detail = match why {
            Some(w) => detail.map(|d| format!("{d}; {w}")),
            None => detail,
        };
        self.record(Some(wave), Some(node), Step::Taint, outcome, detail)
            .await;
        if let Ok(mut p) = self.progress.lock() {
            if outcome == "tainted" {
                p.tainted.insert(node.to_string());
            } else {
                p.tainted.remove(node);
            }
        }
    }

    /// Lifts the queued taint from `node` if this campaign put it there (its turn has come:
    /// called once it is cordoned, so no pod lands on it in between).
    pub(super) async fn untaint(&self, wave: usize, node: &str) -> Result<(), Halt> {
        let ours = self.progress.lock().is_ok_and(|p| p.tainted.contains(node));
        if !ours {
            return Ok(());
        }
        match remove(&self.s.client, node, &self.id()).await {
            Ok(_) => {
                self.journal_taint(wave, node, "untainted", None).await;
                Ok(())
            }
            Err(e) => {
                let reason = format!("cannot lift the queued taint from node/{node}: {e}");
                self.fail(wave, node, Step::Taint, reason).await
            }
        }
    }

    /// At the end, on abort, on failure: lifts every queued taint still on (a resume puts
    /// them back); what cannot be lifted is said, with the command that does it.
    pub(super) async fn lift_taints(&self) {
        let tainted = self
            .progress
            .lock()
            .map(|p| p.tainted.clone())
            .unwrap_or_default();
        if !tainted.is_empty() {
            let nodes: Vec<&str> = tainted.iter().map(String::as_str).collect();
            self.emit(CampaignEvent::Notice(format!(
                "lifting {QUEUED_KEY} from the node(s) still waiting: {}",
                nodes.join(", ")
            )));
        }
        for node in tainted {
            let wave = self
                .spec
                .waves
                .iter()
                .find(|w| w.nodes.contains(&node))
                .map_or(0, |w| w.index);
            match remove(&self.s.client, &node, &self.id()).await {
                Ok(_) => self.journal_taint(wave, &node, "untainted", None).await,
                Err(e) => self.emit(CampaignEvent::Notice(format!(
                    "warning: cannot lift the queued taint from node/{node}: {e}; run `{}`",
                    manual_removal(&node)
                ))),
            }
        }
    }
}
