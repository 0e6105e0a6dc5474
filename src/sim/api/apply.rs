//! Server-side apply (`PATCH` with `application/apply-patch+yaml`), as the API server does it:
//! the applied configuration's fields become its manager's (operation `Apply`); a field another
//! manager owns with another value is a 409 conflict unless `?force=true` takes it over; and a
//! field this manager applied before but no longer does is removed when nobody else owns it.
//! Lists merge by the same keys as strategic merge patches; other lists are owned whole.

use serde_json::{Value, json};

use super::fieldpath::{self, Path};
use super::patch::strategic;
use super::status::ApiError;

/// Metadata that no apply sets (identity, or kept by the server).
const NOT_APPLIED: [&str; 9] = [
    "name",
    "namespace",
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
];

/// The fields an applied configuration sets, as a fieldsV1 set.
pub fn field_set(applied: &Value) -> Value {
    let mut set = json!({});
    if let Some(o) = applied.as_object() {
        for (k, v) in o {
            if matches!(k.as_str(), "apiVersion" | "kind" | "status") {
                continue;
            }
            let mut path = vec![format!("f:{k}")];
            if k == "metadata" {
                for (mk, mv) in v.as_object().into_iter().flatten() {
                    if !NOT_APPLIED.contains(&mk.as_str()) {
                        path.push(format!("f:{mk}"));
                        collect(mv, &mut path, &mut set);
                        path.pop();
                    }
                }
                continue;
            }
            collect(v, &mut path, &mut set);
        }
    }
    set
}

fn collect(v: &Value, path: &mut Path, set: &mut Value) {
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, child) in o {
                path.push(format!("f:{k}"));
                collect(child, path, set);
                path.pop();
            }
        }
        Value::Array(items) if fieldpath::list_key(path).is_some() => {
            let key = fieldpath::list_key(path).unwrap_or_default();
            for item in items {
                let Some(seg) = fieldpath::item_segment(item, key) else {
                    continue;
                };
                path.push(seg);
                path.push(".".into());
                fieldpath::insert(set, path);
                path.pop();
                collect(item, path, set);
                path.pop();
            }
        }
        _ => fieldpath::insert(set, path),
    }
}

/// A field another manager owns with another value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The manager as the server prints it: `"kubectl-edit" using apps/v1`.
    pub manager: String,
    pub path: Path,
}

/// Applies `applied` by `manager` to `cur` (which is `before` still): conflicts, the merge,
/// the fields it let go, and its managedFields entry.
pub fn apply(
    cur: &mut Value,
    applied: &Value,
    manager: &str,
    time: &str,
    force: bool,
) -> Result<(), Vec<Conflict>> {
    let before = cur.clone();
    let set = field_set(applied);
    let mut entries: Vec<Value> = before["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mine = |e: &Value| e["manager"] == manager && e["operation"] == "Apply";
    let found = conflicts(&before, applied, &set, &entries, &mine);
    if !found.is_empty() && !force {
        return Err(found);
    }
    // Forced: the conflicting fields leave their other owners.
    for e in entries.iter_mut().filter(|e| !mine(e)) {
        for c in &found {
            fieldpath::remove(&mut e["fieldsV1"], &c.path);
        }
    }
    let mut body = applied.clone();
    if let Some(meta) = body["metadata"].as_object_mut() {
        meta.retain(|k, _| !NOT_APPLIED.contains(&k.as_str()));
    }
    if let Some(o) = body.as_object_mut() {
        o.remove("status");
    }
    strategic(cur, &body, "");
    let previous = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e["fieldsV1"].clone());
    for gone in fieldpath::leaves(previous.as_ref().unwrap_or(&json!({}))) {
        let kept = fieldpath::owns(&set, &gone)
            || entries
                .iter()
                .any(|e| !mine(e) && fieldpath::owns(&e["fieldsV1"], &gone));
        if !kept {
            fieldpath::remove_at(cur, &gone);
        }
    }
    entries.retain(|e| !mine(e) && e["fieldsV1"].as_object().is_some_and(|o| !o.is_empty()));
    let api_version = before["apiVersion"].as_str().unwrap_or("v1");
    entries.push(
        json!({"manager": manager, "operation": "Apply", "apiVersion": api_version,
        "time": time, "fieldsType": "FieldsV1", "fieldsV1": set}),
    );
    cur["metadata"]["managedFields"] = Value::Array(entries);
    Ok(())
}

