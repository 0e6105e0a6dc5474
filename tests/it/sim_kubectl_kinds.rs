//! The kinds beyond workloads, as a new user meets them with kubectl 1.27, 1.32 and 1.37:
//! `cluster-info`, `get all`, `create configmap|secret|serviceaccount`, `expose`, Endpoints and
//! EndpointSlices kept by the controllers, namespaces' default objects, and `describe node`
//! with the node's Lease.

use std::time::Duration;

use kubedrain::sim::Kind;

use super::sim_kubectl::Kubectl;

const VERSIONS: [u32; 3] = [27, 32, 37];

/// Whitespace-split rows of a kubectl table (header first).
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The row whose `col`th cell is `name`.
fn row(out: &str, col: usize, name: &str) -> Vec<String> {
    rows(out)
        .into_iter()
        .find(|r| r.get(col).is_some_and(|c| c == name))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{out}"))
}

/// Without ANSI colour codes (cluster-info colours its lines).
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `contents` to `name` in `dir`; its path.
fn file(dir: &tempfile::TempDir, name: &str, contents: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

/// Runs `args` until its output satisfies `ok` (the controllers work after the command).
async fn eventually(k: &Kubectl, args: &[&str], ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = k.ok(args).await;
        if ok(&out) {
            return out;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "kubectl {args:?} never showed what was expected:\n{out}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_users_first_commands_on_three_kubectl_versions() {
    for minor in VERSIONS {
        let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
            continue;
        };
        cluster_info_and_get_all(&k, minor).await;
        config_objects(&k, minor).await;
        expose_and_endpoints(&k, minor).await;
        apply_and_explain_a_service(&k, minor).await;
        describe_node_shows_the_lease(&k, minor).await;
    }
}

async fn cluster_info_and_get_all(k: &Kubectl, minor: u32) {
    let url = k.sim.url();
    let info = plain(&k.ok(&["cluster-info"]).await);
    assert_eq!(
        info,
        format!(
            "Kubernetes control plane is running at {url}\n\
             CoreDNS is running at {url}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n\
             \n\
             To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
        ),
        "kubectl 1.{minor}"
    );
    let ns_age = row(&k.ok(&["get", "namespace", "default"]).await, 0, "default")[2].clone();
    let all = k.ok(&["get", "all", "-A"]).await;
    // `get all` prints one table per kind; the Services' has its own header.
    assert!(
        all.lines().any(|l| rows(l).first().is_some_and(|r| *r
            == [
                "NAMESPACE",
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE"
            ])),
        "kubectl 1.{minor}: {all}"
    );
    assert_eq!(
        row(&all, 1, "service/kubernetes"),
        [
            "default",
            "service/kubernetes",
            "ClusterIP",
            "10.96.0.1",
            "<none>",
            "443/TCP",
            &ns_age
        ]
    );
    assert_eq!(
        row(&all, 1, "service/kube-dns")[..6],
        [
            "kube-system",
            "service/kube-dns",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "53/UDP,53/TCP,9153/TCP"
        ]
    );
    for kind in [
        "pod/",
        "deployment.apps/",
        "replicaset.apps/",
        "daemonset.apps/",
    ] {
        assert!(
            rows(&all)
                .iter()
                .any(|r| r.get(1).is_some_and(|n| n.starts_with(kind))),
            "kubectl 1.{minor}: get all shows {kind}"
        );
    }
}

async fn config_objects(k: &Kubectl, minor: u32) {
    let v = format!("kubectl 1.{minor}");
    assert_eq!(
        k.ok(&[
            "create",
            "configmap",
            "app-config",
            "--from-literal=mode=prod",
            "--from-literal=level=3"
        ])
        .await
        .trim(),
        "configmap/app-config created",
        "{v}"
    );
    let cms = k.ok(&["get", "configmaps"]).await;
    assert_eq!(rows(&cms)[0], ["NAME", "DATA", "AGE"], "{v}");
    assert_eq!(row(&cms, 0, "app-config")[..2], ["app-config", "2"]);
    assert_eq!(
        row(&cms, 0, "kube-root-ca.crt")[..2],
        ["kube-root-ca.crt", "1"]
    );

    assert_eq!(
        k.ok(&[
            "create",
            "secret",
            "generic",
            "db",
            "--from-literal=password=s3cr3t"
        ])
        .await
        .trim(),
        "secret/db created",
        "{v}"
    );
    let sec = k.ok(&["get", "secret", "db"]).await;
    assert_eq!(rows(&sec)[0], ["NAME", "TYPE", "DATA", "AGE"], "{v}");
    assert_eq!(row(&sec, 0, "db")[..3], ["db", "Opaque", "1"]);
    assert_eq!(
        k.ok(&["get", "secret", "db", "-o", "jsonpath={.data.password}"])
            .await,
        "czNjcjN0"
    );
    // Not base64: refused, and nothing stored.
    let dir = tempfile::tempdir().unwrap();
    let bad = file(
        &dir,
        "bad-secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  password: not-base64!\n",
    );
    let out = k.run(&["create", "-f", &bad]).await;
    assert_ne!(out.code, 0, "{v}: {}", out.stdout);
    assert!(
        out.stderr.contains("illegal base64 data at input byte"),
        "{v}: {}",
        out.stderr
    );
    assert!(k.sim.store().get(Kind::Secret, "default", "bad").is_none());
    // stringData is merged into data.
    let sd = file(
        &dir,
        "sd-secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sd\nstringData:\n  user: admin\n",
    );
    assert_eq!(
        k.ok(&["apply", "-f", &sd]).await.trim(),
        "secret/sd created",
        "{v}"
    );
    assert_eq!(
        k.ok(&["get", "secret", "sd", "-o", "jsonpath={.data.user}"])
            .await,
        "YWRtaW4="
    );

    assert_eq!(
        k.ok(&["create", "serviceaccount", "robot"]).await.trim(),
        "serviceaccount/robot created",
        "{v}"
    );
    let sas = k.ok(&["get", "serviceaccounts"]).await;
    assert_eq!(rows(&sas)[0], ["NAME", "SECRETS", "AGE"], "{v}");
    assert_eq!(row(&sas, 0, "robot")[..2], ["robot", "0"]);
    assert_eq!(row(&sas, 0, "default")[..2], ["default", "0"]);

    // A new namespace gets its default ServiceAccount and the root CA from the controllers.
    k.ok(&["create", "namespace", "team"]).await;
    eventually(k, &["get", "sa,cm", "-n", "team", "-o", "name"], |o| {
        o.lines().any(|l| l == "serviceaccount/default")
            && o.lines().any(|l| l == "configmap/kube-root-ca.crt")
    })
    .await;
    let ca = k
        .ok(&[
            "get",
            "cm",
            "kube-root-ca.crt",
            "-n",
            "team",
            "-o",
            "jsonpath={.data.ca\\.crt}",
        ])
        .await;
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{v}: {ca}");
}

async fn expose_and_endpoints(k: &Kubectl, minor: u32) {
    let v = format!("kubectl 1.{minor}");
    assert_eq!(
        k.ok(&[
            "expose",
            "deployment",
            "http-spring",
            "--port=80",
            "--target-port=8080"
        ])
        .await
        .trim(),
        "service/http-spring exposed",
        "{v}"
    );
    let svc = k.ok(&["get", "service", "http-spring", "-o", "wide"]).await;
    assert_eq!(
        rows(&svc)[0],
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR"
        ]
    );
    let r = row(&svc, 0, "http-spring");
    assert_eq!(
        [&r[..5], &r[6..]].concat(),
        [
            "http-spring",
            "ClusterIP",
            "10.96.0.2",
            "<none>",
            "80/TCP",
            "app=http-spring"
        ],
        "{v}"
    );
    // The ten Ready pods, by IP; kubectl shows three and counts the rest.
    let mut ips: Vec<String> = k
        .pods()
        .iter()
        .filter(|p| {
            p["metadata"]["labels"]["app"] == "http-spring"
                && p["metadata"]["deletionTimestamp"].is_null()
        })
        .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
        .collect();
    ips.sort();
    assert_eq!(ips.len(), 10);
    let want = format!(
        "{}:8080,{}:8080,{}:8080 + 7 more...",
        ips[0], ips[1], ips[2]
    );
    let eps = eventually(k, &["get", "endpoints", "http-spring"], |o| {
        o.contains(&want)
    })
    .await;
    assert_eq!(rows(&eps)[0], ["NAME", "ENDPOINTS", "AGE"], "{v}");
    let slices = eventually(
        k,
        &[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=http-spring",
        ],
        |o| o.lines().count() == 2,
    )
    .await;
    assert_eq!(
        rows(&slices)[0],
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
        "{v}"
    );
    let s = &rows(&slices)[1];
    assert!(s[0].starts_with("http-spring-"), "{v}: {slices}");
    let addrs = format!("{},{},{}", ips[0], ips[1], ips[2]);
    assert_eq!(s[1..6], ["IPv4", "8080", &addrs, "+", "7"], "{v}: {slices}");
    let kube = k.ok(&["get", "endpoints", "kubernetes"]).await;
    let port = k.sim.addr().port();
    assert_eq!(row(&kube, 0, "kubernetes")[1], format!("127.0.0.1:{port}"));

    // A pod that goes away leaves the Endpoints; deleting the Service takes both along.
    let gone = &ips[0];
    let pod = k
        .pods()
        .into_iter()
        .find(|p| p["status"]["podIP"] == gone.as_str())
        .unwrap();
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    k.ok(&["delete", "pod", &name, "--wait=false"]).await;
    eventually(
        k,
        &[
            "get",
            "endpoints",
            "http-spring",
            "-o",
            "jsonpath={.subsets[*].addresses[*].ip}",
        ],
        |o| !o.split_whitespace().any(|ip| ip == gone),
    )
    .await;
    k.ok(&["delete", "service", "http-spring"]).await;
    eventually(k, &["get", "endpoints,endpointslices", "-o", "name"], |o| {
        !o.contains("http-spring")
    })
    .await;
}

