//! kubectl's pod filters (drain-semantics §2.5), in kubectl's order, with its exact messages.

use jiff::Timestamp;

use super::options::DrainOptions;
use super::plan::{BlockKind, PodAction, SkipReason};
use crate::cluster::rows::PodRow;

/// kubectl's error for a DaemonSet pod without `--ignore-daemonsets`.
pub const DAEMONSET_FATAL: &str = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
/// kubectl's warning for an ignored DaemonSet pod.
pub const DAEMONSET_WARNING: &str = "ignoring DaemonSet-managed Pods";
/// kubectl's error for a pod with emptyDir volumes without `--delete-emptydir-data`.
pub const LOCAL_STORAGE_FATAL: &str =
    "Pods with local storage (use --delete-emptydir-data to override)";
/// kubectl's (always overwritten, never printed) local-storage warning.
pub const LOCAL_STORAGE_WARNING: &str = "deleting Pods with local storage";
/// kubectl's error for a pod without a controller and without `--force`.
pub const UNMANAGED_FATAL: &str = "Pods that declare no controller (use --force to override)";
/// kubectl's warning for a forced bare pod.
pub const UNMANAGED_WARNING: &str = "deleting Pods that declare no controller";

/// Result of the DaemonSet-exists lookup kubectl does with a GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsLookup {
    /// The DaemonSet exists.
    Exists,
    /// GET returned 404.
    NotFound,
    /// GET failed otherwise; the text is the API error (kubectl shows it verbatim).
    Error(String),
}

/// kubectl's 404 text for a DaemonSet GET.
pub fn daemonset_not_found(name: &str) -> String {
    format!("daemonsets.apps \"{name}\" not found")
}

/// One filter's verdict, as kubectl's `PodDeleteStatus`.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Ok,
    Skip(SkipReason),
    Warn { delete: bool, msg: String },
    Error(String),
}

impl Status {
    fn delete(&self) -> bool {
        matches!(self, Status::Ok | Status::Warn { delete: true, .. })
    }
}

fn skip_deleted(pod: &PodRow, opts: &DrainOptions, now: Timestamp) -> Status {
    let Some(limit) = opts.skip_wait_for_delete_timeout else {
        return Status::Ok;
    };
    match pod.deletion_timestamp() {
        // kubectl: whole seconds since deletion, strictly greater than the limit.
        Some(t) if now.duration_since(t).as_secs() > limit as i64 => {
            Status::Skip(SkipReason::DeletedTooLong)
        }
        _ => Status::Ok,
    }
}

fn daemonset(pod: &PodRow, opts: &DrainOptions, lookup: &dyn Fn(&str, &str) -> DsLookup) -> Status {
    if !pod.is_daemonset_pod() || pod.phase.is_finished() {
        return Status::Ok;
    }
    let name = pod.controller().map(|o| o.name.as_str()).unwrap_or("");
    match lookup(pod.namespace(), name) {
        DsLookup::Exists if opts.ignore_daemonsets => Status::Warn {
            delete: false,
            msg: DAEMONSET_WARNING.into(),
        },
        DsLookup::Exists => Status::Error(DAEMONSET_FATAL.into()),
        DsLookup::NotFound if opts.force => Status::Warn {
            delete: true,
            msg: daemonset_not_found(name),
        },
        DsLookup::NotFound => Status::Error(daemonset_not_found(name)),
        DsLookup::Error(e) => Status::Error(e),
    }
}

fn mirror(pod: &PodRow) -> Status {
    if pod.is_mirror() {
        Status::Skip(SkipReason::Mirror)
    } else {
        Status::Ok
    }
}

fn local_storage(pod: &PodRow, opts: &DrainOptions) -> Status {
    if pod.empty_dirs.is_empty() || pod.phase.is_finished() {
        Status::Ok
    } else if !opts.delete_emptydir_data {
        Status::Error(LOCAL_STORAGE_FATAL.into())
    } else {
        Status::Warn {
            delete: true,
            msg: LOCAL_STORAGE_WARNING.into(),
        }
    }
}

fn unreplicated(pod: &PodRow, opts: &DrainOptions) -> Status {
    if pod.phase.is_finished() || pod.controller().is_some() {
        Status::Ok
    } else if opts.force {
        Status::Warn {
            delete: true,
            msg: UNMANAGED_WARNING.into(),
        }
    } else {
        Status::Error(UNMANAGED_FATAL.into())
    }
}

/// Runs kubectl's filters on one pod: the first "don't delete" stops evaluation and only the
/// last filter's status survives (so the local-storage warning is lost, as in kubectl).
/// Returns the action and kubectl's warning for the pod, if any.
pub fn classify(
    pod: &PodRow,
    opts: &DrainOptions,
    lookup: &dyn Fn(&str, &str) -> DsLookup,
    now: Timestamp,
) -> (PodAction, Option<String>) {
    if let Some(sel) = &opts.pod_selector
        && !sel.matches(pod.labels())
    {
        // kubectl lists with labelSelector, so such pods are invisible to it.
        return (
            PodAction::Skip {
                reason: SkipReason::NotSelected,
            },
            None,
        );
    }
    let filters: [&dyn Fn() -> Status; 5] = [
        &|| skip_deleted(pod, opts, now),
        &|| daemonset(pod, opts, lookup),
        &|| mirror(pod),
        &|| local_storage(pod, opts),
        &|| unreplicated(pod, opts),
    ];
    let mut status = Status::Ok;
    for f in filters {
        status = f();
        if !status.delete() {
            break;
        }
    }
    let evict_or_delete = if opts.disable_eviction {
        PodAction::Delete
    } else {
        PodAction::Evict
    };
    match status {
        Status::Ok => (evict_or_delete, None),
        Status::Warn { delete: true, msg } => (evict_or_delete, Some(msg)),
        Status::Warn { delete: false, msg } => (
            PodAction::Skip {
                reason: SkipReason::DaemonSetIgnored,
            },
            Some(msg),
        ),
        Status::Skip(reason) => (PodAction::Skip { reason }, None),
        Status::Error(msg) => {
            let block = match msg.as_str() {
                DAEMONSET_FATAL => BlockKind::DaemonSet,
                LOCAL_STORAGE_FATAL => BlockKind::LocalStorage,
                UNMANAGED_FATAL => BlockKind::Unmanaged,
                _ => BlockKind::Lookup,
            };
            let reason = if msg.is_empty() {
                "unexpected error".into()
            } else {
                msg
            };
            (PodAction::Blocked { reason, block }, None)
        }
    }
}
