//! The roles in `assets/rbac.yaml`, enforced by the built-in cluster's RBAC over HTTPS with
//! bearer tokens: a user bound only to `kubedrain` drains and uncordons a node; a user bound
//! to `kubedrain-view` can list and watch what the panes show, and every change it tries is a
//! 403 in the apiserver's words; a wrong token is a 401.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kubedrain::cluster::rows::NodeRow;
use kubedrain::drain::events::NodeState;
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::node_ops;
use kubedrain::sim::auth::{AuthOptions, SimUser};
use kubedrain::sim::{SimOptions, Simulator};
use serde_json::{Value, json};

use crate::drain_support::sim::{finish, ignore_ds, journal};

const RBAC: &str = include_str!("../../assets/rbac.yaml");

fn bind(user: &str, role: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": format!("{role}-{user}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
}

async fn sim_with_users() -> Simulator {
    let mut rbac: Vec<Value> = serde_saphyr::from_multiple(RBAC).unwrap();
    rbac.push(bind("alice", "kubedrain"));
    rbac.push(bind("victor", "kubedrain-view"));
    let user = |name: &str| SimUser {
        name: name.into(),
        token: format!("{name}-token-0123456789"),
        groups: vec![],
    };
    Simulator::start(SimOptions {
        scenario: "seed".into(),
        speed: 4.0,
        auth: Some(AuthOptions {
            users: vec![user("alice"), user("victor")],
            rbac,
        }),
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

async fn client_as(sim: &Simulator, user: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_as(Some(user))).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kubedrain::drain::client::client_without_retry(cfg).unwrap()
}

fn forbidden(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => s.message,
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_bound_to_kubedrain_drains_and_uncordons_over_https() {
    let sim = sim_with_users().await;
    assert!(sim.url().starts_with("https://"), "{}", sim.url());
    let alice = client_as(&sim, "alice").await;
    let dir = tempfile::tempdir().unwrap();
    let (h, mut rx) = start_drain(alice.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let outcome = finish(h, &mut rx, &mut vec![]).await;
    assert_eq!(outcome.state, NodeState::Drained, "{outcome:?}");
    node_ops::uncordon(&alice, "node0", false, &journal(&sim, &dir))
        .await
        .unwrap();
    // The role cannot delete pods (that bypasses budgets): the apiserver's 403.
    let pods = Api::<Pod>::all(alice.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let p = &pods.items[0];
    let ns = p.metadata.namespace.clone().unwrap();
    let name = p.metadata.name.clone().unwrap();
    let err = Api::<Pod>::namespaced(alice, &ns)
        .delete(&name, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        forbidden(err),
        format!(
            "pods {name:?} is forbidden: User \"alice\" cannot delete resource \"pods\" in API group \"\" in the namespace {ns:?}"
        )
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_role_watches_everything_and_every_change_is_403() {
    let sim = sim_with_users().await;
    let victor = client_as(&sim, "victor").await;
    let nodes = Api::<NodeRow>::all(victor.clone());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    // A watch opens and delivers (the first event proves it).
    use futures::StreamExt;
    let mut w = kube::runtime::watcher(nodes.clone(), Default::default()).boxed();
    assert!(w.next().await.unwrap().is_ok());
    let cordon = Patch::Merge(json!({"spec": {"unschedulable": true}}));
    let err = nodes
        .patch("node0", &PatchParams::default(), &cordon)
        .await
        .unwrap_err();
    assert_eq!(
        forbidden(err),
        "nodes \"node0\" is forbidden: User \"victor\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope"
    );
    let dir = tempfile::tempdir().unwrap();
    let (h, mut rx) = start_drain(victor.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let outcome = finish(h, &mut rx, &mut vec![]).await;
    assert_ne!(outcome.state, NodeState::Drained, "{outcome:?}");
    // Nothing changed: every mutating request was refused.
    let mutations: Vec<_> = sim
        .stats()
        .log()
        .into_iter()
        .filter(|r| !matches!(r.verb, "get" | "list" | "watch"))
        .filter(|r| r.status != 403)
        .map(|r| (r.verb, r.resource, r.status))
        .collect();
    assert_eq!(
        mutations,
        vec![],
        "every change by the view role is refused"
    );
    assert!(
        sim.store()
            .get(kubedrain::sim::Kind::Node, "", "node0")
            .unwrap()["spec"]
            .get("unschedulable")
            .is_none()
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_401_and_the_ca_is_required() {
    let sim = sim_with_users().await;
    let yaml = sim
        .kubeconfig_as(Some("alice"))
        .replace("alice-token-0123456789", "not-a-token");
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let c = kube::Client::try_from(cfg).unwrap();
    match Api::<NodeRow>::all(c).list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (401, "Unauthorized")),
        other => panic!("expected 401, got {other:?}"),
    }
    // Without the CA the TLS handshake fails: the server is not trusted blindly.
    let no_ca: String = sim
        .kubeconfig_as(Some("alice"))
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let kc = kube::config::Kubeconfig::from_yaml(&no_ca).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let c = kube::Client::try_from(cfg).unwrap();
    assert!(
        Api::<NodeRow>::all(c)
            .list(&ListParams::default())
            .await
            .is_err()
    );
    sim.stop().await;
}
