//! List (selectors, `limit`/`continue` paging over a consistent snapshot) and watch (replay from
//! a resourceVersion, bookmarks, `timeoutSeconds`, 410 Gone as an ERROR event).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderValue, header};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use super::selectors::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult, json_response, json_value};
use super::table::{self, IncludeObject};
use super::{ApiState, Params};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, StoreError};

/// A list result shared by its pages.
type Snapshot = Arc<Vec<Arc<Value>>>;

/// Snapshots behind `continue` tokens, so every page of a list comes from the same state;
/// and the serialized JSON of listed objects, so a large list is not re-serialized from
/// `serde_json::Value` on every request.
#[derive(Default)]
pub struct PageCache {
    snapshots: HashMap<u64, (u64, Snapshot)>,
    order: VecDeque<u64>,
    next: u64,
    /// Object JSON by resourceVersion: every stored object version has its own, so an
    /// entry can never be stale (a changed object has a new version and misses).
    json: HashMap<u64, Bytes>,
}

const PAGE_CACHE_CAP: usize = 64;
/// Objects all kept snapshots may pin together (old versions stay alive while pinned).
const PAGE_CACHE_ITEMS: usize = 1_000_000;

/// Serialized objects kept at most; past this the cache starts over (versions that are no
/// longer current are only dropped then).
const JSON_CACHE_CAP: usize = 400_000;

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

    /// Appends the JSON of `items`, separated by commas, serializing only objects whose
    /// version is not cached yet.
    fn write_items(&mut self, out: &mut Vec<u8>, items: &[Arc<Value>]) -> serde_json::Result<()> {
        if self.json.len() + items.len() > JSON_CACHE_CAP {
            self.json.clear();
        }
        for (i, o) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let rv = crate::sim::store::rv_of(o);
            if rv == 0 {
                serde_json::to_writer(&mut *out, o.as_ref())?;
                continue;
            }
            match self.json.get(&rv) {
                Some(b) => out.extend_from_slice(b),
                None => {
                    let b = Bytes::from(serde_json::to_vec(o.as_ref())?);
                    out.extend_from_slice(&b);
                    self.json.insert(rv, b);
                }
            }
        }
        Ok(())
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
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(kind, q.get("fieldSelector").map_or("", String::as_str))
            .map_err(ApiError::bad_request)?;
        Ok(Self { labels, fields })
    }

    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn matches(&self, o: &Value) -> bool {
        self.labels.matches(o) && self.fields.matches(o)
    }
}

fn list_kind(kind: Kind) -> String {
    format!("{}List", kind.name())
}

/// LIST objects of a kind.
pub fn list(
    st: &ApiState,
    kind: Kind,
    ns: Option<&str>,
    q: &Params,
    table_opt: Option<IncludeObject>,
) -> ApiResult {
    let filter = Filter::from_query(kind, q)?;
    let limit: usize = match q.get("limit") {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?
            .max(0) as usize,
        None => 0,
    };
    let (rv, items, offset, snap_id) = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (id, off) = parse_continue(token)
                .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
            let (rv, items) = st.pages.lock().unwrap().get(id).ok_or_else(|| {
                ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            })?;
            (rv, items, off, Some(id))
        }
        None => {
            // A namespace in the field selector narrows the scan like a namespaced path does.
            let ns = ns.or_else(|| filter.fields.required("metadata.namespace"));
            let on_node = (kind == Kind::Pod)
                .then(|| filter.fields.required("spec.nodeName"))
                .flatten();
            let (rv, items) = if let Some(node) = on_node {
                st.store.list_pods_on_node(node, ns, |o| filter.matches(o))
            } else if filter.is_empty() {
                st.store.list(kind, ns)
            } else {
                st.store.list_where(kind, ns, |o| filter.matches(o))
            };
            (rv, Arc::new(items), 0, None)
        }
    };
    let end = if limit == 0 {
        items.len()
    } else {
        (offset + limit).min(items.len())
    };
    let page = &items[offset.min(end)..end];
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if end < items.len() {
        let id = match snap_id {
            Some(id) => id,
            None => st.pages.lock().unwrap().put(rv, items.clone()),
        };
        meta["continue"] = json!(format!("kds.{id:x}.{end:x}"));
        meta["remainingItemCount"] = json!(items.len() - end);
    }
    if let Some(inc) = table_opt {
        let t = table::table(
            kind,
            page.iter().map(|a| a.as_ref()),
            st.store.clock().now(),
            inc,
            meta,
        );
        return Ok(json_value(200, &t));
    }
    // Serialized by hand to avoid copying every object into one big Value.
    let mut out = Vec::with_capacity(256 + page.len() * 1024);
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(list_kind(kind).as_bytes());
    out.extend_from_slice(b"\",\"apiVersion\":\"");
    out.extend_from_slice(kind.api_version().as_bytes());
    out.extend_from_slice(b"\",\"metadata\":");
    serde_json::to_writer(&mut out, &meta).map_err(|e| ApiError::internal(e.to_string()))?;
    out.extend_from_slice(b",\"items\":[");
    st.pages
        .lock()
        .unwrap()
        .write_items(&mut out, page)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out.extend_from_slice(b"]}");
    Ok(json_response(200, out))
}

