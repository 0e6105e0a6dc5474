//! The facts a describe page derives, pure and unit-tested: a pod's requests and limits as
//! the scheduler counts them, a node's allocated resources, the PDBs that select a pod, and
//! the owner chain walked one GET at a time.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::core::{Selector, SelectorExt};

use crate::cluster::quantity;
use crate::cluster::rows::PdbRow;

/// CPU (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Res {
    pub cpu_m: u64,
    pub mem: u64,
}

impl Res {
    fn add(self, o: Res) -> Res {
        Res {
            cpu_m: self.cpu_m + o.cpu_m,
            mem: self.mem + o.mem,
        }
    }

    fn max(self, o: Res) -> Res {
        Res {
            cpu_m: self.cpu_m.max(o.cpu_m),
            mem: self.mem.max(o.mem),
        }
    }
}

/// A pod's requests and limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodRes {
    pub requests: Res,
    pub limits: Res,
}

fn container_res(c: &Container, limits: bool) -> Res {
    let r = c.resources.as_ref();
    let map = if limits {
        r.and_then(|r| r.limits.as_ref())
    } else {
        r.and_then(|r| r.requests.as_ref())
    };
    let get = |k: &str| map.and_then(|m| m.get(k)).map(|q| q.0.as_str());
    Res {
        cpu_m: get("cpu").and_then(quantity::cpu_millis).unwrap_or(0),
        mem: get("memory").and_then(quantity::bytes).unwrap_or(0),
    }
}

/// What the scheduler (and `kubectl describe node`) counts for `pod`: app containers
/// summed; sidecars (init containers with `restartPolicy: Always`) added to them; each
/// ordinary init container counted alone with the sidecars started before it, the largest
/// of those if it is larger; plus the pod overhead.
pub fn pod_resources(pod: &Pod) -> PodRes {
    let Some(spec) = &pod.spec else {
        return PodRes::default();
    };
    let of = |limits: bool| {
        let mut sum = spec
            .containers
            .iter()
            .fold(Res::default(), |a, c| a.add(container_res(c, limits)));
        let mut sidecars = Res::default();
        let mut init_peak = Res::default();
        for c in spec.init_containers.iter().flatten() {
            let own = container_res(c, limits);
            let at_start = if c.restart_policy.as_deref() == Some("Always") {
                sum = sum.add(own);
                sidecars = sidecars.add(own);
                sidecars
            } else {
                own.add(sidecars)
            };
            init_peak = init_peak.max(at_start);
        }
        let overhead = spec.overhead.as_ref().map_or(Res::default(), |o| Res {
            cpu_m: o
                .get("cpu")
                .and_then(|q| quantity::cpu_millis(&q.0))
                .unwrap_or(0),
            mem: o
                .get("memory")
                .and_then(|q| quantity::bytes(&q.0))
                .unwrap_or(0),
        });
        sum.max(init_peak).add(overhead)
    };
    PodRes {
        requests: of(false),
        limits: of(true),
    }
}

/// Whether `pod` has finished (Succeeded / Failed): it no longer holds its requests.
pub fn finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// A node's "Allocated resources": the sums over its non-terminated pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocated {
    pub pods: usize,
    pub requests: Res,
    pub limits: Res,
}

/// Sums the requests and limits of `pods` (the node's, every namespace), finished ones left out.
pub fn allocated(pods: &[Pod]) -> Allocated {
    pods.iter()
        .filter(|p| !finished(p))
        .fold(Allocated::default(), |a, p| {
            let r = pod_resources(p);
            Allocated {
                pods: a.pods + 1,
                requests: a.requests.add(r.requests),
                limits: a.limits.add(r.limits),
            }
        })
}

/// `part` as a whole percentage of `of` (`None` when `of` is 0: nothing to compare with).
pub fn percent(part: u64, of: u64) -> Option<u64> {
    (of > 0).then(|| part * 100 / of)
}

