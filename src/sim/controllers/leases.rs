//! The kubelets' heartbeats, on the simulator's clock: every node's Lease in
//! `kube-node-lease` is renewed every [`RENEW_SECS`] and its conditions' `lastHeartbeatTime`
//! posted every [`STATUS_SECS`] (the kubelet's `nodeStatusReportFrequency`), each node at its
//! own phase so that 5,000 nodes make an even trickle of writes rather than bursts. A node
//! whose kubelet is down (Ready not `True`) renews nothing until it is back.
//!
//! Node status heartbeats are applied to the index at once, so they do not wake the
//! controllers that react to node changes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};

use jiff::Timestamp;
use serde_json::json;

use super::Manager;
use super::util::{fmt, node_ready};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType};

/// The namespace of the node Leases.
pub const NODE_LEASE_NS: &str = "kube-node-lease";
/// The kubelet renews its Lease every 10 s (a quarter of its 40 s duration).
pub const RENEW_SECS: i64 = 10;
/// `leaseDurationSeconds` of a node Lease.
pub const LEASE_DURATION_SECS: i64 = 40;
/// Without a change, the kubelet posts node status every 5 minutes.
pub const STATUS_SECS: i64 = 300;

type Queue = BinaryHeap<Reverse<(i64, String)>>;

/// Simulated milliseconds between batches of heartbeats: real kubelets each write on their
/// own, so 5,000 nodes' 500 renewals a second come as a few every 10 ms, never as one run of
/// the controllers long enough to hold the API server's watch events behind it.
pub(super) const HEARTBEAT_BATCH_MS: i64 = 10;

/// Which node renews when.
#[derive(Default)]
pub(crate) struct LeaseState {
    started: bool,
    renew: Queue,
    status: Queue,
}

impl LeaseState {
    /// The simulated instant (ms) the next heartbeat is due; none before the first pass.
    pub(super) fn next_due(&self) -> Option<i64> {
        if !self.started {
            return None;
        }
        let head = |q: &Queue| q.peek().map(|Reverse((due, _))| *due);
        head(&self.renew)
            .into_iter()
            .chain(head(&self.status))
            .min()
    }
}

/// A `MicroTime` as the API writes it (`2006-01-02T15:04:05.000000Z`).
pub fn micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A node's fixed offset within a period, so nodes spread evenly over it.
fn phase(node: &str, period_ms: i64) -> i64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    node.hash(&mut h);
    (h.finish() % period_ms as u64) as i64
}

/// The next due time after `due` that is later than `now`, keeping the node's phase even when
/// the clock jumped.
fn next_due(due: i64, now: i64, period_ms: i64) -> i64 {
    let next = due + period_ms;
    if next > now {
        next
    } else {
        now + period_ms - (now - due) % period_ms
    }
}

impl Manager {
    /// A node added after the start renews at once; a deleted one's Lease goes with it.
    pub(super) fn lease_observe(&mut self, c: &Change) {
        if !self.sys.leases.started {
            return;
        }
        let name = c.object.name().to_string();
        match c.change {
            ChangeType::Added => {
                let now = self.store.clock().now().as_millisecond();
                self.sys.leases.renew.push(Reverse((now, name.clone())));
                let status = now + STATUS_SECS * 1000;
                self.sys.leases.status.push(Reverse((status, name)));
            }
            ChangeType::Deleted => {
                let _ = self.store.delete(Kind::Lease, NODE_LEASE_NS, &name);
            }
            ChangeType::Modified => {}
        }
    }

    /// Renews what is due; on the first pass, gives every node its Lease and its phases.
    pub(super) fn leases_sync(&mut self) {
        let now = self.store.clock().now();
        let now_ms = now.as_millisecond();
        if !self.sys.leases.started {
            self.sys.leases.started = true;
            let nodes: Vec<String> = self.index.nodes.keys().cloned().collect();
            for n in nodes {
                self.renew_lease(&n, now);
                let renew = now_ms + phase(&n, RENEW_SECS * 1000);
                let status = now_ms + phase(&n, STATUS_SECS * 1000);
                self.sys.leases.renew.push(Reverse((renew, n.clone())));
                self.sys.leases.status.push(Reverse((status, n)));
            }
        }
        while let Some(Reverse((due, node))) = self.sys.leases.renew.peek().cloned() {
            if due > now_ms {
                break;
            }
            self.sys.leases.renew.pop();
            if !self.index.nodes.contains_key(&node) {
                continue;
            }
            self.renew_lease(&node, now);
            let next = next_due(due, now_ms, RENEW_SECS * 1000);
            self.sys.leases.renew.push(Reverse((next, node)));
        }
        while let Some(Reverse((due, node))) = self.sys.leases.status.peek().cloned() {
            if due > now_ms {
                break;
            }
            self.sys.leases.status.pop();
            if !self.index.nodes.contains_key(&node) {
                continue;
            }
            self.post_node_status(&node, now);
            let next = next_due(due, now_ms, STATUS_SECS * 1000);
            self.sys.leases.status.push(Reverse((next, node)));
        }
    }

