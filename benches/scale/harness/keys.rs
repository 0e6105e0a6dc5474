//! Key → screen latency beyond `j`/`k`: M4's Enter on a node, `:` commands and `/` in the
//! nodes pane, and M7, filter and navigation at full scale (`/` and `G`/`g`/PgDn in the
//! all-pods view, `:pdb` with 10,000 PDBs).
//!
//! One more TUI launch, after the other TUI and kubectl phases (so the extra PDBs change
//! none of their figures), with the PDBs created in the simulator's store before it starts.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::Result;
use kubedrain::sim::{Kind, Store};
use serde_json::json;

use super::*;

/// PDBs in the store for `:pdb` (issue 13: "`:pdb` with 10,000 PDBs").
pub(crate) const M7_PDBS: usize = 10_000;

const ENTER: &[u8] = b"\r";
const ESC: &[u8] = b"\x1b";
const PGDN: &[u8] = b"\x1b[6~";
/// How long a key may take to change the screen before it counts as missed.
const KEY_TIMEOUT: Duration = Duration::from_secs(3);

/// Key → changed screen, in ms, per kind of key.
#[derive(Debug, Default)]
pub(crate) struct KeyFigures {
    /// Enter on a node: the pods pane with its pods.
    pub(crate) enter_node: Vec<f64>,
    /// `:` opening the command line.
    pub(crate) colon: Vec<f64>,
    /// Enter running `:pods`, `:events`, `:nodes`.
    pub(crate) command: Vec<f64>,
    /// Each keystroke of a filter in the nodes pane.
    pub(crate) filter_nodes: Vec<f64>,
    /// Each keystroke of a filter in the all-pods view, and Esc clearing it.
    pub(crate) filter_pods: Vec<f64>,
    pub(crate) filter_clear: Vec<f64>,
    /// `G`, `g`, PgDn in the all-pods view.
    pub(crate) nav: Vec<f64>,
    /// Enter running `:pdb`.
    pub(crate) pdb: Vec<f64>,
    /// The filter typed in the all-pods view, and the rows the view had unfiltered.
    pub(crate) pod_filter: String,
    pub(crate) all_pods: Option<usize>,
    /// PDBs in the store, and seconds to create them and have their status computed.
    pub(crate) pdbs: usize,
    pub(crate) pdb_setup_s: f64,
    /// The frames (draw + write) during the all-pods filter, from the TUI's bench log, in ms,
    /// sorted. A key's update rebuilds the rows before the frame, so latency minus frame is
    /// mostly that rebuild.
    pub(crate) filter_frames: Vec<f64>,
    /// Seconds from "synced" until the TUI's CPU went quiet (the PDBs indexed).
    pub(crate) settle_s: Option<f64>,
    /// "what: n missed" for keys that did not change the screen within the timeout.
    pub(crate) missed: Vec<String>,
}

/// Sends `key` and records its latency in `into` (ms, sorted later); `what` names it if missed.
fn timed(term: &mut Term, key: &[u8], into: &mut Vec<f64>, what: &str, missed: &mut Vec<String>) {
    match term.key_latency(key, KEY_TIMEOUT) {
        Some(d) => into.push(d.as_secs_f64() * 1000.0),
        None => {
            // Late (a stalled TUI, a busy CPU) or never (the key did nothing visible)?
            let late = term.key_latency(b"", Duration::from_secs(5)).is_some();
            missed.push(what.to_string());
            if late {
                missed.push(format!("{what} late"));
            }
        }
    }
    // Let the frame finish writing and the loop go idle, as for `j`/`k`.
    std::thread::sleep(Duration::from_millis(100));
}

