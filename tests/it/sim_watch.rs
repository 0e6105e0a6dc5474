//! Watches over real HTTP: ordered changes from a resourceVersion, bookmarks, selectors,
//! timeoutSeconds, and 410 Gone (an ERROR event after HTTP 200) for compacted versions.

use crate::common;

use std::time::Duration;

use common::*;
use kubedrain::sim::Kind;
use kubedrain::sim::{SimOptions, Simulator};
use serde_json::json;

fn rv(e: &serde_json::Value) -> u64 {
    e["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn watch_from_resource_version_sees_every_change_in_order() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "a", "web", "n1"));
    let list = h.get("/api/v1/pods").await;
    let from = list.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Changes made before the watch starts are replayed from history.
    put(&sim, Kind::Pod, pod("default", "b", "web", "n1"));
    let mut w = h
        .watch(&format!(
            "/api/v1/pods?watch=true&resourceVersion={from}&allowWatchBookmarks=true"
        ))
        .await;
    put(&sim, Kind::Node, node("n1", true, &[], "v1.25.4")); // another kind: not seen
    sim.store()
        .update(Kind::Pod, "default", "a", |p| {
            p["metadata"]["labels"]["x"] = json!("1");
            Ok(())
        })
        .unwrap();
    sim.store().delete(Kind::Pod, "default", "b").unwrap();
    put(&sim, Kind::Pod, pod("other", "c", "db", ""));

    let mut got = Vec::new();
    while got.len() < 4 {
        let e = w.next_change().await.expect("stream open");
        got.push((
            e["type"].as_str().unwrap().to_string(),
            e["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
            rv(&e),
        ));
    }
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|(t, n, _)| (t.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ADDED", "b"),
            ("MODIFIED", "a"),
            ("DELETED", "b"),
            ("ADDED", "c")
        ]
    );
    assert!(
        got.windows(2).all(|p| p[0].2 < p[1].2),
        "resourceVersions increase: {got:?}"
    );

    // Bookmarks come periodically and carry the latest version.
    let mut bookmark = None;
    for _ in 0..5 {
        let e = w
            .next_within(Duration::from_secs(5))
            .await
            .expect("stream open");
        if e["type"] == "BOOKMARK" {
            bookmark = Some(e);
            break;
        }
    }
    let bm = bookmark.expect("a BOOKMARK within a few intervals");
    assert_eq!(bm["object"]["kind"], "Pod");
    assert!(rv(&bm) >= got.last().unwrap().2);
}

#[tokio::test]
async fn watch_without_version_starts_with_current_state_and_filters() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "on-n1", "web", "n1"));
    put(&sim, Kind::Pod, pod("default", "on-n2", "web", "n2"));
    let mut w = h.watch("/api/v1/namespaces/default/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&timeoutSeconds=3").await;
    let e = w.next().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("on-n1"))
    );
    // A pod moving out of the selection is DELETED for this watch, one moving in is ADDED.
    sim.store()
        .update(Kind::Pod, "default", "on-n2", |p| {
            p["spec"]["nodeName"] = json!("n1");
            Ok(())
        })
        .unwrap();
    sim.store()
        .update(Kind::Pod, "default", "on-n1", |p| {
            p["spec"]["nodeName"] = json!("n3");
            Ok(())
        })
        .unwrap();
    let e = w.next().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("on-n2"))
    );
    let e = w.next().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("on-n1"))
    );
    // timeoutSeconds ends the stream (no bookmarks were asked for).
    assert!(w.next_within(Duration::from_secs(8)).await.is_none());
}

#[tokio::test]
async fn resumed_filtered_watch_sees_deletions_made_while_away() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "gone", "web", "n1"));
    put(&sim, Kind::Pod, pod("default", "moved", "web", "n1"));
    let from = sim.store().resource_version();
    // While no watch is open: one pod is deleted, one leaves the selection.
    sim.store().delete(Kind::Pod, "default", "gone").unwrap();
    sim.store()
        .update(Kind::Pod, "default", "moved", |p| {
            p["spec"]["nodeName"] = json!("n2");
            Ok(())
        })
        .unwrap();
    let mut w = h
        .watch(&format!(
            "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&resourceVersion={from}&timeoutSeconds=2"
        ))
        .await;
    let mut seen = Vec::new();
    while let Some(e) = w.next_within(Duration::from_secs(4)).await {
        seen.push((
            e["type"].as_str().unwrap_or("").to_string(),
            e["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ));
    }
    assert_eq!(
        seen,
        vec![
            ("DELETED".to_string(), "gone".to_string()),
            ("DELETED".to_string(), "moved".to_string())
        ]
    );
}

#[tokio::test]
async fn compacted_versions_get_410_gone_as_an_error_event() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "a", "web", "n1"));
    let old = sim.store().resource_version();
    put(&sim, Kind::Pod, pod("default", "b", "web", "n1"));
    sim.store().compact();
    let mut w = h
        .watch(&format!("/api/v1/pods?watch=true&resourceVersion={old}"))
        .await;
    let e = w.next().await.unwrap();
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["kind"], "Status");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    assert!(
        e["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version")
    );
    assert!(w.next().await.is_none(), "the stream ends after the error");

    // Injected: the next watch fails the same way even from a fresh version.
    sim.faults().gone_next_watches(1);
    let now = sim.store().resource_version();
    let mut w = h
        .watch(&format!("/api/v1/pods?watch=true&resourceVersion={now}"))
        .await;
    assert_eq!(w.next().await.unwrap()["object"]["code"], 410);
    let mut w = h
        .watch(&format!(
            "/api/v1/pods?watch=true&resourceVersion={now}&timeoutSeconds=1"
        ))
        .await;
    put(&sim, Kind::Pod, pod("default", "c", "web", "n1"));
    assert_eq!(w.next().await.unwrap()["type"], "ADDED");
}

