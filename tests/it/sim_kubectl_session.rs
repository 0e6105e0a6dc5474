//! One kubectl session, as a student types it in a lesson, on kubectl 1.27, 1.32 and 1.37
//! against the built-in cluster: `cluster-info`, `create -f`, `apply`, `diff`, `edit` (through
//! `EDITOR`), `explain`, `rollout restart / status / history / undo`, `logs`, `auth can-i`,
//! `get all`, `describe node` and `delete --cascade=foreground`. Each step's output is checked
//! against what a real v1.25 cluster answers (the lines that do not depend on time, ports or
//! generated names, exactly).

use std::ffi::OsStr;
use std::path::Path;

use crate::sim_kubectl::Kubectl;

const VERSIONS: [u32; 3] = [27, 32, 37];

const LESSON: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: lesson
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: lesson}
  template:
    metadata:
      labels: {app: lesson}
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

/// The lesson's files: v1, v1 with 3 replicas, v2 (a new image), and an EDITOR script.
fn files(dir: &Path) -> [String; 4] {
    let v1 = dir.join("lesson.yaml");
    let v1_3 = dir.join("lesson3.yaml");
    let v2 = dir.join("lesson-v2.yaml");
    let editor = dir.join("editor.sh");
    std::fs::write(&v1, LESSON).unwrap();
    std::fs::write(&v1_3, LESSON.replace("replicas: 2", "replicas: 3")).unwrap();
    let v2_text = LESSON
        .replace("replicas: 2", "replicas: 3")
        .replace("nginx:1.25", "nginx:1.26");
    std::fs::write(&v2, v2_text).unwrap();
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/replicas: 3/replicas: 2/' \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    [v1, v1_3, v2, editor].map(|p| p.display().to_string())
}

