//! The event recorder: core/v1 Events like the real components write them, deduplicated by
//! count and bounded in number (the real API server expires events after an hour).

use serde_json::{Value, json};

use super::super::kinds::Kind;
use super::super::store::Store;
use super::util::fmt;

/// Events kept before the oldest are deleted.
pub const EVENT_CAP: usize = 5_000;

/// The recorder's name suffix: the event time's Unix nanoseconds in hex, so names sort as
/// the events happened (ties keep their recording order: each suffix is above the last).
fn name_suffix(at: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let nanos = at
        .parse::<jiff::Timestamp>()
        .map_or(0, |t| t.as_nanosecond().max(0) as u64);
    let prev = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(nanos.max(last + 1))
        })
        .unwrap_or(0);
    format!("{:x}", nanos.max(prev + 1))
}

/// A new Event about `involved` (not stored), first and last seen at `at`.
fn event_json(
    involved: &Value,
    field_path: Option<&str>,
    type_: &str,
    reason: &str,
    message: &str,
    source: &str,
    at: &str,
) -> Value {
    let now = at;
    let meta = &involved["metadata"];
    let name = meta["name"].as_str().unwrap_or("");
    let ns = meta["namespace"].as_str().unwrap_or("default").to_string();
    let uid = meta["uid"].clone();
    let (component, host) = match source.split_once('@') {
        Some((c, h)) => (c, Some(h)),
        None => (source, None),
    };
    let mut involved_object = json!({
        "apiVersion": involved["apiVersion"],
        "kind": involved["kind"],
        "name": name,
        "uid": uid,
        "resourceVersion": meta["resourceVersion"],
    });
    if let Some(ns) = meta["namespace"].as_str() {
        involved_object["namespace"] = json!(ns);
    }
    if let Some(fp) = field_path {
        involved_object["fieldPath"] = json!(fp);
    }
    let mut src = json!({"component": component});
    if let Some(h) = host {
        src["host"] = json!(h);
    }
    json!({
        "metadata": {"name": format!("{name}.{}", name_suffix(now)), "namespace": ns},
        "involvedObject": involved_object,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": src,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": host.map(|h| format!("{component}-{h}")).unwrap_or_default(),
    })
}

/// Stores an event that happened at `at`, before the simulator started (a scenario's
/// history: the recent events its workloads would still have), without the dedup scan.
pub fn past(
    store: &Store,
    involved: &Value,
    field_path: Option<&str>,
    (type_, reason, message): (&str, &str, &str),
    source: &str,
    at: &str,
) {
    let ev = event_json(involved, field_path, type_, reason, message, source, at);
    let _ = store.create(Kind::Event, ev);
}

/// Records an event about `involved` (any object with kind/metadata), or bumps the `count` of
/// an identical earlier one. `source` is the component (`kubelet`, `default-scheduler`, ...);
/// `kubelet@node` also sets `source.host`.
pub fn record(
    store: &Store,
    involved: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    source: &str,
) {
    record_at(store, involved, None, type_, reason, message, source);
}

/// Like [`record`], with an `involvedObject.fieldPath` (e.g. `spec.containers{web}`).
pub fn record_at(
    store: &Store,
    involved: &Value,
    field_path: Option<&str>,
    type_: &str,
    reason: &str,
    message: &str,
    source: &str,
) {
    let now = fmt(store.clock().now());
    let meta = &involved["metadata"];
    // Cluster-scoped objects' events live in "default", as the real recorder puts them.
    let ns = meta["namespace"].as_str().unwrap_or("default").to_string();
    let uid = meta["uid"].clone();
    let component = source.split_once('@').map_or(source, |(c, _)| c);
    let same = |e: &Value| {
        e["involvedObject"]["uid"] == uid
            && e["reason"] == reason
            && e["message"] == message
            && e["type"] == type_
            && e["source"]["component"] == component
            && e["involvedObject"]["fieldPath"].as_str() == field_path
    };
    // Narrowed by the stored selectable fields first: only candidates are decoded.
    let uid_s = uid.as_str().unwrap_or("");
    let (_, candidates) = store.list_stored(Kind::Event, Some(&ns), |e| {
        e.field("involvedObject.uid") == Some(uid_s)
            && e.field("reason") == Some(reason)
            && e.field("type") == Some(type_)
    });
    let existing: Vec<Value> = candidates
        .iter()
        .map(|e| e.value())
        .filter(|e| same(e))
        .collect();
    if let Some(e) = existing.first() {
        let n = e["metadata"]["name"].as_str().unwrap_or("").to_string();
        let _ = store.update(Kind::Event, &ns, &n, |e| {
            e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
            e["lastTimestamp"] = json!(now);
            Ok(())
        });
        return;
    }
    let ev = event_json(involved, field_path, type_, reason, message, source, &now);
    let _ = store.create(Kind::Event, ev);
    trim(store);
}

/// Deletes the oldest events once there are clearly more than [`EVENT_CAP`] (in batches, so
/// the scan is amortised).
fn trim(store: &Store) {
    if store.count(Kind::Event) <= EVENT_CAP + EVENT_CAP / 10 {
        return;
    }
    let (_, mut all) = store.list(Kind::Event, None);
    all.sort_by(|a, b| {
        let ka = (a["lastTimestamp"].as_str(), super::super::store::rv_of(a));
        let kb = (b["lastTimestamp"].as_str(), super::super::store::rv_of(b));
        ka.cmp(&kb)
    });
    let excess = all.len() - EVENT_CAP;
    for e in all.into_iter().take(excess) {
        let (ns, name) = super::util::key_of(&e);
        let _ = store.delete(Kind::Event, &ns, &name);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sim::clock::SimClock;

    #[test]
    fn identical_events_bump_count() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 100);
        let pod = store
            .create(
                Kind::Pod,
                json!({"metadata": {"name": "p", "namespace": "default"}}),
            )
            .unwrap();
        record(
            &store,
            &pod,
            "Normal",
            "Killing",
            "Stopping container p",
            "kubelet@node0",
        );
        record(
            &store,
            &pod,
            "Normal",
            "Killing",
            "Stopping container p",
            "kubelet@node0",
        );
        record(&store, &pod, "Normal", "Pulled", "pulled", "kubelet@node0");
        let (_, evs) = store.list(Kind::Event, Some("default"));
        assert_eq!(evs.len(), 2);
        let killing = evs.iter().find(|e| e["reason"] == "Killing").unwrap();
        assert_eq!(killing["count"], 2);
        assert_eq!(killing["source"]["host"], "node0");
        assert_eq!(killing["involvedObject"]["kind"], "Pod");
        assert!(
            killing["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("p.")
        );
    }
}
