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
use crate::sim::store::{Change, ChangeType, StoreError, Stored, WatchStart};

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
    let paging = q.get("continue").is_some_and(|c| !c.is_empty());
    // As the apiserver's storage: "0" (any version) may come with a continue token.
    let asked_rv = q
        .get("resourceVersion")
        .is_some_and(|v| !v.is_empty() && v != "0");
    if paging && asked_rv {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    let ListFrom {
        rv,
        items,
        offset,
        id: snap_id,
    } = snapshot(st, kind, ns, q, &filter)?;
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
            page.iter().map(|s| s.value()),
            st.store.clock().now(),
            inc,
            meta,
        );
        return Ok(json_value(200, &t));
    }
    list_body(kind, &meta, items, offset.min(end), end)
}

/// The items a list answers from: a page of a stored snapshot (a continue token), the store
/// at an exact version, or the store now.
struct ListFrom {
    rv: u64,
    items: Snapshot,
    /// Where the page starts.
    offset: usize,
    /// The stored snapshot's id, for the next continue token.
    id: Option<u64>,
}

/// What `q` lists from: the snapshot a continue token names, the store at the exact
/// `resourceVersion` asked for, or the store now (narrowed by namespace and node).
fn snapshot(
    st: &ApiState,
    kind: Kind,
    ns: Option<&str>,
    q: &Params,
    filter: &Filter,
) -> ApiResult<ListFrom> {
    let exact = list_rv(st, q)?;
    Ok(match q.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (id, off) = parse_continue(token)
                .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
            let (rv, items) = st.pages.lock().unwrap().get(id).ok_or_else(|| {
                ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            })?;
            ListFrom {
                rv,
                items,
                offset: off,
                id: Some(id),
            }
        }
        None if exact.is_some() => {
            let at = exact.unwrap_or_default();
            let ns = ns.or_else(|| filter.fields.required("metadata.namespace"));
            let items = st
                .store
                .list_stored_at(kind, ns, |o| filter.matches(o), at)
                .map_err(|_| {
                    ApiError::expired("The resourceVersion for the provided list is too old.")
                })?
                .ok_or_else(|| too_large(at, st.store.resource_version()))?;
            ListFrom {
                rv: at,
                items: Arc::new(items),
                offset: 0,
                id: None,
            }
        }
        None => {
            // A namespace in the field selector narrows the scan like a namespaced path does.
            let ns = ns.or_else(|| filter.fields.required("metadata.namespace"));
            let on_node = (kind == Kind::Pod)
                .then(|| filter.fields.required("spec.nodeName"))
                .flatten();
            let (rv, items) = if let Some(node) = on_node {
                st.store
                    .pods_on_node_stored(node, ns, |o| filter.matches(o))
            } else {
                st.store.list_stored(kind, ns, |o| filter.matches(o))
            };
            ListFrom {
                rv,
                items: Arc::new(items),
                offset: 0,
                id: None,
            }
        }
    })
}

/// A list's JSON, written by hand from the stored JSON: `items[start..end]` under `meta`.
fn list_body(kind: Kind, meta: &Value, items: Snapshot, start: usize, end: usize) -> ApiResult {
    // No object is decoded or serialised again.
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(list_kind(kind).as_bytes());
    out.extend_from_slice(b"\",\"apiVersion\":\"");
    out.extend_from_slice(kind.api_version().as_bytes());
    out.extend_from_slice(b"\",\"metadata\":");
    serde_json::to_writer(&mut out, meta).map_err(|e| ApiError::internal(e.to_string()))?;
    out.extend_from_slice(b",\"items\":[");
    let page = &items[start..end];
    if page.len() <= STREAM_CHUNK {
        write_items(&mut out, page);
        out.extend_from_slice(b"]}");
        return Ok(json_response(200, out));
    }
    // A large list goes out in chunks as it is written, instead of as one buffer as large
    // as the list (940 MB for 150,000 pods).
    let chunks = (start..end).step_by(STREAM_CHUNK).map(move |a| {
        let b = (a + STREAM_CHUNK).min(end);
        let mut buf = Vec::new();
        if a > start {
            buf.push(b',');
        }
        write_items(&mut buf, &items[a..b]);
        if b == end {
            buf.extend_from_slice(b"]}");
        }
        Ok::<_, Infallible>(Bytes::from(buf))
    });
    let body = futures::stream::iter(std::iter::once(Ok(Bytes::from(out))).chain(chunks));
    let mut resp = json_response(200, Vec::new());
    *resp.body_mut() = Body::from_stream(body);
    Ok(resp)
}

/// Objects per chunk of a streamed list (~6 MB of pods).
const STREAM_CHUNK: usize = 1_000;

fn encode_event(ty: &str, object: &Value) -> Bytes {
    encode_event_json(ty, &serde_json::to_vec(object).unwrap_or_default())
}

