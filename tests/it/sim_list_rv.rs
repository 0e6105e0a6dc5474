//! Lists at a resourceVersion, as the apiserver serves them: `Exact` gives the objects as they
//! were then (changes since undone), `NotOlderThan` the latest state unless the version is not
//! reached yet (504, ResourceVersionTooLarge), compacted history 410, and the parameter
//! mistakes a real server refuses.

use crate::common::*;

use kubedrain::sim::Kind;
use serde_json::{Value, json};

fn names(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["labels"]["app"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn pair(n: &str, app: &str) -> (String, String) {
    (n.to_string(), app.to_string())
}

#[tokio::test]
async fn exact_lists_show_the_past_and_the_rest_answer_like_the_apiserver() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    let rv = || sim.store().resource_version();
    put(&sim, Kind::Pod, pod("default", "a", "web", "n1"));
    let after_a = rv();
    put(&sim, Kind::Pod, pod("default", "b", "web", "n1"));
    let after_b = rv();
    sim.store()
        .update(Kind::Pod, "default", "a", |p| {
            p["metadata"]["labels"]["app"] = json!("api");
            Ok(())
        })
        .unwrap();
    let after_edit = rv();
    sim.store().delete(Kind::Pod, "default", "b").unwrap();
    let after_delete = rv();
    let exact = |at: u64| {
        format!("/api/v1/namespaces/default/pods?resourceVersion={at}&resourceVersionMatch=Exact")
    };
    for (at, want) in [
        (after_a, vec![pair("a", "web")]),
        (after_b, vec![pair("a", "web"), pair("b", "web")]),
        (after_edit, vec![pair("a", "api"), pair("b", "web")]),
        (after_delete, vec![pair("a", "api")]),
    ] {
        let r = h.get(&exact(at)).await;
        assert_eq!(r.code, 200, "{:?}", r.body);
        assert_eq!(names(&r.body), want, "at {at}");
        assert_eq!(r.body["metadata"]["resourceVersion"], at.to_string());
    }
    // NotOlderThan (or no match given): the latest state; a version not reached is 504.
    let r = h
        .get(&format!(
            "/api/v1/pods?resourceVersion={after_a}&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    assert_eq!(names(&r.body), vec![pair("a", "api")]);
    let r = h
        .get(&format!(
            "/api/v1/pods?resourceVersion={}",
            after_delete + 100
        ))
        .await;
    assert_eq!(r.code, 504, "{:?}", r.body);
    assert_eq!(r.body["reason"], "Timeout");
    assert_eq!(
        r.body["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    // The parameter mistakes.
    for (path, says) in [
        (
            "/api/v1/pods?resourceVersionMatch=Exact".to_string(),
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ),
        (
            "/api/v1/pods?resourceVersion=0&resourceVersionMatch=Exact".to_string(),
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
        ),
        (
            format!("/api/v1/pods?resourceVersion={after_a}&resourceVersionMatch=Newest"),
            "supported values: \"Exact\", \"NotOlderThan\"",
        ),
        (
            format!("/api/v1/pods?resourceVersion={after_a}&continue=kds.1.1"),
            "specifying resource version is not allowed when using continue",
        ),
    ] {
        let r = h.get(&path).await;
        assert_eq!(r.code, 400, "{path}");
        let msg = r.body["message"].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{path}: {msg}");
    }
    // Compacted history: an exact list that far back is gone.
    sim.store().compact();
    let r = h.get(&exact(after_b)).await;
    assert_eq!(r.code, 410, "{:?}", r.body);
    assert_eq!(r.body["reason"], "Expired");
}

/// A request body over the apiserver's 3 MiB is 413 in its words; one under it is read.
#[tokio::test]
async fn a_body_over_3_mib_is_413() {
    let sim = static_sim().await;
    let h = Http::new(&sim);
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "big", "namespace": "default"}, "data": {}});
    cm["data"]["x"] = json!("a".repeat(3 * 1024 * 1024));
    let r = h.post("/api/v1/namespaces/default/configmaps", &cm).await;
    assert_eq!(r.code, 413, "{:?}", r.body["message"]);
    assert_eq!(r.body["reason"], "RequestEntityTooLarge");
    assert_eq!(
        r.body["message"],
        "Request entity too large: limit is 3145728"
    );
    cm["data"]["x"] = json!("a".repeat(512 * 1024));
    cm["metadata"]["name"] = json!("fits");
    let r = h.post("/api/v1/namespaces/default/configmaps", &cm).await;
    assert_eq!(r.code, 201, "{:?}", r.body["message"]);
}
