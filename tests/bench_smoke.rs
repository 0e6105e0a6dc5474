//! Smoke test of the scale benchmark harness (`benches/scale`): a small cluster, short
//! phases. It checks that the harness runs and reports every metric; it asserts no timing.

#[path = "../benches/common/model.rs"]
mod model;

#[path = "../benches/scale/harness/mod.rs"]
mod harness;

#[test]
fn harness_runs_and_reports_every_metric() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = harness::Config::new(200, 30, env!("CARGO_BIN_EXE_kubedrain").into()).quick();
    cfg.out_dir = dir.path().to_path_buf();
    cfg.verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    // Two runs of M1 and M5 and two churn windows of M3 and M6, so the medians are
    // exercised too.
    cfg.runs = 2;
    cfg.graces = vec![0];
    if cfg.kubectl.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl must be on PATH in CI"
        );
        eprintln!("kubectl not on PATH: running without the baseline column");
    }
    let report = harness::run(&cfg, "tests/bench_smoke.rs").unwrap();
    let doc = report.document();
    eprintln!("{doc}");
    for id in harness::Report::METRICS {
        let rows: Vec<_> = report.rows.iter().filter(|r| r.id == id).collect();
        assert!(!rows.is_empty(), "no {id} row:\n{doc}");
        assert!(
            rows.iter()
                .all(|r| r.kubedrain.is_some_and(|v| !v.is_nan())),
            "{id} has a row without a kubedrain figure:\n{doc}"
        );
    }
    if cfg.kubectl.is_some() {
        for id in ["M1", "M5"] {
            assert!(
                report
                    .rows
                    .iter()
                    .any(|r| r.id == id && r.kubectl.is_some()),
                "{id}: no kubectl figure:\n{doc}"
            );
        }
    }
    for id in ["M1", "M5"] {
        assert!(
            report
                .rows
                .iter()
                .any(|r| r.id == id && r.note.contains("median of 2 runs")),
            "{id}: no median over the runs:\n{doc}"
        );
    }
    for (id, says) in [
        ("M3", "medians of 2 windows"),
        ("M6", "kubedrain: median of 2 windows"),
    ] {
        assert!(
            report
                .rows
                .iter()
                .any(|r| r.id == id && r.note.contains(says)),
            "{id}: no median over the churn windows:\n{doc}"
        );
    }
    assert!(dir.path().join("results.md").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), report.rows.len());
}

/// The maintenance-window variant (`--campaign`): 10 workers, max-unavailable 2. Asserts the
/// facts, not the times: the campaign completes, the budgets were used but never broken,
/// every node is back in service; the same for the kubectl loop when kubectl is there.
#[test]
fn campaign_bench_completes_within_every_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = harness::Config::new(10, 10, env!("CARGO_BIN_EXE_kubedrain").into()).quick();
    base.out_dir = dir.path().to_path_buf();
    base.verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    let mut cb = harness::CampaignBench::new(base);
    cb.max_unavailable = 2;
    let r = harness::run_campaign(&cb, "tests/bench_smoke.rs").unwrap();
    let doc = r.report.document();
    eprintln!("{doc}");
    let mut sides = vec![("kubedrain", &r.kubedrain)];
    if let Some(k) = &r.kubectl {
        sides.push(("kubectl", k));
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl must be on PATH in CI"
        );
    }
    for (tool, s) in sides {
        assert!(s.ok, "{tool}: {}\n{doc}", s.outcome);
        assert_eq!(s.nodes, 10, "{tool}: the pool");
        assert_eq!(
            s.violations, 0,
            "{tool}: a PDB went below its desired health\n{doc}"
        );
        assert!(
            s.left_cordoned.is_empty(),
            "{tool}: left cordoned: {:?}",
            s.left_cordoned
        );
        // The budgets were real constraints: some PDB had its one disruption in use.
        assert!(
            s.watch.at_limit > 0,
            "{tool}: no PDB was ever at its limit\n{doc}"
        );
        assert!(s.watch.pdbs > 0 && s.watch.below_at_start == 0, "{doc}");
        // Every evicted pod was replaced, so replacements were seen Pending, and none is left.
        assert!(
            s.watch.pending_pods > 0,
            "{tool}: no replacement seen\n{doc}"
        );
        assert_eq!(s.watch.still_pending, 0, "{tool}\n{doc}");
        assert!(s.requests > 0);
    }
    assert_eq!(r.kubedrain.outcome, "completed");
    let rows: Vec<_> = r.report.rows.iter().filter(|r| r.id == "CAMP").collect();
    assert_eq!(rows.len(), 4, "{doc}");
    assert!(rows.iter().all(|r| r.kubedrain.is_some()), "{doc}");
    if r.kubectl.is_some() {
        assert!(rows.iter().all(|r| r.kubectl.is_some()), "{doc}");
    }
    assert!(dir.path().join("campaign.md").exists());
}

