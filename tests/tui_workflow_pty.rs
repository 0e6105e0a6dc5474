//! The whole maintenance cycle on `kubedrain demo`, through the real binary in a
//! pseudo-terminal: cordon, drain (plan, live progress, "safe to upgrade"), the simulated
//! upgrade (NotReady, then Ready with a new kubelet), uncordon with versions before → after.
//! Generous deadlines, no timing assertions.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

/// The binary running in a PTY, its output parsed by a vt100 emulator.
struct Pty {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
}

impl Pty {
    fn spawn(args: &[&str], state_dir: &std::path::Path) -> Pty {
        let (rows, cols) = (40, 140);
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
        cmd.env("KUBEDRAIN_STATE_DIR", state_dir);
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let p = parser.clone();
        std::thread::spawn(move || {
            let _master = pair.master; // keep the PTY open while reading
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
        });
        Pty {
            parser,
            writer,
            child,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> Duration {
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
    fn wait_for_screen(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for(what, timeout, &pred);
        self.screen()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the process to exit; returns its success flag.
    fn wait_exit(&mut self, timeout: Duration) -> bool {
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
}

/// The line of the nodes pane showing `node`.
fn node_line(screen: &str, node: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with(&format!("┃{node} ")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn demo_cordon_drain_upgrade_uncordon() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--speed", "5"], state.path());
    let long = Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node0") && s.contains("node1") && s.contains("live")
    });
    // node0 (master0 sorts first).
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    let kubelet_before = node_line(&pty.screen(), "node0")
        .split_whitespace()
        .find(|w| w.starts_with("v1."))
        .expect("node0's kubelet version")
        .to_string();

    // Cordon, with its confirmation.
    pty.send(b"c");
    pty.wait_for("cordon confirmation", long, |s| s.contains("Cordon node0?"));
    pty.send(b"\r");
    pty.wait_for("node0 cordoned", long, |s| {
        node_line(s, "node0").contains("SchedulingDisabled")
    });

    // Drain: options, plan, live progress until only DaemonSet pods are left.
    pty.send(b"r");
    pty.wait_for("drain options", long, |s| {
        s.contains("Drain node0 · options") && s.contains("[x] --ignore-daemonsets")
    });
    pty.send(b"\r");
    pty.wait_for("the plan", long, |s| {
        s.contains("Drain plan") && s.contains("ready to drain") && s.contains("evict")
    });
    pty.send(b"\r");
    pty.wait_for("the live drain view", long, |s| s.contains("Drain node0 ·"));
    let s = pty.wait_for_screen("drained and safe", long, |s| {
        s.contains("node0 is drained and safe to upgrade")
    });
    assert!(s.contains("0 of "), "gauge at zero pods left:\n{s}");
    // The replacements run on node1 now; node0 keeps its DaemonSet pods only.
    assert!(s.contains("on node1"), "{s}");

    // Simulated OS upgrade: NotReady (or Unknown) for a moment, then Ready with a new kubelet.
    pty.send(b"U");
    pty.wait_for("node0 rebooting", long, |s| {
        let l = node_line(s, "node0");
        l.contains("NotReady") || l.contains("Unknown")
    });
    pty.wait_for("node0 back with a new kubelet", long, |s| {
        let l = node_line(s, "node0");
        l.contains("Ready,SchedulingDisabled")
            && !l.contains("NotReady")
            && !l.contains(&format!(" {kubelet_before} "))
    });

    // Uncordon: the confirmation shows the versions when cordoned and now.
    pty.send(b"u");
    let s = pty.wait_for_screen("uncordon confirmation", long, |s| {
        s.contains("Uncordon node0?") && s.contains("when cordoned")
    });
    let kubelet = s
        .lines()
        .find(|l| l.contains("kubelet ") && l.contains("← new"))
        .unwrap_or_else(|| panic!("kubelet before → now in:\n{s}"));
    assert!(kubelet.contains(&kubelet_before), "{kubelet}");
    assert!(s.contains("Condition Ready"), "{s}");
    pty.send(b"\r");
    pty.wait_for("node0 schedulable and Ready", long, |s| {
        let l = node_line(s, "node0");
        l.contains("Ready") && !l.contains("SchedulingDisabled") && !l.contains("NotReady")
    });

    pty.send(b"q");
    assert!(
        pty.wait_exit(Duration::from_secs(10)),
        "q exits successfully"
    );
    // Everything went through the journal in KUBEDRAIN_STATE_DIR.
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    for action in ["\"cordon\"", "\"drain-result\"", "\"uncordon\""] {
        assert!(journal.contains(action), "{action} in:\n{journal}");
    }
}

#[test]
fn demo_readonly_hides_and_refuses_the_workflow() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--readonly"], state.path());
    let long = Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node0") && s.contains("live") && s.contains("READ-ONLY")
    });
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    let s = pty.screen();
    assert!(!s.contains("cordon") && !s.contains("upgrade"), "{s}");
    pty.send(b"crU");
    std::thread::sleep(Duration::from_millis(500));
    let s = pty.screen();
    assert!(
        !s.contains("Cordon node0?") && !s.contains("options") && !s.contains("upgrading"),
        "{s}"
    );
    assert!(
        !node_line(&s, "node0").contains("SchedulingDisabled"),
        "{s}"
    );
    pty.send(b"q");
    assert!(pty.wait_exit(Duration::from_secs(10)));
}
