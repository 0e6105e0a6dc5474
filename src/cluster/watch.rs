//! kube-rs watchers for nodes, pods (all namespaces), events and PDBs, turned into
//! generation-tagged messages. Watchers never touch the model: they only send.
//!
//! Pods are watched in every namespace whatever `-n` says (`-n` only filters what the panes
//! list): node facts and verdicts need every pod. Only when RBAC forbids the cluster-wide
//! list does the pod watcher fall back to the `-n` namespace, and says so (`Narrowed`).

use std::fmt::Debug;
use std::time::Duration;

use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::liveness::Liveness;
use super::watch_run::Runner;

use super::rows::{EventRow, NodeRow, PdbRow, PodRow};

/// Which watched collection a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Nodes,
    Pods,
    Events,
    Pdbs,
}

impl Kind {
    /// All watched kinds.
    pub const ALL: [Kind; 4] = [Kind::Nodes, Kind::Pods, Kind::Events, Kind::Pdbs];

    /// Lower-case plural, as kubectl names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Nodes => "nodes",
            Kind::Pods => "pods",
            Kind::Events => "events",
            Kind::Pdbs => "poddisruptionbudgets",
        }
    }

    /// The bench log's name for a watch event of this kind, once decoded.
    pub fn watched(self) -> &'static str {
        match self {
            Kind::Nodes => "watched nodes",
            Kind::Pods => "watched pods",
            Kind::Events => "watched events",
            Kind::Pdbs => "watched poddisruptionbudgets",
        }
    }
}

/// One watcher event for rows of type `K` (kube's `watcher::Event`, mirrored so tests can
/// build it).
#[derive(Debug, Clone)]
pub enum Ev<K> {
    /// A (re)list starts: collect the following `InitApply`s apart.
    Init,
    /// One object of the (re)list.
    InitApply(K),
    /// Several consecutive objects of the (re)list (what arrived together: about a page),
    /// so the model applies them in one message.
    InitPage(Vec<K>),
    /// The (re)list is complete: swap the collected set in.
    InitDone,
    /// An object was added or changed.
    Apply(K),
    /// An object was deleted.
    Delete(K),
}

// The watcher's events map one to one; `InitPage` only ever comes from batching.
impl<K> From<Event<K>> for Ev<K> {
    fn from(e: Event<K>) -> Self {
        match e {
            Event::Init => Ev::Init,
            Event::InitApply(k) => Ev::InitApply(k),
            Event::InitDone => Ev::InitDone,
            Event::Apply(k) => Ev::Apply(k),
            Event::Delete(k) => Ev::Delete(k),
        }
    }
}

/// A watcher event of any watched kind.
#[derive(Debug, Clone)]
pub enum Feed {
    Nodes(Ev<NodeRow>),
    Pods(Ev<PodRow>),
    Events(Ev<EventRow>),
    Pdbs(Ev<PdbRow>),
}

impl Feed {
    /// The kind this event is about.
    pub fn kind(&self) -> Kind {
        match self {
            Feed::Nodes(_) => Kind::Nodes,
            Feed::Pods(_) => Kind::Pods,
            Feed::Events(_) => Kind::Events,
            Feed::Pdbs(_) => Kind::Pdbs,
        }
    }
}

/// What a watcher task reports.
// Rows are moved through the channel, never stored in it for long: boxing would only add an
// allocation per watch event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum WatchReport {
    /// An event from the stream.
    Feed(Feed),
    /// The stream failed (the text says how, for humans); the watcher backs off and retries.
    Error(Kind, String),
    /// The server expired our resourceVersion (410 Gone): routine, a relist follows.
    Expired(Kind),
    /// A bookmark: the watch is alive and up to date. `interval` is the bookmark interval
    /// measured so far (silence much longer than it means the watch is dead), once known.
    Alive {
        kind: Kind,
        interval: Option<Duration>,
    },
    /// The server forbids (403) watching this kind in every namespace and there is no
    /// namespace to fall back to; the watcher backs off and retries, as after an `Error`.
    Forbidden(Kind, String),
    /// The server forbids (403) watching this kind in every namespace: the watcher now
    /// watches `namespace` only (a relist of that namespace follows), so objects of other
    /// namespaces are unknown. `error` is the server's refusal in plain words.
    Narrowed {
        kind: Kind,
        namespace: String,
        error: String,
    },
}

