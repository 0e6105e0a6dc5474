//! Columns and cells of Services, Endpoints, EndpointSlices, ConfigMaps, Secrets,
//! ServiceAccounts and Leases, as the apiserver's printers (pkg/printers/internalversion) make
//! them.

use serde_json::{Value, json};

use super::cells::s;
use crate::sim::kinds::Kind;

/// The kind's columns after `Name` (wide ones have priority 1), with `Age` where the printer
/// puts it; `None` for kinds not printed here.
pub(super) fn columns(kind: Kind) -> Option<Vec<(&'static str, u8, &'static str)>> {
    Some(match kind {
        Kind::Service => vec![
            ("Type", 0, "The type of service."),
            ("Cluster-IP", 0, "The cluster IP of the service."),
            ("External-IP", 0, "The external IP of the service."),
            ("Port(s)", 0, "The port(s) of service."),
            ("Age", 0, ""),
            ("Selector", 1, "The selector of the service."),
        ],
        Kind::Endpoints => vec![
            ("Endpoints", 0, "Endpoints of the service."),
            ("Age", 0, ""),
        ],
        Kind::EndpointSlice => vec![
            ("AddressType", 0, "The IP protocol for this slice."),
            ("Ports", 0, "The ports for this slice."),
            (
                "Endpoints",
                0,
                "The addresses of the endpoints for this slice.",
            ),
            ("Age", 0, ""),
        ],
        Kind::ConfigMap => vec![
            ("Data", 0, "Number of data in the configmap."),
            ("Age", 0, ""),
        ],
        Kind::Secret => vec![
            ("Type", 0, "The type of the secret."),
            ("Data", 0, "Number of data in the secret."),
            ("Age", 0, ""),
        ],
        Kind::ServiceAccount => vec![("Secrets", 0, "Number of secrets."), ("Age", 0, "")],
        Kind::Lease => vec![("Holder", 0, "The holder of the lease."), ("Age", 0, "")],
        _ => return None,
    })
}

/// The cells after `Name`, `Age` already formatted by the caller.
pub(super) fn cells(kind: Kind, o: &Value, age: Value) -> Option<Vec<Value>> {
    let len = |v: &Value| v.as_object().map_or(0, |m| m.len()) as i64;
    Some(match kind {
        Kind::Service => vec![
            json!(s(&o["spec"]["type"])),
            json!(o["spec"]["clusterIPs"][0].as_str().unwrap_or("<none>")),
            json!(external_ip(o)),
            json!(service_ports(&o["spec"]["ports"])),
            age,
            json!(selector_text(&o["spec"]["selector"])),
        ],
        Kind::Endpoints => vec![json!(endpoints_text(&o["subsets"])), age],
        Kind::EndpointSlice => {
            let ports: Vec<String> = list(&o["ports"])
                .map(|p| match (&p["port"], p["name"].as_str()) {
                    (Value::Number(n), _) => n.to_string(),
                    (_, Some(n)) => n.to_string(),
                    _ => "*".to_string(),
                })
                .collect();
            let addrs: Vec<String> = list(&o["endpoints"])
                .flat_map(|e| list(&e["addresses"]))
                .map(|a| s(a).to_string())
                .collect();
            vec![
                json!(s(&o["addressType"])),
                json!(with_more(&ports, "<unset>")),
                json!(with_more(&addrs, "<unset>")),
                age,
            ]
        }
        Kind::ConfigMap => vec![json!(len(&o["data"]) + len(&o["binaryData"])), age],
        Kind::Secret => vec![json!(s(&o["type"])), json!(len(&o["data"])), age],
        Kind::ServiceAccount => vec![json!(list(&o["secrets"]).count()), age],
        Kind::Lease => vec![json!(s(&o["spec"]["holderIdentity"])), age],
        _ => return None,
    })
}

fn list(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// The first three, then `+ N more...`; `empty` when there are none.
fn with_more(items: &[String], empty: &str) -> String {
    const MAX: usize = 3;
    if items.is_empty() {
        return empty.to_string();
    }
    let shown = items[..items.len().min(MAX)].join(",");
    if items.len() > MAX {
        format!("{shown} + {} more...", items.len() - MAX)
    } else {
        shown
    }
}

/// `getServiceExternalIP`: what clients outside the cluster reach the service by.
fn external_ip(o: &Value) -> String {
    let spec = &o["spec"];
    let external: Vec<&str> = list(&spec["externalIPs"])
        .filter_map(Value::as_str)
        .collect();
    match s(&spec["type"]) {
        "ExternalName" => s(&spec["externalName"]).to_string(),
        "LoadBalancer" => {
            let mut ips: Vec<&str> = list(&o["status"]["loadBalancer"]["ingress"])
                .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
                .collect();
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        _ if external.is_empty() => "<none>".into(),
        _ => external.join(","),
    }
}

/// `80/TCP,443:30443/TCP`.
fn service_ports(ports: &Value) -> String {
    let parts: Vec<String> = list(ports)
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(np) if np > 0 => format!("{}:{np}/{proto}", p["port"]),
                _ => format!("{}/{proto}", p["port"]),
            }
        })
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

/// `labels.FormatLabels`: `a=b,c=d` sorted, `<none>` when empty.
fn selector_text(sel: &Value) -> String {
    let Some(m) = sel.as_object().filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
    kv.sort();
    kv.join(",")
}

/// `formatEndpoints`: ready `ip:port` pairs, three at most.
fn endpoints_text(subsets: &Value) -> String {
    if list(subsets).next().is_none() {
        return "<none>".into();
    }
    let mut all = Vec::new();
    for ss in list(subsets) {
        let addrs: Vec<&str> = list(&ss["addresses"]).map(|a| s(&a["ip"])).collect();
        let ports: Vec<&Value> = list(&ss["ports"]).collect();
        if ports.is_empty() {
            all.extend(addrs.iter().map(|a| a.to_string()));
        }
        for p in ports {
            all.extend(addrs.iter().map(|a| format!("{a}:{}", p["port"])));
        }
    }
    if all.is_empty() {
        return String::new();
    }
    with_more(&all, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_print_like_kubectl() {
        let svc = json!({"spec": {"type": "NodePort", "clusterIPs": ["10.96.0.20"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"b": "2", "a": "1"}}});
        let c = cells(Kind::Service, &svc, json!("1m")).unwrap();
        assert_eq!(c[0], "NodePort");
        assert_eq!(c[1], "10.96.0.20");
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "80:30080/TCP,53/UDP");
        assert_eq!(c[5], "a=1,b=2");
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": []}});
        let c = cells(Kind::Service, &lb, json!("1m")).unwrap();
        assert_eq!(
            (c[1].as_str(), c[2].as_str(), c[3].as_str()),
            (Some("<none>"), Some("<pending>"), Some("<none>"))
        );
    }

    #[test]
    fn endpoints_show_three_and_count_the_rest() {
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
            "ports": [{"port": 80}, {"port": 81}]}]});
        assert_eq!(
            endpoints_text(&ep["subsets"]),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more..."
        );
        assert_eq!(endpoints_text(&json!(null)), "<none>");
        let slice = json!({"addressType": "IPv4", "ports": [{"port": 8080}], "endpoints": []});
        let c = cells(Kind::EndpointSlice, &slice, json!("1m")).unwrap();
        assert_eq!(c[1], "8080");
        assert_eq!(c[2], "<unset>");
    }
}
