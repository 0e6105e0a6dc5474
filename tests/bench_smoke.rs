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
    // Two runs of M1 and M5, so the median/p90 path is exercised too.
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
    assert!(dir.path().join("results.md").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), report.rows.len());
}
