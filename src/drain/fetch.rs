//! One-shot reads for headless planning and for the executor's pre-flight (the TUI plans from
//! its watch caches instead).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::filters::DsLookup;
use super::node_ops::{NodeOpError, api_message, check_name, get_node};
use super::options::DrainOptions;
use super::plan::{ClusterView, DrainPlan, PlanInput, plan};
use crate::cluster::list_page::Pager;
use crate::cluster::rows::{ClusterPod, NodeRow, PdbRow, PodLoad, PodRow};
use crate::cluster::stream_list;
use crate::cluster::watch::ListMode;

/// kubectl's `--chunk-size` default.
const CHUNK: u32 = 500;
/// Pages of the whole-cluster listings the plan's forecast needs: fewer round trips for
/// 150,000 pods (30 instead of 300); the rows kept are slim, so memory stays small.
const CLUSTER_CHUNK: u32 = 5000;

/// Lists every page; returns the items and the listing's resourceVersion (the first page's:
/// later pages are served from the same snapshot).
pub(super) async fn list_all<K>(
    api: &Api<K>,
    lp: ListParams,
) -> Result<(Vec<K>, String), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    list_pages(api, lp, CHUNK).await
}

/// [`list_all`] with pages of `chunk` objects.
async fn list_pages<K>(
    api: &Api<K>,
    mut lp: ListParams,
    chunk: u32,
) -> Result<(Vec<K>, String), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    lp.limit = Some(chunk);
    let mut out = Vec::new();
    let mut rv = None;
    let mut pager = Pager::new();
    loop {
        let page = pager.list(api, &lp).await?;
        rv.get_or_insert(page.metadata.resource_version.unwrap_or_default());
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp.continue_token = Some(c),
            None => return Ok((out, rv.unwrap_or_default())),
        }
    }
}

/// A whole collection for the capacity forecast: one streaming list where the server does
/// them (it writes while we decode, in one request instead of ~30 pages at 150,000 pods),
/// else pages of [`CLUSTER_CHUNK`].
async fn list_cluster<K>(
    api: &Api<K>,
    streams: bool,
    fast: fn(&[u8]) -> Option<K>,
) -> Result<Vec<K>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    if streams && let Some(items) = stream_list::list_streaming(api, fast).await? {
        return Ok(items);
    }
    Ok(list_pages(api, ListParams::default(), CLUSTER_CHUNK)
        .await?
        .0)
}

/// A spawned read that stops when its reader gives up on it (another read failed).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resource versions of the snapshot's listings, for watches that continue from them.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Of the node's pod listing.
    pub pods: String,
    /// Of the PDB listing.
    pub pdbs: String,
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
    /// All nodes, and what the plan reads of every pod, when the capacity check was asked for.
    pub cluster: Option<(Vec<NodeRow>, Vec<PodLoad>)>,
}

/// Whether a snapshot reads every node and pod for the capacity forecast, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cluster {
    /// Only the node, its pods, the PDBs and the DaemonSets its pods claim.
    Skip,
    /// Every node and pod too: one streaming list each where `streams` (the server does
    /// them), else pages of [`CLUSTER_CHUNK`].
    Read { streams: bool },
}

impl Cluster {
    /// A whole-cluster read for a server that does (`server_streams`) or does not do
    /// streaming lists; `KUBEDRAIN_LIST_MODE=pages` (the watchers' switch) keeps pages.
    pub fn read(server_streams: bool) -> Self {
        let pages = ListMode::chosen() == Some(ListMode::Pages);
        Cluster::Read {
            streams: server_streams && !pages,
        }
    }

    /// [`Cluster::read`], asking the server's `/version` (a caller that has probed it
    /// already passes what it learned to `read` instead: one request fewer).
    pub async fn ask(client: &Client) -> Self {
        Self::read(stream_list::server_knows_streaming(client).await)
    }
}

/// Reads the node, its pods, PDBs, the DaemonSets its pods claim, and (with
/// [`Cluster::Read`]) every node and pod for the capacity check. The whole-cluster read is
/// also the node's read (no GET), and runs beside the node's own listings.
pub async fn snapshot(
    client: &Client,
    node: &str,
    cluster: Cluster,
) -> Result<Snapshot, NodeOpError> {
    let Cluster::Read { streams } = cluster else {
        let n = get_node(client, node).await?;
        return Ok(snapshot_of(client, n).await?.0);
    };
    check_name(node)?;
    let node_reads = async {
        let (pods, pdbs, _) = node_listings(client, node).await?;
        let daemonsets = daemonsets(client, &pods).await;
        Ok((pods, pdbs, daemonsets))
    };
    let (whole, (pods, pdbs, daemonsets)) =
        tokio::try_join!(cluster_of(client, node, streams), node_reads)?;
    let (n, nodes, all) = whole;
    Ok(Snapshot {
        node: n,
        pods,
        pdbs,
        daemonsets,
        cluster: Some((nodes, all)),
    })
}

