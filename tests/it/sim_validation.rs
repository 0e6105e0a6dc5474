//! Validation answers like a v1.25 API server: 422 `Invalid` with the field path in
//! `details.causes` and the server's message, and immutable fields on update
//! (`fieldValidation` and decoding are in `sim_field_validation`).

use kubedrain::sim::Kind;
use serde_json::{Value, json};

use crate::common::{Http, assert_status, static_sim};

pub(crate) fn containers() -> Value {
    json!([{"name": "c", "image": "nginx:1.25"}])
}

pub(crate) fn pod(meta: Value, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
}

pub(crate) fn good_pod(name: &str) -> Value {
    pod(json!({"name": name}), json!({"containers": containers()}))
}

pub(crate) fn deploy(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
}

pub(crate) fn tpl(labels: Value, spec: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": spec})
}

pub(crate) fn web_tpl() -> Value {
    tpl(json!({"app": "web"}), json!({"containers": containers()}))
}

pub(crate) fn sel() -> Value {
    json!({"matchLabels": {"app": "web"}})
}

fn node_with(taints: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"taints": taints}})
}

pub(crate) const PODS: &str = "/api/v1/namespaces/default/pods";
pub(crate) const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// (what, path, body, cause reason, field of the first cause)
fn cases() -> Vec<(
    &'static str,
    &'static str,
    Value,
    &'static str,
    &'static str,
)> {
    let long = "a".repeat(254);
    let mut job_tpl = tpl(json!({}), json!({"containers": containers()}));
    let mut never = web_tpl();
    never["spec"]["restartPolicy"] = json!("Never");
    job_tpl["metadata"] = json!({});
    vec![
        (
            "bad pod name",
            PODS,
            good_pod("Bad_Name"),
            "FieldValueInvalid",
            "metadata.name",
        ),
        (
            "pod name too long",
            PODS,
            good_pod(&long),
            "FieldValueInvalid",
            "metadata.name",
        ),
        (
            "namespace name with a dot",
            "/api/v1/namespaces",
            json!({"metadata": {"name": "a.b"}}),
            "FieldValueInvalid",
            "metadata.name",
        ),
        (
            "bad generateName",
            PODS,
            pod(
                json!({"generateName": "Web_"}),
                json!({"containers": containers()}),
            ),
            "FieldValueInvalid",
            "metadata.generateName",
        ),
        (
            "label key with a space",
            PODS,
            pod(
                json!({"name": "p", "labels": {"bad key": "x"}}),
                json!({"containers": containers()}),
            ),
            "FieldValueInvalid",
            "metadata.labels",
        ),
        (
            "label value starting with -",
            PODS,
            pod(
                json!({"name": "p", "labels": {"app": "-x"}}),
                json!({"containers": containers()}),
            ),
            "FieldValueInvalid",
            "metadata.labels",
        ),
        (
            "label value of 64 characters",
            PODS,
            pod(
                json!({"name": "p", "labels": {"app": "v".repeat(64)}}),
                json!({"containers": containers()}),
            ),
            "FieldValueInvalid",
            "metadata.labels",
        ),
        (
            "annotation key with two slashes",
            PODS,
            pod(
                json!({"name": "p", "annotations": {"a/b/c": "x"}}),
                json!({"containers": containers()}),
            ),
            "FieldValueInvalid",
            "metadata.annotations",
        ),
        (
            "pod without containers",
            PODS,
            pod(json!({"name": "p"}), json!({})),
            "FieldValueRequired",
            "spec.containers",
        ),
        (
            "container without name",
            PODS,
            pod(
                json!({"name": "p"}),
                json!({"containers": [{"image": "nginx"}]}),
            ),
            "FieldValueRequired",
            "spec.containers[0].name",
        ),
        (
            "container without image",
            PODS,
            pod(json!({"name": "p"}), json!({"containers": [{"name": "c"}]})),
            "FieldValueRequired",
            "spec.containers[0].image",
        ),
        (
            "duplicate container names",
            PODS,
            pod(
                json!({"name": "p"}),
                json!({"containers": [{"name": "c", "image": "a"}, {"name": "c", "image": "b"}]}),
            ),
            "FieldValueDuplicate",
            "spec.containers[1].name",
        ),
        (
            "container port out of range",
            PODS,
            pod(
                json!({"name": "p"}),
                json!({"containers": [{"name": "c", "image": "a", "ports": [{"containerPort": 70000}]}]}),
            ),
            "FieldValueInvalid",
            "spec.containers[0].ports[0].containerPort",
        ),
        (
            "unknown restartPolicy",
            PODS,
            pod(
                json!({"name": "p"}),
                json!({"restartPolicy": "Sometimes", "containers": containers()}),
            ),
            "FieldValueNotSupported",
            "spec.restartPolicy",
        ),
        (
            "toleration operator",
            PODS,
            pod(
                json!({"name": "p"}),
                json!({"containers": containers(), "tolerations": [{"key": "k", "operator": "Maybe"}]}),
            ),
            "FieldValueNotSupported",
            "spec.tolerations[0].operator",
        ),
        (
            "deployment without selector",
            DEPLOYS,
            deploy(json!({"template": web_tpl()})),
            "FieldValueRequired",
            "spec.selector",
        ),
        (
            "selector not matching the template",
            DEPLOYS,
            deploy(json!({"selector": {"matchLabels": {"app": "other"}}, "template": web_tpl()})),
            "FieldValueInvalid",
            "spec.template.metadata.labels",
        ),
        (
            "empty selector",
            DEPLOYS,
            deploy(json!({"selector": {}, "template": web_tpl()})),
            "FieldValueInvalid",
            "spec.selector",
        ),
        (
            "negative replicas",
            DEPLOYS,
            deploy(json!({"replicas": -1, "selector": sel(), "template": web_tpl()})),
            "FieldValueInvalid",
            "spec.replicas",
        ),
        (
            "deployment pods that do not restart",
            DEPLOYS,
            deploy(json!({"selector": sel(), "template": never})),
            "FieldValueNotSupported",
            "spec.template.spec.restartPolicy",
        ),
        (
            "selector operator",
            DEPLOYS,
            deploy(
                json!({"selector": {"matchExpressions": [{"key": "app", "operator": "Is", "values": ["web"]}]}, "template": web_tpl()}),
            ),
            "FieldValueInvalid",
            "spec.selector.matchExpressions[0].operator",
        ),
        (
            "taint effect Bogus",
            "/api/v1/nodes",
            node_with(json!([{"key": "k", "effect": "Bogus"}])),
            "FieldValueNotSupported",
            "spec.taints[0].effect",
        ),
        (
            "taint without effect",
            "/api/v1/nodes",
            node_with(json!([{"key": "k"}])),
            "FieldValueRequired",
            "spec.taints[0].effect",
        ),
        (
            "job that restarts Always",
            "/apis/batch/v1/namespaces/default/jobs",
            json!({"metadata": {"name": "j"}, "spec": {"template": job_tpl}}),
            "FieldValueNotSupported",
            "spec.template.spec.restartPolicy",
        ),
        (
            "statefulset pod management",
            "/apis/apps/v1/namespaces/default/statefulsets",
            json!({"metadata": {"name": "s"}, "spec": {"podManagementPolicy": "Random", "selector": sel(), "template": web_tpl()}}),
            "FieldValueInvalid",
            "spec.podManagementPolicy",
        ),
    ]
}

