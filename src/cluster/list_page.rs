//! LIST pages read into one buffer that the whole listing reuses. kube's `Api::list` collects
//! each body, copies it into a fresh `String` (checking all of it as UTF-8), then decodes:
//! at 150,000 pods that is ~930 MB copied twice more and ~300 large buffers allocated and
//! freed, which the profile of a sync showed as `memcpy` and page faults. Here each body is
//! copied once, from the connection's chunks into the buffer, and decoded from the bytes
//! (serde_json checks the UTF-8 of every string it keeps). `PageStream` also asks for the next
//! page before this one decodes, so the server sends it while the client decodes.

use futures::AsyncBufReadExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::{Api, ListParams, ObjectList};
use kube::{Resource, core::Request};
use serde::Deserializer as _;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use tokio::task::JoinHandle;

/// Reads the pages of one listing; its buffer keeps the largest page's size between pages.
#[derive(Debug, Default)]
pub struct Pager {
    body: Vec<u8>,
}

impl Pager {
    /// A pager with an empty buffer.
    pub fn new() -> Pager {
        Pager::default()
    }

    /// One page of `api`'s collection, as `Api::list` would return it: the same request, an
    /// API error for an error status, a decoding error for a body that is not the list.
    pub async fn list<K>(&mut self, api: &Api<K>, lp: &ListParams) -> kube::Result<ObjectList<K>>
    where
        K: Resource + Clone + DeserializeOwned,
    {
        fetch(api, lp, &mut self.body).await?;
        decode(&self.body)
    }

    #[cfg(test)]
    async fn read(&mut self, body: impl futures::AsyncBufRead) -> kube::Result<()> {
        read(body, &mut self.body).await
    }
}

/// One page's body into `buf`: the request `Api::list` sends, an API error for an error status.
async fn fetch<K: Resource + Clone>(
    api: &Api<K>,
    lp: &ListParams,
    buf: &mut Vec<u8>,
) -> kube::Result<()> {
    let mut request = Request::new(api.resource_url())
        .list(lp)
        .map_err(kube::Error::BuildRequest)?;
    // What kube marks its own list requests with (its tracing names the span by it).
    request.extensions_mut().insert("list");
    let body = api.clone().into_client().request_stream(request).await?;
    read(body, buf).await
}

/// The whole body into `buf`, chunk by chunk (no zero-filling of spare capacity, as
/// `read_to_end` does).
async fn read(body: impl futures::AsyncBufRead, buf: &mut Vec<u8>) -> kube::Result<()> {
    let mut body = std::pin::pin!(body);
    buf.clear();
    loop {
        let chunk = body.fill_buf().await.map_err(kube::Error::ReadEvents)?;
        if chunk.is_empty() {
            return Ok(());
        }
        let n = chunk.len();
        buf.extend_from_slice(chunk);
        body.consume_unpin(n);
    }
}

fn decode<K: DeserializeOwned + Clone>(body: &[u8]) -> kube::Result<ObjectList<K>> {
    serde_json::from_slice(body).map_err(kube::Error::SerdeError)
}

/// The continue token of a list body, read from its `metadata` without decoding its items
/// (the API server writes `metadata` first). `None` when there is none, or `items` come first.
fn continue_token(body: &[u8]) -> Option<String> {
    /// Reads top-level keys up to `metadata`, then stops the parse (an error serde_json
    /// reports because the object is left unfinished; the value is already kept).
    struct Head<'m>(&'m mut Option<ListMeta>);
    impl<'de> Visitor<'de> for Head<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "metadata" => {
                        *self.0 = Some(map.next_value()?);
                        return Err(de::Error::custom("read up to the metadata"));
                    }
                    "items" => return Err(de::Error::custom("items before the metadata")),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }
    let mut meta = None;
    let _ = serde_json::Deserializer::from_slice(body).deserialize_map(Head(&mut meta));
    meta?.continue_.filter(|t| !t.is_empty())
}

/// The pages of one listing in order, each next page's request sent before this page decodes
/// (off the async workers), so the server sends page N+1 while the client decodes page N.
/// At most two pages' bodies are held. Dropping it cancels the request in flight.
pub struct PageStream<K: Resource> {
    api: Api<K>,
    limit: u32,
    inflight: Option<JoinHandle<kube::Result<Vec<u8>>>>,
    spare: Vec<u8>,
}

