//! Bad input to the binary: a clear one-line error, exit 2 (clap's usage error), no panic, and
//! not one request to the cluster.

use crate::drain_support;

use drain_support::sim::*;

const BIN: &str = env!("CARGO_BIN_EXE_kubedrain");

/// Each bad command line, and what the error must name.
const BAD: &[(&str, &str)] = &[
    ("cordon node1/status", "invalid node name \"node1/status\""),
    (
        "cordon node1?dryRun=All",
        "invalid node name \"node1?dryRun=All\"",
    ),
    ("uncordon node1/status", "invalid node name"),
    ("uncordon ../nodes", "invalid node name"),
    ("plan Node1", "invalid node name \"Node1\""),
    ("plan -node", "required arguments were not provided"),
    ("drain node1/status", "invalid node name"),
    ("drain node/node1?x=1", "invalid node name \"node1?x=1\""),
    ("drain a..b", "empty part between dots"),
    ("campaign node1/eviction", "invalid node name"),
    (
        "drain --timeout 99999999999999999999h node0",
        "invalid duration",
    ),
    ("drain --timeout 2562048h node0", "at most 2562047h"),
    ("drain --timeout=-5s node0", "invalid duration"),
    ("drain --timeout 5 node0", "invalid duration"),
    ("campaign --soak 999999999999h", "invalid duration"),
    ("drain --grace-period 99999999999 node0", "--grace-period"),
    (
        "drain --skip-wait-for-delete-timeout 18446744073709551615 node0",
        "--skip-wait-for-delete-timeout",
    ),
    ("plan -o yaml node0", "possible values: text, json"),
    ("-n a/b plan node0", "invalid namespace \"a/b\""),
    ("demo --speed 0", "must be above 0"),
    ("demo --speed inf", "must be above 0"),
    ("demo --speed NaN", "must be above 0"),
    ("sim --speed=-1", "must be above 0"),
    ("sim --nodes 0", "--nodes"),
    ("sim --nodes 99999999999", "--nodes"),
    ("sim --pods-per-node 100000", "--pods-per-node"),
    ("sim --churn 1e300", "--churn"),
    (
        "drain --request-timeout=-1s node0",
        "invalid timeout \"-1s\"",
    ),
    (
        "cordon --request-timeout 1x node0",
        "invalid timeout \"1x\"",
    ),
    ("campaign --soak 5 node0", "invalid duration \"5\""),
    // A global flag where it means nothing is refused, not ignored (the test's own
    // --kubeconfig is the first such flag for sim and demo).
    ("sim --readonly", "--kubeconfig does not apply to sim"),
    (
        "demo --context x",
        "--kubeconfig does not apply to demo: it runs its own",
    ),
    (
        "cordon -n default node0",
        "-n/--namespace does not apply to cordon",
    ),
    (
        "-n default plan node0",
        "-n/--namespace does not apply to plan",
    ),
    ("plan node0 --readonly", "--readonly does not apply to plan"),
    (
        "versions --no-journal",
        "--no-journal does not apply to versions",
    ),
];

