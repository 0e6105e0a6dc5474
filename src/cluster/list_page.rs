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

/// One page's list. The body is checked as UTF-8 whole first: one pass (mostly ASCII, checked
/// a word at a time) costs less than serde_json checking each key and string it reads (13 %
/// less time per pod in `cargo bench --bench decode`). A body that fails gets serde_json's own
/// reading of the bytes, which only checks the strings it reads, and its precise error.
fn decode<K: DeserializeOwned + Clone>(body: &[u8]) -> kube::Result<ObjectList<K>> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
    .map_err(kube::Error::SerdeError)
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
/// (on a `Decoder` thread), so the server sends page N+1 while the client decodes page N.
/// At most two pages' bodies are held. Dropping it cancels the request in flight.
pub struct PageStream<K: Resource> {
    api: Api<K>,
    limit: u32,
    inflight: Option<JoinHandle<kube::Result<Vec<u8>>>>,
    spare: Vec<u8>,
    decoder: Option<Decoder>,
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
            decoder: None,
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
        let decoder = match &mut self.decoder {
            Some(d) => d,
            None => match Decoder::start() {
                Ok(d) => self.decoder.insert(d),
                Err(e) => return Some(Err(self.failed(e))),
            },
        };
        let (page, body) = match decoder.run(move || (decode::<K>(&body), body)).await {
            Ok(done) => done,
            Err(e) => return Some(Err(self.failed(e))),
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
    /// The listing ends with `e`: the request in flight is cancelled.
    fn failed(&mut self, e: DecoderError) -> kube::Error {
        self.cancel();
        kube::Error::Service(Box::new(e))
    }

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

/// The decoder thread could not be started or is gone: kubedrain's fault, not the server's.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode list pages: {0}")]
pub struct DecoderError(pub(crate) String);

/// A thread that decodes a listing's pages at a lower priority (nice +10; Linux keeps a nice
/// value per thread). A page of 500 pods takes milliseconds to decode; on a core the TUI
/// shares, a frame that woke during one waited for the scheduler's slice to end (18 ms at
/// p99 in a full run). Niced, the decode takes what the frames leave. Its own thread, not
/// the runtime's blocking pool, whose threads also read the terminal.
struct Decoder {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Decoder {
    /// Starts the thread.
    fn start() -> Result<Decoder, DecoderError> {
        let (jobs, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("kubedrain-decode".into())
            .spawn(move || {
                lower_priority();
                // Ends when the stream, and with it the sender, is dropped.
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(|e| DecoderError(format!("no thread for the decoder: {e}")))?;
        Ok(Decoder { jobs })
    }

    /// `work`'s result, run on the thread. Its panic goes on in the caller, as a task's would.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DecoderError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
        });
        let gone = || DecoderError("the decoder thread is gone".into());
        self.jobs.send(job).map_err(|_| gone())?;
        match rx.await.map_err(|_| gone())? {
            Ok(done) => Ok(done),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// The calling thread's nice value raised by 10 (19 at most). Best effort: a refusal costs
/// frame time, not correctness.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Ok(nice) = rustix::process::getpriority_process(None) {
        let _ = rustix::process::setpriority_process(None, (nice + 10).min(19));
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
    use super::{Decoder, Pager, continue_token};

    /// Work runs on the decoder's own thread, niced, and one thread serves every page.
    #[tokio::test]
    async fn pages_decode_on_a_niced_thread_of_their_own() {
        let decoder = Decoder::start().unwrap();
        let here = std::thread::current().id();
        let first = decoder.run(std::thread::current).await.unwrap();
        let second = decoder.run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(first.id(), here);
        assert_eq!(first.id(), second);
        assert_eq!(first.name(), Some("kubedrain-decode"));
        #[cfg(target_os = "linux")]
        {
            let nice = decoder
                .run(|| rustix::process::getpriority_process(None))
                .await;
            let here_nice = rustix::process::getpriority_process(None).unwrap();
            assert_eq!(nice.unwrap().unwrap(), (here_nice + 10).min(19));
        }
    }

    /// A panic while decoding goes on in the caller, as a spawned task's would, and the
    /// thread lives on for the next page.
    #[tokio::test]
    async fn a_panic_in_the_decoder_goes_on_in_the_caller() {
        let decoder = std::sync::Arc::new(Decoder::start().unwrap());
        let d = decoder.clone();
        let panicked = tokio::spawn(async move { d.run(|| panic!("bad page")).await })
            .await
            .unwrap_err();
        assert!(panicked.is_panic());
        assert_eq!(decoder.run(|| 7).await.unwrap(), 7);
    }

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
