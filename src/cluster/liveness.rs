//! Whether a watch stream is alive. Every watch kubedrain opens asks for bookmarks
//! (`allowWatchBookmarks=true`), so the server says something at least once per bookmark
//! interval; a stream silent for a few intervals is dead (a half-open connection behind a load
//! balancer, a frozen server) even though its socket is open.
//!
//! The interval is learned from the gaps between two bookmarks on one stream (kube-apiserver
//! sends one about every minute; the built-in simulator every 5 s unless told otherwise);
//! until one gap is seen, kube-apiserver's minute is assumed.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The interval assumed before one is measured: kube-apiserver's bookmark frequency.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Measured intervals are kept within these bounds (a burst cannot make it tiny, a freeze
/// cannot make it endless).
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(600);
/// Gaps remembered; the interval is their maximum (a late bookmark is not a dead stream).
const GAPS: usize = 3;

/// The liveness of one watch (kept across the restarts of its stream).
#[derive(Debug, Clone)]
pub struct Liveness {
    /// When the stream last said anything (or was opened).
    last: Instant,
    /// The last bookmark on the current stream (gaps are measured on one stream only).
    last_bookmark: Option<Instant>,
    gaps: VecDeque<Duration>,
}

impl Liveness {
    /// A watch whose stream opens at `now`.
    pub fn new(now: Instant) -> Liveness {
        Liveness {
            last: now,
            last_bookmark: None,
            gaps: VecDeque::new(),
        }
    }

    /// A new stream was opened: its silence counts from now, its bookmarks anew.
    pub fn opened(&mut self, now: Instant) {
        self.last = now;
        self.last_bookmark = None;
    }

    /// The stream delivered an event.
    pub fn heard(&mut self, now: Instant) {
        self.last = now;
    }

    /// The stream delivered a bookmark.
    pub fn bookmark(&mut self, now: Instant) {
        self.last = now;
        if let Some(prev) = self.last_bookmark {
            let gap = now.saturating_duration_since(prev);
            if gap >= MIN_INTERVAL / 2 {
                self.gaps.push_back(gap);
                if self.gaps.len() > GAPS {
                    self.gaps.pop_front();
                }
            }
        }
        self.last_bookmark = Some(now);
    }

    /// The bookmark interval: the longest recent gap, else [`DEFAULT_INTERVAL`].
    pub fn interval(&self) -> Duration {
        match self.gaps.iter().max() {
            Some(g) => (*g).clamp(MIN_INTERVAL, MAX_INTERVAL),
            None => DEFAULT_INTERVAL,
        }
    }

    /// The interval measured so far (`None` before two bookmarks came on one stream).
    pub fn learned(&self) -> Option<Duration> {
        self.gaps
            .iter()
            .max()
            .map(|g| (*g).clamp(MIN_INTERVAL, MAX_INTERVAL))
    }

    /// Silence beyond this means the stream is dead: three intervals.
    pub fn idle_timeout(&self) -> Duration {
        self.interval() * 3
    }

    /// When the stream counts as dead if it says nothing more.
    pub fn deadline(&self) -> Instant {
        self.last + self.idle_timeout()
    }

    /// Whether the stream has not confirmed it is alive recently: silent for more than an
    /// interval and a quarter (a bookmark is late).
    pub fn is_stale(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) > self.interval() * 5 / 4
    }

    /// When the stream last said anything.
    pub fn last(&self) -> Instant {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_learned_from_gaps_between_bookmarks_on_one_stream() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut l = Liveness::new(t0);
        assert_eq!(l.interval(), DEFAULT_INTERVAL);
        // The first bookmark of a stream is no gap (it may come early).
        l.bookmark(t0 + s(1));
        assert_eq!(l.interval(), DEFAULT_INTERVAL);
        assert_eq!(l.learned(), None);
        l.bookmark(t0 + s(3));
        assert_eq!(l.interval(), s(2));
        assert_eq!(l.learned(), Some(s(2)));
        assert_eq!(l.idle_timeout(), s(6));
        assert_eq!(l.deadline(), t0 + s(9));
        // A new stream: its first bookmark is measured from nothing.
        l.opened(t0 + s(20));
        l.bookmark(t0 + s(20) + Duration::from_millis(100));
        assert_eq!(l.interval(), s(2));
        // A late bookmark widens it; the widest of the last three counts.
        l.bookmark(t0 + s(24));
        assert!(l.interval() > s(3));
        for k in 1..=3 {
            l.bookmark(t0 + s(24 + 2 * k));
        }
        assert_eq!(l.interval(), s(2));
    }

    #[test]
    fn stale_after_an_interval_and_a_quarter_of_silence() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut l = Liveness::new(t0);
        l.bookmark(t0);
        l.bookmark(t0 + s(2));
        assert!(!l.is_stale(t0 + s(4) + Duration::from_millis(500)));
        assert!(l.is_stale(t0 + s(4) + Duration::from_millis(501)));
        l.heard(t0 + s(5));
        assert!(!l.is_stale(t0 + s(6)));
        assert_eq!(l.last(), t0 + s(5));
    }
}