fn encode_event(ty: &str, object: &Value) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn gone_event(message: String) -> Bytes {
    encode_event("ERROR", &ApiError::expired(message).to_value())
}

/// One watch stream's state.
struct Watcher {
    st: Arc<ApiState>,
    kind: Kind,
    ns: Option<String>,
    filter: Filter,
    table: Option<IncludeObject>,
    tx: mpsc::Sender<Bytes>,
    last_rv: u64,
}

impl Watcher {
    fn object_for(&self, o: &Value) -> Value {
        match self.table {
            Some(inc) => table::table(
                self.kind,
                [o],
                self.st.store.clock().now(),
                inc,
                json!({"resourceVersion": o["metadata"]["resourceVersion"]}),
            ),
            None => o.clone(),
        }
    }

    /// Sends one change if it concerns this watch; false when the client is gone.
    async fn deliver(&mut self, c: &Change) -> bool {
        if c.kind != self.kind {
            return true;
        }
        self.last_rv = self.last_rv.max(c.rv);
        let o = &c.object;
        if let Some(ns) = &self.ns
            && o["metadata"]["namespace"].as_str() != Some(ns)
        {
            return true;
        }
        // The watch cache's rule: compare the selection before and after the change.
        let ty = if self.filter.is_empty() {
            Some(c.change.as_str())
        } else {
            let now = self.filter.matches(o);
            match c.change {
                ChangeType::Added | ChangeType::Deleted => now.then_some(c.change.as_str()),
                ChangeType::Modified => {
                    let before = c.prev.as_deref().is_some_and(|p| self.filter.matches(p));
                    match (before, now) {
                        (true, true) => Some("MODIFIED"),
                        (false, true) => Some("ADDED"),
                        (true, false) => Some("DELETED"),
                        (false, false) => None,
                    }
                }
            }
        };
        match ty {
            Some(ty) => {
                let ev = if self.table.is_none() {
                    encode_event(ty, o)
                } else {
                    encode_event(ty, &self.object_for(o))
                };
                self.tx.send(ev).await.is_ok()
            }
            None => true,
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        encode_event(
            "BOOKMARK",
            &json!({"kind": self.kind.name(), "apiVersion": self.kind.api_version(), "metadata": meta}),
        )
    }
}

/// WATCH a kind: a chunked stream of JSON watch events, one per line.
pub fn watch(
    st: Arc<ApiState>,
    kind: Kind,
    ns: Option<String>,
    q: &Params,
    table_opt: Option<IncludeObject>,
) -> ApiResult {
    let filter = Filter::from_query(kind, q)?;
    let rv_param = q.get("resourceVersion").map(String::as_str).unwrap_or("");
    let from = match rv_param {
        "" => None,
        s => Some(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {s:?}")))?,
        ),
    };
    let send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let timeout = match q.get("timeoutSeconds") {
        Some(t) => Some(Duration::from_secs(t.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid timeoutSeconds {t:?}"))
        })?)),
        None => None,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let ct = if table_opt.is_some() {
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    } else {
        "application/json"
    };
    let mut resp = Response::new(Body::from_stream(futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) },
    )));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );

    if st.faults.take_gone() {
        let oldest = st.store.oldest_watchable();
        let ev = gone_event(format!(
            "too old resource version: {} ({})",
            from.unwrap_or(0),
            oldest + 1
        ));
        tokio::spawn(async move {
            let _ = tx.send(ev).await;
        });
        return Ok(resp);
    }
    let start = match st.store.watch(kind, if send_initial { None } else { from }) {
        Ok(s) => s,
        Err(StoreError::Gone { requested, oldest }) => {
            let ev = gone_event(format!("too old resource version: {requested} ({oldest})"));
            tokio::spawn(async move {
                let _ = tx.send(ev).await;
            });
            return Ok(resp);
        }
        Err(e) => return Err(e.into()),
    };
    let interval = st.bookmark_interval.max(Duration::from_millis(10));
    let mut shutdown = st.shutdown.clone();
    let mut expiry = st.faults.expiry();
    let mut w = Watcher {
        st,
        kind,
        ns,
        filter,
        table: table_opt,
        tx,
        last_rv: start.rv,
    };
    tokio::spawn(async move {
        let mut live = start.live;
        for c in &start.backlog {
            if !w.deliver(c).await {
                return;
            }
        }
        w.last_rv = w.last_rv.max(start.rv);
        if send_initial && bookmarks && w.tx.send(w.bookmark(start.rv, true)).await.is_err() {
            return;
        }
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let first = tokio::time::Instant::now() + interval.min(Duration::from_secs(1));
        let mut tick = tokio::time::interval_at(first, interval);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|v| *v).await; } => return,
                _ = async { tokio::time::sleep_until(deadline.unwrap()).await }, if deadline.is_some() => return,
                _ = w.tx.closed() => return,
                _ = expiry.changed() => {
                    let _ = w.tx.send(gone_event(format!("too old resource version: {} ({})", w.last_rv, w.st.store.oldest_watchable() + 1))).await;
                    return;
                }
                _ = tick.tick(), if bookmarks => {
                    // Everything up to `rv` is already in the channel: drain it, then bookmark.
                    let rv = w.st.store.resource_version();
                    loop {
                        match live.try_recv() {
                            Ok(c) => if c.rv > start.rv && !w.deliver(&c).await { return },
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Lagged(_)) => {
                                let _ = w.tx.send(gone_event("watch fell behind; too old resource version".into())).await;
                                return;
                            }
                            Err(TryRecvError::Closed) => return,
                        }
                    }
                    let bm = w.bookmark(rv.max(w.last_rv), false);
                    if w.tx.send(bm).await.is_err() { return }
                }
                r = live.recv() => match r {
                    Ok(c) => if c.rv > start.rv && !w.deliver(&c).await { return },
                    Err(RecvError::Lagged(_)) => {
                        let _ = w.tx.send(gone_event("watch fell behind; too old resource version".into())).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        }
    });
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, rv: u64, x: i64) -> Arc<Value> {
        Arc::new(json!({"metadata": {"name": name, "resourceVersion": rv.to_string()}, "x": x}))
    }

    fn items(pc: &mut PageCache, items: &[Arc<Value>]) -> Value {
        let mut out = b"[".to_vec();
        pc.write_items(&mut out, items).unwrap();
        out.push(b']');
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn serialized_objects_are_cached_per_version() {
        let mut pc = PageCache::default();
        let (a, b) = (obj("a", 5, 1), obj("b", 6, 2));
        let first = items(&mut pc, &[a.clone(), b.clone()]);
        assert_eq!(first, json!([*a, *b]));
        assert_eq!(pc.json.len(), 2);
        // Same version: served from the cache (the cache trusts versions to be unique).
        let same_rv_other_body = obj("a", 5, 99);
        assert_eq!(items(&mut pc, &[same_rv_other_body])[0]["x"], 1);
        // A new version of an object is serialized afresh.
        let a2 = obj("a", 7, 3);
        assert_eq!(
            items(&mut pc, &[a2, b.clone()]),
            json!([*obj("a", 7, 3), *b])
        );
        // Objects without a version are never cached.
        let none = Arc::new(json!({"metadata": {"name": "n"}}));
        assert_eq!(items(&mut pc, std::slice::from_ref(&none)), json!([*none]));
        assert_eq!(pc.json.len(), 3);
    }
}
