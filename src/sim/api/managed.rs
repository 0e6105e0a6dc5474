//! `metadata.managedFields` for Update operations (PUT and non-apply PATCH), as the real API
//! server keeps them: the manager (`?fieldManager=`, else the User-Agent's product name) that
//! changes a field owns it, and no other manager does. Lists are owned whole (the real server
//! tracks their items; nothing here needs that). Clients read it to tell who set a field
//! last: kubedrain reads whose cordon `spec.unschedulable` is.

use serde_json::{Map, Value, json};

use super::Params;
use super::fieldpath::{self, insert, remove};

/// Server-set metadata that no manager owns.
const SERVER_FIELDS: [&str; 7] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
];

/// The manager of a request: `?fieldManager=`, else the User-Agent up to its first `/`.
pub fn manager(q: &Params, user_agent: Option<&str>) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    user_agent
        .and_then(|ua| ua.split('/').next())
        .filter(|m| !m.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// Paths (as `f:` and `k:` keys) of the leaves that differ between `a` and `b`; lists merged
/// by key are compared item by item, other lists whole.
fn changed(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                if path.len() == 1 && path[0] == "f:metadata" && SERVER_FIELDS.contains(&k.as_str())
                {
                    continue;
                }
                path.push(format!("f:{k}"));
                changed(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    path,
                    out,
                );
                path.pop();
            }
        }
        (Value::Null, Value::Object(_)) => changed(&Value::Object(Map::new()), b, path, out),
        (Value::Object(_), Value::Null) => changed(a, &Value::Object(Map::new()), path, out),
        (Value::Array(_) | Value::Null, Value::Array(_)) | (Value::Array(_), Value::Null)
            if a != b && fieldpath::list_key(path).is_some() =>
        {
            keyed_items_changed(a, b, path, out);
        }
        _ if a != b => out.push(path.clone()),
        _ => {}
    }
}

/// The items of a list merged by key that differ, each under its `k:` segment.
fn keyed_items_changed(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let key = fieldpath::list_key(path).unwrap_or_default();
    let items = |v: &Value| -> Vec<(String, Value)> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| Some((fieldpath::item_segment(i, key)?, i.clone())))
            .collect()
    };
    let (xs, ys) = (items(a), items(b));
    let find = |list: &[(String, Value)], seg: &str| {
        list.iter()
            .find(|(s, _)| s == seg)
            .map_or(Value::Null, |(_, v)| v.clone())
    };
    let segs = xs.iter().chain(ys.iter()).map(|(s, _)| s.clone());
    let mut seen = Vec::new();
    for seg in segs {
        if seen.contains(&seg) {
            continue;
        }
        let (x, y) = (find(&xs, &seg), find(&ys, &seg));
        path.push(seg.clone());
        if y.is_null() {
            // A removed item: no one owns any of it now.
            out.push(path.clone());
        } else {
            if x.is_null() {
                // A new item: `.` says it is there.
                path.push(".".into());
                out.push(path.clone());
                path.pop();
            }
            changed(&x, &y, path, out);
        }
        path.pop();
        seen.push(seg);
    }
}

/// Puts `before`'s managedFields back on `after` (a client's body never sets them).
pub fn keep(before: &Value, after: &mut Value) {
    let Some(meta) = after["metadata"].as_object_mut() else {
        return;
    };
    match before["metadata"].get("managedFields") {
        Some(m) => meta.insert("managedFields".into(), m.clone()),
        None => meta.remove("managedFields"),
    };
}

/// Records an Update by `manager` at `time` that turned `before` into `after`: the fields it
/// changed become its own (and no one else's). Nothing changes when no field did.
pub fn record(before: &Value, after: &mut Value, manager: &str, time: &str, sub: Option<&str>) {
    let mut paths = Vec::new();
    changed(before, after, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        return;
    }
    let api_version = after["apiVersion"].as_str().unwrap_or("v1").to_string();
    let mut entries: Vec<Value> = before["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for e in &mut entries {
        for p in &paths {
            remove(&mut e["fieldsV1"], p);
        }
    }
    let mine = |e: &Value| {
        e["manager"] == manager && e["operation"] == "Update" && e["subresource"].as_str() == sub
    };
    let mut fields = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or_else(|| json!({}));
    // A field removed is no one's, the remover's neither.
    for p in paths
        .iter()
        .filter(|p| fieldpath::value_at(after, p).is_some())
    {
        insert(&mut fields, p);
    }
    entries.retain(|e| !mine(e) && e["fieldsV1"].as_object().is_some_and(|o| !o.is_empty()));
    let mut entry = json!({"manager": manager, "operation": "Update", "apiVersion": api_version,
        "time": time, "fieldsType": "FieldsV1", "fieldsV1": &fields});
    if let Some(s) = sub {
        entry["subresource"] = json!(s);
    }
    if fields.as_object().is_some_and(|o| !o.is_empty()) {
        entries.push(entry);
    }
    after["metadata"]["managedFields"] = Value::Array(entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_manager_to_change_a_field_owns_it() {
        let n0 = json!({"apiVersion": "v1", "metadata": {"name": "n", "resourceVersion": "1"},
            "spec": {}});
        let mut n1 = n0.clone();
        n1["spec"]["unschedulable"] = json!(true);
        n1["metadata"]["annotations"] = json!({"kubedrain.io/cordoned-by": "kubedrain"});
        record(&n0, &mut n1, "kubedrain", "t1", None);
        let owner = |n: &Value| -> Vec<String> {
            n["metadata"]["managedFields"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| !e["fieldsV1"]["f:spec"]["f:unschedulable"].is_null())
                .map(|e| {
                    format!(
                        "{}@{}",
                        e["manager"].as_str().unwrap(),
                        e["time"].as_str().unwrap()
                    )
                })
                .collect()
        };
        assert_eq!(owner(&n1), ["kubedrain@t1"]);
        let mut n2 = n1.clone();
        n2["spec"]["unschedulable"] = json!(false);
        record(&n1, &mut n2, "kubectl", "t2", None);
        assert_eq!(owner(&n2), ["kubectl@t2"]);
        // kubedrain still owns its annotation; nobody else does.
        let mf = n2["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(mf.len(), 2, "{mf:?}");
        // A request that changes nothing records nothing.
        let mut n3 = n2.clone();
        record(&n2, &mut n3, "other", "t3", None);
        assert_eq!(n3, n2);
    }
}
