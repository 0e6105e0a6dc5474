//! The scale benchmark harness: kubedrain beside kubectl on the built-in simulator, metrics
//! M1–M6 of `shared/reference/performance.md` §7. It reports figures and never asserts timings.
//!
//! One process: the simulator runs in it (pinned to CPU 0 with the harness), the clients run
//! as child processes pinned to CPU 1 with `taskset`. kubedrain's TUI runs in a 200×50
//! pseudo-terminal whose output is parsed by a vt100 emulator; kubectl runs in the same kind
//! of terminal (its lines are read as they come).
//!
//! Shared by `benches/scale/main.rs` (the command) and `tests/bench_smoke.rs` (a small run).

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use color_eyre::Result;
use color_eyre::eyre::{WrapErr, eyre};
use kubedrain::sim::Kind;
use kubedrain::sim::churn::{Churn, Stamp};
use kubedrain::sim::server::{SimOptions, Simulator};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};

/// Terminal size of the TUI and kubectl runs.
pub const COLS: u16 = 200;
pub const ROWS: u16 = 50;

/// Sequence number ranges of the churn phases (six digits, so they are easy to find on screen).
const SEQ_CALIBRATE: u64 = 600_000;
const SEQ_STEADY: u64 = 700_000;
const SEQ_BURST: u64 = 800_000;
const SEQ_KUBECTL_STEADY: u64 = 710_000;
const SEQ_KUBECTL_BURST: u64 = 850_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub nodes: usize,
    pub pods_per_node: usize,
    /// The kubedrain binary.
    pub bin: PathBuf,
    /// kubectl, if found.
    pub kubectl: Option<PathBuf>,
    /// Where results.{md,json} go.
    pub out_dir: PathBuf,
    /// Seconds of idle measurement (M4 idle CPU).
    pub idle_secs: u64,
    /// Seconds of churn at the steady rate (M3, M6).
    pub steady_secs: u64,
    /// Steady churn rate, events per second.
    pub steady_rate: f64,
    /// Burst: events and rate.
    pub burst_events: u64,
    pub burst_rate: f64,
    /// Key presses for key → frame latency.
    pub keys: usize,
    /// Frames rendered per TestBackend measurement.
    pub frames: usize,
    /// Drain grace periods to run (M5).
    pub graces: Vec<u64>,
    /// Skip kubectl even if present.
    pub no_kubectl: bool,
    /// Print progress to stderr.
    pub verbose: bool,
    /// Live heap bytes of this process, when a counting allocator is installed (the bench
    /// binary has one): used for the per-pod memory breakdown.
    pub live_bytes: Option<fn() -> usize>,
}

impl Config {
    /// The full run's defaults for a cluster size.
    pub fn new(nodes: usize, pods_per_node: usize, bin: PathBuf) -> Config {
        Config {
            nodes,
            pods_per_node,
            bin,
            kubectl: which("kubectl"),
            out_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench"),
            idle_secs: 20,
            steady_secs: 20,
            steady_rate: 20.0,
            burst_events: 2_000,
            burst_rate: 1_000.0,
            keys: 30,
            frames: 200,
            graces: vec![0, 2],
            no_kubectl: false,
            verbose: true,
            live_bytes: None,
        }
    }

    /// Short phases for the CI smoke run.
    pub fn quick(mut self) -> Config {
        self.idle_secs = 3;
        self.steady_secs = 3;
        self.burst_events = 500;
        self.keys = 5;
        self.frames = 20;
        self
    }

    fn kubectl(&self) -> Option<&Path> {
        if self.no_kubectl {
            None
        } else {
            self.kubectl.as_deref()
        }
    }
}

/// One line of the results table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub id: String,
    pub metric: String,
    pub unit: String,
    pub kubedrain: Option<f64>,
    pub kubectl: Option<f64>,
    pub target: String,
    /// Whether kubedrain's figure meets the target (None: no target or not measured).
    pub met: Option<bool>,
    pub note: String,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        match (self.kubedrain, self.kubectl) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }
}

