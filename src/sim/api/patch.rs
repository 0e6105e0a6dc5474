//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (the subset kubectl sends)
//! and JSON patch (RFC 6902).
//!
//! The two RFCs are the `json-patch` crate's (kube already builds it). Strategic merge stays
//! ours: it is Kubernetes' own format, driven by the Go types' `patchMergeKey` tags, and no
//! crate implements it.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The patch flavours, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Strategic,
    Json,
    Apply,
}

impl PatchType {
    /// The patch type for a Content-Type, if supported.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/json-patch+json" => Some(Self::Json),
            "application/apply-patch+yaml" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// A patch that cannot be applied (the apiserver's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// A merge or strategic merge patch that is not an object.
    #[error("patch body must be a JSON object")]
    NotAnObject,
    /// A JSON patch that is not a list.
    #[error("JSON patch must be an array of operations")]
    NotAnArray,
    /// A JSON patch whose operations do not decode (the decoder's words).
    #[error("invalid JSON patch: {0}")]
    Invalid(String),
    /// An operation that failed (json-patch's words: which operation, where).
    #[error("{0}")]
    Failed(String),
}

/// Applies `patch` of type `ty` to `target`.
pub fn apply(ty: PatchType, target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    match ty {
        PatchType::Merge | PatchType::Apply => {
            if !patch.is_object() {
                return Err(PatchError::NotAnObject);
            }
            json_patch::merge(target, patch);
            Ok(())
        }
        PatchType::Strategic => {
            if !patch.is_object() {
                return Err(PatchError::NotAnObject);
            }
            strategic(target, patch, "");
            Ok(())
        }
        PatchType::Json => json_patch(target, patch),
    }
}

/// The merge key of lists that strategic merge patches merge by element (from the Go struct
/// tags of the core types); other lists are replaced whole (e.g. `spec.taints`, tolerations).
pub(super) fn merge_key(field: &str, parent_path: &str) -> Option<&'static str> {
    Some(match field {
        "conditions" => "type",
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "containerStatuses"
        | "initContainerStatuses" => "name",
        "volumeMounts" => "mountPath",
        "ports" if parent_path.ends_with("containers") => "containerPort",
        // A Service's ports (`ServiceSpec.Ports`: patchMergeKey=port).
        "ports" if parent_path.ends_with("spec") => "port",
        "secrets" => "name",
        "ownerReferences" => "uid",
        "addresses" => "type",
        "podIPs" | "hostIPs" => "ip",
        _ => return None,
    })
}

/// Lists of scalars that strategic merge treats as sets (`patchStrategy:"merge"`).
fn merges_scalars(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge: like a merge patch, but some lists merge by key, and `$patch`
/// directives (`replace`, `delete`) and `$setElementOrder`/`$retainKeys` are understood.
pub fn strategic(target: &mut Value, patch: &Value, path: &str) {
    // Long: one branch per strategic-merge directive and list kind, in the apiserver's order.
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut v = patch.clone();
            v.as_object_mut().unwrap().remove("$patch");
            *target = v;
            return;
        }
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().unwrap();
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(cur)), Value::Array(del)) = (t.get_mut(list), v) {
                cur.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        let child_path = format!("{path}.{k}");
        match (v, merge_key(k, path)) {
            (Value::Array(items), Some(key)) => {
                let cur = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !cur.is_array() {
                    *cur = Value::Array(Vec::new());
                }
                let cur = cur.as_array_mut().unwrap();
                if items
                    .iter()
                    .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
                {
                    *cur = items
                        .iter()
                        .filter(|i| i.get("$patch").is_none())
                        .cloned()
                        .collect();
                    continue;
                }
                for item in items {
                    let id = item.get(key);
                    let pos = cur.iter().position(|c| id.is_some() && c.get(key) == id);
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            cur.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => strategic(&mut cur[i], item, &child_path),
                        (None, false) => {
                            let mut fresh = Value::Null;
                            strategic(&mut fresh, item, &child_path);
                            cur.push(fresh);
                        }
                    }
                }
            }
            (Value::Array(items), None) if merges_scalars(k) => {
                let cur = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(cur) = cur {
                    for i in items {
                        if !cur.contains(i) {
                            cur.push(i.clone());
                        }
                    }
                }
            }
            _ => strategic(t.entry(k.clone()).or_insert(Value::Null), v, &child_path),
        }
    }
}

/// RFC 6902 JSON patch, all or nothing: a failed operation leaves `target` as it was.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    if !patch.is_array() {
        return Err(PatchError::NotAnArray);
    }
    let ops =
        json_patch::Patch::deserialize(patch).map_err(|e| PatchError::Invalid(e.to_string()))?;
    json_patch::patch(target, &ops).map_err(|e| PatchError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_null_removes() {
        let mut t = json!({"spec": {"unschedulable": true, "podCIDR": "x"}});
        apply(
            PatchType::Merge,
            &mut t,
            &json!({"spec": {"unschedulable": null}}),
        )
        .unwrap();
        assert_eq!(t, json!({"spec": {"podCIDR": "x"}}));
        assert!(apply(PatchType::Merge, &mut t, &json!([1])).is_err());
    }

    #[test]
    fn strategic_merges_conditions_by_type_and_replaces_taints() {
        let mut t = json!({
            "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}]},
            "metadata": {"labels": {"x": "1", "y": "2"}},
        });
        strategic(
            &mut t,
            &json!({
                "spec": {"taints": [{"key": "b", "effect": "NoExecute"}]},
                "status": {"conditions": [{"type": "Ready", "status": "False"}]},
                "metadata": {"labels": {"x": null, "z": "3"}},
            }),
            "",
        );
        assert_eq!(
            t["spec"]["taints"],
            json!([{"key": "b", "effect": "NoExecute"}])
        );
        assert_eq!(t["status"]["conditions"][0]["status"], "False");
        assert_eq!(t["status"]["conditions"][1]["type"], "DiskPressure");
        assert_eq!(t["metadata"]["labels"], json!({"y": "2", "z": "3"}));
    }

    #[test]
    fn json_patch_ops() {
        let mut t = json!({"a": [1, 2], "b": {"c": 1}});
        json_patch(
            &mut t,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "replace", "path": "/b/c", "value": 2},
                {"op": "remove", "path": "/a/0"},
                {"op": "test", "path": "/b/c", "value": 2},
            ]),
        )
        .unwrap();
        assert_eq!(t, json!({"a": [2, 3], "b": {"c": 2}}));
        let before = t.clone();
        let e = json_patch(
            &mut t,
            &json!([
                {"op": "add", "path": "/b/d", "value": 1},
                {"op": "remove", "path": "/nope"},
            ]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "operation '/1' failed at path '/nope': path is invalid");
        // The first operation is undone.
        assert_eq!(t, before);
        let e = json_patch(&mut t, &json!([{"op": "frobnicate", "path": "/a"}]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid JSON patch: "), "{e}");
        assert!(json_patch(&mut t, &json!({"op": "add"})).is_err());
    }
}