/// Sends each key, waiting for the screen to change after each; not measured.
fn untimed(term: &mut Term, keys: &[&[u8]]) {
    for k in keys {
        let _ = term.key_latency(k, KEY_TIMEOUT);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Creates `n` PDBs named `m7-pdb-NNNNN`, one per generated Deployment in turn (so each
/// selects real pods, as the TUI's index of covered pods would at scale), and waits until
/// the disruption controller has given each a status, so it is idle when the TUI starts.
pub(crate) fn add_m7_pdbs(store: &Store, n: usize, within: Duration) -> (usize, bool) {
    let (_, deps) = store.list(Kind::Deployment, None);
    if deps.is_empty() {
        return (0, false);
    }
    let mut added = 0;
    for i in 0..n {
        let d = &deps[i % deps.len()];
        let pdb = json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": format!("m7-pdb-{i:05}"), "namespace": d["metadata"]["namespace"]},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": d["spec"]["selector"]["matchLabels"]}},
        });
        added += usize::from(store.create(Kind::PodDisruptionBudget, pdb).is_ok());
    }
    let t = Instant::now();
    while t.elapsed() < within {
        let (_, pdbs) = store.list(Kind::PodDisruptionBudget, None);
        let done = pdbs
            .iter()
            .filter(|b| {
                b["metadata"]["name"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("m7-pdb-"))
            })
            .filter(|b| !b["status"]["expectedPods"].is_null())
            .count();
        if done >= added {
            return (added, true);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    (added, false)
}

/// Waits until process `pid` uses under 5 % of a core over half a second; the seconds it
/// took, or `None` after `max`. Keys are timed on an idle TUI, not one still indexing.
fn wait_quiet(pid: u32, max: Duration) -> Option<f64> {
    let t = Instant::now();
    while t.elapsed() < max {
        let c0 = cpu_secs(pid)?;
        std::thread::sleep(Duration::from_millis(500));
        if cpu_secs(pid)? - c0 < 0.025 {
            return Some(t.elapsed().as_secs_f64());
        }
    }
    None
}

/// A filter that narrows the all-pods view keystroke by keystroke: the name of a Deployment
/// in the middle of the generated ones (`svc-NNNNN`), which only its pods match in full.
fn pod_filter(sim: &Sim) -> String {
    let (_, deps) = sim.sim().store().list(Kind::Deployment, None);
    let mut names: Vec<&str> = deps
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .filter(|n| n.starts_with("svc-"))
        .collect();
    names.sort_unstable();
    names
        .get(names.len() / 2)
        .map_or_else(|| "svc-00001".to_string(), |s| s.to_string())
}

/// The TUI launch for these keys; the figures, sorted.
pub(crate) fn run_keys(
    cfg: &Config,
    sim: &Sim,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<KeyFigures> {
    let mut f = KeyFigures::default();
    log(cfg, format!("M7: creating {M7_PDBS} PDBs"));
    let t = Instant::now();
    let (added, settled) = add_m7_pdbs(sim.sim().store(), M7_PDBS, Duration::from_secs(300));
    f.pdb_setup_s = t.elapsed().as_secs_f64();
    f.pdbs = sim.sim().store().count(Kind::PodDisruptionBudget);
    if !settled {
        notes.push(format!(
            "M7: the disruption controller had not given all {added} added PDBs a status after 300 s"
        ));
    }
    f.pod_filter = pod_filter(sim);
    let log_path = dir.join("tui-keys.log");
    let _ = std::fs::remove_file(&log_path);
    let envs = [(kubedrain::benchlog::ENV, log_path.display().to_string())];
    log(cfg, "M4/M7: launching the TUI for the keys");
    let mut term = Term::spawn(&cfg.bin, &["--kubeconfig", sim.kc()], &envs, Mode::Screen)?;
    let timeout = Duration::from_secs(300);
    term.wait_screen(timeout, |s| s.contains("node-0"));
    wait_log(&log_path, "synced nodes", 1, timeout);
    wait_log(&log_path, "synced pods", 1, timeout);
    // "synced" covers nodes and pods; the PDBs (and their covered pods) are indexed after.
    f.settle_s = wait_quiet(term.pid, Duration::from_secs(120));
    if f.settle_s.is_none() {
        notes.push("M7: the TUI's CPU was still busy 120 s after its sync".into());
    }
    main_view_keys(cfg, &mut term, &mut f);
    all_pods_keys(cfg, &mut term, &mut f);
    let from = kubedrain::benchlog::unix_nanos();
    filter_pods_keys(cfg, &mut term, &mut f);
    let to = kubedrain::benchlog::unix_nanos();
    f.filter_frames = values_us(&log_path, "frame", from, to)
        .into_iter()
        .map(|us| us / 1000.0)
        .collect();
    pdb_keys(cfg, &mut term, &mut f);
    term.send(b"q");
    if !term.wait_exit(Duration::from_secs(10)) {
        notes.push("M7: the TUI did not exit on q within 10 s (killed)".into());
    }
    for v in [
        &mut f.enter_node,
        &mut f.colon,
        &mut f.command,
        &mut f.filter_nodes,
        &mut f.filter_pods,
        &mut f.filter_clear,
        &mut f.nav,
        &mut f.pdb,
    ] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    Ok(f)
}

/// M4 in the main view: Enter on a node, `:pods`/`:events`/`:nodes`, a filter of the nodes.
fn main_view_keys(cfg: &Config, term: &mut Term, f: &mut KeyFigures) {
    log(cfg, "M4: Enter on a node, : commands, / in the nodes pane");
    for _ in 0..cfg.keys {
        timed(
            term,
            ENTER,
            &mut f.enter_node,
            "Enter on a node",
            &mut f.missed,
        );
        // Esc: back to the nodes pane; j: the next node, so each Enter shows other pods.
        untimed(term, &[ESC, b"j"]);
    }
    for _ in 0..cfg.keys.div_ceil(3) {
        for cmd in ["pods", "events", "nodes"] {
            timed(term, b":", &mut f.colon, ":", &mut f.missed);
            let chars: Vec<&[u8]> = cmd.as_bytes().chunks(1).collect();
            untimed(term, &chars);
            timed(term, ENTER, &mut f.command, ": command", &mut f.missed);
        }
    }
    // Each keystroke narrows the nodes shown (node-0001 → node-00010 … node-00019).
    for _ in 0..cfg.keys.div_ceil(5) {
        untimed(term, &[b"/"]);
        for c in "node-0001".as_bytes().chunks(1) {
            timed(term, c, &mut f.filter_nodes, "/ in nodes", &mut f.missed);
        }
        untimed(term, &[ESC]);
    }
}

/// M7 in the all-pods view (`:pods`, then `a`): `/` keystroke by keystroke, and G/g/PgDn.
fn all_pods_keys(cfg: &Config, term: &mut Term, f: &mut KeyFigures) {
    log(
        cfg,
        format!("M7: all-pods view, filter {:?}, G/g/PgDn", f.pod_filter),
    );
    untimed(term, &[b":", b"p", b"o", b"d", b"s", ENTER, b"a"]);
    term.wait_screen(Duration::from_secs(5), |s| s.contains("all namespaces"));
    f.all_pods = all_pods_count(&term.screen());
    for _ in 0..cfg.keys.div_ceil(4) {
        for (k, name) in [
            (PGDN, "PgDn"),
            (PGDN, "PgDn"),
            (b"G".as_slice(), "G"),
            (b"g".as_slice(), "g"),
        ] {
            timed(term, k, &mut f.nav, name, &mut f.missed);
        }
    }
}

/// M7: the filter typed into the all-pods view one key at a time, then cleared with Esc.
fn filter_pods_keys(cfg: &Config, term: &mut Term, f: &mut KeyFigures) {
    let filter = f.pod_filter.clone();
    for _ in 0..cfg.keys.div_ceil(5) {
        untimed(term, &[b"/"]);
        for c in filter.as_bytes().chunks(1) {
            timed(term, c, &mut f.filter_pods, "/ in all pods", &mut f.missed);
        }
        timed(
            term,
            ESC,
            &mut f.filter_clear,
            "Esc clearing",
            &mut f.missed,
        );
    }
}

/// "Pods (150110) · all namespaces" → 150110.
fn all_pods_count(screen: &str) -> Option<usize> {
    screen.lines().find_map(|l| {
        let i = l.find("Pods (")? + "Pods (".len();
        let rest = &l[i..];
        rest[..rest.find(')')?].parse().ok()
    })
}

/// M7: `:pdb`, Enter timed, then Esc back; one untimed round first so the PDBs are known
/// to be in the TUI's cache before any is measured.
fn pdb_keys(cfg: &Config, term: &mut Term, f: &mut KeyFigures) {
    log(cfg, format!("M7: :pdb with {} PDBs", f.pdbs));
    untimed(term, &[b":", b"p", b"d", b"b", ENTER]);
    term.wait_screen(Duration::from_secs(60), |s| s.contains("m7-pdb-"));
    untimed(term, &[ESC]);
    for _ in 0..cfg.keys.div_ceil(3).max(2) {
        untimed(term, &[b":", b"p", b"d", b"b"]);
        timed(term, ENTER, &mut f.pdb, ":pdb", &mut f.missed);
        untimed(term, &[ESC]);
    }
}

/// p50 and p99 of sorted `v`, `None` when empty.
fn p50_p99(v: &[f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    (Some(percentile(v, 0.5)), Some(percentile(v, 0.99)))
}

/// "p50 X ms, max Y ms, N keys".
fn spread(v: &[f64]) -> String {
    match (p50_p99(v).0, v.last()) {
        (Some(p50), Some(max)) => format!("p50 {p50:.2} ms, max {max:.1} ms, {} keys", v.len()),
        _ => "no key changed the screen".into(),
    }
}

/// A key row: the kubedrain column is the p99; met against `limit_ms`.
fn key_row(report: &mut Report, id: &str, metric: &str, v: &[f64], limit_ms: f64, note: String) {
    let p99 = p50_p99(v).1;
    report.row(
        id,
        metric,
        "ms",
        p99,
        None,
        &format!("p99 ≤ {limit_ms:.0} ms"),
        super::run::met(p99, |x| x <= limit_ms),
        format!("{}; {note}", spread(v)),
    );
}

/// How many keys of kind `what` missed the screen, as a note ("" when none).
fn missed(k: &KeyFigures, what: &str) -> String {
    let count = |w: &str| k.missed.iter().filter(|m| m.as_str() == w).count();
    let (n, late) = (count(what), count(&format!("{what} late")));
    if n == 0 {
        String::new()
    } else {
        format!(
            "; {n} did not change the screen within {KEY_TIMEOUT:?} ({late} of them within 5 s more)"
        )
    }
}

/// M4's rows for Enter, `:` and `/` in the main view (the `j`/`k` rows stay in `run`).
pub(crate) fn m4_key_rows(report: &mut Report, k: &KeyFigures) {
    let launch = format!(
        "a second TUI launch, after the other phases, with the PDBs of M7 in the store; \
         keys from when its CPU went quiet, {} s after its sync",
        k.settle_s.map_or("?".into(), |s| format!("{s:.1}"))
    );
    key_row(
        report,
        "M4",
        "key → frame in the pty: Enter on a node (its pods), p99",
        &k.enter_node,
        20.0,
        format!("{launch}{}", missed(k, "Enter on a node")),
    );
    let (_, colon99) = p50_p99(&k.colon);
    key_row(
        report,
        "M4",
        "key → frame: Enter running `:pods` / `:events` / `:nodes`, p99",
        &k.command,
        20.0,
        format!(
            "the `:` opening the line: p99 {:.2} ms{}{}",
            colon99.unwrap_or(f64::NAN),
            missed(k, ":"),
            missed(k, ": command")
        ),
    );
    key_row(
        report,
        "M4",
        "key → frame: `/` filter in the nodes pane, each keystroke of `node-0001`, p99",
        &k.filter_nodes,
        20.0,
        format!(
            "every keystroke refilters the nodes{}",
            missed(k, "/ in nodes")
        ),
    );
}

/// M7's rows: filter and navigation in the all-pods view, `:pdb`.
pub(crate) fn m7_rows(report: &mut Report, k: &KeyFigures) {
    let pods = k.all_pods.map_or("?".into(), |n| n.to_string());
    let (_, clear99) = p50_p99(&k.filter_clear);
    key_row(
        report,
        "M7",
        &format!("`/` filter keystroke → screen, all-pods view ({pods} pods), p99"),
        &k.filter_pods,
        50.0,
        format!(
            "`{}` typed one key at a time (matches shrink from every pod to one Deployment's); \
             Esc clearing it: p99 {:.1} ms; the frames alone (draw + write; the rows are \
             rebuilt before, in the key's update): p50 {:.1} ms, max {:.1} ms{}",
            k.pod_filter,
            clear99.unwrap_or(f64::NAN),
            p50_p99(&k.filter_frames).0.unwrap_or(f64::NAN),
            k.filter_frames.last().copied().unwrap_or(f64::NAN),
            missed(k, "/ in all pods")
        ),
    );
    key_row(
        report,
        "M7",
        "`G` / `g` / PgDn → screen, all-pods view, p99",
        &k.nav,
        20.0,
        format!(
            "PgDn, PgDn, G, g in turn{}{}{}",
            missed(k, "PgDn").replace("; ", "; PgDn: "),
            missed(k, "G").replace("; ", "; G: "),
            missed(k, "g").replace("; ", "; g: ")
        ),
    );
    key_row(
        report,
        "M7",
        &format!("`:pdb` Enter → screen, {} PDBs, p99", k.pdbs),
        &k.pdb,
        50.0,
        format!(
            "{M7_PDBS} PDBs (`m7-pdb-*`, one per generated Deployment in turn) created in the \
             simulator's store before this TUI launch, statuses computed in {:.1} s{}",
            k.pdb_setup_s,
            missed(k, ":pdb")
        ),
    );
}