const STREAMING_NODES: &str = "/api/v1/nodes?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true";

#[tokio::test]
async fn streaming_list_ends_initial_events_with_a_bookmark() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    apiserver_at(&sim, "v1.32.5");
    put(&sim, Kind::Node, node("n1", true, &[], "v1.25.4"));
    put(&sim, Kind::Node, node("n2", true, &[], "v1.25.4"));
    let mut w = h.watch(STREAMING_NODES).await;
    assert_eq!(w.next().await.unwrap()["type"], "ADDED");
    assert_eq!(w.next().await.unwrap()["type"], "ADDED");
    let bm = w.next().await.unwrap();
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(
        bm["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[tokio::test]
async fn streaming_lists_follow_the_servers_watch_list_gate() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    // Before 1.27 the parameter is unknown, and the resourceVersionMatch with it is refused
    // on a watch; from 1.27 the gate is off by default in 1.27–1.31 and 1.33.
    for (version, why) in [
        (
            "",
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch",
        ),
        (
            "v1.29.4",
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        ),
        (
            "v1.33.1",
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        ),
    ] {
        if !version.is_empty() {
            apiserver_at(&sim, version);
        }
        let r = h.get(STREAMING_NODES).await;
        assert_eq!(r.code, 422, "{version}: {}", r.body);
        assert_eq!(r.body["reason"], "Invalid");
        assert!(
            r.body["message"].as_str().unwrap().contains(why),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn stop_ends_open_watches() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    let mut w = h.watch("/api/v1/pods?watch=true").await;
    sim.stop().await;
    assert!(w.next_within(Duration::from_secs(5)).await.is_none());
}

#[tokio::test]
async fn selector_watch_from_a_version_reports_deletes_made_before_it_started() {
    // A drain lists the node's pods, evicts one (grace 0: gone at once), and only then its
    // watch connects: the DELETED must still come.
    let sim = static_sim().await;
    let h = Http::new(&sim);
    put(&sim, Kind::Pod, pod("default", "a", "web", "n1"));
    put(&sim, Kind::Pod, pod("default", "b", "web", "n1"));
    let list = h.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").await;
    let from = list.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    sim.store().delete(Kind::Pod, "default", "a").unwrap();
    // Created and deleted after the list: replayed as both.
    put(&sim, Kind::Pod, pod("default", "c", "web", "n1"));
    sim.store().delete(Kind::Pod, "default", "c").unwrap();
    let mut w = h
        .watch(&format!(
            "/api/v1/pods?watch=true&resourceVersion={from}&fieldSelector=spec.nodeName%3Dn1"
        ))
        .await;
    sim.store().delete(Kind::Pod, "default", "b").unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let e = w.next_change().await.expect("stream open");
        got.push(format!(
            "{} {}",
            e["type"].as_str().unwrap(),
            e["object"]["metadata"]["name"].as_str().unwrap()
        ));
    }
    assert_eq!(got, ["DELETED a", "ADDED c", "DELETED c", "DELETED b"]);
}

/// Without `timeoutSeconds` (or with 0) the server closes a watch after a random time in
/// [min-request-timeout, 2×), as the apiserver does (`--min-request-timeout`, 1800 s by
/// default): clients must watch again, and kubectl's `get -w` ends.
#[tokio::test]
async fn a_watch_without_timeout_seconds_is_closed_after_the_min_request_timeout() {
    let min = Duration::from_millis(400);
    let sim = Simulator::start(SimOptions {
        scenario: kubedrain::sim::server::EMPTY_SCENARIO.into(),
        controllers: false,
        min_request_timeout: min,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let h = Http::new(&sim);
    // A watch that asks for its own timeout keeps it, past the minimum (below).
    let mut asked = h.watch("/api/v1/pods?watch=true&timeoutSeconds=60").await;
    for path in [
        "/api/v1/pods?watch=true",
        "/api/v1/pods?watch=true&timeoutSeconds=0",
    ] {
        let started = tokio::time::Instant::now();
        let mut w = h.watch(path).await;
        assert!(
            w.next_within(Duration::from_secs(20)).await.is_none(),
            "{path}: closed by the server"
        );
        assert!(started.elapsed() >= min, "{path}: not before the minimum");
    }
    // Both closed after the minimum: the one that asked for 60 s is still open.
    put(&sim, Kind::Pod, pod("default", "late", "web", "n1"));
    let e = asked
        .next_within(Duration::from_secs(20))
        .await
        .expect("open past the minimum");
    assert_eq!(e["object"]["metadata"]["name"], "late");
}
