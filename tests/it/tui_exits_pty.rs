//! Ways the TUI ends other than `q`: a bug must not leave a garbled terminal, a node
//! half-drained without a word, or a zero exit status (panics are injected in debug builds
//! with `KUBEDRAIN_FAULT_PANIC`); a signal (SIGHUP when the session closes, SIGTERM) interrupts
//! a running drain and journals it before the process ends. The real binary in a PTY.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::pty::Pty;

const LONG: Duration = Duration::from_secs(60);

fn crash_logs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("crash-")
        })
        .collect()
}

/// Terminal state after the process ended: main screen, cursor shown again.
fn assert_restored(pty: &Pty) {
    assert!(!pty.in_alternate_screen(), "left the alternate screen");
    let raw = pty.raw();
    let tail = &raw[raw.len().saturating_sub(4096)..];
    let text = String::from_utf8_lossy(tail);
    let left = text
        .rfind("\x1b[?1049l")
        .expect("leaves the alternate screen");
    let shown = text.rfind("\x1b[?25h").expect("shows the cursor");
    assert!(shown > left.saturating_sub(64), "cursor shown at the end");
}

#[test]
fn a_drain_task_panic_fails_the_drain_keeps_the_cordon_and_exits_non_zero() {
    let state = tempfile::tempdir().unwrap();
    let env = [
        ("KUBEDRAIN_FAULT_PANIC", "after-cordon"),
        ("RUST_BACKTRACE", "0"),
    ];
    let mut pty = Pty::spawn_env(&["demo"], Some(state.path()), &env);
    pty.wait_for_demo();
    pty.drain_node0();
    let s = pty.wait_for_screen("the failed drain", LONG, |s| {
        s.contains("Drain node0 · failed") && s.contains("drain task panicked")
    });
    // The UI goes on: the node keeps its cordon and the status line names the crash log.
    let node0 = s
        .lines()
        .find(|l| l.contains("node0  "))
        .unwrap_or_default();
    assert!(node0.contains("SchedulingDisabled"), "{s}");
    pty.wait_for("the crash named", LONG, |s| {
        s.contains("internal error: injected")
    });
    assert!(pty.in_alternate_screen(), "the TUI still owns the screen");

    pty.send(b"q");
    assert!(
        !pty.wait_exit(LONG),
        "a background panic makes the exit status non-zero"
    );
    assert_restored(&pty);
    let screen = pty.screen();
    assert!(
        screen
            .contains("kubedrain: internal error: injected by KUBEDRAIN_FAULT_PANIC=after-cordon"),
        "{screen}"
    );

    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    let result = journal
        .lines()
        .find(|l| l.contains("\"drain-result\""))
        .unwrap_or_else(|| panic!("a drain result in:\n{journal}"));
    assert!(result.contains("\"outcome\":\"failed\""), "{result}");
    assert!(result.contains("drain task panicked"), "{result}");
    assert!(journal.contains("\"cordoned\""), "{journal}");

    let logs = crash_logs(state.path());
    assert_eq!(logs.len(), 1, "{logs:?}");
    let mode = std::fs::metadata(&logs[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let report = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        report.contains("injected by KUBEDRAIN_FAULT_PANIC"),
        "{report}"
    );
    assert!(!report.contains('\x1b'), "no colour codes in the log");
}

#[test]
fn a_ui_panic_restores_the_terminal_and_says_one_line() {
    let state = tempfile::tempdir().unwrap();
    let env = [("KUBEDRAIN_FAULT_PANIC", "key"), ("RUST_BACKTRACE", "0")];
    let mut pty = Pty::spawn_env(&["demo"], Some(state.path()), &env);
    pty.wait_for_demo();
    pty.send(b"j");
    assert!(!pty.wait_exit(LONG), "a panic exits non-zero");
    assert_restored(&pty);
    let screen = pty.screen();
    let lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("internal error"))
        .collect();
    assert_eq!(lines.len(), 1, "one line:\n{screen}");
    assert!(
        lines[0].starts_with("kubedrain: internal error: injected by KUBEDRAIN_FAULT_PANIC=key"),
        "{screen}"
    );
    let log = crash_logs(state.path());
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(lines[0].contains(&log[0].display().to_string()), "{screen}");
}

#[test]
fn a_signal_mid_drain_interrupts_it_journals_it_and_restores_the_terminal() {
    for signal in ["-HUP", "-TERM"] {
        let state = tempfile::tempdir().unwrap();
        let mut pty = Pty::spawn(&["demo", "--scenario", "pdb-blocked"], Some(state.path()));
        pty.wait_for_demo();
        pty.drain_node0();
        pty.wait_for("the PDB holds the drain", LONG, |s| {
            s.contains("blocked by PDB shop/checkout")
        });
        let pid = pty.pid().to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        pty.wait_exit(LONG);
        assert_restored(&pty);
        let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
        let result = journal
            .lines()
            .rfind(|l| l.contains("\"drain-result\""))
            .unwrap_or_else(|| panic!("{signal}: a drain result in:\n{journal}"));
        assert!(
            result.contains("\"outcome\":\"interrupted\""),
            "{signal}: {result}"
        );
    }
}
