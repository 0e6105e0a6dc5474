//! kubectl's side of M1, M2, M3 and M6.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::Result;
use kubedrain::sim::Kind;

use super::*;

pub(crate) struct KubectlFigures {
    pub(crate) get_pods: Option<Run>,
    pub(crate) get_nodes: Option<Run>,
    pub(crate) steady: Option<Latency>,
    pub(crate) burst: Option<Latency>,
    /// The median over the churn windows, and each window's.
    pub(crate) steady_cpu_pct: Option<f64>,
    pub(crate) steady_cpu_windows: Vec<f64>,
    pub(crate) watch_rss: Option<f64>,
}

/// One more `get pods -A` + `get nodes` for M1 only: the sum of their wall times.
pub(crate) fn kubectl_m1_once(kubectl: &Path, sim: &Sim, cache: &Path) -> Result<Option<f64>> {
    let cache_s = cache.display().to_string();
    let env = [("KUBECACHEDIR", cache_s.as_str())];
    let kc = sim.kc();
    let pods = run_pinned(kubectl, &["--kubeconfig", kc, "get", "pods", "-A"], &env)?;
    let nodes = run_pinned(kubectl, &["--kubeconfig", kc, "get", "nodes"], &env)?;
    Ok((pods.ok && nodes.ok).then_some(pods.wall.as_secs_f64() + nodes.wall.as_secs_f64()))
}

pub(crate) fn run_kubectl_reads(
    cfg: &Config,
    kubectl: &Path,
    sim: &Sim,
    cache: &Path,
    notes: &mut Vec<String>,
) -> Result<KubectlFigures> {
    let cache_s = cache.display().to_string();
    let env = [("KUBECACHEDIR", cache_s.as_str())];
    let kc = sim.kc();
    // Warm the discovery cache.
    let _ = run_pinned(
        kubectl,
        &["--kubeconfig", kc, "get", "--raw", "/version"],
        &env,
    )?;
    let _ = run_pinned(kubectl, &["--kubeconfig", kc, "get", "namespaces"], &env)?;
    log(cfg, "M1: kubectl get pods -A");
    let pods = run_pinned(kubectl, &["--kubeconfig", kc, "get", "pods", "-A"], &env)?;
    if !pods.ok {
        notes.push(format!(
            "kubectl get pods -A failed: {}",
            pods.stderr.trim()
        ));
    }
    log(cfg, "M1: kubectl get nodes");
    let nodes = run_pinned(kubectl, &["--kubeconfig", kc, "get", "nodes"], &env)?;

    // M3/M6: kubectl get pods -A -w, same churn.
    log(cfg, "M3/M6: kubectl get pods -A -w");
    let pod_count = sim.sim().store().count(Kind::Pod) as u64;
    let envs = [("KUBECACHEDIR", cache_s.clone())];
    let term = Term::spawn(
        kubectl,
        &["--kubeconfig", kc, "get", "pods", "-A", "-w"],
        &envs,
        Mode::Lines,
    )?;
    let pid = term.pid;
    let start = Instant::now();
    while term.lines() < pod_count && start.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    let all = sim.all_pod_keys();
    let node_pods = sim.pods_on("node-00000");
    let visible: Vec<_> = node_pods.iter().take(15).cloned().collect();
    let others: Vec<_> = all
        .iter()
        .filter(|k| !node_pods.contains(k))
        .step_by((all.len() / 2000).max(1))
        .cloned()
        .collect();
    // Every line kubectl prints is an event: the burst measures all of them.
    let client = Client {
        term: &term,
        visible: &visible,
        others: &others,
        steady_seq: SEQ_KUBECTL_STEADY,
        burst_seq: SEQ_KUBECTL_BURST,
        coalesce: false,
        burst_visible_only: false,
        bench_log: None,
    };
    let windows = churn_windows(cfg, sim, &client, "kubectl");
    let watch_rss = rss_hwm(pid).map(|(_, h)| h);
    drop(term);
    Ok(KubectlFigures {
        get_pods: Some(pods),
        get_nodes: Some(nodes),
        steady: median_latency(&windows.iter().map(|w| &w.steady).collect::<Vec<_>>()),
        burst: median_latency(&windows.iter().map(|w| &w.burst).collect::<Vec<_>>()),
        steady_cpu_pct: median_cpu(&windows).0,
        steady_cpu_windows: median_cpu(&windows).1,
        watch_rss,
    })
}
