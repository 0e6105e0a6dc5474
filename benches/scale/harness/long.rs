//! M8, a long session (`--long`): kubedrain's TUI on its default screen for an hour of pod
//! churn (20 events/s, round robin over every pod) with a forced relist every 10 minutes, its
//! RSS and CPU time sampled all along. It reports the RSS drift between two settled windows,
//! the CPU of each relist period and every relist's duration, in `long.{md,json}`; it asserts
//! nothing.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use color_eyre::Result;
use color_eyre::eyre::eyre;
use kubedrain::benchlog::Entry;
use kubedrain::sim::churn::Churn;
use serde_json::json;

use super::long_report::{analyse, series_markdown, series_step};
use super::*;

/// First churn sequence number: seven digits, so no six-digit screen scan can match it.
const SEQ_LONG: u64 = 1_000_000;
/// M8's drift target, percent.
pub const DRIFT_TARGET_PCT: f64 = 5.0;
/// CPU counts as stable when the busiest relist period used at most this many times the CPU
/// of the quietest one: a per-event cost growing with a map would climb steadily past it,
/// while a shared, loaded machine moves single periods by some tens of percent.
pub const CPU_STABLE_RATIO: f64 = 1.5;

/// What the long session runs.
#[derive(Debug, Clone)]
pub struct LongBench {
    pub base: Config,
    pub minutes: f64,
    /// Minutes between forced relists (the first comes one period after churn starts).
    pub relist_every_min: f64,
    /// Churn, events per second.
    pub rate: f64,
    /// Seconds between RSS / CPU samples.
    pub sample_s: f64,
}

impl LongBench {
    /// The full run: an hour, a relist every 10 minutes, 20 events/s, a sample every 10 s.
    pub fn new(base: Config) -> LongBench {
        LongBench {
            base,
            minutes: 60.0,
            relist_every_min: 10.0,
            rate: 20.0,
            sample_s: 10.0,
        }
    }

    /// The CI variant: 90 s, a relist every 30 s (two of them), a sample every 5 s.
    pub fn quick(mut self) -> LongBench {
        self.minutes = 1.5;
        self.relist_every_min = 0.5;
        self.sample_s = 5.0;
        self
    }

    pub fn duration_s(&self) -> f64 {
        self.minutes * 60.0
    }

    pub fn period_s(&self) -> f64 {
        self.relist_every_min * 60.0
    }

    /// The drift's reference: the second half of the period after the first relist, i.e.
    /// [1.5 P, 2 P) (15–20 min in the full run). Not earlier: the first minutes legitimately
    /// fill caches and the first relist's transient; not a window holding a relist.
    pub fn ref_window(&self) -> (f64, f64) {
        let p = self.period_s();
        (1.5 * p, 2.0 * p)
    }

    /// The drift's end: the last half period, (D − P/2, D] (55–60 min), the same phase of a
    /// relist period as the reference, so the two compare like with like.
    pub fn last_window(&self) -> (f64, f64) {
        let d = self.duration_s();
        (d - self.period_s() / 2.0, d)
    }
}

/// One RSS / CPU sample of the TUI.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    /// Nominal time since churn started (a multiple of the sample period), s.
    pub t_s: f64,
    /// When it was actually taken, s.
    pub at_s: f64,
    pub rss_mb: f64,
    /// utime + stime of the TUI so far, s.
    pub cpu_s: f64,
    /// Frames the TUI drew since the previous sample.
    pub frames: u64,
}

/// One forced relist.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Relist {
    /// When it was forced, s since churn started.
    pub at_s: f64,
    /// Until the TUI logged `synced pods` again; None if it did not before the next relist.
    pub took_s: Option<f64>,
}

/// A stretch of the session: its CPU use, RSS and relists.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Window {
    pub from_s: f64,
    pub to_s: f64,
    pub cpu_pct: Option<f64>,
    pub rss_median_mb: Option<f64>,
    pub rss_max_mb: Option<f64>,
    pub frames: u64,
    pub relists: usize,
}

/// What the long session produced.
pub struct LongResult {
    pub report: Report,
    pub samples: Vec<Sample>,
    pub relists: Vec<Relist>,
    /// One window per relist period.
    pub cpu_windows: Vec<Window>,
    pub drift_pct: Option<f64>,
}

/// What the TUI run measured.
pub(crate) struct Session {
    pub(crate) rss_after_sync: Option<f64>,
    pub(crate) hwm_end: Option<f64>,
    pub(crate) samples: Vec<Sample>,
    pub(crate) relists: Vec<Relist>,
    pub(crate) events: usize,
    /// Visible churned pods showing their latest change at the end, of how many.
    pub(crate) shown: (usize, usize),
    pub(crate) notes: Vec<String>,
}