/// Spawns the four watchers, every one over all namespaces; each report goes through `wrap`
/// (which adds the generation tag) into `tx`. `pods_fallback` (the `-n` namespace) is watched
/// instead of all namespaces only if listing pods cluster-wide is forbidden. Watchers end
/// when the receiver is dropped.
pub fn spawn_all<M, F>(
    client: &Client,
    pods_fallback: Option<&str>,
    tx: Sender<M>,
    wrap: F,
) -> Vec<JoinHandle<()>>
where
    M: Send + 'static,
    F: Fn(WatchReport) -> M + Clone + Send + Sync + 'static,
{
    let fallback = pods_fallback.map(|ns| Fallback {
        api: Api::<PodRow>::namespaced(client.clone(), ns),
        namespace: ns.to_string(),
    });
    vec![
        spawn_one(
            Api::<NodeRow>::all(client.clone()),
            None,
            Kind::Nodes,
            Feed::Nodes,
            tx.clone(),
            wrap.clone(),
        ),
        spawn_one(
            Api::<PodRow>::all(client.clone()),
            fallback,
            Kind::Pods,
            Feed::Pods,
            tx.clone(),
            wrap.clone(),
        ),
        spawn_one(
            Api::<EventRow>::all(client.clone()),
            None,
            Kind::Events,
            Feed::Events,
            tx.clone(),
            wrap.clone(),
        ),
        spawn_one(
            Api::<PdbRow>::all(client.clone()),
            None,
            Kind::Pdbs,
            Feed::Pdbs,
            tx,
            wrap,
        ),
    ]
}

/// What a watcher watches instead when the cluster-wide watch is forbidden.
pub(super) struct Fallback<K> {
    pub(super) api: Api<K>,
    pub(super) namespace: String,
}

/// How the initial list (and every relist) is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    /// Paged LIST requests, then a watch (works on every server).
    Pages,
    /// One watch with `sendInitialEvents=true` (KEP-3157 WatchList): the server streams the
    /// objects while the client decodes them, instead of one page at a time in turn.
    /// Falls back to `Pages` when the server rejects the request.
    Stream,
}

impl ListMode {
    /// `KUBEDRAIN_LIST_MODE=pages|stream`, else the default.
    pub fn from_env() -> ListMode {
        Self::chosen().unwrap_or(DEFAULT_LIST_MODE)
    }

    /// What `KUBEDRAIN_LIST_MODE` asks for, if it names a mode (the one place that reads it).
    pub fn chosen() -> Option<ListMode> {
        match std::env::var("KUBEDRAIN_LIST_MODE").as_deref() {
            Ok("pages") => Some(ListMode::Pages),
            Ok("stream") => Some(ListMode::Stream),
            _ => None,
        }
    }
}

/// The list mode used unless `KUBEDRAIN_LIST_MODE` says otherwise. Pages: on the simulator,
/// streaming was no faster (1,000 nodes: sync 1.67 s vs 1.66 s, relist slower) and it needs
/// the beta WatchList feature on real servers.
pub const DEFAULT_LIST_MODE: ListMode = ListMode::Pages;

/// Objects per LIST page in `ListMode::Pages` (smaller pages than kube's 500 keep the peak
/// low on huge clusters).
pub(super) const PAGE_SIZE: u32 = 250;

/// At most this many list objects go into one `Ev::InitPage` message.
pub(super) const BATCH: usize = 256;

fn spawn_one<K, M, F>(
    api: Api<K>,
    fallback: Option<Fallback<K>>,
    kind: Kind,
    to_feed: fn(Ev<K>) -> Feed,
    tx: Sender<M>,
    wrap: F,
) -> JoinHandle<()>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
    M: Send + 'static,
    F: Fn(WatchReport) -> M + Send + 'static,
{
    let runner = Runner {
        api,
        fallback,
        kind,
        to_feed,
        tx,
        wrap,
        mode: ListMode::from_env(),
        live: Liveness::new(tokio::time::Instant::now()),
        failures: 0,
    };
    tokio::spawn(runner.run())
}

