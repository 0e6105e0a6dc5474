//! The matrix and the way to a target, on small inventories.

use super::skew::Severity;
use super::steps::{Role, plan};
use super::version::Version;
use super::versions::{Component, ComponentPod, Inventory, NodeFacts, matrix};

/// `nodes`: (name, control plane, kubelet); every control-plane node runs the control-plane
/// pods at `cp` (its apiserver at the kubelet's version when `cp` is empty), every node a
/// kube-proxy at `proxy`.
fn inv(server: &str, nodes: &[(&str, bool, &str)], cp: &str, proxy: &str) -> Inventory {
    let mut pods = Vec::new();
    for (name, is_cp, kubelet) in nodes {
        if *is_cp {
            let v = if cp.is_empty() { kubelet } else { cp };
            for c in [
                Component::KubeApiserver,
                Component::KubeControllerManager,
                Component::KubeScheduler,
            ] {
                pods.push(ComponentPod {
                    component: c,
                    pod: format!("{}-{name}", c.name()),
                    node: Some(name.to_string()),
                    image: format!("registry.k8s.io/{}:{v}", c.name()),
                });
            }
            pods.push(ComponentPod {
                component: Component::Etcd,
                pod: format!("etcd-{name}"),
                node: Some(name.to_string()),
                image: "registry.k8s.io/etcd:3.5.5-0".into(),
            });
        }
        if !proxy.is_empty() {
            pods.push(ComponentPod {
                component: Component::KubeProxy,
                pod: format!("kube-proxy-{name}"),
                node: Some(name.to_string()),
                image: format!("registry.k8s.io/kube-proxy:{proxy}"),
            });
        }
    }
    Inventory {
        server: (!server.is_empty()).then(|| server.to_string()),
        nodes: nodes
            .iter()
            .map(|(name, cp, kubelet)| NodeFacts {
                name: name.to_string(),
                control_plane: *cp,
                kubelet: kubelet.to_string(),
                container_runtime: "containerd://1.6.12".into(),
                os_image: "Ubuntu 20.04.5 LTS".into(),
                kernel: "5.4.0-135-generic".into(),
            })
            .collect(),
        pods,
    }
}

fn seed() -> Inventory {
    inv(
        "v1.25.4",
        &[
            ("master0", true, "v1.25.4"),
            ("node0", false, "v1.25.4"),
            ("node1", false, "v1.25.0"),
        ],
        "v1.25.4",
        "v1.25.4",
    )
}

fn findings(i: &Inventory) -> Vec<(Severity, String, String)> {
    matrix(i)
        .findings
        .into_iter()
        .map(|f| (f.severity, f.subject, f.message))
        .collect()
}

#[test]
fn seed_has_one_patch_skew_and_no_violation() {
    let m = matrix(&seed());
    assert!(!m.has_errors());
    let f = findings(&seed());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, Severity::Info);
    assert_eq!(f[0].1, "node/node1 kubelet");
    assert!(
        f[0].2.contains("v1.25.0 beside kube-apiserver v1.25.4"),
        "{}",
        f[0].2
    );
    let node1 = m.nodes.iter().find(|n| n.name == "node1").unwrap();
    assert_eq!(node1.kubelet.severity, Some(Severity::Info));
    assert_eq!(node1.kubelet.allowed.unwrap().to_string(), "v1.23–v1.25");
    // kube-proxy is read from its pod's image, and judged against both sides.
    let proxy = node1.kube_proxy.as_ref().unwrap();
    assert_eq!(proxy.version, "v1.25.4");
    assert_eq!(proxy.allowed.unwrap().to_string(), "v1.23–v1.25");
    // The control plane: the apiserver pod, /version right after it, then the others.
    let order: Vec<(&str, &str)> = m
        .control_plane
        .iter()
        .map(|r| (r.component.name(), r.source.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("kube-apiserver", "kube-apiserver-master0"),
            ("kube-apiserver", "/version"),
            ("kube-controller-manager", "kube-controller-manager-master0"),
            ("kube-scheduler", "kube-scheduler-master0"),
            ("etcd", "etcd-master0"),
        ]
    );
    let etcd = &m.control_plane[4].cell;
    assert_eq!(
        (etcd.version.as_str(), etcd.allowed, etcd.severity),
        ("3.5.5-0", None, None)
    );
}

