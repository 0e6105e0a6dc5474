//! RBAC through real kubectl 1.27, 1.32 and 1.37 over the simulator's HTTPS: `auth can-i`
//! answers from the bound roles, `--as` impersonates, a refused request prints the
//! apiserver's 403, a wrong token is "You must be logged in".

use kubedrain::sim::auth::{AuthOptions, SimUser};
use serde_json::{Value, json};

use crate::sim_kubectl::Kubectl;

const MINORS: [u32; 3] = [27, 32, 37];

fn auth() -> AuthOptions {
    let mut rbac: Vec<Value> =
        serde_saphyr::from_multiple(include_str!("../../assets/rbac.yaml")).unwrap();
    rbac.push(
        json!({"kind": "ClusterRoleBinding", "metadata": {"name": "kubedrain-alice"},
        "roleRef": {"kind": "ClusterRole", "name": "kubedrain"},
        "subjects": [{"kind": "User", "name": "alice"}]}),
    );
    AuthOptions {
        users: vec![SimUser {
            name: "alice".into(),
            token: "alice-token-0123456789".into(),
            groups: vec![],
        }],
        rbac,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i_as_and_403s_on_every_kubectl() {
    for minor in MINORS {
        let Some(k) = Kubectl::start_version_with_auth(minor, auth()).await else {
            continue;
        };
        assert!(k.sim.url().starts_with("https://"));
        assert_eq!(
            k.ok(&["auth", "can-i", "delete", "pods"]).await.trim(),
            "yes"
        );
        // `pods/eviction` would read as the pod named "eviction": kubectl names a subresource
        // with --subresource.
        let yes = k
            .run(&[
                "auth",
                "can-i",
                "create",
                "pods",
                "--subresource=eviction",
                "--as",
                "alice",
            ])
            .await;
        assert_eq!((yes.code, yes.stdout.trim()), (0, "yes"), "1.{minor}");
        let no = k
            .run(&["auth", "can-i", "delete", "pods", "--as", "alice"])
            .await;
        assert_eq!((no.code, no.stdout.trim()), (1, "no"), "1.{minor}");
        let out = k
            .run(&[
                "delete",
                "pod",
                "etcd-master0",
                "-n",
                "kube-system",
                "--as",
                "alice",
            ])
            .await;
        assert_ne!(out.code, 0);
        assert!(
            out.stderr.contains(
                "Error from server (Forbidden): pods \"etcd-master0\" is forbidden: User \"alice\" cannot delete resource \"pods\" in API group \"\" in the namespace \"kube-system\""
            ),
            "1.{minor}: {}",
            out.stderr
        );
        let nodes = k.ok(&["get", "nodes", "--as", "alice"]).await;
        assert!(nodes.contains("node1"), "1.{minor}: {nodes}");
        let bad = k.run(&["get", "nodes", "--token", "wrong"]).await;
        assert!(
            bad.stderr
                .contains("You must be logged in to the server (Unauthorized)"),
            "1.{minor}: {}",
            bad.stderr
        );
    }
}
