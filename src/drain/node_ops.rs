//! Cordon, uncordon and drain-state annotations on a node, with kubectl's idempotency checks
//! and kubedrain's bookkeeping (journal + annotations).

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Error};
use serde_json::{Value, json};

use super::journal::{
    Action, FIELD_MANAGER, Journal, ann, cordon_annotations, cordon_is_ours, may_uncordon,
};
use crate::cluster::rows::NodeRow;

/// Why a node operation failed.
#[derive(Debug)]
pub enum NodeOpError {
    /// The node does not exist.
    NotFound(String),
    /// kubedrain refuses (e.g. uncordoning a cordon that predates it without `--force`).
    Refused(String),
    /// The node behind the name is not the one kubedrain read (its uid changed: it was
    /// re-created, or the server now serves another cluster); the message says which.
    Replaced(String),
    /// Any other API or transport error.
    Api(Error),
}

impl fmt::Display for NodeOpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeOpError::NotFound(n) => {
                write!(f, "Error from server (NotFound): nodes \"{n}\" not found")
            }
            NodeOpError::Refused(m) | NodeOpError::Replaced(m) => f.write_str(m),
            NodeOpError::Api(e) => f.write_str(&api_error_text(e)),
        }
    }
}

impl std::error::Error for NodeOpError {}

/// kubectl's rendering of an API error: `Error from server (Reason): message`.
pub fn api_error_text(e: &Error) -> String {
    match e {
        Error::Api(s) if !s.reason.is_empty() => {
            format!("Error from server ({}): {}", s.reason, s.message)
        }
        Error::Api(s) => format!("Error from server: {}", s.message),
        // `--request-timeout` says it in its own words (kube would prefix "ServiceError: ").
        Error::Service(e) if e.is::<crate::cluster::timeout::TimedOut>() => e.to_string(),
        other => other.to_string(),
    }
}

/// The API error's message alone (what kubectl puts after `error when evicting ...: `).
pub fn api_message(e: &Error) -> String {
    match e {
        Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

fn map_err(name: &str, e: Error) -> NodeOpError {
    match &e {
        Error::Api(s) if s.code == 404 => NodeOpError::NotFound(name.to_string()),
        // A uid in a patch is checked as an immutable field (422); as a precondition (409).
        Error::Api(s)
            if (s.code == 409 && s.message.contains("UID in precondition"))
                || (s.code == 422
                    && s.message.contains("metadata.uid")
                    && s.message.contains("immutable")) =>
        {
            NodeOpError::Replaced(replaced_text(name, &s.message))
        }
        _ => NodeOpError::Api(e),
    }
}

/// What kubedrain says when a node's uid is not the one it read.
pub fn replaced_text(name: &str, detail: &str) -> String {
    format!(
        "node/{name} is not the node kubedrain started with: it was re-created or the server now \
         serves a different cluster ({detail}); nothing was changed on it"
    )
}

/// A name that is not a node name never reaches a request path (`node1/status` would be
/// the status subresource).
pub(super) fn check_name(name: &str) -> Result<(), NodeOpError> {
    crate::cluster::names::node_name(name).map_err(|e| NodeOpError::Refused(e.to_string()))
}

/// Every node write is made as kubedrain's field manager.
fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    }
}

/// GETs a node.
pub async fn get_node(client: &Client, name: &str) -> Result<NodeRow, NodeOpError> {
    check_name(name)?;
    Api::<NodeRow>::all(client.clone())
        .get(name)
        .await
        .map_err(|e| map_err(name, e))
}

/// Patches node `name`. With a `uid`, the patch carries it: the server refuses to change a
/// node with another uid (422, uid is immutable), so a re-created node or another cluster
/// behind the same URL is never changed by a step meant for the node read before.
async fn patch_node(
    client: &Client,
    name: &str,
    uid: Option<&str>,
    mut body: Value,
) -> Result<NodeRow, NodeOpError> {
    check_name(name)?;
    if let Some(uid) = uid.filter(|u| !u.is_empty()) {
        body["metadata"]["uid"] = json!(uid);
    }
    Api::<NodeRow>::all(client.clone())
        .patch(name, &patch_params(), &Patch::Merge(body))
        .await
        .map_err(|e| map_err(name, e))
}

/// The result of a cordon.
#[derive(Debug, Clone)]
pub struct Cordoned {
    /// It was cordoned already (kubectl: `already cordoned`).
    pub already: bool,
    /// The node as fetched before the cordon.
    pub before: NodeRow,
    /// The node after it (the patch's answer; `before` when nothing had to change).
    pub after: NodeRow,
}

