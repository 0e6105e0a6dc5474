//! The config file: mistakes are one line naming the file, line and key (and nothing runs);
//! `info` names the file in use; `kubedrain drain` takes its drain defaults for the flags not
//! given; the TUI takes its keys, skin and drain defaults (PTY).

use std::path::Path;
use std::time::Duration;

use crate::common::pty::Pty;
use crate::drain_support::sim::*;

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

fn run(args: &[&str], xdg: &Path) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", xdg)
        .env_remove("KUBEDRAIN_CONFIG")
        .env("KUBEDRAIN_STATE_DIR", xdg.join("state"))
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Each bad config: its text, the line the error must name, and what it must say.
const BAD: &[(&str, u32, &str)] = &[
    (
        "drain:\n  gracePeriod: 30\n  gracePeriods: 5\n",
        3,
        "gracePeriods",
    ),
    ("drain:\n  gracePeriod: soon\n", 2, ""),
    (
        "drain:\n  timeout: 5\n",
        2,
        "drain.timeout: time: invalid duration \"5\"",
    ),
    (
        "keys:\n  drains: D\n",
        2,
        "keys.drains: no action \"drains\" (one of:",
    ),
    (
        "keys:\n  drain: u\n",
        2,
        "keys.drain: u is already uncordon's key (Nodes pane); remap that one too",
    ),
    ("keys:\n  drain: hyper-x\n", 2, "\"hyper-x\" is not a key"),
    (
        "keys:\n  drain: D\n  drain-panel.cancel: X\n",
        3,
        "keys.drain-panel.cancel: drain-panel has no action \"cancel\" (one of: cancel-drain,",
    ),
    (
        "keys:\n  describe.close: j\n",
        2,
        "keys.describe.close: j is already describe.down's key; remap that one too",
    ),
    (
        "ui:\n  columns:\n    pods: [NODE, node]\n",
        3,
        "ui.columns.pods: \"node\" is listed twice",
    ),
    (
        "ui:\n  columns:\n    nodes: [NAME, CPU]\n",
        3,
        "ui.columns.nodes: nodes has no column \"CPU\" (its columns: NAME, STATUS",
    ),
    ("ui:\n  columns:\n    node: [NAME]\n", 3, "no pane \"node\""),
    ("ui:\n  skin: [a\n", 0, ""),
    ("colour: red\n", 1, "colour"),
];

#[test]
fn bad_configs_name_the_file_line_and_key_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yaml");
    let f = file.display().to_string();
    for (text, line, says) in BAD {
        std::fs::write(&file, text).unwrap();
        let out = run(&["--config", &f, "info"], dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {err}");
        assert!(out.stdout.is_empty(), "nothing ran: {text:?}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!err.contains('\x1b'), "no ANSI when piped: {err}");
        let at = match line {
            0 => format!("kubedrain: {f}:"),
            l => format!("kubedrain: {f}:{l}: "),
        };
        assert!(err.starts_with(&at), "{text:?} → {err}");
        assert!(err.contains(says), "{text:?} → {err}");
    }
    // A skin that is neither built in nor a file beside the config; a bad colour in one.
    std::fs::write(&file, "ui:\n  skin: solarized\n").unwrap();
    let err =
        String::from_utf8_lossy(&run(&["--config", &f, "info"], dir.path()).stderr).to_string();
    assert!(err.contains("skins/solarized.yaml"), "{err}");
    assert!(
        err.contains("not one of default, light, high-contrast"),
        "{err}"
    );
    std::fs::create_dir_all(dir.path().join("skins")).unwrap();
    std::fs::write(
        dir.path().join("skins/solarized.yaml"),
        "kubedrain:\n  status:\n    okColor: greenish\n",
    )
    .unwrap();
    let err =
        String::from_utf8_lossy(&run(&["--config", &f, "info"], dir.path()).stderr).to_string();
    assert!(
        err.contains("skins/solarized.yaml:3: okColor: \"greenish\" is not a colour"),
        "{err}"
    );
    // A config named on the command line must exist.
    let out = run(&["--config", "/nonexistent/k.yaml", "info"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.starts_with("kubedrain: cannot read the config file /nonexistent/k.yaml"),
        "{err}"
    );
}

#[test]
fn info_names_the_config_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["info"], dir.path());
    let s = String::from_utf8_lossy(&out.stdout);
    let default = dir.path().join("kubedrain/config.yaml");
    assert!(
        s.contains(&format!(
            "config:     none (would be read from {})",
            default.display()
        )),
        "{s}"
    );
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    std::fs::write(&default, "ui:\n  skin: light\n").unwrap();
    let s = String::from_utf8_lossy(&run(&["info"], dir.path()).stdout).to_string();
    assert!(
        s.contains(&format!("config:     {}\n", default.display())),
        "{s}"
    );
}

