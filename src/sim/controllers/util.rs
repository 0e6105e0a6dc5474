//! Small helpers shared by the controllers: quantities, selectors, taints, pod predicates, time.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::super::api::selectors::LabelSelector;
use super::super::clock::format_time;

/// A quantity as text: the API allows plain JSON numbers too.
fn quantity_text(q: &Value) -> Option<String> {
    match q {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a CPU quantity (`100m`, `2`, `0.5`) into millicores (0 when absent or invalid).
pub fn cpu_millis(q: &Value) -> i64 {
    quantity_text(q)
        .and_then(|s| crate::cluster::quantity::cpu_millis(&s))
        .unwrap_or(0) as i64
}

/// Parses a byte quantity (`128Mi`, `8063156Ki`, `1G`, `1000`) into bytes (0 when invalid).
pub fn bytes(q: &Value) -> i64 {
    quantity_text(q)
        .and_then(|s| crate::cluster::quantity::bytes(&s))
        .unwrap_or(0) as i64
}

/// What a pod asks of a node: CPU millicores and memory bytes.
pub type Requests = crate::cluster::scheduling::Res;

/// The pod's requests as the scheduler computes them: the containers' sum, or the largest
/// init container's request where that is larger (init containers run one at a time).
pub fn pod_requests(pod: &Value) -> Requests {
    let one = |c: &Value| {
        let req = &c["resources"]["requests"];
        Requests {
            cpu: cpu_millis(&req["cpu"]),
            mem: bytes(&req["memory"]),
        }
    };
    let spec = &pod["spec"];
    let mut r = Requests::default();
    for c in spec["containers"].as_array().into_iter().flatten() {
        r = r.plus(one(c));
    }
    for c in spec["initContainers"].as_array().into_iter().flatten() {
        let i = one(c);
        r.cpu = r.cpu.max(i.cpu);
        r.mem = r.mem.max(i.mem);
    }
    r
}

/// A PDB's or workload's selector as its controller reads it: `None` when it is missing,
/// empty or unreadable, for such a selector selects nothing (the PDB and workload rule).
/// kube-core reads and matches it (see [`LabelSelector::from_object`]).
pub fn controller_selector(selector: &Value) -> Option<LabelSelector> {
    LabelSelector::from_object(selector).filter(|s| !s.is_empty())
}

/// Whether `labels` satisfy a LabelSelector (`matchLabels` + `matchExpressions`).
/// An empty or missing selector matches nothing, like the PDB and workload controllers.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    controller_selector(selector).is_some_and(|s| s.matches_labels(labels))
}

/// One node selector `matchExpressions` / `matchFields` requirement against a lookup. Not
/// kube-core's: node affinity has `Gt` and `Lt`, which its label selector model lacks.
pub fn expression_matches<'a>(e: &Value, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    let key = e["key"].as_str().unwrap_or("");
    let values: Vec<&str> = e["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let v = get(key);
    match e["operator"].as_str().unwrap_or("") {
        "In" => v.is_some_and(|v| values.contains(&v)),
        "NotIn" => v.is_none_or(|v| !values.contains(&v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(want)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|w| w.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if e["operator"] == "Gt" {
                v > want
            } else {
                v < want
            }
        }
        _ => false,
    }
}

/// Whether any toleration tolerates the taint (key/operator/value/effect rules of core/v1).
pub fn tolerates(tolerations: &Value, taint: &Value) -> bool {
    tolerations
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| toleration_matches(t, taint))
}

fn toleration_matches(t: &Value, taint: &Value) -> bool {
    let effect = t["effect"].as_str().unwrap_or("");
    if !effect.is_empty() && effect != taint["effect"].as_str().unwrap_or("") {
        return false;
    }
    let key = t["key"].as_str().unwrap_or("");
    let op = t["operator"].as_str().unwrap_or("Equal");
    if key.is_empty() {
        // An empty key with Exists tolerates everything.
        return op == "Exists";
    }
    if key != taint["key"].as_str().unwrap_or("") {
        return false;
    }
    match op {
        "Exists" => true,
        _ => t["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or(""),
    }
}

/// The taint a cordoned node carries.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
/// The taint a NotReady node carries.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";

/// Whether a node's Ready condition is True.
pub fn node_ready(node: &Value) -> bool {
    condition_status(&node["status"]["conditions"], "Ready") == Some("True")
}

/// A condition's status string from a conditions array.
pub fn condition_status<'a>(conditions: &'a Value, type_: &str) -> Option<&'a str> {
    conditions
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str())
}

