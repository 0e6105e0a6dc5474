//! The return-to-service gate (may the node be uncordoned?) and the soak check (may the
//! next wave start?). Pure: each answers `Ok` or the one line the campaign is waiting for.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::cluster::rows::Phase;
use crate::cluster::rows::{NodeReady, NodeRow, PdbRow, PodRow};

/// What the node must show after its upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The kubelet reports this version (`v1.26.0`).
    Kubelet(String),
    /// An OS-only campaign: the node rebooted (a boot ID other than this one).
    NewBoot(String),
}

/// Whether `reported` is `want` (leading `v` optional; a build suffix like `+k3s1` allowed).
pub fn version_matches(reported: &str, want: &str) -> bool {
    let r = reported.trim_start_matches('v');
    let w = want.trim_start_matches('v');
    r == w
        || r.strip_prefix(w)
            .is_some_and(|rest| rest.starts_with(['+', '-']))
}

/// What the gate still waits for on a node after its upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotBack {
    /// Not Ready (`state` says how).
    #[error("node/{node} is {state}: it stays cordoned until it is Ready again")]
    NotReady { node: String, state: &'static str },
    /// Another kubelet version than the target.
    #[error("node/{node} reports kubelet {reports}, expecting {expecting}")]
    Kubelet {
        node: String,
        reports: String,
        expecting: String,
    },
    /// No boot ID to compare: whether it rebooted cannot be told.
    #[error(
        "node/{node} reports no boot ID: kubedrain cannot tell whether it rebooted \
         (it stays cordoned; use --target, or uncordon it yourself)"
    )]
    NoBootId { node: String },
    /// The boot ID is the one before the upgrade.
    #[error("node/{node} has not rebooted yet (boot ID {boot_id} unchanged)")]
    NotRebooted { node: String, boot_id: String },
    /// A pressure or other problem condition.
    #[error("node/{node} reports {problem}")]
    Problem { node: String, problem: String },
    /// A DaemonSet pod on it is not Ready (`more` says how many others).
    #[error("DaemonSet pod {pod} on node/{node} is not Ready yet{}", and_more(*more))]
    DaemonSetPod {
        pod: String,
        node: String,
        more: usize,
    },
}

/// What the soak still waits for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsettled {
    /// A pod is Pending (`more` says how many others).
    #[error("pod {pod} is Pending{}", and_more(*more))]
    Pending { pod: String, more: usize },
    /// A PDB below its desired health.
    #[error("PDB {pdb} {current}/{desired} healthy")]
    Pdb {
        pdb: String,
        current: i32,
        desired: i32,
    },
}

/// ` (and N more)`, or nothing for none.
fn and_more(more: usize) -> String {
    match more {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    }
}

/// The gate: Ready, the expected kubelet version (or a new boot ID), its DaemonSet pods
/// Ready, no pressure condition. `pods` are the node's pods. `Err` is what is missing.
pub fn check(node: &NodeRow, pods: &[PodRow], expect: &Expect) -> Result<(), NotBack> {
    let name = node.name().to_string();
    if node.ready != NodeReady::True {
        let state = match node.ready {
            NodeReady::False => "NotReady",
            _ => "not reporting (Ready Unknown)",
        };
        return Err(NotBack::NotReady { node: name, state });
    }
    match expect {
        Expect::Kubelet(v) if !version_matches(&node.kubelet_version, v) => {
            return Err(NotBack::Kubelet {
                node: name,
                reports: node.kubelet_version.clone(),
                expecting: v.clone(),
            });
        }
        // Without a boot ID there is no telling whether it rebooted: say so, and wait.
        Expect::NewBoot(before) if before.is_empty() || node.boot_id.is_empty() => {
            return Err(NotBack::NoBootId { node: name });
        }
        Expect::NewBoot(before) if node.boot_id == *before => {
            return Err(NotBack::NotRebooted {
                node: name,
                boot_id: short(before).to_string(),
            });
        }
        _ => {}
    }
    if let Some(p) = node.problems.first() {
        return Err(NotBack::Problem {
            node: name,
            problem: p.to_string(),
        });
    }
    let not_ready: Vec<String> = pods
        .iter()
        .filter(|p| p.is_daemonset_pod() && !p.is_terminating() && !p.phase.is_finished())
        .filter(|p| !(p.phase == Phase::Running && p.ready))
        .map(|p| p.key())
        .collect();
    if let Some(first) = not_ready.first() {
        return Err(NotBack::DaemonSetPod {
            pod: first.clone(),
            node: name,
            more: not_ready.len() - 1,
        });
    }
    Ok(())
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// What was already unsettled when the campaign started (the soak does not wait for it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Pending pods (`namespace/name`).
    pub pending: BTreeSet<String>,
    /// PDBs (`namespace/name`) below their desired health.
    pub unhealthy_pdbs: BTreeSet<String>,
}

