//! The binary as a shell user meets it: mistakes are one line on stderr (no backtrace, no
//! ANSI codes when redirected), completions and a man page, and the kubectl plugin name.

use std::process::{Command, Output, Stdio};

fn kubedrain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn one_plain_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "no ANSI codes when redirected: {err:?}"
    );
    assert!(
        !err.contains("BACKTRACE") && !err.contains("Location:"),
        "{err}"
    );
    err
}

#[test]
fn user_mistakes_are_one_plain_line() {
    let err = one_plain_line(&kubedrain(&["demo", "--scenario", "nope"]));
    assert!(err.starts_with("kubedrain: no scenario \"nope\""), "{err}");
    // The scenario is fine, but there is no terminal to draw on.
    let err = one_plain_line(&kubedrain(&["demo"]));
    assert!(err.contains("the TUI needs a terminal"), "{err}");
    let err = one_plain_line(&kubedrain(&[]));
    assert!(err.contains("kubedrain plan"), "{err}");
    // --debug asks for the whole report.
    let o = kubedrain(&["demo", "--scenario", "nope", "--debug"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Location:"), "{err}");
}

#[test]
fn completions_and_man_page() {
    let o = kubedrain(&["completions", "bash"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("complete -F _kubedrain") && s.contains("campaign"),
        "{s}"
    );
    let o = kubedrain(&["completions", "zsh"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("#compdef kubedrain"));
    let o = kubedrain(&["man"]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains(".TH kubedrain 1") && s.contains("campaign"),
        "{s}"
    );
    let o = kubedrain(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "clap rejects an unknown shell");
}

#[test]
fn as_a_kubectl_plugin_it_calls_itself_kubectl_kubedrain() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-kubedrain");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubedrain"), &plugin).unwrap();
    let o = Command::new(&plugin).arg("--help").output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("Usage: kubectl kubedrain"), "{s}");
    let o = Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("Usage: kubedrain"));
}

#[test]
fn logs_go_to_the_file_and_info_names_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/kd.log");
    let o = Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["info", "--log-file"])
        .arg(&log)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .env("KUBEDRAIN_LOG", "debug")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!("log file:   {}", log.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "journal:    {}/journal.jsonl",
            dir.path().display()
        )),
        "{out}"
    );
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("kubedrain starting"), "{written}");
    assert!(!written.contains('\u{1b}'), "no ANSI codes in the file");
    assert!(o.stderr.is_empty(), "nothing on the screen");
    // A level that is not a filter is a clear one-line error.
    let o = Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["info"])
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .env("KUBEDRAIN_LOG", "bogus===")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let err = one_plain_line(&o);
    assert!(err.contains("KUBEDRAIN_LOG"), "{err}");
}
