//! Whose cordon is it: `kubedrain cordon n; kubectl uncordon n; kubectl cordon n` leaves
//! kubedrain's annotations on a cordon someone else made, and `kubedrain uncordon n` refuses
//! without `--force`, naming who cordoned it (from the server's managedFields).

use crate::sim_kubectl::Kubectl;

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

async fn kubedrain(k: &Kubectl, dir: &tempfile::TempDir, args: &[&str]) -> (i32, String) {
    let kc = dir.path().join("kubeconfig");
    k.sim.write_kubeconfig(&kc).unwrap();
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .arg("--kubeconfig")
        .arg(&kc)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_later_cordon_is_not_lifted_without_force() {
    let Some(k) = Kubectl::start("seed", 4.0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = kubedrain(&k, &dir, &["cordon", "node1"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(k.run(&["uncordon", "node1"]).await.code, 0);
    assert_eq!(k.run(&["cordon", "node1"]).await.code, 0);
    let (code, out) = kubedrain(&k, &dir, &["uncordon", "node1"]).await;
    assert_eq!(code, 1, "refused: {out}");
    assert!(
        out.contains("node/node1 was cordoned again by kubectl"),
        "{out}"
    );
    assert!(out.contains("--force"), "{out}");
    let n = k
        .sim
        .store()
        .get(kubedrain::sim::Kind::Node, "", "node1")
        .unwrap();
    assert_eq!(n["spec"]["unschedulable"], true, "still cordoned");
    let (code, out) = kubedrain(&k, &dir, &["uncordon", "node1", "--force"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("node/node1 uncordoned"), "{out}");

    // kubedrain's own cordon, untouched since: lifted without --force.
    let (code, _) = kubedrain(&k, &dir, &["cordon", "node1"]).await;
    assert_eq!(code, 0);
    let (code, out) = kubedrain(&k, &dir, &["uncordon", "node1"]).await;
    assert_eq!(code, 0, "{out}");
    k.sim.stop().await;
}
