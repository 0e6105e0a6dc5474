//! WATCH: replay from a resourceVersion, bookmarks, `timeoutSeconds`, and 410 Gone as an
//! ERROR event.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderValue, header};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use crate::sim::api::status::{ApiError, ApiResult};
use crate::sim::api::table::{self, IncludeObject};
use crate::sim::api::{ApiState, Params};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, StoreError, Stored, WatchStart};

use super::Filter;

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
        let mut send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
        let rv_match = q.get("resourceVersionMatch").is_some_and(|v| !v.is_empty());
        if send_initial || rv_match {
            let version = crate::sim::controllers::apiserver_version(&st.store, &st.git_version);
            match watch_list_gate(&version) {
                // Before 1.27 `sendInitialEvents` is unknown (ignored), and the
                // `resourceVersionMatch` that comes with it is refused on a watch.
                None if rv_match => {
                    return Err(invalid_watch(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden for watch",
                    ));
                }
                None => send_initial = false,
                Some(false) if send_initial => {
                    return Err(invalid_watch(
                        "sendInitialEvents",
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(Self {
            from,
            send_initial,
            bookmarks: q.get("allowWatchBookmarks").is_some_and(|v| v == "true"),
            timeout,
        })
    }
}

/// The apiserver's 422 for watch options it refuses (`ValidateListOptions`).
fn invalid_watch(field: &str, why: &str) -> ApiError {
    ApiError::new(
        422,
        "Invalid",
        format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: Forbidden: {why}"),
    )
}

/// An API server's WatchList feature gate by default (whether it streams lists): unknown
/// before 1.27 (`None`), alpha and off from 1.27, beta and on in 1.32, off again in 1.33,
/// on from 1.34. Off, the apiserver refuses `sendInitialEvents` as invalid; clients then
/// list in pages.
fn watch_list_gate(git_version: &str) -> Option<bool> {
    let minor = git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok())?;
    (minor >= 27).then_some(minor == 32 || minor >= 34)
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
        |mut rx| async move {
            let line = rx.recv().await?;
            crate::sim::churn::note_watch_write(line.len());
            Some((Ok::<_, Infallible>(line), rx))
        },
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
