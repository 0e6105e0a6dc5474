//! `kubedrain sim` as a user runs it: prints the address and an `export KUBECONFIG=` line,
//! serves until SIGTERM/Ctrl-C, and refuses bad scenario files with a located error.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

#[test]
fn sim_prints_kubeconfig_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc.yaml");
    let mut child = Command::new(BIN)
        .args([
            "sim",
            "--scenario",
            "seed",
            "--speed",
            "2",
            "--kubeconfig-out",
        ])
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = out.next().unwrap().unwrap();
    assert!(
        first.starts_with("kubedrain simulator (seed) listening on https://127.0.0.1:"),
        "{first}"
    );
    let second = out.next().unwrap().unwrap();
    assert_eq!(second, format!("export KUBECONFIG={}", kc.display()));
    let yaml = std::fs::read_to_string(&kc).unwrap();
    let url = first.rsplit(' ').next().unwrap();
    assert!(
        yaml.contains(&format!("server: {url}"))
            && yaml.contains("current-context: kubedrain-sim")
            && yaml.contains("certificate-authority-data: "),
        "{yaml}"
    );
    // It answers over HTTPS with its CA: /version through kubectl when there is one, else a
    // TLS handshake that a plain-HTTP request cannot pass.
    let addr = url.trim_start_matches("https://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    assert!(
        !resp.starts_with(b"HTTP/1.1 200"),
        "plain HTTP is not served"
    );
    if let Some(kubectl) = crate::sim_kubectl::find_kubectl() {
        let out = Command::new(kubectl)
            .args(["get", "--raw", "/version"])
            .env("KUBECONFIG", &kc)
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        assert!(body.contains("\"gitVersion\":\"v1.25.4\""), "{body}");
    }
    // SIGTERM stops it cleanly (exit 0).
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kubedrain sim did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(kc.exists(), "an explicit --kubeconfig-out is kept");
}

#[test]
fn bad_scenario_file_is_refused_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.yaml");
    std::fs::write(
        &f,
        "serverVersion: v1.25.4\nnodes:\n  - name: a\n    bogusField: 1\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["sim", "--scenario"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.yaml") && err.contains("bogusField"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["sim", "--scenario", "no-such-scenario"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-scenario"));
}