/// Everything one run produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub nodes: usize,
    pub pods: usize,
    pub pinning: String,
    pub kubectl_version: String,
    pub kubectl_cache: String,
    pub load_before: String,
    pub load_after: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    /// Every metric id the harness reports (the smoke test checks they are all there).
    pub const METRICS: [&'static str; 7] = ["SIM", "M1", "M2", "M3", "M4", "M5", "M6"];

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        id: &str,
        metric: &str,
        unit: &str,
        kd: Option<f64>,
        kc: Option<f64>,
        target: &str,
        met: Option<bool>,
        note: impl Into<String>,
    ) {
        self.rows.push(Row {
            id: id.into(),
            metric: metric.into(),
            unit: unit.into(),
            kubedrain: kd,
            kubectl: kc,
            target: target.into(),
            met,
            note: note.into(),
        });
    }

    /// The markdown table.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| # | metric | kubedrain | kubectl | ratio | target | met | note |\n|---|---|---|---|---|---|---|---|"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                r.metric,
                fmt_val(r.kubedrain, &r.unit),
                fmt_val(r.kubectl, &r.unit),
                r.ratio().map_or("–".into(), |x| format!("{x:.2}×")),
                r.target,
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "–",
                },
                r.note
            );
        }
        s
    }

    /// The full markdown document: header, table and notes.
    pub fn document(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# kubedrain scale benchmark\n");
        let _ = writeln!(s, "- date: {}", self.date);
        let _ = writeln!(s, "- command: `{}`", self.command);
        let _ = writeln!(
            s,
            "- cluster: {} nodes, {} pods (simulator, generated)",
            self.nodes, self.pods
        );
        let _ = writeln!(s, "- pinning: {}", self.pinning);
        let _ = writeln!(
            s,
            "- kubectl: {} ({})",
            self.kubectl_version, self.kubectl_cache
        );
        let _ = writeln!(
            s,
            "- load average (1/5/15 min) before: {}; after: {}\n",
            self.load_before, self.load_after
        );
        s.push_str(&self.markdown());
        if !self.notes.is_empty() {
            s.push_str("\nNotes:\n\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}

fn fmt_val(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.is_nan() => "–".into(),
        Some(x) => {
            let num = if x.abs() >= 100.0 {
                format!("{x:.0}")
            } else if x.abs() >= 10.0 {
                format!("{x:.1}")
            } else if x.abs() >= 1.0 {
                format!("{x:.2}")
            } else {
                format!("{x:.3}")
            };
            if unit.is_empty() {
                num
            } else {
                format!("{num} {unit}")
            }
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn log(cfg: &Config, msg: impl AsRef<str>) {
    if cfg.verbose {
        eprintln!("[bench {}] {}", now_hms(), msg.as_ref());
    }
}

fn now_hms() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn utc_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Processes: pinning, /proc sampling, rusage.

/// Pins the calling thread (and the threads it starts later) to one CPU.
fn pin_self(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes inside it; sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `taskset -c CPU` prefix, when taskset exists and there is a second CPU.
fn pin_prefix() -> Option<PathBuf> {
    which("taskset")
}

/// VmRSS and VmHWM of a process, in MB.
fn rss_hwm(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let l = s.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = l.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets a process's VmHWM to its current RSS (Linux `clear_refs` 5).
fn reset_hwm(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// utime + stime of a process, in seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the command: state is index 0, utime is field 14 overall → index 11.
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((ut + st) / hz.max(1.0))
}

/// Samples a process's RSS every 100 ms until stopped; keeps the maximum seen.
struct RssSampler {
    max: Arc<Mutex<f64>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    /// Samples VmRSS and VmHWM of `pid` every `period` once it runs `program` (samples taken
    /// before the exec would show the harness's own memory: a spawned child shares it until
    /// then, which is also why `ru_maxrss` is not used).
    fn start(pid: u32, program: &Path, period: Duration) -> RssSampler {
        let max = Arc::new(Mutex::new(0.0f64));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (m, s) = (max.clone(), stop.clone());
        let comm: String = program
            .file_name()
            .map(|n| n.to_string_lossy().chars().take(15).collect())
            .unwrap_or_default();
        let thread = std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(c) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
                    break;
                };
                if c.trim_end() == comm {
                    match rss_hwm(pid) {
                        Some((rss, hwm)) => {
                            let mut m = m.lock().unwrap();
                            *m = m.max(rss).max(hwm);
                        }
                        None => break,
                    }
                }
                std::thread::sleep(period);
            }
        });
        RssSampler {
            max,
            stop,
            thread: Some(thread),
        }
    }

    fn max(&self) -> f64 {
        *self.max.lock().unwrap()
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A finished one-shot command: wall time, max RSS, CPU, exit status, output.
#[derive(Debug, Clone)]
struct Run {
    wall: Duration,
    max_rss_mb: f64,
    cpu_s: f64,
    ok: bool,
    stdout_lines: usize,
    stderr: String,
}

/// Runs a command pinned to CPU 1, stdout counted (not kept), and reports its rusage.
fn run_pinned(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<Run> {
    let mut cmd = match pin_prefix() {
        Some(ts) if cpus() > 1 => {
            let mut c = Command::new(ts);
            c.arg("-c").arg("1").arg(program);
            c
        }
        _ => Command::new(program),
    };
    cmd.args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .wrap_err_with(|| format!("starting {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let sampler = RssSampler::start(child.id(), program, Duration::from_millis(20));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let counter = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut lines = 0usize;
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|b| **b == b'\n').count();
        }
        lines
    });
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed();
    if r != pid {
        return Err(eyre!("wait4 failed for {}", program.display()));
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let lines = counter.join().unwrap_or(0);
    let stderr = errs.join().unwrap_or_default();
    std::mem::forget(child); // reaped by wait4 above
    Ok(Run {
        wall,
        max_rss_mb: sampler.max(),
        cpu_s: tv(ru.ru_utime) + tv(ru.ru_stime),
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stdout_lines: lines,
        stderr,
    })
}

// ---------------------------------------------------------------------------------------
// The pseudo-terminal.

/// How a terminal's output is watched for churn sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A full-screen program: look at the emulated screen after every read.
    Screen,
    /// A line printer (kubectl -w): look at each new line; no emulation.
    Lines,
}

struct TermState {
    parser: vt100::Parser,
    mode: Mode,
    /// Bytes read so far, and reads.
    chunks: u64,
    lines: u64,
    last_output: Instant,
    carry: Vec<u8>,
    /// Sequence numbers looked for, and when each was first seen.
    range: Option<(u64, u64)>,
    seen: HashMap<u64, SystemTime>,
    eof: bool,
}

fn scan_seqs(text: &[u8], range: (u64, u64), at: SystemTime, seen: &mut HashMap<u64, SystemTime>) {
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_digit() {
            let start = i;
            while i < text.len() && text[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                let n: u64 = std::str::from_utf8(&text[start..i])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if n >= range.0 && n < range.1 {
                    seen.entry(n).or_insert(at);
                }
            }
        } else {
            i += 1;
        }
    }
}

/// A program in a pseudo-terminal, its output read by a thread.
struct Term {
    state: Arc<(Mutex<TermState>, Condvar)>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    pid: u32,
}

impl Term {
    fn spawn(program: &Path, args: &[&str], envs: &[(&str, String)], mode: Mode) -> Result<Term> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| eyre!("openpty: {e}"))?;
        let mut cmd = match pin_prefix() {
            Some(ts) if cpus() > 1 => {
                let mut c = CommandBuilder::new(ts);
                c.args(["-c", "1"]);
                c.arg(program);
                c
            }
            _ => CommandBuilder::new(program),
        };
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| eyre!("spawn {}: {e}", program.display()))?;
        let pid = child.process_id().unwrap_or(0);
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| eyre!("pty reader: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| eyre!("pty writer: {e}"))?;
        let state = Arc::new((
            Mutex::new(TermState {
                parser: vt100::Parser::new(ROWS, COLS, 0),
                mode,
                chunks: 0,
                lines: 0,
                last_output: Instant::now(),
                carry: Vec::new(),
                range: None,
                seen: HashMap::new(),
                eof: false,
            }),
            Condvar::new(),
        ));
        let st = state.clone();
        std::thread::spawn(move || {
            let _master = pair.master; // keep the PTY open while reading
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let (lock, cv) = &*st;
                let mut s = lock.lock().unwrap();
                if n == 0 {
                    s.eof = true;
                    cv.notify_all();
                    break;
                }
                let at = SystemTime::now();
                s.chunks += 1;
                s.last_output = Instant::now();
                match s.mode {
                    Mode::Screen => {
                        s.parser.process(&buf[..n]);
                        if let Some(range) = s.range {
                            let text = s.parser.screen().contents();
                            let seen = &mut s.seen;
                            scan_seqs(text.as_bytes(), range, at, seen);
                        }
                    }
                    Mode::Lines => {
                        let data = &buf[..n];
                        s.lines += data.iter().filter(|b| **b == b'\n').count() as u64;
                        if let Some(range) = s.range {
                            // Numbers may straddle reads: scan from the last line start.
                            let mut text = std::mem::take(&mut s.carry);
                            text.extend_from_slice(data);
                            let cut = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                            let seen = &mut s.seen;
                            scan_seqs(&text[..cut], range, at, seen);
                            s.carry = text[cut..].to_vec();
                        }
                    }
                }
                cv.notify_all();
            }
        });
        Ok(Term {
            state,
            writer,
            child,
            pid,
        })
    }

    fn screen(&self) -> String {
        self.state.0.lock().unwrap().parser.screen().contents()
    }

    fn formatted(&self) -> Vec<u8> {
        self.state
            .0
            .lock()
            .unwrap()
            .parser
            .screen()
            .contents_formatted()
    }

    fn lines(&self) -> u64 {
        self.state.0.lock().unwrap().lines
    }

    fn quiet_for(&self) -> Duration {
        self.state.0.lock().unwrap().last_output.elapsed()
    }

    /// Waits until the screen satisfies `pred`; the time it took, or None on timeout.
    fn wait_screen(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<Duration> {
        let start = Instant::now();
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap();
        loop {
            if pred(&s.parser.screen().contents()) {
                return Some(start.elapsed());
            }
            let left = timeout.checked_sub(start.elapsed())?;
            if s.eof {
                return None;
            }
            s = cv
                .wait_timeout(s, left.min(Duration::from_millis(50)))
                .unwrap()
                .0;
        }
    }

    fn track(&self, range: (u64, u64)) {
        let mut s = self.state.0.lock().unwrap();
        s.range = Some(range);
        s.seen.clear();
        s.carry.clear();
        if s.mode == Mode::Screen {
            // What is already on screen counts as seen now.
            let text = s.parser.screen().contents();
            let seen = &mut s.seen;
            scan_seqs(text.as_bytes(), range, SystemTime::now(), seen);
        }
    }

    fn seen(&self) -> HashMap<u64, SystemTime> {
        self.state.0.lock().unwrap().seen.clone()
    }

    fn untrack(&self) -> HashMap<u64, SystemTime> {
        let mut s = self.state.0.lock().unwrap();
        s.range = None;
        std::mem::take(&mut s.seen)
    }

    fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.flush();
    }

    /// Sends a key and waits until the formatted screen changes: the key → frame latency.
    fn key_latency(&mut self, key: &[u8], timeout: Duration) -> Option<Duration> {
        let before = self.formatted();
        let start = Instant::now();
        self.send(key);
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap();
        let mut chunks = s.chunks;
        loop {
            if s.chunks != chunks {
                chunks = s.chunks;
                if s.parser.screen().contents_formatted() != before {
                    return Some(s.last_output.duration_since(start));
                }
            }
            let left = timeout.checked_sub(start.elapsed())?;
            s = cv
                .wait_timeout(s, left.min(Duration::from_millis(20)))
                .unwrap()
                .0;
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Latency from churn stamps and what a client showed.

#[derive(Debug, Clone, Default)]
struct Latency {
    sent: usize,
    measured: usize,
    lost: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latency of each stamp on a `measured` target: when the client first showed that change or
/// a later one of the same pod (a screen shows the newest state; older changes it never
/// showed were coalesced, not lost). `coalesce = false` (line printers) counts only the
/// change itself. A change never shown by the end is lost.
fn latency(
    stamps: &[Stamp],
    seen: &HashMap<u64, SystemTime>,
    measured: impl Fn(usize) -> bool,
    coalesce: bool,
) -> Latency {
    let mut by_target: HashMap<usize, Vec<&Stamp>> = HashMap::new();
    for s in stamps.iter().filter(|s| measured(s.target)) {
        by_target.entry(s.target).or_default().push(s);
    }
    let mut lat = Vec::new();
    let mut lost = 0;
    let mut sent = 0;
    for list in by_target.values_mut() {
        list.sort_by_key(|s| s.seq);
        // Earliest time any change at index >= i was seen.
        let mut best: Option<SystemTime> = None;
        let mut visible = vec![None; list.len()];
        for (i, s) in list.iter().enumerate().rev() {
            let own = seen.get(&s.seq).copied();
            best = match (coalesce, best, own) {
                (true, Some(b), Some(o)) => Some(b.min(o)),
                (true, b, o) => b.or(o),
                (false, _, o) => o,
            };
            visible[i] = best;
        }
        for (s, v) in list.iter().zip(visible) {
            sent += 1;
            match v.and_then(|v| v.duration_since(s.sent).ok()) {
                Some(d) => lat.push(d.as_secs_f64() * 1000.0),
                None => lost += 1,
            }
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Latency {
        sent,
        measured: lat.len(),
        lost,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(f64::NAN),
    }
}

// ---------------------------------------------------------------------------------------
// The simulator.

struct Sim {
    rt: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    kubeconfig: PathBuf,
}

impl Sim {
    fn start(cfg: &Config, dir: &Path) -> Result<(Sim, Duration)> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let t = Instant::now();
        let sim = rt.block_on(Simulator::start(SimOptions {
            generated: Some((cfg.nodes, cfg.pods_per_node)),
            history: 500_000,
            request_log: 0,
            ..SimOptions::default()
        }))?;
        let took = t.elapsed();
        let kubeconfig = dir.join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)?;
        Ok((
            Sim {
                rt,
                sim: Some(sim),
                kubeconfig,
            },
            took,
        ))
    }

    fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    fn kc(&self) -> &str {
        self.kubeconfig.to_str().unwrap()
    }

    /// A full paged list (limit 500) of pods, as JSON or as Table rows: seconds and bytes.
    fn paged_list(&self, table: bool) -> Result<(f64, usize)> {
        let sim = self.sim();
        let url = sim.url();
        self.rt.block_on(async {
            let client = reqwest_like::Client::new(&url);
            let t = Instant::now();
            let mut cont = String::new();
            let mut bytes = 0;
            loop {
                let mut path = "/api/v1/pods?limit=500".to_string();
                if !cont.is_empty() {
                    path.push_str("&continue=");
                    path.push_str(&cont);
                }
                let body = client.get(&path, table).await?;
                bytes += body.len();
                cont = continue_token(&body).unwrap_or_default();
                if cont.is_empty() {
                    break;
                }
            }
            Ok((t.elapsed().as_secs_f64(), bytes))
        })
    }

    /// Pods on a node, sorted by namespace and name.
    fn pods_on(&self, node: &str) -> Vec<(String, String)> {
        let (_, pods) = self.sim().store().list(Kind::Pod, None);
        pods.iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .map(|p| key_of(p))
            .collect()
    }

    fn all_pod_keys(&self) -> Vec<(String, String)> {
        let (_, pods) = self.sim().store().list(Kind::Pod, None);
        pods.iter().map(|p| key_of(p)).collect()
    }

    fn stop(mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.stop());
            drop(sim);
        }
    }
}

fn key_of(p: &Value) -> (String, String) {
    (
        p["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        p["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

fn continue_token(body: &[u8]) -> Option<String> {
    // The metadata comes first in the simulator's lists; no need to parse the whole body.
    let head = &body[..body.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let i = text.find("\"continue\":\"")? + 12;
    let j = text[i..].find('"')?;
    Some(text[i..i + j].to_string())
}

/// A minimal HTTP/1.1 GET client on hyper (the simulator serves plain HTTP).
mod reqwest_like {
    use color_eyre::Result;
    use color_eyre::eyre::eyre;
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client as HClient;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub struct Client {
        base: String,
        inner: HClient<HttpConnector, Empty<Bytes>>,
    }

    impl Client {
        pub fn new(base: &str) -> Client {
            Client {
                base: base.to_string(),
                inner: HClient::builder(TokioExecutor::new()).build_http(),
            }
        }

        pub async fn get(&self, path: &str, table: bool) -> Result<Vec<u8>> {
            let accept = if table {
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            } else {
                "application/json"
            };
            let req = hyper::Request::get(format!("{}{path}", self.base))
                .header("accept", accept)
                .body(Empty::<Bytes>::new())?;
            let resp = self.inner.request(req).await?;
            if !resp.status().is_success() {
                return Err(eyre!("GET {path}: {}", resp.status()));
            }
            Ok(resp.into_body().collect().await?.to_bytes().to_vec())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The bench log the TUI writes (KUBEDRAIN_BENCH_LOG).

fn read_log(path: &Path) -> Vec<kubedrain::benchlog::Entry> {
    std::fs::read_to_string(path)
        .map(|t| kubedrain::benchlog::parse(&t))
        .unwrap_or_default()
}

fn unix_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Waits until the log has `n` entries named `what`; their times.
fn wait_log(path: &Path, what: &str, n: usize, timeout: Duration) -> Vec<u128> {
    let start = Instant::now();
    loop {
        let hits: Vec<u128> = read_log(path)
            .into_iter()
            .filter(|e| e.what == what)
            .map(|e| e.at_nanos)
            .collect();
        if hits.len() >= n || start.elapsed() > timeout {
            return hits;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn frame_times_us(path: &Path, from: u128, to: u128) -> Vec<f64> {
    let mut v: Vec<f64> = read_log(path)
        .into_iter()
        .filter(|e| e.what == "frame" && e.at_nanos >= from && e.at_nanos <= to)
        .filter_map(|e| e.value.map(|v| v as f64))
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

// ---------------------------------------------------------------------------------------
// The run.

/// Builds the churn target list: the measured pods with `others` interleaved so that one
/// event in `every` is on a measured pod. Returns the targets and how many are measured.
fn interleave(
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

struct TuiFigures {
    first_rows_s: Option<f64>,
    synced_s: Option<f64>,
    /// The TUI's CPU time (user + sys) when it had synced.
    sync_cpu_s: Option<f64>,
    rss_after_sync: Option<f64>,
    hwm_sync: Option<f64>,
    hwm_relist: Option<f64>,
    relist_s: Option<f64>,
    idle_cpu_pct: Option<f64>,
    key_p50_ms: Option<f64>,
    key_p99_ms: Option<f64>,
    steady: Option<Latency>,
    burst: Option<Latency>,
    steady_cpu_pct: Option<f64>,
    frames_sync: Vec<f64>,
    frames_churn: Vec<f64>,
    visible_pods: usize,
}

fn run_tui(cfg: &Config, sim: &Sim, dir: &Path, notes: &mut Vec<String>) -> Result<TuiFigures> {
    let log_path = dir.join("tui-bench.log");
    let _ = std::fs::remove_file(&log_path);
    let envs = [
        (kubedrain::benchlog::ENV, log_path.display().to_string()),
        ("MALLOC_ARENA_MAX", "2".to_string()),
    ];
    log(cfg, "M1/M2: launching the TUI");
    let launched = SystemTime::now();
    let t0 = Instant::now();
    let mut term = Term::spawn(&cfg.bin, &["--kubeconfig", sim.kc()], &envs, Mode::Screen)?;
    let pid = term.pid;
    let sampler = RssSampler::start(pid, &cfg.bin, Duration::from_millis(100));
    let sync_timeout = Duration::from_secs(300);
    let first_rows = term.wait_screen(sync_timeout, |s| s.contains("node-0"));
    let nodes_synced = wait_log(&log_path, "synced nodes", 1, sync_timeout);
    let pods_synced = wait_log(&log_path, "synced pods", 1, sync_timeout);
    let synced_at = nodes_synced.first().max(pods_synced.first()).copied();
    let synced_s = synced_at.map(|t| (t.saturating_sub(unix_nanos(launched))) as f64 / 1e9);
    let sync_cpu_s = cpu_secs(pid);
    log(
        cfg,
        format!(
            "first rows {:?}, synced {:?} s (harness wall {:?})",
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

    // M3: which pods of the selected node are on screen? Stamp each, see which show up.
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

    let mut steady = None;
    let mut steady_cpu_pct = None;
    let mut burst = None;
    let churn_from = kubedrain::benchlog::unix_nanos();
    if !visible.is_empty() {
        // Steady: every event on a visible pod; CPU over the same window (M6).
        log(
            cfg,
            format!(
                "M3/M6: {} events/s for {} s",
                cfg.steady_rate, cfg.steady_secs
            ),
        );
        let n = (cfg.steady_rate * cfg.steady_secs as f64) as u64;
        term.track((SEQ_STEADY, SEQ_STEADY + n));
        let c0 = cpu_secs(pid);
        let t = Instant::now();
        let stamps = Churn::start(
            sim.sim().store().clone(),
            visible.clone(),
            cfg.steady_rate,
            Some(n),
            SEQ_STEADY,
        )
        .finish();
        let dt = t.elapsed().as_secs_f64();
        let c1 = cpu_secs(pid);
        std::thread::sleep(Duration::from_secs(1));
        let seen = term.untrack();
        steady = Some(latency(&stamps, &seen, |_| true, true));
        steady_cpu_pct = match (c0, c1) {
            (Some(a), Some(b)) => Some((b - a) / dt * 100.0),
            _ => None,
        };
        // Burst: one event in ten on a visible pod, the rest all over the cluster.
        log(
            cfg,
            format!(
                "M3: burst of {} events at {}/s",
                cfg.burst_events, cfg.burst_rate
            ),
        );
        let all = sim.all_pod_keys();
        let others: Vec<_> = all
            .iter()
            .filter(|k| !candidates.contains(k))
            .step_by((all.len() / 2000).max(1))
            .cloned()
            .collect();
        let targets = interleave(&visible, &others, 10);
        let measured_n = visible.len();
        let is_measured = |i: usize| i.is_multiple_of(10) && i / 10 < measured_n;
        term.track((SEQ_BURST, SEQ_BURST + cfg.burst_events));
        let stamps = Churn::start(
            sim.sim().store().clone(),
            targets,
            cfg.burst_rate,
            Some(cfg.burst_events),
            SEQ_BURST,
        )
        .finish();
        std::thread::sleep(Duration::from_secs(3));
        let seen = term.untrack();
        burst = Some(latency(&stamps, &seen, is_measured, true));
    } else {
        notes.push(format!(
            "M3: no pod of {node} was visible on the TUI's screen"
        ));
        log(cfg, format!("screen:\n{screen}"));
    }
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
        first_rows_s: first_rows.map(|d| d.as_secs_f64()),
        synced_s,
        sync_cpu_s,
        rss_after_sync,
        hwm_sync,
        hwm_relist,
        relist_s,
        idle_cpu_pct,
        key_p50_ms: (!keys.is_empty()).then(|| percentile(&keys, 0.5)),
        key_p99_ms: (!keys.is_empty()).then(|| percentile(&keys, 0.99)),
        steady,
        burst,
        steady_cpu_pct,
        frames_sync: sync_frames,
        frames_churn: churn_frames,
        visible_pods: visible.len(),
    })
}

struct KubectlFigures {
    get_pods: Option<Run>,
    get_nodes: Option<Run>,
    steady: Option<Latency>,
    burst: Option<Latency>,
    steady_cpu_pct: Option<f64>,
    watch_rss: Option<f64>,
}

fn run_kubectl_reads(
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
    let n = (cfg.steady_rate * cfg.steady_secs as f64) as u64;
    term.track((SEQ_KUBECTL_STEADY, SEQ_KUBECTL_STEADY + n));
    let c0 = cpu_secs(pid);
    let t = Instant::now();
    let stamps = Churn::start(
        sim.sim().store().clone(),
        visible.clone(),
        cfg.steady_rate,
        Some(n),
        SEQ_KUBECTL_STEADY,
    )
    .finish();
    let dt = t.elapsed().as_secs_f64();
    let c1 = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(1));
    let seen = term.untrack();
    let steady = latency(&stamps, &seen, |_| true, false);
    let steady_cpu_pct = match (c0, c1) {
        (Some(a), Some(b)) => Some((b - a) / dt * 100.0),
        _ => None,
    };
    let others: Vec<_> = all
        .iter()
        .filter(|k| !node_pods.contains(k))
        .step_by((all.len() / 2000).max(1))
        .cloned()
        .collect();
    let targets = interleave(&visible, &others, 10);
    term.track((SEQ_KUBECTL_BURST, SEQ_KUBECTL_BURST + cfg.burst_events));
    let stamps = Churn::start(
        sim.sim().store().clone(),
        targets,
        cfg.burst_rate,
        Some(cfg.burst_events),
        SEQ_KUBECTL_BURST,
    )
    .finish();
    std::thread::sleep(Duration::from_secs(3));
    let seen = term.untrack();
    // Every line kubectl prints is an event: measure all of them.
    let burst = latency(&stamps, &seen, |_| true, false);
    let watch_rss = rss_hwm(pid).map(|(_, h)| h);
    drop(term);
    Ok(KubectlFigures {
        get_pods: Some(pods),
        get_nodes: Some(nodes),
        steady: Some(steady),
        burst: Some(burst),
        steady_cpu_pct,
        watch_rss,
    })
}

#[derive(Debug, Clone)]
struct DrainFigures {
    wall_s: f64,
    requests: u64,
    evictions: u64,
    ok: bool,
    left: usize,
    detail: String,
}

fn drain_once(
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

/// Heap per pod (counting allocator): the TUI's pod row as decoded from the simulator's
/// JSON, and the same rows once applied to the TUI model (cache + index), in bytes.
fn memory_breakdown(cfg: &Config, sim: &Sim) -> Option<(usize, f64, f64, f64)> {
    use kubedrain::app::{Msg, update};
    use kubedrain::cluster::rows::PodRow;
    use kubedrain::cluster::watch::{Ev, Feed, WatchReport};
    let live = cfg.live_bytes?;
    let url = sim.sim().url();
    let body = sim
        .rt
        .block_on(async {
            reqwest_like::Client::new(&url)
                .get("/api/v1/pods?limit=5000", false)
                .await
        })
        .ok()?;
    let b0 = live();
    let list: kube::core::ObjectList<PodRow> = serde_json::from_slice(&body).ok()?;
    let b1 = live();
    let n = list.items.len().max(1);
    let mut m = kubedrain::app::fixtures::seed_model((COLS, ROWS));
    let feed = |m: &mut kubedrain::app::Model, f: Feed| {
        update(
            m,
            Msg::Watch {
                generation: 1,
                report: WatchReport::Feed(f),
            },
        );
    };
    feed(&mut m, Feed::Pods(Ev::Init));
    for p in &list.items {
        feed(&mut m, Feed::Pods(Ev::InitApply(p.clone())));
    }
    feed(&mut m, Feed::Pods(Ev::InitDone));
    m.refresh();
    let b2 = live();
    let json_per_pod = body.len() as f64 / n as f64;
    drop(m);
    drop(list);
    Some((
        n,
        json_per_pod,
        b1.saturating_sub(b0) as f64 / n as f64,
        b2.saturating_sub(b1) as f64 / n as f64,
    ))
}

/// M4 in-process: frame time of the main screen with `TestBackend`.
fn frame_bench(cfg: &Config, nodes: usize, pods: usize) -> (f64, f64, f64, f64) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let measure = |all: bool| {
        let m = super::model::scale_model(nodes, pods, (COLS, ROWS), all);
        let mut t = Terminal::new(TestBackend::new(COLS, ROWS)).unwrap();
        let mut v = Vec::new();
        for _ in 0..cfg.frames {
            let s = Instant::now();
            t.draw(|f| kubedrain::ui::render(&m, f)).unwrap();
            v.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (percentile(&v, 0.5), percentile(&v, 0.99))
    };
    let (a50, a99) = measure(false);
    let (b50, b99) = measure(true);
    (a50, a99, b50, b99)
}

fn met(v: Option<f64>, ok: impl Fn(f64) -> bool) -> Option<bool> {
    v.filter(|x| !x.is_nan()).map(ok)
}

/// Runs every metric and writes `results.md` and `results.json` to `cfg.out_dir`.
pub fn run(cfg: &Config, command: &str) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let pods = cfg.nodes * cfg.pods_per_node + kubedrain::sim::generate::PACKED_PODS;
    let pinned = cpus() > 1 && pin_prefix().is_some() && pin_self(0);
    let kubectl = cfg.kubectl().map(Path::to_path_buf);
    let kubectl_version = kubectl
        .as_ref()
        .and_then(|k| {
            Command::new(k)
                .args(["version", "--client"])
                .output()
                .ok()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
        })
        .unwrap_or_else(|| "not found".into());
    let mut report = Report {
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
    sim.stop();

    let kc_m1 = kc.as_ref().and_then(|k| match (&k.get_pods, &k.get_nodes) {
        (Some(p), Some(n)) => Some(p.wall.as_secs_f64() + n.wall.as_secs_f64()),
        _ => None,
    });
    report.row(
        "M1",
        "initial sync: launch → nodes + pods all in the model (kubectl: get pods -A + get nodes)",
        "s",
        tui.synced_s,
        kc_m1,
        "≤ 3 s and ≤ 0.15× kubectl",
        met(tui.synced_s, |x| {
            x <= 3.0 && kc_m1.is_none_or(|k| x <= 0.15 * k)
        }),
        format!(
            "kubedrain: {:.1} s CPU until synced; {}",
            tui.sync_cpu_s.unwrap_or(f64::NAN),
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
        tui.first_rows_s,
        kc.as_ref()
            .and_then(|k| k.get_nodes.as_ref())
            .map(|n| n.wall.as_secs_f64()),
        "≤ 0.5 s (reference)",
        met(tui.first_rows_s, |x| x <= 0.5),
        "",
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
            "heap per pod in the TUI model (cache + index), counting allocator",
            "B",
            Some(model),
            None,
            "",
            None,
            format!(
                "{n} real pods from the simulator: {json:.0} B of JSON each; decoded PodRow {row:.0} B; \
                 in the model {model:.0} B (the decoded copy not counted) → {:.0} MB for {pods} pods",
                model * pods as f64 / 1e6
            ),
        );
    }
    let lat_note = |l: &Option<Latency>| {
        l.as_ref().map_or(String::new(), |l| {
            format!(
                "{} events measured, {} lost, max {:.0} ms",
                l.sent, l.lost, l.max_ms
            )
        })
    };
    let kc_steady = kc.as_ref().and_then(|k| k.steady.clone());
    let kc_burst = kc.as_ref().and_then(|k| k.burst.clone());
    let p = |l: &Option<Latency>, f: fn(&Latency) -> f64| l.as_ref().map(f);
    report.row(
        "M3",
        &format!("watch event → on screen, p50, {}/s", cfg.steady_rate),
        "ms",
        p(&tui.steady, |l| l.p50_ms),
        p(&kc_steady, |l| l.p50_ms),
        "",
        None,
        format!(
            "kubedrain: {}; kubectl: {}",
            lat_note(&tui.steady),
            lat_note(&kc_steady)
        ),
    );
    report.row(
        "M3",
        &format!("watch event → on screen, p99, {}/s", cfg.steady_rate),
        "ms",
        p(&tui.steady, |l| l.p99_ms),
        p(&kc_steady, |l| l.p99_ms),
        "≤ 50 ms, none lost",
        tui.steady.as_ref().map(|l| l.p99_ms <= 50.0 && l.lost == 0),
        "",
    );
    report.row(
        "M3",
        &format!("watch event → on screen, p50, {} events at {}/s", cfg.burst_events, cfg.burst_rate),
        "ms",
        p(&tui.burst, |l| l.p50_ms),
        p(&kc_burst, |l| l.p50_ms),
        "",
        None,
        format!(
            "kubedrain: {} (1 in 10 events on a visible pod; older changes of a pod count as shown when a newer one is); kubectl: {} (every line)",
            lat_note(&tui.burst),
            lat_note(&kc_burst)
        ),
    );
    report.row(
        "M3",
        &format!(
            "watch event → on screen, p99, {} events at {}/s",
            cfg.burst_events, cfg.burst_rate
        ),
        "ms",
        p(&tui.burst, |l| l.p99_ms),
        p(&kc_burst, |l| l.p99_ms),
        "≤ 250 ms, none lost",
        tui.burst.as_ref().map(|l| l.p99_ms <= 250.0 && l.lost == 0),
        "",
    );

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
        "≤ 3 ms",
        met(fp(&tui.frames_sync, 0.99), |x| x <= 3.0),
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
        "≤ 3 ms",
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
        "key → frame latency in the pty, p50",
        "ms",
        tui.key_p50_ms,
        None,
        "",
        None,
        "",
    );
    report.row(
        "M4",
        "key → frame latency in the pty, p99",
        "ms",
        tui.key_p99_ms,
        None,
        "≤ 20 ms (reference)",
        met(tui.key_p99_ms, |x| x <= 20.0),
        "",
    );
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
        let kd = drain_once(cfg, dir.path(), "kubedrain", g, &cache, &mut notes)?;
        let kcd = match cfg.kubectl() {
            Some(_) => Some(drain_once(
                cfg,
                dir.path(),
                "kubectl",
                g,
                &cache,
                &mut notes,
            )?),
            None => None,
        };
        report.row(
            "M5",
            &format!("drain node-packed (110 pods), grace {g} s: time until empty"),
            "s",
            Some(kd.wall_s),
            kcd.as_ref().map(|k| k.wall_s),
            "≤ 2 s and ≥ 10× faster than kubectl",
            Some(
                kd.ok
                    && kd.wall_s <= 2.0
                    && kcd.as_ref().is_none_or(|k| kd.wall_s * 10.0 <= k.wall_s),
            ),
            format!(
                "kubedrain: {}{}; kubectl: {}",
                if kd.ok { "" } else { "FAILED; " },
                kd.detail,
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
        "≤ 2 %",
        met(tui.steady_cpu_pct, |x| x <= 2.0),
        format!(
            "% of one core; kubectl -w RSS peak {}",
            kc.as_ref()
                .and_then(|k| k.watch_rss)
                .map_or("–".into(), |r| format!("{r:.0} MB"))
        ),
    );
    notes.push(format!(
        "M3 used {} pods of the selected node that were visible on the TUI's screen",
        tui.visible_pods
    ));
    notes.push(
        "allocator: glibc malloc with MALLOC_ARENA_MAX=2 for the TUI; kubectl as shipped".into(),
    );
    report.notes = notes;
    report.load_after = loadavg();
    std::fs::create_dir_all(&cfg.out_dir)?;
    std::fs::write(cfg.out_dir.join("results.md"), report.document())?;
    std::fs::write(
        cfg.out_dir.join("results.json"),
        serde_json::to_string_pretty(&json!(report))?,
    )?;
    Ok(report)
}
