//! The real kubectl binaries against the simulator's validation and garbage collection:
//! `create -f` of invalid manifests prints the server's errors, `delete deploy` takes the
//! ReplicaSet and pods with it.

use std::time::Duration;

use kubedrain::sim::Kind;

use crate::sim_kubectl::Kubectl;

const UNKNOWN_FIELD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replica: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
";

const NO_SELECTOR: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
";

const GOOD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
";

async fn step_until(k: &Kubectl, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        k.sim.clock().advance(Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn web_objects(k: &Kubectl, kind: Kind) -> usize {
    k.sim
        .store()
        .list(kind, Some("default"))
        .1
        .iter()
        .filter(|o| o["metadata"]["labels"]["app"] == "web" || o["metadata"]["name"] == "web")
        .count()
}

/// `create -f` of invalid manifests and `delete deploy`, on one kubectl version. `strict`:
/// whether the default `--validate=strict` reaches the server (kubectl 1.27 first downloads
/// `/openapi/v2`, which is another part of issue 11).
async fn session(minor: u32, strict: bool) {
    let Some(k) = Kubectl::start_version(minor, "seed", 1.0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let (unknown, no_sel, good) = (
        file("unknown.yaml", UNKNOWN_FIELD),
        file("nosel.yaml", NO_SELECTOR),
        file("good.yaml", GOOD),
    );
    if strict {
        let o = k.run(&["create", "-f", &unknown]).await;
        assert_eq!(o.code, 1, "1.{minor}: {}", o.stderr);
        assert_eq!(
            o.stderr,
            format!(
                "Error from server (BadRequest): error when creating \"{unknown}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\"\n"
            ),
            "1.{minor}"
        );
    }
    let o = k.run(&["create", "-f", &no_sel, "--validate=false"]).await;
    assert_eq!(o.code, 1, "1.{minor}");
    assert_eq!(
        o.stderr,
        "The Deployment \"web\" is invalid: \n* spec.selector: Required value\n* spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`\n",
        "1.{minor}"
    );
    assert_eq!(
        web_objects(&k, Kind::Deployment),
        0,
        "nothing invalid stored"
    );

    let o = k.run(&["create", "-f", &good, "--validate=false"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "deployment.apps/web created\n"),
        "1.{minor}: {}",
        o.stderr
    );
    step_until(&k, "2 running pods", || {
        k.sim
            .store()
            .list(Kind::Pod, Some("default"))
            .1
            .iter()
            .filter(|p| {
                p["metadata"]["labels"]["app"] == "web" && p["status"]["phase"] == "Running"
            })
            .count()
            == 2
    })
    .await;
    let o = k.run(&["delete", "deploy", "web"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "deployment.apps \"web\" deleted\n"),
        "1.{minor}: {}",
        o.stderr
    );
    step_until(&k, "ReplicaSet and pods gone", || {
        web_objects(&k, Kind::ReplicaSet) == 0 && web_objects(&k, Kind::Pod) == 0
    })
    .await;
    let o = k.run(&["get", "rs,pods", "-l", "app=web"]).await;
    assert_eq!(
        o.stderr, "No resources found in default namespace.\n",
        "1.{minor}"
    );

    // A namespace: kubectl waits until it is gone, while the clock is stepped.
    k.run(&["create", "namespace", "team"]).await;
    let o = k
        .run(&["-n", "team", "create", "-f", &good, "--validate=false"])
        .await;
    assert_eq!(o.code, 0, "1.{minor}: {}", o.stderr);
    step_until(&k, "pods in team", || {
        !k.sim.store().list(Kind::Pod, Some("team")).1.is_empty()
    })
    .await;
    let stepper = async {
        while k.sim.store().get(Kind::Namespace, "", "team").is_some() {
            k.sim.clock().advance(Duration::from_secs(2));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (o, ()) = tokio::join!(k.run(&["delete", "namespace", "team"]), stepper);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "namespace \"team\" deleted\n"),
        "1.{minor}: {}",
        o.stderr
    );
    let o = k
        .run(&["-n", "team", "create", "-f", &good, "--validate=false"])
        .await;
    assert_eq!(
        o.stderr,
        format!(
            "Error from server (NotFound): error when creating \"{good}\": namespaces \"team\" not found\n"
        ),
        "1.{minor}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_32_sees_validation_errors_and_cascading_deletes() {
    session(32, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_27_sees_validation_errors_and_cascading_deletes() {
    session(27, false).await;
}
