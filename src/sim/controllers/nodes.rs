//! Node lifecycle: the cordon taint follows `spec.unschedulable`, NotReady nodes get the
//! not-ready/unreachable taints, and simulated reboots (OS upgrades) take a node down and
//! bring it back with new versions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::util::{
    NOT_READY_TAINT, UNSCHEDULABLE_TAINT, fmt, is_terminating, node_ready, set_condition,
};
use super::{Manager, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{Store, StoreError};

const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

/// What a simulated OS upgrade installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeTarget {
    pub os_image: String,
    pub kernel_version: String,
    pub kubelet_version: String,
}

/// Default simulated reboot time, in simulated seconds.
pub const REBOOT_SECS: u64 = 8;

impl Manager {
    /// Reconciles a node's controller-managed taints and the kubelet's view of its readiness.
    pub(super) fn node_sync(&mut self, name: &str) {
        // Long: the taints the node's state asks for, their write, then the events and the
        // readiness change that follow from it, in that order; each step reads the one before.
        let Some(node) = self.index.nodes.get(name).cloned() else {
            // Deleted: its pods go too (pod GC, via the kubelet pass).
            self.node_ready.remove(name);
            let keys: Vec<_> = self
                .index
                .by_node
                .get(name)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            self.kubelet_dirty.extend(keys);
            return;
        };
        let now = fmt(self.store.clock().now());
        let cordoned = node["spec"]["unschedulable"] == true;
        let ready_status = super::util::condition_status(&node["status"]["conditions"], "Ready")
            .unwrap_or("Unknown");
        let want_not_ready = ready_status == "False";
        let want_unreachable = ready_status == "Unknown";
        let taints: Vec<Value> = node["spec"]["taints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let has = |key: &str| taints.iter().any(|t| t["key"] == key);
        let mut next: Vec<Value> = taints
            .iter()
            .filter(|t| {
                let key = t["key"].as_str().unwrap_or("");
                // Keep a controller taint only while its condition holds; keep all others.
                (cordoned || key != UNSCHEDULABLE_TAINT)
                    && (want_not_ready || key != NOT_READY_TAINT)
                    && (want_unreachable || key != UNREACHABLE_TAINT)
            })
            .cloned()
            .collect();
        let added_cordon = cordoned && !has(UNSCHEDULABLE_TAINT);
        let removed_cordon = !cordoned && has(UNSCHEDULABLE_TAINT);
        if added_cordon {
            next.push(
                json!({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": now}),
            );
        }
        for (want, key) in [
            (want_not_ready, NOT_READY_TAINT),
            (want_unreachable, UNREACHABLE_TAINT),
        ] {
            if want && !has(key) {
                next.push(json!({"key": key, "effect": "NoSchedule"}));
                next.push(json!({"key": key, "effect": "NoExecute", "timeAdded": now}));
            }
        }
        if next != taints {
            let updated = self.store.update(Kind::Node, "", name, |n| {
                if next.is_empty() {
                    if let Some(s) = n["spec"].as_object_mut() {
                        s.remove("taints");
                    }
                } else {
                    n["spec"]["taints"] = json!(next);
                }
                Ok(())
            });
            if let Ok(n) = &updated {
                self.saw(Kind::Node, n);
            }
        }
        let source = format!("kubelet@{name}");
        if added_cordon {
            events::record(
                &self.store,
                &node,
                "Normal",
                "NodeNotSchedulable",
                &format!("Node {name} status is now: NodeNotSchedulable"),
                &source,
            );
        }
        if removed_cordon {
            events::record(
                &self.store,
                &node,
                "Normal",
                "NodeSchedulable",
                &format!("Node {name} status is now: NodeSchedulable"),
                &source,
            );
        }
        let current = self.index.nodes.get(name).cloned().unwrap_or(node.clone());
        self.noexecute_sync(name, &current);
        let ready = node_ready(&node);
        if self.node_ready.insert(name.to_string(), ready) != Some(ready) {
            // Readiness changed: every pod there needs the kubelet's attention.
            let keys: Vec<_> = self
                .index
                .by_node
                .get(name)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            self.kubelet_dirty.extend(keys);
        }
    }
}

impl Manager {
    /// The taint manager: evicts pods that don't tolerate a NoExecute taint, or once their
    /// `tolerationSeconds` (300 s by default for not-ready/unreachable) have run out. This is
    /// how pods leave a node that just died, minutes later.
    fn noexecute_sync(&mut self, name: &str, node: &Value) {
        let taints: Vec<Value> = node["spec"]["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["effect"] == "NoExecute")
            .cloned()
            .collect();
        if taints.is_empty() {
            return;
        }
        let now = self.store.clock().now();
        let mut next: Option<jiff::Timestamp> = None;
        for pod in self.index.on_node(name) {
            if is_terminating(&pod) || super::util::is_finished(&pod) {
                continue;
            }
            let mut evict_at: Option<jiff::Timestamp> = None;
            let mut never = true;
            for t in &taints {
                let matching: Vec<&Value> = pod["spec"]["tolerations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|tol| super::util::tolerates(&json!([tol]), t))
                    .collect();
                let at = if matching.is_empty() {
                    Some(now)
                } else if matching
                    .iter()
                    .any(|tol| tol["tolerationSeconds"].is_null())
                {
                    None
                } else {
                    let secs = matching
                        .iter()
                        .filter_map(|tol| tol["tolerationSeconds"].as_f64())
                        .fold(f64::MAX, f64::min);
                    let added = super::util::parse_time(&t["timeAdded"]).unwrap_or(now);
                    Some(super::util::add_secs(added, secs))
                };
                if let Some(at) = at {
                    never = false;
                    evict_at = Some(evict_at.map_or(at, |e: jiff::Timestamp| e.min(at)));
                }
            }
            let Some(at) = evict_at.filter(|_| !never) else {
                continue;
            };
            if at <= now {
                let (ns, pn) = super::util::key_of(&pod);
                events::record(
                    &self.store,
                    &pod,
                    "Normal",
                    "TaintManagerEviction",
                    &format!("Marking for deletion Pod {ns}/{pn}"),
                    "taint-controller",
                );
                self.delete_pod(&pod);
            } else {
                next = Some(next.map_or(at, |n: jiff::Timestamp| n.min(at)));
            }
        }
        if let Some(at) = next {
            self.arm(at, super::Timer::Node(name.to_string()));
        }
    }
}

fn node_event_object(store: &Store, name: &str) -> Result<Arc<Value>, StoreError> {
    store.get(Kind::Node, "", name).ok_or(StoreError::NotFound {
        kind: Kind::Node,
        name: name.into(),
    })
}

/// Marks a node Ready (kubelet posting status) or not (kubelet stopped posting: Unknown),
/// with the events the real components record.
pub fn set_node_ready(store: &Store, name: &str, ready: bool) -> Result<(), StoreError> {
    let now = fmt(store.clock().now());
    let was = node_ready(&*node_event_object(store, name)?);
    let node = store.update(Kind::Node, "", name, |n| {
        let conds = &mut n["status"]["conditions"];
        if ready {
            for (t, reason, msg) in [
                (
                    "MemoryPressure",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                (
                    "DiskPressure",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                (
                    "PIDPressure",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
            ] {
                set_condition(
                    conds,
                    json!({"type": t, "status": "False", "reason": reason, "message": msg,
                    "lastHeartbeatTime": now}),
                    &now,
                );
            }
            set_condition(
                conds,
                json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status", "lastHeartbeatTime": now}),
                &now,
            );
        } else {
            for c in conds.as_array_mut().into_iter().flatten() {
                if c["status"] != "Unknown" {
                    c["lastTransitionTime"] = json!(now);
                }
                c["status"] = json!("Unknown");
                c["reason"] = json!("NodeStatusUnknown");
                c["message"] = json!("Kubelet stopped posting node status.");
            }
        }
        Ok(())
    })?;
    if was != ready {
        if ready {
            events::record(
                store,
                &node,
                "Normal",
                "NodeReady",
                &format!("Node {name} status is now: NodeReady"),
                &format!("kubelet@{name}"),
            );
        } else {
            events::record(
                store,
                &node,
                "Normal",
                "NodeNotReady",
                &format!("Node {name} status is now: NodeNotReady"),
                "node-controller",
            );
        }
    }
    Ok(())
}

/// Increments the last run of digits (`v1.25.0` → `v1.25.1`).
fn bump_last_number(s: &str) -> String {
    let end = s.rfind(|ch: char| ch.is_ascii_digit()).map_or(0, |i| i + 1);
    let start = s[..end]
        .rfind(|ch: char| !ch.is_ascii_digit())
        .map_or(0, |i| i + 1);
    match s[start..end].parse::<u64>() {
        Ok(n) if start < end => format!("{}{}{}", &s[..start], n + 1, &s[end..]),
        _ => s.to_string(),
    }
}

/// A sensible upgrade for a node: next kernel build, next OS point release, kubelet at the
/// control plane's version (or the next patch if it is already there).
pub fn default_upgrade_target(store: &Store, node: &str) -> Result<UpgradeTarget, StoreError> {
    let n = node_event_object(store, node)?;
    let info = &n["status"]["nodeInfo"];
    let kernel = info["kernelVersion"].as_str().unwrap_or("5.15.0-1-generic");
    let os = info["osImage"].as_str().unwrap_or("Ubuntu 22.04.1 LTS");
    let kubelet = info["kubeletVersion"]
        .as_str()
        .unwrap_or("v1.25.0")
        .to_string();
    let cp = store
        .list_where(Kind::Node, None, |n| {
            n["metadata"]["labels"]
                .get("node-role.kubernetes.io/control-plane")
                .is_some()
        })
        .1
        .iter()
        .filter_map(|n| {
            n["status"]["nodeInfo"]["kubeletVersion"]
                .as_str()
                .map(String::from)
        })
        .max_by_key(|v| version_key(v));
    let kubelet_version = match cp {
        Some(v) if version_key(&v) > version_key(&kubelet) => v,
        _ => bump_last_number(&kubelet),
    };
    Ok(UpgradeTarget {
        os_image: bump_last_number(os),
        kernel_version: bump_kernel(kernel),
        kubelet_version,
    })
}

/// Kernels like `5.4.0-135-generic` bump the build number after the first dash.
fn bump_kernel(k: &str) -> String {
    if let Some((head, rest)) = k.split_once('-')
        && let Some((build, tail)) = rest.split_once('-')
        && let Ok(b) = build.parse::<u64>()
    {
        return format!("{head}-{}-{tail}", b + 1);
    }
    bump_last_number(k)
}

fn version_key(v: &str) -> Vec<u64> {
    v.trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Simulates an OS upgrade with a reboot of [`REBOOT_SECS`] simulated seconds: see
/// [`start_upgrade_with`].
pub fn start_upgrade(
    store: &Arc<Store>,
    node: &str,
    target: UpgradeTarget,
) -> Result<(), StoreError> {
    start_upgrade_with(store, node, target, Duration::from_secs(REBOOT_SECS))
}

/// Simulates an OS upgrade: the node goes NotReady at once, and after `downtime` (simulated)
/// comes back Ready with the new versions, its pods' containers restarted. Runs on its own
/// thread, following simulated time (speed changes and clock jumps apply).
pub fn start_upgrade_with(
    store: &Arc<Store>,
    node: &str,
    target: UpgradeTarget,
    downtime: Duration,
) -> Result<(), StoreError> {
    set_node_ready(store, node, false)?;
    let store = store.clone();
    let name = node.to_string();
    let due = super::util::add_secs(store.clock().now(), downtime.as_secs_f64());
    std::thread::Builder::new()
        .name(format!("sim-upgrade-{name}"))
        .spawn(move || {
            loop {
                let now = store.clock().now();
                if now >= due {
                    break;
                }
                let left = Duration::try_from(due.duration_since(now)).unwrap_or_default();
                std::thread::sleep(
                    store
                        .clock()
                        .real_duration(left)
                        .min(Duration::from_millis(50)),
                );
            }
            finish_upgrade(&store, &name, &target);
        })
        .map_err(|e| StoreError::Invalid(format!("cannot start upgrade thread: {e}")))?;
    Ok(())
}

fn finish_upgrade(store: &Store, name: &str, target: &UpgradeTarget) {
    // Long: the node back from its upgrade (or not, when its kubelet never returns): its
    // versions and conditions in one write, then every container it restarted.
    let now = fmt(store.clock().now());
    let boot_id = super::util::random_hex(32);
    let boot_id = format!(
        "{}-{}-{}-{}-{}",
        &boot_id[..8],
        &boot_id[8..12],
        &boot_id[12..16],
        &boot_id[16..20],
        &boot_id[20..]
    );
    let fails = node_event_object(store, name)
        .is_ok_and(|n| n["metadata"]["annotations"][super::util::REBOOT_FAILS] == "true");
    if fails {
        // The kubelet never comes back: the node stays NotReady with its old versions. The
        // simulator says so in an event of its own, so a class can see why.
        if let Ok(n) = node_event_object(store, name) {
            events::record(
                store,
                &n,
                "Warning",
                "RebootFailed",
                &format!(
                    "simulated failure: the kubelet of {name} did not come back after the reboot ({})",
                    super::util::REBOOT_FAILS
                ),
                "kubedrain-sim",
            );
        }
        return;
    }
    let control_plane = node_event_object(store, name).is_ok_and(|n| {
        n["metadata"]["labels"]
            .get("node-role.kubernetes.io/control-plane")
            .is_some()
    });
    let Ok(node) = store.update(Kind::Node, "", name, |n| {
        let info = &mut n["status"]["nodeInfo"];
        info["osImage"] = json!(target.os_image);
        info["kernelVersion"] = json!(target.kernel_version);
        info["kubeletVersion"] = json!(target.kubelet_version);
        info["kubeProxyVersion"] = json!(target.kubelet_version);
        info["bootID"] = json!(boot_id);
        Ok(())
    }) else {
        return;
    };
    if control_plane {
        upgrade_static_pods(store, name, &target.kubelet_version);
    }
    // The reboot restarted every container on the node.
    let pods = store
        .list_pods_on_node(name, None, |p| !is_terminating(p))
        .1;
    for p in pods {
        let (ns, pn) = super::util::key_of(&p);
        let _ = store.update(Kind::Pod, &ns, &pn, |p| {
            if p["status"]["phase"] != "Running" {
                return Ok(());
            }
            for s in p["status"]["containerStatuses"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                let started = s["state"]["running"]["startedAt"].clone();
                s["restartCount"] = json!(s["restartCount"].as_i64().unwrap_or(0) + 1);
                s["lastState"] = json!({"terminated": {"exitCode": 255, "reason": "Unknown",
                    "startedAt": started, "finishedAt": now, "containerID": s["containerID"]}});
                s["containerID"] = json!(format!("containerd://{}", super::util::random_hex(64)));
                s["state"] = json!({"running": {"startedAt": now}});
                s["ready"] = json!(false);
            }
            super::podspec::set_ready(p, false, &now);
            Ok(())
        });
    }
    let src = format!("kubelet@{name}");
    events::record(
        store,
        &node,
        "Normal",
        "Starting",
        "Starting kubelet.",
        &src,
    );
    events::record(
        store,
        &node,
        "Warning",
        "Rebooted",
        &format!("Node {name} has been rebooted, boot id: {boot_id}"),
        &src,
    );
    let _ = set_node_ready(store, name, true);
}

/// The control-plane components kubeadm upgrades with the node (etcd has its own versions).
const CONTROL_PLANE_IMAGES: [&str; 3] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// A control-plane node's static pods now run `version` (as `kubeadm upgrade apply|node` does).
fn upgrade_static_pods(store: &Store, node: &str, version: &str) {
    let pods = store
        .list_pods_on_node(node, Some("kube-system"), |_| true)
        .1;
    for p in pods {
        let (ns, pn) = super::util::key_of(&p);
        let _ = store.update(Kind::Pod, &ns, &pn, |p| {
            for c in p["spec"]["containers"].as_array_mut().into_iter().flatten() {
                let image = c["image"].as_str().unwrap_or("").to_string();
                let Some((repo, _)) = image.rsplit_once(':') else {
                    continue;
                };
                let component = repo.rsplit('/').next().unwrap_or(repo);
                if CONTROL_PLANE_IMAGES.contains(&component) {
                    c["image"] = json!(format!("{repo}:{version}"));
                }
            }
            Ok(())
        });
    }
}

/// The version `/version` answers: the newest kube-apiserver static pod's image tag (behind a
/// load balancer a client may reach any of them; once the first is upgraded, clients see it),
/// or `fallback` when the cluster has no such pod.
pub fn apiserver_version(store: &Store, fallback: &str) -> String {
    let (_, pods) = store.list_stored(Kind::Pod, Some("kube-system"), |p| {
        p.label("component") == Some("kube-apiserver")
    });
    crate::sim::store::decode_all(&pods)
        .iter()
        .filter_map(|p| {
            let image = p["spec"]["containers"][0]["image"].as_str()?;
            let (_, tag) = image.rsplit_once(':')?;
            tag.starts_with('v').then(|| tag.to_string())
        })
        .max_by_key(|v| version_key(v))
        .unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_bumps() {
        assert_eq!(bump_last_number("v1.25.0"), "v1.25.1");
        assert_eq!(bump_last_number("Ubuntu 20.04.5 LTS"), "Ubuntu 20.04.6 LTS");
        assert_eq!(bump_kernel("5.4.0-135-generic"), "5.4.0-136-generic");
        assert!(version_key("v1.25.4") > version_key("v1.25.0"));
    }
}
