//! The way to a target version: the chain of control-plane minors (never skipping one), the
//! nodes that block a control-plane step (a kubelet the next minor would leave behind its
//! skew), and the ordered node steps — each control-plane node one after another, then the
//! workers.

use serde::Serialize;

use super::skew::{agent_allowed, agent_ok};
use super::version::{Minor, Version};
use super::versions::Inventory;

/// A node's role in the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
}

impl Role {
    /// `control-plane` or `worker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Worker => "worker",
        }
    }
}

/// One node taken out, upgraded and put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub node: String,
    pub role: Role,
    pub from: String,
    pub to: String,
    /// Drained first (a minor kubelet upgrade in place is not supported; every step drains).
    pub drain: bool,
    pub why: String,
}

/// A node whose kubelet the next control-plane minor would leave outside the skew policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub node: String,
    pub kubelet: String,
    /// The control-plane minor it blocks.
    pub blocks: Minor,
    /// The oldest kubelet minor that control plane accepts.
    pub needs: Minor,
}

/// The ordered way from the cluster's versions to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradePlan {
    pub target: Version,
    /// The oldest apiserver now.
    pub from: Version,
    /// The control plane's stops, one minor at a time; the last is the target
    /// (`v1.26.x` = the latest patch of an intermediate minor).
    pub chain: Vec<String>,
    pub blockers: Vec<Blocker>,
    pub steps: Vec<Step>,
    /// What the plan could not judge, in words.
    pub notes: Vec<String>,
}

/// Where a node stands while the plan advances.
#[derive(Debug, Clone)]
struct At {
    minor: Option<Minor>,
    /// The exact version, when known (an intermediate stop is `v1.27.x`).
    exact: Option<Version>,
    label: String,
}

impl At {
    fn of(raw: &str) -> At {
        let exact = Version::parse(raw).ok();
        At {
            minor: exact.as_ref().map(Version::minor_release),
            exact,
            label: raw.to_string(),
        }
    }

    fn stop(minor: Minor, label: &str, target: &Version) -> At {
        At {
            minor: Some(minor),
            exact: (minor == target.minor_release()).then(|| target.clone()),
            label: label.to_string(),
        }
    }

    fn below(&self, target: &Version) -> bool {
        self.exact
            .as_ref()
            .is_none_or(|v| v.triple() < target.triple())
    }
}

/// Why there is no way to a target version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No kube-apiserver reported a version.
    #[error("cannot plan: the kube-apiserver version is unknown")]
    UnknownApiserver,
    /// The target is in another major version than the control plane.
    #[error("cannot plan {target}: the control plane is at {at}, another major version")]
    OtherMajor { target: Version, at: Version },
    /// The target is older than the newest apiserver.
    #[error("target {target} is older than kube-apiserver {newest}: downgrades are not supported")]
    Downgrade { target: Version, newest: Version },
}

/// Plans the upgrade of every node in `inv` to `target`.
pub fn plan(inv: &Inventory, target: &Version) -> Result<UpgradePlan, PlanError> {
    let apis = inv.apiservers();
    let (Some(oldest), Some(newest)) = (
        apis.iter().min_by_key(|v| v.triple()),
        apis.iter().max_by_key(|v| v.triple()),
    ) else {
        return Err(PlanError::UnknownApiserver);
    };
    if target.major != oldest.major {
        return Err(PlanError::OtherMajor {
            target: target.clone(),
            at: oldest.clone(),
        });
    }
    if target.triple() < newest.triple() {
        return Err(PlanError::Downgrade {
            target: target.clone(),
            newest: newest.clone(),
        });
    }
    let stops = stops(oldest.minor_release(), target);
    let mut p = Planner::new(inv, target);
    let mut current = oldest.to_string();
    for (k, (minor, label)) in stops.iter().enumerate() {
        p.unblock(*minor, &current);
        p.control_plane(*minor, label, k + 1 == stops.len());
        current = label.clone();
    }
    p.workers();
    if !inv.nodes.iter().any(|n| n.control_plane) {
        p.notes.push(format!(
            "no control-plane node is visible (a managed control plane?): upgrade it to {} through its provider before the workers",
            stops.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join(", then ")
        ));
    }
    Ok(UpgradePlan {
        target: target.clone(),
        from: oldest.clone(),
        chain: stops.into_iter().map(|(_, l)| l).collect(),
        blockers: p.blockers,
        steps: p.steps,
        notes: p.notes,
    })
}

