//! The endpoints and EndpointSlice controllers: each Service with a selector gets an
//! `Endpoints` of the same name and one `EndpointSlice` listing the pods it selects that have
//! an IP (ready ones as addresses, the others as not ready), updated as pods come, go and
//! change readiness.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::Manager;
use super::util::{is_finished, is_terminating, pod_ready};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, ObjKey, Store, Stored};

/// `kubernetes.io/service-name`: the label that ties a slice to its Service.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
const CONTROLLER: &str = "endpointslice-controller.k8s.io";

/// Services' selectors by namespace, and the Services to reconcile.
#[derive(Default)]
pub(crate) struct EndpointsState {
    selectors: HashMap<String, BTreeMap<String, Map<String, Value>>>,
    dirty: BTreeSet<ObjKey>,
}

impl EndpointsState {
    /// Every Service in `store`, all to be reconciled.
    pub fn load(store: &Store) -> Self {
        let mut s = EndpointsState::default();
        for svc in store.list(Kind::Service, None).1 {
            s.note(&svc);
        }
        s.mark_all();
        s
    }

    pub fn mark_all(&mut self) {
        for (ns, m) in &self.selectors {
            self.dirty.extend(m.keys().map(|n| (ns.clone(), n.clone())));
        }
    }

    fn note(&mut self, svc: &Value) {
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or("");
        let name = svc["metadata"]["name"].as_str().unwrap_or("");
        let sel = svc["spec"]["selector"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        self.selectors
            .entry(ns.to_string())
            .or_default()
            .insert(name.to_string(), sel);
    }

    fn forget(&mut self, ns: &str, name: &str) {
        if let Some(m) = self.selectors.get_mut(ns) {
            m.remove(name);
            if m.is_empty() {
                self.selectors.remove(ns);
            }
        }
    }

    /// Services in the pod's namespace whose selector matches its labels.
    fn selecting(&self, pod: &Stored) -> Vec<ObjKey> {
        let ns = pod.namespace();
        let Some(m) = self.selectors.get(ns) else {
            return Vec::new();
        };
        m.iter()
            .filter(|(_, sel)| selects(sel, pod))
            .map(|(n, _)| (ns.to_string(), n.clone()))
            .collect()
    }
}

/// A Service selector (a plain map) against a pod's labels; an empty one selects nothing.
fn selects(sel: &Map<String, Value>, pod: &Stored) -> bool {
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| v.as_str().is_some_and(|v| pod.label(k) == Some(v)))
}

impl Manager {
    pub(super) fn endpoints_observe(&mut self, c: &Change) {
        let o = &c.object;
        let key = || (o.namespace().to_string(), o.name().to_string());
        match c.kind {
            Kind::Service => {
                if c.change == ChangeType::Deleted {
                    self.sys.endpoints.forget(o.namespace(), o.name());
                } else {
                    self.sys.endpoints.note(&o.value());
                }
                self.sys.endpoints.dirty.insert(key());
            }
            Kind::Pod => {
                let mut hit = self.sys.endpoints.selecting(o);
                if let Some(p) = &c.prev {
                    hit.extend(self.sys.endpoints.selecting(p));
                }
                self.sys.endpoints.dirty.extend(hit);
            }
            Kind::Endpoints if c.change == ChangeType::Deleted => {
                self.sys.endpoints.dirty.insert(key());
            }
            Kind::EndpointSlice if c.change == ChangeType::Deleted => {
                if let Some(svc) = o.label(SERVICE_NAME) {
                    let k = (o.namespace().to_string(), svc.to_string());
                    self.sys.endpoints.dirty.insert(k);
                }
            }
            _ => {}
        }
    }

    pub(super) fn endpoints_sync(&mut self) {
        for k in std::mem::take(&mut self.sys.endpoints.dirty) {
            self.service_endpoints(&k);
        }
    }