impl<K> PageStream<K>
where
    K: Resource + Clone + DeserializeOwned + Send + 'static,
{
    /// Starts the listing: the first page's request goes out now.
    pub fn new(api: Api<K>, limit: u32) -> PageStream<K> {
        let mut stream = PageStream {
            api,
            limit,
            inflight: None,
            spare: Vec::new(),
        };
        stream.inflight = Some(stream.request(None));
        stream
    }

    fn request(&mut self, token: Option<String>) -> JoinHandle<kube::Result<Vec<u8>>> {
        let mut lp = ListParams::default().limit(self.limit);
        lp.continue_token = token;
        let api = self.api.clone();
        let mut buf = std::mem::take(&mut self.spare);
        tokio::spawn(async move { fetch(&api, &lp, &mut buf).await.map(|()| buf) })
    }

    /// The next page; `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<kube::Result<ObjectList<K>>> {
        let body = match joined(self.inflight.take()?.await) {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let ahead = continue_token(&body);
        if ahead.is_some() {
            self.inflight = Some(self.request(ahead.clone()));
        }
        let decoded = tokio::task::spawn_blocking(move || (decode::<K>(&body), body)).await;
        let (page, body) = match joined(decoded.map(Ok)) {
            Ok(done) => done,
            Err(e) => return Some(Err(e)),
        };
        self.spare = body;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                self.cancel();
                return Some(Err(e));
            }
        };
        let token = page.metadata.continue_.clone().filter(|t| !t.is_empty());
        if token != ahead {
            // Items before the metadata (no server does this), or a head misread: the page's
            // own token decides.
            self.cancel();
            if token.is_some() {
                self.inflight = Some(self.request(token));
            }
        }
        Some(Ok(page))
    }
}

impl<K: Resource> PageStream<K> {
    fn cancel(&mut self) {
        if let Some(h) = self.inflight.take() {
            h.abort();
        }
    }
}

impl<K: Resource> Drop for PageStream<K> {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// A task's result; its panic goes on in the caller, and its cancellation (the runtime
/// shutting down: this module awaits no task it aborted) is an error.
fn joined<T>(r: Result<kube::Result<T>, tokio::task::JoinError>) -> kube::Result<T> {
    match r {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(kube::Error::Service(Box::new(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::{Pager, continue_token};

    #[test]
    fn the_continue_token_is_read_from_the_head() {
        let page = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc"},"items":[{"x":1}]}"#;
        assert_eq!(continue_token(page).as_deref(), Some("abc"));
        let last = br#"{"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[]}"#;
        assert_eq!(continue_token(last), None);
        let empty = br#"{"metadata":{"continue":""},"items":[]}"#;
        assert_eq!(continue_token(empty), None);
        let items_first = br#"{"items":[],"metadata":{"continue":"abc"}}"#;
        assert_eq!(continue_token(items_first), None);
        assert_eq!(continue_token(b"not json"), None);
    }

    /// A body that arrives in uneven chunks is read whole, and a second, shorter body
    /// replaces the first rather than being appended to it.
    #[tokio::test]
    async fn bodies_are_read_whole_and_replace_the_last() {
        let chunks: Vec<std::io::Result<Vec<u8>>> = vec![
            Ok(b"{\"a\":".to_vec()),
            Ok(b"[1,".to_vec()),
            Ok(b"2]}".to_vec()),
        ];
        let body = futures::TryStreamExt::into_async_read(futures::stream::iter(chunks));
        let mut pager = Pager::new();
        pager.read(body).await.unwrap();
        assert_eq!(pager.body, b"{\"a\":[1,2]}");
        let short: Vec<std::io::Result<Vec<u8>>> = vec![Ok(b"{}".to_vec())];
        pager
            .read(futures::TryStreamExt::into_async_read(
                futures::stream::iter(short),
            ))
            .await
            .unwrap();
        assert_eq!(pager.body, b"{}");
    }

    /// A connection that fails mid-body is an error, not a short page.
    #[tokio::test]
    async fn a_failed_body_is_an_error() {
        let chunks: Vec<std::io::Result<Vec<u8>>> = vec![
            Ok(b"{\"items\":[".to_vec()),
            Err(std::io::Error::other("connection reset")),
        ];
        let body = futures::TryStreamExt::into_async_read(futures::stream::iter(chunks));
        let err = Pager::new().read(body).await.unwrap_err();
        assert!(err.to_string().contains("connection reset"), "{err}");
    }
}
