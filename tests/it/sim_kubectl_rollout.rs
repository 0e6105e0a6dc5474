//! Real kubectl (1.27, 1.32, 1.37) through a Deployment's life: `rollout status`, `history`
//! with CHANGE-CAUSE, `pause` holding a template change, `resume`, and `undo`, which renumbers
//! the revision it brings back, all in kubectl's words as against a real cluster.

use std::time::Duration;

use kubedrain::sim::Kind;

use crate::sim_kubectl::Kubectl;

const VERSIONS: [u32; 3] = [27, 32, 37];

/// `rollout history`'s table, one whitespace-normalised line per row.
async fn history(k: &Kubectl) -> Vec<String> {
    let out = k.ok(&["rollout", "history", "deployment/web"]).await;
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

async fn rolled_out(k: &Kubectl, minor: u32) {
    let out = k
        .ok(&["rollout", "status", "deployment/web", "--timeout=120s"])
        .await;
    assert!(
        out.contains("deployment \"web\" successfully rolled out"),
        "1.{minor}: {out}"
    );
}

/// Waits until the controllers have seen the Deployment's latest spec.
async fn observed(k: &Kubectl) -> std::sync::Arc<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let d = k
            .sim
            .store()
            .get(Kind::Deployment, "default", "web")
            .unwrap();
        if d["status"]["observedGeneration"] == d["metadata"]["generation"] {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never observed: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn web_replicasets(k: &Kubectl) -> usize {
    let (_, rss) = k
        .sim
        .store()
        .list_where(Kind::ReplicaSet, Some("default"), |r| {
            r["metadata"]["labels"]["app"] == "web"
        });
    rss.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_rollout_pause_resume_undo_and_history() {
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 10.0).await else {
            continue;
        };
        let out = k
            .ok(&[
                "create",
                "deployment",
                "web",
                "--image=nginx:1.25.3",
                "--replicas=3",
            ])
            .await;
        assert_eq!(out.trim(), "deployment.apps/web created");
        rolled_out(&k, minor).await;
        k.ok(&["set", "image", "deployment/web", "nginx=nginx:1.27.0"])
            .await;
        k.ok(&[
            "annotate",
            "deployment/web",
            "kubernetes.io/change-cause=image 1.27.0",
        ])
        .await;
        rolled_out(&k, minor).await;
        assert_eq!(
            history(&k).await,
            [
                "deployment.apps/web",
                "REVISION CHANGE-CAUSE",
                "1 <none>",
                "2 image 1.27.0"
            ],
            "1.{minor}"
        );

        // Paused: the template change is observed and held (no third ReplicaSet).
        let out = k.ok(&["rollout", "pause", "deployment/web"]).await;
        assert_eq!(out.trim(), "deployment.apps/web paused", "1.{minor}");
        k.ok(&["set", "image", "deployment/web", "nginx=nginx:1.27.1"])
            .await;
        k.ok(&[
            "annotate",
            "--overwrite",
            "deployment/web",
            "kubernetes.io/change-cause=image 1.27.1",
        ])
        .await;
        let d = observed(&k).await;
        let progressing = d["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap()
            .clone();
        assert_eq!(progressing["reason"], "DeploymentPaused", "1.{minor}");
        assert_eq!(progressing["status"], "Unknown", "1.{minor}");
        assert_eq!(
            web_replicasets(&k),
            2,
            "1.{minor}: paused, no new ReplicaSet"
        );
        let o = k.run(&["rollout", "undo", "deployment/web"]).await;
        assert_eq!(o.code, 1, "1.{minor}");
        assert!(
            o.stderr.contains(
                "you cannot rollback a paused deployment; resume it first with \
                 'kubectl rollout resume' and try again"
            ),
            "1.{minor}: {}",
            o.stderr
        );
        let out = k.ok(&["rollout", "resume", "deployment/web"]).await;
        assert_eq!(out.trim(), "deployment.apps/web resumed", "1.{minor}");
        rolled_out(&k, minor).await;

        // Undo: revision 2's ReplicaSet comes back as revision 4; 2 is no more.
        let out = k.ok(&["rollout", "undo", "deployment/web"]).await;
        assert_eq!(out.trim(), "deployment.apps/web rolled back", "1.{minor}");
        rolled_out(&k, minor).await;
        assert_eq!(
            history(&k).await,
            [
                "deployment.apps/web",
                "REVISION CHANGE-CAUSE",
                "1 <none>",
                "3 image 1.27.1",
                "4 image 1.27.0"
            ],
            "1.{minor}"
        );
        assert_eq!(web_replicasets(&k), 3, "1.{minor}: the old one reused");
        let out = k
            .ok(&["rollout", "history", "deployment/web", "--revision=4"])
            .await;
        assert!(
            out.contains("deployment.apps/web with revision #4") && out.contains("nginx:1.27.0"),
            "1.{minor}: {out}"
        );
        let o = k
            .run(&["rollout", "undo", "deployment/web", "--to-revision=2"])
            .await;
        assert_eq!(o.code, 1, "1.{minor}");
        assert!(
            o.stderr
                .contains("unable to find specified revision 2 in history"),
            "1.{minor}: {}",
            o.stderr
        );
        let out = k.ok(&["describe", "deployment", "web"]).await;
        assert!(
            out.contains("ScalingReplicaSet") && out.contains("Scaled down replica set web-"),
            "1.{minor}: {out}"
        );
        k.sim.stop().await;
    }
}
