//! The connection as the header shows it, derived from each watch's liveness: what each
//! watcher last confirmed (events and bookmarks), "stale since" when one is silent past its
//! bookmarks or failing, and another cluster behind the same URL (kube-system's uid).

use std::time::Duration;

use jiff::Timestamp;

use super::model::{Model, WatchState};
use super::msg::Cmd;
use crate::cluster::watch::{Ev, Feed, Kind, WatchReport};

/// What a watcher last confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heard {
    /// The last event or bookmark: the watch was alive and its data current then.
    pub last: Option<Timestamp>,
    /// The bookmark interval the watcher learned (`None`: kube-apiserver's minute is assumed).
    pub interval: Option<Duration>,
    /// The first failure since `last` (for a watch that never confirmed anything).
    pub trouble_since: Option<Timestamp>,
}

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Live,
    Resyncing,
    Reconnecting,
    /// A watch fails; the data is as of `since` (the last time every watch confirmed it).
    Disconnected {
        since: Timestamp,
        error: String,
    },
    /// Every watch runs, but one has been silent past its bookmarks since `since`.
    Stale {
        since: Timestamp,
    },
}

/// A watcher error in a word or a code, for the per-watch health (`pods ✗ 403`).
pub fn short_error(error: &str) -> String {
    if error.starts_with("access denied (") || error.starts_with("API error ") {
        let code = error
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 3);
        if let Some(code) = code {
            return code.to_string();
        }
    }
    if error.starts_with("no answer") {
        "silent".into()
    } else if error.contains("unreachable") {
        "unreachable".into()
    } else {
        "error".into()
    }
}

impl Model {
    /// When watch `kind` last confirmed its data (or first failed, if it never did).
    pub fn confirmed(&self, kind: Kind) -> Option<Timestamp> {
        let h = self.heard.get(&kind)?;
        h.last.or(h.trouble_since)
    }

    /// Whether live watch `kind` has said nothing for longer than its bookmarks allow (an
    /// interval and a quarter): a half-open connection or a frozen server.
    pub fn silent(&self, kind: Kind) -> bool {
        let Some(h) = self.heard.get(&kind) else {
            return false;
        };
        let Some(last) = h.last else {
            return false;
        };
        let interval = h
            .interval
            .unwrap_or(crate::cluster::liveness::DEFAULT_INTERVAL);
        self.now.duration_since(last).as_secs_f64() > interval.as_secs_f64() * 1.25
    }

    /// The watches that are not live and current, each with a word on why (`403`,
    /// `unreachable`, `silent`, `listing`), in kind order.
    pub fn watch_health(&self) -> Vec<(Kind, String)> {
        self.watch
            .iter()
            .filter_map(|(kind, s)| {
                let why = match s {
                    WatchState::Failed { error, .. } => format!("✗ {}", short_error(error)),
                    WatchState::Live if self.silent(*kind) => "◌ silent".into(),
                    WatchState::Live => return None,
                    WatchState::Connecting => "◌ listing".into(),
                    WatchState::Resyncing => "◌ relisting".into(),
                    WatchState::Reconnecting => "◌ reconnecting".into(),
                };
                Some((*kind, why))
            })
            .collect()
    }

    /// The connection state: the worst of the four watchers. "Live" only when every watch is
    /// live and has confirmed it within its bookmark interval.
    pub fn conn_state(&self) -> ConnState {
        let mut failed: Option<(Timestamp, &str)> = None;
        let mut stale: Option<Timestamp> = None;
        let mut connecting = false;
        let mut resyncing = false;
        let mut reconnecting = false;
        for (kind, s) in &self.watch {
            match s {
                WatchState::Failed { since, error } => {
                    // Since the data was last confirmed: a watch failing again and again
                    // keeps its time (the indicator does not flap).
                    let since = self.confirmed(*kind).unwrap_or(*since).min(*since);
                    if failed.is_none_or(|(t, _)| since < t) {
                        failed = Some((since, error));
                    }
                }
                WatchState::Live if self.silent(*kind) => {
                    let since = self.confirmed(*kind).unwrap_or(self.now);
                    if stale.is_none_or(|t| since < t) {
                        stale = Some(since);
                    }
                }
                WatchState::Connecting => connecting = true,
                WatchState::Resyncing => resyncing = true,
                WatchState::Reconnecting => reconnecting = true,
                WatchState::Live => {}
            }
        }
        match (failed, stale) {
            (Some((since, error)), stale) => ConnState::Disconnected {
                since: stale.map_or(since, |s| s.min(since)),
                error: error.to_string(),
            },
            (None, _) if connecting => ConnState::Connecting,
            (None, Some(since)) => ConnState::Stale { since },
            (None, None) if reconnecting => ConnState::Reconnecting,
            (None, None) if resyncing => ConnState::Resyncing,
            (None, None) => ConnState::Live,
        }
    }
}

/// The cluster behind the URL, as its kube-system uid says: the first one is remembered;
/// another one later (a server swapped behind the same address) starts every watch again
/// under a new generation, so the screen converges to the new cluster's state, and says so.
pub(super) fn cluster_uid(m: &mut Model, uid: String) -> Vec<Cmd> {
    let old = match &m.conn.cluster_uid {
        None => {
            m.conn.cluster_uid = Some(uid);
            return Vec::new();
        }
        Some(old) if *old == uid => return Vec::new(),
        Some(old) => old.clone(),
    };
    m.conn.cluster_uid = Some(uid.clone());
    m.generation += 1;
    for s in m.watch.values_mut() {
        *s = WatchState::Resyncing;
    }
    m.heard.clear();
    m.say(format!(
        "another cluster answers at {} (kube-system uid {old} → {uid}): listing everything again",
        m.conn.server
    ));
    m.redraw = true;
    vec![Cmd::Rewatch {
        generation: m.generation,
    }]
}

/// Records what a report says about its watch's liveness.
pub(super) fn heard(m: &mut Model, report: &WatchReport) {
    let (kind, confirmed) = match report {
        // A list in progress is not current data yet; its end is.
        WatchReport::Feed(
            Feed::Nodes(Ev::Init | Ev::InitApply(_) | Ev::InitPage(_))
            | Feed::Pods(Ev::Init | Ev::InitApply(_) | Ev::InitPage(_))
            | Feed::Events(Ev::Init | Ev::InitApply(_) | Ev::InitPage(_))
            | Feed::Pdbs(Ev::Init | Ev::InitApply(_) | Ev::InitPage(_)),
        ) => return,
        WatchReport::Feed(f) => (f.kind(), true),
        WatchReport::Alive { kind, .. } => (*kind, true),
        WatchReport::Error(kind, _) | WatchReport::Forbidden(kind, _) => (*kind, false),
        WatchReport::Expired(_) | WatchReport::Narrowed { .. } => return,
    };
    let h = m.heard.entry(kind).or_default();
    if confirmed {
        h.last = Some(m.now);
        h.trouble_since = None;
    } else {
        h.trouble_since.get_or_insert(m.now);
    }
    if let WatchReport::Alive {
        interval: Some(i), ..
    } = report
    {
        h.interval = Some(*i);
    }
}
