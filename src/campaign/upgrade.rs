//! What the operator runs on a node's host for the campaign's upgrade step (kubeadm
//! clusters, Debian/Ubuntu packages from pkgs.k8s.io), and the hook through which a caller
//! (the demo, tests) runs the upgrade in-process instead.

use std::sync::Arc;

/// Runs a node's upgrade in-process: `(node, target kubelet version or None for OS-only)`.
/// The demo's `U` key uses the same hook; the simulator's `start_upgrade` fits behind it.
/// `Err` is the implementer's own sentence, which the campaign reports as the step's failure.
pub type UpgradeHook = Arc<dyn Fn(&str, Option<&str>) -> Result<(), String> + Send + Sync>;

/// `v1.26.0` → `1.26.0`; `1.26` → `1.26`.
fn bare(v: &str) -> &str {
    v.trim_start_matches('v')
}

/// `v1.26.0` → `v1.26` (pkgs.k8s.io has one repository per minor).
fn minor(v: &str) -> String {
    let parts: Vec<&str> = bare(v).split('.').take(2).collect();
    format!("v{}", parts.join("."))
}

/// The commands for `node` (a kubeadm cluster): `kubeadm upgrade apply` on the first
/// control-plane node, `kubeadm upgrade node` elsewhere, then the kubelet package and a
/// kubelet restart. Without a target: an OS update and a reboot.
pub fn instructions(node: &str, target: Option<&str>, first_control_plane: bool) -> Vec<String> {
    let Some(t) = target else {
        return vec![
            format!("ssh {node}"),
            "sudo apt-get update && sudo apt-get -y upgrade".into(),
            "sudo systemctl reboot".into(),
        ];
    };
    let pkg = bare(t);
    let mut out = vec![
        format!("ssh {node}"),
        format!(
            "# pkgs.k8s.io: point /etc/apt/sources.list.d/kubernetes.list at core:/stable:/{}/deb/ if the minor changes",
            minor(t)
        ),
        format!(
            "sudo apt-mark unhold kubeadm && sudo apt-get update && sudo apt-get install -y kubeadm='{pkg}-*' && sudo apt-mark hold kubeadm"
        ),
    ];
    if first_control_plane {
        out.push("sudo kubeadm upgrade plan".into());
        out.push(format!("sudo kubeadm upgrade apply v{pkg}"));
    } else {
        out.push("sudo kubeadm upgrade node".into());
    }
    out.push(format!(
        "sudo apt-mark unhold kubelet kubectl && sudo apt-get install -y kubelet='{pkg}-*' kubectl='{pkg}-*' && sudo apt-mark hold kubelet kubectl"
    ));
    out.push("sudo systemctl daemon-reload && sudo systemctl restart kubelet".into());
    out
}

/// A `--target` that is not a version `vX.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --target \"{0}\": expected a Kubernetes version like v1.26.0")]
pub struct TargetError(pub String);

/// A target version as given (`1.26.0`, `v1.26.0`) → `v1.26.0`, or why it is not one.
pub fn parse_target(s: &str) -> Result<String, TargetError> {
    let b = bare(s.trim());
    let parts: Vec<&str> = b.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    {
        Ok(format!("v{b}"))
    } else {
        Err(TargetError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_apply_only_on_the_first_control_plane_node() {
        let first = instructions("master0", Some("v1.26.0"), true).join("\n");
        assert!(first.contains("kubeadm upgrade apply v1.26.0"), "{first}");
        assert!(first.contains("stable:/v1.26/deb"), "{first}");
        let other = instructions("node0", Some("v1.26.0"), false).join("\n");
        assert!(!other.contains("upgrade apply") && other.contains("kubeadm upgrade node"));
        assert!(other.contains("kubelet='1.26.0-*'") && other.contains("restart kubelet"));
        let os = instructions("node0", None, false).join("\n");
        assert!(os.contains("reboot") && !os.contains("kubeadm"));
    }

    #[test]
    fn targets_are_full_versions() {
        assert_eq!(parse_target("1.26.0").unwrap(), "v1.26.0");
        assert_eq!(parse_target("v1.26.3").unwrap(), "v1.26.3");
        assert!(parse_target("v1.26").is_err());
        assert!(parse_target("latest").is_err());
    }
}
