//! Per-kind spec validation (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, Nodes,
//! pods) and the fields each kind keeps immutable on update.

use serde_json::Value;

use super::meta::{labels, qualified_name};
use super::pods::{EFFECTS, pod_spec, pod_update};
use super::{Errors, FieldError, go_value, quote};
use crate::sim::api::selectors::LabelSelector;
use crate::sim::kinds::Kind;

/// Validates the non-metadata part of an object of `kind`.
pub fn spec(kind: Kind, obj: &Value) -> Errors {
    let s = &obj["spec"];
    match kind {
        Kind::Pod => pod_spec(s, "spec"),
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet => replicated(kind, s),
        Kind::DaemonSet => daemonset(s),
        Kind::Job => job(s),
        Kind::Node => taints(&s["taints"], "spec.taints"),
        Kind::PodDisruptionBudget => selector(&s["selector"], "spec.selector"),
        _ => Vec::new(),
    }
}

fn nonnegative(errs: &mut Errors, s: &Value, field: &str) {
    if let Some(n) = s[field].as_i64()
        && n < 0
    {
        errs.push(FieldError::invalid(
            &format!("spec.{field}"),
            n.to_string(),
            "must be greater than or equal to 0",
        ));
    }
}

/// Go's `%#v` of a `metav1.LabelSelector` (how the server shows a bad selector).
fn go_selector(sel: &Value) -> String {
    let ml = match sel["matchLabels"].as_object() {
        Some(_) => go_value(&sel["matchLabels"]),
        None => "map[string]string(nil)".into(),
    };
    let me = match sel["matchExpressions"].as_array() {
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|e| {
                    let vals: Vec<String> = e["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(go_value)
                        .collect();
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:[]string{{{}}}}}",
                        go_value(&e["key"]),
                        go_value(&e["operator"]),
                        vals.join(", ")
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        None => "[]v1.LabelSelectorRequirement(nil)".into(),
    };
    format!("v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}")
}

