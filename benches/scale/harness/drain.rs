//! M5: one drain of the packed node, by kubedrain or kubectl, on a fresh simulator.

use std::path::Path;

use color_eyre::Result;

use super::*;

#[derive(Debug, Clone)]
pub(crate) struct DrainFigures {
    pub(crate) wall_s: f64,
    pub(crate) requests: u64,
    pub(crate) evictions: u64,
    pub(crate) ok: bool,
    pub(crate) left: usize,
    pub(crate) detail: String,
}

pub(crate) fn drain_once(
    cfg: &Config,
    dir: &Path,
    tool: &str,
    grace: u64,
    cache: &Path,
    notes: &mut Vec<String>,
) -> Result<DrainFigures> {
    log(
        cfg,
        format!("M5: {tool} drain, grace {grace} s (fresh simulator)"),
    );
    let (sim, _) = Sim::start(cfg, dir)?;
    let node = "node-packed";
    let before = sim.pods_on(node).len();
    sim.sim().stats().reset();
    let g = grace.to_string();
    let kc = sim.kc().to_string();
    let cache_s = cache.display().to_string();
    let args: Vec<&str> = vec![
        "--kubeconfig",
        &kc,
        "drain",
        node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--grace-period",
        &g,
        "--timeout",
        "300s",
    ];
    let run = match tool {
        "kubectl" => run_pinned(
            cfg.kubectl().unwrap(),
            &args,
            &[("KUBECACHEDIR", cache_s.as_str())],
        )?,
        _ => run_pinned(&cfg.bin, &args, &[])?,
    };
    let stats = sim.sim().stats();
    let requests = stats.total();
    let evictions = stats.count("create", "pods/eviction");
    let counts: Vec<String> = stats
        .counts()
        .into_iter()
        .map(|((v, r), n)| format!("{v} {r}: {n}"))
        .collect();
    let left = sim
        .pods_on(node)
        .len()
        .saturating_sub(cfg.pods_per_node.min(2));
    if !run.ok {
        notes.push(format!(
            "M5: {tool} drain (grace {grace}) exited with an error: {}",
            run.stderr.lines().last().unwrap_or("").trim()
        ));
    }
    let detail = format!("{before} pods on {node}; {}", counts.join(", "));
    sim.stop();
    Ok(DrainFigures {
        wall_s: run.wall.as_secs_f64(),
        requests,
        evictions,
        ok: run.ok,
        left,
        detail,
    })
}