#[test]
fn matrix_verdicts() {
    // Long: a table of cases, each inventory read beside the findings it must give.
    // (case, inventory, expected (severity, subject) findings)
    type Case<'a> = (&'a str, Inventory, Vec<(Severity, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "kubelet newer than the apiserver",
            inv(
                "v1.29.4",
                &[("cp", true, "v1.29.4"), ("w", false, "v1.30.0")],
                "",
                "v1.29.4",
            ),
            vec![(Severity::Error, "node/w kubelet")],
        ),
        (
            "worker at n-3 must go before the next control-plane upgrade",
            inv(
                "v1.29.4",
                &[("cp", true, "v1.29.4"), ("w", false, "v1.26.1")],
                "",
                "v1.29.4",
            ),
            vec![(Severity::Warning, "node/w kubelet")],
        ),
        (
            "worker at n-4",
            inv(
                "v1.29.4",
                &[("cp", true, "v1.29.4"), ("w", false, "v1.25.1")],
                "",
                "v1.29.4",
            ),
            vec![
                (Severity::Error, "node/w kubelet"),
                (Severity::Error, "node/w kube-proxy (kube-proxy-w)"),
            ],
        ),
        (
            "kube-proxy newer than the apiserver",
            inv("v1.28.2", &[("cp", true, "v1.28.2")], "", "v1.29.0"),
            vec![(Severity::Error, "node/cp kube-proxy (kube-proxy-cp)")],
        ),
        (
            "no kube-proxy pods: nothing to judge there",
            inv(
                "v1.28.2",
                &[("cp", true, "v1.28.2"), ("w", false, "v1.28.2")],
                "",
                "",
            ),
            vec![],
        ),
        (
            "apiservers two minors apart",
            {
                let mut i = inv(
                    "v1.29.4",
                    &[("a", true, "v1.29.4"), ("b", true, "v1.29.4")],
                    "",
                    "",
                );
                i.pods
                    .iter_mut()
                    .filter(|p| p.pod == "kube-apiserver-b")
                    .for_each(|p| {
                        p.image = "registry.k8s.io/kube-apiserver:v1.31.0".into();
                    });
                i
            },
            vec![(Severity::Error, "kube-apiserver")],
        ),
        (
            "an unreadable kubelet version is said, not guessed",
            inv(
                "v1.29.4",
                &[("cp", true, "v1.29.4"), ("w", false, "latest")],
                "",
                "",
            ),
            vec![(Severity::Warning, "node/w kubelet")],
        ),
        (
            "managed control plane: /version only",
            {
                let mut i = inv("v1.29.4-eks-abc", &[("w", false, "v1.29.1-eks-x")], "", "");
                i.pods.clear();
                i
            },
            vec![(Severity::Info, "node/w kubelet")],
        ),
        (
            "nothing tells the apiserver version",
            {
                let mut i = inv("", &[("w", false, "v1.29.1")], "", "");
                i.pods.clear();
                i
            },
            vec![(Severity::Warning, "kube-apiserver")],
        ),
    ];
    for (name, i, want) in cases {
        let got: Vec<(Severity, String)> = findings(&i)
            .into_iter()
            .map(|(s, sub, _)| (s, sub))
            .collect();
        let want: Vec<(Severity, String)> = want
            .into_iter()
            .map(|(s, sub)| (s, sub.to_string()))
            .collect();
        assert_eq!(got, want, "{name}: {:?}", findings(&i));
        assert_eq!(
            matrix(&i).has_errors(),
            want.iter().any(|(s, _)| *s == Severity::Error),
            "{name}"
        );
    }
}

#[test]
fn apiserver_cells_outside_the_spread_are_errors() {
    let mut i = inv(
        "v1.29.4",
        &[("a", true, "v1.29.4"), ("b", true, "v1.29.4")],
        "",
        "",
    );
    for p in i.pods.iter_mut().filter(|p| p.pod == "kube-apiserver-b") {
        p.image = "registry.k8s.io/kube-apiserver:v1.31.0".into();
    }
    let m = matrix(&i);
    let api: Vec<(String, Option<Severity>)> = m
        .control_plane
        .iter()
        .filter(|r| r.component == Component::KubeApiserver)
        .map(|r| (r.source.clone(), r.cell.severity))
        .collect();
    assert_eq!(
        api,
        [
            ("kube-apiserver-a".to_string(), Some(Severity::Error)),
            ("kube-apiserver-b".to_string(), Some(Severity::Error)),
            ("/version".to_string(), Some(Severity::Error)),
        ]
    );
}

