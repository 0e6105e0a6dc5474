//! kubedrain's TUI run: sync, memory, watch latency, frames, key latency, idle and churn CPU.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use color_eyre::Result;
use kubedrain::sim::churn::Churn;

use super::*;

/// Builds the churn target list: the measured pods with `others` interleaved so that one
/// event in `every` is on a measured pod. Returns the targets and how many are measured.
pub(crate) fn interleave(
    measured: &[(String, String)],
    others: &[(String, String)],
    every: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut o = others.iter().cycle();
    for m in measured {
        out.push(m.clone());
        for _ in 1..every {
            if let Some(x) = o.next() {
                out.push(x.clone());
            }
        }
    }
    out
}

pub(crate) struct TuiFigures {
    pub(crate) first_rows_s: Option<f64>,
    pub(crate) synced_s: Option<f64>,
    /// The TUI's CPU time (user + sys) when it had synced.
    pub(crate) sync_cpu_s: Option<f64>,
    pub(crate) rss_after_sync: Option<f64>,
    pub(crate) hwm_sync: Option<f64>,
    pub(crate) hwm_relist: Option<f64>,
    pub(crate) relist_s: Option<f64>,
    pub(crate) idle_cpu_pct: Option<f64>,
    pub(crate) key_p50_ms: Option<f64>,
    pub(crate) key_p99_ms: Option<f64>,
    pub(crate) steady: Option<Latency>,
    pub(crate) burst: Option<Latency>,
    /// The median over the churn windows, and each window's.
    pub(crate) steady_cpu_pct: Option<f64>,
    pub(crate) steady_cpu_windows: Vec<f64>,
    pub(crate) frames_sync: Vec<f64>,
    pub(crate) frames_churn: Vec<f64>,
    pub(crate) visible_pods: usize,
}

