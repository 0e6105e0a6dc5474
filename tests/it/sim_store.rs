//! The store's compact form seen from outside: large lists streamed from the stored JSON are
//! one valid document, selectors match on the stored fields, and the watch history stays
//! within its byte bound under churn (older versions answer 410 Gone).

use crate::common;

use std::sync::Arc;

use common::*;
use kubedrain::sim::store::{Store, StoreError};
use kubedrain::sim::{Kind, SimClock};
use serde_json::json;

#[tokio::test]
async fn a_list_larger_than_a_chunk_is_one_document_with_every_item_in_order() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    for i in 0..2_500 {
        let node = if i % 2 == 0 { "n1" } else { "n2" };
        put(
            &sim,
            Kind::Pod,
            pod("default", &format!("p{i:04}"), "web", node),
        );
    }
    let all = h.get("/api/v1/pods").await;
    assert_eq!(all.code, 200);
    let names: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2_500);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    assert_eq!(all.body["kind"], "PodList");
    // A page past a chunk boundary and its continuation.
    let first = h.get("/api/v1/pods?limit=1500").await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 1_500);
    assert_eq!(first.body["metadata"]["remainingItemCount"], 1_000);
    let token = first.body["metadata"]["continue"].as_str().unwrap();
    let rest = h
        .get(&format!("/api/v1/pods?limit=1500&continue={token}"))
        .await;
    assert_eq!(rest.body["items"][0]["metadata"]["name"], "p1500");
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1_000);
    // Field and label selectors read the stored fields.
    let on_n2 = h
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn2,metadata.name!%3Dp0001")
        .await;
    assert_eq!(on_n2.body["items"].as_array().unwrap().len(), 1_249);
    assert_eq!(
        h.get("/api/v1/pods?labelSelector=app%3Ddb").await.body["items"],
        json!([])
    );
}

#[test]
fn history_stays_within_its_byte_bound_and_older_versions_are_gone() {
    let store = Store::with_history(Arc::new(SimClock::new(1.0)), 1_000_000, 64 << 10);
    store
        .create(Kind::Pod, pod("default", "churned", "web", "n1"))
        .unwrap();
    let first = store.resource_version();
    for i in 0..2_000 {
        store
            .update(Kind::Pod, "default", "churned", |p| {
                p["metadata"]["annotations"] = json!({"seq": i.to_string()});
                Ok(())
            })
            .unwrap();
    }
    let (len, bytes) = store.history_len();
    assert!(bytes <= 64 << 10, "history holds {bytes} bytes");
    assert!(len > 10 && len < 2_000, "history holds {len} changes");
    assert!(matches!(
        store.watch(Kind::Pod, Some(first)),
        Err(StoreError::Gone { .. })
    ));
    let recent = store.resource_version() - 5;
    let w = store.watch(Kind::Pod, Some(recent)).unwrap();
    assert_eq!(w.backlog.len(), 5);
    assert_eq!(
        w.backlog[4].value()["metadata"]["annotations"]["seq"],
        "1999"
    );
}
