//! One-shot reads for headless planning and for the executor's pre-flight (the TUI plans from
//! its watch caches instead).

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::filters::DsLookup;
use super::node_ops::{NodeOpError, api_message, get_node};
use super::options::DrainOptions;
use super::plan::{ClusterView, DrainPlan, PlanInput, plan};
use crate::cluster::rows::{NodeRow, PdbRow, PodRow};

/// kubectl's `--chunk-size` default.
const CHUNK: u32 = 500;

/// Lists every page.
async fn list_all<K>(api: &Api<K>, mut lp: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    lp.limit = Some(CHUNK);
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp.continue_token = Some(c),
            None => return Ok(out),
        }
    }
}

/// Everything needed to plan a drain of one node.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub node: NodeRow,
    /// The node's pods.
    pub pods: Vec<PodRow>,
    pub pdbs: Vec<PdbRow>,
    /// kubectl's DaemonSet GET results, by (namespace, name).
    pub daemonsets: HashMap<(String, String), DsLookup>,
    /// All nodes and pods, when the capacity check was asked for.
    pub cluster: Option<(Vec<NodeRow>, Vec<PodRow>)>,
}

/// Reads the node, its pods, PDBs, the DaemonSets its pods claim, and (with `with_cluster`)
/// every node and pod for the capacity check.
pub async fn snapshot(
    client: &Client,
    node: &str,
    with_cluster: bool,
) -> Result<Snapshot, NodeOpError> {
    let n = get_node(client, node).await?;
    let pods_api = Api::<PodRow>::all(client.clone());
    let pods = list_all(
        &pods_api,
        ListParams::default().fields(&format!("spec.nodeName={node}")),
    )
    .await
    .map_err(NodeOpError::Api)?;
    let pdbs = list_all(&Api::<PdbRow>::all(client.clone()), ListParams::default())
        .await
        .map_err(NodeOpError::Api)?;
    let mut daemonsets = HashMap::new();
    for p in pods
        .iter()
        .filter(|p| p.is_daemonset_pod() && !p.phase.is_finished())
    {
        let name = p.controller().map(|o| o.name.clone()).unwrap_or_default();
        let key = (p.namespace().to_string(), name);
        if daemonsets.contains_key(&key) {
            continue;
        }
        let res = match Api::<DaemonSet>::namespaced(client.clone(), &key.0)
            .get(&key.1)
            .await
        {
            Ok(_) => DsLookup::Exists,
            Err(kube::Error::Api(s)) if s.code == 404 => DsLookup::NotFound,
            Err(e) => DsLookup::Error(api_message(&e)),
        };
        daemonsets.insert(key, res);
    }
    let cluster = if with_cluster {
        let nodes = list_all(&Api::<NodeRow>::all(client.clone()), ListParams::default())
            .await
            .map_err(NodeOpError::Api)?;
        let all = list_all(&pods_api, ListParams::default())
            .await
            .map_err(NodeOpError::Api)?;
        Some((nodes, all))
    } else {
        None
    };
    Ok(Snapshot {
        node: n,
        pods,
        pdbs,
        daemonsets,
        cluster,
    })
}

impl Snapshot {
    /// Plans the drain from this snapshot.
    pub fn plan(&self, opts: &DrainOptions, now: Timestamp) -> DrainPlan {
        let pods: Vec<&PodRow> = self.pods.iter().collect();
        let pdbs: Vec<&PdbRow> = self.pdbs.iter().collect();
        let lookup = |ns: &str, name: &str| {
            self.daemonsets
                .get(&(ns.to_string(), name.to_string()))
                .cloned()
                .unwrap_or(DsLookup::Exists)
        };
        let (nodes, all): (Vec<&NodeRow>, Vec<&PodRow>) = match &self.cluster {
            Some((n, p)) => (n.iter().collect(), p.iter().collect()),
            None => (vec![], vec![]),
        };
        plan(&PlanInput {
            node: &self.node,
            pods: &pods,
            pdbs: &pdbs,
            cluster: self.cluster.as_ref().map(|_| ClusterView {
                nodes: &nodes,
                pods: &all,
            }),
            daemonset_exists: &lookup,
            opts,
            now,
        })
    }
}