/// The control plane's stops from `from` to `target`: one per minor (`v1.26.x`, ...), the
/// last the target; a patch-only upgrade is one stop at the same minor.
fn stops(from: Minor, target: &Version) -> Vec<(Minor, String)> {
    let to = target.minor_release();
    (from.minor.max(to.minor.min(from.minor + 1))..=to.minor)
        .map(|m| Minor::new(from.major, m))
        .map(|m| {
            let label = if m == to {
                target.to_string()
            } else {
                format!("{m}.x")
            };
            (m, label)
        })
        .collect()
}

/// Walks the nodes through the stops, collecting steps.
struct Planner<'a> {
    inv: &'a Inventory,
    target: &'a Version,
    /// Where each node of `inv.nodes` stands, by index.
    at: Vec<At>,
    steps: Vec<Step>,
    blockers: Vec<Blocker>,
    notes: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(inv: &'a Inventory, target: &'a Version) -> Planner<'a> {
        let at: Vec<At> = inv
            .nodes
            .iter()
            .map(|n| {
                At::of(&control_plane_version(
                    inv,
                    &n.name,
                    n.control_plane,
                    &n.kubelet,
                ))
            })
            .collect();
        let mut notes = Vec::new();
        for (n, a) in inv.nodes.iter().zip(&at) {
            if a.minor.is_none() {
                notes.push(format!(
                    "cannot tell node {}'s version `{}`: not checked against the skew policy",
                    n.name, a.label
                ));
            } else if a
                .exact
                .as_ref()
                .is_some_and(|v| v.triple() > target.triple())
            {
                notes.push(format!(
                    "node {} is at {}, newer than the target",
                    n.name, a.label
                ));
            }
        }
        Planner {
            inv,
            target,
            at,
            steps: Vec::new(),
            blockers: Vec::new(),
            notes,
        }
    }

    /// Workers the control plane at `minor` would leave behind go first, to the control
    /// plane's `current` version (a kubelet is never newer than the apiserver).
    fn unblock(&mut self, minor: Minor, current: &str) {
        for (n, a) in self.inv.nodes.iter().zip(self.at.iter_mut()) {
            let Some(m) = a.minor.filter(|_| !n.control_plane) else {
                continue;
            };
            if m > minor || agent_ok(m, minor) {
                continue;
            }
            let needs = agent_allowed(minor).oldest;
            self.blockers.push(Blocker {
                node: n.name.clone(),
                kubelet: a.label.clone(),
                blocks: minor,
                needs,
            });
            self.steps.push(Step {
                node: n.name.clone(),
                role: Role::Worker,
                from: a.label.clone(),
                to: current.to_string(),
                drain: true,
                why: format!(
                    "kubelet first: blocks the control-plane step to {minor} (needs ≥ {needs})"
                ),
            });
            *a = At::of(current);
        }
    }

    /// Each control-plane node behind the stop, one after another.
    fn control_plane(&mut self, minor: Minor, label: &str, last: bool) {
        let mut first = true;
        for (n, a) in self.inv.nodes.iter().zip(self.at.iter_mut()) {
            let behind = a.minor.is_none_or(|m| m < minor) || (last && a.below(self.target));
            if !n.control_plane || !behind {
                continue;
            }
            self.steps.push(Step {
                node: n.name.clone(),
                role: Role::ControlPlane,
                from: a.label.clone(),
                to: label.to_string(),
                drain: true,
                why: if first {
                    "control plane, first"
                } else {
                    "control plane"
                }
                .into(),
            });
            first = false;
            *a = At::stop(minor, label, self.target);
        }
    }

    /// Every worker below the target, once the control plane is there.
    fn workers(&mut self) {
        for (n, a) in self.inv.nodes.iter().zip(&self.at) {
            if n.control_plane || !a.below(self.target) {
                continue;
            }
            self.steps.push(Step {
                node: n.name.clone(),
                role: Role::Worker,
                from: a.label.clone(),
                to: self.target.to_string(),
                drain: true,
                why: "kubelet".into(),
            });
        }
    }
}

/// A control-plane node is as old as the older of its apiserver and its kubelet.
fn control_plane_version(inv: &Inventory, node: &str, cp: bool, kubelet: &str) -> String {
    if !cp {
        return kubelet.to_string();
    }
    let api = inv
        .pods
        .iter()
        .filter(|p| p.component == super::versions::Component::KubeApiserver)
        .filter(|p| p.node.as_deref() == Some(node))
        .filter_map(|p| Version::from_image(&p.image))
        .min_by_key(|v| v.triple());
    match (api, Version::parse(kubelet)) {
        (Some(a), Ok(k)) if a.triple() < k.triple() => a.to_string(),
        (Some(a), Err(_)) => a.to_string(),
        _ => kubelet.to_string(),
    }
}
