//! The scheduler: binds pending pods to nodes that fit (requests vs allocatable, pod count,
//! cordon, taints, nodeSelector/affinity), scored like kube-scheduler (least-allocated,
//! balanced, and away from untolerated `PreferNoSchedule` taints); explains failures with the
//! real `FailedScheduling` message shape.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::Manager;
use super::events;
use super::index::Usage;
use super::util::{
    Requests, UNSCHEDULABLE_TAINT, bytes, cpu_millis, expression_matches, fmt, pod_requests,
    tolerates,
};
use crate::cluster::scheduling;
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

/// Why one node does not fit a pod (the scheduler's filter reasons, real wording).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Misfit {
    Unschedulable,
    Taint(String, String),
    Selector,
    InsufficientCpu,
    InsufficientMemory,
    TooManyPods,
}

impl Misfit {
    /// The reason text as the scheduler prints it.
    pub fn text(&self) -> String {
        match self {
            Misfit::Unschedulable => "node(s) were unschedulable".into(),
            Misfit::Taint(k, v) => format!("node(s) had untolerated taint {{{k}: {v}}}"),
            Misfit::Selector => "node(s) didn't match Pod's node affinity/selector".into(),
            Misfit::InsufficientCpu => "Insufficient cpu".into(),
            Misfit::InsufficientMemory => "Insufficient memory".into(),
            Misfit::TooManyPods => "Too many pods".into(),
        }
    }

    /// Whether evicting lower-priority pods could help (resource shortages only).
    fn preemptable(&self) -> bool {
        matches!(
            self,
            Misfit::InsufficientCpu | Misfit::InsufficientMemory | Misfit::TooManyPods
        )
    }
}

/// Checks one node for a pod, in the default plugins' order (the first failing filter wins,
/// except resource fit, which reports every short resource).
pub fn filter(pod: &Value, node: &Value, used: Usage) -> Result<(), Vec<Misfit>> {
    filter_with(pod, pod_requests(pod), node, used)
}

