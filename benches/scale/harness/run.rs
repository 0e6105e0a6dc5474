//! The whole run: every metric in order, and the report.

use std::path::Path;

use color_eyre::Result;
use serde_json::json;

use super::*;

pub(crate) fn met(v: Option<f64>, ok: impl Fn(f64) -> bool) -> Option<bool> {
    v.filter(|x| !x.is_nan()).map(ok)
}

/// Whether `kd` ≤ `times` × `kc`: issue 13's targets relative to kubectl; `None` without both.
pub(crate) fn within(kd: Option<f64>, kc: Option<f64>, times: f64) -> Option<bool> {
    match (kd, kc) {
        (Some(a), Some(b)) if !a.is_nan() && !b.is_nan() => Some(a <= times * b),
        _ => None,
    }
}

/// `s` followed by "; " when not empty.
fn with_sep(s: String) -> String {
    if s.is_empty() { s } else { format!("{s}; ") }
}

/// The run with the median time (its request counts and details go with it); a failed run
/// anywhere marks the result failed.
fn median_drain(runs: &[DrainFigures]) -> DrainFigures {
    let mut sorted: Vec<&DrainFigures> = runs.iter().collect();
    sorted.sort_by(|a, b| a.wall_s.partial_cmp(&b.wall_s).unwrap());
    let mut m = sorted[(sorted.len() - 1) / 2].clone();
    m.ok = runs.iter().all(|r| r.ok);
    m
}

