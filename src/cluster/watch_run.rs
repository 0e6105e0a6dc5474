//! One watcher's loop: list (pages, or a streaming list), then watch from the list's version
//! with bookmarks; a 410 relists, other failures back off and resume from the last version.
//! kube-runtime's watcher hides bookmarks, so it cannot tell a quiet stream from a dead one:
//! here every bookmark is reported (`WatchReport::Alive`), and a stream silent for three
//! bookmark intervals (`liveness.rs`) is dropped and opened again.

use std::fmt::Debug;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{WatchEvent, WatchParams};
use kube::runtime::watcher;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;

use super::list_page::PageStream;
use super::liveness::Liveness;
use super::watch::{
    BATCH, Ev, Fallback, Feed, Kind, ListMode, PAGE_SIZE, WatchReport, describe, is_forbidden,
    rejects_streaming,
};

/// What the loop does next.
enum Next {
    /// List everything again (start, 410 Gone, a namespace fallback).
    Relist,
    /// Watch again from this resourceVersion.
    Resume(String),
    /// The receiver is gone.
    Stop,
}

/// One watcher and where its reports go.
pub(super) struct Runner<K, M, F> {
    pub(super) api: Api<K>,
    pub(super) fallback: Option<Fallback<K>>,
    pub(super) kind: Kind,
    pub(super) to_feed: fn(Ev<K>) -> Feed,
    pub(super) tx: Sender<M>,
    pub(super) wrap: F,
    pub(super) mode: ListMode,
    pub(super) live: Liveness,
    pub(super) failures: u32,
}

/// The stream of a watch request.
type Events<K> = futures::stream::BoxStream<'static, kube::Result<WatchEvent<K>>>;

/// Where a watch goes on from a failure: a list in progress starts again, a watch resumes.
fn after(listing: bool, rv: &str) -> Next {
    if listing {
        Next::Relist
    } else {
        Next::Resume(rv.to_string())
    }
}

/// Backoff after `n` failures in a row: 0.5 s doubling to 30 s, with up to 25 % jitter.
fn backoff(n: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << n.saturating_sub(1).min(6));
    let base = base.min(Duration::from_secs(30));
    base.mul_f64(1.0 + rand::random::<f64>() / 4.0)
}