/// Pods that are Pending (not terminating).
pub fn pending_pods(pods: &[PodRow]) -> impl Iterator<Item = &PodRow> {
    pods.iter()
        .filter(|p| p.phase == Phase::Pending && !p.is_terminating())
}

impl Baseline {
    /// The cluster's unsettled pods and budgets now.
    pub fn of(pods: &[PodRow], pdbs: &[PdbRow]) -> Baseline {
        Baseline {
            pending: pending_pods(pods).map(PodRow::key).collect(),
            unhealthy_pdbs: pdbs
                .iter()
                .filter(|b| b.current_healthy < b.desired_healthy)
                .map(PdbRow::key)
                .collect(),
        }
    }
}

/// The soak's condition: no pod Pending and every PDB at its desired health (except what
/// was already so at the start). `Err` names the first thing still waited for.
pub fn settled(pods: &[PodRow], pdbs: &[PdbRow], baseline: &Baseline) -> Result<(), Unsettled> {
    let pending: Vec<&PodRow> = pending_pods(pods)
        .filter(|p| !baseline.pending.contains(&p.key()))
        .collect();
    if let Some(p) = pending.first() {
        return Err(Unsettled::Pending {
            pod: p.key(),
            more: pending.len() - 1,
        });
    }
    for b in pdbs {
        if b.current_healthy < b.desired_healthy && !baseline.unhealthy_pdbs.contains(&b.key()) {
            return Err(Unsettled::Pdb {
                pdb: b.key(),
                current: b.current_healthy,
                desired: b.desired_healthy,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ready: &str, kubelet: &str, extra: serde_json::Value) -> NodeRow {
        let mut conds = vec![json!({"type": "Ready", "status": ready})];
        if let Some(c) = extra.as_object() {
            conds.push(json!(c));
        }
        serde_json::from_value(json!({
            "metadata": {"name": "n0"},
            "spec": {},
            "status": {"conditions": conds,
                "nodeInfo": {"kubeletVersion": kubelet, "bootID": "aaaaaaaa-1"}}
        }))
        .unwrap()
    }

    fn ds_pod(ready: bool) -> PodRow {
        serde_json::from_value(json!({
            "metadata": {"name": "proxy-x", "namespace": "kube-system", "uid": "u",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                    "name": "proxy", "uid": "ds", "controller": true}]},
            "spec": {"nodeName": "n0", "containers": [{"name": "c"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .unwrap()
    }

    #[test]
    fn the_gate_waits_for_ready_version_pressure_and_daemonsets_in_that_order() {
        let want = Expect::Kubelet("v1.26.0".into());
        let e = check(&node("Unknown", "v1.25.4", json!(null)), &[], &want)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stays cordoned until it is Ready"), "{e}");
        let e = check(&node("True", "v1.25.4", json!(null)), &[], &want)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "node/n0 reports kubelet v1.25.4, expecting v1.26.0");
        let pressure = json!({"type": "DiskPressure", "status": "True"});
        let e = check(&node("True", "v1.26.0", pressure), &[], &want)
            .unwrap_err()
            .to_string();
        assert!(e.contains("DiskPressure"), "{e}");
        let n = node("True", "v1.26.0", json!(null));
        let e = check(&n, &[ds_pod(false)], &want).unwrap_err().to_string();
        assert!(e.contains("kube-system/proxy-x"), "{e}");
        assert_eq!(check(&n, &[ds_pod(true)], &want), Ok(()));
        let e = check(&n, &[], &Expect::NewBoot("aaaaaaaa-1".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has not rebooted"), "{e}");
        assert_eq!(check(&n, &[], &Expect::NewBoot("bbbb".into())), Ok(()));
        let e = check(&n, &[], &Expect::NewBoot(String::new()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot tell whether it rebooted"), "{e}");
    }

    #[test]
    fn versions_match_with_or_without_v_and_with_a_build_suffix() {
        assert!(version_matches("v1.26.0", "1.26.0"));
        assert!(version_matches("v1.26.0+k3s1", "v1.26.0"));
        assert!(!version_matches("v1.26.01", "v1.26.0"));
        assert!(!version_matches("v1.25.4", "v1.26.0"));
    }
}
