//! The deployment controller's arithmetic, as upstream's `deploymentutil`: the strategy's
//! surge and unavailability bounds, revisions and their annotations, which ReplicaSet runs
//! the current template.

use std::sync::Arc;

use serde_json::{Map, Value};

/// The annotation holding a ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The revisions a reused ReplicaSet had before (`kubectl rollout undo`), comma-separated.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";

/// Deployment annotations the controller does not copy to its ReplicaSets (upstream's
/// `skipCopyAnnotation`); kubectl's undo skips the same ones coming back.
const NOT_COPIED: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// `spec.replicas` (1 when unset).
pub fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// Whether the Deployment replaces its pods all at once (`strategy.type: Recreate`).
pub fn is_recreate(dep: &Value) -> bool {
    dep["spec"]["strategy"]["type"] == "Recreate"
}

/// An int-or-percent scaled against `total`, rounded up or down (upstream's
/// `GetScaledValueFromIntOrPercent`); unset or unparsable is 25%, the API default.
fn scaled(v: &Value, total: i64, round_up: bool) -> i64 {
    if let Some(n) = v.as_i64() {
        return n.max(0);
    }
    let s = v.as_str().unwrap_or("25%");
    let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
        return s.parse().unwrap_or(0);
    };
    let x = p.max(0) * total;
    if round_up { (x + 99) / 100 } else { x / 100 }
}

