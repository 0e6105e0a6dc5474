//! `kubedrain demo` for a presenter: the `export KUBECONFIG=…` line before the screen opens,
//! `:kubeconfig` and help say it too, `--kubeconfig-out` keeps the file for kubectl, and the
//! demo's journal never lands in the operator's state directory.

use std::time::Duration;

use crate::common::pty::Pty;

#[test]
fn the_demo_says_how_kubectl_joins_and_keeps_its_journal_to_itself() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo.kubeconfig");
    let out_s = out.display().to_string();
    let mut pty = Pty::spawn_env(
        &["demo", "--speed", "5", "--kubeconfig-out", &out_s],
        None,
        &[
            ("HOME", &home.path().display().to_string()),
            ("XDG_STATE_HOME", ""),
        ],
    );
    let long = Duration::from_secs(60);
    pty.wait_for("the demo cluster", long, |s| {
        s.contains("node1") && s.contains("live")
    });
    // Printed before the alternate screen opened.
    let raw = String::from_utf8_lossy(&pty.raw()).to_string();
    let export = raw
        .find(&format!("export KUBECONFIG={out_s}"))
        .expect("export line");
    let screen_opens = raw.find("\x1b[?1049h").expect("alternate screen");
    assert!(export < screen_opens, "the export line comes first");
    for c in ":kubeconfig\r".bytes() {
        pty.send(&[c]);
    }
    pty.wait_for(":kubeconfig", long, |s| {
        s.contains(&format!("export KUBECONFIG={out_s}"))
    });
    pty.send(b"?");
    pty.wait_for("help", long, |s| s.contains("kubectl beside the demo"));
    pty.send(b"?");
    // kubectl joins through the kept file.
    if let Some(kubectl) = crate::sim_kubectl::find_kubectl() {
        let o = std::process::Command::new(kubectl)
            .args(["get", "nodes", "--kubeconfig", &out_s])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("node1"),
            "{o:?}"
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl is missing in CI"
        );
    }
    // A cordon is journaled, but not into the operator's journal.
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    pty.send(b"c");
    pty.wait_for("cordon question", long, |s| s.contains("Cordon node0?"));
    pty.send(b"\r");
    pty.wait_for("cordoned", long, |s| s.contains("SchedulingDisabled"));
    pty.send(b"q");
    assert!(pty.wait_exit(long));
    assert!(out.exists(), "--kubeconfig-out keeps the file");
    let operator = home.path().join(".local/state/kubedrain/journal.jsonl");
    assert!(!operator.exists(), "the demo wrote into {operator:?}");
}

#[test]
fn the_demo_refuses_a_kubeconfig_or_context_it_would_ignore() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["demo", "--context", "prod"])
        .env_remove("KUBECONFIG")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    // A usage error, as for any flag given where it means nothing.
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: --context does not apply to demo")
            && err.contains("--kubeconfig-out"),
        "{err}"
    );
}
