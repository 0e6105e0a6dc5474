//! Defaulting as the API server applies it on every write (`SetDefaults_*` of each kind) and,
//! on create, what admission adds to pods (service account, token volume, default
//! tolerations). Only absent fields are filled.

use serde_json::{Value, json};

use crate::sim::controllers::podspec::{admit_spec, default_template_spec};
use crate::sim::kinds::Kind;

fn fill(obj: &mut Value, field: &str, v: Value) {
    if obj[field].is_null() {
        obj[field] = v;
    }
}

/// Defaults for a template's pod spec (in place), when the template has a spec.
fn template(obj: &mut Value) {
    let spec = obj
        .get_mut("spec")
        .and_then(|s| s.get_mut("template"))
        .and_then(|t| t.get_mut("spec"))
        .filter(|s| s.is_object());
    if let Some(spec) = spec {
        default_template_spec(spec);
    }
}

/// The scheme defaults of `kind` (what decoding fills in on create and update). `template_too`
/// says whether a workload's pod template is defaulted (not when an update left it alone, so
/// a template stored without defaults is not seen as changed).
pub fn scheme(kind: Kind, obj: &mut Value, template_too: bool) {
    match kind {
        Kind::Pod if obj["spec"].is_object() => default_template_spec(&mut obj["spec"]),
        Kind::Namespace => {
            fill(&mut obj["spec"], "finalizers", json!(["kubernetes"]));
            fill(&mut obj["status"], "phase", json!("Active"));
        }
        Kind::Deployment => {
            let s = &mut obj["spec"];
            fill(s, "replicas", json!(1));
            fill(s, "strategy", json!({}));
            // kubectl ≥ 1.3x sends `strategy: {}`: the type is defaulted inside it too.
            fill(&mut s["strategy"], "type", json!("RollingUpdate"));
            if s["strategy"]["type"] == "RollingUpdate" {
                fill(&mut s["strategy"], "rollingUpdate", json!({}));
                fill(
                    &mut s["strategy"]["rollingUpdate"],
                    "maxUnavailable",
                    json!("25%"),
                );
                fill(
                    &mut s["strategy"]["rollingUpdate"],
                    "maxSurge",
                    json!("25%"),
                );
            }
            fill(s, "revisionHistoryLimit", json!(10));
            fill(s, "progressDeadlineSeconds", json!(600));
        }
        Kind::ReplicaSet => fill(&mut obj["spec"], "replicas", json!(1)),
        Kind::StatefulSet => {
            let s = &mut obj["spec"];
            fill(s, "replicas", json!(1));
            fill(s, "podManagementPolicy", json!("OrderedReady"));
            fill(s, "updateStrategy", json!({"type": "RollingUpdate"}));
            if s["updateStrategy"]["type"] == "RollingUpdate" {
                fill(
                    &mut s["updateStrategy"],
                    "rollingUpdate",
                    json!({"partition": 0}),
                );
            }
            fill(s, "revisionHistoryLimit", json!(10));
        }
        Kind::DaemonSet => {
            let s = &mut obj["spec"];
            fill(s, "updateStrategy", json!({"type": "RollingUpdate"}));
            if s["updateStrategy"]["type"] == "RollingUpdate" {
                fill(
                    &mut s["updateStrategy"],
                    "rollingUpdate",
                    json!({"maxUnavailable": 1, "maxSurge": 0}),
                );
            }
            fill(s, "revisionHistoryLimit", json!(10));
        }
        Kind::Job => {
            let s = &mut obj["spec"];
            if s["completions"].is_null() && s["parallelism"].is_null() {
                s["completions"] = json!(1);
            }
            fill(s, "parallelism", json!(1));
            fill(s, "backoffLimit", json!(6));
            fill(s, "completionMode", json!("NonIndexed"));
            fill(s, "suspend", json!(false));
        }
        other => super::corekinds::scheme(other, obj),
    }
    if template_too && obj["spec"]["template"].is_object() {
        template(obj);
    }
}

/// Everything a create fills in: scheme defaults, a Job's generated selector, a new pod's
/// admission defaults and `Pending` phase. Needs the object's uid for a Job's selector.
pub fn on_create(kind: Kind, obj: &mut Value) {
    scheme(kind, obj, true);
    match kind {
        Kind::Pod => {
            if obj["spec"].is_object() {
                admit_spec(&mut obj["spec"]);
            }
            fill(&mut obj["status"], "phase", json!("Pending"));
        }
        Kind::Job if obj["spec"]["manualSelector"] != true => job_selector(obj),
        _ => {}
    }
}

/// `generateSelector`: the `controller-uid` (and `job-name`) labels and selector.
fn job_selector(obj: &mut Value) {
    let uid = obj["metadata"]["uid"].clone();
    let name = obj["metadata"]["name"].clone();
    let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
    fill(labels, "controller-uid", uid.clone());
    fill(labels, "job-name", name);
    let sel = &mut obj["spec"]["selector"]["matchLabels"];
    fill(sel, "controller-uid", uid);
}

/// A fresh uid (for objects whose defaults need it before the store assigns one).
pub fn new_uid() -> String {
    let a: u128 = rand::random();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_and_job_defaults() {
        let mut d = json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        on_create(Kind::Deployment, &mut d);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePolicy"], "File");
        let mut j = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": []}}}});
        on_create(Kind::Job, &mut j);
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["controller-uid"],
            "u-1"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        assert_eq!(
            (
                j["spec"]["backoffLimit"].clone(),
                j["spec"]["completions"].clone()
            ),
            (json!(6), json!(1))
        );
    }

    #[test]
    fn pod_defaults_only_where_absent() {
        let mut p = json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "nginx:1.25"}]}});
        on_create(Kind::Pod, &mut p);
        let s = &p["spec"];
        assert_eq!(s["restartPolicy"], "Never");
        assert_eq!(s["dnsPolicy"], "ClusterFirst");
        assert_eq!(s["serviceAccountName"], "default");
        assert_eq!(s["enableServiceLinks"], true);
        assert_eq!(s["securityContext"], json!({}));
        assert_eq!(s["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(s["tolerations"].as_array().unwrap().len(), 2);
        assert_eq!(p["status"]["phase"], "Pending");
    }
}