/// `(maxSurge, maxUnavailable)` for a rolling update: surge rounds up, unavailable down,
/// and both 0 would deadlock, so unavailable becomes 1 (upstream's `ResolveFenceposts`).
/// A Recreate Deployment has neither.
pub fn fenceposts(dep: &Value) -> (i64, i64) {
    if is_recreate(dep) {
        return (0, 0);
    }
    let ru = &dep["spec"]["strategy"]["rollingUpdate"];
    let want = replicas(dep);
    let surge = scaled(&ru["maxSurge"], want, true);
    let unavailable = scaled(&ru["maxUnavailable"], want, false);
    if surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

/// How many of `spec.replicas` may be unavailable during a rollout (never more than all).
pub fn max_unavailable(dep: &Value) -> i64 {
    let want = replicas(dep);
    if is_recreate(dep) || want == 0 {
        return 0;
    }
    fenceposts(dep).1.min(want)
}

/// A ReplicaSet's (or Deployment's) revision annotation, 0 when absent.
pub fn revision_of(obj: &Value) -> i64 {
    obj["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Available pods of a ReplicaSet as the deployment controller may count on them: its
/// status, but never more than it is scaled to (a scale-down not yet carried out by the
/// ReplicaSet controller removes the unavailable pods first, then available ones).
pub fn available(rs: &Value) -> i64 {
    rs["status"]["availableReplicas"]
        .as_i64()
        .unwrap_or(0)
        .min(replicas(rs))
}

/// Whether a ReplicaSet runs the Deployment's current template, ignoring the hash label and,
/// like Go's semantic equality of typed objects, fields at their zero value (`kubectl rollout
/// undo` patches back a template without the `false`s and `0`s a client sent).
pub fn template_matches(rs: &Value, dep: &Value) -> bool {
    let norm = |obj: &Value| {
        let mut t = obj["spec"]["template"].clone();
        if let Some(l) = t["metadata"]["labels"].as_object_mut() {
            l.remove("pod-template-hash");
        }
        drop_zeros(&mut t);
        t
    };
    norm(rs) == norm(dep)
}

/// Removes object fields that are null, false, 0, "", {} or [] (after their own cleanup).
fn drop_zeros(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                drop_zeros(x);
            }
            m.retain(|_, x| !is_zero(x));
        }
        Value::Array(a) => a.iter_mut().for_each(drop_zeros),
        _ => {}
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

/// The Deployment's annotations its ReplicaSets carry too (`kubernetes.io/change-cause`
/// among them, which `kubectl rollout history` shows).
pub fn copied_annotations(dep: &Value) -> Map<String, Value> {
    let mut m = dep["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    m.retain(|k, _| !NOT_COPIED.contains(&k.as_str()));
    m
}

/// The new ReplicaSet's annotations for revision `next` (upstream's
/// `SetNewReplicaSetAnnotations`): a reused ReplicaSet gets the next revision and remembers
/// the one it had. Returns whether anything changed.
pub fn set_new_rs_annotations(rs: &mut Value, dep: &Value, next: i64) -> bool {
    let before = rs["metadata"]["annotations"].clone();
    if !rs["metadata"]["annotations"].is_object() {
        rs["metadata"]["annotations"] = Value::Object(Map::new());
    }
    let a = rs["metadata"]["annotations"].as_object_mut().unwrap();
    for (k, v) in copied_annotations(dep) {
        a.insert(k, v);
    }
    let old = a
        .get(REVISION)
        .and_then(|v| v.as_str())
        .and_then(|r| r.parse::<i64>().ok())
        .unwrap_or(0);
    if old < next {
        a.insert(REVISION.into(), Value::from(next.to_string()));
        if old > 0 {
            let history = match a.get(REVISION_HISTORY).and_then(|v| v.as_str()) {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old.to_string(),
            };
            a.insert(REVISION_HISTORY.into(), Value::from(history));
        }
    }
    rs["metadata"]["annotations"] != before
}

/// The ReplicaSet's `creationTimestamp` and name: upstream's order for "oldest first".
pub fn age_key(rs: &Arc<Value>) -> (String, String) {
    let m = &rs["metadata"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (s(&m["creationTimestamp"]), s(&m["name"]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dep(replicas: i64, surge: Value, unavailable: Value) -> Value {
        json!({"spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}})
    }

    #[test]
    fn fenceposts_round_like_upstream() {
        // 25% of 10: surge 2.5 → 3, unavailable 2.5 → 2.
        assert_eq!(fenceposts(&dep(10, json!("25%"), json!("25%"))), (3, 2));
        // 25% of 1: surge 1, unavailable 0.
        assert_eq!(fenceposts(&dep(1, json!("25%"), json!("25%"))), (1, 0));
        // Both 0 would never progress: one may be unavailable.
        assert_eq!(fenceposts(&dep(3, json!(0), json!("10%"))), (0, 1));
        assert_eq!(fenceposts(&dep(3, json!(2), json!(0))), (2, 0));
        // Unset is the API default, 25%.
        assert_eq!(fenceposts(&json!({"spec": {"replicas": 4}})), (1, 1));
        let recreate = json!({"spec": {"replicas": 4, "strategy": {"type": "Recreate"}}});
        assert_eq!(fenceposts(&recreate), (0, 0));
        assert_eq!(max_unavailable(&recreate), 0);
        assert_eq!(max_unavailable(&dep(2, json!(0), json!(5))), 2);
    }

    #[test]
    fn a_reused_replicaset_gets_the_next_revision_and_remembers_its_own() {
        let d = json!({"metadata": {"annotations": {"kubernetes.io/change-cause": "undo",
            REVISION: "2"}}});
        let mut rs = json!({"metadata": {"annotations": {REVISION: "1"}}});
        assert!(set_new_rs_annotations(&mut rs, &d, 3));
        let a = &rs["metadata"]["annotations"];
        assert_eq!(a[REVISION], "3");
        assert_eq!(a[REVISION_HISTORY], "1");
        assert_eq!(a["kubernetes.io/change-cause"], "undo");
        assert!(!set_new_rs_annotations(&mut rs, &d, 3));
        assert!(set_new_rs_annotations(&mut rs, &d, 5));
        assert_eq!(rs["metadata"]["annotations"][REVISION_HISTORY], "1,3");
    }

    #[test]
    fn templates_match_ignoring_zero_values_and_the_hash() {
        let t = |v: Value| json!({"spec": {"template": v}});
        let sent = t(
            json!({"metadata": {"labels": {"app": "w"}, "generation": 0},
            "spec": {"containers": [{"name": "w", "stdin": false, "resources": {}}]}}),
        );
        let back = t(
            json!({"metadata": {"labels": {"app": "w", "pod-template-hash": "x"}},
            "spec": {"containers": [{"name": "w"}]}}),
        );
        assert!(template_matches(&back, &sent));
        let other = t(json!({"metadata": {"labels": {"app": "w"}},
            "spec": {"containers": [{"name": "w", "stdin": true}]}}));
        assert!(!template_matches(&other, &sent));
    }
}
