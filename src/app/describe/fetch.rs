//! The page's reads, run by a background task that answers with `Msg::Describe`: the full
//! object (GET), a node's pods (a node-scoped list over every namespace), a pod's owners one
//! GET at a time, the YAML. Every failure is kept with its reason for the page to show.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use tokio::sync::mpsc;

use super::facts::{OwnerRef, controller_of, walk_owners};
use super::{Answer, Facts, Mode, Request, Subject};
use crate::app::msg::Msg;

/// How long one read may take before the page says it timed out.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `req` on a task; its answer comes back as `Msg::Describe`.
pub fn spawn(client: kube::Client, tx: mpsc::Sender<Msg>, req: Request) {
    tokio::spawn(async move {
        let facts = fetch(&client, &req).await;
        let _ = tx.send(Msg::Describe(Answer { id: req.id, facts })).await;
    });
}

/// Reads what `req` needs.
pub async fn fetch(client: &kube::Client, req: &Request) -> Facts {
    if req.mode == Mode::Yaml {
        return Facts::Yaml(yaml(client, &req.subject).await);
    }
    match &req.subject {
        Subject::Node(name) => {
            let nodes: Api<Node> = Api::all(client.clone());
            let pods: Api<Pod> = Api::all(client.clone());
            let on_node = ListParams::default().fields(&format!("spec.nodeName={name}"));
            let (node, pods) = tokio::join!(read(nodes.get(name)), read(pods.list(&on_node)));
            Facts::Node {
                node: node.map(Box::new),
                pods: pods.map(|l| l.items),
            }
        }
        Subject::Pod { namespace, name } => {
            let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
            let pod = read(pods.get(name)).await;
            let first = match &pod {
                Ok(p) => controller_of(p.metadata.owner_references.as_deref()),
                Err(_) => req.cached_owner.clone(),
            };
            let owners = walk_owners(first, |o| owner(client, namespace, o)).await;
            Facts::Pod {
                pod: pod.map(Box::new),
                owners,
            }
        }
        Subject::Pdb { namespace, name } => {
            let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), namespace);
            Facts::Pdb {
                pdb: read(pdbs.get(name)).await.map(Box::new),
            }
        }
    }
}

/// One read with a deadline; errors in plain words: the text the page shows, which [`Facts`]
/// keeps (it is `Clone`), so a String.
async fn read<T>(f: impl std::future::Future<Output = kube::Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(READ_TIMEOUT, f).await {
        Ok(r) => r.map_err(|e| why(&e)),
        Err(_) => Err(format!("no answer within {} s", READ_TIMEOUT.as_secs())),
    }
}

/// A read error as the page says it: the status code and the server's words.
pub fn why(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => format!("forbidden (403): {}", s.message),
        kube::Error::Api(s) if s.code == 404 => format!("not found (404): {}", s.message),
        kube::Error::Api(s) => format!("{} ({}): {}", s.reason, s.code, s.message),
        other => format!("the API server could not be reached ({other})"),
    }
}

/// The API resource of `kind` in `api_version`, with its plural and scope.
fn resource(api_version: &str, kind: &str) -> (ApiResource, bool) {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let lower = kind.to_ascii_lowercase();
    // The kinds owners and pages meet; others get the usual English plural.
    let plural = match lower.as_str() {
        "poddisruptionbudget" => "poddisruptionbudgets".to_string(),
        l if l.ends_with('s') || l.ends_with('x') => format!("{l}es"),
        l if l.ends_with('y') => format!("{}ies", &l[..l.len() - 1]),
        l => format!("{l}s"),
    };
    let cluster_scoped = matches!(kind, "Node" | "Namespace" | "PersistentVolume");
    (
        ApiResource::from_gvk_with_plural(&gvk, &plural),
        cluster_scoped,
    )
}

fn dynamic(
    client: &kube::Client,
    namespace: &str,
    api_version: &str,
    kind: &str,
) -> Api<DynamicObject> {
    let (ar, cluster) = resource(api_version, kind);
    if cluster {
        Api::all_with(client.clone(), &ar)
    } else {
        Api::namespaced_with(client.clone(), namespace, &ar)
    }
}

/// Reads owner `o` and returns its own controller.
async fn owner(
    client: &kube::Client,
    namespace: &str,
    o: OwnerRef,
) -> Result<Option<OwnerRef>, String> {
    let api = dynamic(client, namespace, &o.api_version, &o.kind);
    let obj = read(api.get(&o.name)).await?;
    Ok(controller_of(obj.metadata.owner_references.as_deref()))
}

/// The object as YAML, without `metadata.managedFields` (kubectl shows them only with
/// `--show-managed-fields`).
async fn yaml(client: &kube::Client, s: &Subject) -> Result<String, String> {
    let api_version = match s {
        Subject::Pdb { .. } => "policy/v1",
        _ => "v1",
    };
    let api = dynamic(client, s.namespace().unwrap_or(""), api_version, s.kind());
    let obj = read(api.get(s.name())).await?;
    let mut v = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    serde_saphyr::to_string(&v).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_scopes() {
        let (ar, cluster) = resource("apps/v1", "ReplicaSet");
        assert_eq!(
            (ar.group.as_str(), ar.plural.as_str()),
            ("apps", "replicasets")
        );
        assert!(!cluster);
        let (ar, cluster) = resource("v1", "Node");
        assert_eq!((ar.group.as_str(), ar.plural.as_str()), ("", "nodes"));
        assert!(cluster);
        assert_eq!(
            resource("policy/v1", "PodDisruptionBudget").0.plural,
            "poddisruptionbudgets"
        );
        assert_eq!(resource("x.io/v1", "Policy").0.plural, "policies");
    }
}