/// The REVISION column of `rollout history`.
async fn revisions(k: &Kubectl) -> Vec<String> {
    let out = k.ok(&["rollout", "history", "deploy/lesson"]).await;
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("deployment.apps/lesson "), "{out}");
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["REVISION", "CHANGE-CAUSE"]),
        "{out}"
    );
    lines
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// `rollout status` until the rollout is done: its last line.
async fn rolled_out(k: &Kubectl, minor: u32) {
    let out = k
        .ok(&["rollout", "status", "deploy/lesson", "--timeout=120s"])
        .await;
    assert_eq!(
        out.lines().last(),
        Some("deployment \"lesson\" successfully rolled out"),
        "1.{minor}: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lessons_kubectl_session_answers_as_a_real_cluster() {
    // cluster-info colours its words even into a pipe, as it does on a real cluster.
    let ansi = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 10.0).await else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let [v1, v1_3, v2, editor] = files(dir.path());
        let v = format!("1.{minor}");

        let info = ansi
            .replace_all(&k.ok(&["cluster-info"]).await, "")
            .into_owned();
        let lines: Vec<&str> = info.lines().collect();
        assert!(
            lines[0].starts_with("Kubernetes control plane is running at http"),
            "{v}: {info}"
        );
        assert!(
            lines[1].starts_with("CoreDNS is running at http")
                && lines[1].ends_with("/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy"),
            "{v}: {info}"
        );

        let out = k.ok(&["create", "-f", &v1]).await;
        assert_eq!(out, "deployment.apps/lesson created\n", "{v}");
        // `apply` over a created object: kubectl's own warning, then configured.
        let o = k.run(&["apply", "-f", &v1_3]).await;
        assert_eq!(
            o.stdout, "deployment.apps/lesson configured\n",
            "{v}: {}",
            o.stderr
        );
        assert!(
            o.stderr.starts_with("Warning: resource deployments/lesson is missing the kubectl.kubernetes.io/last-applied-configuration annotation"),
            "{v}: {}",
            o.stderr
        );

        // `diff`: a server-side dry run; the image and the generation the change would bump.
        let o = k.run(&["diff", "-f", &v2]).await;
        assert_eq!(
            o.code, 1,
            "{v}: diff exits 1 when there are differences: {}",
            o.stderr
        );
        let changed: Vec<&str> = o
            .stdout
            .lines()
            .filter(|l| {
                (l.starts_with('-') || l.starts_with('+'))
                    && !l.starts_with("---")
                    && !l.starts_with("+++")
            })
            .collect();
        assert_eq!(
            changed,
            [
                "-  generation: 2",
                "+  generation: 3",
                "-      - image: nginx:1.25",
                "+      - image: nginx:1.26"
            ],
            "{v}: {}",
            o.stdout
        );

        let o = k
            .run_with_env(
                &["edit", "deploy/lesson"],
                &[("EDITOR", OsStr::new(&editor))],
            )
            .await;
        assert_eq!(
            o.stdout, "deployment.apps/lesson edited\n",
            "{v}: {}",
            o.stderr
        );
        let replicas = k
            .ok(&["get", "deploy", "lesson", "-o", "jsonpath={.spec.replicas}"])
            .await;
        assert_eq!(replicas, "2", "{v}: the edit took");

        let explain = k.ok(&["explain", "deployment.spec.replicas"]).await;
        assert!(
            explain.contains("KIND:       Deployment")
                && explain.contains("FIELD: replicas <integer>")
                && explain.contains("Number of desired pods."),
            "{v}: {explain}"
        );

        rolled_out(&k, minor).await;
        let out = k.ok(&["rollout", "restart", "deploy/lesson"]).await;
        assert_eq!(out, "deployment.apps/lesson restarted\n", "{v}");
        rolled_out(&k, minor).await;
        assert_eq!(revisions(&k).await, ["1", "2"], "{v}");
        let out = k.ok(&["rollout", "undo", "deploy/lesson"]).await;
        assert_eq!(out, "deployment.apps/lesson rolled back\n", "{v}");
        rolled_out(&k, minor).await;
        // The template of revision 1 is revision 3 now: 1 is gone from the history.
        assert_eq!(revisions(&k).await, ["2", "3"], "{v}");

        let logs = k.ok(&["logs", "deploy/lesson", "--tail=1"]).await;
        assert_eq!(logs.lines().count(), 1, "{v}: {logs}");
        // The start line, or a beat once the pod has run a minute (a slow machine's lesson).
        assert!(
            logs.contains("container \"web\"") || logs.starts_with("web: running for"),
            "{v}: {logs}"
        );

        // (RBAC and `--as` are sim_kubectl_auth's: this simulator runs without authorization,
        // as `kubedrain sim --plain-http` does.)
        let o = k.run(&["auth", "can-i", "delete", "nodes"]).await;
        assert_eq!(
            (o.code, o.stdout.as_str()),
            (0, "yes\n"),
            "{v}: {}",
            o.stderr
        );
        let all = k.ok(&["get", "all"]).await;
        for want in [
            "pod/lesson-",
            "service/kubernetes ",
            "deployment.apps/lesson ",
            "replicaset.apps/lesson-",
        ] {
            assert!(
                all.lines().any(|l| l.starts_with(want)),
                "{v}: {want} in {all}"
            );
        }

        let node = k.ok(&["describe", "node", "node0"]).await;
        let sections: Vec<&str> = node
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            .filter_map(|l| l.split(':').next())
            .collect();
        for want in [
            "Name",
            "Roles",
            "Labels",
            "Annotations",
            "CreationTimestamp",
            "Taints",
            "Unschedulable",
            "Lease",
            "Conditions",
            "Addresses",
            "Capacity",
            "Allocatable",
            "System Info",
            "PodCIDR",
            "Non-terminated Pods",
            "Allocated resources",
            "Events",
        ] {
            assert!(
                sections.contains(&want),
                "{v}: section {want} in {sections:?}"
            );
        }

        let out = k
            .ok(&["delete", "deploy", "lesson", "--cascade=foreground"])
            .await;
        // Newer kubectl (1.37 here, not 1.32) names the namespace it deleted from.
        assert!(
            out == "deployment.apps \"lesson\" deleted\n"
                || out == "deployment.apps \"lesson\" deleted from default namespace\n",
            "{v}: {out}"
        );
        // `delete` waits until the deployment is gone, and in the foreground it goes last:
        // its ReplicaSets and their pods are gone already.
        let o = k.run(&["get", "rs,pods", "-l", "app=lesson"]).await;
        assert_eq!(
            (o.stdout.as_str(), o.stderr.as_str()),
            ("", "No resources found in default namespace.\n"),
            "{v}"
        );
    }
}
