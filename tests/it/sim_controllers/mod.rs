//! Store-level tests of the simulator's controllers and scenarios (no HTTP): start the
//! controllers on a populated store with a fast clock and wait for outcomes.

mod budgets;
mod idle;
mod scenarios;
mod workloads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubedrain::sim::SimClock;
use kubedrain::sim::controllers::{self, Controllers};
use kubedrain::sim::kinds::Kind;
use kubedrain::sim::scenario;
use kubedrain::sim::store::Store;
use serde_json::{Value, json};

use crate::common::clock::{freeze_clock, step_clock};

fn start(name: &str, speed: f64) -> (Arc<Store>, Controllers) {
    let store = Store::new(Arc::new(SimClock::new(speed)), 100_000);
    scenario::load(name).unwrap().populate(&store).unwrap();
    let c = controllers::spawn(store.clone());
    (store, c)
}

async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pods(store: &Store, ns: Option<&str>) -> Vec<Arc<Value>> {
    store.list(Kind::Pod, ns).1
}

fn running_ready(p: &Value) -> bool {
    p["status"]["phase"] == "Running"
        && p["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn on(store: &Store, node: &str, prefix: &str) -> usize {
    pods(store, None)
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"] == node
                && p["metadata"]["name"].as_str().unwrap().starts_with(prefix)
        })
        .count()
}

fn events(store: &Store, reason: &str) -> Vec<Arc<Value>> {
    store
        .list_where(Kind::Event, None, |e| e["reason"] == reason)
        .1
}

fn cordon(store: &Store, node: &str, on: bool) {
    store
        .update(Kind::Node, "", node, |n| {
            n["spec"]["unschedulable"] = json!(on);
            Ok(())
        })
        .unwrap();
}

/// What the API does for DELETE with a grace period.
fn delete_graceful(store: &Store, ns: &str, name: &str, grace: i64) {
    let at = kubedrain::sim::clock::format_time(
        store
            .clock()
            .now()
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap(),
    );
    store
        .update(Kind::Pod, ns, name, |p| {
            p["metadata"]["deletionTimestamp"] = json!(at);
            p["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            Ok(())
        })
        .unwrap();
}

fn node_ready(store: &Store, node: &str) -> bool {
    store.get(Kind::Node, "", node).unwrap()["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}
