//! One-shot reads of the whole cluster for the campaign's pre-checks, gate and soak.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Client;
use kube::api::{Api, ListParams};

use super::plan::{ClusterState, Wave, WaveCheck, check_wave};
use super::taints;
use crate::cluster::rows::{NodeRow, PdbRow, PodRow};
use crate::drain::node_ops::api_error_text;
use crate::drain::{DrainOptions, DsLookup};

/// A request the API server refused or could not answer, shown as kubectl words it.
#[derive(Debug, thiserror::Error)]
#[error("{}", api_error_text(.0))]
pub struct ApiError(#[from] pub kube::Error);

/// Every node, pod, PDB and DaemonSet name of the cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub nodes: Vec<NodeRow>,
    pub pods: Vec<PodRow>,
    pub pdbs: Vec<PdbRow>,
    /// `(namespace, name)` of every DaemonSet, or why they could not be listed (the text
    /// each pod's [`DsLookup::Error`] repeats, so the cluster read stays `Clone`).
    pub daemonsets: Result<BTreeSet<(String, String)>, String>,
}

/// Lists `K` in every namespace (or cluster-wide), or the error as kubectl words it.
pub async fn list<K>(client: &Client, lp: &ListParams) -> Result<Vec<K>, ApiError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(client.clone())
        .list(lp)
        .await
        .map(|l| l.items)
        .map_err(ApiError)
}

/// Pods and PDBs (for the soak and the Pending sampler).
pub async fn pods_and_pdbs(client: &Client) -> Result<(Vec<PodRow>, Vec<PdbRow>), ApiError> {
    let lp = ListParams::default();
    Ok((list(client, &lp).await?, list(client, &lp).await?))
}

/// Reads the whole cluster.
pub async fn cluster(client: &Client) -> Result<Cluster, ApiError> {
    let lp = ListParams::default();
    let nodes = list::<NodeRow>(client, &lp).await?;
    let (pods, pdbs) = pods_and_pdbs(client).await?;
    let daemonsets = list::<DaemonSet>(client, &lp)
        .await
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        d.metadata.namespace.clone().unwrap_or_default(),
                        d.metadata.name.clone().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .map_err(|e| e.to_string());
    Ok(Cluster {
        nodes,
        pods,
        pdbs,
        daemonsets,
    })
}

impl Cluster {
    /// kubectl's DaemonSet check, from the listing.
    pub fn daemonset(&self, ns: &str, name: &str) -> DsLookup {
        match &self.daemonsets {
            Ok(set) if set.contains(&(ns.to_string(), name.to_string())) => DsLookup::Exists,
            Ok(_) => DsLookup::NotFound,
            Err(e) => DsLookup::Error(e.clone()),
        }
    }

    /// The pre-check of `wave` on this cluster.
    pub fn check(&self, wave: &Wave, opts: &DrainOptions, now: Timestamp) -> WaveCheck {
        self.check_with_queued(wave, &[], opts, now)
    }

    /// [`Cluster::check`] as if `queued` carried the campaign's queued taint (a dry run: the
    /// campaign puts it on before the first pre-check).
    pub fn check_with_queued(
        &self,
        wave: &Wave,
        queued: &[&str],
        opts: &DrainOptions,
        now: Timestamp,
    ) -> WaveCheck {
        let tainted: Vec<NodeRow>;
        let nodes = if queued.is_empty() {
            &self.nodes
        } else {
            tainted = self
                .nodes
                .iter()
                .map(|n| {
                    let mut n = n.clone();
                    if queued.contains(&n.name()) && !taints::has_any(&n.taints) {
                        n.taints.push(taints::queued_taint("dry-run"));
                    }
                    n
                })
                .collect();
            &tainted
        };
        let lookup = |ns: &str, name: &str| self.daemonset(ns, name);
        check_wave(
            wave,
            &ClusterState {
                nodes,
                pods: &self.pods,
                pdbs: &self.pdbs,
                daemonset_exists: &lookup,
            },
            opts,
            now,
        )
    }
}
