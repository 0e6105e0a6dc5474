//! Validation of Services, ConfigMaps, Secrets and Leases (`pkg/apis/core/validation`,
//! `pkg/apis/coordination/validation`): the rules a user meets with `kubectl create`,
//! `expose` and `apply`.

use serde_json::Value;

use super::{Errors, FieldError, meta, quote};
use crate::sim::kinds::Kind;

/// `MaxSecretSize` and the ConfigMap limit (`corev1.MaxSecretSize`).
const MAX_DATA_BYTES: usize = 1024 * 1024;

const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// The kind's own rules for a new (or updated) object.
pub fn spec(kind: Kind, obj: &Value) -> Errors {
    match kind {
        Kind::Service => service(&obj["spec"]),
        Kind::ConfigMap => config_map(obj),
        Kind::Secret => secret(obj),
        Kind::Lease => lease(&obj["spec"]),
        _ => Vec::new(),
    }
}

/// What an update may not change.
pub fn immutable(kind: Kind, old: &Value, new: &Value) -> Errors {
    let mut errs = Vec::new();
    match kind {
        Kind::Service => {
            let (was, now) = (&old["spec"]["clusterIPs"], &new["spec"]["clusterIPs"]);
            if was.as_array().is_some_and(|a| !a.is_empty()) && was[0] != now[0] {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    go_strings(now),
                    "may not change once set",
                ));
            }
        }
        Kind::Secret | Kind::ConfigMap => {
            if kind == Kind::Secret && old["type"] != new["type"] {
                errs.push(FieldError::invalid(
                    "type",
                    quote(new["type"].as_str().unwrap_or("")),
                    "field is immutable",
                ));
            }
            if old["immutable"] == true {
                let msg = "field is immutable when `immutable` is set";
                if new["immutable"] != true {
                    errs.push(FieldError::forbidden("immutable", msg));
                }
                for f in ["data", "binaryData"] {
                    if old[f] != new[f] {
                        errs.push(FieldError::forbidden(f, msg));
                    }
                }
            }
        }
        _ => {}
    }
    errs
}

/// Go's `%#v` of a `[]string`.
fn go_strings(v: &Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| quote(s.as_str().unwrap_or("")))
        .collect();
    format!("[]string{{{}}}", items.join(", "))
}