/// `ValidateLabelSelector`.
fn selector(sel: &Value, path: &str) -> Errors {
    let mut errs = labels(&sel["matchLabels"], &format!("{path}.matchLabels"));
    for (i, e) in sel["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = format!("{path}.matchExpressions[{i}]");
        let has_values = e["values"].as_array().is_some_and(|v| !v.is_empty());
        match e["operator"].as_str().unwrap_or("") {
            "In" | "NotIn" if !has_values => errs.push(FieldError::required(
                &format!("{p}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if has_values => errs.push(FieldError::forbidden(
                &format!("{p}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            _ => errs.push(FieldError::invalid(
                &format!("{p}.operator"),
                go_value(&e["operator"]),
                "not a valid selector operator",
            )),
        }
        let key = e["key"].as_str().unwrap_or("");
        for msg in qualified_name(key) {
            errs.push(FieldError::invalid(&format!("{p}.key"), quote(key), &msg));
        }
    }
    errs
}

/// Whether a present selector selects `labels` (`LabelSelectorAsSelector(...).Matches`, by
/// kube-core); one it cannot read selects nothing.
fn selects(sel: &Value, labels: &Value) -> bool {
    LabelSelector::from_object(sel).is_some_and(|s| s.matches_labels(labels))
}

fn is_empty_selector(sel: &Value) -> bool {
    sel["matchLabels"].as_object().is_none_or(|m| m.is_empty())
        && sel["matchExpressions"]
            .as_array()
            .is_none_or(|m| m.is_empty())
}

/// The selector/template checks shared by the replicated kinds: a missing selector is
/// `Required` and (as `labels.Nothing()`) matches no template.
fn selector_and_template(errs: &mut Errors, s: &Value, what: &str, required: bool) {
    let sel = &s["selector"];
    let tpl_labels = &s["template"]["metadata"]["labels"];
    if sel.is_null() {
        if required {
            errs.push(FieldError::required("spec.selector", ""));
        }
    } else {
        errs.extend(selector(sel, "spec.selector"));
        if is_empty_selector(sel) {
            errs.push(FieldError::invalid(
                "spec.selector",
                go_selector(sel),
                &format!("empty selector is invalid for {what}"),
            ));
        }
    }
    let matches = !sel.is_null() && (is_empty_selector(sel) || selects(sel, tpl_labels));
    if !matches {
        let shown = if tpl_labels.is_null() {
            "map[string]string(nil)".to_string()
        } else {
            go_value(tpl_labels)
        };
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            shown,
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(labels(tpl_labels, "spec.template.metadata.labels"));
}

fn template_spec(errs: &mut Errors, s: &Value, restart: &[&str]) {
    let tpl = &s["template"]["spec"];
    errs.extend(pod_spec(tpl, "spec.template.spec"));
    let rp = &tpl["restartPolicy"];
    if !rp.is_null() && !rp.as_str().is_some_and(|r| restart.contains(&r)) {
        // pod_spec already reported a value that no pod supports.
        if rp
            .as_str()
            .is_some_and(|r| ["Always", "OnFailure", "Never"].contains(&r))
        {
            errs.push(FieldError::not_supported(
                "spec.template.spec.restartPolicy",
                rp,
                restart,
            ));
        }
    }
}

fn replicated(kind: Kind, s: &Value) -> Errors {
    let mut errs = Vec::new();
    for f in ["replicas", "minReadySeconds", "revisionHistoryLimit"] {
        nonnegative(&mut errs, s, f);
    }
    let what = match kind {
        Kind::StatefulSet => "statefulset",
        _ => "deployment",
    };
    selector_and_template(&mut errs, s, what, true);
    template_spec(&mut errs, s, &["Always"]);
    if kind == Kind::Deployment {
        deployment_strategy(&mut errs, s);
    }
    if kind == Kind::StatefulSet
        && let Some(p) = s["podManagementPolicy"].as_str()
        && p != "OrderedReady"
        && p != "Parallel"
    {
        errs.push(FieldError::invalid(
            "spec.podManagementPolicy",
            quote(p),
            "must be 'OrderedReady' or 'Parallel'",
        ));
    }
    errs
}

fn deployment_strategy(errs: &mut Errors, s: &Value) {
    let st = &s["strategy"];
    match st["type"].as_str() {
        None | Some("RollingUpdate") | Some("Recreate") => {}
        Some(_) => errs.push(FieldError::not_supported(
            "spec.strategy.type",
            &st["type"],
            &["Recreate", "RollingUpdate"],
        )),
    }
    let zero = |v: &Value| v == 0 || v == "0%" || v == "0";
    let ru = &st["rollingUpdate"];
    if !ru.is_null() && zero(&ru["maxUnavailable"]) && zero(&ru["maxSurge"]) {
        errs.push(FieldError::invalid(
            "spec.strategy.rollingUpdate.maxUnavailable",
            go_value(&ru["maxUnavailable"]),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if let (Some(p), Some(m)) = (
        s["progressDeadlineSeconds"].as_i64(),
        s["minReadySeconds"].as_i64().or(Some(0)),
    ) && p <= m
    {
        errs.push(FieldError::invalid(
            "spec.progressDeadlineSeconds",
            p.to_string(),
            "must be greater than minReadySeconds",
        ));
    }
}

fn daemonset(s: &Value) -> Errors {
    let mut errs = Vec::new();
    nonnegative(&mut errs, s, "minReadySeconds");
    selector_and_template(&mut errs, s, "daemonset", false);
    template_spec(&mut errs, s, &["Always"]);
    errs
}

fn job(s: &Value) -> Errors {
    let mut errs = Vec::new();
    for f in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
    ] {
        nonnegative(&mut errs, s, f);
    }
    if s["selector"].is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    } else {
        errs.extend(selector(&s["selector"], "spec.selector"));
        if !selects(&s["selector"], &s["template"]["metadata"]["labels"]) {
            errs.push(FieldError::invalid(
                "spec.template.metadata.labels",
                go_value(&s["template"]["metadata"]["labels"]),
                "`selector` does not match template `labels`",
            ));
        }
    }
    template_spec(&mut errs, s, &["OnFailure", "Never"]);
    errs
}

/// `validateNodeTaints`.
fn taints(taints: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, t) in taints.as_array().into_iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        let key = t["key"].as_str().unwrap_or("");
        for msg in qualified_name(key) {
            errs.push(FieldError::invalid(&format!("{p}.key"), quote(key), &msg));
        }
        let value = t["value"].as_str().unwrap_or("");
        let verrs = super::meta::label_value(value);
        if !verrs.is_empty() {
            errs.push(FieldError::invalid(
                &format!("{p}.value"),
                quote(value),
                &verrs.join(";"),
            ));
        }
        let effect = t["effect"].as_str().unwrap_or("");
        if effect.is_empty() {
            errs.push(FieldError::required(&format!("{p}.effect"), ""));
        } else if !EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                &format!("{p}.effect"),
                &t["effect"],
                &EFFECTS,
            ));
        }
        let pair = (key.to_string(), effect.to_string());
        if seen.contains(&pair) {
            let mut e = FieldError::duplicate(&p, "");
            e.bad = Some(format!(
                "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:<nil>}}",
                quote(key),
                quote(value),
                quote(effect)
            ));
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
        } else {
            seen.push(pair);
        }
    }
    errs
}

