//! The last word of a drain: it is "drained" only when a fresh GET shows the same node (the
//! uid read at the start) still cordoned, and a fresh list of the node's pods shows none that
//! the drain should have removed. The watch said each evicted pod went; the list also catches
//! what no watch event could: a pod bound to the node after the plan was made, or a server
//! that now serves another cluster under the same URL.

use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};

use super::evict;
use super::exec::Run;
use super::fetch;
use super::filters::{DsLookup, classify};
use super::node_ops::{NodeOpError, api_message, get_node, replaced_text};
use super::options::DrainOptions;
use super::plan::PodAction;
use crate::cluster::rows::{NodeRow, PodRow};

/// How long the final list may take before the drain says it cannot confirm the node drained.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

/// Of `pods` (a node-scoped listing), those a drain with `opts` should have removed or that
/// keep it from finishing, as `namespace/name`. DaemonSet pods count as their DaemonSet
/// existing, so `--ignore-daemonsets` leaves them, as kubectl's own filter does.
pub fn left_behind(pods: &[PodRow], opts: &DrainOptions, now: Timestamp) -> Vec<String> {
    let exists = |_: &str, _: &str| DsLookup::Exists;
    let mut left: Vec<String> = pods
        .iter()
        .filter(|p| !matches!(classify(p, opts, &exists, now).0, PodAction::Skip { .. }))
        .map(PodRow::key)
        .collect();
    left.sort();
    left
}

/// Why the pods left on a node could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The API refused or failed the list.
    #[error("{}", api_message(.0))]
    Api(kube::Error),
    /// No answer in time.
    #[error("no answer within {0}s")]
    NoAnswer(u64),
}

/// Lists `node`'s pods now and returns [`left_behind`]'s verdict on them.
pub async fn remaining(
    client: &Client,
    node: &str,
    opts: &DrainOptions,
) -> Result<Vec<String>, VerifyError> {
    let api = Api::<PodRow>::all(client.clone());
    let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let list = evict::retrying(|| fetch::list_all(&api, lp.clone()));
    match tokio::time::timeout(LIST_TIMEOUT, list).await {
        Ok(Ok((pods, _))) => Ok(left_behind(&pods, opts, Timestamp::now())),
        Ok(Err(e)) => Err(VerifyError::Api(e)),
        Err(_) => Err(VerifyError::NoAnswer(LIST_TIMEOUT.as_secs())),
    }
}

/// The error that keeps a drain from ending `Drained`, if any: what is still on the node, or
/// that the check itself failed (then nobody knows, so it is not "drained" either).
pub fn verdict(node: &str, found: Result<Vec<String>, VerifyError>) -> Option<String> {
    match found {
        Ok(left) if left.is_empty() => None,
        Ok(left) => Some(format!(
            "node/{node} is not drained: a fresh list of its pods still shows {}",
            left.join(", ")
        )),
        Err(e) => Some(format!(
            "could not confirm that node/{node} is drained: listing its pods failed: {e}"
        )),
    }
}

/// Whether `now` (a fresh GET) is still the node the drain started with (`uid`) and still
/// cordoned: `None` if so, else why the drain cannot say "drained".
pub fn node_verdict(node: &str, uid: Option<&str>, now: &NodeRow) -> Option<String> {
    let found = now.meta.uid.as_deref().unwrap_or("");
    if let Some(uid) = uid.filter(|u| !u.is_empty() && *u != found) {
        return Some(replaced_text(
            node,
            &format!("uid {uid} at the start, {found} now"),
        ));
    }
    (!now.unschedulable).then(|| {
        format!("node/{node} is not drained: it is schedulable again (someone uncordoned it during the drain)")
    })
}

impl Run {
    /// Called once every tracked pod is done: `None` if the drain may say `Drained`. Skipped
    /// when the drain already failed (it is not going to say drained anyway).
    pub(super) async fn confirm_drained(&self, errors: &[String]) -> Option<String> {
        if !errors.is_empty() {
            return None;
        }
        if let Some(why) = self.confirm_node().await {
            return Some(why);
        }
        verdict(
            &self.node,
            remaining(&self.client, &self.node, &self.opts).await,
        )
    }