    /// The kubelet's Lease update (or create), if its node's kubelet is up.
    fn renew_lease(&mut self, node: &str, now: Timestamp) {
        let Some(n) = self.index.nodes.get(node).cloned() else {
            return;
        };
        if !node_ready(&n) {
            return;
        }
        let t = micro_time(now);
        let renewed = self.store.update(Kind::Lease, NODE_LEASE_NS, node, |l| {
            l["spec"]["renewTime"] = json!(t);
            l["spec"]["holderIdentity"] = json!(node);
            Ok(())
        });
        if renewed.is_err() {
            let lease = json!({
                "metadata": {"name": node, "namespace": NODE_LEASE_NS, "ownerReferences": [{
                    "apiVersion": "v1", "kind": "Node", "name": node, "uid": n["metadata"]["uid"]}]},
                "spec": {"holderIdentity": node, "leaseDurationSeconds": LEASE_DURATION_SECS,
                    "renewTime": t},
            });
            let _ = self.store.create(Kind::Lease, self.born_with(lease, &n));
        }
    }

    /// The periodic node status post: every condition's `lastHeartbeatTime` moves to now.
    fn post_node_status(&mut self, node: &str, now: Timestamp) {
        if !self.index.nodes.get(node).is_some_and(|n| node_ready(n)) {
            return;
        }
        let t = fmt(now);
        let indexed_rv = self
            .index
            .nodes
            .get(node)
            .map(|n| n["metadata"]["resourceVersion"].clone());
        // Only a write on top of the version the index holds may be applied to it at once:
        // otherwise a change not yet seen (a cordon) would be skipped as stale.
        let mut on_top = false;
        let posted = self.store.update(Kind::Node, "", node, |n| {
            if !node_ready(n) {
                return Ok(());
            }
            on_top = Some(&n["metadata"]["resourceVersion"]) == indexed_rv.as_ref();
            for c in n["status"]["conditions"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                c["lastHeartbeatTime"] = json!(t);
            }
            Ok(())
        });
        if let Ok(n) = posted
            && on_top
        {
            self.saw(Kind::Node, &n);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::sim::clock::SimClock;
    use crate::sim::store::Store;

    #[test]
    fn micro_time_has_six_digits() {
        let t: Timestamp = "2026-12-01T03:16:50.1234567Z".parse().unwrap();
        assert_eq!(micro_time(t), "2026-12-01T03:16:50.123456Z");
        let t: Timestamp = "2026-12-01T03:16:50Z".parse().unwrap();
        assert_eq!(micro_time(t), "2026-12-01T03:16:50.000000Z");
    }

    /// A Manager over `n` Ready nodes, after its first pass (every Lease written).
    fn started(n: usize, clock: Arc<SimClock>) -> Manager {
        let store = Store::new(clock, 100_000);
        for i in 0..n {
            let node = json!({"metadata": {"name": format!("node-{i}"), "uid": format!("u{i}")},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
            store.create(Kind::Node, node).unwrap();
        }
        let mut m = Manager::new(store);
        m.pass();
        m
    }

    #[test]
    fn the_loop_wakes_for_heartbeats_in_small_batches() {
        // 1,000 nodes renew 100 Leases a second, one every 10 ms on average: the loop must
        // wake for them at least a batch apart, not wait its quarter-second cap and renew
        // 25 in one run.
        let mut m = started(1_000, Arc::new(SimClock::new(1.0)));
        assert_eq!(m.store.list(Kind::Lease, None).1.len(), 1_000);
        let wait = m.next_wait();
        let batch = Duration::from_millis(HEARTBEAT_BATCH_MS as u64);
        assert!(
            (batch..Duration::from_millis(250)).contains(&wait),
            "{wait:?}"
        );
        // One overdue still waits for the batch: a pass per renewal is what batching avoids.
        m.sys.leases.renew.push(Reverse((0, "node-0".into())));
        assert!(m.next_wait() >= batch, "{:?}", m.next_wait());
    }

    #[test]
    fn a_paused_clock_does_not_wake_the_loop_for_heartbeats() {
        let clock = Arc::new(SimClock::new(1.0));
        let m = started(1_000, clock.clone());
        clock.freeze();
        // Step past some nodes' renewals without a pass: they are overdue while paused.
        clock.step(Duration::from_secs(1));
        assert_eq!(m.next_wait(), Duration::from_millis(250));
    }

    #[test]
    fn phases_survive_clock_jumps() {
        assert_eq!(next_due(1_000, 5_000, 10_000), 11_000);
        // A jump of 95 s: the next renewal keeps the node's phase (…1 s past a period).
        assert_eq!(next_due(1_000, 96_000, 10_000), 101_000);
        assert!((0..10_000).contains(&phase("node-1", 10_000)));
    }
}
