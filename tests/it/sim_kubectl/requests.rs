//! Requests beyond drains: server-side dry runs, `get --watch`, `create` generators and
//! `apply`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dry_run_and_get_watch() {
    let Some(k) = Kubectl::start("seed", 1.0).await else {
        return;
    };
    // --dry-run=server: the cordon patch and the evictions go out with dryRun=All; nothing changes.
    let o = k
        .run(&["drain", "node0", "--ignore-daemonsets", "--dry-run=server"])
        .await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("node/node0 cordoned (server dry run)"),
        "{}",
        o.stdout
    );
    assert_eq!(
        o.stdout
            .lines()
            .filter(|l| l.starts_with("evicting pod ") && l.ends_with(" (server dry run)"))
            .count(),
        6,
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("node/node0 drained (server dry run)"),
        "{}",
        o.stdout
    );
    assert_eq!(
        k.pods()
            .iter()
            .filter(|p| on(p, "node0") && running(p))
            .count(),
        8
    );
    let node0 = k.sim.store().get(Kind::Node, "", "node0").unwrap();
    assert!(node0["spec"]["unschedulable"].as_bool() != Some(true));

    // `kubectl get -w`: server-side Table rows over a watch.
    let kc = k.dir.path().join("kubeconfig");
    let mut child = tokio::process::Command::new(&k.bin)
        .arg("--kubeconfig")
        .arg(&kc)
        .arg("--cache-dir")
        .arg(k.dir.path().join("cache"))
        .args(["get", "nodes", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut cordoned = false;
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("watch line in time")
            .unwrap()
            .expect("kubectl still watching");
        seen.push(line.clone());
        if seen.len() == 4 && !cordoned {
            // Header plus three nodes listed: now change one.
            k.ok(&["cordon", "node1"]).await;
            cordoned = true;
        }
        if line.starts_with("node1") && line.contains("Ready,SchedulingDisabled") {
            break;
        }
    }
    assert_eq!(
        seen[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    );
    assert_eq!(
        seen.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "one header: {seen:?}"
    );
    child.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_generators_and_apply() {
    let Some(k) = Kubectl::start("seed", 2.0).await else {
        return;
    };
    // Generators send protobuf; files go as JSON with server-side field validation.
    assert_eq!(
        k.ok(&["create", "namespace", "team"]).await.trim(),
        "namespace/team created"
    );
    assert_eq!(
        k.ok(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.25",
            "--replicas=3",
            "-n",
            "team"
        ])
        .await
        .trim(),
        "deployment.apps/web created"
    );
    let d = k
        .sim
        .store()
        .get(Kind::Deployment, "team", "web")
        .expect("deployment stored");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    k.wait_pods("3 web pods Running", |pods| {
        pods.iter()
            .filter(|p| s(&p["metadata"]["namespace"]) == "team" && running(p))
            .count()
            == 3
    })
    .await;
    let file = k.dir.path().join("pdb.yaml");
    std::fs::write(
        &file,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: team\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: {app: web}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(
        k.ok(&["apply", "-f", f]).await.trim(),
        "poddisruptionbudget.policy/web created"
    );
    // (A PDB re-applied as is reports "configured": its selector is patchStrategy=replace, as on
    // a real cluster. A namespace shows the "unchanged" path.)
    let ns_file = k.dir.path().join("ns.yaml");
    std::fs::write(
        &ns_file,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tools\n  labels: {team: sre}\n",
    )
    .unwrap();
    let nf = ns_file.to_str().unwrap();
    assert_eq!(
        k.ok(&["apply", "-f", nf]).await.trim(),
        "namespace/tools created"
    );
    assert_eq!(
        k.ok(&["apply", "-f", nf]).await.trim(),
        "namespace/tools unchanged"
    );
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("minAvailable: 2", "minAvailable: 1"),
    )
    .unwrap();
    assert_eq!(
        k.ok(&["apply", "-f", f]).await.trim(),
        "poddisruptionbudget.policy/web configured"
    );
    assert_eq!(
        k.sim
            .store()
            .get(Kind::PodDisruptionBudget, "team", "web")
            .unwrap()["spec"]["minAvailable"],
        1
    );
    assert_eq!(
        k.ok(&["scale", "deployment", "web", "-n", "team", "--replicas=1"])
            .await
            .trim(),
        "deployment.apps/web scaled"
    );
    assert_eq!(
        k.sim.store().get(Kind::Deployment, "team", "web").unwrap()["spec"]["replicas"],
        1
    );
    // kubectl ≥ 1.35 adds " from team namespace".
    let deleted = k.ok(&["delete", "-f", f]).await;
    assert!(
        deleted
            .trim()
            .starts_with("poddisruptionbudget.policy \"web\" deleted"),
        "{deleted}"
    );
}