    /// Writes (or removes) the Endpoints and EndpointSlice of one Service.
    fn service_endpoints(&mut self, (ns, name): &ObjKey) {
        let slices = self.store.list_stored(Kind::EndpointSlice, Some(ns), |s| {
            s.label(SERVICE_NAME) == Some(name) && s.label(MANAGED_BY) == Some(CONTROLLER)
        });
        let Some(svc) = self.store.get(Kind::Service, ns, name) else {
            let _ = self.store.delete(Kind::Endpoints, ns, name);
            for s in slices.1 {
                let _ = self.store.delete(Kind::EndpointSlice, ns, s.name());
            }
            return;
        };
        let selector = svc["spec"]["selector"]
            .as_object()
            .filter(|m| !m.is_empty());
        let closing = self
            .store
            .get(Kind::Namespace, "", ns)
            .is_some_and(|n| is_terminating(&n));
        let Some(selector) = selector.cloned() else {
            return; // Without a selector, Endpoints are the user's to write.
        };
        if closing {
            return;
        }
        let pods = self.selected_pods(ns, &selector);
        let eps = endpoints(&svc, &pods);
        self.write_endpoints(ns, name, &svc, eps);
        let slice = slice_body(&svc, &pods);
        match slices.1.first() {
            Some(s) => {
                let _ = self.store.update(Kind::EndpointSlice, ns, s.name(), |o| {
                    for f in ["addressType", "endpoints", "ports"] {
                        o[f] = slice[f].clone();
                    }
                    o["metadata"]["labels"] = slice["metadata"]["labels"].clone();
                    Ok(())
                });
                for extra in &slices.1[1..] {
                    let _ = self.store.delete(Kind::EndpointSlice, ns, extra.name());
                }
            }
            None => {
                let _ = self
                    .store
                    .create(Kind::EndpointSlice, self.born_with(slice, &svc));
            }
        }
    }

    /// Pods of `ns` the selector picks that can serve: an IP, not finished.
    fn selected_pods(&self, ns: &str, selector: &Map<String, Value>) -> Vec<Value> {
        let Some(keys) = self.index.by_ns.get(ns) else {
            return Vec::new();
        };
        let mut pods: Vec<Value> = keys
            .iter()
            .filter_map(|k| self.index.pods.get(k))
            .filter(|p| selects(selector, p))
            .map(|p| p.value())
            .filter(|p| {
                !is_finished(p)
                    && p["status"]["podIP"]
                        .as_str()
                        .is_some_and(|ip| !ip.is_empty())
            })
            .collect();
        pods.sort_by(|a, b| {
            let ip = |p: &Value| p["status"]["podIP"].as_str().unwrap_or("").to_string();
            ip(a).cmp(&ip(b))
        });
        pods
    }

    fn write_endpoints(&mut self, ns: &str, name: &str, svc: &Value, subsets: Value) {
        let labels = svc["metadata"]["labels"].clone();
        let updated = self.store.update(Kind::Endpoints, ns, name, |e| {
            e["metadata"]["labels"] = labels.clone();
            set_or_remove(e, "subsets", subsets.clone());
            Ok(())
        });
        if updated.is_err() {
            let mut e = json!({"metadata": {"name": name, "namespace": ns}});
            if !labels.is_null() {
                e["metadata"]["labels"] = labels;
            }
            set_or_remove(&mut e, "subsets", subsets);
            let _ = self.store.create(Kind::Endpoints, self.born_with(e, svc));
        }
    }
}

fn set_or_remove(o: &mut Value, field: &str, v: Value) {
    match (v, o.as_object_mut()) {
        (Value::Array(a), Some(m)) if a.is_empty() => {
            m.remove(field);
        }
        (v, _) => o[field] = v,
    }
}

