//! The real binary in a pseudo-terminal, its output parsed by a vt100 emulator (and, for
//! `spawn_recorded`, recorded as an asciicast with markers at the script's checkpoints).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::cast::{Cast, Recorder};

/// The `kubedrain` binary running in a PTY (140×40 unless spawned recorded).
pub struct Pty {
    term: Arc<Mutex<Term>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// Kept to resize the terminal; the reader thread holds its own descriptor.
    master: Box<dyn MasterPty + Send>,
}

/// What the binary wrote: parsed, raw, and recorded if asked. One lock, so a marker is
/// recorded after exactly the output the screen it marks was parsed from.
struct Term {
    parser: vt100::Parser,
    raw: Vec<u8>,
    recorder: Option<Recorder>,
}

impl Pty {
    /// Starts the binary with `args`, no KUBECONFIG, and the journal in `state_dir` if given.
    pub fn spawn(args: &[&str], state_dir: Option<&Path>) -> Pty {
        Pty::spawn_env(args, state_dir, &[])
    }

    /// [`Pty::spawn`] with extra environment variables.
    pub fn spawn_env(args: &[&str], state_dir: Option<&Path>, env: &[(&str, &str)]) -> Pty {
        Pty::start(args, state_dir, env, (40, 140), None)
    }

    /// [`Pty::spawn_env`] at `rows`×`cols`, every byte written and key typed recorded.
    pub fn spawn_recorded(
        args: &[&str],
        state_dir: Option<&Path>,
        env: &[(&str, &str)],
        (rows, cols): (u16, u16),
    ) -> Pty {
        Pty::start(
            args,
            state_dir,
            env,
            (rows, cols),
            Some(Recorder::default()),
        )
    }

    fn start(
        args: &[&str],
        state_dir: Option<&Path>,
        env: &[(&str, &str)],
        (rows, cols): (u16, u16),
        recorder: Option<Recorder>,
    ) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_kubedrain"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("KUBECONFIG");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(dir) = state_dir {
            cmd.env("KUBEDRAIN_STATE_DIR", dir);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let term = Arc::new(Mutex::new(Term {
            parser: vt100::Parser::new(rows, cols, 0),
            raw: Vec::new(),
            recorder,
        }));
        let t = term.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = t.lock().unwrap();
                t.parser.process(&buf[..n]);
                t.raw.extend_from_slice(&buf[..n]);
                if let Some(r) = t.recorder.as_mut() {
                    r.output(&buf[..n]);
                }
            }
        });
        Pty {
            term,
            writer,
            child,
            master: pair.master,
        }
    }

    /// Resizes the terminal (the binary gets SIGWINCH) and the emulator reading it.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        // The emulator first, so the first bytes drawn for the new size land in it.
        self.term.lock().unwrap().parser.set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// The screen's text now.
    pub fn screen(&self) -> String {
        self.term.lock().unwrap().parser.screen().contents()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return start.elapsed();
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Like `wait_for`, returning the screen that matched.
    pub fn wait_for_screen(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for(what, timeout, &pred);
        self.screen()
    }

    /// Types `bytes`.
    pub fn send(&mut self, bytes: &[u8]) {
        if let Some(r) = self.term.lock().unwrap().recorder.as_mut() {
            r.input(bytes);
        }
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the process to exit; returns its success flag.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread catch the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return status.success();
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "did not exit within {timeout:?}; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The rows (trimmed text) drawn in reverse video from their first character on.
    pub fn reverse_rows(&self) -> Vec<String> {
        let t = self.term.lock().unwrap();
        let screen = t.parser.screen();
        let (rows, cols) = screen.size();
        (0..rows)
            .filter(|&r| (1..cols.min(20)).all(|c| screen.cell(r, c).is_some_and(|x| x.inverse())))
            .map(|r| screen.contents_between(r, 0, r, cols).trim().to_string())
            .collect()
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("a running child")
    }

    /// Whether the terminal is in the alternate screen now.
    pub fn in_alternate_screen(&self) -> bool {
        self.term.lock().unwrap().parser.screen().alternate_screen()
    }

    /// Every byte the binary wrote so far.
    pub fn raw(&self) -> Vec<u8> {
        self.term.lock().unwrap().raw.clone()
    }

    /// Waits until `key` of the screen is `Some` and has stayed the same for `settle`, then
    /// records a marker named `label` there and returns that screen; panics after `timeout`.
    /// `key` leaves out what changes by itself (ages, clocks), so a screen that keeps
    /// ticking still settles.
    pub fn checkpoint(
        &self,
        label: &str,
        timeout: Duration,
        settle: Duration,
        key: impl Fn(&str) -> Option<String>,
    ) -> String {
        let start = Instant::now();
        let mut stable: Option<(String, Instant)> = None;
        loop {
            {
                let mut t = self.term.lock().unwrap();
                let s = t.parser.screen().contents();
                match key(&s) {
                    Some(k) if stable.as_ref().is_some_and(|(was, _)| *was == k) => {
                        if stable
                            .as_ref()
                            .is_some_and(|(_, since)| since.elapsed() >= settle)
                        {
                            let r = t.recorder.as_mut().expect("a recorded PTY");
                            r.marker(label);
                            return s;
                        }
                    }
                    Some(k) => stable = Some((k, Instant::now())),
                    None => stable = None,
                }
                if start.elapsed() > timeout {
                    panic!("timed out after {timeout:?} waiting for {label}; screen:\n{s}");
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The recording so far (of a PTY from [`Pty::spawn_recorded`]).
    pub fn cast(&self) -> Cast {
        let t = self.term.lock().unwrap();
        let (rows, cols) = t.parser.screen().size();
        t.recorder
            .as_ref()
            .expect("a recorded PTY")
            .cast(cols, rows)
    }

    /// Waits for the demo's nodes, live.
    pub fn wait_for_demo(&self) {
        self.wait_for("the demo cluster", DEMO_WAIT, |s| {
            s.contains("node0") && s.contains("live")
        });
    }

    /// Selects node0 (master0 sorts first), opens its drain options, then the plan, and
    /// starts the drain with the default options (the plan must allow it).
    pub fn drain_node0(&mut self) {
        self.send(b"j");
        self.wait_for("node0 selected", DEMO_WAIT, |s| s.contains("· node0"));
        self.send(b"r");
        self.wait_for("drain options", DEMO_WAIT, |s| {
            s.contains("--ignore-daemonsets")
        });
        self.send(b"\r");
        self.wait_for("the plan", DEMO_WAIT, |s| s.contains("Drain plan"));
        self.send(b"\r");
    }
}

/// How long the demo helpers wait for each screen.
const DEMO_WAIT: Duration = Duration::from_secs(60);