/// The campaign benchmark's referee counts what it should: a budget taken below its desired
/// health is one violation (however many changes it lasts), one at its limit is not.
#[test]
fn referee_counts_a_budget_below_its_desired_health() {
    use kubedrain::sim::{Kind, SimClock, Store};
    let store = Store::new(std::sync::Arc::new(SimClock::new(1.0)), 10_000);
    kubedrain::sim::generate::populate(&store, 10, 10);
    assert!(harness::add_pdbs(&store) > 0);
    let dog = harness::Watchdog::start(store.clone());
    // Three pods of one Deployment (10 replicas, minAvailable 9) go away.
    let (_, pods) = store.list(Kind::Pod, Some("team-01"));
    let app = pods[0]["metadata"]["labels"]["app"].clone();
    let same: Vec<_> = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == app)
        .take(3)
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(same.len(), 3);
    for name in &same {
        store.delete(Kind::Pod, "team-01", name).unwrap();
    }
    let seen = dog.stop();
    assert_eq!(seen.below_at_start, 0);
    assert_eq!(
        seen.at_limit, 1,
        "the first deletion uses the one disruption"
    );
    assert_eq!(seen.violations, 1, "{:?}", seen.violation_notes);
    assert!(
        seen.violation_notes[0].contains("8 healthy < desired 9"),
        "{:?}",
        seen.violation_notes
    );
}

/// The long session (`--long --quick`, M8) on a small cluster: it reports the RSS drift and
/// the CPU rows with figures and completes at least two forced relists. No timing is asserted.
#[test]
fn long_session_reports_drift_cpu_and_relists() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = harness::Config::new(20, 10, env!("CARGO_BIN_EXE_kubedrain").into());
    base.out_dir = dir.path().to_path_buf();
    base.verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    let lb = harness::LongBench::new(base).quick();
    let r = harness::run_long(&lb, "tests/bench_smoke.rs").unwrap();
    let doc = r.report.document();
    eprintln!("{doc}");
    for what in ["RSS drift", "CPU per relist period", "CPU, whole session"] {
        let row = r.report.rows.iter().find(|row| row.metric.contains(what));
        assert!(
            row.is_some_and(|row| row.kubedrain.is_some_and(|v| v.is_finite())),
            "no {what} figure:\n{doc}"
        );
    }
    let done = r.relists.iter().filter(|x| x.took_s.is_some()).count();
    assert!(done >= 2, "{done} relists completed:\n{doc}");
    assert!(r.drift_pct.is_some());
    assert!(r.cpu_windows.iter().filter(|w| w.cpu_pct.is_some()).count() >= 2);
    let md = std::fs::read_to_string(dir.path().join("long.md")).unwrap();
    assert!(md.contains("## Series"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("long.json")).unwrap())
            .unwrap();
    assert!(json["samples"].as_array().is_some_and(|s| s.len() >= 10));
}

/// M8's arithmetic on made-up samples: CPU per window from the edge samples, RSS medians,
/// relists counted in the window they fall in, the last window closed.
#[test]
fn long_session_windows_split_cpu_rss_and_relists() {
    use harness::{Relist, Sample};
    // One sample every 10 s for 60 s; the CPU time grows 1 s per 10 s, RSS 100 then 110 MB.
    let samples: Vec<Sample> = (0..=6)
        .map(|i| Sample {
            t_s: i as f64 * 10.0,
            at_s: i as f64 * 10.0,
            rss_mb: if i < 3 { 100.0 } else { 110.0 },
            cpu_s: i as f64,
            frames: 2,
        })
        .collect();
    let relists = [Relist {
        at_s: 30.2,
        took_s: Some(0.5),
    }];
    let w = harness::windows(&samples, 30.0, 60.0, &relists);
    assert_eq!(w.len(), 2);
    assert_eq!((w[0].from_s, w[0].to_s, w[1].to_s), (0.0, 30.0, 60.0));
    assert_eq!(w[0].cpu_pct, Some(10.0));
    assert_eq!(w[1].cpu_pct, Some(10.0));
    assert_eq!(w[0].rss_median_mb, Some(100.0));
    assert_eq!(
        w[1].rss_max_mb,
        Some(110.0),
        "the last window holds the sample at 60 s"
    );
    assert_eq!((w[0].relists, w[1].relists), (0, 1));
    assert_eq!((w[0].frames, w[1].frames), (6, 6));
}

/// M3's slowest events are split into steps, each found by its own record (the simulator's
/// watch writes, the TUI's bench log), past what else the records hold: a bookmark, an
/// earlier event, a later write.
#[test]
fn slow_events_are_split_by_their_records() {
    use harness::slow_events::{Slow, split};
    use kubedrain::sim::churn::WatchWrite;
    use std::time::{Duration, UNIX_EPOCH};

    let at = |ms: f64| (1e12 + ms * 1e6) as u128;
    let time = |ms: f64| UNIX_EPOCH + Duration::from_nanos(at(ms) as u64);
    let slow = [Slow {
        seq: 700_010,
        sent: time(0.0),
        shown: time(4.0),
    }];
    let write = |ms: f64, len: usize| WatchWrite {
        at_nanos: at(ms),
        len,
    };
    let writes = [
        write(-1.0, 4000),
        write(0.2, 300),
        write(0.5, 4000),
        write(1.0, 4000),
    ];
    let log = tempfile::NamedTempFile::new().unwrap();
    let lines = [
        format!("{} watched pods", at(0.6)),
        format!("{} applied pod 700009", at(0.7)),
        format!("{} watched pods", at(3.0)),
        format!("{} applied pod 700010", at(3.2)),
        format!("{} frame 100", at(3.9)),
    ];
    std::fs::write(log.path(), lines.join("\n") + "\n").unwrap();
    assert_eq!(
        split(&slow, &writes, Some(log.path())),
        [
            "4.00 ms: sim wrote +0.50, decoded +3.00, in the model +3.20; frames from -20 ms, start(took) ms: +3.80(0.10)"
        ]
    );
    // Without the TUI's log (kubectl), only the simulator's step.
    assert_eq!(split(&slow, &writes, None), ["4.00 ms: sim wrote +0.50"]);
}