fn t(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// (node, role, from, to) of each step.
fn order(i: &Inventory, target: &str) -> Vec<(String, Role, String, String)> {
    plan(i, &t(target))
        .unwrap()
        .steps
        .into_iter()
        .map(|s| (s.node, s.role, s.from, s.to))
        .collect()
}

#[test]
fn seed_to_the_next_minor() {
    let p = plan(&seed(), &t("v1.26.0")).unwrap();
    assert_eq!(p.chain, ["v1.26.0"]);
    assert!(p.blockers.is_empty());
    let steps: Vec<(&str, Role, &str, &str)> = p
        .steps
        .iter()
        .map(|s| (s.node.as_str(), s.role, s.from.as_str(), s.to.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("master0", Role::ControlPlane, "v1.25.4", "v1.26.0"),
            ("node0", Role::Worker, "v1.25.4", "v1.26.0"),
            ("node1", Role::Worker, "v1.25.0", "v1.26.0"),
        ]
    );
    assert!(p.steps.iter().all(|s| s.drain));
    assert_eq!(p.steps[0].why, "control plane, first");
    assert_eq!(p.steps[1].why, "kubelet");
}

#[test]
fn plans() {
    // Long: a table of cases, each inventory read beside the plan it must give.
    let ha = inv(
        "v1.29.4",
        &[
            ("cp-a", true, "v1.29.4"),
            ("cp-b", true, "v1.29.4"),
            ("w1", false, "v1.29.4"),
            ("w2", false, "v1.26.1"),
        ],
        "",
        "v1.29.4",
    );
    // (case, inventory, target, chain, blockers (node, blocks), steps (node, to))
    type Case<'a> = (
        &'a str,
        Inventory,
        &'a str,
        Vec<&'a str>,
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "two minors: the control plane stops at every minor, the workers go once",
            seed(),
            "v1.27.2",
            vec!["v1.26.x", "v1.27.2"],
            vec![],
            vec![
                ("master0", "v1.26.x"),
                ("master0", "v1.27.2"),
                ("node0", "v1.27.2"),
                ("node1", "v1.27.2"),
            ],
        ),
        (
            "a patch upgrade",
            seed(),
            "v1.25.6",
            vec!["v1.25.6"],
            vec![],
            vec![
                ("master0", "v1.25.6"),
                ("node0", "v1.25.6"),
                ("node1", "v1.25.6"),
            ],
        ),
        (
            "already there",
            seed(),
            "v1.25.4",
            vec!["v1.25.4"],
            vec![],
            vec![("node1", "v1.25.4")],
        ),
        (
            "the n-3 worker blocks the next control-plane minor and goes first",
            ha.clone(),
            "v1.30.1",
            vec!["v1.30.1"],
            vec![("w2", "v1.30")],
            vec![
                ("w2", "v1.29.4"),
                ("cp-a", "v1.30.1"),
                ("cp-b", "v1.30.1"),
                ("w1", "v1.30.1"),
                ("w2", "v1.30.1"),
            ],
        ),
        (
            "within the same minor nothing blocks",
            ha.clone(),
            "v1.29.6",
            vec!["v1.29.6"],
            vec![],
            vec![
                ("cp-a", "v1.29.6"),
                ("cp-b", "v1.29.6"),
                ("w1", "v1.29.6"),
                ("w2", "v1.29.6"),
            ],
        ),
        (
            "three minors: the n-3 worker blocks the first stop only (at v1.29 it keeps up to v1.32)",
            ha,
            "v1.32.0",
            vec!["v1.30.x", "v1.31.x", "v1.32.0"],
            vec![("w2", "v1.30")],
            vec![
                ("w2", "v1.29.4"),
                ("cp-a", "v1.30.x"),
                ("cp-b", "v1.30.x"),
                ("cp-a", "v1.31.x"),
                ("cp-b", "v1.31.x"),
                ("cp-a", "v1.32.0"),
                ("cp-b", "v1.32.0"),
                ("w1", "v1.32.0"),
                ("w2", "v1.32.0"),
            ],
        ),
        (
            "mid-upgrade HA: the node already at the new minor is not stepped again",
            {
                let mut i = inv(
                    "v1.29.4",
                    &[("a", true, "v1.30.0"), ("b", true, "v1.29.4")],
                    "",
                    "",
                );
                i.pods
                    .iter_mut()
                    .filter(|p| p.node.as_deref() == Some("a"))
                    .for_each(|p| {
                        p.image = p.image.replace("v1.29.4", "v1.30.0");
                    });
                i.pods
                    .iter_mut()
                    .filter(|p| p.node.as_deref() == Some("b"))
                    .for_each(|p| {
                        p.image = p.image.replace("v1.30.0", "v1.29.4");
                    });
                i
            },
            "v1.30.0",
            vec!["v1.30.0"],
            vec![],
            vec![("b", "v1.30.0")],
        ),
    ];
    for (name, i, target, chain, blockers, steps) in cases {
        let p = plan(&i, &t(target)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.chain, chain, "{name}");
        let b: Vec<(String, String)> = p
            .blockers
            .iter()
            .map(|b| (b.node.clone(), b.blocks.to_string()))
            .collect();
        let want_b: Vec<(String, String)> = blockers
            .iter()
            .map(|(n, m)| (n.to_string(), m.to_string()))
            .collect();
        assert_eq!(b, want_b, "{name}");
        let s: Vec<(String, String)> = order(&i, target)
            .into_iter()
            .map(|(n, _, _, to)| (n, to))
            .collect();
        let want_s: Vec<(String, String)> = steps
            .iter()
            .map(|(n, to)| (n.to_string(), to.to_string()))
            .collect();
        assert_eq!(s, want_s, "{name}");
    }
}