/// How a PDB relates to a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbMatch {
    /// Its selector selects the pod.
    Selects,
    /// Its selector cannot be read (then the API server ignores it too).
    Invalid(String),
}

/// The PDBs of `namespace` whose selector selects `labels`, by kube-core's selector matching;
/// a missing or empty selector selects nothing (the Eviction API's rule). Sorted by key.
pub fn pdbs_covering<'a>(
    namespace: &str,
    labels: &BTreeMap<String, String>,
    pdbs: impl IntoIterator<Item = &'a PdbRow>,
) -> Vec<(&'a PdbRow, PdbMatch)> {
    let mut out: Vec<(&PdbRow, PdbMatch)> = pdbs
        .into_iter()
        .filter(|p| p.meta.namespace.as_deref() == Some(namespace))
        .filter_map(|p| {
            let sel = p.selector.clone()?;
            match Selector::try_from(sel) {
                Ok(s) if s.selects_all() => None,
                Ok(s) => s.matches(labels).then_some((p, PdbMatch::Selects)),
                Err(e) => Some((p, PdbMatch::Invalid(e.to_string()))),
            }
        })
        .collect();
    out.sort_by_key(|(p, _)| p.key());
    out
}

/// An owner reference as a chain hop names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// One step up the owner chain: the owner, and what reading it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub owner: OwnerRef,
    /// `Ok` when it was read; else why not (not found, forbidden).
    pub read: Result<(), String>,
}

/// How far the chain is followed (Pod → ReplicaSet → Deployment needs two).
pub const MAX_HOPS: usize = 5;

/// Walks up from `first` (the pod's controller): `get` reads an owner and returns *its*
/// controller. Stops at the top, at an error (kept in the last hop), at a loop or after
/// `MAX_HOPS`.
pub async fn walk_owners<F, Fut>(first: Option<OwnerRef>, mut get: F) -> Vec<Hop>
where
    F: FnMut(OwnerRef) -> Fut,
    Fut: std::future::Future<Output = Result<Option<OwnerRef>, String>>,
{
    let mut out: Vec<Hop> = Vec::new();
    let mut next = first;
    while let Some(owner) = next.take() {
        if out.len() == MAX_HOPS || out.iter().any(|h| h.owner == owner) {
            break;
        }
        let read = get(owner.clone()).await;
        let (read, up) = match read {
            Ok(up) => (Ok(()), up),
            Err(e) => (Err(e), None),
        };
        out.push(Hop { owner, read });
        next = up;
    }
    out
}

