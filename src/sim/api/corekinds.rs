//! The strategies of Services, Secrets and EndpointSlices that go beyond scheme defaults:
//! a Service's cluster IP and node ports are allocated on create and kept across updates
//! that omit them (`patchAllocatedValues`), and a Secret's `stringData` is merged into `data`.

use std::collections::HashSet;

use base64::Engine;
use serde_json::{Value, json};

use super::status::{ApiError, ApiResult};
use crate::sim::kinds::Kind;
use crate::sim::store::Store;

/// The service CIDR's first usable address is the `kubernetes` Service's (10.96.0.1, as
/// kubeadm's default 10.96.0.0/12); `kube-dns` takes 10.96.0.10.
const SERVICE_NET: [u8; 2] = [10, 96];
/// `--service-node-port-range`'s default.
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

fn fill(obj: &mut Value, field: &str, v: Value) {
    if obj[field].is_null() {
        obj[field] = v;
    }
}

/// Scheme defaults (create and update) of the kinds served here.
pub fn scheme(kind: Kind, obj: &mut Value) {
    match kind {
        Kind::Service => service_defaults(obj),
        Kind::Secret => {
            fill(obj, "type", json!("Opaque"));
            merge_string_data(obj);
        }
        Kind::EndpointSlice => {
            for p in obj["ports"].as_array_mut().into_iter().flatten() {
                fill(p, "protocol", json!("TCP"));
            }
        }
        _ => {}
    }
}

