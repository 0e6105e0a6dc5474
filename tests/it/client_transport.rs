//! How kubedrain reaches a cluster from a bastion host, against the built-in cluster over
//! HTTPS with a bearer token: through an HTTP CONNECT proxy from `HTTPS_PROXY` (skipped for
//! hosts in `NO_PROXY`), and with the token from an exec credential plugin, as most managed
//! clusters hand them out.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kubedrain::sim::auth::AuthOptions;
use kubedrain::sim::{SimOptions, Simulator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

async fn https_sim() -> Simulator {
    Simulator::start(SimOptions {
        scenario: "seed".into(),
        auth: Some(AuthOptions::default()),
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

/// A minimal HTTP CONNECT proxy on loopback; counts the tunnels it opened.
async fn connect_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut request = String::new();
                client.read_line(&mut request).await.unwrap();
                let target = request.split_whitespace().nth(1).unwrap().to_string();
                assert!(request.starts_with("CONNECT "), "{request}");
                loop {
                    let mut header = String::new();
                    client.read_line(&mut header).await.unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                }
                let mut upstream = tokio::net::TcpStream::connect(&target).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let mut client = client.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, tunnels)
}

async fn kubedrain(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("KUBECONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "rc {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_carries_the_requests_and_no_proxy_bypasses_it() {
    let sim = https_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let kc = kc.to_str().unwrap();
    let (proxy, tunnels) = connect_proxy().await;

    let out = kubedrain(
        &["plan", "node0", "--ignore-daemonsets", "--kubeconfig", kc],
        &[("HTTPS_PROXY", &proxy)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("node0"),
        "{}",
        text(&out)
    );
    let through_proxy = tunnels.load(Ordering::SeqCst);
    assert!(through_proxy >= 1, "the proxy opened a tunnel");

    let out = kubedrain(
        &["plan", "node0", "--ignore-daemonsets", "--kubeconfig", kc],
        &[("HTTPS_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        through_proxy,
        "NO_PROXY: no new tunnel"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_credential_plugin_supplies_the_token() {
    let sim = https_sim().await;
    let yaml = sim.kubeconfig_as(None);
    let token = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let write_plugin = |name: &str, token: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let exec_user = |plugin: &std::path::Path| {
        format!(
            "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            plugin.display()
        )
    };
    let with_plugin = |plugin: &std::path::Path, file: &str| {
        let path = dir.path().join(file);
        let kc = yaml.replace(
            &format!("  user:\n    token: {token}\n"),
            &exec_user(plugin),
        );
        assert!(kc.contains("exec:"), "{kc}");
        std::fs::write(&path, kc).unwrap();
        path
    };
    let good = with_plugin(&write_plugin("good.sh", &token), "good.yaml");
    let out = kubedrain(
        &[
            "plan",
            "node0",
            "--ignore-daemonsets",
            "--kubeconfig",
            good.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    let bad = with_plugin(&write_plugin("bad.sh", "not-the-token"), "bad.yaml");
    let out = kubedrain(
        &[
            "plan",
            "node0",
            "--ignore-daemonsets",
            "--kubeconfig",
            bad.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("Unauthorized"), "{stderr}");
    sim.stop().await;
}