/// `apply` validates against the server's OpenAPI (v2 on 1.27, v3 after), then patches
/// strategically: a Service's ports merge by `port`, and its cluster IP survives.
async fn apply_and_explain_a_service(k: &Kubectl, minor: u32) {
    let v = format!("kubectl 1.{minor}");
    let dir = tempfile::tempdir().unwrap();
    let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  type: NodePort\n  selector: {app: api}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n";
    let f = file(&dir, "svc.yaml", yaml);
    assert_eq!(
        k.ok(&["apply", "-f", &f]).await.trim(),
        "service/api created",
        "{v}"
    );
    let before = k.sim.store().get(Kind::Service, "default", "api").unwrap();
    let node_port = before["spec"]["ports"][0]["nodePort"].clone();
    assert!(
        node_port
            .as_i64()
            .is_some_and(|p| (30000..=32767).contains(&p))
    );
    assert_eq!(
        k.ok(&["apply", "-f", &f]).await.trim(),
        "service/api unchanged",
        "{v}"
    );
    file(&dir, "svc.yaml", &yaml.replace("port: 80,", "port: 81,"));
    assert_eq!(
        k.ok(&["apply", "-f", &f]).await.trim(),
        "service/api configured",
        "{v}"
    );
    let after = k.sim.store().get(Kind::Service, "default", "api").unwrap();
    assert_eq!(after["spec"]["ports"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(after["spec"]["ports"][0]["port"], 81);
    assert_eq!(after["spec"]["clusterIP"], before["spec"]["clusterIP"]);
    // A typo is refused by the server's strict field validation.
    let bad = file(&dir, "bad.yaml", &yaml.replace("selector:", "selektor:"));
    let out = k.run(&["apply", "-f", &bad]).await;
    assert_ne!(out.code, 0, "{v}");
    assert!(out.stderr.contains("selektor"), "{v}: {}", out.stderr);
    let explain = k.ok(&["explain", "service.spec.clusterIP"]).await;
    assert!(explain.contains("clusterIP"), "{v}: {explain}");
    let explain = k.ok(&["explain", "lease.spec.renewTime"]).await;
    assert!(explain.contains("renewTime"), "{v}: {explain}");
    k.ok(&["delete", "-f", &f]).await;
}

async fn describe_node_shows_the_lease(k: &Kubectl, minor: u32) {
    let d = k.ok(&["describe", "node", "node0"]).await;
    let lease = k
        .sim
        .store()
        .get(Kind::Lease, "kube-node-lease", "node0")
        .expect("node0 has a Lease");
    assert!(
        d.contains(
            "Lease:\n  HolderIdentity:  node0\n  AcquireTime:     <unset>\n  RenewTime:       "
        ),
        "kubectl 1.{minor}: {d}"
    );
    assert!(lease["spec"]["renewTime"].is_string());
    assert!(
        d.lines()
            .any(|l| rows(l).first().is_some_and(|r| r.starts_with(&[
                "Type".to_string(),
                "Status".to_string(),
                "LastHeartbeatTime".to_string()
            ]))),
        "kubectl 1.{minor}: {d}"
    );
    let leases = k.ok(&["get", "leases", "-n", "kube-node-lease"]).await;
    assert_eq!(rows(&leases)[0], ["NAME", "HOLDER", "AGE"]);
    for n in ["master0", "node0", "node1"] {
        assert_eq!(row(&leases, 0, n)[..2], [n, n]);
    }
}