/// Bad input only the command can judge (a selector, a version, a context, the files it
/// needs): exit 1, an `error:` line that names the problem, nothing sent to the cluster but
/// the `/version` probe of the connection. Each row: the arguments (a working kubeconfig is
/// added unless one is given), the state directory (`""`: a scratch one) and what the first
/// line must say; `{dir}` is the scratch directory, `{blackhole}` a kubeconfig for a server
/// that accepts connections and never answers.
const BAD_IN_CONTEXT: &[(&[&str], &str, &str)] = &[
    (
        &["drain", "-l", "a in (b"],
        "",
        "invalid --selector \"a in (b\": unbalanced parentheses",
    ),
    (
        &["drain", "--selector", "a==b==c"],
        "",
        "invalid label value \"b==c\"",
    ),
    (&["cordon", "-l", "!!x"], "", "invalid --selector \"!!x\""),
    (
        &["uncordon", "-l", "x notin ()"],
        "",
        "the set of values can't be empty",
    ),
    (&["uncordon"], "", "USAGE: uncordon NODE"),
    (&["drain"], "", "USAGE: drain NODE"),
    (
        &["drain", "node0", "-l", "a=b"],
        "",
        "cannot specify both a node name and a --selector",
    ),
    (
        &["drain", "--pod-selector", "!!", "node0"],
        "",
        "--pod-selector=!! must be a valid label selector",
    ),
    (
        &["versions", "--target", "1.2.3.4"],
        "",
        "`1.2.3.4` is not a Kubernetes version",
    ),
    (
        &["campaign", "--target", "vX", "node0"],
        "",
        "invalid --target \"vX\"",
    ),
    (
        &["campaign", "--max-unavailable", "0", "node0"],
        "",
        "--max-unavailable must be at least 1",
    ),
    (
        &["drain", "--context", "nosuch", "node0"],
        "",
        "context \"nosuch\" is not in the kubeconfig",
    ),
    (
        &["cordon", "node0", "--kubeconfig", "{dir}/missing"],
        "",
        "{dir}/missing",
    ),
    (
        &["cordon", "node0", "--kubeconfig", "{dir}/garbage"],
        "",
        "{dir}/garbage",
    ),
    (
        &["sim", "--scenario", "nosuch"],
        "",
        "no scenario \"nosuch\"",
    ),
    (&["sim", "--scenario", "{dir}/garbage"], "", "{dir}/garbage"),
    // The environment: a state directory that is a file, a server that never answers, no TTY.
    (
        &["cordon", "node0"],
        "{dir}/garbage",
        "cannot write the journal",
    ),
    (
        &[
            "drain",
            "node0",
            "--kubeconfig",
            "{blackhole}",
            "--request-timeout",
            "1s",
        ],
        "",
        "did not answer within",
    ),
    (
        &[
            "plan",
            "node0",
            "--kubeconfig",
            "{blackhole}",
            "--request-timeout",
            "1s",
        ],
        "",
        "did not answer within",
    ),
    (&[], "", "the TUI needs a terminal"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_a_clear_error_and_send_nothing() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    sim.stats().reset();
    for (args, names) in BAD {
        let out = tokio::process::Command::new(BIN)
            .args(args.split(' '))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env("KUBEDRAIN_STATE_DIR", dir.path())
            .env("NO_COLOR", "1")
            .output()
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "{args}: {err}");
        assert!(err.contains(names), "{args}: wanted {names:?} in {err}");
        assert!(!err.contains("panicked"), "{args}: {err}");
    }
    assert_eq!(sim.stats().total(), 0, "{:?}", sim.stats().log());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_in_context_gets_a_clear_error_and_sends_nothing() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    std::fs::write(dir.path().join("garbage"), "{ not: [yaml").unwrap();
    sim.stats().reset();
    // A blackhole: accepts TCP, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_dir = tempfile::tempdir().unwrap();
    let blackhole = kubeconfig_for(
        hole_dir.path(),
        &format!("http://{}", silent.local_addr().unwrap()),
    );
    let _held = tokio::spawn(async move {
        let mut conns = vec![];
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    let blackhole = blackhole.display().to_string();
    for (args, state, names) in BAD_IN_CONTEXT {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{dir}", &d).replace("{blackhole}", &blackhole))
            .collect();
        let state = match *state {
            "" => dir.path().to_path_buf(),
            s => s.replace("{dir}", &d).into(),
        };
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(&args);
        // sim and demo are their own cluster: they take no kubeconfig.
        let own_cluster = matches!(args.first().map(String::as_str), Some("sim" | "demo"));
        if !own_cluster && !args.iter().any(|a| a == "--kubeconfig") {
            cmd.arg("--kubeconfig").arg(&kubeconfig);
        }
        let out = cmd
            .env("KUBEDRAIN_STATE_DIR", &state)
            .env("RUST_BACKTRACE", "0")
            .stdin(std::process::Stdio::null())
            .output();
        let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let names = names.replace("{dir}", &d);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") || first.starts_with("kubedrain: "),
            "{args:?}: {err}"
        );
        assert!(
            first.contains(&names),
            "{args:?}: wanted {names:?} in {err}"
        );
        assert!(err.lines().count() <= 2, "{args:?}: short: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}'),
            "{args:?}: no colour codes when piped: {err}"
        );
    }
    // At most the connection probe: no list, no write.
    let sent: Vec<_> = sim
        .stats()
        .log()
        .into_iter()
        .filter(|r| r.path != "/version")
        .collect();
    assert!(sent.is_empty(), "{sent:?}");
    assert!(BAD.len() + BAD_IN_CONTEXT.len() >= 30);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_timeout_go_accepts_drains_without_a_panic() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let out = tokio::process::Command::new(BIN)
        .args([
            "drain",
            "node0",
            "--ignore-daemonsets",
            "--timeout",
            "2562047h",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output();
    let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("node/node0 drained"), "{stdout}");
    sim.stop().await;
}

/// A kubeconfig for a server at `url`.
fn kubeconfig_for(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let kc = dir.join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    kc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_server_is_said_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the port of a listener just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // A blackhole: accepts TCP, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let blackhole = format!("http://{}", silent.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut conns = vec![];
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    for (url, says) in [
        (refused.as_str(), "cannot reach the API server at"),
        (blackhole.as_str(), "did not answer within 8s"),
    ] {
        let kc = kubeconfig_for(dir.path(), url);
        let started = std::time::Instant::now();
        let out = tokio::process::Command::new(BIN)
            .args(["cordon", "node0", "--kubeconfig"])
            .arg(&kc)
            .env("KUBEDRAIN_STATE_DIR", dir.path())
            .output();
        let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says) && err.contains(url), "{err}");
        assert!(!err.contains("client error (Connect)"), "{err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{err}"
        );
    }
}
