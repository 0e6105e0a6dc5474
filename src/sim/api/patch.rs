//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (the subset kubectl sends)
//! and JSON patch (RFC 6902).

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

/// Applies `patch` of type `ty` to `target`.
pub fn apply(ty: PatchType, target: &mut Value, patch: &Value) -> Result<(), String> {
    match ty {
        PatchType::Merge | PatchType::Apply => {
            if !patch.is_object() {
                return Err("patch body must be a JSON object".into());
            }
            merge(target, patch);
            Ok(())
        }
        PatchType::Strategic => {
            if !patch.is_object() {
                return Err("patch body must be a JSON object".into());
            }
            strategic(target, patch, "");
            Ok(())
        }
        PatchType::Json => json_patch(target, patch),
    }
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().unwrap();
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// The merge key of lists that strategic merge patches merge by element (from the Go struct
/// tags of the core types); other lists are replaced whole (e.g. `spec.taints`, tolerations).
fn merge_key(field: &str, parent_path: &str) -> Option<&'static str> {
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

fn pointer_parts(p: &str) -> Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let rest = p
        .strip_prefix('/')
        .ok_or_else(|| format!("invalid JSON pointer {p:?}"))?;
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_mut<'a>(root: &'a mut Value, parts: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = root;
    for seg in parts {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(seg)
                .ok_or_else(|| format!("path segment {seg:?} not found"))?,
            Value::Array(a) => {
                let i: usize = seg
                    .parse()
                    .map_err(|_| format!("invalid array index {seg:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("array index {i} out of range"))?
            }
            _ => return Err(format!("cannot descend into {seg:?}")),
        };
    }
    Ok(cur)
}

fn add(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let parts = pointer_parts(path)?;
    let Some((last, head)) = parts.split_last() else {
        *root = value;
        return Ok(());
    };
    match parent_mut(root, head)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
            } else {
                let i: usize = last
                    .parse()
                    .map_err(|_| format!("invalid array index {last:?}"))?;
                if i > a.len() {
                    return Err(format!("array index {i} out of range"));
                }
                a.insert(i, value);
            }
        }
        _ => return Err(format!("cannot add at {path:?}")),
    }
    Ok(())
}

fn remove(root: &mut Value, path: &str) -> Result<Value, String> {
    let parts = pointer_parts(path)?;
    let (last, head) = parts
        .split_last()
        .ok_or("cannot remove the whole document")?;
    match parent_mut(root, head)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| format!("path {path:?} not found")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("array index {i} out of range"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("path {path:?} not found")),
    }
}

/// RFC 6902 JSON patch.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch
        .as_array()
        .ok_or("JSON patch must be an array of operations")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("operation without a path")?;
        match op["op"].as_str().unwrap_or("") {
            "add" => add(target, path, op["value"].clone())?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                remove(target, path)?;
                add(target, path, op["value"].clone())?;
            }
            "test" => {
                let cur = target
                    .pointer(path)
                    .ok_or_else(|| format!("path {path:?} not found"))?;
                if *cur != op["value"] {
                    return Err(format!("test operation failed at {path:?}"));
                }
            }
            "move" | "copy" => {
                let from = op["from"].as_str().ok_or("operation without from")?;
                let v = if op["op"] == "move" {
                    remove(target, from)?
                } else {
                    target
                        .pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("path {from:?} not found"))?
                };
                add(target, path, v)?;
            }
            other => return Err(format!("unexpected JSON patch operation {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_null_removes() {
        let mut t = json!({"spec": {"unschedulable": true, "podCIDR": "x"}});
        merge(&mut t, &json!({"spec": {"unschedulable": null}}));
        assert_eq!(t, json!({"spec": {"podCIDR": "x"}}));
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
        assert!(json_patch(&mut t, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