/// A Service port's target on one pod: a number, or a named container port.
fn target_port(port: &Value, pod: &Value) -> Option<i64> {
    match &port["targetPort"] {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pod["spec"]["containers"]
            .as_array()?
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|p| p["name"] == name.as_str())
            .and_then(|p| p["containerPort"].as_i64()),
        _ => port["port"].as_i64(),
    }
}

/// The resolved ports of `svc` on `pod` (`None` when one cannot be resolved).
fn pod_ports(svc: &Value, pod: &Value) -> Option<Vec<Value>> {
    svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let mut e = json!({"port": target_port(p, pod)?, "protocol": p["protocol"].as_str().unwrap_or("TCP")});
            if let Some(n) = p["name"].as_str().filter(|n| !n.is_empty()) {
                e["name"] = json!(n);
            }
            Some(e)
        })
        .collect()
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]})
}

/// One subset being built: ready addresses, not-ready addresses, ports.
type Subset = (Vec<Value>, Vec<Value>, Vec<Value>);

/// `subsets`: pods grouped by their resolved ports, ready ones as `addresses`.
fn endpoints(svc: &Value, pods: &[Value]) -> Value {
    let publish = svc["spec"]["publishNotReadyAddresses"] == true;
    let mut groups: BTreeMap<String, Subset> = BTreeMap::new();
    for p in pods {
        if is_terminating(p) && !publish {
            continue;
        }
        let Some(ports) = pod_ports(svc, p) else {
            continue;
        };
        let g = groups
            .entry(Value::Array(ports.clone()).to_string())
            .or_insert_with(|| (Vec::new(), Vec::new(), ports));
        let addr = json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
            "targetRef": target_ref(p)});
        if pod_ready(p) || publish {
            g.0.push(addr);
        } else {
            g.1.push(addr);
        }
    }
    let subsets: Vec<Value> = groups
        .into_values()
        .map(|(ready, not_ready, ports)| {
            let mut s = json!({});
            if !ready.is_empty() {
                s["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = json!(not_ready);
            }
            if !ports.is_empty() {
                s["ports"] = json!(ports);
            }
            s
        })
        .collect();
    Value::Array(subsets)
}

/// The Service's one EndpointSlice: every pod whose ports resolve like the first one's.
fn slice_body(svc: &Value, pods: &[Value]) -> Value {
    let (ns, name) = (&svc["metadata"]["namespace"], &svc["metadata"]["name"]);
    let mut ports: Option<Vec<Value>> = None;
    let mut eps = Vec::new();
    for p in pods {
        let Some(pp) = pod_ports(svc, p) else {
            continue;
        };
        if ports.get_or_insert_with(|| pp.clone()) != &pp {
            continue;
        }
        let terminating = is_terminating(p);
        let ready = pod_ready(p);
        eps.push(json!({
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": ready && !terminating, "serving": ready, "terminating": terminating},
            "nodeName": p["spec"]["nodeName"],
            "targetRef": target_ref(p),
        }));
    }
    let ports: Vec<Value> = ports
        .unwrap_or_default()
        .into_iter()
        .map(|mut p| {
            if p.get("name").is_none() {
                p["name"] = json!("");
            }
            p
        })
        .collect();
    let mut labels = svc["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    labels.insert(SERVICE_NAME.into(), name.clone());
    labels.insert(MANAGED_BY.into(), json!(CONTROLLER));
    let mut s = json!({
        "metadata": {"generateName": format!("{}-", name.as_str().unwrap_or("")), "namespace": ns,
            "labels": labels, "ownerReferences": [super::util::owner_ref(svc)]},
        "addressType": "IPv4",
        "ports": ports,
    });
    if !eps.is_empty() {
        s["endpoints"] = json!(eps);
    }
    s
}

/// For tests: the current Endpoints addresses (ready ones) of a Service.
pub fn ready_addresses(store: &Arc<Store>, ns: &str, name: &str) -> Vec<String> {
    store
        .get(Kind::Endpoints, ns, name)
        .map(|e| {
            e["subsets"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a["ip"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
