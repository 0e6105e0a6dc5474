//! LIST: selectors, `limit`/`continue` paging over a consistent snapshot, lists at an exact
//! resourceVersion, and large lists streamed in chunks.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};

use crate::sim::api::status::{ApiError, ApiResult, json_response, json_value};
use crate::sim::api::table::{self, IncludeObject};
use crate::sim::api::{ApiState, Params};
use crate::sim::kinds::Kind;

use super::{Filter, Snapshot, list_kind, list_rv, parse_continue, too_large, write_items};

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