/// `filter` with the pod's requests already summed (`pick` sums them once, not per node).
fn filter_with(pod: &Value, req: Requests, node: &Value, used: Usage) -> Result<(), Vec<Misfit>> {
    let tolerations = &pod["spec"]["tolerations"];
    if node["spec"]["unschedulable"] == true {
        let t = json!({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"});
        if !tolerates(tolerations, &t) {
            return Err(vec![Misfit::Unschedulable]);
        }
    }
    for taint in node["spec"]["taints"].as_array().into_iter().flatten() {
        let effect = taint["effect"].as_str().unwrap_or("");
        if (effect == "NoSchedule" || effect == "NoExecute") && !tolerates(tolerations, taint) {
            return Err(vec![Misfit::Taint(
                taint["key"].as_str().unwrap_or("").into(),
                taint["value"].as_str().unwrap_or("").into(),
            )]);
        }
    }
    if !matches_node(pod, node) {
        return Err(vec![Misfit::Selector]);
    }
    let alloc = &node["status"]["allocatable"];
    let mut short = Vec::new();
    let max_pods = alloc["pods"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| alloc["pods"].as_i64())
        .unwrap_or(110);
    if used.pods + 1 > max_pods {
        short.push(Misfit::TooManyPods);
    }
    let used = used.requested;
    if req.cpu > 0 && used.cpu + req.cpu > cpu_millis(&alloc["cpu"]) {
        short.push(Misfit::InsufficientCpu);
    }
    if req.mem > 0 && used.mem + req.mem > bytes(&alloc["memory"]) {
        short.push(Misfit::InsufficientMemory);
    }
    if short.is_empty() { Ok(()) } else { Err(short) }
}

/// nodeSelector and required node affinity (labels and `metadata.name` fields).
fn matches_node(pod: &Value, node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    if let Some(sel) = pod["spec"]["nodeSelector"].as_object() {
        for (k, v) in sel {
            if labels.get(k) != Some(v) {
                return false;
            }
        }
    }
    let terms = &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    let Some(terms) = terms.as_array() else {
        return true;
    };
    let name = node["metadata"]["name"].as_str();
    // Terms are ORed; expressions within a term are ANDed.
    terms.iter().any(|t| {
        t["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| expression_matches(e, |k| labels.get(k).and_then(Value::as_str)))
            && t["matchFields"].as_array().into_iter().flatten().all(|e| {
                expression_matches(e, |k| (k == "metadata.name").then_some(name).flatten())
            })
    })
}

/// kube-scheduler's resource scores for placing the pod on the node (higher is better).
fn score(req: Requests, node: &Value, used: &Usage) -> i64 {
    let alloc = &node["status"]["allocatable"];
    let alloc = Requests {
        cpu: cpu_millis(&alloc["cpu"]),
        mem: bytes(&alloc["memory"]),
    };
    scheduling::score(alloc, used, req)
}

/// How many `PreferNoSchedule` taints of `node` the pod does not tolerate.
fn preferred_against(pod: &Value, node: &Value) -> i64 {
    let tolerations = &pod["spec"]["tolerations"];
    node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["effect"] == "PreferNoSchedule" && !tolerates(tolerations, t))
        .count() as i64
}

/// Picks the best node for `pod`, or returns the FailedScheduling message. Like
/// kube-scheduler, it filters from `start` on (wrapping) and stops once it has found
/// `scheduling::nodes_to_score` feasible nodes; `start` moves past the nodes it looked at.
pub fn pick(
    pod: &Value,
    nodes: &[impl Borrow<Value>],
    usage: &HashMap<String, Usage>,
    start: &mut usize,
) -> Result<String, String> {
    // (resource score, untolerated PreferNoSchedule taints, pods, name) of each fitting node.
    let mut fits: Vec<(i64, i64, i64, &str)> = Vec::new();
    let mut misfits: BTreeMap<Misfit, usize> = BTreeMap::new();
    let total = nodes.len();
    let wanted = scheduling::nodes_to_score(total);
    let mut not_helpful = 0;
    let mut no_victims = 0;
    // Summed once: parsing the containers' quantities per node was most of a pick's cost at
    // 5,000 nodes.
    let req = pod_requests(pod);
    let first = if total == 0 { 0 } else { *start % total };
    let mut looked = 0;
    for node in nodes[first..].iter().chain(&nodes[..first]) {
        if fits.len() >= wanted {
            break;
        }
        looked += 1;
        let node = node.borrow();
        let name = node["metadata"]["name"].as_str().unwrap_or("");
        let used = usage.get(name).copied().unwrap_or_default();
        match filter_with(pod, req, node, used) {
            Ok(()) => fits.push((
                score(req, node, &used),
                preferred_against(pod, node),
                used.pods,
                name,
            )),
            Err(reasons) => {
                if reasons.iter().all(Misfit::preemptable) {
                    no_victims += 1;
                } else {
                    not_helpful += 1;
                }
                for r in reasons {
                    *misfits.entry(r).or_default() += 1;
                }
            }
        }
    }
    if total > 0 {
        *start = (first + looked) % total;
    }
    // TaintToleration normalises over the nodes that passed the filters.
    let counts: Vec<i64> = fits.iter().map(|f| f.1).collect();
    let taint_scores = scheduling::taint_toleration(&counts);
    let mut best: Option<(i64, i64, &str)> = None;
    for (&(s, _, pods, name), t) in fits.iter().zip(taint_scores) {
        let s = s + t;
        // kube-scheduler breaks ties at random; the built-in cluster gives them to the node
        // with fewer pods (then the first by name), so runs repeat.
        if best.is_none_or(|(bs, bp, _)| s > bs || (s == bs && pods < bp)) {
            best = Some((s, pods, name));
        }
    }
    if let Some((_, _, name)) = best {
        return Ok(name.to_string());
    }
    Err(failure_message(total, &misfits, not_helpful, no_victims))
}

/// `0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: ...`
pub fn failure_message(
    total: usize,
    misfits: &BTreeMap<Misfit, usize>,
    not_helpful: usize,
    no_victims: usize,
) -> String {
    let mut reasons: Vec<String> = misfits
        .iter()
        .map(|(m, n)| format!("{n} {}", m.text()))
        .collect();
    reasons.sort();
    let mut pre = Vec::new();
    if no_victims > 0 {
        pre.push(format!(
            "{no_victims} No preemption victims found for incoming pod"
        ));
    }
    if not_helpful > 0 {
        pre.push(format!(
            "{not_helpful} Preemption is not helpful for scheduling"
        ));
    }
    pre.sort();
    if total == 0 {
        return "no nodes available to schedule pods".into();
    }
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        reasons.join(", "),
        pre.join(", ")
    )
}

impl Manager {
    /// Tries to bind every queued pod. Pods that failed before are retried only when the
    /// cluster changed (`retry_unschedulable`), so an idle cluster costs nothing.
    pub(super) fn schedule(&mut self) {
        // Long: one scheduling cycle: the queue, then for each pod either the binding and its
        // Scheduled event or the Unschedulable condition and its event, side by side.
        let retry = std::mem::take(&mut self.retry_unschedulable);
        let queue: Vec<ObjKey> = self
            .index
            .unbound
            .iter()
            .filter(|k| retry || !self.unschedulable.contains(*k))
            .cloned()
            .collect();
        if queue.is_empty() {
            return;
        }
        // Owned handles: binding a pod below updates the index the nodes live in.
        let nodes: Vec<Arc<Value>> = self.index.nodes.values().cloned().collect();
        for k in queue {
            let Some(pod) = self.index.pod(&k) else {
                continue;
            };
            if pod["spec"]["schedulerName"]
                .as_str()
                .unwrap_or("default-scheduler")
                != "default-scheduler"
            {
                continue;
            }
            let result = pick(&pod, &nodes, &self.index.usage, &mut self.next_node);
            let now = fmt(self.store.clock().now());
            match result {
                Ok(node) => {
                    self.unschedulable.remove(&k);
                    let uid = pod["metadata"]["uid"].clone();
                    let bound = self.store.update(Kind::Pod, &k.0, &k.1, |p| {
                        if p["metadata"]["uid"] != uid || !p["spec"]["nodeName"].is_null() {
                            return Err(crate::sim::store::StoreError::Conflict("moved".into()));
                        }
                        p["spec"]["nodeName"] = json!(node);
                        super::util::set_condition(
                            &mut p["status"]["conditions"],
                            json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null}),
                            &now,
                        );
                        Ok(())
                    });
                    if let Ok(b) = bound {
                        self.saw(Kind::Pod, &b);
                        self.kubelet_dirty.insert(k.clone());
                        events::record(
                            &self.store,
                            &b,
                            "Normal",
                            "Scheduled",
                            &format!("Successfully assigned {}/{} to {node}", k.0, k.1),
                            "default-scheduler",
                        );
                    }
                }
                Err(msg) => {
                    self.unschedulable.insert(k.clone());
                    let updated = self.store.update(Kind::Pod, &k.0, &k.1, |p| {
                        super::util::set_condition(
                            &mut p["status"]["conditions"],
                            json!({"type": "PodScheduled", "status": "False", "lastProbeTime": null,
                                   "reason": "Unschedulable", "message": msg}),
                            &now,
                        );
                        Ok(())
                    });
                    if let Ok(p) = updated {
                        self.saw(Kind::Pod, &p);
                        events::record(
                            &self.store,
                            &p,
                            "Warning",
                            "FailedScheduling",
                            &msg,
                            "default-scheduler",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu: &str, unsched: bool, taints: Value) -> Value {
        json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
               "spec": {"unschedulable": unsched, "taints": taints},
               "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110"}}})
    }

    fn pod(cpu: &str) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "100Mi"}}}]}})
    }

    #[test]
    fn fit_by_cpu_and_least_allocated() {
        let nodes = [
            node("a", "1", false, json!([])),
            node("b", "2", false, json!([])),
        ];
        let mut b = Usage::default();
        b.add(Requests { cpu: 1500, mem: 0 }, 1);
        let usage = HashMap::from([("b".to_string(), b)]);
        // b has 500m left, a has 1000m: a is less allocated.
        assert_eq!(pick(&pod("400m"), &nodes, &usage, &mut 0).unwrap(), "a");
        let err = pick(&pod("1200m"), &nodes, &usage, &mut 0).unwrap_err();
        assert_eq!(
            err,
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn cordon_and_taints_block() {
        let nodes = [
            node(
                "m",
                "4",
                false,
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
            ),
            node("a", "4", true, json!([])),
            node("b", "1", false, json!([])),
        ];
        let err = pick(&pod("2"), &nodes, &HashMap::new(), &mut 0).unwrap_err();
        assert_eq!(
            err,
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
        );
        let mut tolerant = pod("2");
        tolerant["spec"]["tolerations"] =
            json!([{"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]);
        assert_eq!(
            pick(&tolerant, &nodes, &HashMap::new(), &mut 0).unwrap(),
            "a"
        );
    }

    #[test]
    fn prefer_no_schedule_taints_steer_but_never_block() {
        let queued =
            json!([{"key": "kubedrain.io/queued", "value": "c1", "effect": "PreferNoSchedule"}]);
        // a is emptier (the resource scores prefer it) but tainted: b wins.
        let nodes = [
            node("a", "4", false, queued.clone()),
            node("b", "2", false, json!([])),
        ];
        assert_eq!(
            pick(&pod("100m"), &nodes, &HashMap::new(), &mut 0).unwrap(),
            "b"
        );
        // Only where nothing else fits does a pod go to the tainted node.
        assert_eq!(
            pick(&pod("3"), &nodes, &HashMap::new(), &mut 0).unwrap(),
            "a"
        );
        // A pod that tolerates the taint scores the nodes by resources alone.
        let mut tolerant = pod("100m");
        tolerant["spec"]["tolerations"] =
            json!([{"key": "kubedrain.io/queued", "operator": "Exists"}]);
        assert_eq!(
            pick(&tolerant, &nodes, &HashMap::new(), &mut 0).unwrap(),
            "a"
        );
        // Both tainted: even again, resources decide.
        let both = [
            node("a", "4", false, queued.clone()),
            node("b", "2", false, queued),
        ];
        assert_eq!(
            pick(&pod("100m"), &both, &HashMap::new(), &mut 0).unwrap(),
            "a"
        );
    }

    /// `n` equal nodes named `n000`…, each with 1000m of its 4 CPUs requested except `best`,
    /// which is empty.
    fn pool(n: usize, best: usize) -> (Vec<Value>, HashMap<String, Usage>) {
        let nodes: Vec<Value> = (0..n)
            .map(|i| node(&format!("n{i:03}"), "4", false, json!([])))
            .collect();
        let mut busy = Usage::default();
        busy.add(
            Requests {
                cpu: 1000,
                mem: 1 << 30,
            },
            1,
        );
        let usage = (0..n)
            .filter(|&i| i != best)
            .map(|i| (format!("n{i:03}"), busy))
            .collect();
        (nodes, usage)
    }

    #[test]
    fn a_big_cluster_scores_a_rotating_sample_of_its_feasible_nodes() {
        // 300 nodes: kube-scheduler stops at 144 feasible ones (48 %). The emptiest node,
        // n200, is outside the first sample, so the first pod goes to another node.
        let (nodes, usage) = pool(300, 200);
        let mut start = 0;
        let first = pick(&pod("100m"), &nodes, &usage, &mut start).unwrap();
        assert_ne!(first, "n200");
        assert!(
            first.as_str() < "n144",
            "{first} is outside the first 144 nodes"
        );
        assert_eq!(start, 144);
        // The next search starts at n144 and finds it.
        assert_eq!(
            pick(&pod("100m"), &nodes, &usage, &mut start).unwrap(),
            "n200"
        );
        assert_eq!(start, 288);
        // The search wraps around the end of the list.
        pick(&pod("100m"), &nodes, &usage, &mut start).unwrap();
        assert_eq!(start, (288 + 144) % 300);
    }

    #[test]
    fn a_small_cluster_scores_every_node_and_misfits_do_not_count_towards_the_sample() {
        // 99 nodes: every one is scored, from wherever the search starts.
        let (nodes, usage) = pool(99, 98);
        assert_eq!(pick(&pod("100m"), &nodes, &usage, &mut 0).unwrap(), "n098");
        let mut start = 50;
        assert_eq!(
            pick(&pod("100m"), &nodes, &usage, &mut start).unwrap(),
            "n098"
        );
        assert_eq!(
            start, 50,
            "it looked at all 99 nodes and is back where it began"
        );
        // 300 nodes, the first 200 cordoned: the search goes past them to find 144 feasible
        // ones, and a pod that fits nowhere is told about all 300.
        let (mut nodes, usage) = pool(300, 250);
        for n in &mut nodes[..200] {
            n["spec"]["unschedulable"] = json!(true);
        }
        let mut start = 0;
        assert_eq!(
            pick(&pod("100m"), &nodes, &usage, &mut start).unwrap(),
            "n250"
        );
        assert_eq!(start, 0, "all 300 looked at: only 100 are feasible");
        let err = pick(&pod("8"), &nodes, &usage, &mut start).unwrap_err();
        assert!(
            err.starts_with(
                "0/300 nodes are available: 100 Insufficient cpu, 200 node(s) were unschedulable."
            ),
            "{err}"
        );
    }

    #[test]
    fn selector_and_pod_count() {
        let mut n = node("a", "4", false, json!([]));
        n["status"]["allocatable"]["pods"] = json!("1");
        let mut p = pod("100m");
        p["spec"]["nodeSelector"] = json!({"disk": "ssd"});
        assert_eq!(
            filter(&p, &n, Usage::default()),
            Err(vec![Misfit::Selector])
        );
        let mut full = Usage::default();
        full.add(Requests::default(), 1);
        assert_eq!(
            filter(&pod("100m"), &n, full),
            Err(vec![Misfit::TooManyPods])
        );
        let mut ds = pod("100m");
        ds["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}]}}});
        assert_eq!(
            filter(&ds, &n, Usage::default()),
            Err(vec![Misfit::Selector])
        );
    }
}