#[tokio::test]
async fn invalid_objects_are_answered_422_with_field_paths() {
    let sim = static_sim().await;
    let http = Http::new(&sim);
    let table = cases();
    assert!(table.len() >= 20);
    for (what, path, body, reason, field) in table {
        let r = http.post(path, &body).await;
        assert_status(&r, 422, "Invalid");
        let causes = r.body["details"]["causes"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no causes: {r:?}"));
        assert_eq!(causes[0]["reason"], reason, "{what}: {r:?}");
        assert_eq!(causes[0]["field"], field, "{what}: {r:?}");
        let msg = r.body["message"].as_str().unwrap();
        assert!(
            msg.contains(" is invalid: ") && msg.contains(field),
            "{what}: {msg}"
        );
        let kind = body["kind"].as_str().unwrap_or("");
        if !kind.is_empty() {
            assert_eq!(
                r.body["details"]["kind"], kind,
                "{what}: details name the Kind"
            );
        }
    }
    // Nothing invalid was stored.
    assert_eq!(sim.store().count(Kind::Pod), 0);
    assert_eq!(sim.store().count(Kind::Deployment), 0);
}

#[tokio::test]
async fn messages_are_the_apiservers_words() {
    let sim = static_sim().await;
    let http = Http::new(&sim);
    let r = http
        .post(DEPLOYS, &deploy(json!({"template": web_tpl()})))
        .await;
    assert_eq!(
        r.body["message"],
        "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`]"
    );
    assert_eq!(r.body["details"]["group"], "apps");
    let r = http.post(PODS, &good_pod("Bad_Name")).await;
    assert_eq!(
        r.body["message"],
        "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    let r = http
        .post(
            "/api/v1/nodes",
            &node_with(json!([{"key": "k", "effect": "Bogus"}])),
        )
        .await;
    assert_eq!(
        r.body["details"]["causes"][0]["message"],
        "Unsupported value: \"Bogus\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
    );
}

#[tokio::test]
async fn pod_spec_and_selectors_are_immutable() {
    let sim = static_sim().await;
    let http = Http::new(&sim);
    let mut p = good_pod("p");
    p["spec"]["nodeName"] = json!("node-a");
    assert_eq!(http.post(PODS, &p).await.code, 201);
    let r = http
        .patch(
            &format!("{PODS}/p"),
            "application/merge-patch+json",
            r#"{"spec":{"nodeName":"node-b"}}"#,
        )
        .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec");
    assert_eq!(
        r.body["details"]["causes"][0]["reason"],
        "FieldValueForbidden"
    );
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.starts_with("Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"), "{msg}");
    assert!(
        msg.contains("- \tNodeName: \"node-a\",\n+ \tNodeName: \"node-b\","),
        "{msg}"
    );
    // An image change is allowed.
    let r = http
        .patch(
            &format!("{PODS}/p"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}"#,
        )
        .await;
    assert_eq!(r.code, 200, "{r:?}");

    let d = deploy(json!({"selector": sel(), "template": web_tpl()}));
    assert_eq!(http.post(DEPLOYS, &d).await.code, 201);
    let r = http
        .patch(&format!("{DEPLOYS}/web"), "application/merge-patch+json",
            r#"{"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}}}}}"#)
        .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.selector");
    assert!(
        r.body["details"]["causes"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("field is immutable")
    );
    // A PUT is checked the same way.
    let mut cur = http.get(&format!("{DEPLOYS}/web")).await.body;
    cur["spec"]["replicas"] = json!(-2);
    let r = http
        .send(
            "PUT",
            &format!("{DEPLOYS}/web"),
            &[("content-type", "application/json")],
            Some(&cur.to_string()),
        )
        .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.replicas");
}