/// Runs every metric and writes `results.md` and `results.json` to `cfg.out_dir`.
pub fn run(cfg: &Config, command: &str) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let pods = cfg.nodes * cfg.pods_per_node + kubedrain::sim::generate::PACKED_PODS;
    let ticks_before = cpu_ticks();
    let pinned = cpus() > 1 && pin_prefix().is_some() && pin_self(0);
    let kubectl = cfg.kubectl().map(Path::to_path_buf);
    let kubectl_version = kubectl_version(kubectl.as_deref());
    let mut report = Report {
        title: "kubedrain scale benchmark".into(),
        date: utc_now(),
        command: command.to_string(),
        nodes: cfg.nodes + 1,
        pods,
        pinning: if pinned {
            "simulator + harness on CPU 0 (sched_setaffinity), clients on CPU 1 (taskset -c 1)"
                .into()
        } else {
            "none (no taskset or a single CPU): simulator and clients share the CPUs".into()
        },
        kubectl_version,
        kubectl_cache: "discovery cache warm (fresh KUBECACHEDIR, filled by a warm-up call)".into(),
        load_before: loadavg(),
        load_after: String::new(),
        steal_pct: None,
        rows: Vec::new(),
        notes: Vec::new(),
    };
    let mut notes = Vec::new();
    let cache = dir.path().join("kubectl-cache");

    // The simulator itself.
    log(
        cfg,
        format!(
            "starting the simulator: {} nodes × {} pods",
            cfg.nodes, cfg.pods_per_node
        ),
    );
    let (sim, startup) = Sim::start(cfg, dir.path())?;
    let (cold_s, _) = sim.paged_list(false)?;
    let (list_s, list_bytes) = sim.paged_list(false)?;
    let (table_s, table_bytes) = sim.paged_list(true)?;
    log(
        cfg,
        format!(
            "simulator: start {startup:?}; paged list {list_s:.2} s / {:.0} MB; table {table_s:.2} s / {:.1} MB",
            list_bytes as f64 / 1e6,
            table_bytes as f64 / 1e6
        ),
    );
    report.row(
        "SIM",
        "simulator start (generate + populate)",
        "s",
        Some(startup.as_secs_f64()),
        None,
        "",
        None,
        "",
    );
    report.row(
        "SIM",
        "full paged pod list served, limit 500 (JSON, serialized objects cached)",
        "s",
        Some(list_s),
        None,
        "small vs M1",
        None,
        format!(
            "first list (fills the cache) {cold_s:.2} s; {:.0} MB, {:.1} KB/pod",
            list_bytes as f64 / 1e6,
            list_bytes as f64 / pods as f64 / 1e3
        ),
    );
    report.row(
        "SIM",
        "full paged pod list served, limit 500 (Table, as kubectl asks)",
        "s",
        Some(table_s),
        None,
        "",
        None,
        format!("{:.1} MB", table_bytes as f64 / 1e6),
    );

    let breakdown = memory_breakdown(cfg, &sim);
    // kubedrain's TUI: M1, M2, M3, M4 (idle, keys), M6.
    let tui = run_tui(cfg, &sim, dir.path(), &mut notes)?;
    // kubectl reads: M1, M2, M3, M6.
    let kc = match &kubectl {
        Some(k) => Some(run_kubectl_reads(cfg, k, &sim, &cache, &mut notes)?),
        None => {
            notes.push("kubectl not found: no baseline column".into());
            None
        }
    };
    // M1 again (--runs): the TUI's sync and kubectl's two lists, on the same simulator.
    let mut tui_synced: Vec<f64> = tui.synced_s.into_iter().collect();
    let mut tui_first: Vec<f64> = tui.first_rows_s.into_iter().collect();
    let mut kc_m1s: Vec<f64> = kc
        .as_ref()
        .and_then(|k| match (&k.get_pods, &k.get_nodes) {
            (Some(p), Some(n)) => Some(p.wall.as_secs_f64() + n.wall.as_secs_f64()),
            _ => None,
        })
        .into_iter()
        .collect();
    for run in 1..cfg.runs {
        log(cfg, format!("M1: run {} of {}", run + 1, cfg.runs));
        let (first, synced) = sync_once(cfg, &sim, dir.path())?;
        tui_first.extend(first);
        tui_synced.extend(synced);
        if let Some(k) = &kubectl {
            kc_m1s.extend(kubectl_m1_once(k, &sim, &cache)?);
        }
    }
    // M4's other keys and M7: their own launch, last, as it adds 10,000 PDBs to the store.
    let keys = run_keys(cfg, &sim, dir.path(), &mut notes)?;
    sim.stop();

    let synced_med = median_p90(&tui_synced).map(|m| m.0);
    let first_med = median_p90(&tui_first).map(|m| m.0);
    let kc_m1 = median_p90(&kc_m1s).map(|m| m.0);
    let kc_nodes = kc
        .as_ref()
        .and_then(|k| k.get_nodes.as_ref())
        .map(|n| n.wall.as_secs_f64());
    report.row(
        "M1",
        "initial sync: launch → nodes + pods all in the model (kubectl: get pods -A + get nodes)",
        "s",
        synced_med,
        kc_m1,
        "≤ 3 s and ≤ 0.15× kubectl",
        met(synced_med, |x| {
            x <= 3.0 && kc_m1.is_none_or(|k| x <= 0.15 * k)
        }),
        format!(
            "kubedrain: {}{:.1} s CPU until synced (first run); {}{}",
            with_sep(runs_note(&tui_synced, "s")),
            tui.sync_cpu_s.unwrap_or(f64::NAN),
            with_sep(runs_note(&kc_m1s, "s").replace("median", "kubectl: median")),
            kc.as_ref()
                .and_then(|k| k.get_pods.as_ref())
                .map_or(String::new(), |p| {
                    format!(
                        "kubectl get pods -A printed {} lines, {:.1} s CPU",
                        p.stdout_lines, p.cpu_s
                    )
                })
        ),
    );
    report.row(
        "M1",
        "first rows on screen (kubectl: get nodes)",
        "s",
        first_med,
        kc_nodes,
        "≤ 1.0× kubectl get nodes",
        within(first_med, kc_nodes, 1.0),
        format!(
            "{}from just before the TUI's spawn, the origin of the synced row too",
            with_sep(runs_note(&tui_first, "s"))
        ),
    );
    let kc_rss = kc
        .as_ref()
        .and_then(|k| k.get_pods.as_ref())
        .map(|p| p.max_rss_mb);
    report.row(
        "M2",
        "RSS after sync (kubectl: max RSS of get pods -A)",
        "MB",
        tui.rss_after_sync,
        kc_rss,
        "≤ 300 MB",
        met(tui.rss_after_sync, |x| x <= 300.0),
        "",
    );
    report.row(
        "M2",
        "peak RSS during sync (VmHWM)",
        "MB",
        tui.hwm_sync,
        kc_rss,
        "≤ 600 MB",
        met(tui.hwm_sync, |x| x <= 600.0),
        "",
    );
    report.row(
        "M2",
        "peak RSS during a forced relist (410 on every watch)",
        "MB",
        tui.hwm_relist,
        None,
        "≤ 600 MB",
        met(tui.hwm_relist, |x| x <= 600.0),
        tui.relist_s.map_or("relist did not complete".into(), |s| {
            format!("relist took {s:.1} s")
        }),
    );
    if let Some((n, json, row, model)) = breakdown {
        report.row(
            "M2",
            "heap per pod in the TUI model (cache + index), counting allocator, measuring thread only",
            "B",
            Some(model),
            None,
            "",
            None,
            format!(
                "{n} real pods from the simulator: {json:.0} B of JSON each; decoded PodRow {row:.0} B; \
                 in the model {model:.0} B (the decoded copy not counted) → {:.0} MB for {pods} pods; \
                 the simulator runs in the harness process, so only the measuring thread's \
                 allocations are counted",
                model * pods as f64 / 1e6
            ),
        );
    }
    m3_rows(&mut report, cfg, &tui, kc.as_ref());

    log(cfg, "M4: frame time with TestBackend");
    let (n50, n99, a50, a99) = frame_bench(cfg, cfg.nodes.max(1), cfg.nodes * cfg.pods_per_node);
    report.row(
        "M4",
        &format!(
            "frame time, TestBackend 200×50, {} pods, node's pods pane, p50 / p99",
            cfg.nodes * cfg.pods_per_node
        ),
        "ms",
        Some(n99),
        None,
        "≤ 3 ms",
        met(Some(n99), |x| x <= 3.0),
        format!("p50 {n50:.2} ms, p99 {n99:.2} ms (kubedrain column is p99)"),
    );
    report.row(
        "M4",
        "frame time, same, all-pods view, p99",
        "ms",
        Some(a99),
        None,
        "≤ 3 ms",
        met(Some(a99), |x| x <= 3.0),
        format!("p50 {a50:.2} ms"),
    );
    let fp = |v: &[f64], q: f64| (!v.is_empty()).then(|| percentile(v, q) / 1000.0);
    report.row(
        "M4",
        "real frames in the pty (refresh + draw + write), p99, during sync",
        "ms",
        fp(&tui.frames_sync, 0.99),
        None,
        "p99 ≤ 16 ms",
        met(fp(&tui.frames_sync, 0.99), |x| x <= 16.0),
        format!(
            "{} frames, p50 {:.2} ms, max {:.1} ms",
            tui.frames_sync.len(),
            fp(&tui.frames_sync, 0.5).unwrap_or(f64::NAN),
            tui.frames_sync.last().map_or(f64::NAN, |x| x / 1000.0)
        ),
    );
    report.row(
        "M4",
        "real frames in the pty, p99, during churn",
        "ms",
        fp(&tui.frames_churn, 0.99),
        None,
        "p99 ≤ 3 ms",
        met(fp(&tui.frames_churn, 0.99), |x| x <= 3.0),
        format!(
            "{} frames, p50 {:.2} ms, max {:.1} ms",
            tui.frames_churn.len(),
            fp(&tui.frames_churn, 0.5).unwrap_or(f64::NAN),
            tui.frames_churn.last().map_or(f64::NAN, |x| x / 1000.0)
        ),
    );
    report.row(
        "M4",
        "key → frame latency in the pty, `j`/`k` on the nodes, p50",
        "ms",
        tui.key_p50_ms,
        None,
        "",
        None,
        "",
    );
    report.row(
        "M4",
        "key → frame latency in the pty, `j`/`k` on the nodes, p99",
        "ms",
        tui.key_p99_ms,
        None,
        "p99 ≤ 20 ms",
        met(tui.key_p99_ms, |x| x <= 20.0),
        "",
    );
    m4_key_rows(&mut report, &keys);
    report.row(
        "M4",
        &format!("idle CPU after sync, no changes ({} s)", cfg.idle_secs),
        "%",
        tui.idle_cpu_pct,
        None,
        "≤ 0.5 %",
        met(tui.idle_cpu_pct, |x| x <= 0.5),
        "% of one core",
    );

    // M5: drains on fresh simulators.
    for &g in &cfg.graces {
        let mut kds = Vec::new();
        let mut kcds = Vec::new();
        for _ in 0..cfg.runs {
            kds.push(drain_once(
                cfg,
                dir.path(),
                "kubedrain",
                g,
                &cache,
                &mut notes,
            )?);
            if cfg.kubectl().is_some() {
                kcds.push(drain_once(
                    cfg,
                    dir.path(),
                    "kubectl",
                    g,
                    &cache,
                    &mut notes,
                )?);
            }
        }
        let kd = median_drain(&kds);
        let kcd = (!kcds.is_empty()).then(|| median_drain(&kcds));
        let kd_note = runs_note(&kds.iter().map(|d| d.wall_s).collect::<Vec<_>>(), "s");
        let kc_note = runs_note(&kcds.iter().map(|d| d.wall_s).collect::<Vec<_>>(), "s");
        report.row(
            "M5",
            &format!("drain node-packed (110 pods), grace {g} s: time until empty"),
            "s",
            Some(kd.wall_s),
            kcd.as_ref().map(|k| k.wall_s),
            if g == 0 {
                "≤ 2 s and ≥ 10× faster than kubectl"
            } else {
                "≤ 3.5 s and ≤ 0.15× kubectl"
            },
            {
                // Issue 13: grace 0 s ≤ 2 s and 10× faster; grace 2 s ≤ 3.5 s and ≤ 0.15×.
                let (limit, times) = if g == 0 { (2.0, 0.1) } else { (3.5, 0.15) };
                Some(
                    kd.ok
                        && kd.wall_s <= limit
                        && kcd.as_ref().is_none_or(|k| kd.wall_s <= times * k.wall_s),
                )
            },
            format!(
                "kubedrain: {}{}{}; kubectl: {}{}",
                if kd.ok { "" } else { "FAILED; " },
                with_sep(kd_note),
                kd.detail,
                with_sep(kc_note),
                kcd.as_ref().map_or("–".into(), |k| k.detail.clone())
            ),
        );
        report.row(
            "M5",
            &format!("drain, grace {g} s: API requests"),
            "",
            Some(kd.requests as f64),
            kcd.as_ref().map(|k| k.requests as f64),
            "≤ 115",
            Some(kd.requests <= 115),
            format!(
                "evictions: kubedrain {}, kubectl {}; app pods left on the node: kubedrain {}, kubectl {}",
                kd.evictions,
                kcd.as_ref().map_or("–".into(), |k| k.evictions.to_string()),
                kd.left,
                kcd.as_ref().map_or("–".into(), |k| k.left.to_string())
            ),
        );
    }

    report.row(
        "M6",
        &format!("CPU while watching at {}/s", cfg.steady_rate),
        "%",
        tui.steady_cpu_pct,
        kc.as_ref().and_then(|k| k.steady_cpu_pct),
        "≤ 2 % and ≤ 1.0× kubectl",
        met(tui.steady_cpu_pct, |x| {
            x <= 2.0
                && within(Some(x), kc.as_ref().and_then(|k| k.steady_cpu_pct), 1.0) != Some(false)
        }),
        format!(
            "% of one core{}{}; kubectl -w RSS peak {}",
            cpu_windows_note("kubedrain", &tui.steady_cpu_windows),
            cpu_windows_note(
                "kubectl",
                kc.as_ref().map_or(&[][..], |k| &k.steady_cpu_windows)
            ),
            kc.as_ref()
                .and_then(|k| k.watch_rss)
                .map_or("–".into(), |r| format!("{r:.0} MB"))
        ),
    );
    m7_rows(&mut report, &keys);
    notes.push(format!(
        "M3 used {} pods of the selected node that were visible on the TUI's screen",
        tui.visible_pods
    ));
    notes.push(
        "allocator: mimalloc, the kubedrain binary's own (transparent huge pages off); kubectl as shipped"
            .into(),
    );
    report.notes = notes;
    report.load_after = loadavg();
    report.steal_pct = steal_pct(ticks_before, cpu_ticks());
    std::fs::create_dir_all(&cfg.out_dir)?;
    std::fs::write(cfg.out_dir.join("results.md"), report.document())?;
    std::fs::write(
        cfg.out_dir.join("results.json"),
        serde_json::to_string_pretty(&json!(report))?,
    )?;
    Ok(report)
}