/// The applied fields that another manager owns with another value now.
fn conflicts(
    before: &Value,
    applied: &Value,
    set: &Value,
    entries: &[Value],
    mine: &dyn Fn(&Value) -> bool,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    for path in fieldpath::leaves(set) {
        let (now, want) = (
            fieldpath::value_at(before, &path),
            fieldpath::value_at(applied, &path),
        );
        if now == want {
            continue;
        }
        for e in entries.iter().filter(|e| !mine(e)) {
            if fieldpath::owns(&e["fieldsV1"], &path) {
                out.push(Conflict {
                    manager: printed(e),
                    path: path.clone(),
                });
            }
        }
    }
    out
}

/// A manager as the API server names it in a conflict (apimachinery's `printManager`).
fn printed(e: &Value) -> String {
    let mut s = format!("{:?}", e["manager"].as_str().unwrap_or_default());
    if let Some(sub) = e["subresource"].as_str() {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e["operation"] == "Update" {
        s.push_str(&format!(
            " using {}",
            e["apiVersion"].as_str().unwrap_or("v1")
        ));
    }
    s
}

/// The 409 the API server answers an apply with conflicts.
pub fn conflict_error(found: &[Conflict]) -> ApiError {
    let causes: Vec<Value> = found
        .iter()
        .map(|c| {
            json!({"type": "FieldManagerConflict", "message": format!("conflict with {}", c.manager),
                "field": fieldpath::display(&c.path)})
        })
        .collect();
    let message = match found {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager,
            fieldpath::display(&one.path)
        ),
        _ => {
            let mut managers: Vec<&str> = found.iter().map(|c| c.manager.as_str()).collect();
            managers.sort_unstable();
            managers.dedup();
            let mut lines = Vec::new();
            for m in managers {
                lines.push(format!("conflicts with {m}:"));
                for c in found.iter().filter(|c| c.manager == m) {
                    lines.push(format!("- {}", fieldpath::display(&c.path)));
                }
            }
            format!(
                "Apply failed with {} conflicts: {}",
                found.len(),
                lines.join("\n")
            )
        }
    };
    ApiError::new(409, "Conflict", message).with_details(json!({"causes": causes}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image}]}}}})
    }

    #[test]
    fn the_applied_fields_are_the_managers_with_keyed_list_items() {
        let set = field_set(&deployment(3, "nginx:1"));
        let c = &set["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(c, &json!({".": {}, "f:image": {}, "f:name": {}}));
        assert_eq!(set["f:metadata"], json!({"f:labels": {"f:app": {}}}));
        assert!(set.get("f:apiVersion").is_none());
    }

    #[test]
    fn another_managers_field_with_another_value_conflicts_unless_forced() {
        let mut live = deployment(3, "nginx:1");
        apply(&mut live, &deployment(3, "nginx:1"), "kubectl", "t1", false).unwrap();
        // `kubectl scale` (an Update) takes spec.replicas.
        let before = live.clone();
        live["spec"]["replicas"] = json!(5);
        super::super::managed::record(&before, &mut live, "kubectl-scale", "t2", None);
        let err = apply(
            &mut live.clone(),
            &deployment(3, "nginx:2"),
            "kubectl",
            "t3",
            false,
        )
        .unwrap_err();
        let e = conflict_error(&err);
        assert_eq!(e.code, 409);
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
        );
        // The same value is no conflict; forced, the field changes hands.
        assert!(
            apply(
                &mut live.clone(),
                &deployment(5, "nginx:2"),
                "kubectl",
                "t3",
                false
            )
            .is_ok()
        );
        apply(&mut live, &deployment(3, "nginx:2"), "kubectl", "t3", true).unwrap();
        assert_eq!(live["spec"]["replicas"], 3);
        let mf = live["metadata"]["managedFields"].as_array().unwrap();
        assert!(mf.iter().all(|e| e["manager"] != "kubectl-scale"), "{mf:?}");
    }

    #[test]
    fn a_field_no_longer_applied_is_removed_unless_another_manager_owns_it() {
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let v1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"a": "1", "b": "2"}});
        apply(&mut live, &v1, "me", "t1", false).unwrap();
        let v2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"a": "1"}});
        apply(&mut live, &v2, "you", "t2", false).unwrap();
        apply(&mut live, &v2, "me", "t3", false).unwrap();
        // `you` never applied b; `me` let it go: it is gone. Both own a.
        assert_eq!(live["data"], json!({"a": "1"}));
        let owners = live["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(owners.len(), 2);
    }
}