/// Cordons `name`. With `drain`, also marks `drain-state: draining` (and records who cordoned
/// even when it was cordoned already, so a pre-existing cordon is remembered as such).
pub async fn cordon(
    client: &Client,
    name: &str,
    drain: bool,
    journal: &Journal,
) -> Result<Cordoned, NodeOpError> {
    let node = get_node(client, name).await?;
    cordon_node(client, node, drain, journal).await
}

/// [`cordon`] of a node already read (the drain reads it from its node watch, saving a GET).
pub async fn cordon_node(
    client: &Client,
    node: NodeRow,
    drain: bool,
    journal: &Journal,
) -> Result<Cordoned, NodeOpError> {
    let name = node.name().to_string();
    let name = name.as_str();
    let already = node.unschedulable;
    let ours = cordon_is_ours(&node);
    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    if !already || (drain && !ours) {
        annotations = cordon_annotations(&node, Timestamp::now());
    }
    if drain {
        annotations.insert(ann::DRAIN_STATE.into(), "draining".into());
    }
    let mut after = node.clone();
    if !annotations.is_empty() {
        let body =
            json!({"metadata": {"annotations": annotations}, "spec": {"unschedulable": true}});
        match patch_node(client, name, node.meta.uid.as_deref(), body).await {
            Ok(n) => after = n,
            Err(e) => {
                let _ = journal
                    .record_durable(name, Action::Cordon, "failed", None, Some(&e.to_string()))
                    .await;
                return Err(e);
            }
        }
    }
    let outcome = if already {
        "already-cordoned"
    } else {
        "cordoned"
    };
    let _ = journal
        .record_durable(name, Action::Cordon, outcome, None, None)
        .await;
    Ok(Cordoned {
        already,
        before: node,
        after,
    })
}

/// The result of an uncordon.
#[derive(Debug, Clone)]
pub struct Uncordoned {
    /// It was schedulable already (kubectl: `already uncordoned`).
    pub already: bool,
    /// Kernel/OS/kubelet before → now, when kubedrain recorded them and they changed.
    pub changes: Vec<String>,
}

/// What changed on the node since kubedrain cordoned it (kernel, OS image, kubelet).
pub fn version_changes(node: &NodeRow) -> Vec<String> {
    [
        ("kernel", ann::PRE_KERNEL, &node.kernel_version),
        ("os-image", ann::PRE_OS_IMAGE, &node.os_image),
        ("kubelet", ann::PRE_KUBELET, &node.kubelet_version),
    ]
    .into_iter()
    .filter_map(|(what, key, now)| {
        let before = node.annotation(key)?;
        (before != now.as_str()).then(|| format!("{what} {before} → {now}"))
    })
    .collect()
}

/// Uncordons `name`, refusing (unless `force`) to lift a cordon kubedrain did not put there
/// or that predates it. Clears kubedrain's annotations.
pub async fn uncordon(
    client: &Client,
    name: &str,
    force: bool,
    journal: &Journal,
) -> Result<Uncordoned, NodeOpError> {
    let node = get_node(client, name).await?;
    if !node.unschedulable {
        let _ = journal
            .record_durable(name, Action::Uncordon, "already-uncordoned", None, None)
            .await;
        return Ok(Uncordoned {
            already: true,
            changes: vec![],
        });
    }
    if !force && let Err(why) = may_uncordon(&node) {
        let why = why.to_string();
        let _ = journal
            .record_durable(name, Action::Uncordon, "refused", None, Some(&why))
            .await;
        return Err(NodeOpError::Refused(why));
    }
    let changes = version_changes(&node);
    let cleared: BTreeMap<&str, Value> = ann::ALL.iter().map(|k| (*k, Value::Null)).collect();
    let body = json!({"metadata": {"annotations": cleared}, "spec": {"unschedulable": false}});
    match patch_node(client, name, node.meta.uid.as_deref(), body).await {
        Ok(_) => {
            let detail = (!changes.is_empty()).then(|| changes.join(", "));
            let _ = journal
                .record_durable(
                    name,
                    Action::Uncordon,
                    "uncordoned",
                    None,
                    detail.as_deref(),
                )
                .await;
            Ok(Uncordoned {
                already: false,
                changes,
            })
        }
        Err(e) => {
            let _ = journal
                .record_durable(name, Action::Uncordon, "failed", None, Some(&e.to_string()))
                .await;
            Err(e)
        }
    }
}

/// Sets the `kubedrain.io/drain-state` annotation on the node with `uid` (only that one).
pub async fn set_drain_state(
    client: &Client,
    name: &str,
    uid: Option<&str>,
    state: &str,
) -> Result<(), NodeOpError> {
    let body = json!({"metadata": {"annotations": {ann::DRAIN_STATE: state}}});
    patch_node(client, name, uid, body).await.map(|_| ())
}