/// Seconds from `launched` (taken just before the spawn, the origin "synced" is measured
/// from too) until the first node row is on screen.
pub(crate) fn first_rows_since(
    term: &Term,
    launched: SystemTime,
    timeout: Duration,
) -> Option<f64> {
    term.wait_screen(timeout, |s| s.contains("node-0"))?;
    // `wait_screen` wakes on the read that showed the row: now is when it was seen.
    SystemTime::now()
        .duration_since(launched)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// One more launch for M1 only: (first rows, synced) in seconds after launch.
pub(crate) fn sync_once(cfg: &Config, sim: &Sim, dir: &Path) -> Result<(Option<f64>, Option<f64>)> {
    let log_path = dir.join("tui-sync.log");
    let _ = std::fs::remove_file(&log_path);
    let envs = [(kubedrain::benchlog::ENV, log_path.display().to_string())];
    let launched = SystemTime::now();
    let term = Term::spawn(&cfg.bin, &["--kubeconfig", sim.kc()], &envs, Mode::Screen)?;
    let timeout = Duration::from_secs(300);
    let first_rows = first_rows_since(&term, launched, timeout);
    let nodes = wait_log(&log_path, "synced nodes", 1, timeout);
    let pods = wait_log(&log_path, "synced pods", 1, timeout);
    let synced = nodes.first().max(pods.first()).copied();
    drop(term);
    Ok((
        first_rows,
        synced.map(|t| t.saturating_sub(unix_nanos(launched)) as f64 / 1e9),
    ))
}

pub(crate) fn run_tui(
    cfg: &Config,
    sim: &Sim,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<TuiFigures> {
    let log_path = dir.join("tui-bench.log");
    let _ = std::fs::remove_file(&log_path);
    let envs = [(kubedrain::benchlog::ENV, log_path.display().to_string())];
    log(cfg, "M1/M2: launching the TUI");
    let launched = SystemTime::now();
    let t0 = Instant::now();
    let mut term = Term::spawn(&cfg.bin, &["--kubeconfig", sim.kc()], &envs, Mode::Screen)?;
    let pid = term.pid;
    let sampler = RssSampler::start(pid, &cfg.bin, Duration::from_millis(100));
    let sync_timeout = Duration::from_secs(300);
    let first_rows = first_rows_since(&term, launched, sync_timeout);
    let nodes_synced = wait_log(&log_path, "synced nodes", 1, sync_timeout);
    let pods_synced = wait_log(&log_path, "synced pods", 1, sync_timeout);
    let synced_at = nodes_synced.first().max(pods_synced.first()).copied();
    let synced_s = synced_at.map(|t| (t.saturating_sub(unix_nanos(launched))) as f64 / 1e9);
    let sync_cpu_s = cpu_secs(pid);
    log(
        cfg,
        format!(
            "first rows {:?} s, synced {:?} s (harness wall {:?})",
            first_rows,
            synced_s,
            t0.elapsed()
        ),
    );
    // Settle, then steady RSS and the sync peak.
    std::thread::sleep(Duration::from_secs(2));
    let (rss_after_sync, hwm_sync) = match rss_hwm(pid) {
        Some((r, h)) => (Some(r), Some(h.max(sampler.max()))),
        None => (None, None),
    };
    let sync_frames = frame_times_us(&log_path, 0, u128::MAX);

    // M4: idle CPU.
    log(cfg, format!("M4: idle CPU over {} s", cfg.idle_secs));
    let c0 = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(cfg.idle_secs));
    let idle_cpu_pct = match (c0, cpu_secs(pid)) {
        (Some(a), Some(b)) => Some((b - a) / cfg.idle_secs as f64 * 100.0),
        _ => None,
    };

    // M4: key → frame (j moves the node selection down; k back up).
    log(cfg, format!("M4: {} key presses", cfg.keys));
    let mut keys = Vec::new();
    for i in 0..cfg.keys.div_ceil(2) * 2 {
        let k: &[u8] = if i % 2 == 0 { b"j" } else { b"k" };
        if let Some(d) = term.key_latency(k, Duration::from_secs(2)) {
            keys.push(d.as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    keys.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if keys.len() < cfg.keys {
        notes.push(format!(
            "M4: {} of {} key presses changed the screen within 2 s",
            keys.len(),
            cfg.keys
        ));
    }

    let churn_from = kubedrain::benchlog::unix_nanos();
    let (windows, visible_n) = tui_churn(cfg, sim, &term, &log_path, notes);
    let churn_frames = frame_times_us(&log_path, churn_from, u128::MAX);

    // M2: forced relist (410 on every open watch, history compacted).
    log(cfg, "M2: forced relist");
    let hwm_ok = reset_hwm(pid);
    let before = read_log(&log_path)
        .iter()
        .filter(|e| e.what == "synced pods")
        .count();
    let sampler2 = RssSampler::start(pid, &cfg.bin, Duration::from_millis(100));
    let t = Instant::now();
    sim.sim().store().compact();
    sim.sim().faults().expire_open_watches();
    let relisted = wait_log(&log_path, "synced pods", before + 1, sync_timeout);
    let relist_s = (relisted.len() > before).then(|| t.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_secs(1));
    let hwm_relist = rss_hwm(pid).map(|(_, h)| {
        if hwm_ok {
            h.max(sampler2.max())
        } else {
            sampler2.max()
        }
    });
    if !hwm_ok {
        notes.push("M2: could not reset VmHWM; relist peak is from 100 ms RSS samples".into());
    }
    drop(sampler2);
    drop(sampler);

    term.send(b"q");
    if !term.wait_exit(Duration::from_secs(10)) {
        notes.push("the TUI did not exit on q within 10 s (killed)".into());
    }
    Ok(TuiFigures {
        first_rows_s: first_rows,
        synced_s,
        sync_cpu_s,
        rss_after_sync,
        hwm_sync,
        hwm_relist,
        relist_s,
        idle_cpu_pct,
        key_p50_ms: (!keys.is_empty()).then(|| percentile(&keys, 0.5)),
        key_p99_ms: (!keys.is_empty()).then(|| percentile(&keys, 0.99)),
        steady: median_latency(&windows.iter().map(|w| &w.steady).collect::<Vec<_>>()),
        burst: median_latency(&windows.iter().map(|w| &w.burst).collect::<Vec<_>>()),
        steady_cpu_pct: median_cpu(&windows).0,
        steady_cpu_windows: median_cpu(&windows).1,
        frames_sync: sync_frames,
        frames_churn: churn_frames,
        visible_pods: visible_n,
    })
}

/// M3 and M6 in the TUI: the selected node's pods that are on screen (each stamped once, the
/// ones that show up), then the churn windows on them. Returns the windows and how many pods
/// were measured.
fn tui_churn(
    cfg: &Config,
    sim: &Sim,
    term: &Term,
    bench_log: &Path,
    notes: &mut Vec<String>,
) -> (Vec<ChurnWindow>, usize) {
    let screen = term.screen();
    // The pods pane's title names the selected node: "Pods (30) · node-00000".
    let node = screen
        .lines()
        .find_map(|l| {
            let rest = &l[l.find("Pods (")?..];
            let after = &rest[rest.find(") · ")? + ") · ".len()..];
            after.split_whitespace().next().map(str::to_string)
        })
        .unwrap_or_else(|| "node-00000".to_string());
    let candidates = sim.pods_on(&node);
    term.track((SEQ_CALIBRATE, SEQ_CALIBRATE + candidates.len() as u64));
    let cal = Churn::start(
        sim.sim().store().clone(),
        candidates.clone(),
        200.0,
        Some(candidates.len() as u64),
        SEQ_CALIBRATE,
    )
    .finish();
    std::thread::sleep(Duration::from_millis(1500));
    let seen = term.untrack();
    let visible: Vec<(String, String)> = cal
        .iter()
        .filter(|s| seen.contains_key(&s.seq))
        .map(|s| candidates[s.target].clone())
        .collect();
    log(
        cfg,
        format!(
            "M3: {} of {} pods of {node} visible",
            visible.len(),
            candidates.len()
        ),
    );
    if visible.is_empty() {
        notes.push(format!(
            "M3: no pod of {node} was visible on the TUI's screen"
        ));
        log(cfg, format!("screen:\n{screen}"));
        return (Vec::new(), 0);
    }
    let all = sim.all_pod_keys();
    let others: Vec<_> = all
        .iter()
        .filter(|k| !candidates.contains(k))
        .step_by((all.len() / 2000).max(1))
        .cloned()
        .collect();
    let client = Client {
        term,
        visible: &visible,
        others: &others,
        steady_seq: SEQ_STEADY,
        burst_seq: SEQ_BURST,
        coalesce: true,
        burst_visible_only: true,
        bench_log: Some(bench_log),
    };
    (churn_windows(cfg, sim, &client, "kubedrain"), visible.len())
}