/// A watch event line around an object's JSON (a stored object's is serialised already).
fn encode_event_json(ty: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
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
    /// The event line for `o`: its stored JSON, or a one-row Table made from it.
    fn event_for(&self, ty: &str, o: &Stored) -> Bytes {
        match self.table {
            Some(inc) => {
                let v = o.value();
                let t = table::table(
                    self.kind,
                    [&v],
                    self.st.store.clock().now(),
                    inc,
                    json!({"resourceVersion": v["metadata"]["resourceVersion"]}),
                );
                encode_event(ty, &t)
            }
            None => encode_event_json(ty, o.json()),
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
            && o.namespace() != ns
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
                let ev = self.event_for(ty, o);
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
    let ask = WatchAsk::parse(&st, q)?;
    let (tx, resp) = event_stream(table_opt.is_some());
    if st.faults.take_gone() {
        let oldest = st.store.oldest_watchable();
        let ev = gone_event(format!(
            "too old resource version: {} ({})",
            ask.from.unwrap_or(0),
            oldest + 1
        ));
        tokio::spawn(async move {
            let _ = tx.send(ev).await;
        });
        return Ok(resp);
    }
    let start = match st
        .store
        .watch(kind, if ask.send_initial { None } else { ask.from })
    {
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
    // Taken now, before the task starts: an expiry from here on ends this watch.
    let ends = WatchEnds {
        shutdown: st.shutdown.clone(),
        expiry: st.faults.expiry(),
    };
    let w = Watcher {
        st,
        kind,
        ns,
        filter,
        table: table_opt,
        tx,
        last_rv: start.rv,
    };
    tokio::spawn(w.run(start, ask, ends));
    Ok(resp)
}

/// What a watch request asks for.
struct WatchAsk {
    /// `resourceVersion`: where to start.
    from: Option<u64>,
    /// `sendInitialEvents`: every object first, then a bookmark.
    send_initial: bool,
    /// `allowWatchBookmarks`.
    bookmarks: bool,
    /// How long the watch lasts.
    timeout: Duration,
}

impl WatchAsk {
    fn parse(st: &ApiState, q: &Params) -> ApiResult<Self> {
        let from =
            match q.get("resourceVersion").map(String::as_str).unwrap_or("") {
                "" => None,
                s => Some(s.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version {s:?}"))
                })?),
            };
        let asked: u64 = match q.get("timeoutSeconds") {
            Some(t) => t
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {t:?}")))?,
            None => 0,
        };
        // As the apiserver: none (or 0) asked, a random time in [min, 2·min), so that watches
        // opened together do not all end together.
        let timeout = match asked {
            0 => st.min_request_timeout.mul_f64(1.0 + rand::random::<f64>()),
            s => Duration::from_secs(s),
        };
        Ok(Self {
            from,
            send_initial: q.get("sendInitialEvents").is_some_and(|v| v == "true"),
            bookmarks: q.get("allowWatchBookmarks").is_some_and(|v| v == "true"),
            timeout,
        })
    }
}

/// What ends every watch from outside: the server stopping, and the history expiring.
struct WatchEnds {
    shutdown: tokio::sync::watch::Receiver<bool>,
    expiry: tokio::sync::watch::Receiver<u64>,
}

/// The watch's chunked response, and the sender of its lines.
fn event_stream(table: bool) -> (mpsc::Sender<Bytes>, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let ct = if table {
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
    (tx, resp)
}

impl Watcher {
    /// Sends the backlog, then each change and (if asked) a bookmark every interval, until
    /// the client goes, the timeout passes, the server stops or the history expires.
    async fn run(mut self, start: WatchStart, ask: WatchAsk, ends: WatchEnds) {
        let WatchEnds {
            mut shutdown,
            mut expiry,
        } = ends;
        let interval = self.st.bookmark_interval.max(Duration::from_millis(10));
        let mut live = start.live;
        for c in &start.backlog {
            if !self.deliver(c).await {
                return;
            }
        }
        self.last_rv = self.last_rv.max(start.rv);
        if ask.send_initial
            && ask.bookmarks
            && self.tx.send(self.bookmark(start.rv, true)).await.is_err()
        {
            return;
        }
        let deadline = tokio::time::Instant::now() + ask.timeout;
        let first = tokio::time::Instant::now() + interval.min(Duration::from_secs(1));
        let mut tick = tokio::time::interval_at(first, interval);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|v| *v).await; } => return,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = self.tx.closed() => return,
                _ = expiry.changed() => {
                    let _ = self.tx.send(gone_event(format!("too old resource version: {} ({})", self.last_rv, self.st.store.oldest_watchable() + 1))).await;
                    return;
                }
                _ = tick.tick(), if ask.bookmarks => {
                    if !self.catch_up_and_bookmark(&mut live, start.rv).await {
                        return;
                    }
                }
                r = live.recv() => match r {
                    Ok(c) => if c.rv > start.rv && !self.deliver(&c).await { return },
                    Err(RecvError::Lagged(_)) => {
                        let _ = self.tx.send(gone_event("watch fell behind; too old resource version".into())).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }

    /// Everything up to the store's version now is already in `live`: delivers it, then a
    /// bookmark at that version. `false` when the watch is over.
    async fn catch_up_and_bookmark(
        &mut self,
        live: &mut tokio::sync::broadcast::Receiver<Arc<Change>>,
        started: u64,
    ) -> bool {
        let rv = self.st.store.resource_version();
        loop {
            match live.try_recv() {
                Ok(c) => {
                    if c.rv > started && !self.deliver(&c).await {
                        return false;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(_)) => {
                    let _ = self
                        .tx
                        .send(gone_event(
                            "watch fell behind; too old resource version".into(),
                        ))
                        .await;
                    return false;
                }
                Err(TryRecvError::Closed) => return false,
            }
        }
        let bm = self.bookmark(rv.max(self.last_rv), false);
        self.tx.send(bm).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
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
