//! From "these nodes, to this version" to a campaign [`Spec`]: read the cluster, resolve the
//! selection, hold what would leave the version skew policy, order the waves and record the
//! baseline. The headless `kubedrain campaign` and the TUI both call [`prepare`], so they plan
//! the same campaign for the same cluster.

use kube::Client;
use kube::api::ListParams;

use super::gate::Baseline;
use super::journal::{Hold, Spec};
use super::plan::{NoSuchNode, Selection, is_control_plane, select, waves};
use super::read;
use crate::cluster::rows::NodeRow;

/// Which nodes: a [`Selection`], or a label selector resolved against the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Nodes(Selection),
    Labels(String),
}

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub pick: Pick,
    /// `vX.Y.Z`, or `None` for an OS-only campaign.
    pub target: Option<String>,
    pub max_unavailable: usize,
    pub soak_secs: u64,
    pub allow_outage: bool,
    /// Taint queued nodes `PreferNoSchedule` until their turn.
    pub taint_queued: bool,
    /// Pause before each node or wave.
    pub hold: Option<Hold>,
}

/// A campaign ready to start, or held before it changed anything.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub spec: Spec,
    /// Why it must not start (the version skew policy), if so.
    pub held: Option<String>,
    /// The cluster as it was read (for the waves' pre-checks).
    pub cluster: read::Cluster,
}

/// Why a campaign could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// `max_unavailable` 0: no wave could hold a node.
    #[error("max-unavailable must be at least 1")]
    MaxUnavailable,
    /// Reading the cluster failed.
    #[error(transparent)]
    Read(#[from] read::ApiError),
    /// A named node does not exist.
    #[error(transparent)]
    Select(#[from] NoSuchNode),
    /// The selection is empty.
    #[error("no nodes selected")]
    NoNodes,
    /// The versions the skew policy needs could not be read.
    #[error("cannot read the cluster's versions: {0}")]
    Versions(#[source] kube::Error),
    /// The target could not be checked against the skew policy.
    #[error(transparent)]
    Skew(#[from] super::skew_gate::SkewGateError),
}

/// Reads the cluster and plans the campaign `req` asks for.
pub async fn prepare(client: &Client, req: &Request) -> Result<Prepared, PrepareError> {
    if req.max_unavailable == 0 {
        return Err(PrepareError::MaxUnavailable);
    }
    let cluster = read::cluster(client).await?;
    let names: Vec<String> = match &req.pick {
        Pick::Nodes(s) => select(&cluster.nodes, s)?
            .into_iter()
            .map(|n| n.name().to_string())
            .collect(),
        Pick::Labels(sel) => {
            let nodes = read::list::<NodeRow>(client, &ListParams::default().labels(sel)).await?;
            nodes.iter().map(|n| n.name().to_string()).collect()
        }
    };
    if names.is_empty() {
        return Err(PrepareError::NoNodes);
    }
    let chosen: Vec<&NodeRow> = cluster
        .nodes
        .iter()
        .filter(|n| names.iter().any(|x| x == n.name()))
        .collect();
    // Within the version skew policy, or not at all (the same way `versions` plans).
    let held = match &req.target {
        Some(t) => {
            let inv = super::command::inventory(client)
                .await
                .map_err(PrepareError::Versions)?;
            let selected: Vec<(String, bool)> = chosen
                .iter()
                .map(|n| (n.name().to_string(), is_control_plane(n)))
                .collect();
            super::skew_gate::hold(&inv, t, &selected)?
        }
        None => None,
    };
    let spec = Spec {
        waves: waves(&chosen, req.max_unavailable),
        target: req.target.clone(),
        max_unavailable: req.max_unavailable,
        soak_secs: req.soak_secs,
        allow_outage: req.allow_outage,
        baseline: Baseline::of(&cluster.pods, &cluster.pdbs),
        taint_queued: req.taint_queued,
        hold: req.hold,
    };
    Ok(Prepared {
        spec,
        held,
        cluster,
    })
}
