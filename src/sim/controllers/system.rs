//! The controllers of the objects around workloads: every namespace's `default`
//! ServiceAccount and `kube-root-ca.crt` ConfigMap (the service-account and root-CA publisher
//! controllers), Services' Endpoints and EndpointSlices ([`super::endpoints`]), and the
//! kubelets' heartbeats ([`super::leases`]).
//!
//! They read the change feed before the shared index does (none of their kinds is indexed)
//! and keep their own small state, so a cluster without Services costs nothing per pod change.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Manager;
use super::endpoints::EndpointsState;
use super::leases::LeaseState;
use super::util::is_terminating;
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, Store};

/// The ConfigMap with the cluster's CA that every namespace gets.
pub const ROOT_CA: &str = "kube-root-ca.crt";

/// State of the controllers in this module and its two siblings.
pub(crate) struct SystemState {
    /// Namespaces whose default objects are to be checked.
    namespaces: BTreeSet<String>,
    /// `kube-root-ca.crt`'s data (from `kube-system`'s, as written at start); none in
    /// scenarios without namespaces.
    root_ca: Option<Value>,
    pub(super) endpoints: EndpointsState,
    pub(super) leases: LeaseState,
    /// True until the first pass is done: what is created then stands for objects a real
    /// cluster made long ago, so it takes its owner's creationTimestamp (a 77-day-old
    /// namespace's ServiceAccount is not 5 s old).
    pub(super) seeding: bool,
}

impl SystemState {
    /// Finds what exists (after a start or resync).
    pub fn load(store: &Arc<Store>) -> Self {
        let root_ca = store
            .get(Kind::ConfigMap, "kube-system", ROOT_CA)
            .map(|c| c["data"].clone());
        SystemState {
            namespaces: store
                .keys(Kind::Namespace)
                .into_iter()
                .map(|k| k.1)
                .collect(),
            root_ca,
            endpoints: EndpointsState::load(store),
            leases: LeaseState::default(),
            seeding: true,
        }
    }
}

impl Manager {
    /// Notes what a change means for these controllers (called for every change).
    pub(super) fn system_observe(&mut self, c: &Change) {
        let o = &c.object;
        match c.kind {
            Kind::Namespace if c.change != ChangeType::Deleted => {
                self.sys.namespaces.insert(o.name().to_string());
            }
            Kind::ServiceAccount if c.change == ChangeType::Deleted && o.name() == "default" => {
                self.sys.namespaces.insert(o.namespace().to_string());
            }
            Kind::ConfigMap if o.name() == ROOT_CA && c.change != ChangeType::Added => {
                self.sys.namespaces.insert(o.namespace().to_string());
            }
            Kind::Node => self.lease_observe(c),
            _ => {}
        }
        self.endpoints_observe(c);
    }

    /// One pass of these controllers.
    pub(super) fn system_sync(&mut self) {
        for ns in std::mem::take(&mut self.sys.namespaces) {
            self.namespace_defaults(&ns);
        }
        self.endpoints_sync();
        self.leases_sync();
        self.sys.seeding = false;
    }

    /// `obj` with `owner`'s creationTimestamp while seeding.
    pub(super) fn born_with(&self, mut obj: Value, owner: &Value) -> Value {
        let t = &owner["metadata"]["creationTimestamp"];
        if self.sys.seeding && t.is_string() {
            obj["metadata"]["creationTimestamp"] = t.clone();
        }
        obj
    }

    /// After missing changes: check everything again.
    pub(super) fn system_resync(&mut self) {
        let leases = std::mem::take(&mut self.sys.leases);
        self.sys = SystemState::load(&self.store);
        self.sys.leases = leases;
        self.sys.seeding = false;
        self.sys.endpoints.mark_all();
    }

    /// The `default` ServiceAccount and the root CA ConfigMap of an active namespace.
    fn namespace_defaults(&mut self, ns: &str) {
        let Some(n) = self.store.get(Kind::Namespace, "", ns) else {
            return;
        };
        if is_terminating(&n) {
            return;
        }
        if self
            .store
            .get(Kind::ServiceAccount, ns, "default")
            .is_none()
        {
            let sa = json!({"metadata": {"name": "default", "namespace": ns}});
            let _ = self
                .store
                .create(Kind::ServiceAccount, self.born_with(sa, &n));
        }
        let Some(data) = self.sys.root_ca.clone() else {
            return;
        };
        let cm = self.store.get(Kind::ConfigMap, ns, ROOT_CA);
        match cm {
            None => {
                let cm = json!({"metadata": {"name": ROOT_CA, "namespace": ns,
                    "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                    "data": data});
                let _ = self.store.create(Kind::ConfigMap, self.born_with(cm, &n));
            }
            Some(c) if c["data"] != data => {
                let _ = self.store.update(Kind::ConfigMap, ns, ROOT_CA, |c| {
                    c["data"] = data;
                    Ok(())
                });
            }
            Some(_) => {}
        }
    }
}

/// The annotation the root-CA publisher puts on the ConfigMap.
pub const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