/// Every node and every pod's load, and `node` among the nodes (`NotFound` when it is not
/// there: the pods' read is then given up).
async fn cluster_of(
    client: &Client,
    node: &str,
    streams: bool,
) -> Result<(NodeRow, Vec<NodeRow>, Vec<PodLoad>), NodeOpError> {
    let nodes_api = Api::<NodeRow>::all(client.clone());
    let loads_api = Api::<PodLoad>::all(client.clone());
    // The pods are decoded on a runtime worker, beside the connection task that reads
    // them: decoding them on the caller's thread woke one thread from the other for each
    // chunk received, which on one core cost ~0.3 s of a 1.6 s read at 150,000 pods.
    let mut pods = AbortOnDrop(tokio::spawn(async move {
        list_cluster(&loads_api, streams, PodLoad::from_added_line).await
    }));
    // Both at once: the nodes' short list is read while the pods stream.
    let nodes = async {
        let nodes = list_cluster(&nodes_api, streams, |_| None)
            .await
            .map_err(NodeOpError::Api)?;
        let n = nodes.iter().find(|n| n.name() == node).cloned();
        let n = n.ok_or_else(|| NodeOpError::NotFound(node.to_string()))?;
        Ok::<_, NodeOpError>((n, nodes))
    };
    let loads = async {
        match (&mut pods.0).await {
            Ok(read) => read.map_err(NodeOpError::Api),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    };
    let ((n, nodes), all) = tokio::try_join!(nodes, loads)?;
    Ok((n, nodes, all))
}

/// The node's pods and every PDB, with both listings' resource versions.
async fn node_listings(
    client: &Client,
    node: &str,
) -> Result<(Vec<PodRow>, Vec<PdbRow>, Versions), NodeOpError> {
    let pods_api = Api::<PodRow>::all(client.clone());
    let (pods, pods_rv) = list_all(
        &pods_api,
        ListParams::default().fields(&format!("spec.nodeName={node}")),
    )
    .await
    .map_err(NodeOpError::Api)?;
    let (pdbs, pdbs_rv) = list_all(&Api::<PdbRow>::all(client.clone()), ListParams::default())
        .await
        .map_err(NodeOpError::Api)?;
    let versions = Versions {
        pods: pods_rv,
        pdbs: pdbs_rv,
    };
    Ok((pods, pdbs, versions))
}

/// [`snapshot`] of a node already read (the drain has it from its cordon), without the
/// whole cluster, with the listings' resource versions.
pub async fn snapshot_of(client: &Client, n: NodeRow) -> Result<(Snapshot, Versions), NodeOpError> {
    let (pods, pdbs, versions) = node_listings(client, n.name()).await?;
    let daemonsets = daemonsets(client, &pods).await;
    let snap = Snapshot {
        node: n,
        pods,
        pdbs,
        daemonsets,
        cluster: None,
    };
    Ok((snap, versions))
}

/// kubectl's check that each running DaemonSet pod's DaemonSet exists. kubectl GETs each one;
/// where a namespace has several to check (kube-system usually does), one list of its
/// DaemonSets answers for all of them (falling back to GETs if listing is not allowed).
async fn daemonsets(client: &Client, pods: &[PodRow]) -> HashMap<(String, String), DsLookup> {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in pods
        .iter()
        .filter(|p| p.is_daemonset_pod() && !p.phase.is_finished())
    {
        let name = p.controller().map(|o| o.name.clone()).unwrap_or_default();
        wanted
            .entry(p.namespace().to_string())
            .or_default()
            .insert(name);
    }
    let mut out = HashMap::new();
    for (ns, names) in wanted {
        let api = Api::<DaemonSet>::namespaced(client.clone(), &ns);
        if names.len() > 1
            && let Ok((list, _)) = list_all(&api, ListParams::default()).await
        {
            let found: BTreeSet<String> = list
                .iter()
                .filter_map(|d| d.metadata.name.clone())
                .collect();
            for name in names {
                let res = if found.contains(&name) {
                    DsLookup::Exists
                } else {
                    DsLookup::NotFound
                };
                out.insert((ns.clone(), name), res);
            }
            continue;
        }
        for name in names {
            let res = match api.get(&name).await {
                Ok(_) => DsLookup::Exists,
                Err(kube::Error::Api(s)) if s.code == 404 => DsLookup::NotFound,
                Err(e) => DsLookup::Error(api_message(&e)),
            };
            out.insert((ns.clone(), name), res);
        }
    }
    out
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
        let (nodes, all): (Vec<&NodeRow>, Vec<&dyn ClusterPod>) = match &self.cluster {
            Some((n, p)) => (n.iter().collect(), p.iter().map(|p| p as _).collect()),
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
            hidden: None,
        })
    }
}