/// The controller reference of an object's `ownerReferences`, else its first one.
pub fn controller_of(
    refs: Option<&[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]>,
) -> Option<OwnerRef> {
    let refs = refs?;
    refs.iter()
        .find(|o| o.controller == Some(true))
        .or(refs.first())
        .map(|o| OwnerRef {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    fn c(name: &str, cpu: &str, mem: &str) -> serde_json::Value {
        json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem},
            "limits": {"memory": mem}}})
    }

    #[test]
    fn requests_count_sidecars_and_the_largest_init_container() {
        let p = pod(json!({"spec": {
            "containers": [c("a", "100m", "64Mi"), c("b", "150m", "64Mi")],
            "initContainers": [
                // A sidecar: runs beside the app containers.
                {"name": "proxy", "restartPolicy": "Always",
                 "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}}},
                // An ordinary init container larger than the rest: it sets the CPU.
                c("migrate", "1", "16Mi"),
            ],
            "overhead": {"cpu": "10m"}
        }}));
        let r = pod_resources(&p);
        // max(250m + 50m, 1000m + 50m sidecar started before it) + 10m overhead.
        assert_eq!(r.requests.cpu_m, 1060);
        assert_eq!(r.requests.mem, (64 + 64 + 32) << 20);
        assert_eq!(r.limits.mem, (64 + 64) << 20);
        assert_eq!(r.limits.cpu_m, 10, "no CPU limits: only the overhead");
    }

    #[test]
    fn allocated_leaves_finished_pods_out() {
        let running = pod(json!({"spec": {"containers": [c("a", "250m", "128Mi")]},
            "status": {"phase": "Running"}}));
        let done = pod(json!({"spec": {"containers": [c("a", "1", "1Gi")]},
            "status": {"phase": "Succeeded"}}));
        let pending = pod(json!({"spec": {"containers": [c("a", "100m", "0")]}}));
        let a = allocated(&[running, done, pending]);
        assert_eq!(a.pods, 2);
        assert_eq!(a.requests.cpu_m, 350);
        assert_eq!(a.requests.mem, 128 << 20);
        assert_eq!(a.limits.mem, 128 << 20);
        assert_eq!(percent(350, 2000), Some(17));
        assert_eq!(percent(1, 0), None);
    }

    fn pdb(ns: &str, name: &str, selector: serde_json::Value) -> PdbRow {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": ns},
            "spec": {"minAvailable": 1, "selector": selector}}))
        .unwrap()
    }

    #[test]
    fn pdbs_that_select_the_pod_by_labels_and_expressions() {
        let labels: BTreeMap<String, String> = [("app", "web"), ("tier", "front")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let pdbs = [
            pdb("shop", "web", json!({"matchLabels": {"app": "web"}})),
            pdb(
                "shop",
                "front",
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}),
            ),
            pdb("shop", "other", json!({"matchLabels": {"app": "db"}})),
            // Same selector, other namespace: never.
            pdb("else", "web", json!({"matchLabels": {"app": "web"}})),
            // Empty selector: matches nothing for evictions.
            pdb("shop", "empty", json!({})),
            pdb(
                "shop",
                "broken",
                json!({"matchExpressions": [{"key": "tier", "operator": "Near"}]}),
            ),
            pdb(
                "shop",
                "not-db",
                json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}),
            ),
        ];
        let got: Vec<(String, bool)> = pdbs_covering("shop", &labels, &pdbs)
            .into_iter()
            .map(|(p, m)| (p.key(), m == PdbMatch::Selects))
            .collect();
        assert_eq!(
            got,
            vec![
                ("shop/broken".to_string(), false),
                ("shop/front".to_string(), true),
                ("shop/not-db".to_string(), true),
                ("shop/web".to_string(), true),
            ]
        );
    }

    fn owner(kind: &str, name: &str) -> OwnerRef {
        OwnerRef {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[tokio::test]
    async fn owner_chain_goes_up_until_the_top_or_an_error() {
        let up: BTreeMap<&str, Result<Option<OwnerRef>, String>> = [
            ("web-7c9d", Ok(Some(owner("Deployment", "web")))),
            ("web", Ok(None)),
            ("job-1", Ok(Some(owner("CronJob", "nightly")))),
            ("nightly", Err("forbidden".to_string())),
            ("a", Ok(Some(owner("X", "b")))),
            ("b", Ok(Some(owner("X", "a")))),
        ]
        .into_iter()
        .collect();
        let walk = |first: OwnerRef| {
            let up = &up;
            walk_owners(Some(first), move |o: OwnerRef| {
                let r = up[o.name.as_str()].clone();
                async move { r }
            })
        };
        let chain = walk(owner("ReplicaSet", "web-7c9d")).await;
        let names: Vec<_> = chain
            .iter()
            .map(|h| format!("{}/{}", h.owner.kind, h.owner.name))
            .collect();
        assert_eq!(names, ["ReplicaSet/web-7c9d", "Deployment/web"]);
        assert!(chain.iter().all(|h| h.read.is_ok()));

        let chain = walk(owner("Job", "job-1")).await;
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1].read, Err("forbidden".to_string()));

        // A loop is followed once round, never forever.
        assert_eq!(walk(owner("X", "a")).await.len(), 2);
        assert!(walk_owners(None, |_| async { Ok(None) }).await.is_empty());
    }
}
