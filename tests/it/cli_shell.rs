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

/// Each subcommand's help lists the global flags that mean something there and no others
/// (`sim --readonly` or `cordon -n` would be read and then ignored).
#[test]
fn each_subcommands_help_lists_only_the_flags_that_apply_there() {
    let flags = |args: &[&str]| -> Vec<String> {
        let o = kubedrain(args);
        assert!(o.status.success(), "{args:?}");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .split([' ', ','])
                    .find(|w| w.starts_with("--"))
            })
            .map(String::from)
            .collect()
    };
    // `--dry-run[=<STRATEGY>]` is `--dry-run`.
    let has = |f: &[String], flag: &str| f.iter().any(|x| x.split('[').next() == Some(flag));
    let root = flags(&["--help"]);
    for flag in [
        "--kubeconfig",
        "--context",
        "--namespace",
        "--readonly",
        "--no-journal",
    ] {
        assert!(has(&root, flag), "the TUI takes {flag}: {root:?}");
    }
    let sim = flags(&["sim", "--help"]);
    for flag in [
        "--kubeconfig",
        "--context",
        "--namespace",
        "--request-timeout",
        "--readonly",
    ] {
        assert!(!has(&sim, flag), "sim lists {flag}: {sim:?}");
    }
    assert!(
        has(&sim, "--kubeconfig-out") && has(&sim, "--log-file") && !has(&sim, "--config"),
        "{sim:?}"
    );
    let drain = flags(&["drain", "--help"]);
    for flag in [
        "--kubeconfig",
        "--context",
        "--readonly",
        "--no-journal",
        "--request-timeout",
    ] {
        assert!(has(&drain, flag), "drain takes {flag}: {drain:?}");
    }
    assert!(!has(&drain, "--namespace"), "{drain:?}");
    let cordon = flags(&["cordon", "--help"]);
    assert!(
        !has(&cordon, "--namespace") && has(&cordon, "--dry-run"),
        "{cordon:?}"
    );
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

#[test]
fn an_unknown_output_format_is_a_usage_error() {
    let o = kubedrain(&["plan", "node0", "-o", "yaml"]);
    assert_eq!(o.status.code(), Some(2), "clap's usage error");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("'yaml'") && err.contains("text") && err.contains("json"),
        "{err}"
    );
}