/// Sets (or adds) a condition; keeps lastTransitionTime unless the status changes.
pub fn set_condition(conditions: &mut Value, mut cond: Value, now: &str) {
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let arr = conditions.as_array_mut().unwrap();
    let type_ = cond["type"].clone();
    if let Some(existing) = arr.iter_mut().find(|c| c["type"] == type_) {
        if existing["status"] == cond["status"] {
            cond["lastTransitionTime"] = existing["lastTransitionTime"].clone();
        } else {
            cond["lastTransitionTime"] = json!(now);
        }
        if existing.get("lastProbeTime").is_some() && cond.get("lastProbeTime").is_none() {
            cond["lastProbeTime"] = Value::Null;
        }
        *existing = cond;
    } else {
        if cond.get("lastTransitionTime").is_none() {
            cond["lastTransitionTime"] = json!(now);
        }
        arr.push(cond);
    }
}

/// Whether the pod has a deletionTimestamp.
pub fn is_terminating(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

/// The pod phase (`Pending` when unset).
pub fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("Pending")
}

/// Succeeded or Failed.
pub fn is_finished(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Counts toward a controller's replicas: not terminating and not finished.
pub fn is_active(pod: &Value) -> bool {
    !is_terminating(pod) && !is_finished(pod)
}

/// Running with condition Ready=True.
pub fn pod_ready(pod: &Value) -> bool {
    phase(pod) == "Running"
        && condition_status(&pod["status"]["conditions"], "Ready") == Some("True")
}

/// The controller ownerReference's uid, if any.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["controller"] == true)
        .and_then(|o| o["uid"].as_str())
}

/// An ownerReference pointing at `owner` (controller: true).
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// `metadata.namespace` and `metadata.name`.
pub fn key_of(obj: &Value) -> (String, String) {
    (
        obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// Parses an RFC 3339 timestamp field.
pub fn parse_time(v: &Value) -> Option<Timestamp> {
    v.as_str()?.parse().ok()
}

/// `t + secs` (fractional seconds allowed).
pub fn add_secs(t: Timestamp, secs: f64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs_f64(secs.max(0.0)))
        .unwrap_or(t)
}

/// Formats `t`.
pub fn fmt(t: Timestamp) -> String {
    format_time(t)
}

/// Parses an age like `77d`, `5m`, `1h30m`, `45s` into a duration.
pub fn parse_age(s: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut num = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match ch {
            'd' => 86400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    if !num.is_empty() {
        total += num.parse::<u64>().ok()?;
    }
    Some(Duration::from_secs(total))
}

/// Random lowercase hex of `len` characters.
pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random_range(0..16), 16).unwrap())
        .collect()
}

/// A pod annotation parsed as seconds (the simulator's per-pod behaviour knobs).
pub fn annotation_secs(pod: &Value, key: &str) -> Option<f64> {
    pod["metadata"]["annotations"][key].as_str()?.parse().ok()
}

/// Annotation: seconds from container start until the pod reports Ready.
pub const READY_AFTER: &str = "sim.kubedrain.io/ready-after-seconds";
/// Node annotation: after a simulated reboot its kubelet does not come back (stays NotReady).
pub const REBOOT_FAILS: &str = "sim.kubedrain.io/reboot-fails";
/// Annotation: seconds a pod's containers take to stop after SIGTERM (capped by the grace period).
pub const SHUTDOWN_AFTER: &str = "sim.kubedrain.io/shutdown-seconds";
/// Annotation: seconds a Job pod runs before it Succeeds.
pub const RUN_FOR: &str = "sim.kubedrain.io/run-seconds";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis(&json!("100m")), 100);
        assert_eq!(cpu_millis(&json!("2")), 2000);
        assert_eq!(cpu_millis(&json!("0.5")), 500);
        assert_eq!(bytes(&json!("128Mi")), 128 << 20);
        assert_eq!(bytes(&json!("8063156Ki")), 8063156 * 1024);
        assert_eq!(bytes(&json!("1G")), 1_000_000_000);
        assert_eq!(bytes(&json!("1000")), 1000);
    }

    #[test]
    fn tolerations_match_taints() {
        let taint = json!({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"});
        assert!(!tolerates(&json!([]), &taint));
        assert!(tolerates(
            &json!([{"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]),
            &taint
        ));
        assert!(tolerates(&json!([{"operator": "Exists"}]), &taint));
        assert!(!tolerates(
            &json!([{"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoExecute"}]),
            &taint
        ));
        let valued = json!({"key": "dedicated", "value": "db", "effect": "NoSchedule"});
        assert!(tolerates(
            &json!([{"key": "dedicated", "operator": "Equal", "value": "db"}]),
            &valued
        ));
        assert!(!tolerates(
            &json!([{"key": "dedicated", "operator": "Equal", "value": "web"}]),
            &valued
        ));
    }

    #[test]
    fn selectors() {
        let labels = json!({"app": "web", "tier": "fe"});
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            &labels
        ));
        assert!(!selector_matches(&json!({}), &labels));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
            &labels
        ));
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("77d"), Some(Duration::from_secs(77 * 86400)));
        assert_eq!(parse_age("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_age("4m46s"), Some(Duration::from_secs(286)));
        assert_eq!(parse_age("x"), None);
    }
}