impl<K, M, F> Runner<K, M, F>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
    M: Send + 'static,
    F: Fn(WatchReport) -> M + Send + 'static,
{
    async fn send(&mut self, r: WatchReport) -> bool {
        self.tx.send((self.wrap)(r)).await.is_ok()
    }

    async fn feed(&mut self, ev: Ev<K>) -> bool {
        self.send(WatchReport::Feed((self.to_feed)(ev))).await
    }

    /// Runs until the receiver is dropped.
    pub(super) async fn run(mut self) {
        let mut next = Next::Relist;
        loop {
            if self.failures > 0 {
                tokio::time::sleep(backoff(self.failures)).await;
            }
            next = match next {
                Next::Relist if self.mode == ListMode::Stream => {
                    self.watch(String::new(), true).await
                }
                Next::Relist => self.list().await,
                Next::Resume(rv) => self.watch(rv, false).await,
                Next::Stop => return,
            };
        }
    }

    /// A failed list or watch start: a 403 narrows to the fallback namespace if there is
    /// one (and relists it); anything else is reported and `then` follows after a backoff.
    async fn refused(&mut self, e: watcher::Error, then: Next) -> Next {
        if is_forbidden(&e) {
            let error = describe(&e).unwrap_or_default();
            if let Some(fb) = self.fallback.take() {
                tracing::warn!(
                    kind = self.kind.as_str(),
                    namespace = fb.namespace,
                    "cluster-wide watch forbidden, watching one namespace: {e}"
                );
                self.api = fb.api;
                let report = WatchReport::Narrowed {
                    kind: self.kind,
                    namespace: fb.namespace,
                    error,
                };
                return if self.send(report).await {
                    Next::Relist
                } else {
                    Next::Stop
                };
            }
            self.failures += 1;
            let ok = self.send(WatchReport::Forbidden(self.kind, error)).await;
            return if ok { then } else { Next::Stop };
        }
        let Some(text) = describe(&e) else {
            // 410 Gone: routine, a relist follows at once.
            let ok = self.send(WatchReport::Expired(self.kind)).await;
            return if ok { Next::Relist } else { Next::Stop };
        };
        self.failures += 1;
        if self.send(WatchReport::Error(self.kind, text)).await {
            then
        } else {
            Next::Stop
        }
    }

    /// Lists in pages (`Init`, one `InitPage` per page, `InitDone`), then watches from the
    /// list's version.
    async fn list(&mut self) -> Next {
        // `Init` goes out with the first page: a list refused again and again is one
        // failure, not a relist that starts each time.
        let mut started = false;
        let mut pages = PageStream::new(self.api.clone(), PAGE_SIZE);
        loop {
            // `None` cannot come: the loop ends at the page without a continue token.
            let Some(page) = pages.next().await else {
                return Next::Relist;
            };
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    let e = watcher::Error::InitialListFailed(e);
                    return self.refused(e, Next::Relist).await;
                }
            };
            if !started {
                started = true;
                if !self.feed(Ev::Init).await {
                    return Next::Stop;
                }
            }
            let rv = page.metadata.resource_version.filter(|v| !v.is_empty());
            let last = page.metadata.continue_.is_none_or(|t| t.is_empty());
            if !page.items.is_empty() && !self.feed(Ev::InitPage(page.items)).await {
                return Next::Stop;
            }
            if !last {
                continue;
            }
            let Some(rv) = rv else {
                return self
                    .refused(watcher::Error::NoResourceVersion, Next::Relist)
                    .await;
            };
            self.failures = 0;
            return if self.feed(Ev::InitDone).await {
                Next::Resume(rv)
            } else {
                Next::Stop
            };
        }
    }

    /// Opens a watch from `rv` (`initial`: a streaming list), or says what to do instead.
    async fn open(&mut self, rv: &str, initial: bool) -> Result<Events<K>, Next> {
        let params = if initial {
            WatchParams::streaming_lists()
        } else {
            WatchParams::default()
        };
        // Watches are exempt from the request timeout: one that never answers is dead too.
        self.live.opened(Instant::now());
        let opened = tokio::time::timeout_at(self.live.deadline(), self.api.watch(&params, rv));
        match opened.await {
            Err(_) => Err(self.silent(rv.to_string(), initial).await),
            Ok(Ok(s)) => Ok(s.boxed()),
            Ok(Err(e)) => {
                let e = watcher::Error::WatchStartFailed(e);
                if initial && rejects_streaming(&e) {
                    tracing::info!(kind = self.kind.as_str(), "no streaming lists here: {e}");
                    self.mode = ListMode::Pages;
                    return Err(Next::Relist);
                }
                Err(self.refused(e, after(initial, rv)).await)
            }
        }
    }

    /// A bookmark: reported as `Alive`; during a streaming list, the one marked
    /// `initial-events-end` ends it (the collected `page`, then `InitDone`). False when the
    /// receiver is gone.
    async fn bookmark(&mut self, ends_list: bool, listing: &mut bool, page: &mut Vec<K>) -> bool {
        self.live.bookmark(Instant::now());
        self.failures = 0;
        if *listing && ends_list {
            *listing = false;
            let batch = std::mem::take(page);
            if !batch.is_empty() && !self.feed(Ev::InitPage(batch)).await {
                return false;
            }
            if !self.feed(Ev::InitDone).await {
                return false;
            }
        }
        let alive = WatchReport::Alive {
            kind: self.kind,
            interval: self.live.learned(),
        };
        self.send(alive).await
    }

    /// Watches from `rv`; with `initial`, a streaming list first (its objects until the
    /// `initial-events-end` bookmark are the list). Returns when the stream ends or dies.
    async fn watch(&mut self, mut rv: String, initial: bool) -> Next {
        let mut stream = match self.open(&rv, initial).await {
            Ok(s) => s,
            Err(next) => return next,
        };
        let mut listing = initial;
        if initial && !self.feed(Ev::Init).await {
            return Next::Stop;
        }
        let mut page: Vec<K> = Vec::new();
        loop {
            let next = tokio::time::timeout_at(self.live.deadline(), stream.next()).await;
            let Ok(next) = next else {
                return self.silent(rv, listing).await;
            };
            let ev = match next {
                Some(Ok(WatchEvent::Added(k) | WatchEvent::Modified(k))) if listing => {
                    self.live.heard(Instant::now());
                    page.push(k);
                    if page.len() >= BATCH
                        && !self.feed(Ev::InitPage(std::mem::take(&mut page))).await
                    {
                        return Next::Stop;
                    }
                    continue;
                }
                Some(Ok(WatchEvent::Added(k) | WatchEvent::Modified(k))) => Ev::Apply(k),
                Some(Ok(WatchEvent::Deleted(k))) => Ev::Delete(k),
                Some(Ok(WatchEvent::Bookmark(b))) => {
                    rv = b.metadata.resource_version;
                    let ends = b
                        .metadata
                        .annotations
                        .contains_key("k8s.io/initial-events-end");
                    if !self.bookmark(ends, &mut listing, &mut page).await {
                        return Next::Stop;
                    }
                    continue;
                }
                Some(Ok(WatchEvent::Error(s))) => {
                    let then = if s.code == 410 {
                        Next::Relist
                    } else {
                        after(listing, &rv)
                    };
                    return self
                        .refused(watcher::Error::WatchError(s.boxed()), then)
                        .await;
                }
                Some(Err(e)) => {
                    let then = after(listing, &rv);
                    return self.refused(watcher::Error::WatchFailed(e), then).await;
                }
                // The server ended the watch (its timeout): resume where it stopped.
                None => return after(listing, &rv),
            };
            self.live.heard(Instant::now());
            self.failures = 0;
            if crate::benchlog::enabled() {
                // When the event left the decoder: the harness splits M3's slowest events here.
                crate::benchlog::mark(self.kind.watched());
            }
            if let Ev::Apply(k) | Ev::Delete(k) = &ev
                && let Some(v) = k.meta().resource_version.clone()
            {
                rv = v;
            }
            if !self.feed(ev).await {
                return Next::Stop;
            }
        }
    }

    /// The watch said nothing for three bookmark intervals: reported, and opened again.
    async fn silent(&mut self, rv: String, listing: bool) -> Next {
        self.failures += 1;
        let text = format!(
            "no answer on the watch for {}s (bookmarks are due every {}s): watching again",
            self.live.idle_timeout().as_secs(),
            self.live.interval().as_secs()
        );
        if !self.send(WatchReport::Error(self.kind, text)).await {
            return Next::Stop;
        }
        if listing {
            Next::Relist
        } else {
            Next::Resume(rv)
        }
    }
}