/// What an update may not change, per kind.
pub fn immutable(kind: Kind, old: &Value, new: &Value) -> Errors {
    let (o, n) = (&old["spec"], &new["spec"]);
    let mut errs = Vec::new();
    match kind {
        Kind::Pod => errs.extend(pod_update(old, new)),
        Kind::Deployment | Kind::ReplicaSet | Kind::DaemonSet | Kind::StatefulSet | Kind::Job
            if o["selector"] != n["selector"] =>
        {
            errs.push(FieldError::invalid(
                "spec.selector",
                go_selector(&n["selector"]),
                "field is immutable",
            ));
        }
        _ => {}
    }
    if kind == Kind::StatefulSet {
        let mut a = o.clone();
        let mut b = n.clone();
        for f in [
            "replicas",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        ] {
            for v in [&mut a, &mut b] {
                if let Some(m) = v.as_object_mut() {
                    m.remove(f);
                }
            }
        }
        if a != b {
            errs.push(FieldError::forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
        }
    }
    if kind == Kind::Job {
        if o["completions"] != n["completions"] && !n["completions"].is_null() {
            errs.push(FieldError::invalid(
                "spec.completions",
                go_value(&n["completions"]),
                "field is immutable",
            ));
        }
        if o["template"] != n["template"] {
            errs.push(FieldError::invalid(
                "spec.template",
                "core.PodTemplateSpec{...}".into(),
                "field is immutable",
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(spec: Value) -> Value {
        json!({"metadata": {"name": "x", "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn deployment_without_selector_reports_both_errors() {
        let d = dep(json!({"template": {"metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}}));
        let errs: Vec<String> = spec(Kind::Deployment, &d)
            .iter()
            .map(|e| e.message())
            .collect();
        assert_eq!(
            errs,
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn taint_effect_and_duplicates() {
        let n = json!({"spec": {"taints": [{"key": "a", "effect": "Bogus"},
            {"key": "b", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}]}});
        let errs: Vec<String> = spec(Kind::Node, &n).iter().map(|e| e.message()).collect();
        assert_eq!(
            errs[0],
            "spec.taints[0].effect: Unsupported value: \"Bogus\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
        );
        assert!(errs[1].starts_with("spec.taints[2]: Duplicate value: core.Taint{Key:\"b\""));
    }
}
