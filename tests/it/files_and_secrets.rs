//! Files that hold keys to a cluster or its history: the simulator's kubeconfig 0600 in a
//! private 0700 directory, never written through a planted symlink, gone after SIGHUP and
//! SIGTERM; the journal 0600 in a 0700 directory; an unwritable state directory stops a
//! mutating command before its first request (or `--no-journal` says to go without).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::drain_support::sim::*;

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `kubedrain sim` with `extra` args and TMPDIR=`tmp`; returns the child and the kubeconfig
/// path it printed.
fn start_sim(tmp: &Path, extra: &[&str]) -> (Child, PathBuf) {
    let mut child = Command::new(BIN)
        .args(["sim", "--scenario", "seed"])
        .args(extra)
        .env("TMPDIR", tmp)
        .env_remove("XDG_RUNTIME_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let _listening = out.next().unwrap().unwrap();
    let export = out.next().unwrap().unwrap();
    let path = PathBuf::from(export.strip_prefix("export KUBECONFIG=").unwrap());
    (child, path)
}

fn stop(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_sims_kubeconfig_is_private_and_removed_on_sighup_and_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    for signal in ["-HUP", "-TERM"] {
        let (mut child, kc) = start_sim(tmp.path(), &[]);
        let dir = kc.parent().unwrap().to_path_buf();
        assert!(dir.starts_with(tmp.path()), "{}", kc.display());
        assert!(
            dir.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("kubedrain-"),
            "{}",
            kc.display()
        );
        assert_eq!(mode(&kc), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert!(
            std::fs::read_to_string(&kc)
                .unwrap()
                .contains("kubedrain-sim")
        );
        stop(&mut child, signal);
        assert!(
            !kc.exists() && !dir.exists(),
            "{signal}: {} left behind",
            kc.display()
        );
    }
}

#[test]
fn a_planted_symlink_at_kubeconfig_out_is_replaced_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = tmp.path().join("kc");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (mut child, kc) = start_sim(tmp.path(), &["--kubeconfig-out", link.to_str().unwrap()]);
    assert_eq!(kc, link);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let m = std::fs::symlink_metadata(&link).unwrap();
    assert!(m.file_type().is_file(), "the link was replaced by a file");
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
    stop(&mut child, "-TERM");
}

async fn kubedrain(kc: &Path, state: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .arg("--kubeconfig")
        .arg(kc)
        .env("KUBEDRAIN_STATE_DIR", state)
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_private_and_an_unwritable_state_dir_changes_nothing() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let tmp = tempfile::tempdir().unwrap();
    let kc = tmp.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();

    // A state directory under a regular file cannot be made (whoever runs the test).
    std::fs::write(tmp.path().join("file"), "").unwrap();
    let bad = tmp.path().join("file/state");
    sim.stats().reset();
    let (code, err) = kubedrain(&kc, &bad, &["cordon", "node0"]).await;
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot write the journal"), "{err}");
    assert!(
        err.contains("--no-journal") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(sim.stats().total(), 0, "not one request");
    assert!(!node(&c, "node0").await.unschedulable);
    // Asked for explicitly: no journal, and the cordon happens.
    let (code, err) = kubedrain(&kc, &bad, &["cordon", "node0", "--no-journal"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(node(&c, "node0").await.unschedulable);

    // A fresh state dir: 0700, journal 0600.
    let state = tmp.path().join("state");
    let (code, err) = kubedrain(&kc, &state, &["uncordon", "node0", "--force"]).await;
    assert_eq!(code, Some(0), "{err}");
    let journal = state.join("journal.jsonl");
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&journal), 0o600);
    assert!(
        std::fs::read_to_string(&journal)
            .unwrap()
            .contains("uncordon")
    );
    // Left world-readable by an older version: narrowed.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = kubedrain(&kc, &state, &["cordon", "node1"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!((mode(&state), mode(&journal)), (0o700, 0o600));
    sim.stop().await;
}

/// The private directories `kubedrain-*` under `tmp`.
fn private_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("kubedrain-")
        })
        .collect()
}

#[test]
fn the_demos_kubeconfig_is_private_and_removed_on_quit_and_sighup() {
    use crate::common::pty::Pty;
    let tmp = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let env = [
        ("TMPDIR", tmp.path().to_str().unwrap()),
        ("XDG_RUNTIME_DIR", "/nonexistent"),
    ];
    for how in ["q", "SIGHUP"] {
        let mut pty = Pty::spawn_env(&["demo"], Some(state.path()), &env);
        pty.wait_for("the demo cluster", Duration::from_secs(60), |s| {
            s.contains("node0") && s.contains("live")
        });
        let dirs = private_dirs(tmp.path());
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        let kc = dirs[0].join("kubeconfig");
        assert_eq!((mode(&dirs[0]), mode(&kc)), (0o700, 0o600));
        if how == "q" {
            pty.send(b"q");
        } else {
            let pid = pty.pid().to_string();
            assert!(
                Command::new("kill")
                    .args(["-HUP", &pid])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        pty.wait_exit(Duration::from_secs(20));
        assert!(private_dirs(tmp.path()).is_empty(), "{how}: left behind");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_level_log_of_a_drain_holds_no_token() {
    use kubedrain::sim::{SimOptions, Simulator};
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        speed: 4.0,
        auth: Some(Default::default()),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let yaml = std::fs::read_to_string(&kc).unwrap();
    let token = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("a bearer token in the kubeconfig")
        .trim_matches('"')
        .to_string();
    assert!(token.len() >= 16, "{token}");
    let log = dir.path().join("trace.log");
    let out = tokio::process::Command::new(BIN)
        .args(["drain", "node0", "--ignore-daemonsets", "--kubeconfig"])
        .arg(&kc)
        .arg("--log-file")
        .arg(&log)
        .env("KUBEDRAIN_LOG", "trace")
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output();
    let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&log).unwrap();
    // The log did see the requests (so the check below means something).
    assert!(written.contains("TRACE"), "a trace-level log");
    assert!(
        written.contains("/api/v1/nodes/node0"),
        "requests are logged"
    );
    let both = format!(
        "{written}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!both.contains(&token), "the bearer token leaked");
    assert!(!both.contains("PRIVATE KEY"), "key material leaked");
    sim.stop().await;
}
