//! Pod spec validation (`ValidatePodSpec`, the subset users trip over) for pods and pod
//! templates, and `ValidatePodUpdate`'s rule that a pod's spec is immutable but for a few fields.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::meta::{dns1123_label, labels};
use super::{Errors, FieldError, go_value, quote};

const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];
const OPERATORS: [&str; 2] = ["Exists", "Equal"];
/// Taint effects (`validateTaintEffect`).
pub const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// `ValidatePodSpec` at `path` (`spec` for pods, `spec.template.spec` for templates).
pub fn pod_spec(spec: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    let containers = spec["containers"].as_array();
    if containers.is_none_or(|c| c.is_empty()) {
        errs.push(FieldError::required(&format!("{path}.containers"), ""));
    }
    let mut names = HashSet::new();
    for key in ["initContainers", "containers"] {
        for (i, c) in spec[key].as_array().into_iter().flatten().enumerate() {
            errs.extend(container(c, &format!("{path}.{key}[{i}]"), &mut names));
        }
    }
    supported(&mut errs, spec, path, "restartPolicy", &RESTART_POLICIES);
    supported(&mut errs, spec, path, "dnsPolicy", &DNS_POLICIES);
    errs.extend(labels(
        &spec["nodeSelector"],
        &format!("{path}.nodeSelector"),
    ));
    for (i, t) in spec["tolerations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        errs.extend(toleration(t, &format!("{path}.tolerations[{i}]")));
    }
    if let Some(g) = spec["terminationGracePeriodSeconds"].as_i64()
        && g < 0
        && g != -1
    {
        // Negative values other than the legacy -1 are rejected since 1.20 on create.
        errs.push(FieldError::invalid(
            &format!("{path}.terminationGracePeriodSeconds"),
            g.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    errs
}

/// A value that must be one of `values` when set (defaulting fills the usual ones).
fn supported(errs: &mut Errors, obj: &Value, path: &str, field: &str, values: &[&str]) {
    let v = &obj[field];
    if v.is_null() {
        return;
    }
    if !v.as_str().is_some_and(|s| values.contains(&s)) {
        errs.push(FieldError::not_supported(
            &format!("{path}.{field}"),
            v,
            values,
        ));
    }
}

fn container(c: &Value, path: &str, names: &mut HashSet<String>) -> Errors {
    let mut errs = Vec::new();
    let name = c["name"].as_str().unwrap_or("");
    if name.is_empty() {
        errs.push(FieldError::required(&format!("{path}.name"), ""));
    } else {
        for msg in dns1123_label(name) {
            errs.push(FieldError::invalid(
                &format!("{path}.name"),
                quote(name),
                &msg,
            ));
        }
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&format!("{path}.name"), name));
        }
    }
    let image = c["image"].as_str().unwrap_or("");
    if image.is_empty() {
        errs.push(FieldError::required(&format!("{path}.image"), ""));
    } else if image.trim() != image {
        errs.push(FieldError::invalid(
            &format!("{path}.image"),
            quote(image),
            "must not have leading or trailing whitespace",
        ));
    }
    supported(&mut errs, c, path, "imagePullPolicy", &PULL_POLICIES);
    for (i, p) in c["ports"].as_array().into_iter().flatten().enumerate() {
        let pp = format!("{path}.ports[{i}]");
        match p["containerPort"].as_i64() {
            Some(n) if (1..=65535).contains(&n) => {}
            Some(n) => errs.push(FieldError::invalid(
                &format!("{pp}.containerPort"),
                n.to_string(),
                "must be between 1 and 65535, inclusive",
            )),
            None => errs.push(FieldError::required(&format!("{pp}.containerPort"), "")),
        }
        supported(&mut errs, p, &pp, "protocol", &PROTOCOLS);
    }
    errs
}

fn toleration(t: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    if let Some(k) = t["key"].as_str().filter(|k| !k.is_empty()) {
        for msg in super::meta::qualified_name(k) {
            errs.push(FieldError::invalid(&format!("{path}.key"), quote(k), &msg));
        }
    }
    let op = t["operator"].as_str().unwrap_or("Equal");
    if !OPERATORS.contains(&op) {
        errs.push(FieldError::not_supported(
            &format!("{path}.operator"),
            &t["operator"],
            &OPERATORS,
        ));
    } else if op == "Exists" && t["value"].as_str().is_some_and(|v| !v.is_empty()) {
        errs.push(FieldError::invalid(
            &format!("{path}.operator"),
            quote(op),
            "value must be empty when `operator` is 'Exists'",
        ));
    }
    let effect = t["effect"].as_str().unwrap_or("");
    if !effect.is_empty() && !EFFECTS.contains(&effect) {
        errs.push(FieldError::not_supported(
            &format!("{path}.effect"),
            &t["effect"],
            &EFFECTS,
        ));
    }
    if !t["tolerationSeconds"].is_null() && effect != "NoExecute" {
        errs.push(FieldError::invalid(
            &format!("{path}.effect"),
            quote(effect),
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ));
    }
    errs
}

