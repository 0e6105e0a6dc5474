//! The node annotations kubedrain writes, and whose cordon a node has.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::cluster::rows::NodeRow;

/// Node annotation keys kubedrain writes.
pub mod ann {
    /// `kubedrain`: the cordon was done through kubedrain.
    pub const CORDONED_BY: &str = "kubedrain.io/cordoned-by";
    /// RFC 3339 time of that cordon.
    pub const CORDONED_AT: &str = "kubedrain.io/cordoned-at";
    /// `"true"` when the node was already cordoned before kubedrain touched it.
    pub const WAS_UNSCHEDULABLE: &str = "kubedrain.io/was-unschedulable";
    /// `draining`, `drained`, `failed`, `timed-out`, `cancelled`.
    pub const DRAIN_STATE: &str = "kubedrain.io/drain-state";
    /// Kernel version before the maintenance.
    pub const PRE_KERNEL: &str = "kubedrain.io/pre-kernel";
    /// OS image before the maintenance.
    pub const PRE_OS_IMAGE: &str = "kubedrain.io/pre-os-image";
    /// Kubelet version before the maintenance.
    pub const PRE_KUBELET: &str = "kubedrain.io/pre-kubelet";
    /// Every key, for removal on uncordon.
    pub const ALL: [&str; 7] = [
        CORDONED_BY,
        CORDONED_AT,
        WAS_UNSCHEDULABLE,
        DRAIN_STATE,
        PRE_KERNEL,
        PRE_OS_IMAGE,
        PRE_KUBELET,
    ];
}

/// Annotations a kubedrain cordon writes (`was_unschedulable`: cordoned before we came).
pub fn cordon_annotations(node: &NodeRow, now: Timestamp) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(ann::CORDONED_BY.into(), "kubedrain".into());
    a.insert(ann::CORDONED_AT.into(), now.to_string());
    a.insert(
        ann::WAS_UNSCHEDULABLE.into(),
        node.unschedulable.to_string(),
    );
    a.insert(ann::PRE_KERNEL.into(), node.kernel_version.clone());
    a.insert(ann::PRE_OS_IMAGE.into(), node.os_image.clone());
    a.insert(ann::PRE_KUBELET.into(), node.kubelet_version.clone());
    a
}

/// The field manager kubedrain's node writes are made as: the server's managedFields then
/// say whose cordon a node has.
pub const FIELD_MANAGER: &str = "kubedrain";

/// Whether the node's cordon is the one kubedrain's annotations describe: they say kubedrain
/// cordoned it and, where the server tracks field managers, kubedrain is still the one that
/// last set `spec.unschedulable` (an uncordon and a cordon by someone else since would have
/// taken that field over, leaving kubedrain's annotations behind).
pub fn cordon_is_ours(node: &NodeRow) -> bool {
    node.annotation(ann::CORDONED_BY) == Some("kubedrain")
        && node
            .cordon_owner
            .as_ref()
            .is_none_or(|o| o.manager == FIELD_MANAGER)
}

/// Why kubedrain will not lift a node's cordon without `--force`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOurCordon {
    /// kubedrain's cordon was lifted and someone cordoned again (`when`: ` at TIME` or empty).
    #[error(
        "node/{node} was cordoned again by {by}{when}, after kubedrain's cordon was \
         lifted; kubedrain's annotations describe the earlier cordon; use --force to \
         uncordon it anyway"
    )]
    CordonedAgain {
        node: String,
        by: String,
        when: String,
    },
    /// The node was cordoned before kubedrain cordoned it.
    #[error(
        "node/{node} was already cordoned before kubedrain cordoned it ({}=true); use --force to uncordon it anyway",
        ann::WAS_UNSCHEDULABLE
    )]
    Predates { node: String },
    /// Someone else's cordon.
    #[error("node/{node} was not cordoned by kubedrain; use --force to uncordon it anyway")]
    Foreign { node: String },
}

/// Whether kubedrain may lift this node's cordon without `--force`: only a cordon kubedrain
/// itself put on a node that was schedulable before, and not re-made by someone else since.
/// `Err` says why not.
pub fn may_uncordon(node: &NodeRow) -> Result<(), NotOurCordon> {
    let name = node.name().to_string();
    match (
        node.annotation(ann::CORDONED_BY),
        node.annotation(ann::WAS_UNSCHEDULABLE),
    ) {
        (Some("kubedrain"), Some("false")) => match node
            .cordon_owner
            .as_ref()
            .filter(|o| o.manager != FIELD_MANAGER)
        {
            // The annotations outlived kubedrain's cordon: someone uncordoned and cordoned.
            Some(o) => {
                let when = o
                    .time
                    .as_deref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default();
                Err(NotOurCordon::CordonedAgain {
                    node: name,
                    by: o.manager.clone(),
                    when,
                })
            }
            None => Ok(()),
        },
        (Some("kubedrain"), _) => Err(NotOurCordon::Predates { node: name }),
        _ => Err(NotOurCordon::Foreign { node: name }),
    }
}
