//! What a real cluster has from its first minute, written when the simulator starts (the
//! apiserver's bootstrap controller and kubeadm's addons): the `kube-node-lease` and
//! `kube-public` namespaces, the `kubernetes` Service in `default` with the Endpoints and
//! EndpointSlice that point at this server, the `kube-dns` Service when the cluster runs
//! CoreDNS, and `kube-system`'s `kube-root-ca.crt` (which the namespace controller copies into
//! every namespace). Scenarios without namespaces (tests that build their own cluster) get none.

use std::net::SocketAddr;

use color_eyre::Result;
use color_eyre::eyre::eyre;
use serde_json::{Value, json};

use super::endpoints::SERVICE_NAME;
use super::leases::NODE_LEASE_NS;
use super::system::{ROOT_CA, ROOT_CA_DESCRIPTION};
use crate::sim::kinds::Kind;
use crate::sim::store::Store;

/// The `kubernetes` Service's cluster IP (the first of kubeadm's 10.96.0.0/12).
pub const KUBERNETES_IP: &str = "10.96.0.1";
/// `kube-dns`'s cluster IP (kubeadm's default).
pub const KUBE_DNS_IP: &str = "10.96.0.10";

/// Writes the system objects into `store` (once, before the controllers start). `ca_pem` is
/// the CA clients trust; a plain-HTTP simulator gets one made for the ConfigMap.
pub fn system_objects(store: &Store, addr: SocketAddr, ca_pem: Option<&str>) -> Result<()> {
    if store.count(Kind::Namespace) == 0 {
        return Ok(());
    }
    let born = store
        .get(Kind::Namespace, "", "default")
        .map(|n| n["metadata"]["creationTimestamp"].clone())
        .unwrap_or(Value::Null);
    let stamp = |mut o: Value| {
        if !born.is_null() {
            o["metadata"]["creationTimestamp"] = born.clone();
        }
        o
    };
    for ns in [NODE_LEASE_NS, "kube-public"] {
        if store.get(Kind::Namespace, "", ns).is_none() {
            let n = json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            store.create(Kind::Namespace, stamp(n))?;
        }
    }
    let ca = match ca_pem {
        Some(p) => p.to_string(),
        None => new_ca_pem()?,
    };
    if store.get(Kind::ConfigMap, "kube-system", ROOT_CA).is_none() {
        let cm = json!({"metadata": {"name": ROOT_CA, "namespace": "kube-system",
            "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": ca}});
        store.create(Kind::ConfigMap, stamp(cm))?;
    }
    kubernetes_service(store, addr, &stamp)?;
    let coredns = store
        .list_stored(Kind::Pod, Some("kube-system"), |p| {
            p.label("k8s-app") == Some("kube-dns")
        })
        .1;
    if !coredns.is_empty()
        && store
            .get(Kind::Service, "kube-system", "kube-dns")
            .is_none()
    {
        store.create(Kind::Service, stamp(kube_dns()))?;
    }
    Ok(())
}

fn kubernetes_service(
    store: &Store,
    addr: SocketAddr,
    stamp: &dyn Fn(Value) -> Value,
) -> Result<()> {
    if store.get(Kind::Service, "default", "kubernetes").is_some() {
        return Ok(());
    }
    let ip = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let port = addr.port();
    let svc = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": KUBERNETES_IP, "clusterIPs": [KUBERNETES_IP],
            "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None", "type": "ClusterIP"},
        "status": {"loadBalancer": {}},
    });
    store.create(Kind::Service, stamp(svc))?;
    let ep = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    store.create(Kind::Endpoints, stamp(ep))?;
    let slice = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {SERVICE_NAME: "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    store.create(Kind::EndpointSlice, stamp(slice))?;
    Ok(())
}

fn kube_dns() -> Value {
    let port = |name: &str, port: u16, proto: &str| json!({"name": name, "port": port, "protocol": proto, "targetPort": port});
    json!({
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS"},
            "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": KUBE_DNS_IP, "clusterIPs": [KUBE_DNS_IP],
            "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"), port("metrics", 9153, "TCP")],
            "selector": {"k8s-app": "kube-dns"}, "sessionAffinity": "None", "type": "ClusterIP"},
        "status": {"loadBalancer": {}},
    })
}

/// A self-signed CA certificate (PEM) for a simulator that serves no TLS of its own.
fn new_ca_pem() -> Result<String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let err = |e: rcgen::Error| eyre!("making the cluster CA: {e}");
    let key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    Ok(ca.self_signed(&key).map_err(err)?.pem())
}
