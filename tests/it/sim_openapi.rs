//! The simulator's OpenAPI v2 (gnostic protobuf and JSON) and v3 documents, through real
//! kubectl 1.27, 1.32 and 1.37: kubectl ≤ 1.28 validates every manifest against `/openapi/v2`
//! (it could not `create -f`, `apply`, `replace`, `edit` or `diff` while that was a 404), and
//! `explain` reads the schemas on every version.

use std::path::Path;

use kubedrain::sim::Kind;

use crate::sim_kubectl::Kubectl;

const MINORS: [u32; 3] = [27, 32, 37];

fn manifest(dir: &Path, file: &str, replicas: u32) -> String {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: default}}\n\
             spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  \
             template:\n    metadata: {{labels: {{app: web}}}}\n    \
             spec: {{containers: [{{name: web, image: nginx}}]}}\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn replicas(k: &Kubectl) -> i64 {
    let d = k.sim.store().get(Kind::Deployment, "default", "web");
    d.expect("deployment web")["spec"]["replicas"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_apply_diff_replace_and_edit_on_every_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let two = manifest(dir.path(), "two.yaml", 2);
    let four = manifest(dir.path(), "four.yaml", 4);
    // `kubectl edit` runs $EDITOR on a temp file: a script that sets replicas to 3.
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/replicas: 4/replicas: 3/' \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    for minor in MINORS {
        let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
            continue;
        };
        let out = k.ok(&["apply", "-f", &two]).await;
        assert_eq!(out.trim(), "deployment.apps/web created", "1.{minor}");
        assert_eq!(replicas(&k), 2);

        // diff exits 1 when there are differences, and shows them.
        let d = k.run(&["diff", "-f", &four]).await;
        assert_eq!(d.code, 1, "1.{minor} diff: {}{}", d.stdout, d.stderr);
        assert!(
            d.stdout.contains("-  replicas: 2"),
            "1.{minor}: {}",
            d.stdout
        );
        assert!(
            d.stdout.contains("+  replicas: 4"),
            "1.{minor}: {}",
            d.stdout
        );

        let out = k.ok(&["replace", "-f", &four]).await;
        assert_eq!(out.trim(), "deployment.apps/web replaced", "1.{minor}");
        assert_eq!(replicas(&k), 4);

        let out = k
            .run_with_env(
                &["edit", "deploy", "web"],
                &[("EDITOR", editor.as_os_str())],
            )
            .await;
        assert_eq!(out.code, 0, "1.{minor} edit: {}", out.stderr);
        assert_eq!(out.stdout.trim(), "deployment.apps/web edited", "1.{minor}");
        assert_eq!(replicas(&k), 3);

        let out = k.ok(&["explain", "deployment.spec.replicas"]).await;
        assert!(out.contains("KIND:       Deployment"), "1.{minor}: {out}");
        assert!(out.contains("replicas <integer>"), "1.{minor}: {out}");
        let out = k.ok(&["explain", "pod.spec.nodeName"]).await;
        assert!(
            out.contains("NodeName indicates in which node this pod is scheduled"),
            "1.{minor}: {out}"
        );
    }
}
