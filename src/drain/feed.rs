//! A watch that resumes from the last resourceVersion it saw, without an initial list: the
//! drain already read what it needs (the plan's listing), so a kube-runtime watcher's
//! relist would only re-read it. On 410 Gone it calls `relist` (the caller decides how little
//! to read) and resumes from the version that returns. A watch silent for a few bookmark
//! intervals is dead (`cluster::liveness`): it is opened again from its last version.

use std::fmt::Debug;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use kube::api::{Api, WatchParams};
use kube::core::WatchEvent;
use kube::{Error, Resource};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::cluster::liveness::Liveness;

/// What a feed reports.
#[derive(Debug)]
pub enum FeedEvent<K> {
    /// A new object (created after the version the feed started from, or the initial state of
    /// a watch started without one).
    Added(K),
    Modified(K),
    Deleted(K),
    /// The watch expired (410): the caller's `relist` result, to replace its state with.
    Relisted(Vec<K>),
    /// A failed watch or relist; the feed retries after a backoff.
    Failed(String),
    /// The server's bookmark: the watch is alive and up to date (nothing changed).
    Bookmark,
}

/// Reads the state again after a 410: (objects, resourceVersion to resume from).
pub type Relist<K> = Box<dyn Fn() -> BoxFuture<'static, Result<(Vec<K>, String), Error>> + Send>;

type Events<K> = BoxStream<'static, Result<WatchEvent<K>, Error>>;

struct State<K> {
    api: Api<K>,
    params: WatchParams,
    rv: String,
    relist: Relist<K>,
    stream: Option<Events<K>>,
    must_relist: bool,
    failures: u32,
    /// Whether the open watch delivered anything (an empty one that ends is backed off).
    delivered: bool,
    live: Liveness,
}

const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl<K> State<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    /// Waits out the backoff before a request that follows a failure (`&mut`: the state is
    /// `Send` but not `Sync`).
    async fn pause(&mut self) {
        if self.failures > 0 {
            let d = BACKOFF_FIRST
                .saturating_mul(1 << self.failures.min(5))
                .min(BACKOFF_MAX);
            tokio::time::sleep(d).await;
        }
    }

    fn seen(&mut self, k: &K) {
        if let Some(rv) = k.meta().resource_version.as_ref().filter(|v| !v.is_empty()) {
            self.rv = rv.clone();
        }
        self.delivered = true;
        self.failures = 0;
        self.live.heard(Instant::now());
    }

    /// The open watch said nothing for too long: it is dropped and opened again.
    fn dead(&mut self) -> FeedEvent<K> {
        self.stream = None;
        self.failures += 1;
        FeedEvent::Failed(format!(
            "no answer on the watch for {} (bookmarks are due every {}): watching again",
            super::options::format_go_duration(self.live.idle_timeout()),
            super::options::format_go_duration(self.live.interval())
        ))
    }

    /// The next event: after a 410 the list again, else the watch (opened again when it
    /// ended or failed) until it says something.
    async fn next(&mut self) -> FeedEvent<K> {
        loop {
            if self.must_relist {
                return self.relist().await;
            }
            if self.stream.is_none()
                && let Some(failed) = self.open().await
            {
                return failed;
            }
            let Some(stream) = &mut self.stream else {
                continue;
            };
            let Ok(next) = tokio::time::timeout_at(self.live.deadline(), stream.next()).await
            else {
                return self.dead();
            };
            if let Some(ev) = self.on_event(next) {
                return ev;
            }
        }
    }

    /// Lists again (after a 410), from where the watch goes on.
    async fn relist(&mut self) -> FeedEvent<K> {
        self.pause().await;
        match (self.relist)().await {
            Ok((items, rv)) => {
                self.rv = rv;
                self.must_relist = false;
                self.failures = 0;
                FeedEvent::Relisted(items)
            }
            Err(e) => {
                self.failures += 1;
                FeedEvent::Failed(e.to_string())
            }
        }
    }

    /// Opens the watch from the last version; a 410 asks for a list first. `Some` when it
    /// failed (what to say).
    async fn open(&mut self) -> Option<FeedEvent<K>> {
        self.pause().await;
        // A watch is exempt from the request timeout; a server that never answers
        // the request is as dead as a silent stream.
        self.live.opened(Instant::now());
        let opened =
            tokio::time::timeout_at(self.live.deadline(), self.api.watch(&self.params, &self.rv))
                .await;
        let Ok(opened) = opened else {
            return Some(self.dead());
        };
        match opened {
            Ok(s) => {
                self.delivered = false;
                self.stream = Some(s.boxed());
            }
            Err(Error::Api(s)) if s.code == 410 => self.must_relist = true,
            Err(e) => {
                self.failures += 1;
                return Some(FeedEvent::Failed(e.to_string()));
            }
        }
        None
    }

    /// What one item of the watch stream means; `None` when it says nothing to pass on (a
    /// 410, or the server ending the watch).
    fn on_event(&mut self, next: Option<Result<WatchEvent<K>, Error>>) -> Option<FeedEvent<K>> {
        match next {
            Some(Ok(WatchEvent::Added(k))) => {
                self.seen(&k);
                Some(FeedEvent::Added(k))
            }
            Some(Ok(WatchEvent::Modified(k))) => {
                self.seen(&k);
                Some(FeedEvent::Modified(k))
            }
            Some(Ok(WatchEvent::Deleted(k))) => {
                self.seen(&k);
                Some(FeedEvent::Deleted(k))
            }
            Some(Ok(WatchEvent::Bookmark(b))) => {
                self.rv = b.metadata.resource_version;
                self.delivered = true;
                self.failures = 0;
                self.live.bookmark(Instant::now());
                Some(FeedEvent::Bookmark)
            }
            Some(Ok(WatchEvent::Error(s))) if s.code == 410 => {
                self.stream = None;
                self.must_relist = true;
                None
            }
            Some(Ok(WatchEvent::Error(s))) => {
                self.stream = None;
                self.failures += 1;
                Some(FeedEvent::Failed(s.message))
            }
            Some(Err(e)) => {
                self.stream = None;
                self.failures += 1;
                Some(FeedEvent::Failed(e.to_string()))
            }
            // The server ended the watch (its timeout): resume where it stopped. One that
            // ends before saying anything is backed off so it cannot spin.
            None => {
                self.stream = None;
                if !self.delivered {
                    self.failures += 1;
                }
                None
            }
        }
    }
}

/// Watches `api` from `rv` ("" = the current state as `Added` events, then changes).
pub fn feed<K>(
    api: Api<K>,
    params: WatchParams,
    rv: String,
    relist: Relist<K>,
) -> BoxStream<'static, FeedEvent<K>>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let state = State {
        api,
        params,
        rv,
        relist,
        stream: None,
        must_relist: false,
        failures: 0,
        delivered: false,
        live: Liveness::new(Instant::now()),
    };
    futures::stream::unfold(state, |mut st| async move {
        let ev = st.next().await;
        Some((ev, st))
    })
    .boxed()
}
