//! The disruption controller: keeps each PodDisruptionBudget's status (healthy counts,
//! disruptionsAllowed, conditions) current, and forgets `disruptedPods` entries once the pod
//! is gone or terminating, or after two minutes, like the real one.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::util::{
    add_secs, controller_selector, controller_uid, fmt, is_terminating, parse_time, pod_ready,
};
use super::{Manager, Timer};
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

/// How long an eviction's disruptedPods entry counts before the controller drops it.
pub const DISRUPTED_TIMEOUT_SECS: f64 = 120.0;

/// An int-or-percent value scaled against `total` (percentages round up).
pub fn scaled(v: &Value, total: i64) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if let Some(p) = s.strip_suffix('%') {
        let p: f64 = p.parse().ok()?;
        return Some((p * total as f64 / 100.0).ceil() as i64);
    }
    s.parse().ok()
}

/// `(expectedPods, desiredHealthy)` for a PDB spec, given the matching pod count and the
/// summed scale of their controllers.
pub fn desired(spec: &Value, pod_count: i64, controller_scale: i64) -> (i64, i64) {
    if !spec["maxUnavailable"].is_null() {
        let expected = controller_scale;
        let max = scaled(&spec["maxUnavailable"], expected).unwrap_or(0);
        return (expected, (expected - max).max(0));
    }
    match &spec["minAvailable"] {
        Value::Number(n) => (pod_count, n.as_i64().unwrap_or(0)),
        v @ Value::String(_) => (controller_scale, scaled(v, controller_scale).unwrap_or(0)),
        _ => (pod_count, 0),
    }
}

impl Manager {
    /// Recomputes one PDB's status.
    pub(super) fn pdb_sync(&mut self, k: &ObjKey) {
        let Some(pdb) = self.index.get(Kind::PodDisruptionBudget, k) else {
            return;
        };
        // Read once for all the namespace's pods.
        let selector = controller_selector(&pdb["spec"]["selector"]);
        let pods: Vec<_> = self
            .index
            .by_ns
            .get(&k.0)
            .into_iter()
            .flatten()
            .filter_map(|pk| self.index.pods.get(pk))
            .filter(|p| selector.as_ref().is_some_and(|s| s.matches_stored(p)))
            .map(|p| Arc::new(p.value()))
            .collect();
        // The controllers' scale, for percentages and maxUnavailable.
        let mut seen = HashSet::new();
        let mut scale = 0;
        let mut bare = 0;
        for p in &pods {
            match controller_uid(p).and_then(|u| self.index.owners.get(u).map(|o| (u, o))) {
                Some((uid, (kind, key))) => {
                    if seen.insert(uid.to_string())
                        && let Some(o) = self.index.get(*kind, key)
                    {
                        scale += o["spec"]["replicas"].as_i64().unwrap_or(1);
                    }
                }
                None => bare += 1,
            }
        }
        let scale = scale + bare;
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        let alive: HashSet<String> = pods
            .iter()
            .filter(|p| !is_terminating(p))
            .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
            .collect();
        let (expected, desired_healthy) = desired(&pdb["spec"], pods.len() as i64, scale);
        let ready: Vec<String> = pods
            .iter()
            .filter(|p| pod_ready(p) && !is_terminating(p))
            .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
            .collect();
        let mut next_expiry = None;
        let status = |o: &Value, next: &mut Option<jiff::Timestamp>| {
            pdb_status(
                o,
                &alive,
                &ready,
                expected,
                desired_healthy,
                now_t,
                &now,
                next,
            )
        };
        // Compare against the indexed copy first: write only when the status changes.
        let st = status(&pdb, &mut next_expiry);
        if st != pdb["status"] {
            let res = self
                .store
                .update(Kind::PodDisruptionBudget, &k.0, &k.1, |o| {
                    // Recomputed from the stored object: the eviction API writes disruptedPods.
                    o["status"] = status(o, &mut next_expiry);
                    Ok(())
                });
            if let Ok(o) = res {
                self.saw(Kind::PodDisruptionBudget, &o);
            }
        }
        if let Some(at) = next_expiry {
            self.arm(at, Timer::Pdb(k.clone()));
        }
    }
}

/// A PDB's status given its matching pods (`alive`: not terminating; `ready`: healthy).
#[allow(clippy::too_many_arguments)]
fn pdb_status(
    o: &Value,
    alive: &HashSet<String>,
    ready: &[String],
    expected: i64,
    desired_healthy: i64,
    now_t: jiff::Timestamp,
    now: &str,
    next_expiry: &mut Option<jiff::Timestamp>,
) -> Value {
    *next_expiry = None;
    let mut disrupted = Map::new();
    for (name, t) in o["status"]["disruptedPods"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        let Some(at) = parse_time(&t) else { continue };
        let expires = add_secs(at, DISRUPTED_TIMEOUT_SECS);
        if alive.contains(&name) && expires > now_t {
            *next_expiry = Some(next_expiry.map_or(expires, |e| e.min(expires)));
            disrupted.insert(name, t);
        }
    }
    let healthy = ready.iter().filter(|n| !disrupted.contains_key(*n)).count() as i64;
    let allowed = (healthy - desired_healthy).max(0);
    let generation = o["metadata"]["generation"].clone();
    let mut conds = o["status"]["conditions"].clone();
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    super::util::set_condition(
        &mut conds,
        json!({"type": "DisruptionAllowed", "status": status,
            "reason": reason, "message": "", "observedGeneration": generation}),
        now,
    );
    let mut st = json!({
        "currentHealthy": healthy,
        "desiredHealthy": desired_healthy,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": generation,
        "conditions": conds,
    });
    if !disrupted.is_empty() {
        st["disruptedPods"] = Value::Object(disrupted);
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_math() {
        assert_eq!(desired(&json!({"minAvailable": 2}), 3, 3), (3, 2));
        assert_eq!(desired(&json!({"minAvailable": "50%"}), 3, 3), (3, 2));
        assert_eq!(desired(&json!({"maxUnavailable": 1}), 3, 3), (3, 2));
        assert_eq!(desired(&json!({"maxUnavailable": 0}), 2, 2), (2, 2));
        assert_eq!(desired(&json!({"maxUnavailable": "34%"}), 3, 3), (3, 1));
        assert_eq!(scaled(&json!("10%"), 5), Some(1));
    }
}