/// The config's pod selector matches nothing: the drain evicts nothing. Given on the
/// command line, the flag wins and the pods are evicted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_drain_takes_the_configs_defaults_unless_a_flag_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kubedrain/config.yaml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(
        &cfg,
        "drain:\n  ignoreDaemonsets: true\n  podSelector: app=nothing-has-this\n",
    )
    .unwrap();
    for (node, flag, evicts) in [
        ("node0", None, false),
        ("node1", Some("--pod-selector="), true),
    ] {
        let s = sim("seed").await;
        let kc = dir.path().join(format!("kc-{node}"));
        std::fs::write(&kc, s.kubeconfig_yaml()).unwrap();
        let mut args: Vec<String> = vec!["drain".into(), node.into(), "--kubeconfig".into()];
        args.push(kc.display().to_string());
        args.extend(flag.map(String::from));
        let xdg = dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args, &xdg)
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{text}{err}");
        assert!(text.contains(&format!("node/{node} drained")), "{text}");
        assert_eq!(text.contains("evicting pod"), evicts, "{flag:?}: {text}");
        s.stop().await;
    }
}

/// The TUI with a config: `drain: D` remapped (the help and hints say `D`), the options form
/// opens with the config's grace period, the light skin's colours are what is sent, the
/// describe page closes with its remapped key, and the nodes pane shows the listed columns
/// in the listed order.
#[test]
fn the_tui_takes_the_configs_keys_skin_and_drain_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "drain:\n  gracePeriod: 7\nui:\n  skin: light\n  columns:\n    nodes: [AGE, VERSION, STATUS]\nkeys:\n  drain: D\n  describe.close: x\n",
    )
    .unwrap();
    let c = cfg.display().to_string();
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["--config", &c, "demo"], Some(state.path()));
    let long = Duration::from_secs(60);
    pty.wait_for_demo();
    pty.wait_for("D in the hints", long, |s| s.contains("D drain"));
    pty.wait_for("the listed columns in their order", long, |s| {
        s.lines().any(|l| {
            let at = |w: &str| l.find(w);
            matches!(
                (at("NAME"), at("AGE"), at("VERSION"), at("STATUS")),
                (Some(n), Some(a), Some(v), Some(st)) if n < a && a < v && v < st
            ) && !l.contains("ROLES")
        })
    });
    pty.send(b"j");
    pty.wait_for("node0 selected", long, |s| s.contains("· node0"));
    pty.send(b"D");
    pty.wait_for(
        "the options form with the config's grace period",
        long,
        |s| s.contains("--grace-period=7"),
    );
    // The light skin's badge (256-colour 25) and no default-skin cyan badge.
    let raw = String::from_utf8_lossy(&pty.raw()).to_string();
    assert!(raw.contains("48;5;25"), "the light skin's badge colour");
    pty.send(b"\x1b");
    pty.wait_for("the form closed", long, |s| !s.contains("--grace-period=7"));
    pty.send(b"d");
    pty.wait_for("the describe page, x to close", long, |s| {
        s.contains("x close") && s.contains("Node node0")
    });
    pty.send(b"x");
    pty.wait_for("the page closed", long, |s| s.contains("D drain"));
    pty.send(b"q");
    assert!(pty.wait_exit(long));
}

/// The example config and skin in `assets/config` are what the README points to: they load.
#[test]
fn the_examples_in_assets_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config");
    std::fs::create_dir_all(dir.path().join("skins")).unwrap();
    let config = std::fs::read_to_string(root.join("config.yaml")).unwrap();
    // The example with its skin swapped for the example skin file.
    let config = config.replace("skin: default", "skin: example");
    assert!(config.contains("skin: example"));
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    std::fs::copy(
        root.join("skins/example.yaml"),
        dir.path().join("skins/example.yaml"),
    )
    .unwrap();
    let f = dir.path().join("config.yaml").display().to_string();
    let out = run(&["--config", &f, "info"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("config:     {f}")));
}
