//! Server-side apply against the built-in cluster, as against a real API server: the applied
//! fields become the manager's (`managedFields`, operation Apply, lists by key); a field
//! another manager changed since (`kubectl scale`, `kubectl set image`) is a 409 conflict
//! naming the manager and the field, unless forced; an apply needs a field manager.

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::common::{Http, assert_status};
use crate::sim_kubectl::Kubectl;

const VERSIONS: [u32; 3] = [27, 32, 37];

fn manifest(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\n  namespace: default\n\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: ssa}}\n  template:\n\
         \x20   metadata:\n      labels: {{app: ssa}}\n    spec:\n      containers:\n\
         \x20     - name: web\n        image: {image}\n"
    )
}

/// kubectl 1.27, 1.32 and 1.37: `apply --server-side`, then `scale` and `set image` take
/// their fields, and the next apply conflicts on exactly those, in the server's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply_conflicts_name_the_manager_and_field() {
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ssa.yaml");
        let f = file.to_str().unwrap();
        let write = |replicas, image| std::fs::write(&file, manifest(replicas, image)).unwrap();
        write(2, "nginx:1.25");
        let out = k.ok(&["apply", "--server-side", "-f", f]).await;
        assert!(
            out.contains("deployment.apps/ssa serverside-applied"),
            "1.{minor}: {out}"
        );
        // Applying the same again changes nothing and conflicts with nothing.
        k.ok(&["apply", "--server-side", "-f", f]).await;
        k.ok(&["scale", "deploy", "ssa", "--replicas=4"]).await;
        let out = k.run(&["apply", "--server-side", "-f", f]).await;
        assert_ne!(out.code, 0, "1.{minor}: the scaled replicas conflict");
        let first = out.stderr.lines().next().unwrap_or_default().to_string();
        assert!(
            first.starts_with("error: Apply failed with 1 conflict: conflict with \"kubectl")
                && first.ends_with("with subresource \"scale\" using apps/v1: .spec.replicas"),
            "1.{minor}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("--force-conflicts"), "kubectl's advice");
        // Co-owning: applying the value the other manager set is no conflict.
        write(4, "nginx:1.25");
        k.ok(&["apply", "--server-side", "-f", f]).await;
        k.ok(&["set", "image", "deploy/ssa", "web=nginx:1.26"])
            .await;
        let out = k.run(&["apply", "--server-side", "-f", f]).await;
        let want = "error: Apply failed with 1 conflict: conflict with \"kubectl-set\" using \
                    apps/v1: .spec.template.spec.containers[name=\"web\"].image";
        assert_eq!(out.stderr.lines().next(), Some(want), "1.{minor}");
        k.ok(&["apply", "--server-side", "--force-conflicts", "-f", f])
            .await;
        let got = k
            .ok(&[
                "get",
                "deploy",
                "ssa",
                "-o",
                "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}",
            ])
            .await;
        assert_eq!(
            got.trim(),
            "4 nginx:1.25",
            "1.{minor}: forced, the applied values"
        );
        let yaml = k
            .ok(&[
                "get",
                "deploy",
                "ssa",
                "-o",
                "json",
                "--show-managed-fields",
            ])
            .await;
        let d: Value = serde_json::from_str(&yaml).unwrap();
        let mf = d["metadata"]["managedFields"].as_array().unwrap();
        let set = mf.iter().find(|e| e["manager"] == "kubectl-set");
        assert!(
            set.is_none(),
            "1.{minor}: forced, kubectl-set owns nothing: {mf:?}"
        );
        let applier = mf.iter().find(|e| e["operation"] == "Apply").unwrap();
        let web = &applier["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(
            web,
            &json!({".": {}, "f:image": {}, "f:name": {}}),
            "1.{minor}"
        );
    }
}

/// kube-rs: an apply without a field manager is the server's 422; a conflict is a 409 with
/// `FieldManagerConflict` causes; a field the manager stops applying is removed.
#[tokio::test]
async fn apply_needs_a_manager_and_lets_go_of_fields_it_no_longer_applies() {
    let sim = crate::common::static_sim().await;
    let http = Http::new(&sim);
    let path = "/api/v1/namespaces/default/configmaps/c";
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n";
    let r = http.patch(path, "application/apply-patch+yaml", body).await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(
        r.body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );

    let client = sim.client().await.unwrap();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client, "default");
    let cm = |data: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": data})
    };
    let me = PatchParams::apply("me");
    cms.patch("c", &me, &Patch::Apply(cm(json!({"a": "1", "b": "2"}))))
        .await
        .unwrap();
    cms.patch(
        "c",
        &PatchParams::apply("you"),
        &Patch::Apply(cm(json!({"a": "1"}))),
    )
    .await
    .unwrap();
    let err = cms
        .patch(
            "c",
            &PatchParams::apply("you"),
            &Patch::Apply(cm(json!({"b": "3"}))),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("not a Status: {err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"me\": .data.b"
    );
    // `me` stops applying b; `you` never owned it: b is gone, a (co-owned) stays.
    let c = cms
        .patch("c", &me, &Patch::Apply(cm(json!({"a": "1"}))))
        .await
        .unwrap();
    let data = c.data.unwrap_or_default();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["a"]);
}