/// The allowed-fields sentence of `ValidatePodUpdate` (v1.25).
const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`: only images, activeDeadlineSeconds, added tolerations and a negative
/// grace period raised to 1 may change; anything else is `spec: Forbidden` with a diff.
pub fn pod_update(old: &Value, new: &Value) -> Errors {
    let (o, n) = (&old["spec"], &new["spec"]);
    let mut munged = n.clone();
    for key in ["containers", "initContainers"] {
        let old_list = o[key].as_array();
        // `get_mut`, not indexing: indexing would insert a null for an absent list.
        if let (Some(ol), Some(nl)) = (old_list, munged.get_mut(key).and_then(Value::as_array_mut))
            && ol.len() == nl.len()
        {
            for (nc, oc) in nl.iter_mut().zip(ol) {
                nc["image"] = oc["image"].clone();
            }
        }
    }
    let mut errs = Vec::new();
    if let Some(d) = n["activeDeadlineSeconds"].as_i64()
        && o["activeDeadlineSeconds"].as_i64().is_some_and(|od| d > od)
    {
        errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            d.to_string(),
            "must be less than or equal to previous value",
        ));
    }
    set_or_remove(
        &mut munged,
        "activeDeadlineSeconds",
        &o["activeDeadlineSeconds"],
    );
    // Tolerations may only be added.
    let old_tol = o["tolerations"].as_array().cloned().unwrap_or_default();
    let new_tol = n["tolerations"].as_array().cloned().unwrap_or_default();
    if old_tol.iter().all(|t| new_tol.contains(t)) {
        set_or_remove(&mut munged, "tolerations", &o["tolerations"]);
    }
    if o["terminationGracePeriodSeconds"]
        .as_i64()
        .is_some_and(|g| g < 0)
        && n["terminationGracePeriodSeconds"] == json!(1)
    {
        munged["terminationGracePeriodSeconds"] = o["terminationGracePeriodSeconds"].clone();
    }
    if &munged != o {
        let detail = format!("{POD_UPDATE_FORBIDDEN}\n{}", spec_diff(o, &munged));
        errs.push(FieldError::forbidden("spec", &detail));
    }
    errs
}

fn set_or_remove(obj: &mut Value, field: &str, v: &Value) {
    match (v.is_null(), obj.as_object_mut()) {
        (true, Some(m)) => {
            m.remove(field);
        }
        (false, Some(m)) => {
            m.insert(field.to_string(), v.clone());
        }
        _ => {}
    }
}

/// A short go-cmp-like diff of the changed top-level fields of two pod specs (the real server
/// prints `cmp.Diff` of its internal types; field names are capitalised the same way).
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut keys: Vec<&String> = old
        .as_object()
        .into_iter()
        .flatten()
        .chain(new.as_object().into_iter().flatten())
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys.dedup();
    let mut out = String::from("  core.PodSpec{\n");
    let mut same = 0;
    for k in keys {
        let (a, b) = (&old[k.as_str()], &new[k.as_str()]);
        if a == b {
            same += 1;
            continue;
        }
        if same > 0 {
            out.push_str(&format!("  \t... // {same} identical fields\n"));
            same = 0;
        }
        let field = capitalise(k);
        if !a.is_null() {
            out.push_str(&format!("- \t{field}: {},\n", go_value(a)));
        }
        if !b.is_null() {
            out.push_str(&format!("+ \t{field}: {},\n", go_value(b)));
        }
    }
    if same > 0 {
        out.push_str(&format!("  \t... // {same} identical fields\n"));
    }
    out.push_str("  }\n");
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_changes_pass_and_node_name_is_forbidden() {
        let old = json!({"spec": {"nodeName": "a", "containers": [{"name": "c", "image": "x:1"}]}});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("x:2");
        assert!(pod_update(&old, &new).is_empty());
        new["spec"]["nodeName"] = json!("b");
        let errs = pod_update(&old, &new);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec");
        assert!(errs[0].detail.starts_with(POD_UPDATE_FORBIDDEN));
        assert!(
            errs[0]
                .detail
                .contains("- \tNodeName: \"a\",\n+ \tNodeName: \"b\",")
        );
    }

    #[test]
    fn pod_without_containers_and_bad_container() {
        let errs = pod_spec(&json!({}), "spec");
        assert_eq!(errs[0].message(), "spec.containers: Required value");
        let errs = pod_spec(
            &json!({"containers": [{"image": "x"}, {"name": "Bad"}]}),
            "spec",
        );
        let msgs: Vec<String> = errs.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            msgs,
            [
                "spec.containers[0].name",
                "spec.containers[1].name",
                "spec.containers[1].image"
            ]
        );
    }
}
