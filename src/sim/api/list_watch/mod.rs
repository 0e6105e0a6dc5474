//! List (selectors, `limit`/`continue` paging over a consistent snapshot) and watch (replay from
//! a resourceVersion, bookmarks, `timeoutSeconds`, 410 Gone as an ERROR event).

mod list;
mod watch;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::selectors::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult};
use super::{ApiState, Params};
use crate::sim::kinds::Kind;
use crate::sim::store::Stored;

pub use list::list;
pub use watch::watch;

/// A list result shared by its pages.
type Snapshot = Arc<Vec<Arc<Stored>>>;

/// Snapshots behind `continue` tokens, so every page of a list comes from the same state.
#[derive(Default)]
pub struct PageCache {
    snapshots: HashMap<u64, (u64, Snapshot)>,
    order: VecDeque<u64>,
    next: u64,
}

const PAGE_CACHE_CAP: usize = 64;
/// Objects all kept snapshots may pin together (old versions stay alive while pinned).
const PAGE_CACHE_ITEMS: usize = 1_000_000;

impl PageCache {
    fn put(&mut self, rv: u64, items: Snapshot) -> u64 {
        self.next += 1;
        let id = self.next;
        self.snapshots.insert(id, (rv, items));
        self.order.push_back(id);
        let total = |c: &Self| c.snapshots.values().map(|(_, v)| v.len()).sum::<usize>();
        while self.order.len() > PAGE_CACHE_CAP
            || (self.order.len() > 1 && total(self) > PAGE_CACHE_ITEMS)
        {
            if let Some(old) = self.order.pop_front() {
                self.snapshots.remove(&old);
            }
        }
        id
    }

    fn get(&self, id: u64) -> Option<(u64, Snapshot)> {
        self.snapshots.get(&id).cloned()
    }
}

/// Appends the JSON of `items` (serialised when they were stored), separated by commas.
fn write_items(out: &mut Vec<u8>, items: &[Arc<Stored>]) {
    out.reserve(items.iter().map(|o| o.json().len() + 1).sum());
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(o.json());
    }
}

fn parse_continue(token: &str) -> Option<(u64, usize)> {
    let rest = token.strip_prefix("kds.")?;
    let (id, off) = rest.split_once('.')?;
    Some((
        u64::from_str_radix(id, 16).ok()?,
        usize::from_str_radix(off, 16).ok()?,
    ))
}

/// Parsed selectors of a list or watch.
struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn from_query(kind: Kind, q: &Params) -> ApiResult<Self> {
        let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = FieldSelector::parse(kind, q.get("fieldSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Self { labels, fields })
    }

    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn matches(&self, o: &Stored) -> bool {
        self.labels.matches_stored(o) && self.fields.matches_stored(o)
    }
}

fn list_kind(kind: Kind) -> String {
    format!("{}List", kind.name())
}

/// A list's `resourceVersion` / `resourceVersionMatch`, checked as the apiserver does:
/// `Some(N)` for a list at exactly N (`Exact`); `None` for the latest state, which also
/// satisfies `NotOlderThan` any version already reached (a later one is 504 too large).
fn list_rv(st: &ApiState, q: &Params) -> Result<Option<u64>, ApiError> {
    let rv = q.get("resourceVersion").map(String::as_str).unwrap_or("");
    let matching = q
        .get("resourceVersionMatch")
        .map(String::as_str)
        .unwrap_or("");
    if rv.is_empty() {
        return match matching {
            "" => Ok(None),
            _ => Err(ApiError::bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            )),
        };
    }
    let n: u64 = rv
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
    match matching {
        "Exact" if n == 0 => Err(ApiError::bad_request(format!(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"{rv}\""
        ))),
        "Exact" => Ok(Some(n)),
        "" | "NotOlderThan" => {
            let now = st.store.resource_version();
            if n > now {
                return Err(too_large(n, now));
            }
            Ok(None)
        }
        other => Err(ApiError::bad_request(format!(
            "Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
        ))),
    }
}

/// 504 for a resourceVersion the server has not reached (the real one waits 3 s for it).
fn too_large(asked: u64, now: u64) -> ApiError {
    ApiError::new(
        504,
        "Timeout",
        format!("Too large resource version: {asked}, current: {now}"),
    )
    .with_details(serde_json::json!({
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn items_are_written_from_the_stored_json() {
        let objs: Vec<Arc<Stored>> = [("a", 5), ("b", 6)]
            .iter()
            .map(|(n, rv)| {
                Arc::new(Stored::new(
                    Kind::Pod,
                    &json!({"metadata": {"name": n, "resourceVersion": rv.to_string()}}),
                ))
            })
            .collect();
        let mut out = b"[".to_vec();
        write_items(&mut out, &objs);
        out.push(b']');
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, json!([objs[0].value(), objs[1].value()]));
        assert_eq!(v[1]["metadata"]["name"], "b");
    }
}
