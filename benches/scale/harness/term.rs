//! The pseudo-terminal a client runs in, parsed by a vt100 emulator, and what it showed when.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use color_eyre::Result;
use color_eyre::eyre::eyre;
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

use super::*;

/// How a terminal's output is watched for churn sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A full-screen program: look at the emulated screen after every read.
    Screen,
    /// A line printer (kubectl -w): look at each new line; no emulation.
    Lines,
}

pub(crate) struct TermState {
    pub(crate) parser: vt100::Parser,
    pub(crate) mode: Mode,
    /// Bytes read so far, and reads.
    pub(crate) chunks: u64,
    pub(crate) lines: u64,
    pub(crate) last_output: Instant,
    pub(crate) carry: Vec<u8>,
    /// Sequence numbers looked for, and when each was first seen.
    pub(crate) range: Option<(u64, u64)>,
    pub(crate) seen: HashMap<u64, SystemTime>,
    pub(crate) eof: bool,
}

pub(crate) fn scan_seqs(
    text: &[u8],
    range: (u64, u64),
    at: SystemTime,
    seen: &mut HashMap<u64, SystemTime>,
) {
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
pub(crate) struct Term {
    pub(crate) state: Arc<(Mutex<TermState>, Condvar)>,
    pub(crate) writer: Box<dyn Write + Send>,
    pub(crate) child: Box<dyn Child + Send + Sync>,
    pub(crate) pid: u32,
}

impl Term {
    pub(crate) fn spawn(
        program: &Path,
        args: &[&str],
        envs: &[(&str, String)],
        mode: Mode,
    ) -> Result<Term> {
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

    pub(crate) fn screen(&self) -> String {
        self.state.0.lock().unwrap().parser.screen().contents()
    }

    pub(crate) fn formatted(&self) -> Vec<u8> {
        self.state
            .0
            .lock()
            .unwrap()
            .parser
            .screen()
            .contents_formatted()
    }

    pub(crate) fn lines(&self) -> u64 {
        self.state.0.lock().unwrap().lines
    }

    pub(crate) fn quiet_for(&self) -> Duration {
        self.state.0.lock().unwrap().last_output.elapsed()
    }

    /// Waits until the screen satisfies `pred`; the time it took, or None on timeout.
    pub(crate) fn wait_screen(
        &self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<Duration> {
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

    pub(crate) fn track(&self, range: (u64, u64)) {
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

    pub(crate) fn seen(&self) -> HashMap<u64, SystemTime> {
        self.state.0.lock().unwrap().seen.clone()
    }

    pub(crate) fn untrack(&self) -> HashMap<u64, SystemTime> {
        let mut s = self.state.0.lock().unwrap();
        s.range = None;
        std::mem::take(&mut s.seen)
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.flush();
    }

    /// Sends a key and waits until the formatted screen changes: the key → frame latency.
    pub(crate) fn key_latency(&mut self, key: &[u8], timeout: Duration) -> Option<Duration> {
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

    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> bool {
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