/// Whether a watcher error says the server does not do streaming lists (`sendInitialEvents`
/// is rejected as invalid by servers without the WatchList feature).
pub(super) fn rejects_streaming(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchStartFailed(kube::Error::Api(s)) if s.code == 400 || s.code == 422)
}

/// Whether a watcher error is the server's 403 Forbidden (RBAC), not a failure to reach it.
pub(super) fn is_forbidden(e: &watcher::Error) -> bool {
    status_of(e).is_some_and(|s| s.code == 403)
}

/// The API server's `Status` carried by a watcher error, if it carries one.
fn status_of(e: &watcher::Error) -> Option<&kube::core::Status> {
    match e {
        watcher::Error::WatchError(s) => Some(s.as_ref()),
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.as_ref()),
        _ => None,
    }
}

/// A watcher error in plain words, or `None` for a 410 Gone (expiry, not a failure).
pub fn describe(e: &watcher::Error) -> Option<String> {
    match status_of(e) {
        Some(s) if s.code == 410 => None,
        Some(s) if s.code == 401 || s.code == 403 => {
            Some(format!("access denied ({}): {}", s.code, s.message))
        }
        Some(s) => Some(format!("API error {}: {}", s.code, s.message)),
        None if matches!(
            e,
            watcher::Error::InitialListFailed(kube::Error::SerdeError(_))
                | watcher::Error::WatchFailed(kube::Error::SerdeError(_))
                | watcher::Error::NoResourceVersion
        ) =>
        {
            Some(format!("unexpected answer from the API server: {e}"))
        }
        None => {
            // "connection refused" sits a few levels down the source chain.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                if let Some(ours) = s.downcast_ref::<super::list_page::DecoderError>() {
                    return Some(ours.to_string());
                }
                msg = s.to_string();
                src = s.source();
            }
            Some(format!("API server unreachable: {msg}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;
    use kube::runtime::watcher::Error;

    use super::{describe, is_forbidden};

    #[test]
    fn expiry_is_not_a_failure_and_denials_say_so() {
        let gone = Error::WatchError(Status::failure("too old", "Expired").with_code(410).boxed());
        assert_eq!(describe(&gone), None);
        let denied = Error::InitialListFailed(kube::Error::Api(
            Status::failure("nodes is forbidden", "Forbidden")
                .with_code(403)
                .boxed(),
        ));
        assert_eq!(
            describe(&denied).as_deref(),
            Some("access denied (403): nodes is forbidden")
        );
        assert!(
            describe(&Error::NoResourceVersion)
                .unwrap()
                .starts_with("unexpected answer")
        );
    }

    /// A decoder thread that cannot start is kubedrain's failure, not an unreachable server.
    #[test]
    fn a_failed_decoder_is_not_blamed_on_the_server() {
        let ours =
            super::super::list_page::DecoderError("no thread for the decoder: EAGAIN".into());
        let e = Error::InitialListFailed(kube::Error::Service(Box::new(ours)));
        assert_eq!(
            describe(&e).as_deref(),
            Some("cannot decode list pages: no thread for the decoder: EAGAIN")
        );
        let refused = Error::InitialListFailed(kube::Error::Service(Box::new(
            std::io::Error::other("connection refused"),
        )));
        assert_eq!(
            describe(&refused).as_deref(),
            Some("API server unreachable: connection refused")
        );
    }

    #[test]
    fn only_a_403_is_a_refusal_to_fall_back_from() {
        let status = |code| Status::failure("pods is forbidden", "Forbidden").with_code(code);
        let listed = |code| Error::InitialListFailed(kube::Error::Api(status(code).boxed()));
        assert!(is_forbidden(&listed(403)));
        assert!(is_forbidden(&Error::WatchError(status(403).boxed())));
        assert!(!is_forbidden(&listed(401)), "bad credentials are not RBAC");
        assert!(!is_forbidden(&listed(500)));
        assert!(!is_forbidden(&Error::NoResourceVersion));
    }
}