    /// A fresh GET of the node: the same one, still cordoned.
    async fn confirm_node(&self) -> Option<String> {
        let node = &self.node;
        let get = evict::retrying(|| async {
            match get_node(&self.client, node).await {
                Err(NodeOpError::Api(e)) => Err(e),
                other => Ok(other),
            }
        });
        let got = match tokio::time::timeout(LIST_TIMEOUT, get).await {
            Ok(Ok(inner)) => Ok(inner),
            Ok(Err(e)) => Ok(Err(NodeOpError::Api(e))),
            Err(elapsed) => Err(elapsed),
        };
        match got {
            Ok(Ok(n)) => node_verdict(node, self.uid.get().map(String::as_str), &n),
            Ok(Err(NodeOpError::NotFound(_))) => {
                Some(format!("node {node} was deleted during the drain"))
            }
            Ok(Err(e)) => Some(format!(
                "could not confirm that node/{node} is drained: reading it failed: {e}"
            )),
            Err(_) => Some(format!(
                "could not confirm that node/{node} is drained: reading it got no answer within {}s",
                LIST_TIMEOUT.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, extra: serde_json::Value) -> PodRow {
        let mut v = serde_json::json!({
            "metadata": {"name": name, "namespace": "d", "uid": name,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                    "uid": "rs", "controller": true}]},
            "spec": {"nodeName": "n0"}, "status": {"phase": "Running"}
        });
        if let Some(o) = extra.as_object() {
            for (k, x) in o {
                v["metadata"][k] = x.clone();
            }
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn what_the_drain_should_have_removed() {
        let ds = pod(
            "proxy",
            serde_json::json!({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                "name": "proxy", "uid": "ds", "controller": true}]}),
        );
        let mirror = pod(
            "static",
            serde_json::json!({"annotations": {"kubernetes.io/config.mirror": "x"}}),
        );
        let opts = DrainOptions {
            ignore_daemonsets: true,
            ..Default::default()
        };
        let now = Timestamp::now();
        assert!(left_behind(&[ds.clone(), mirror.clone()], &opts, now).is_empty());
        let late = pod("late", serde_json::json!({}));
        assert_eq!(left_behind(&[ds, late, mirror], &opts, now), ["d/late"]);
        // Still terminating is still there.
        let going = pod(
            "going",
            serde_json::json!({"deletionTimestamp": "2026-01-01T00:00:00Z"}),
        );
        assert_eq!(left_behind(&[going], &opts, now), ["d/going"]);
    }

    #[test]
    fn the_node_must_be_the_same_and_still_cordoned() {
        let node = |uid: &str, unschedulable: bool| -> NodeRow {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "n0", "uid": uid},
                "spec": {"unschedulable": unschedulable}, "status": {}
            }))
            .unwrap()
        };
        assert_eq!(node_verdict("n0", Some("u1"), &node("u1", true)), None);
        let v = node_verdict("n0", Some("u1"), &node("u2", true)).unwrap();
        assert!(v.contains("uid u1 at the start, u2 now"), "{v}");
        assert!(v.contains("nothing was changed"), "{v}");
        let v = node_verdict("n0", Some("u1"), &node("u1", false)).unwrap();
        assert!(v.contains("schedulable again"), "{v}");
    }

    #[test]
    fn the_verdict_names_what_remains_or_why_nobody_knows() {
        assert_eq!(verdict("n0", Ok(vec![])), None);
        let v = verdict("n0", Ok(vec!["d/a".into()])).unwrap();
        assert!(v.contains("not drained") && v.contains("d/a"), "{v}");
        let v = verdict("n0", Err(VerifyError::NoAnswer(5))).unwrap();
        assert!(
            v.contains("could not confirm") && v.contains("no answer within 5s"),
            "{v}"
        );
    }
}