fn service(s: &Value) -> Errors {
    let mut errs = Vec::new();
    let ty = s["type"].as_str().unwrap_or("ClusterIP");
    const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&ty) {
        errs.push(FieldError::not_supported("spec.type", &s["type"], &TYPES));
    }
    let ports: Vec<&Value> = s["ports"].as_array().into_iter().flatten().collect();
    let headless = s["clusterIP"] == "None";
    if ty == "ExternalName" {
        if s["externalName"].as_str().unwrap_or("").is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        }
    } else if ports.is_empty() && !headless {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let mut names = std::collections::HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let at = |f: &str| format!("spec.ports[{i}].{f}");
        let name = p["name"].as_str().unwrap_or("");
        if name.is_empty() {
            if ports.len() > 1 {
                errs.push(FieldError::required(&at("name"), ""));
            }
        } else {
            for m in meta::dns1123_label(name) {
                errs.push(FieldError::invalid(&at("name"), quote(name), &m));
            }
            if !names.insert(name) {
                errs.push(FieldError::duplicate(&at("name"), name));
            }
        }
        port_range(&mut errs, &at("port"), &p["port"], true);
        port_range(&mut errs, &at("nodePort"), &p["nodePort"], false);
        if p["targetPort"].is_number() {
            port_range(&mut errs, &at("targetPort"), &p["targetPort"], false);
        }
        let proto = &p["protocol"];
        if !proto.is_null() && !["SCTP", "TCP", "UDP"].contains(&proto.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &at("protocol"),
                proto,
                &["SCTP", "TCP", "UDP"],
            ));
        }
        if ty == "ClusterIP" && p["nodePort"].as_i64().is_some_and(|n| n != 0) {
            errs.push(FieldError::forbidden(
                &at("nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
    }
    errs.extend(meta::labels(&s["selector"], "spec.selector"));
    errs
}

/// A port number in 1..=65535 (absent is fine unless `required`).
fn port_range(errs: &mut Errors, field: &str, v: &Value, required: bool) {
    match v.as_i64() {
        None if required => errs.push(FieldError::invalid(
            field,
            "0".into(),
            "must be between 1 and 65535, inclusive",
        )),
        Some(n) if !((1..=65535).contains(&n) || n == 0 && !required) => {
            errs.push(FieldError::invalid(
                field,
                n.to_string(),
                "must be between 1 and 65535, inclusive",
            ))
        }
        _ => {}
    }
}

/// `IsConfigMapKey`.
fn config_key(errs: &mut Errors, field: &str, key: &str) {
    let valid = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    let bad = quote(key);
    if !valid {
        errs.push(FieldError::invalid(field, bad.clone(), CONFIG_KEY_MSG));
    }
    if key.len() > 253 {
        errs.push(FieldError::invalid(
            field,
            bad.clone(),
            "must be no more than 253 characters",
        ));
    }
    if key == "." || key == ".." {
        errs.push(FieldError::invalid(
            field,
            bad,
            &format!("must not be '{key}'"),
        ));
    }
}

fn keys(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
    v.as_object().into_iter().flatten()
}

fn config_map(o: &Value) -> Errors {
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, v) in keys(&o["data"]) {
        config_key(&mut errs, &format!("data[{k}]"), k);
        size += v.as_str().map_or(0, str::len);
    }
    for (k, v) in keys(&o["binaryData"]) {
        config_key(&mut errs, &format!("binaryData[{k}]"), k);
        if o["data"].get(k).is_some() {
            errs.push(FieldError::invalid(
                &format!("data[{k}]"),
                quote(k),
                "duplicate of key present in binaryData",
            ));
        }
        size += v.as_str().map_or(0, |s| s.len() * 3 / 4);
    }
    if size > MAX_DATA_BYTES {
        errs.push(FieldError::too_long(
            "[]",
            &format!("must have at most {MAX_DATA_BYTES} bytes"),
        ));
    }
    errs
}

fn secret(o: &Value) -> Errors {
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, v) in keys(&o["data"]) {
        config_key(&mut errs, &format!("data[{k}]"), k);
        size += v.as_str().map_or(0, |s| s.len() * 3 / 4);
    }
    if size > MAX_DATA_BYTES {
        errs.push(FieldError::too_long(
            "data",
            &format!("must have at most {MAX_DATA_BYTES} bytes"),
        ));
    }
    let has = |k: &str| o["data"].get(k).is_some();
    let required: &[&str] = match o["type"].as_str().unwrap_or("Opaque") {
        "kubernetes.io/tls" => &["tls.crt", "tls.key"],
        "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
        "kubernetes.io/dockercfg" => &[".dockercfg"],
        "kubernetes.io/ssh-auth" => &["ssh-privatekey"],
        "kubernetes.io/service-account-token" => {
            let ann = &o["metadata"]["annotations"]["kubernetes.io/service-account.name"];
            if ann.as_str().unwrap_or("").is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
            &[]
        }
        _ => &[],
    };
    for k in required.iter().filter(|k| !has(k)) {
        errs.push(FieldError::required(&format!("data[{k}]"), ""));
    }
    errs
}

fn lease(s: &Value) -> Errors {
    let mut errs = Vec::new();
    if let Some(n) = s["leaseDurationSeconds"].as_i64()
        && n <= 0
    {
        errs.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            n.to_string(),
            "must be greater than 0",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errs: &Errors) -> Vec<String> {
        errs.iter().map(FieldError::message).collect()
    }

    #[test]
    fn service_rules() {
        let svc = json!({"spec": {"type": "ClusterIP", "ports": [
            {"name": "a", "port": 0, "protocol": "TCP"},
            {"port": 80, "protocol": "ICMP", "nodePort": 30000}]}});
        assert_eq!(
            messages(&spec(Kind::Service, &svc)),
            [
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
                "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
            ]
        );
        assert_eq!(
            messages(&spec(
                Kind::Service,
                &json!({"spec": {"type": "ClusterIP"}})
            )),
            ["spec.ports: Required value"]
        );
        let old = json!({"spec": {"clusterIPs": ["10.96.0.5"]}});
        let new = json!({"spec": {"clusterIPs": ["10.96.0.6"]}});
        assert_eq!(
            messages(&immutable(Kind::Service, &old, &new)),
            ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.6\"}: may not change once set"]
        );
    }

    #[test]
    fn secrets_and_config_maps() {
        let s =
            json!({"type": "kubernetes.io/tls", "data": {"bad key": "YQ==", "tls.crt": "YQ=="}});
        assert_eq!(
            messages(&spec(Kind::Secret, &s)),
            [
                format!("data[bad key]: Invalid value: \"bad key\": {CONFIG_KEY_MSG}"),
                "data[tls.key]: Required value".to_string(),
            ]
        );
        let old = json!({"type": "Opaque", "immutable": true, "data": {"a": "YQ=="}});
        let new = json!({"type": "Opaque", "immutable": true, "data": {"a": "Yg=="}});
        assert_eq!(
            messages(&immutable(Kind::Secret, &old, &new)),
            ["data: Forbidden: field is immutable when `immutable` is set"]
        );
        let cm = json!({"data": {"..": "x"}});
        assert_eq!(
            messages(&spec(Kind::ConfigMap, &cm)),
            ["data[..]: Invalid value: \"..\": must not be '..'"]
        );
    }
}