fn service_defaults(obj: &mut Value) {
    let s = &mut obj["spec"];
    fill(s, "type", json!("ClusterIP"));
    fill(s, "sessionAffinity", json!("None"));
    let ty = s["type"].as_str().unwrap_or("").to_string();
    if ty != "ExternalName" {
        fill(s, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        fill(s, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        fill(s, "allocateLoadBalancerNodePorts", json!(true));
    }
    for p in s["ports"].as_array_mut().into_iter().flatten() {
        fill(p, "protocol", json!("TCP"));
        if p["targetPort"].is_null() {
            p["targetPort"] = p["port"].clone();
        }
    }
    if obj["status"].is_null() {
        obj["status"] = json!({"loadBalancer": {}});
    }
}

/// `stringData` is write-only: its entries replace `data`'s, base64-encoded.
fn merge_string_data(obj: &mut Value) {
    let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|o| o.remove("stringData")) else {
        return;
    };
    if !obj["data"].is_object() {
        obj["data"] = json!({});
    }
    for (k, v) in sd {
        let text = v.as_str().unwrap_or_default();
        obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

/// On create: a Service's cluster IP (unless headless or given) and node ports.
pub fn allocate(store: &Store, kind: Kind, obj: &mut Value) -> ApiResult<()> {
    if kind != Kind::Service {
        return Ok(());
    }
    let (_, services) = store.list(Kind::Service, None);
    let ty = obj["spec"]["type"]
        .as_str()
        .unwrap_or("ClusterIP")
        .to_string();
    if ty != "ExternalName" {
        let used: HashSet<String> = services
            .iter()
            .filter_map(|s| s["spec"]["clusterIP"].as_str().map(str::to_string))
            .collect();
        let ip = match obj["spec"]["clusterIP"].as_str() {
            Some(ip) if !ip.is_empty() => {
                if ip != "None" && used.contains(ip) {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "Service {:?} is invalid: spec.clusterIPs: Invalid value: []string{{{ip:?}}}: failed to allocate IP {ip}: provided IP is already allocated",
                            obj["metadata"]["name"].as_str().unwrap_or("")
                        ),
                    ));
                }
                ip.to_string()
            }
            _ => free_ip(&used)?,
        };
        obj["spec"]["clusterIP"] = json!(ip);
        obj["spec"]["clusterIPs"] = json!([ip]);
        if ip != "None" {
            fill(&mut obj["spec"], "ipFamilies", json!(["IPv4"]));
            fill(&mut obj["spec"], "ipFamilyPolicy", json!("SingleStack"));
        }
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        let mut used: HashSet<i64> = services
            .iter()
            .flat_map(|s| s["spec"]["ports"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p["nodePort"].as_i64())
            .collect();
        for p in obj["spec"]["ports"].as_array_mut().into_iter().flatten() {
            if p["nodePort"].as_i64().unwrap_or(0) == 0 {
                let Some(port) = NODE_PORTS.clone().find(|n| !used.contains(n)) else {
                    return Err(ApiError::new(500, "InternalError", "no free node port"));
                };
                used.insert(port);
                p["nodePort"] = json!(port);
            }
        }
    }
    Ok(())
}

/// The lowest free address of 10.96.0.0/16 (from .1, the `kubernetes` Service's).
fn free_ip(used: &HashSet<String>) -> ApiResult<String> {
    (1..=u16::MAX - 1)
        .map(|n| {
            let [hi, lo] = n.to_be_bytes();
            format!("{}.{}.{hi}.{lo}", SERVICE_NET[0], SERVICE_NET[1])
        })
        .find(|ip| !used.contains(ip) && !ip.ends_with(".0.10"))
        .ok_or_else(|| ApiError::new(500, "InternalError", "the service IP range is full"))
}

/// Before an update's defaults: what a client's object omitted but the server allocated is
/// carried over (a PUT without `clusterIP` keeps the Service's).
pub fn prepare_update(kind: Kind, before: &Value, next: &mut Value) {
    if kind != Kind::Service {
        return;
    }
    for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        if next["spec"][f].is_null() && !before["spec"][f].is_null() {
            next["spec"][f] = before["spec"][f].clone();
        }
    }
    let old_ports = before["spec"]["ports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for p in next["spec"]["ports"].as_array_mut().into_iter().flatten() {
        if p["nodePort"].as_i64().unwrap_or(0) != 0 {
            continue;
        }
        if let Some(old) = old_ports.iter().find(|o| o["port"] == p["port"])
            && let Some(np) = old["nodePort"].as_i64()
        {
            p["nodePort"] = json!(np);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimClock;
    use std::sync::Arc;

    #[test]
    fn services_get_the_next_free_ip_and_node_ports() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 100);
        let mut a = json!({"metadata": {"name": "a", "namespace": "default"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        scheme(Kind::Service, &mut a);
        allocate(&store, Kind::Service, &mut a).unwrap();
        assert_eq!(a["spec"]["clusterIP"], "10.96.0.1");
        assert_eq!(a["spec"]["ports"][0]["nodePort"], 30000);
        assert_eq!(a["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(a["spec"]["ports"][0]["protocol"], "TCP");
        store.create(Kind::Service, a.clone()).unwrap();
        let mut b = json!({"metadata": {"name": "b", "namespace": "default"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        allocate(&store, Kind::Service, &mut b).unwrap();
        assert_eq!(b["spec"]["clusterIP"], "10.96.0.2");
        assert_eq!(b["spec"]["ports"][0]["nodePort"], 30001);
        let mut taken =
            json!({"metadata": {"name": "c"}, "spec": {"clusterIP": "10.96.0.1", "ports": []}});
        assert_eq!(
            allocate(&store, Kind::Service, &mut taken)
                .unwrap_err()
                .code,
            422
        );
        let mut put = json!({"spec": {"ports": [{"port": 80}]}});
        prepare_update(Kind::Service, &a, &mut put);
        assert_eq!(put["spec"]["clusterIPs"], json!(["10.96.0.1"]));
        assert_eq!(put["spec"]["ports"][0]["nodePort"], 30000);
    }

    #[test]
    fn string_data_is_merged_into_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"a": "new", "b": "two"}});
        scheme(Kind::Secret, &mut s);
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"], json!({"a": "bmV3", "b": "dHdv"}));
        assert!(s.get("stringData").is_none());
    }
}