#[test]
fn plans_refused() {
    let cases: &[(&str, &str)] = &[
        ("v1.24.0", "downgrades are not supported"),
        ("v1.25.3", "downgrades are not supported"),
        ("v2.0.0", "another major version"),
    ];
    for (target, words) in cases {
        let err = plan(&seed(), &t(target)).expect_err(target).to_string();
        assert!(err.contains(words), "{target}: {err}");
    }
    let mut unknown = seed();
    unknown.pods.clear();
    unknown.server = None;
    let err = plan(&unknown, &t("v1.26.0")).unwrap_err().to_string();
    assert!(err.contains("kube-apiserver version is unknown"), "{err}");
}

#[test]
fn components_by_image() {
    let cases: &[(&str, Option<Component>)] = &[
        (
            "registry.k8s.io/kube-apiserver:v1.25.4",
            Some(Component::KubeApiserver),
        ),
        (
            "k8s.gcr.io/kube-apiserver-amd64:v1.10.0",
            Some(Component::KubeApiserver),
        ),
        (
            "gke.gcr.io/kube-proxy-amd64:v1.29.1-gke.1589017",
            Some(Component::KubeProxy),
        ),
        (
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.1",
            Some(Component::KubeProxy),
        ),
        (
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.1-eksbuild.4",
            Some(Component::Coredns),
        ),
        ("registry.k8s.io/etcd:3.5.5-0", Some(Component::Etcd)),
        (
            "registry.k8s.io/kube-scheduler:v1.25.4",
            Some(Component::KubeScheduler),
        ),
        ("weaveworks/weave-kube:latest", None),
        (
            "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.10.0",
            None,
        ),
    ];
    for (image, want) in cases {
        assert_eq!(Component::of_image(image), *want, "{image}");
    }
}

#[test]
fn a_managed_control_plane_is_named_in_the_plan() {
    let mut i = inv(
        "v1.29.4-eks-abc",
        &[
            ("w1", false, "v1.29.1-eks-x"),
            ("w2", false, "v1.28.3-eks-y"),
        ],
        "",
        "",
    );
    i.pods.clear();
    let p = plan(&i, &t("v1.30.2-eks-def")).unwrap();
    assert_eq!(p.chain, ["v1.30.2-eks-def"]);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.node.as_str()).collect();
    assert_eq!(steps, ["w1", "w2"]);
    assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
    assert!(
        p.notes[0].contains("no control-plane node is visible"),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes[0].contains("upgrade it to v1.30.2-eks-def through its provider"),
        "{:?}",
        p.notes
    );
}
