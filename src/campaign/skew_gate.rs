//! A campaign to a target version stays within the version skew policy: it reads the way
//! there from [`super::steps::plan`] (the same as `kubedrain versions --target`) and holds a
//! campaign that would leave it. The campaign upgrades every selected node straight to one
//! target, so it runs only what that plan allows in one pass: one control-plane minor, no
//! kubelet that the control-plane step would leave behind, and no kubelet newer than the
//! apiservers it would keep.

use super::steps::UpgradePlan;
use super::version::Version;
use super::versions::Inventory;

/// Why a campaign to a target could not be checked against the skew policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkewGateError {
    /// The target is not a version.
    #[error(transparent)]
    Version(#[from] super::version::VersionError),
    /// There is no way to the target.
    #[error(transparent)]
    Plan(#[from] super::steps::PlanError),
}

/// Why a campaign to `target` over `selected` (with whether each is a control-plane node)
/// must not start, if so.
pub fn hold(
    inv: &Inventory,
    target: &str,
    selected: &[(String, bool)],
) -> Result<Option<String>, SkewGateError> {
    let version = Version::parse(target)?;
    let plan: UpgradePlan = super::steps::plan(inv, &version)?;
    if plan.chain.len() > 1 {
        return Ok(Some(format!(
            "the control plane is at {}: {target} is more than one minor away and the skew policy never skips a minor (the way: {}); campaign to {} first",
            plan.from,
            the_way(&plan.chain),
            plan.chain[0]
        )));
    }
    let minor_up = version.minor > plan.from.minor;
    let all_cp = inv
        .nodes
        .iter()
        .filter(|n| n.control_plane)
        .all(|cp| selected.iter().any(|(n, _)| *n == cp.name));
    let has_cp = selected.iter().any(|(_, cp)| *cp);
    if minor_up && has_cp && !plan.blockers.is_empty() {
        let names: Vec<&str> = plan.blockers.iter().map(|b| b.node.as_str()).collect();
        return Ok(Some(format!(
            "{} would fall outside the skew policy once the control plane is at {target}: campaign {} to {} first",
            plan.blockers
                .iter()
                .map(|b| format!("{} (kubelet {})", b.node, b.kubelet))
                .collect::<Vec<_>>()
                .join(", "),
            names.join(" "),
            plan.from
        )));
    }
    if minor_up && !all_cp && selected.iter().any(|(_, cp)| !cp) {
        return Ok(Some(format!(
            "a kubelet at {target} would be newer than kube-apiserver {}: every control-plane node must be in the campaign (they go first)",
            plan.from
        )));
    }
    Ok(None)
}

/// The minors on the way, shortened past a handful (a typo like v1.99 is 70 of them).
fn the_way(chain: &[String]) -> String {
    match chain {
        [first, second, .., before_last, last] if chain.len() > 6 => format!(
            "{first} → {second} → … → {before_last} → {last}, {} steps",
            chain.len()
        ),
        _ => chain.join(" → "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_way_is_shortened_and_counted() {
        let chain: Vec<String> = (26..=99).map(|m| format!("v1.{m}.x")).collect();
        assert_eq!(
            the_way(&chain),
            "v1.26.x → v1.27.x → … → v1.98.x → v1.99.x, 74 steps"
        );
        assert_eq!(the_way(&chain[..3]), "v1.26.x → v1.27.x → v1.28.x");
    }
    use crate::campaign::versions::{ComponentPod, NodeFacts};

    fn inv(nodes: &[(&str, bool, &str)]) -> Inventory {
        Inventory {
            server: Some("v1.28.6".into()),
            nodes: nodes
                .iter()
                .map(|(n, cp, kubelet)| NodeFacts {
                    name: n.to_string(),
                    control_plane: *cp,
                    kubelet: kubelet.to_string(),
                    ..Default::default()
                })
                .collect(),
            pods: Vec::<ComponentPod>::new(),
        }
    }

    fn all(i: &Inventory) -> Vec<(String, bool)> {
        i.nodes
            .iter()
            .map(|n| (n.name.clone(), n.control_plane))
            .collect()
    }

    #[test]
    fn one_minor_with_every_node_is_allowed() {
        let i = inv(&[("cp0", true, "v1.28.6"), ("w0", false, "v1.27.3")]);
        assert_eq!(hold(&i, "v1.29.0", &all(&i)).unwrap(), None);
        // A patch upgrade of the workers alone keeps them at the apiserver's minor.
        let workers = vec![("w0".to_string(), false)];
        assert_eq!(hold(&i, "v1.28.9", &workers).unwrap(), None);
    }

    #[test]
    fn skipping_a_minor_a_blocker_or_workers_ahead_of_the_control_plane_hold() {
        let i = inv(&[("cp0", true, "v1.28.6"), ("w0", false, "v1.25.16")]);
        let why = hold(&i, "v1.29.0", &all(&i)).unwrap().unwrap();
        assert!(
            why.contains("w0 (kubelet v1.25.16)") && why.contains("campaign w0 to v1.28.6 first"),
            "{why}"
        );
        let why = hold(&i, "v1.30.0", &all(&i)).unwrap().unwrap();
        assert!(why.contains("never skips a minor"), "{why}");
        let i = inv(&[("cp0", true, "v1.28.6"), ("w0", false, "v1.28.6")]);
        let why = hold(&i, "v1.29.0", &[("w0".to_string(), false)])
            .unwrap()
            .unwrap();
        assert!(why.contains("newer than kube-apiserver v1.28.6"), "{why}");
    }
}
