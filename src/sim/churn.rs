//! A churn generator for benchmarks: pod changes at a fixed rate, each stamped so a client
//! can tell which change it sees and when it was sent.
//!
//! A stamp sets the first container's `restartCount` to the change's sequence number (visible
//! in every pod table as RESTARTS, and unique when sequence numbers start high), and records
//! the sequence number and the send time (Unix nanoseconds) in the annotations
//! `kubedrain.dev/churn-seq` and `kubedrain.dev/churn-sent`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::kinds::Kind;
use super::store::{Store, StoreError};

/// Annotation holding a change's sequence number.
pub const SEQ_ANNOTATION: &str = "kubedrain.dev/churn-seq";
/// Annotation holding a change's send time, in nanoseconds since the Unix epoch.
pub const SENT_ANNOTATION: &str = "kubedrain.dev/churn-sent";

/// One change the generator made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    /// Index into the generator's target list.
    pub target: usize,
    /// When the store accepted the change (the watch event is queued at that moment).
    pub sent: SystemTime,
}

/// Stamps one pod with `seq` (see the module docs).
pub fn stamp(store: &Store, ns: &str, name: &str, seq: u64) -> Result<SystemTime, StoreError> {
    let mut sent = SystemTime::now();
    store.update(Kind::Pod, ns, name, |p| {
        sent = SystemTime::now();
        let nanos = sent.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        if !p["metadata"]["annotations"].is_object() {
            p["metadata"]["annotations"] = json!({});
        }
        let a = &mut p["metadata"]["annotations"];
        a[SEQ_ANNOTATION] = json!(seq.to_string());
        a[SENT_ANNOTATION] = json!(nanos.to_string());
        if let Some(c) = p["status"]["containerStatuses"]
            .as_array_mut()
            .and_then(|c| c.first_mut())
        {
            c["restartCount"] = json!(seq);
        }
        Ok(())
    })?;
    Ok(sent)
}

/// A running generator: `rate` changes per second, round-robin over the target pods.
pub struct Churn {
    stop: Arc<AtomicBool>,
    stamps: Arc<Mutex<Vec<Stamp>>>,
    thread: Option<JoinHandle<()>>,
}

impl Churn {
    /// Starts changing `targets` (`(namespace, name)`) at `rate` per second, `count` changes
    /// in all (or until stopped), with sequence numbers from `first_seq` up. Changes are paced
    /// against the start time, so a slow store does not lower the average rate.
    pub fn start(
        store: Arc<Store>,
        targets: Vec<(String, String)>,
        rate: f64,
        count: Option<u64>,
        first_seq: u64,
    ) -> Churn {
        let stop = Arc::new(AtomicBool::new(false));
        let stamps = Arc::new(Mutex::new(Vec::new()));
        let (s, st) = (stop.clone(), stamps.clone());
        let thread = std::thread::spawn(move || {
            if targets.is_empty() || rate <= 0.0 {
                return;
            }
            let start = Instant::now();
            let mut i: u64 = 0;
            while !s.load(Ordering::Relaxed) && count.is_none_or(|c| i < c) {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let target = (i % targets.len() as u64) as usize;
                let (ns, name) = &targets[target];
                let seq = first_seq + i;
                if let Ok(sent) = stamp(&store, ns, name, seq) {
                    st.lock().unwrap().push(Stamp { seq, target, sent });
                }
                i += 1;
            }
        });
        Churn {
            stop,
            stamps,
            thread: Some(thread),
        }
    }

    /// Waits until `count` changes were made (returns at once for unbounded generators:
    /// use [`Churn::stop`]).
    pub fn finish(mut self) -> Vec<Stamp> {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.stamps.lock().unwrap())
    }

    /// Stops the generator and returns every change made.
    pub fn stop(self) -> Vec<Stamp> {
        self.stop.store(true, Ordering::Relaxed);
        self.finish()
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether the simulator records when its watch streams hand events to the connection
/// (see [`arm_watch_writes`]). Off, the record costs one relaxed load per event.
static WATCH_WRITES_ON: AtomicBool = AtomicBool::new(false);
static WATCH_WRITES: Mutex<Vec<WatchWrite>> = Mutex::new(Vec::new());

/// One watch event line the simulator handed to a client's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchWrite {
    /// When, in nanoseconds since the Unix epoch (the clock of [`Stamp::sent`]).
    pub at_nanos: u128,
    /// The line's length in bytes (a pod's event is kilobytes, a bookmark a few hundred).
    pub len: usize,
}

/// Starts recording every watch event line as the HTTP server takes it to write, in this
/// process's simulator: a benchmark splits an event's time into the simulator's and the
/// client's with it. [`take_watch_writes`] stops and returns the record.
pub fn arm_watch_writes() {
    WATCH_WRITES.lock().unwrap().clear();
    WATCH_WRITES_ON.store(true, Ordering::Relaxed);
}

/// Stops recording and returns what was recorded since [`arm_watch_writes`].
pub fn take_watch_writes() -> Vec<WatchWrite> {
    WATCH_WRITES_ON.store(false, Ordering::Relaxed);
    std::mem::take(&mut *WATCH_WRITES.lock().unwrap())
}

/// Records one line of `len` bytes, when armed.
pub(crate) fn note_watch_write(len: usize) {
    if WATCH_WRITES_ON.load(Ordering::Relaxed) {
        let at_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        WATCH_WRITES
            .lock()
            .unwrap()
            .push(WatchWrite { at_nanos, len });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::clock::SimClock;

    #[test]
    fn stamps_are_visible_in_the_pod_and_paced() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 1000);
        crate::sim::generate::populate(&store, 2, 5);
        let (_, pods) = store.list(Kind::Pod, None);
        let targets: Vec<(String, String)> = pods
            .iter()
            .take(3)
            .map(|p| {
                (
                    p["metadata"]["namespace"].as_str().unwrap().to_string(),
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let t0 = Instant::now();
        let stamps = Churn::start(store.clone(), targets.clone(), 200.0, Some(10), 7_000).finish();
        assert!(t0.elapsed() >= Duration::from_millis(40));
        assert_eq!(stamps.len(), 10);
        assert_eq!(stamps[9].seq, 7_009);
        let last = &stamps[9];
        let (ns, name) = &targets[last.target];
        let p = store.get(Kind::Pod, ns, name).unwrap();
        assert_eq!(p["metadata"]["annotations"][SEQ_ANNOTATION], "7009");
        assert_eq!(p["status"]["containerStatuses"][0]["restartCount"], 7009);
        let sent: u128 = p["metadata"]["annotations"][SENT_ANNOTATION]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            sent,
            last.sent.duration_since(UNIX_EPOCH).unwrap().as_nanos()
        );
    }
}
