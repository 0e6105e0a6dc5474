//! Processes: CPU pinning, /proc sampling (RSS, peak, CPU time) and pinned child runs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use color_eyre::Result;
use color_eyre::eyre::{WrapErr, eyre};

use super::*;

/// Pins the calling thread (and the threads it starts later) to one CPU.
pub(crate) fn pin_self(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes inside it; sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// The machine's online CPUs. Not `available_parallelism`: that counts the CPUs this process
/// may run on, which is 1 once the harness has pinned itself to CPU 0, so every client was
/// then started without `taskset -c 1` and ran on CPU 0 beside the simulator.
pub(crate) fn cpus() -> usize {
    // SAFETY: sysconf reads a system value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// `taskset -c CPU` prefix, when taskset exists and there is a second CPU.
pub(crate) fn pin_prefix() -> Option<PathBuf> {
    which("taskset")
}

/// VmRSS and VmHWM of a process, in MB.
pub(crate) fn rss_hwm(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let l = s.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = l.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets a process's VmHWM to its current RSS (Linux `clear_refs` 5).
pub(crate) fn reset_hwm(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// utime + stime of a process, in seconds.
pub(crate) fn cpu_secs(pid: u32) -> Option<f64> {
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

/// Major page faults of `pid` so far (pages it waited for the disk for: on this machine the
/// host pages out memory a process has not touched lately, which shows as latency tails).
pub(crate) fn major_faults(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    // majflt is field 12 overall → index 9 after the command.
    rest.split_whitespace().nth(9)?.parse().ok()
}

/// Samples a process's RSS every 100 ms until stopped; keeps the maximum seen.
pub(crate) struct RssSampler {
    pub(crate) max: Arc<Mutex<f64>>,
    pub(crate) stop: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    /// Samples VmRSS and VmHWM of `pid` every `period` once it runs `program` (samples taken
    /// before the exec would show the harness's own memory: a spawned child shares it until
    /// then, which is also why `ru_maxrss` is not used).
    pub(crate) fn start(pid: u32, program: &Path, period: Duration) -> RssSampler {
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

    pub(crate) fn max(&self) -> f64 {
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
pub(crate) struct Run {
    pub(crate) wall: Duration,
    pub(crate) max_rss_mb: f64,
    pub(crate) cpu_s: f64,
    pub(crate) ok: bool,
    pub(crate) stdout_lines: usize,
    pub(crate) stderr: String,
}

/// Runs a command pinned to CPU 1, stdout counted (not kept), and reports its rusage.
pub(crate) fn run_pinned(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<Run> {
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