/// Reads the bench log's new lines only: over an hour it holds ~100k frame lines, too many to
/// re-parse every poll.
struct LogTail {
    path: PathBuf,
    offset: u64,
    carry: String,
}

impl LogTail {
    fn at_end(path: &Path) -> LogTail {
        LogTail {
            path: path.to_path_buf(),
            offset: std::fs::metadata(path).map_or(0, |m| m.len()),
            carry: String::new(),
        }
    }

    fn read(&mut self) -> Vec<Entry> {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut text = std::mem::take(&mut self.carry);
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let before = text.len();
        let _ = f.read_to_string(&mut text);
        self.offset += (text.len() - before) as u64;
        // A line may be half written: keep it for the next read.
        let cut = text.rfind('\n').map_or(0, |i| i + 1);
        self.carry = text[cut..].to_string();
        kubedrain::benchlog::parse(&text[..cut])
    }
}

/// Runs the session and writes `long.{md,json}` to the output directory.
pub fn run_long(lb: &LongBench, command: &str) -> Result<LongResult> {
    let cfg = &lb.base;
    let dir = tempfile::tempdir()?;
    let pinned = cpus() > 1 && pin_prefix().is_some() && pin_self(0);
    let load_before = loadavg();
    let ticks_before = cpu_ticks();
    // At the start: the checkout may move during an hour.
    let commit = commit();
    log(
        cfg,
        format!(
            "M8: simulator with {} nodes × {} pods",
            cfg.nodes, cfg.pods_per_node
        ),
    );
    let (sim, sim_took) = Sim::start(cfg, dir.path())?;
    let keys = sim.all_pod_keys();
    let session = session(lb, &sim, dir.path(), keys.clone());
    sim.stop();
    let session = session?;
    let mut report = Report {
        title: "kubedrain long-session benchmark (M8)".into(),
        date: utc_now(),
        command: command.to_string(),
        nodes: cfg.nodes + 1,
        pods: keys.len(),
        pinning: if pinned {
            "simulator + harness + churn on CPU 0 (sched_setaffinity); the TUI on CPU 1".into()
        } else {
            "none (no taskset or a single CPU): simulator and TUI share the CPUs".into()
        },
        kubectl_version: "not used".into(),
        kubectl_cache: "–".into(),
        load_before,
        load_after: loadavg(),
        steal_pct: steal_pct(ticks_before, cpu_ticks()),
        rows: Vec::new(),
        notes: Vec::new(),
    };
    let result = analyse(lb, session, &mut report, sim_took);
    let doc = format!(
        "{}{}",
        report.document(),
        series_markdown(lb, &result, &commit)
    );
    std::fs::create_dir_all(&cfg.out_dir)?;
    std::fs::write(cfg.out_dir.join("long.md"), &doc)?;
    let json = json!({
        "report": report,
        "commit": commit,
        "duration_s": lb.duration_s(),
        "relist_every_s": lb.period_s(),
        "rate": lb.rate,
        "ref_window_s": lb.ref_window(),
        "last_window_s": lb.last_window(),
        "drift_pct": result.drift_pct,
        "cpu_windows": result.cpu_windows,
        "series": windows(&result.samples, series_step(lb), lb.duration_s(), &result.relists),
        "relists": result.relists,
        "samples": result.samples,
    });
    std::fs::write(
        cfg.out_dir.join("long.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    Ok(LongResult { report, ..result })
}

/// The TUI from launch to quit: sync, then churn with relists while sampling.
fn session(lb: &LongBench, sim: &Sim, dir: &Path, keys: Vec<(String, String)>) -> Result<Session> {
    let cfg = &lb.base;
    let log_path = dir.join("tui-long.log");
    let envs = [(kubedrain::benchlog::ENV, log_path.display().to_string())];
    log(cfg, "M8: launching the TUI");
    let mut term = Term::spawn(&cfg.bin, &["--kubeconfig", sim.kc()], &envs, Mode::Screen)?;
    let pid = term.pid;
    let timeout = Duration::from_secs(600);
    let nodes = wait_log(&log_path, "synced nodes", 1, timeout);
    let pods = wait_log(&log_path, "synced pods", 1, timeout);
    if nodes.is_empty() || pods.is_empty() {
        return Err(eyre!("M8: the TUI did not sync within {timeout:?}"));
    }
    // Settle as M2 does, then the baseline.
    std::thread::sleep(Duration::from_secs(2));
    let rss_after_sync = rss_hwm(pid).map(|r| r.0);
    let mut tail = LogTail::at_end(&log_path);
    log(
        cfg,
        format!(
            "M8: synced, RSS {rss_after_sync:?} MB; churn at {}/s over {} pods for {} min",
            lb.rate,
            keys.len(),
            lb.minutes
        ),
    );
    let churn = Churn::start(sim.sim().store().clone(), keys, lb.rate, None, SEQ_LONG);
    let (samples, relists, mut notes) = record(lb, sim, pid, &mut tail);
    let events = churn.stop().len();
    let hwm_end = rss_hwm(pid).map(|r| r.1);
    // Changes still reach the screen after every relist: the last one of each visible pod.
    std::thread::sleep(Duration::from_secs(2));
    let shown = latest_shown(sim, &term.screen());
    term.send(b"q");
    if !term.wait_exit(Duration::from_secs(10)) {
        notes.push("the TUI did not exit on q within 10 s (killed)".into());
    }
    Ok(Session {
        rss_after_sync,
        hwm_end,
        samples,
        relists,
        events,
        shown,
        notes,
    })
}

/// Of the churned pods of the node the pods pane shows (named on screen), how many show their
/// latest change (its sequence number as the restart count): (shown, churned and named).
fn latest_shown(sim: &Sim, screen: &str) -> (usize, usize) {
    // The pods pane's title names the selected node: "Pods (30) · node-00000".
    let node = screen.lines().find_map(|l| {
        let rest = &l[l.find("Pods (")?..];
        let after = &rest[rest.find(") · ")? + ") · ".len()..];
        after.split_whitespace().next().map(str::to_string)
    });
    let Some(node) = node else {
        return (0, 0);
    };
    let (mut shown, mut named) = (0, 0);
    for (ns, name) in sim.pods_on(&node) {
        let Some(line) = screen.lines().find(|l| l.contains(name.as_str())) else {
            continue;
        };
        let seq = sim
            .sim()
            .store()
            .get(kubedrain::sim::Kind::Pod, &ns, &name)
            .and_then(|p| p["status"]["containerStatuses"][0]["restartCount"].as_u64());
        if let Some(seq) = seq.filter(|s| *s >= SEQ_LONG) {
            named += 1;
            shown += usize::from(line.contains(&seq.to_string()));
        }
    }
    (shown, named)
}

/// The sampling loop: a sample every `sample_s`, a forced relist every period, each relist
/// timed by the TUI's next `synced pods` line.
fn record(
    lb: &LongBench,
    sim: &Sim,
    pid: u32,
    tail: &mut LogTail,
) -> (Vec<Sample>, Vec<Relist>, Vec<String>) {
    let (d, p) = (lb.duration_s(), lb.period_s());
    let start = Instant::now();
    let (mut samples, mut relists, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut next_sample, mut next_relist) = (0.0f64, p);
    // The relist in progress: when it was forced (s since start, and Unix ns).
    let mut pending: Option<(f64, u128)> = None;
    let mut frames = 0u64;
    loop {
        for e in tail.read() {
            match e.what.as_str() {
                "frame" => frames += 1,
                "synced pods" => {
                    if let Some((at_s, t0)) = pending.take() {
                        let took = e.at_nanos.saturating_sub(t0) as f64 / 1e9;
                        log(
                            &lb.base,
                            format!("M8: relist at {at_s:.0} s took {took:.2} s"),
                        );
                        relists.push(Relist {
                            at_s,
                            took_s: Some(took),
                        });
                    }
                }
                _ => {}
            }
        }
        let t = start.elapsed().as_secs_f64();
        if t >= next_sample {
            let (Some((rss_mb, _)), Some(cpu_s)) = (rss_hwm(pid), cpu_secs(pid)) else {
                notes.push(format!("the TUI was gone at {t:.0} s"));
                break;
            };
            samples.push(Sample {
                t_s: next_sample,
                at_s: t,
                rss_mb,
                cpu_s,
                frames,
            });
            frames = 0;
            if (next_sample / 60.0).fract() == 0.0 {
                log(
                    &lb.base,
                    format!("M8: {next_sample:.0} s, RSS {rss_mb:.1} MB, CPU {cpu_s:.1} s"),
                );
            }
            if next_sample >= d {
                break;
            }
            next_sample = (next_sample + lb.sample_s).min(d);
        }
        if t >= next_relist && next_relist < d {
            if let Some((at_s, _)) = pending.take() {
                notes.push(format!(
                    "the relist forced at {at_s:.0} s had not completed when the next was due"
                ));
                relists.push(Relist { at_s, took_s: None });
            }
            // The same forced relist as M2: history compacted, 410 on every open watch.
            pending = Some((t, kubedrain::benchlog::unix_nanos()));
            sim.sim().store().compact();
            sim.sim().faults().expire_open_watches();
            next_relist += p;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if let Some((at_s, _)) = pending {
        notes.push(format!(
            "the relist forced at {at_s:.0} s had not completed at the end"
        ));
        relists.push(Relist { at_s, took_s: None });
    }
    (samples, relists, notes)
}

/// The checked-out commit, if git can tell.
fn commit() -> String {
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
}
