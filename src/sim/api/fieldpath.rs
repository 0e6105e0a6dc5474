//! Field paths as `metadata.managedFields[].fieldsV1` writes them: `f:spec` for a field,
//! `k:{"name":"web"}` for the item of a list merged by key, `.` for the item itself. A set of
//! paths is a tree of such keys whose leaves are empty objects.

use serde_json::{Map, Value, json};

use super::patch::merge_key;

/// One path: its segments from the object's root.
pub type Path = Vec<String>;

/// The merge key of the list at `path` (`name` for containers), from the strategic merge
/// patch table: SSA merges the same lists by the same keys.
pub fn list_key(path: &[String]) -> Option<&'static str> {
    let (last, parents) = path.split_last()?;
    let field = last.strip_prefix("f:")?;
    let parent: String = parents
        .iter()
        .filter_map(|s| s.strip_prefix("f:"))
        .map(|s| format!(".{s}"))
        .collect();
    merge_key(field, &parent)
}

/// The segment of a keyed list's item: `k:{"name":"web"}` (None without the key field).
pub fn item_segment(item: &Value, key: &str) -> Option<String> {
    let id = item.get(key)?;
    Some(format!("k:{}", json!({ key: id })))
}

/// The value at `path` in `v`, if there is one.
pub fn value_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = v;
    for seg in path {
        node = step(node, seg)?;
    }
    Some(node)
}

fn step<'a>(node: &'a Value, seg: &str) -> Option<&'a Value> {
    if seg == "." {
        return Some(node);
    }
    if let Some(f) = seg.strip_prefix("f:") {
        return node.get(f);
    }
    let want: Map<String, Value> = serde_json::from_str(seg.strip_prefix("k:")?).ok()?;
    node.as_array()?
        .iter()
        .find(|item| want.iter().all(|(k, v)| item.get(k) == Some(v)))
}

/// Removes what `path` names from `v` (a field, or a keyed list's item).
pub fn remove_at(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = v;
    for seg in parents {
        let next = if let Some(f) = seg.strip_prefix("f:") {
            node.get_mut(f)
        } else {
            let Some(want) = seg
                .strip_prefix("k:")
                .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
            else {
                return;
            };
            node.as_array_mut().and_then(|items| {
                items
                    .iter_mut()
                    .find(|item| want.iter().all(|(k, v)| item.get(k) == Some(v)))
            })
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(o) = node.as_object_mut() {
            o.remove(f);
        }
    } else if let (Some(items), Some(want)) = (
        node.as_array_mut(),
        last.strip_prefix("k:")
            .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok()),
    ) {
        items.retain(|item| !want.iter().all(|(k, v)| item.get(k) == Some(v)));
    }
}

/// A path as the API server prints it in a conflict: `.spec.containers[name="web"].image`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if let Some(f) = seg.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:") {
            let fields: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        }
    }
    out
}

/// The leaves of a set (`.` entries, which only say an item is there, left out).
pub fn leaves(tree: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

fn walk(tree: &Value, path: &mut Path, out: &mut Vec<Path>) {
    match tree.as_object() {
        Some(o) if !o.is_empty() => {
            for (k, v) in o {
                if k == "." {
                    continue;
                }
                path.push(k.clone());
                walk(v, path, out);
                path.pop();
            }
        }
        _ if !path.is_empty() => out.push(path.clone()),
        _ => {}
    }
}

/// Whether the set owns `path`: the path itself, or a field above it owned whole (an
/// atomic list, or a map set as one value).
pub fn owns(tree: &Value, path: &[String]) -> bool {
    let mut node = tree;
    for seg in path {
        match node.as_object() {
            Some(o) if o.is_empty() && !std::ptr::eq(node, tree) => return true,
            Some(o) => match o.get(seg) {
                Some(n) => node = n,
                None => return false,
            },
            None => return false,
        }
    }
    true
}

/// Adds `path` to a set.
pub fn insert(tree: &mut Value, path: &[String]) {
    let mut node = tree;
    for seg in path {
        if !node.is_object() {
            *node = json!({});
        }
        node = node
            .as_object_mut()
            .expect("an object")
            .entry(seg.clone())
            .or_insert_with(|| json!({}));
    }
}

/// Removes `path` from a set, pruning the parents it leaves empty.
pub fn remove(tree: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(obj) = tree.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        obj.remove(first);
        return;
    }
    if let Some(child) = obj.get_mut(first) {
        remove(child, rest);
        // A keyed item's set keeps only `.` once its fields are gone: the item goes too.
        let only_dot = child
            .as_object()
            .is_some_and(|o| o.is_empty() || (o.len() == 1 && o.contains_key(".")));
        if only_dot {
            obj.remove(first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segs: &[&str]) -> Path {
        segs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_find_keyed_items_and_print_as_the_server_does() {
        let d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "x:1"}, {"name": "web", "image": "nginx:1"}]}}}});
        let path = p(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"web\"}",
            "f:image",
        ]);
        assert_eq!(value_at(&d, &path), Some(&json!("nginx:1")));
        assert_eq!(
            display(&path),
            ".spec.template.spec.containers[name=\"web\"].image"
        );
        assert_eq!(list_key(&path[..4]), Some("name"));
        let mut d2 = d.clone();
        remove_at(&mut d2, &path[..5]);
        assert_eq!(
            d2["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_set_owns_its_paths_and_what_lies_under_a_whole_field() {
        let mut set = json!({});
        insert(&mut set, &p(&["f:spec", "f:replicas"]));
        insert(&mut set, &p(&["f:spec", "f:tolerations"]));
        assert!(owns(&set, &p(&["f:spec", "f:replicas"])));
        assert!(owns(&set, &p(&["f:spec", "f:tolerations", "f:x"])));
        assert!(!owns(&set, &p(&["f:spec", "f:paused"])));
        assert_eq!(leaves(&set).len(), 2);
        remove(&mut set, &p(&["f:spec", "f:replicas"]));
        remove(&mut set, &p(&["f:spec", "f:tolerations"]));
        assert_eq!(set, json!({}));
    }
}
